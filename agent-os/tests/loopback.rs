//! Over loopback: a client that drops a stream cancels its run, a cancel on one server stops a run on another sharing the store, and shutdown saves the runs in flight.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use agent_core::{Agent, FnTool, InMemoryStore, RunStatus, SessionStore, ToolDef, ToolOutput};
use agent_os::{AgentOs, AgentOsBuilder};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// Marks `dropped` when the future holding it is dropped (the run was cancelled mid-call).
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A tool that never returns on its own: it announces itself and waits.
fn hanging_tool(started: Arc<Notify>, dropped: Arc<AtomicBool>) -> FnTool {
    FnTool::<()>::raw(ToolDef::new("wait_forever", "Waits.", json!({"type": "object"})), move |_, _| {
        let (started, flag) = (started.clone(), DropFlag(dropped.clone()));
        async move {
            let _flag = flag;
            started.notify_one();
            std::future::pending::<()>().await;
            Ok(ToolOutput::text("never"))
        }
    })
}

fn slow_os(store: &Arc<InMemoryStore>, started: &Arc<Notify>, dropped: &Arc<AtomicBool>) -> AgentOsBuilder<()> {
    let agent = Agent::builder(common::brain(Some(("wait_forever", json!({})))))
        .id("slow")
        .tool(hanging_tool(started.clone(), dropped.clone()))
        .store(store.clone())
        .build()
        .unwrap();
    let store: Arc<dyn SessionStore> = store.clone();
    AgentOs::builder().agent(agent).store(store)
}

/// Serves `os` on a loopback port until the returned sender fires.
async fn serve(
    os: AgentOs,
) -> (String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<agent_os::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(os.serve(listener, async move {
        let _ = stopped.await;
    }));
    (url, stop, task)
}

/// Waits, bounded, until the stored run reaches `status`.
async fn wait_for_status(store: &InMemoryStore, session_id: &str, run_id: &str, status: RunStatus) {
    let wait = async {
        loop {
            if let Some(record) = store.run(session_id, run_id).await.unwrap()
                && record.status == status
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .unwrap_or_else(|_| panic!("run {run_id} never became {status:?}"));
}

fn client() -> reqwest::Client {
    // reqwest is built without a crypto provider of its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_drops_its_stream_cancels_the_run_and_it_is_saved_cancelled() {
    let (store, started, dropped) =
        (Arc::new(InMemoryStore::new()), Arc::new(Notify::new()), Arc::new(AtomicBool::new(false)));
    let (url, stop, task) = serve(slow_os(&store, &started, &dropped).build().unwrap()).await;
    let response = client()
        .post(format!("{url}/agents/slow/runs"))
        .form(&[("message", "wait"), ("stream", "true"), ("session_id", "s-drop")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("ToolCallStarted") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next()).await.unwrap().unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let run_id = seen
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str::<Value>(data).ok())
        .find_map(|event| event["run_id"].as_str().map(str::to_owned))
        .unwrap();
    drop(body);
    wait_for_status(&store, "s-drop", &run_id, RunStatus::Cancelled).await;
    assert!(dropped.load(Ordering::SeqCst), "the tool call was stopped");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_sent_to_another_server_stops_the_run_through_the_store() {
    let (store, started, dropped) =
        (Arc::new(InMemoryStore::new()), Arc::new(Notify::new()), Arc::new(AtomicBool::new(false)));
    let (first, stop_first, first_task) = serve(slow_os(&store, &started, &dropped).build().unwrap()).await;
    let (second, stop_second, second_task) = serve(slow_os(&store, &started, &dropped).build().unwrap()).await;
    let run = tokio::spawn(async move {
        client()
            .post(format!("{first}/agents/slow/runs"))
            .form(&[("message", "wait"), ("stream", "false"), ("session_id", "s-cancel")])
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    });
    tokio::time::timeout(Duration::from_secs(10), started.notified()).await.unwrap();
    let run_id = store.runs("s-cancel", None).await.unwrap()[0].run_id.clone();
    let cancel = client().post(format!("{second}/agents/slow/runs/{run_id}/cancel")).send().await.unwrap();
    assert_eq!(cancel.status(), 200);
    let output = tokio::time::timeout(Duration::from_secs(10), run).await.unwrap().unwrap();
    assert_eq!(output["status"], "CANCELLED", "{output}");
    assert_eq!(output["run_id"], run_id.as_str());
    wait_for_status(&store, "s-cancel", &run_id, RunStatus::Cancelled).await;
    stop_first.send(()).unwrap();
    stop_second.send(()).unwrap();
    first_task.await.unwrap().unwrap();
    second_task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_cancels_the_runs_still_in_flight_and_saves_them() {
    let (store, started, dropped) =
        (Arc::new(InMemoryStore::new()), Arc::new(Notify::new()), Arc::new(AtomicBool::new(false)));
    let os = slow_os(&store, &started, &dropped).shutdown_grace(Duration::from_millis(50)).build().unwrap();
    let (url, stop, task) = serve(os).await;
    let run = tokio::spawn(async move {
        let response = client()
            .post(format!("{url}/agents/slow/runs"))
            .form(&[("message", "wait"), ("stream", "true"), ("session_id", "s-stop")])
            .send()
            .await
            .unwrap();
        response.text().await.unwrap()
    });
    tokio::time::timeout(Duration::from_secs(10), started.notified()).await.unwrap();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), task).await.unwrap().unwrap().unwrap();
    let body = tokio::time::timeout(Duration::from_secs(10), run).await.unwrap().unwrap();
    assert!(body.contains("event: RunCancelled"), "{body}");
    let run_id = store.runs("s-stop", None).await.unwrap()[0].run_id.clone();
    assert_eq!(store.run("s-stop", &run_id).await.unwrap().unwrap().status, RunStatus::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn a_quiet_stream_sends_keep_alive_comments_while_a_tool_runs() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let (store, started, dropped) =
        (Arc::new(InMemoryStore::new()), Arc::new(Notify::new()), Arc::new(AtomicBool::new(false)));
    let os = slow_os(&store, &started, &dropped).build().unwrap();
    let request = axum::http::Request::post("/agents/slow/runs")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("message=wait&stream=true"))
        .unwrap();
    let response = os.router().oneshot(request).await.unwrap();
    let mut body = response.into_body();
    let mut seen = String::new();
    // Time is paused: the runtime jumps to each timer while the tool waits.
    for _ in 0..100 {
        let frame = body.frame().await.unwrap().unwrap();
        if let Ok(data) = frame.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
        }
        if seen.contains(": keep-alive") {
            break;
        }
    }
    assert!(seen.contains("ToolCallStarted"), "{seen}");
    assert!(seen.contains("\n: keep-alive\n") || seen.contains(": keep-alive\n"), "{seen}");
}

//! Runs against a shared store: session leases, claims of paused runs,
//! cancels through the store, and answers kept when the final save fails.
#![allow(clippy::unwrap_used)]

use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agent_core::testing::{ScriptedModel, TestModel, Turn};
use agent_core::{
    Agent, ContentBlock, Error, FnTool, InMemoryStore, RunStatus, SessionStore, StoreError, ToolDecision, ToolDef,
    ToolError, ToolOutput,
};
use serde_json::json;

#[tokio::test]
async fn two_callers_continuing_one_paused_run_run_the_tool_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (started, release) = (Arc::new(tokio::sync::Notify::new()), Arc::new(tokio::sync::Notify::new()));
    let tool = {
        let (calls, started, release) = (Arc::clone(&calls), Arc::clone(&started), Arc::clone(&release));
        FnTool::<()>::raw(ToolDef::new("deploy", "Deploys.", json!({"type": "object"})), move |_, _| {
            calls.fetch_add(1, Ordering::SeqCst);
            let (started, release) = (Arc::clone(&started), Arc::clone(&release));
            async move {
                started.notify_one();
                release.notified().await;
                Ok(ToolOutput::text("deployed"))
            }
        })
        .with_def(|def| def.requires_confirmation(true))
    };
    let store = Arc::new(InMemoryStore::new());
    let model = ScriptedModel::new([Turn::tool_call("c1", "deploy", json!({})), Turn::text("Done.")]);
    let agent = Agent::builder(model).tool(tool).store(Arc::clone(&store)).build().unwrap();
    let paused = agent.run("deploy").session("s").await.unwrap();
    let run_id = paused.run_id.clone();
    let continue_it = |agent: Agent| {
        let run_id = run_id.clone();
        tokio::spawn(async move { agent.continue_run(("s", run_id.as_str()), vec![ToolDecision::approve("c1")]).await })
    };
    let winner = continue_it(agent.clone());
    started.notified().await;
    // While the first caller runs the approved tool, a second one loses.
    let loser = continue_it(agent.clone()).await.unwrap();
    assert!(matches!(loser, Err(Error::RunClaimed { run_id: ref id }) if *id == run_id), "{loser:?}");
    release.notify_one();
    assert_eq!(winner.await.unwrap().unwrap().content, "Done.");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Claimed in memory too: a PausedRun value cannot be continued twice.
    let again = agent.continue_run(paused, vec![ToolDecision::approve("c1")]).session("s").await;
    assert!(matches!(again, Err(Error::RunClaimed { .. })), "{again:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn concurrent_runs_on_one_session_take_turns_and_lose_no_update() {
    let store = Arc::new(InMemoryStore::new());
    let bump = FnTool::<()>::raw(ToolDef::new("bump", "Adds one.", json!({"type": "object"})), |ctx, _| async move {
        let mut state = ctx.session_state();
        let next = state.get("n").and_then(serde_json::Value::as_u64).unwrap_or(0) + 1;
        state.insert("n".into(), json!(next));
        Ok(ToolOutput::text(next.to_string()))
    });
    let agent =
        Agent::builder(TestModel::new().call_tools(["bump"])).tool(bump).store(Arc::clone(&store)).build().unwrap();
    let runs =
        (0..25).map(|_| agent.run("bump").session("shared").wait_for_session(Duration::from_secs(60)).into_future());
    for result in futures::future::join_all(runs).await {
        result.unwrap();
    }
    let session = store.session("shared").await.unwrap().unwrap();
    assert_eq!(session.state.get("n"), Some(&json!(25)));
    assert_eq!(store.runs("shared", None).await.unwrap().len(), 25);
}

#[tokio::test]
async fn a_busy_session_fails_fast_when_asked() {
    let store = Arc::new(InMemoryStore::new());
    assert!(store.acquire_lease("s", "another-process", Duration::from_secs(60)).await.unwrap());
    let agent = Agent::builder(TestModel::new()).store(Arc::clone(&store)).build().unwrap();
    let result = agent.run("hi").session("s").wait_for_session(Duration::ZERO).await;
    assert!(matches!(result, Err(Error::SessionBusy { ref session_id }) if session_id == "s"), "{result:?}");
    assert!(store.runs("s", None).await.unwrap().is_empty(), "nothing ran");
}

#[tokio::test]
async fn a_cancel_requested_through_the_store_ends_the_run_with_its_calls_closed() {
    let store = Arc::new(InMemoryStore::new());
    let started = Arc::new(tokio::sync::Notify::new());
    let signal = Arc::clone(&started);
    let slow = FnTool::<()>::raw(ToolDef::new("slow", "Slow.", json!({"type": "object"})), move |_, _| {
        let signal = Arc::clone(&signal);
        async move {
            signal.notify_one();
            tokio::time::sleep(Duration::from_secs(3_600)).await;
            Ok(ToolOutput::text("late"))
        }
    });
    let model = ScriptedModel::new([Turn::tool_call("c1", "slow", json!({}))]);
    let agent = Agent::builder(model).tool(slow).store(Arc::clone(&store)).build().unwrap();
    let run = tokio::spawn({
        let agent = agent.clone();
        async move { agent.run("go").session("s").run_id("r-cancel").await }
    });
    started.notified().await;
    // Another process knows the run by its id alone.
    let running = store.find_run("r-cancel").await.unwrap().unwrap();
    assert_eq!(running.status, RunStatus::Running);
    assert!(store.request_cancel("r-cancel").await.unwrap());
    let result = tokio::time::timeout(Duration::from_secs(10), run).await.unwrap().unwrap();
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    let record = store.run("s", "r-cancel").await.unwrap().unwrap();
    assert_eq!(record.status, RunStatus::Cancelled);
    let answered = record.messages.iter().flat_map(|message| &message.content).any(
        |block| matches!(block, ContentBlock::ToolResult { tool_call_id, is_error: true, .. } if tool_call_id == "c1"),
    );
    assert!(answered, "the open call was closed: {:?}", record.messages);
}

#[tokio::test]
async fn a_session_deleted_during_the_run_is_not_recreated_and_the_answer_is_kept() {
    let store = Arc::new(InMemoryStore::new());
    let deleting = Arc::clone(&store);
    let delete = FnTool::<()>::raw(ToolDef::new("forget", "Forgets.", json!({"type": "object"})), move |_, _| {
        let store = Arc::clone(&deleting);
        async move {
            store.delete_session("s").await.map_err(ToolError::fatal_error)?;
            Ok(ToolOutput::text("forgotten"))
        }
    });
    let model = ScriptedModel::new([Turn::tool_call("c1", "forget", json!({})), Turn::text("I forgot it all.")]);
    let agent = Agent::builder(model).tool(delete).store(Arc::clone(&store)).build().unwrap();
    let Err(Error::Unsaved { output, source }) = agent.run("forget me").session("s").await else {
        panic!("expected the save to fail")
    };
    assert_eq!(output.content, "I forgot it all.");
    assert!(matches!(source, StoreError::NotFound { what: "session", .. }), "{source:?}");
    assert!(store.session("s").await.unwrap().is_none(), "the deleted session stays deleted");
}

#[tokio::test]
async fn a_session_is_named_after_its_first_message_and_sums_its_runs_tokens() {
    let store = Arc::new(InMemoryStore::new());
    let model = ScriptedModel::new([Turn::text("Sunny."), Turn::text("Still sunny.")]);
    let agent = Agent::builder(model).id("weather").store(Arc::clone(&store)).build().unwrap();
    let first = agent
        .run("Weather in Paris?\nThanks")
        .session("s-named")
        .metadata(serde_json::Map::from_iter([("source".to_owned(), json!("web"))]))
        .await
        .unwrap();
    agent.run("And tomorrow?").session("s-named").await.unwrap();
    let session = store.session("s-named").await.unwrap().unwrap();
    assert_eq!(session.session_name.as_deref(), Some("Weather in Paris?"));
    assert_eq!(session.metrics["runs"], 2);
    let tokens = first.metrics.input_tokens * 2;
    assert!(tokens > 0);
    assert_eq!(session.metrics["input_tokens"], tokens, "{}", session.metrics);
    let record = store.run("s-named", &first.run_id).await.unwrap().unwrap();
    assert_eq!(record.model.as_deref(), Some(first.model.as_str()));
    assert_eq!(record.model_provider.as_deref(), Some(first.model_provider.as_str()));
    assert_eq!(record.metadata.get("source"), Some(&json!("web")));
}

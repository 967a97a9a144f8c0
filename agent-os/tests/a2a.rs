//! A2A over the AgentOS server: JSON-RPC send and stream, tasks, agent cards, the standard error codes, and the security key.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{get, os, send};
use serde_json::{Value, json};

fn message(method: &str, text: &str, context: Option<&str>) -> Value {
    let mut message = json!({"role": "user", "messageId": "m1", "parts": [{"kind": "text", "text": text}]});
    if let Some(context) = context {
        message["contextId"] = json!(context);
    }
    json!({"jsonrpc": "2.0", "id": "req-1", "method": method, "params": {"message": message}})
}

async fn rpc(os: &agent_os::AgentOs, path: &str, body: &Value) -> common::Answer {
    let request =
        Request::post(path).header("content-type", "application/json").body(Body::from(body.to_string())).unwrap();
    send(os, request).await
}

#[tokio::test]
async fn message_send_answers_with_a_completed_task_and_the_context_is_the_session() {
    let (os, store) = os();
    let answer =
        rpc(&os, "/a2a/agents/weather/v1/message:send", &message("message/send", "Weather in Paris?", Some("ctx-1")))
            .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    assert_eq!((body["jsonrpc"].as_str(), body["id"].as_str()), (Some("2.0"), Some("req-1")));
    let task = &body["result"];
    assert_eq!(task["kind"], "task");
    assert_eq!(task["contextId"], "ctx-1");
    assert_eq!(task["status"]["state"], "completed");
    let history = task["history"].as_array().unwrap();
    assert_eq!(history[0]["role"], "user");
    assert_eq!(history[1]["role"], "agent");
    assert_eq!(history[1]["parts"][0]["text"], "Result: It is sunny in Paris.");
    // The conversation continues in the session the context names.
    rpc(&os, "/a2a/agents/weather/v1/message:send", &message("message/send", "And tomorrow?", Some("ctx-1"))).await;
    use agent_core::SessionStore;
    assert_eq!(store.runs("ctx-1", None).await.unwrap().len(), 2);

    // tasks/get reads the task back by its id; the send route takes any method.
    let task_id = task["id"].as_str().unwrap();
    let get_task = json!({"jsonrpc": "2.0", "id": 5, "method": "tasks/get", "params": {"id": task_id}});
    let found = rpc(&os, "/a2a/agents/weather/v1/message:stream", &get_task).await.json();
    assert_eq!(found["id"], 5);
    assert_eq!(found["result"]["status"]["state"], "completed");
    let missing = json!({"jsonrpc": "2.0", "id": 6, "method": "tasks/get", "params": {"id": "nope"}});
    assert_eq!(rpc(&os, "/a2a/agents/weather/v1/message:send", &missing).await.json()["error"]["code"], -32001);
}

#[tokio::test]
async fn message_stream_sends_working_text_chunks_tool_activity_then_the_final_state() {
    let (os, _) = os();
    let answer =
        rpc(&os, "/a2a/agents/weather/v1/message:stream", &message("message/stream", "Weather in Paris?", None)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.content_type.starts_with("text/event-stream"));
    let mut events = Vec::new();
    for block in answer.text.split("\n\n").filter(|block| block.contains("data: ")) {
        let name = block.lines().find_map(|line| line.strip_prefix("event: ")).unwrap().to_owned();
        let data: Value =
            serde_json::from_str(block.lines().find_map(|line| line.strip_prefix("data: ")).unwrap()).unwrap();
        assert_eq!(data["id"], "req-1");
        events.push((name, data["result"].clone()));
    }
    assert_eq!(events[0].0, "TaskStatusUpdateEvent");
    assert_eq!(events[0].1["status"]["state"], "working");
    let tool = events.iter().find(|(_, result)| result["metadata"]["agno_event_type"] == "tool_call_started").unwrap();
    assert_eq!(tool.1["metadata"]["tool_name"], "get_weather");
    let chunks: Vec<&Value> =
        events.iter().filter(|(name, _)| name == "TaskArtifactUpdateEvent").map(|(_, r)| r).collect();
    assert!(!chunks.is_empty(), "the answer streams as artifact chunks");
    assert_eq!(chunks[0]["append"], false);
    assert!(chunks.iter().skip(1).all(|chunk| chunk["append"] == true));
    let streamed: String = chunks.iter().map(|chunk| chunk["artifact"]["parts"][0]["text"].as_str().unwrap()).collect();
    assert!(streamed.ends_with("Result: It is sunny in Paris."), "{streamed}");
    let (name, last) = events.last().unwrap();
    assert_eq!(name, "TaskStatusUpdateEvent");
    assert_eq!((last["final"].as_bool(), last["status"]["state"].as_str()), (Some(true), Some("completed")));
    assert_eq!(last["status"]["message"]["parts"][0]["text"], "Result: It is sunny in Paris.");
    assert_eq!(last["status"]["message"]["role"], "agent");
}

#[tokio::test]
async fn json_rpc_errors_use_the_standard_codes_and_unknown_agents_are_404() {
    let (os, _) = os();
    let path = "/a2a/agents/weather/v1/message:send";
    let raw = |body: &'static str| {
        let os = os.clone();
        async move {
            let request =
                Request::post(path).header("content-type", "application/json").body(Body::from(body)).unwrap();
            send(&os, request).await.json()
        }
    };
    assert_eq!(raw("{oops").await["error"]["code"], -32700);
    assert_eq!(raw("[]").await["error"]["code"], -32600);
    assert_eq!(raw(r#"{"jsonrpc": "2.0", "id": 3, "method": "agent/fly"}"#).await["error"]["code"], -32601);
    let bad =
        raw(r#"{"jsonrpc": "2.0", "id": 4, "method": "message/send", "params": {"message": {"parts": []}}}"#).await;
    assert_eq!((bad["error"]["code"].as_i64(), bad["id"].as_i64()), (Some(-32602), Some(4)));
    let unknown = rpc(&os, "/a2a/agents/nope/v1/message:send", &message("message/send", "hi", None)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json(), json!({"detail": "Agent not found"}));
    assert_eq!(get(&os, "/a2a/teams/nope/.well-known/agent-card.json").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn teams_workflows_and_the_generic_route_answer_too() {
    let (os, _) = os();
    let team = rpc(&os, "/a2a/teams/crew/v1/message:send", &message("message/send", "Write", None)).await.json();
    assert_eq!(team["result"]["status"]["state"], "completed");
    let flow = rpc(&os, "/a2a/workflows/flow/v1/message:send", &message("message/send", "go", None)).await.json();
    assert_eq!(flow["result"]["status"]["state"], "completed");
    let mut named = message("message/send", "Weather?", None);
    named["params"]["message"]["metadata"] = json!({"agentId": "weather"});
    let generic = rpc(&os, "/a2a/message/send", &named).await.json();
    assert_eq!(generic["result"]["history"][1]["parts"][0]["text"], "Result: It is sunny in Paris.");
    let unnamed = rpc(&os, "/a2a/message/send", &message("message/send", "hi", None)).await.json();
    assert_eq!(unnamed["error"]["code"], -32602, "several agents are served: the message must name one");
}

#[tokio::test]
async fn a_failed_run_is_a_failed_task_not_a_500() {
    let failing = agent_core::Agent::builder(agent_core::testing::FunctionModel::new(|_| {
        Err(agent_core::ModelError::new(agent_core::ModelErrorKind::Overloaded, "the model is overloaded"))
    }))
    .id("broken")
    .build()
    .unwrap();
    let os = agent_os::AgentOs::builder().agent(failing).build().unwrap();
    let answer = rpc(&os, "/a2a/agents/broken/v1/message:send", &message("message/send", "hi", None)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let task = &answer.json()["result"];
    assert_eq!(task["status"]["state"], "failed");
    assert!(task["history"][1]["parts"][0]["text"].as_str().unwrap().starts_with("Error: "));
}

#[tokio::test]
async fn agent_cards_name_the_stream_url_and_skills_and_the_key_guards_them() {
    let (os, _) = os();
    let request = Request::get("/a2a/agents/weather/.well-known/agent-card.json")
        .header("host", "example.test:7777")
        .body(Body::empty())
        .unwrap();
    let card = send(&os, request).await.json();
    assert_eq!(card["name"], "Weather Agent");
    assert_eq!(card["url"], "http://example.test:7777/a2a/agents/weather/v1/message:stream");
    assert_eq!(card["protocolVersion"], "0.3.0");
    assert_eq!(card["capabilities"]["streaming"], true);
    let skills: Vec<&str> = card["skills"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(skills, ["weather", "get_weather"]);

    let store = std::sync::Arc::new(agent_core::InMemoryStore::new());
    let guarded = common::builder(&store).security_key(Some("k".into())).build().unwrap();
    assert_eq!(get(&guarded, "/a2a/agents/weather/.well-known/agent-card.json").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        rpc(&guarded, "/a2a/agents/weather/v1/message:send", &message("message/send", "hi", None)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

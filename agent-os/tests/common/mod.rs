//! Shared fixtures of the route tests: a small set of served components on test models, and request helpers.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use agent_core::testing::{FunctionModel, text_response, tool_calls_response};
use agent_core::{
    Agent, ContentBlock, FnTool, InMemoryStore, ModelRequest, SessionStore, Step, Team, ToolDef, ToolOutput, Workflow,
};
use agent_os::{AgentOs, AgentOsBuilder};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// A model that calls `tool` with `args` on a fresh prompt, then answers
/// `Result: <the tool's result>`; with no tool, it echoes the prompt.
pub(crate) fn brain(tool: Option<(&'static str, Value)>) -> FunctionModel {
    FunctionModel::new(move |request: &ModelRequest| {
        let last = request.messages.last().map(|message| message.content.clone()).unwrap_or_default();
        let results: Vec<String> = last
            .iter()
            .filter_map(|block| match block {
                ContentBlock::ToolResult { content, .. } => Some(content.to_text()),
                _ => None,
            })
            .collect();
        if !results.is_empty() {
            return Ok(text_response(format!("Result: {}", results.join("; "))));
        }
        match &tool {
            Some((name, args)) => {
                let id = format!("call_{}", request.messages.len());
                Ok(tool_calls_response([(id.as_str(), *name, args.clone())]))
            }
            None => Ok(text_response(format!(
                "You said: {}",
                request.messages.last().map(|m| m.text()).unwrap_or_default()
            ))),
        }
    })
    .with_id("brain-1")
}

pub(crate) fn weather_tool() -> FnTool {
    FnTool::<()>::raw(
        ToolDef::new(
            "get_weather",
            "Gets the weather.",
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        ),
        |_, input| async move { Ok(ToolOutput::text(format!("It is sunny in {}.", input["city"].as_str().unwrap_or("?")))) },
    )
}

pub(crate) fn delete_tool() -> FnTool {
    FnTool::<()>::raw(
        ToolDef::new(
            "delete_city",
            "Deletes a city.",
            json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        ),
        |_, input| async move { Ok(ToolOutput::text(format!("deleted {}", input["city"].as_str().unwrap_or("?")))) },
    )
    .with_def(|def| def.requires_confirmation(true))
}

/// The served set: `weather` and `approver` (both on `store`), `echo`
/// (no store), team `crew`, workflow `flow`.
pub(crate) fn builder(store: &Arc<InMemoryStore>) -> AgentOsBuilder<()> {
    let weather = Agent::builder(brain(Some(("get_weather", json!({"city": "Paris"})))))
        .id("weather")
        .name("Weather Agent")
        .tool(weather_tool())
        .store(store.clone())
        .build()
        .unwrap();
    let approver = Agent::builder(brain(Some(("delete_city", json!({"city": "Paris"})))))
        .id("approver")
        .tool(delete_tool())
        .store(store.clone())
        .build()
        .unwrap();
    let echo = Agent::builder(brain(None)).id("echo").build().unwrap();
    let member = Agent::builder(brain(None)).id("writer").name("Writer").description("Writes.").build().unwrap();
    let crew =
        Team::builder(brain(None)).id("crew").name("Crew").member(member.clone()).store(store.clone()).build().unwrap();
    let flow = Workflow::builder("flow")
        .name("Flow")
        .step(Step::run("first", member.clone()))
        .step(Step::run("second", member))
        .store(store.clone())
        .build()
        .unwrap();
    let store: Arc<dyn SessionStore> = store.clone();
    let memories: Arc<dyn agent_core::memory::MemoryStore> = Arc::new(agent_core::memory::InMemoryMemoryStore::new());
    let evals: Arc<dyn agent_core::eval::EvalStore> = Arc::new(agent_core::eval::InMemoryEvalStore::new());
    AgentOs::builder()
        .id("test-os")
        .agent(weather)
        .agent(approver)
        .agent(echo)
        .team(crew)
        .workflow(flow)
        .store(store)
        .memory_store(memories)
        .eval_store(evals)
}

pub(crate) fn os() -> (AgentOs, Arc<InMemoryStore>) {
    let store = Arc::new(InMemoryStore::new());
    (builder(&store).build().unwrap(), store)
}

/// An answer: status, content type and body text.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) content_type: String,
    pub(crate) text: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.text))
    }

    /// The SSE events: (the `event:` name, the `data:` JSON), checking the framing.
    pub(crate) fn events(&self) -> Vec<(String, Value)> {
        let mut events = Vec::new();
        for block in self.text.split("\n\n").filter(|block| !block.trim().is_empty()) {
            let lines: Vec<&str> = block.lines().filter(|line| !line.starts_with(':')).collect();
            if lines.is_empty() {
                continue;
            }
            assert_eq!(lines.len(), 2, "one event line and one data line: {block:?}");
            let name = lines[0].strip_prefix("event: ").unwrap_or_else(|| panic!("event line: {block:?}"));
            let data = lines[1].strip_prefix("data: ").unwrap_or_else(|| panic!("data line: {block:?}"));
            let value: Value = serde_json::from_str(data).unwrap();
            assert_eq!(value["event"], name, "the event name is in the data");
            events.push((name.to_owned(), value));
        }
        events
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.events().into_iter().map(|(name, _)| name).collect()
    }
}

pub(crate) async fn send(os: &AgentOs, request: Request<Body>) -> Answer {
    let response = os.router().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, content_type, text: String::from_utf8_lossy(&bytes).into_owned() }
}

pub(crate) async fn get(os: &AgentOs, path: &str) -> Answer {
    send(os, Request::get(path).body(Body::empty()).unwrap()).await
}

/// A URL-encoded form post, as the Python client sends it.
pub(crate) async fn form(os: &AgentOs, path: &str, fields: &[(&str, &str)]) -> Answer {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let request =
        Request::post(path).header("content-type", "application/x-www-form-urlencoded").body(Body::from(body)).unwrap();
    send(os, request).await
}

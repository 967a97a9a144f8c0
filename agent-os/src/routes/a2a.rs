//! A2A routes: JSON-RPC `message/send`, `message/stream`, `tasks/get` and `tasks/cancel` for each served agent, team and workflow (and the generic `/a2a/message/*`), and their agent cards.

use std::convert::Infallible;
use std::sync::Arc;

use agent_core::{RunEventKind, SessionType};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::a2a::{self, MessageParams, Method, Request, RpcError};
use crate::component::{Component, RunItem, RunSpec, Start};
use crate::error::ApiError;
use crate::os::Shared;

fn plural(kind: SessionType) -> &'static str {
    match kind {
        SessionType::Agent => "agents",
        SessionType::Team => "teams",
        SessionType::Workflow => "workflows",
    }
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get("host").and_then(|value| value.to_str().ok()).unwrap_or("localhost");
    let scheme = headers.get("x-forwarded-proto").and_then(|value| value.to_str().ok()).unwrap_or("http");
    format!("{scheme}://{host}")
}

pub(super) async fn card(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    kind: SessionType,
) -> Response {
    let component = match shared.component(kind, &id) {
        Ok(component) => component,
        Err(err) => return err.into_response(),
    };
    let described = component.describe(None);
    let description = described.get("description").and_then(Value::as_str).unwrap_or_default().to_owned();
    let name = component.name().unwrap_or(component.id()).to_owned();
    let mut skills = vec![json!({
        "id": component.id(), "name": name, "description": description, "tags": ["agno", kind.as_str()],
        "examples": [], "outputModes": ["text"],
    })];
    let tools = described.pointer("/tools/tools").and_then(Value::as_array).cloned().unwrap_or_default();
    for tool in tools {
        skills.push(json!({
            "id": tool.get("name"), "name": tool.get("name"),
            "description": tool.get("description").and_then(Value::as_str).unwrap_or_default(),
            "tags": ["tool"],
        }));
    }
    let path = format!("/a2a/{}/{}", plural(kind), component.id());
    Json(a2a::card(&base_url(&headers), &path, &name, &description, skills)).into_response()
}

fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))
}

fn rpc_error(id: &Value, err: &RpcError) -> Response {
    Json(a2a::error(id, err)).into_response()
}

pub(super) async fn rpc(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
    kind: SessionType,
) -> Response {
    let component = match shared.component(kind, &id) {
        Ok(component) => component,
        Err(err) => return err.into_response(),
    };
    let body = match read_body(body) {
        Ok(body) => body,
        Err(err) => return err.into_response(),
    };
    match a2a::parse(&body) {
        Ok(request) => dispatch(shared, component, request).await,
        Err((id, err)) => rpc_error(&id, &err),
    }
}

/// `/a2a/message/send` and `/a2a/message/stream`: the component is named in
/// `params.message.metadata` (`agentId`, `teamId` or `workflowId`), or is the
/// only one served.
pub(super) async fn rpc_any(State(shared): State<Arc<Shared>>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match read_body(body) {
        Ok(body) => body,
        Err(err) => return err.into_response(),
    };
    let request = match a2a::parse(&body) {
        Ok(request) => request,
        Err((id, err)) => return rpc_error(&id, &err),
    };
    let metadata =
        request.params.get("message").and_then(|message| message.get("metadata")).cloned().unwrap_or(Value::Null);
    let named = [("agentId", SessionType::Agent), ("teamId", SessionType::Team), ("workflowId", SessionType::Workflow)]
        .into_iter()
        .find_map(|(key, kind)| metadata.get(key).and_then(Value::as_str).map(|id| (kind, id.to_owned())));
    let component = match named {
        Some((kind, id)) => match shared.component(kind, &id) {
            Ok(component) => component,
            Err(err) => return err.into_response(),
        },
        None if shared.components.len() == 1 => shared.components[0].clone(),
        None => {
            let err = RpcError::new(
                RpcError::INVALID_PARAMS,
                "Invalid params: name the agent in message.metadata.agentId (or teamId, workflowId)",
            );
            return rpc_error(&request.id, &err);
        }
    };
    dispatch(shared, component, request).await
}

async fn dispatch(shared: Arc<Shared>, component: Arc<dyn Component>, request: Request) -> Response {
    match request.method {
        Method::Send | Method::Stream => {
            let params = match a2a::message_params(&request.params) {
                Ok(params) => params,
                Err(err) => return rpc_error(&request.id, &err),
            };
            if request.method == Method::Stream {
                stream(shared, component, request.id, params).await
            } else {
                send(shared, component, request.id, params).await
            }
        }
        Method::GetTask => task_by_id(&shared, &request, false).await,
        Method::CancelTask => task_by_id(&shared, &request, true).await,
    }
}

/// A run for a message: its ids and launched items.
struct Launched {
    task_id: String,
    context_id: String,
    items: tokio::sync::mpsc::UnboundedReceiver<RunItem>,
}

fn launch(
    shared: &Shared,
    component: &Arc<dyn Component>,
    params: &MessageParams,
    stream: bool,
) -> Result<Launched, RpcError> {
    let task_id = uuid::Uuid::new_v4().to_string();
    let context_id = params.context_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let has_store = component.store().is_some();
    if !params.blocking && !has_store {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMS,
            "Invalid params: a non-blocking message needs a store to keep the task",
        ));
    }
    let spec = RunSpec {
        start: Start::Input(params.input()),
        run_id: Some(task_id.clone()),
        session_id: has_store.then(|| context_id.clone()),
        user_id: params.user_id.clone(),
        state: None,
        metadata: (!params.metadata.is_empty()).then(|| params.metadata.clone()),
        dependencies: None,
        cancel: CancellationToken::new(),
    };
    let launched = shared
        .runs
        .launch(component.clone(), task_id.clone(), spec, stream && params.blocking, None)
        .map_err(|_| RpcError::new(-32603, "Internal error: the run could not start"))?;
    Ok(Launched { task_id, context_id, items: launched.items })
}

async fn send(shared: Arc<Shared>, component: Arc<dyn Component>, id: Value, params: MessageParams) -> Response {
    let mut launched = match launch(&shared, &component, &params, false) {
        Ok(launched) => launched,
        Err(err) => return rpc_error(&id, &err),
    };
    let user = a2a::user_message(&params, &launched.task_id, &launched.context_id);
    if !params.blocking {
        let task = a2a::task(&launched.task_id, &launched.context_id, "submitted", vec![user]);
        return (StatusCode::ACCEPTED, Json(a2a::result(&id, task))).into_response();
    }
    let result = loop {
        match launched.items.recv().await {
            Some(RunItem::Done(result)) => break result,
            Some(RunItem::Event(_)) => {}
            None => break Err(agent_core::Error::Cancelled),
        }
    };
    let task = finished_task(&launched, user, &result);
    Json(a2a::result(&id, task)).into_response()
}

fn finished_task(launched: &Launched, user: Value, result: &agent_core::Result<agent_core::RunOutput<Value>>) -> Value {
    let (state, text, metadata) = match result {
        Ok(output) => {
            let metrics = json!({"metrics": {"input_tokens": output.metrics.input_tokens, "output_tokens": output.metrics.output_tokens, "total_tokens": output.metrics.total_tokens}});
            (a2a::state_of(output.status), a2a::answer_text(output), Some(metrics))
        }
        Err(agent_core::Error::Cancelled) => ("canceled", "The run was cancelled.".to_owned(), None),
        Err(err) => ("failed", format!("Error: {}", err.report()), None),
    };
    let answer = a2a::agent_message(&launched.task_id, &launched.context_id, &text, metadata);
    a2a::task(&launched.task_id, &launched.context_id, state, vec![user, answer])
}

async fn stream(shared: Arc<Shared>, component: Arc<dyn Component>, id: Value, params: MessageParams) -> Response {
    let launched = match launch(&shared, &component, &params, true) {
        Ok(launched) => launched,
        Err(err) => return rpc_error(&id, &err),
    };
    let user = a2a::user_message(&params, &launched.task_id, &launched.context_id);
    let (task_id, context_id) = (launched.task_id.clone(), launched.context_id.clone());
    let frame = move |name: &str, result: Value| -> Result<Event, Infallible> {
        Ok(Event::default().event(name).data(a2a::result(&id, result).to_string()))
    };
    let working = frame("TaskStatusUpdateEvent", a2a::status_update(&task_id, &context_id, "working", false, None));
    let state = StreamState { launched: Some((launched, user)), done: false, answering: false, frame };
    let rest = futures::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        loop {
            let item = match state.launched.as_mut() {
                Some((launched, _)) => launched.items.recv().await,
                None => return None,
            };
            match item {
                Some(RunItem::Event(event)) => {
                    if let Some(frame) = state.event_frame(&event) {
                        return Some((vec![frame], state));
                    }
                }
                Some(RunItem::Done(result)) => {
                    state.done = true;
                    let frames = state.final_frames(&result);
                    return Some((frames, state));
                }
                None => {
                    state.done = true;
                    let frames = state.final_frames(&Err(agent_core::Error::Cancelled));
                    return Some((frames, state));
                }
            }
        }
    });
    let all = futures::stream::once(futures::future::ready(vec![working])).chain(rest).flat_map(futures::stream::iter);
    Sse::new(all)
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15)).text("keep-alive"))
        .into_response()
}

struct StreamState<F> {
    launched: Option<(Launched, Value)>,
    done: bool,
    /// Whether answer text was sent (later chunks append to its artifact).
    answering: bool,
    frame: F,
}

impl<F: Fn(&str, Value) -> Result<Event, Infallible>> StreamState<F> {
    fn ids(&self) -> (&str, &str) {
        self.launched
            .as_ref()
            .map_or(("", ""), |(launched, _)| (launched.task_id.as_str(), launched.context_id.as_str()))
    }

    /// A run event as an A2A stream event: answer text as messages, tool
    /// activity as working status updates with metadata.
    fn event_frame(&mut self, event: &agent_core::RunEvent) -> Option<Result<Event, Infallible>> {
        let (task_id, context_id) = self.ids();
        let (task_id, context_id) = (task_id.to_owned(), context_id.to_owned());
        let (task_id, context_id) = (task_id.as_str(), context_id.as_str());
        match &event.kind {
            RunEventKind::RunContent { content } if event.run_id.as_ref() == task_id && !content.is_empty() => {
                let first = !self.answering;
                self.answering = true;
                let update = a2a::artifact_update(task_id, context_id, content, !first);
                Some((self.frame)("TaskArtifactUpdateEvent", update))
            }
            RunEventKind::ToolCallStarted { tool } | RunEventKind::ToolCallCompleted { tool } => {
                let started = matches!(event.kind, RunEventKind::ToolCallStarted { .. });
                let metadata = json!({
                    "agno_event_type": if started { "tool_call_started" } else { "tool_call_completed" },
                    "tool_name": tool.tool_name,
                    "tool_call_id": tool.tool_call_id,
                    "tool_args": tool.tool_args.to_string(),
                });
                Some((self.frame)(
                    "TaskStatusUpdateEvent",
                    a2a::status_update(task_id, context_id, "working", false, Some(metadata)),
                ))
            }
            _ => None,
        }
    }

    /// The final status update: the task's end state with the whole answer
    /// as its message, which A2A clients add to the task's history. (agno
    /// also sends the Task after it; A2A's own client refuses a second Task
    /// on a stream, so this server ends with the update.)
    fn final_frames(
        &self,
        result: &agent_core::Result<agent_core::RunOutput<Value>>,
    ) -> Vec<Result<Event, Infallible>> {
        let Some((launched, user)) = self.launched.as_ref() else { return Vec::new() };
        let task = finished_task(launched, user.clone(), result);
        let state = task.pointer("/status/state").and_then(Value::as_str).unwrap_or("failed").to_owned();
        let answer = task.pointer("/history/1").cloned().unwrap_or(Value::Null);
        let mut update = a2a::status_update(&launched.task_id, &launched.context_id, &state, true, None);
        update["status"]["message"] = answer;
        vec![(self.frame)("TaskStatusUpdateEvent", update)]
    }
}

/// `tasks/get` and `tasks/cancel`: the task of a run by its id (the task id is the run id).
async fn task_by_id(shared: &Shared, request: &Request, cancel: bool) -> Response {
    let Some(task_id) = request.params.get("id").and_then(Value::as_str) else {
        return rpc_error(&request.id, &RpcError::new(RpcError::INVALID_PARAMS, "Invalid params: `id` is required"));
    };
    let not_found = || rpc_error(&request.id, &RpcError::new(RpcError::TASK_NOT_FOUND, "Task not found"));
    if cancel && shared.runs.cancel(task_id) {
        let context = request.params.get("contextId").and_then(Value::as_str).unwrap_or_default();
        return Json(a2a::result(&request.id, a2a::task(task_id, context, "canceled", Vec::new()))).into_response();
    }
    for store in shared.stores() {
        let record = match store.find_run(task_id).await {
            Ok(Some(record)) => record,
            Ok(None) => continue,
            Err(err) => return ApiError::internal(&err).into_response(),
        };
        let mut state = a2a::state_of(record.status);
        if cancel {
            if record.status != agent_core::RunStatus::Running {
                return rpc_error(
                    &request.id,
                    &RpcError::new(-32002, format!("Task cannot be canceled: it is {state}")),
                );
            }
            if let Err(err) = store.request_cancel(task_id).await {
                return ApiError::internal(&err).into_response();
            }
            state = "canceled";
        }
        let mut history = vec![json!({
            "kind": "message", "messageId": format!("{task_id}-input"), "role": "user",
            "parts": [{"kind": "text", "text": record.input}], "contextId": record.session_id, "taskId": task_id,
        })];
        if let Some(output) = record.output.as_deref().or(record.error.as_deref()) {
            history.push(a2a::agent_message(task_id, &record.session_id, output, None));
        }
        return Json(a2a::result(&request.id, a2a::task(task_id, &record.session_id, state, history))).into_response();
    }
    not_found()
}

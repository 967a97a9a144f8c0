//! Run routes: start, continue and cancel runs of agents, teams and workflows; answer with the output JSON, an SSE stream, or 202 for background runs.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use agent_core::{ContentBlock, ContinueFrom, RunInput, RunOutput, RunStatus, SessionType};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use crate::component::{Component, RunItem, RunSpec, Start};
use crate::error::ApiError;
use crate::form::Fields;
use crate::os::{Shared, kind_title};
use crate::wire::{self, Owner};

/// How often an idle stream sends a `: keep-alive` comment (the client's
/// read timeout is 60 s between bytes).
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The fields a run form may carry; anything else is refused, not dropped.
const START_FIELDS: &[&str] = &[
    "message",
    "stream",
    "session_id",
    "user_id",
    "session_state",
    "metadata",
    "dependencies",
    "images",
    "audio",
    "videos",
    "input_files",
    "files",
    "files_metadata",
    "background",
    "monitor",
    "version",
];

/// The fields a continue form may carry.
const CONTINUE_FIELDS: &[&str] = &[
    "tools",
    "requirements",
    "step_requirements",
    "stream",
    "session_id",
    "user_id",
    "background",
    "continue_from",
    "version",
];

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn refuse_unknown(fields: &Fields, known: &[&str]) -> Result<(), ApiError> {
    for name in fields.names() {
        if !known.contains(&name) && fields.text(name).is_some() {
            return Err(ApiError::bad_request(format!("the form field `{name}` is not supported by this server")));
        }
    }
    if let Some(version) = fields.text("version")
        && version != "1"
    {
        return Err(ApiError::not_found(format!("version {version} not found: this server serves version 1 only")));
    }
    for name in ["continue_from"] {
        if let Some(value) = fields.text(name)
            && value != "end"
        {
            return Err(ApiError::bad_request(format!(
                "`{name}={value}` is not supported: runs continue from their end"
            )));
        }
    }
    Ok(())
}

/// What a response needs to know about its run.
struct RunCtx {
    shared: Arc<Shared>,
    component: Arc<dyn Component>,
    run_id: String,
    session_id: String,
    user_id: Option<String>,
    stream: bool,
    background: bool,
}

impl RunCtx {
    fn owner(&self) -> Owner<'_> {
        Owner {
            kind: self.component.kind(),
            id: self.component.id(),
            name: self.component.name(),
            steps: self.component.step_executors(),
        }
    }
}

pub(super) async fn start(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    fields: Result<Fields, ApiError>,
    kind: SessionType,
) -> Response {
    match start_run(shared, id, fields, kind).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn start_run(
    shared: Arc<Shared>,
    id: String,
    fields: Result<Fields, ApiError>,
    kind: SessionType,
) -> Result<Response, ApiError> {
    let fields = fields?;
    let message = fields.required("message")?.to_owned();
    if message.trim().is_empty() {
        return Err(ApiError::validation(
            &["body", "message"],
            "string_too_short",
            "String should have at least 1 character",
            Value::String(message),
        ));
    }
    let stream = fields.bool("stream", true)?;
    let background = fields.bool("background", false)?;
    fields.bool("monitor", true)?;
    let state = fields.json_object("session_state")?;
    let metadata = fields.json_object("metadata")?;
    let dependencies = fields.json_object("dependencies")?;
    let media = crate::media::blocks(&fields)?;
    refuse_unknown(&fields, START_FIELDS)?;
    let component = shared.component(kind, &id)?;
    let has_store = component.store().is_some();
    if background && !has_store {
        return Err(ApiError::bad_request(format!(
            "Background execution requires a database to be configured on the {}",
            kind.as_str()
        )));
    }
    let input = if media.is_empty() {
        RunInput::from(message)
    } else {
        let mut blocks = vec![ContentBlock::text(message)];
        blocks.extend(media);
        RunInput::from(blocks)
    };
    let session_id = fields.text("session_id").map_or_else(new_id, str::to_owned);
    let user_id = fields.text("user_id").map(str::to_owned);
    let run_id = new_id();
    let spec = RunSpec {
        start: Start::Input(input),
        run_id: Some(run_id.clone()),
        session_id: has_store.then(|| session_id.clone()),
        user_id: user_id.clone(),
        state,
        metadata,
        dependencies,
        cancel: CancellationToken::new(),
    };
    let ctx = RunCtx { shared, component, run_id, session_id, user_id, stream, background };
    respond(ctx, spec, None).await
}

pub(super) async fn continue_run(
    State(shared): State<Arc<Shared>>,
    Path((id, run_id)): Path<(String, String)>,
    fields: Result<Fields, ApiError>,
    kind: SessionType,
) -> Response {
    match continue_paused(shared, id, run_id, fields, kind).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn continue_paused(
    shared: Arc<Shared>,
    id: String,
    run_id: String,
    fields: Result<Fields, ApiError>,
    kind: SessionType,
) -> Result<Response, ApiError> {
    let fields = fields?;
    let stream = fields.bool("stream", true)?;
    let background = fields.bool("background", false)?;
    let items = ["tools", "requirements", "step_requirements"]
        .iter()
        .find_map(|name| fields.json_array(name).transpose())
        .transpose()?
        .unwrap_or_default();
    refuse_unknown(&fields, CONTINUE_FIELDS)?;
    let component = shared.component(kind, &id)?;
    let user_id = fields.text("user_id").map(str::to_owned);
    let (from, pending, session_id, kept) = match component.store() {
        Some(store) => {
            let session_id = match fields.text("session_id") {
                Some(session_id) => session_id.to_owned(),
                None => store
                    .find_run(&run_id)
                    .await
                    .map_err(|err| ApiError::internal(&err))?
                    .map(|record| record.session_id)
                    .ok_or_else(|| ApiError::not_found("Run not found"))?,
            };
            let record =
                store.run(&session_id, &run_id).await.map_err(|err| ApiError::internal(&err))?.ok_or_else(|| {
                    ApiError::not_found(format!("Run `{run_id}` not found in session `{session_id}`"))
                })?;
            let paused = match (record.status, record.paused) {
                (RunStatus::Paused, Some(paused)) => paused,
                (RunStatus::Running, _) => {
                    return Err(ApiError::conflict(format!("Run `{run_id}` is running, not paused")));
                }
                (status, _) => {
                    return Err(ApiError::conflict(format!("Run `{run_id}` is {}, not paused", status.as_str())));
                }
            };
            (ContinueFrom::from((session_id.clone(), run_id.clone())), paused.actionable_calls(), session_id, None)
        }
        None => {
            let paused = shared.runs.take_paused(component.id(), &run_id).ok_or_else(|| {
                if shared.runs.is_live(&run_id) {
                    ApiError::conflict(format!("Run `{run_id}` is already being continued"))
                } else {
                    ApiError::not_found("Run not found")
                }
            })?;
            let session_id =
                fields.text("session_id").map(str::to_owned).or_else(|| paused.session_id().map(str::to_owned));
            (
                ContinueFrom::from(paused.clone()),
                paused.actionable_calls(),
                session_id.unwrap_or_else(new_id),
                Some(paused),
            )
        }
    };
    let decisions = match crate::decisions::parse(&items, &pending, None) {
        Ok(decisions) => decisions,
        Err(err) => {
            if let Some(paused) = kept {
                shared.runs.restore_paused(component.id(), paused);
            }
            return Err(err);
        }
    };
    let spec = RunSpec {
        start: Start::Continue { from, decisions },
        run_id: None,
        session_id: None,
        user_id: user_id.clone(),
        state: None,
        metadata: None,
        dependencies: None,
        cancel: CancellationToken::new(),
    };
    let ctx = RunCtx { shared, component, run_id, session_id, user_id, stream, background };
    respond(ctx, spec, kept).await
}

/// Launches the run and answers: 202 for a background run, the output JSON,
/// or the SSE stream. A run refused before it started (a busy session, a
/// run already claimed, a bad continuation) is a 4xx, streaming or not.
async fn respond(ctx: RunCtx, spec: RunSpec, kept: Option<agent_core::PausedRun>) -> Result<Response, ApiError> {
    let cancel_on_disconnect = ctx.stream && !ctx.background;
    let launched = ctx.shared.runs.launch(ctx.component.clone(), ctx.run_id.clone(), spec, cancel_on_disconnect, kept);
    let mut items = launched?.items;
    if ctx.background {
        let body = json!({"run_id": ctx.run_id, "session_id": ctx.session_id, "status": "PENDING"});
        return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
    }
    if !ctx.stream {
        let result = loop {
            match items.recv().await {
                Some(RunItem::Done(result)) => break result,
                Some(RunItem::Event(_)) => {}
                None => return Err(ApiError::internal(&"the run's task ended without a result")),
            }
        };
        return match result {
            Ok(output) => Ok(Json(output_value(&ctx, output)).into_response()),
            Err(err) if ApiError::is_request_error(&err) => Err(ApiError::from_run(&err)),
            Err(err) => Ok(Json(failed_value(&ctx, &err)).into_response()),
        };
    }
    let first = items.recv().await;
    match first {
        None => Err(ApiError::internal(&"the run's task ended without a result")),
        Some(RunItem::Done(Err(err))) if ApiError::is_request_error(&err) => Err(ApiError::from_run(&err)),
        Some(first) => Ok(sse(ctx, first, items).into_response()),
    }
}

fn output_value(ctx: &RunCtx, mut output: RunOutput<Value>) -> Value {
    if output.session_id.is_none() {
        output.session_id = Some(ctx.session_id.clone());
    }
    if output.user_id.is_none() {
        output.user_id.clone_from(&ctx.user_id);
    }
    wire::output_json(ctx.owner(), &output)
}

/// The output of a run that failed: its partial output when it has one,
/// with status `ERROR` (`CANCELLED`) and the error as its content, as agno
/// answers a failed run.
fn failed_value(ctx: &RunCtx, err: &agent_core::Error) -> Value {
    let mut output = err.partial_output().cloned().map(|partial| partial.map(Value::String)).unwrap_or_else(|| {
        RunOutput { run_id: ctx.run_id.clone(), created_at: agent_core::support::unix_now(), ..RunOutput::default() }
    });
    output.paused = None;
    output.status = if matches!(err, agent_core::Error::Cancelled) { RunStatus::Cancelled } else { RunStatus::Error };
    output.content = Value::String(err.report());
    let mut value = output_value(ctx, output);
    value["error_type"] = json!(err.kind_name());
    value
}

fn is_terminal(name: &str) -> bool {
    matches!(
        name,
        "RunCompleted"
            | "RunPaused"
            | "RunError"
            | "RunCancelled"
            | "WorkflowCompleted"
            | "WorkflowError"
            | "WorkflowCancelled"
    )
}

/// The run's events as SSE: `event: <name>` and one `data:` line of
/// compact JSON each, keep-alive comments while it is quiet, and an error
/// event if the run failed without sending one.
fn sse(
    ctx: RunCtx,
    first: RunItem,
    items: UnboundedReceiver<RunItem>,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let rest = futures::stream::unfold(items, |mut items| async move { items.recv().await.map(|item| (item, items)) });
    let ctx = Arc::new(ctx);
    let mut ended = false;
    let events = futures::stream::once(async move { first }).chain(rest).filter_map(move |item| {
        let frame = match item {
            RunItem::Event(event) => {
                let own_run = event.run_id.as_ref() == ctx.run_id;
                // The run's own pause is reported from its output, at its end.
                if own_run && event.kind.name() == "RunPaused" {
                    return futures::future::ready(None);
                }
                if own_run && is_terminal(event.kind.name()) {
                    ended = true;
                }
                let mut value = wire::event_json(&event, &|id| ctx.shared.name_of(id));
                if own_run && value.get("session_id").is_none_or(Value::is_null) {
                    value["session_id"] = json!(ctx.session_id);
                }
                Some(frame(event.name(), &value))
            }
            RunItem::Done(result) => match result {
                Ok(output) if output.is_paused() => {
                    let (name, mut value) = wire::paused_event(ctx.owner(), &output);
                    if value.get("session_id").is_none_or(Value::is_null) {
                        value["session_id"] = json!(ctx.session_id);
                    }
                    Some(frame(&name, &value))
                }
                Err(err) if !ended => {
                    let (name, value) = wire::error_event(ctx.owner(), &ctx.run_id, Some(&ctx.session_id), &err);
                    Some(frame(&name, &value))
                }
                _ => None,
            },
        };
        futures::future::ready(frame.map(Ok))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
}

fn frame(name: &str, value: &Value) -> Event {
    Event::default().event(name).data(value.to_string())
}

pub(super) async fn cancel(
    State(shared): State<Arc<Shared>>,
    Path((id, run_id)): Path<(String, String)>,
    kind: SessionType,
) -> Response {
    if let Err(err) = shared.component(kind, &id) {
        return err.into_response();
    }
    if !shared.runs.cancel(&run_id) {
        for store in shared.stores() {
            if let Err(err) = store.request_cancel(&run_id).await {
                return ApiError::internal(&err).into_response();
            }
        }
    }
    Json(json!({})).into_response()
}

pub(super) async fn status(
    State(shared): State<Arc<Shared>>,
    Path((id, run_id)): Path<(String, String)>,
    kind: SessionType,
) -> Response {
    let component = match shared.component(kind, &id) {
        Ok(component) => component,
        Err(err) => return err.into_response(),
    };
    let Some(store) = component.store() else {
        return ApiError::not_found(format!("{} `{id}` keeps no runs: it has no store", kind_title(kind)))
            .into_response();
    };
    let record = match store.find_run(&run_id).await {
        Ok(Some(record)) if record.component_id.as_deref() == Some(component.id()) => record,
        Ok(_) => return ApiError::not_found("Run not found").into_response(),
        Err(err) => return ApiError::internal(&err).into_response(),
    };
    let owner = Owner { kind, id: component.id(), name: component.name(), steps: component.step_executors() };
    let mut body = json!({
        "run_id": record.run_id,
        "session_id": record.session_id,
        "user_id": record.user_id,
        "parent_run_id": record.parent_run_id,
        "status": wire::status_name(record.status),
        "content": record.output,
        "input": {"input_content": record.input},
        "messages": wire::messages_json(&record.messages, record.created_at),
        "metrics": record.metrics,
        "error": record.error,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    });
    let (id_key, name_key) = match owner.kind {
        SessionType::Agent => ("agent_id", "agent_name"),
        SessionType::Team => ("team_id", "team_name"),
        SessionType::Workflow => ("workflow_id", "workflow_name"),
    };
    body[id_key] = json!(owner.id);
    body[name_key] = json!(owner.name.unwrap_or(owner.id));
    Json(body).into_response()
}

//! The JSON of sessions and their runs as the AgentOS client reads them: detail schemas, list items in the storage layout, run schemas and previews.

use agent_core::{RunRecord, RunStatus, Session, SessionSummary, SessionType};
use serde_json::{Value, json};

use crate::os::Shared;
use crate::wire;

pub(super) fn iso(seconds: i64) -> String {
    agent_core::support::rfc3339::format(seconds)
}

pub(super) fn component_key(kind: SessionType) -> &'static str {
    match kind {
        SessionType::Agent => "agent_id",
        SessionType::Team => "team_id",
        SessionType::Workflow => "workflow_id",
    }
}

pub(super) fn summary_json(summary: Option<&SessionSummary>) -> Value {
    summary.map_or(
        Value::Null,
        |summary| json!({"summary": summary.summary, "topics": summary.topics, "updated_at": iso(summary.updated_at)}),
    )
}

pub(super) fn total_tokens(session: &Session) -> u64 {
    session.metrics.get("total_tokens").and_then(Value::as_u64).unwrap_or(0)
}

/// A session's name: the stored one, else its first message (as agno derives it), else `""`.
pub(super) fn name_of(session: &Session, runs: &[RunRecord]) -> String {
    session
        .session_name
        .clone()
        .or_else(|| runs.first().map(|run| run.input.lines().next().unwrap_or_default().to_owned()))
        .unwrap_or_default()
}

/// The detail schema of a session (`AgentSessionDetailSchema`, ...).
pub(super) fn detail(shared: &Shared, session: &Session, runs: &[RunRecord]) -> Value {
    let chat_history: Vec<Value> = runs
        .iter()
        .filter(|run| run.parent_run_id.is_none() && !matches!(run.status, RunStatus::Running | RunStatus::Paused))
        .flat_map(|run| wire::messages_json(&run.messages, run.created_at))
        .collect();
    let key = component_key(session.session_type);
    let component = session.component_id.clone();
    let component_name = component.as_deref().and_then(|id| shared.name_of(id));
    let mut value = json!({
        "session_id": session.session_id,
        "session_name": name_of(session, runs),
        "user_id": session.user_id,
        key: component,
        "session_summary": summary_json(session.summary.as_ref()),
        "session_state": session.state,
        "metrics": if session.metrics.is_object() { session.metrics.clone() } else { json!({}) },
        "total_tokens": total_tokens(session),
        "metadata": session.metadata,
        "chat_history": chat_history,
        "created_at": iso(session.created_at),
        "updated_at": iso(session.updated_at),
    });
    let data = json!({"id": session.component_id, "name": component_name});
    match session.session_type {
        SessionType::Agent => {
            value["agent_session_id"] = json!(session.session_id);
            value["agent_data"] = data;
        }
        SessionType::Team => value["team_data"] = data,
        SessionType::Workflow => {
            value["workflow_name"] = json!(component_name);
            value["workflow_data"] = data;
            value["session_data"] = json!({"session_state": session.state});
        }
    }
    value
}

/// A list item, in the storage layout `SessionSchema.from_dict` reads.
pub(super) fn list_item(session: &Session) -> Value {
    let metrics = if session.metrics.is_object() { session.metrics.clone() } else { json!({}) };
    json!({
        "session_id": session.session_id,
        "session_name": session.session_name.clone().unwrap_or_default(),
        "session_type": session.session_type.as_str(),
        "user_id": session.user_id,
        component_key(session.session_type): session.component_id,
        "session_state": session.state,
        "session_data": {"session_state": session.state, "session_metrics": metrics, "session_name": session.session_name},
        "summary": summary_json(session.summary.as_ref()),
        "session_summary": summary_json(session.summary.as_ref()),
        "metrics": metrics,
        "total_tokens": total_tokens(session),
        "metadata": session.metadata,
        "created_at": iso(session.created_at),
        "updated_at": iso(session.updated_at),
    })
}

/// A stored run as `RunSchema` / `TeamRunSchema` / `WorkflowRunSchema`.
pub(super) fn run_json(session: &Session, run: &RunRecord) -> Value {
    let kind = if run.parent_run_id.is_some() { SessionType::Agent } else { session.session_type };
    let tools = tools_of(run);
    let mut value = json!({
        "run_id": run.run_id,
        "parent_run_id": run.parent_run_id,
        component_key(kind): run.component_id,
        "user_id": run.user_id,
        "status": wire::status_name(run.status),
        "run_input": run.input,
        "content": run.output,
        "run_response_format": "text",
        "model": run.model,
        "model_provider": run.model_provider,
        "metrics": if run.metrics.is_object() { run.metrics.clone() } else { json!({}) },
        "metadata": run.metadata,
        "messages": wire::messages_json(&run.messages, run.created_at),
        "tools": tools,
        "events": run.events,
        "created_at": run.created_at,
        "updated_at": run.updated_at,
    });
    if let Some(error) = &run.error {
        value["error"] = json!(error);
    }
    if kind == SessionType::Workflow {
        value["content_type"] = json!("str");
        value["step_results"] = run.metrics.get("step_outputs").cloned().unwrap_or_else(|| json!([]));
    }
    value
}

/// The tool executions of a stored run, from its messages: each call with its result.
pub(super) fn tools_of(run: &RunRecord) -> Vec<Value> {
    use agent_core::ContentBlock;
    let mut tools: Vec<Value> = Vec::new();
    for message in &run.messages {
        for block in &message.content {
            match block {
                ContentBlock::ToolUse { id, name, input } => tools.push(json!({
                    "tool_call_id": id, "tool_name": name, "tool_args": input,
                    "tool_call_error": null, "result": null, "created_at": run.created_at,
                })),
                ContentBlock::ToolResult { tool_call_id, content, is_error } => {
                    if let Some(tool) = tools.iter_mut().find(|tool| tool["tool_call_id"] == tool_call_id.as_str()) {
                        tool["result"] = json!(content.to_text());
                        tool["tool_call_error"] = json!(is_error);
                    }
                }
                _ => {}
            }
        }
    }
    tools
}

pub(super) fn preview_json(session: &Session, run: &RunRecord) -> Value {
    let kind = if run.parent_run_id.is_some() { SessionType::Agent } else { session.session_type };
    let preview: Option<String> = run.output.as_ref().map(|output| output.chars().take(200).collect());
    json!({
        "run_id": run.run_id,
        "parent_run_id": run.parent_run_id,
        component_key(kind): run.component_id,
        "user_id": run.user_id,
        "status": wire::status_name(run.status),
        "run_input": run.input,
        "content_preview": preview,
        "created_at": run.created_at,
    })
}

//! The AgentOS JSON of runs: outputs, tool executions, requirements, messages and stream events as the agno client parses them.

use agent_core::{
    ContentBlock, Message, PendingToolCall, Role, RunEvent, RunOutput, RunStatus, SessionType, ToolExecution,
};
use serde_json::{Map, Value, json};

/// The upper-case `RunStatus` of the wire.
pub(crate) fn status_name(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "RUNNING",
        RunStatus::Paused => "PAUSED",
        RunStatus::Completed => "COMPLETED",
        RunStatus::Error => "ERROR",
        RunStatus::Cancelled => "CANCELLED",
    }
}

/// Who ran: the component's kind, id and display name.
#[derive(Clone, Copy)]
pub(crate) struct Owner<'a> {
    pub(crate) kind: SessionType,
    pub(crate) id: &'a str,
    pub(crate) name: Option<&'a str>,
    /// A workflow's steps: name, executor type, executor id.
    pub(crate) steps: &'a [StepExecutor],
}

/// What runs a workflow step, as `StepMetrics` names it.
#[derive(Clone, Debug)]
pub(crate) struct StepExecutor {
    pub(crate) step_name: String,
    pub(crate) executor_type: &'static str,
    pub(crate) executor_name: String,
}

impl Owner<'_> {
    fn insert_into(&self, map: &mut Map<String, Value>) {
        let (id_key, name_key) = match self.kind {
            SessionType::Agent => ("agent_id", "agent_name"),
            SessionType::Team => ("team_id", "team_name"),
            SessionType::Workflow => ("workflow_id", "workflow_name"),
        };
        map.insert(id_key.into(), json!(self.id));
        map.insert(name_key.into(), json!(self.name.unwrap_or(self.id)));
    }
}

/// A tool execution as agno's `ToolExecution.to_dict` writes it, nulls included.
pub(crate) fn tool_json(tool: &ToolExecution, created_at: i64) -> Value {
    let metrics = if tool.metrics.is_empty() { Value::Null } else { json!(tool.metrics) };
    // No result yet (started, or waiting for the user): no verdict either.
    let open = tool.result.is_none() && !tool.tool_call_error;
    json!({
        "tool_call_id": tool.tool_call_id,
        "tool_name": tool.tool_name,
        "tool_args": tool.tool_args,
        "tool_call_error": if open { Value::Null } else { Value::Bool(tool.tool_call_error) },
        "result": tool.result,
        "metrics": metrics,
        "child_run_id": null,
        "stop_after_tool_call": false,
        "created_at": created_at,
        "requires_confirmation": tool.requires_confirmation.then_some(true),
        "confirmed": tool.confirmed,
        "confirmation_note": tool.confirmation_note,
        "requires_user_input": null,
        "user_input_schema": null,
        "user_feedback_schema": null,
        "answered": null,
        "external_execution_required": tool.external_execution_required.then_some(true),
        "external_execution_silent": null,
        "approval_type": null,
        "approval_id": null,
        "parent_tool_call_id": null,
    })
}

/// The tool execution of a pending call.
pub(crate) fn pending_tool(pending: &PendingToolCall) -> ToolExecution {
    ToolExecution {
        tool_call_id: pending.tool_call_id.clone(),
        tool_name: pending.tool_name.clone(),
        tool_args: pending.tool_args.clone(),
        requires_confirmation: pending.kind == agent_core::PendingKind::Confirmation,
        external_execution_required: pending.kind != agent_core::PendingKind::Confirmation,
        ..ToolExecution::default()
    }
}

/// One `RunRequirement` per pending call, as `RunRequirement.to_dict` writes them.
pub(crate) fn requirements_json(tools: &[Value], created_at: i64) -> Vec<Value> {
    let created = agent_core::support::rfc3339::format(created_at);
    tools
        .iter()
        .map(|tool| {
            let id = tool.get("tool_call_id").cloned().unwrap_or(Value::Null);
            json!({
                "id": id,
                "created_at": created,
                "tool_execution": tool,
                "confirmation": null,
                "confirmation_note": null,
                "external_execution_result": null,
                "user_input_schema": null,
            })
        })
        .collect()
}

/// A run's metrics as agno's `RunMetrics`.
fn metrics_json(output: &RunOutput<Value>) -> Value {
    let metrics = &output.metrics;
    let mut value = json!({
        "input_tokens": metrics.input_tokens,
        "output_tokens": metrics.output_tokens,
        "total_tokens": metrics.total_tokens,
        "cache_read_tokens": metrics.cache_read_tokens,
        "cache_write_tokens": metrics.cache_write_tokens,
        "duration": metrics.duration,
    });
    if let Some(first) = metrics.time_to_first_token {
        value["time_to_first_token"] = json!(first);
    }
    if !output.model.is_empty() {
        value["details"] = json!({"model": [{
            "id": output.model,
            "provider": output.model_provider,
            "input_tokens": metrics.input_tokens,
            "output_tokens": metrics.output_tokens,
            "total_tokens": metrics.total_tokens,
            "cache_read_tokens": metrics.cache_read_tokens,
            "cache_write_tokens": metrics.cache_write_tokens,
        }]});
    }
    value
}

/// A run's messages as agno `Message` dicts: tool results become `tool`
/// messages after the assistant message that called them.
pub(crate) fn messages_json(messages: &[Message], created_at: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut calls: Vec<(String, String, Value)> = Vec::new();
    for message in messages {
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        for block in &message.content {
            match block {
                ContentBlock::Text { text: piece, .. } => text.push_str(piece),
                ContentBlock::ToolUse { id, name, input } => {
                    calls.push((id.clone(), name.clone(), input.clone()));
                    tool_calls.push(json!({
                        "id": id, "type": "function",
                        "function": {"name": name, "arguments": input.to_string()},
                    }));
                }
                ContentBlock::ToolResult { tool_call_id, content, is_error } => {
                    let (name, args) = calls
                        .iter()
                        .find(|(id, _, _)| id == tool_call_id)
                        .map(|(_, name, args)| (json!(name), args.clone()))
                        .unwrap_or((Value::Null, Value::Null));
                    out.push(json!({
                        "role": "tool", "content": content.to_text(), "tool_call_id": tool_call_id,
                        "tool_name": name, "tool_args": args, "tool_call_error": is_error,
                        "from_history": false, "created_at": created_at,
                    }));
                }
                _ => {}
            }
        }
        let role = match message.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        if text.is_empty() && tool_calls.is_empty() {
            continue;
        }
        let mut entry = json!({"role": role, "content": text, "from_history": false, "created_at": created_at});
        if !tool_calls.is_empty() {
            entry["tool_calls"] = Value::Array(tool_calls);
        }
        out.push(entry);
    }
    out
}

/// A run output as `RunOutput.from_dict` (`TeamRunOutput`, `WorkflowRunOutput`) reads it.
pub(crate) fn output_json(owner: Owner<'_>, output: &RunOutput<Value>) -> Value {
    let mut map = Map::new();
    map.insert("run_id".into(), json!(output.run_id));
    owner.insert_into(&mut map);
    map.insert("session_id".into(), json!(output.session_id));
    map.insert("user_id".into(), json!(output.user_id));
    map.insert("parent_run_id".into(), json!(output.parent_run_id));
    let content_type = if output.content.is_string() || output.content.is_null() { "str" } else { "dict" };
    map.insert("content".into(), output.content.clone());
    map.insert("content_type".into(), json!(content_type));
    if !output.model.is_empty() {
        map.insert("model".into(), json!(output.model));
        map.insert("model_provider".into(), json!(output.model_provider));
    }
    map.insert("status".into(), json!(status_name(output.status)));
    let metrics = match owner.kind {
        SessionType::Workflow => workflow_metrics_json(owner.steps, output),
        _ => metrics_json(output),
    };
    map.insert("metrics".into(), metrics);
    map.insert("messages".into(), Value::Array(messages_json(&output.messages, output.created_at)));
    let mut tools: Vec<Value> = output.tools.iter().map(|tool| tool_json(tool, output.created_at)).collect();
    let pending: Vec<Value> = output
        .pending_tool_calls()
        .iter()
        .map(|pending| tool_json(&pending_tool(pending), output.created_at))
        .collect();
    for tool in &pending {
        if !tools.iter().any(|known| known.get("tool_call_id") == tool.get("tool_call_id")) {
            tools.push(tool.clone());
        }
    }
    if output.is_paused() {
        map.insert("requirements".into(), Value::Array(requirements_json(&pending, output.created_at)));
    }
    map.insert("tools".into(), Value::Array(tools));
    let input =
        output.paused.as_ref().map(|paused| paused.input().to_owned()).or_else(|| first_user_text(&output.messages));
    map.insert("input".into(), json!({"input_content": input.unwrap_or_default()}));
    map.insert("metadata".into(), Value::Object(output.metadata.clone()));
    map.insert("created_at".into(), json!(output.created_at));
    match owner.kind {
        SessionType::Team => {
            map.insert("member_responses".into(), json!([]));
        }
        SessionType::Workflow => {
            let steps: Vec<Value> =
                output.step_outputs.iter().map(|step| serde_json::to_value(step).unwrap_or(Value::Null)).collect();
            map.insert("step_results".into(), Value::Array(steps));
            if output.is_paused() {
                map.insert("step_requirements".into(), Value::Array(step_requirements(&pending)));
            }
        }
        SessionType::Agent => {}
    }
    Value::Object(map)
}

/// A workflow's metrics as `WorkflowMetrics` (`steps` by name, `duration`),
/// with the run's token totals beside them.
fn workflow_metrics_json(executors: &[StepExecutor], output: &RunOutput<Value>) -> Value {
    let mut steps = Map::new();
    for step in &output.step_outputs {
        let executor = executors.iter().find(|executor| executor.step_name == step.step_name);
        steps.insert(
            step.step_name.clone(),
            json!({
                "step_name": step.step_name,
                "executor_type": executor.map_or("function", |executor| executor.executor_type),
                "executor_name": executor.map_or(step.step_name.as_str(), |executor| executor.executor_name.as_str()),
                "metrics": null,
            }),
        );
    }
    let mut value = metrics_json(output);
    value["steps"] = Value::Object(steps);
    value
}

/// The event that ends a paused run's stream, built from its output:
/// `RunPaused` / `TeamRunPaused` with the calls the user must decide (for a
/// team, its members' calls) and their requirements, or `WorkflowPaused`
/// with the step requirements.
pub(crate) fn paused_event(owner: Owner<'_>, output: &RunOutput<Value>) -> (String, Value) {
    let pending: Vec<Value> = output
        .pending_tool_calls()
        .iter()
        .map(|pending| tool_json(&pending_tool(pending), output.created_at))
        .collect();
    let name = match owner.kind {
        SessionType::Agent => "RunPaused",
        SessionType::Team => "TeamRunPaused",
        SessionType::Workflow => "WorkflowPaused",
    };
    let mut map = Map::new();
    map.insert("event".into(), json!(name));
    owner.insert_into(&mut map);
    map.insert("run_id".into(), json!(output.run_id));
    map.insert("session_id".into(), json!(output.session_id));
    map.insert("content".into(), output.content.clone());
    map.insert("created_at".into(), json!(agent_core::support::unix_now()));
    map.insert("requirements".into(), Value::Array(requirements_json(&pending, output.created_at)));
    if owner.kind == SessionType::Workflow {
        map.insert("status".into(), json!("PAUSED"));
        map.insert("step_requirements".into(), Value::Array(step_requirements(&pending)));
        map.insert("step_results".into(), json!(output.step_outputs));
    }
    map.insert("tools".into(), Value::Array(pending));
    (name.to_owned(), Value::Object(map))
}

/// What a paused workflow asks: one entry per pending call of its paused step.
fn step_requirements(pending: &[Value]) -> Vec<Value> {
    pending
        .iter()
        .map(|tool| {
            json!({
                "step_id": tool.get("tool_call_id"),
                "requires_confirmation": tool.get("requires_confirmation"),
                "confirmed": null,
                "tool_execution": tool,
            })
        })
        .collect()
}

fn first_user_text(messages: &[Message]) -> Option<String> {
    messages.iter().find(|message| message.role == Role::User).map(Message::text).filter(|text| !text.is_empty())
}

/// A stream event as agno writes it: the core event, with the display
/// names, content types and requirements the client reads.
pub(crate) fn event_json(event: &RunEvent, name_of: &dyn Fn(&str) -> Option<String>) -> Value {
    let mut value = serde_json::to_value(event).unwrap_or_else(|_| json!({"event": event.name()}));
    let Some(map) = value.as_object_mut() else { return value };
    for (id_key, name_key) in [("agent_id", "agent_name"), ("team_id", "team_name"), ("workflow_id", "workflow_name")] {
        if let Some(id) = map.get(id_key).and_then(Value::as_str)
            && !map.contains_key(name_key)
            && let Some(name) = name_of(id)
        {
            map.insert(name_key.into(), json!(name));
        }
    }
    let created_at = event.created_at;
    let name = event.kind.name();
    match name {
        "RunContent" | "RunCompleted" | "WorkflowCompleted" | "StepCompleted" => {
            map.insert("content_type".into(), json!("str"));
        }
        _ => {}
    }
    if let Some(tool) = map.get("tool").and_then(|tool| serde_json::from_value::<ToolExecution>(tool.clone()).ok()) {
        map.insert("tool".into(), tool_json(&tool, created_at));
    }
    if let Some(Value::Array(tools)) = map.get("tools") {
        let tools: Vec<Value> = tools
            .iter()
            .filter_map(|tool| serde_json::from_value::<ToolExecution>(tool.clone()).ok())
            .map(|tool| tool_json(&tool, created_at))
            .collect();
        if name == "RunPaused" {
            map.insert("requirements".into(), Value::Array(requirements_json(&tools, created_at)));
        }
        map.insert("tools".into(), Value::Array(tools));
    }
    if name == "LoopExecutionCompleted"
        && let Some(iterations) = map.get("iterations").cloned()
    {
        map.insert("total_iterations".into(), iterations);
    }
    if name == "RunCompleted"
        && let Some(metrics) = map.get_mut("metrics").and_then(Value::as_object_mut)
    {
        metrics.remove("tool_calls");
        metrics.remove("turns");
    }
    value
}

/// The error event that ends a stream whose run failed without saying so.
pub(crate) fn error_event(
    owner: Owner<'_>,
    run_id: &str,
    session_id: Option<&str>,
    error: &agent_core::Error,
) -> (String, Value) {
    let (event, content_key) = match owner.kind {
        SessionType::Agent => ("RunError", "content"),
        SessionType::Team => ("TeamRunError", "content"),
        SessionType::Workflow => ("WorkflowError", "error"),
    };
    let mut map = Map::new();
    map.insert("event".into(), json!(event));
    owner.insert_into(&mut map);
    map.insert("run_id".into(), json!(run_id));
    map.insert("session_id".into(), json!(session_id));
    map.insert(content_key.into(), json!(error.report()));
    map.insert("error_type".into(), json!(error.kind_name()));
    map.insert("created_at".into(), json!(agent_core::support::unix_now()));
    (event.to_owned(), Value::Object(map))
}

//! The Agent2Agent protocol (0.3, JSON-RPC 2.0) as agno serves it: requests read with the standard error codes, runs as Tasks, stream events, agent cards.

use agent_core::{RunInput, RunOutput, RunStatus};
use serde_json::{Map, Value, json};

/// A JSON-RPC error: code and message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RpcError {
    pub(crate) code: i64,
    pub(crate) message: String,
}

impl RpcError {
    pub(crate) const PARSE: i64 = -32700;
    pub(crate) const INVALID_REQUEST: i64 = -32600;
    pub(crate) const METHOD_NOT_FOUND: i64 = -32601;
    pub(crate) const INVALID_PARAMS: i64 = -32602;
    /// A2A's `TaskNotFoundError`.
    pub(crate) const TASK_NOT_FOUND: i64 = -32001;

    pub(crate) fn new(code: i64, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

/// The methods served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Send,
    Stream,
    GetTask,
    CancelTask,
}

/// A JSON-RPC request: its id (echoed), method and params.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) id: Value,
    pub(crate) method: Method,
    pub(crate) params: Map<String, Value>,
}

/// Reads a request body. The error carries the id to answer with (`null`
/// when the body has none or does not parse).
pub(crate) fn parse(body: &[u8]) -> Result<Request, (Value, RpcError)> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|err| (Value::Null, RpcError::new(RpcError::PARSE, format!("Parse error: {err}"))))?;
    let Value::Object(mut object) = value else {
        return Err((Value::Null, RpcError::new(RpcError::INVALID_REQUEST, "Invalid Request: not a JSON object")));
    };
    let id = match object.remove("id") {
        Some(id @ (Value::String(_) | Value::Number(_) | Value::Null)) => id,
        None => Value::Null,
        Some(_) => return Err((Value::Null, RpcError::new(RpcError::INVALID_REQUEST, "Invalid Request: bad id"))),
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err((id, RpcError::new(RpcError::INVALID_REQUEST, "Invalid Request: jsonrpc must be \"2.0\"")));
    }
    let method = match object.get("method").and_then(Value::as_str) {
        Some("message/send") => Method::Send,
        Some("message/stream") => Method::Stream,
        Some("tasks/get") => Method::GetTask,
        Some("tasks/cancel") => Method::CancelTask,
        Some(other) => {
            return Err((id, RpcError::new(RpcError::METHOD_NOT_FOUND, format!("Method not found: {other}"))));
        }
        None => return Err((id, RpcError::new(RpcError::INVALID_REQUEST, "Invalid Request: no method"))),
    };
    let params = match object.remove("params") {
        Some(Value::Object(params)) => params,
        None => Map::new(),
        Some(_) => return Err((id, RpcError::new(RpcError::INVALID_PARAMS, "Invalid params: not an object"))),
    };
    Ok(Request { id, method, params })
}

/// What a `message/send` or `message/stream` asks for.
#[derive(Debug)]
pub(crate) struct MessageParams {
    pub(crate) text: String,
    pub(crate) context_id: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) blocking: bool,
    pub(crate) metadata: Map<String, Value>,
    /// The user's message, as sent (kept in the task's history).
    pub(crate) message: Value,
}

/// Reads the params of a message method: text parts in (data parts as
/// their JSON); a message without any is invalid params.
pub(crate) fn message_params(params: &Map<String, Value>) -> Result<MessageParams, RpcError> {
    let invalid = |why: &str| RpcError::new(RpcError::INVALID_PARAMS, format!("Invalid params: {why}"));
    let message = params.get("message").and_then(Value::as_object).ok_or_else(|| invalid("`message` is required"))?;
    let parts = message.get("parts").and_then(Value::as_array).ok_or_else(|| invalid("`message.parts` is required"))?;
    let mut texts = Vec::new();
    for part in parts {
        match part.get("kind").and_then(Value::as_str) {
            Some("text") => texts.push(part.get("text").and_then(Value::as_str).unwrap_or_default().to_owned()),
            Some("data") => texts.push(part.get("data").map(Value::to_string).unwrap_or_default()),
            Some("file") => return Err(invalid("file parts are not supported; send text")),
            _ => return Err(invalid("each part needs a `kind` of text or data")),
        }
    }
    let text = texts.join("\n");
    if text.trim().is_empty() {
        return Err(invalid("the message has no text"));
    }
    let metadata = message.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
    let configuration = params.get("configuration").and_then(Value::as_object);
    Ok(MessageParams {
        text,
        context_id: message.get("contextId").and_then(Value::as_str).filter(|id| !id.is_empty()).map(str::to_owned),
        user_id: metadata.get("userId").and_then(Value::as_str).map(str::to_owned),
        blocking: configuration.and_then(|c| c.get("blocking")).and_then(Value::as_bool).unwrap_or(true),
        metadata,
        message: Value::Object(message.clone()),
    })
}

impl MessageParams {
    /// The run's input.
    pub(crate) fn input(&self) -> RunInput {
        RunInput::from(self.text.as_str())
    }
}

/// A JSON-RPC success response.
pub(crate) fn result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// A JSON-RPC error response.
pub(crate) fn error(id: &Value, err: &RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": err.code, "message": err.message}})
}

/// The A2A task state of a run status.
pub(crate) fn state_of(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "working",
        RunStatus::Paused => "input-required",
        RunStatus::Completed => "completed",
        RunStatus::Error => "failed",
        RunStatus::Cancelled => "canceled",
    }
}

/// An agent message of a task.
pub(crate) fn agent_message(task_id: &str, context_id: &str, text: &str, metadata: Option<Value>) -> Value {
    let mut message = json!({
        "kind": "message",
        "messageId": uuid::Uuid::new_v4().to_string(),
        "role": "agent",
        "parts": [{"kind": "text", "text": text}],
        "contextId": context_id,
        "taskId": task_id,
    });
    if let Some(metadata) = metadata {
        message["metadata"] = metadata;
    }
    message
}

/// The user's message as it goes into a task's history.
pub(crate) fn user_message(params: &MessageParams, task_id: &str, context_id: &str) -> Value {
    let mut message = params.message.clone();
    message["kind"] = json!("message");
    message["role"] = json!("user");
    message["contextId"] = json!(context_id);
    message["taskId"] = json!(task_id);
    if message.get("messageId").is_none_or(Value::is_null) {
        message["messageId"] = json!(uuid::Uuid::new_v4().to_string());
    }
    message
}

/// A task: its state and history (the user's message, then the agent's answer).
pub(crate) fn task(task_id: &str, context_id: &str, state: &str, history: Vec<Value>) -> Value {
    json!({
        "kind": "task",
        "id": task_id,
        "contextId": context_id,
        "status": {"state": state, "timestamp": agent_core::support::rfc3339::format(agent_core::support::unix_now())},
        "history": history,
    })
}

/// The answer text of a finished run: its content, what a paused run waits
/// for, or the error of a failed one.
pub(crate) fn answer_text(output: &RunOutput<Value>) -> String {
    if output.is_paused() {
        let names: Vec<String> = output.pending_tool_calls().iter().map(|call| call.tool_name.clone()).collect();
        return format!("The run is waiting for a decision on: {}", names.join(", "));
    }
    match &output.content {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A status update of a streamed task.
pub(crate) fn status_update(
    task_id: &str,
    context_id: &str,
    state: &str,
    last: bool,
    metadata: Option<Value>,
) -> Value {
    let mut update = json!({
        "kind": "status-update",
        "taskId": task_id,
        "contextId": context_id,
        "status": {"state": state},
        "final": last,
    });
    if let Some(metadata) = metadata {
        update["metadata"] = metadata;
    }
    update
}

/// A chunk of a streamed answer: text appended to the task's answer artifact.
pub(crate) fn artifact_update(task_id: &str, context_id: &str, text: &str, append: bool) -> Value {
    json!({
        "kind": "artifact-update",
        "taskId": task_id,
        "contextId": context_id,
        "artifact": {"artifactId": format!("{task_id}-answer"), "name": "answer", "parts": [{"kind": "text", "text": text}]},
        "append": append,
        "lastChunk": false,
    })
}

/// The agent card of a served component.
pub(crate) fn card(base_url: &str, path: &str, name: &str, description: &str, skills: Vec<Value>) -> Value {
    json!({
        "name": name,
        "description": description,
        "url": format!("{base_url}{path}/v1/message:stream"),
        "version": "1.0.0",
        "protocolVersion": "0.3.0",
        "preferredTransport": "JSONRPC",
        "capabilities": {"streaming": true, "pushNotifications": false, "stateTransitionHistory": false},
        "defaultInputModes": ["text"],
        "defaultOutputModes": ["text"],
        "skills": skills,
        "supportsAuthenticatedExtendedCard": false,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_read_with_the_standard_error_codes() {
        let code = |body: &[u8]| parse(body).err().map(|(_, err)| err.code);
        assert_eq!(code(b"{not json"), Some(RpcError::PARSE));
        assert_eq!(code(b"[1]"), Some(RpcError::INVALID_REQUEST));
        assert_eq!(code(br#"{"jsonrpc": "1.0", "id": 1, "method": "message/send"}"#), Some(RpcError::INVALID_REQUEST));
        assert_eq!(code(br#"{"jsonrpc": "2.0", "id": 1}"#), Some(RpcError::INVALID_REQUEST));
        assert_eq!(code(br#"{"jsonrpc": "2.0", "id": 1, "method": "agent/dance"}"#), Some(RpcError::METHOD_NOT_FOUND));
        assert_eq!(
            code(br#"{"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": 3}"#),
            Some(RpcError::INVALID_PARAMS)
        );
        let (id, _) = parse(br#"{"jsonrpc": "2.0", "id": "r-9", "method": "x"}"#).unwrap_err();
        assert_eq!(id, json!("r-9"), "the id is echoed in errors");
        let ok = parse(br#"{"jsonrpc": "2.0", "id": 7, "method": "message/stream", "params": {}}"#).unwrap();
        assert_eq!((ok.id, ok.method), (json!(7), Method::Stream));
    }

    #[test]
    fn message_params_need_text() {
        let params = |value: Value| message_params(value.as_object().unwrap());
        let ok = params(json!({"message": {"role": "user", "messageId": "m1", "contextId": "c1",
            "parts": [{"kind": "text", "text": "Weather?"}], "metadata": {"userId": "u1"}},
            "configuration": {"blocking": false}}))
        .unwrap();
        assert_eq!(
            (ok.text.as_str(), ok.context_id.as_deref(), ok.user_id.as_deref(), ok.blocking),
            ("Weather?", Some("c1"), Some("u1"), false)
        );
        for bad in [
            json!({}),
            json!({"message": {"parts": []}}),
            json!({"message": {"parts": [{"kind": "file"}]}}),
            json!({"message": {"parts": [{"text": "x"}]}}),
        ] {
            assert_eq!(params(bad).map_err(|err| err.code).err(), Some(RpcError::INVALID_PARAMS));
        }
    }
}

//! The demo brain behind the strict fake Messages API: Messages API requests in, messages (whole or streamed) out.
//!
//! Agents on the real `agent-claude` client pointed at this fake run the
//! client's whole path (request building, the fake's strict checks, SSE
//! decoding) with answers the brain decides.

use agent_claude::fake::{FakeApi, FakeOptions, Reply};
use serde_json::{Value, json};

use super::brain::{Answer, Conversation, LastTurn, ToolOutcome, decide};

/// The fake's responder: [`answer`] served whole, or as an event stream when
/// the request asks for `"stream": true`.
pub fn responder(body: &Value) -> Reply {
    Reply::from_message(answer(body), body.get("stream") == Some(&Value::Bool(true)))
}

/// Options for a [`FakeApi`] whose every answer comes from the brain.
pub fn fake_options() -> FakeOptions {
    FakeOptions::default().with_responder(responder)
}

/// Starts the strict fake Messages API on `address` (port 0 for a free one), answering with the brain.
///
/// # Errors
///
/// When `address` cannot be bound.
pub async fn start_fake(address: &str) -> std::io::Result<FakeApi> {
    FakeApi::start_on(address, fake_options(), []).await
}

/// The brain's answer to a Messages API request body, as a Messages API message.
///
/// # Example
///
/// ```
/// use serde_json::json;
///
/// let request = json!({"model": "claude-sonnet-4-5", "max_tokens": 1024,
///     "tools": [{"name": "get_weather", "description": "Weather.", "input_schema": {"type": "object"}}],
///     "messages": [{"role": "user", "content": [{"type": "text", "text": "Weather in Oslo?"}]}]});
/// let message = examples::demo::messages_api::answer(&request);
/// assert_eq!(message["stop_reason"], "tool_use");
/// assert_eq!(message["content"][1]["input"], json!({"city": "Oslo"}));
/// ```
pub fn answer(body: &Value) -> Value {
    let conversation = conversation(body);
    let (content, stop_reason) = match decide(&conversation) {
        Answer::Text(text) => (json!([{"type": "text", "text": text}]), "end_turn"),
        Answer::Call { note, id, name, input } => (
            json!([{"type": "text", "text": note}, {"type": "tool_use", "id": id, "name": name, "input": input}]),
            "tool_use",
        ),
    };
    let input_tokens = body.to_string().len() / 4 + 1;
    let output_tokens = content.to_string().len() / 4 + 1;
    json!({
        "id": format!("msg_demo_{}", conversation.messages),
        "type": "message",
        "role": "assistant",
        "model": body.get("model").cloned().unwrap_or(Value::Null),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}
    })
}

/// What the brain sees of a Messages API request.
fn conversation(body: &Value) -> Conversation {
    let messages = body.get("messages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let tools = body.get("tools").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    Conversation {
        system: body.get("system").map(text_of).unwrap_or_default(),
        tools: tools.iter().filter_map(|tool| tool.get("name").and_then(Value::as_str)).map(str::to_owned).collect(),
        last: messages
            .iter()
            .rev()
            .find(|message| message.get("role").and_then(Value::as_str) == Some("user"))
            .map(last_turn)
            .unwrap_or_default(),
        messages: messages.len(),
        output_schema: body.pointer("/output_config/format/schema").cloned(),
    }
}

fn last_turn(message: &Value) -> LastTurn {
    let content = message.get("content").cloned().unwrap_or(Value::Null);
    let blocks = content.as_array().map(Vec::as_slice).unwrap_or_default();
    let results: Vec<ToolOutcome> = blocks
        .iter()
        .filter(|block| block.get("type").and_then(Value::as_str) == Some("tool_result"))
        .map(|block| ToolOutcome {
            text: block.get("content").map(text_of).unwrap_or_default(),
            is_error: block.get("is_error").and_then(Value::as_bool).unwrap_or(false),
        })
        .collect();
    if results.is_empty() { LastTurn::Prompt(text_of(&content)) } else { LastTurn::ToolResults(results) }
}

/// The text of a string or of the `text` blocks of a list.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|block| block.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|block| block.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

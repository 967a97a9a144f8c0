//! The fake's request checks: what the API rejects, answered with the API's error bodies.
//!
//! Written from the API reference independently of the client's pre-send
//! rules (only the model catalog and the structured-output schema rules are
//! shared data), so a request the client should have refused, or built
//! wrong, fails here as it would in production.

use axum::http::{HeaderMap, Method};
use serde_json::{Map, Value};

use super::FakeOptions;
use super::params;
use crate::betas;
use crate::catalog;
use crate::wire::content::block_type;

/// A request the fake refuses.
#[derive(Debug)]
pub(super) struct Rejection {
    pub(super) status: u16,
    pub(super) error_type: &'static str,
    pub(super) message: String,
}

impl Rejection {
    /// A `400 invalid_request_error`.
    pub(super) fn invalid(message: impl Into<String>) -> Self {
        Self { status: 400, error_type: "invalid_request_error", message: message.into() }
    }

    fn unauthorized(message: &str) -> Self {
        Self { status: 401, error_type: "authentication_error", message: message.into() }
    }
}

pub(super) type Checked = Result<(), Rejection>;

/// What the checks know beyond the request.
pub(super) struct Context<'a> {
    pub(super) options: &'a FakeOptions,
    /// Content of `pause_turn` messages the fake served.
    pub(super) paused: &'a [Vec<Value>],
}

/// Checks one request.
pub(super) fn check(context: &Context<'_>, method: &Method, path: &str, headers: &HeaderMap, body: &Value) -> Checked {
    check_headers(headers)?;
    let messages_call = match (method.as_str(), path) {
        ("POST", "/v1/messages") => true,
        ("POST", "/v1/messages/count_tokens") => false,
        _ => return Ok(()),
    };
    let Value::Object(body) = body else { return Err(Rejection::invalid("the request body must be a JSON object")) };
    let betas = beta_list(headers);
    let model = body.get("model").and_then(Value::as_str).ok_or_else(|| Rejection::invalid("model: Field required"))?;
    if messages_call {
        params::check_generation(body, model)?;
    }
    check_messages(context, body, model, &betas)?;
    params::check_tools(body)?;
    params::check_output(body)?;
    params::check_cache(body)?;
    params::check_betas(body, &betas)?;
    Ok(())
}

fn check_headers(headers: &HeaderMap) -> Checked {
    let has = |name: &str| headers.get(name).is_some_and(|value| !value.is_empty());
    if !has("anthropic-version") {
        return Err(Rejection::invalid("anthropic-version: header is required"));
    }
    match (has("x-api-key"), has("authorization")) {
        (false, false) => Err(Rejection::unauthorized("x-api-key header is required")),
        (true, true) => Err(Rejection::unauthorized("send either x-api-key or Authorization, not both")),
        _ => Ok(()),
    }
}

/// The `anthropic-beta` ids of the request.
fn beta_list(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("anthropic-beta")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|beta| beta.trim().to_owned())
        .filter(|beta| !beta.is_empty())
        .collect()
}

fn role(message: &Value) -> &str {
    message.get("role").and_then(Value::as_str).unwrap_or("")
}

fn blocks(message: &Value) -> &[Value] {
    message.get("content").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// Roles, order, content blocks, prefill, system messages and tool pairing.
fn check_messages(context: &Context<'_>, body: &Map<String, Value>, model: &str, betas: &[String]) -> Checked {
    let messages = match body.get("messages") {
        Some(Value::Array(messages)) if !messages.is_empty() => messages,
        Some(Value::Array(_)) => return Err(Rejection::invalid("messages: at least one message is required")),
        _ => return Err(Rejection::invalid("messages: Field required")),
    };
    if role(&messages[0]) != "user" {
        return Err(Rejection::invalid("messages: the first message must use the \"user\" role"));
    }
    let mut previous: Option<&Value> = None;
    for (index, message) in messages.iter().enumerate() {
        match role(message) {
            "user" | "assistant" => {}
            "system" => {
                check_system_message(context, message, previous, index, model, betas)?;
                continue;
            }
            other => return Err(Rejection::invalid(format!("messages.{index}.role: unknown role `{other}`"))),
        }
        if let Some(previous) = previous
            && role(previous) == role(message)
        {
            return Err(Rejection::invalid("messages: roles must alternate between \"user\" and \"assistant\""));
        }
        check_content(message, index)?;
        previous = Some(message);
    }
    check_tool_pairing(messages)?;
    check_trailing_assistant(context, body, messages, model)
}

fn check_system_message(
    context: &Context<'_>,
    message: &Value,
    previous: Option<&Value>,
    index: usize,
    model: &str,
    betas: &[String],
) -> Checked {
    let unsupported = catalog::lookup(model).is_some_and(|caps| !caps.mid_conversation_system)
        || context.options.models_without_system_messages.iter().any(|entry| entry == model);
    if unsupported {
        return Err(Rejection::invalid("role 'system' is not supported on this model"));
    }
    if !betas.iter().any(|beta| beta == betas::MID_CONVERSATION_SYSTEM) {
        return Err(Rejection::invalid(format!(
            "messages.{index}: role 'system' requires the `{}` beta",
            betas::MID_CONVERSATION_SYSTEM
        )));
    }
    let follows = match previous {
        Some(message) if role(message) == "user" => true,
        Some(message) => blocks(message).last().is_some_and(|block| block_type(block).ends_with("_tool_result")),
        None => false,
    };
    if !follows {
        return Err(Rejection::invalid(format!(
            "messages.{index}: a system message must follow a user message or a server tool result"
        )));
    }
    let text_only = match message.get("content") {
        Some(Value::String(text)) => !text.trim().is_empty(),
        Some(Value::Array(blocks)) => blocks.iter().all(|block| block_type(block) == "text"),
        _ => false,
    };
    if !text_only {
        return Err(Rejection::invalid(format!("messages.{index}: system message content must be non-empty text")));
    }
    Ok(())
}

/// Block types the API takes in messages.
fn known_block(kind: &str) -> bool {
    matches!(
        kind,
        "text"
            | "image"
            | "document"
            | "search_result"
            | "tool_use"
            | "tool_result"
            | "thinking"
            | "redacted_thinking"
            | "server_tool_use"
            | "mcp_tool_use"
            | "container_upload"
            | "compaction"
            | "fallback"
    ) || kind.ends_with("_tool_result")
}

fn check_content(message: &Value, index: usize) -> Checked {
    let content = match message.get("content") {
        Some(Value::String(text)) if text.trim().is_empty() => {
            return Err(Rejection::invalid(format!("messages.{index}: content must contain non-whitespace text")));
        }
        Some(Value::String(_)) => return Ok(()),
        Some(Value::Array(content)) if content.is_empty() && role(message) == "user" => {
            return Err(Rejection::invalid(format!("messages.{index}: user messages must have non-empty content")));
        }
        Some(Value::Array(content)) => content,
        _ => return Err(Rejection::invalid(format!("messages.{index}.content: Field required"))),
    };
    for (position, block) in content.iter().enumerate() {
        let kind = block_type(block);
        if !known_block(kind) {
            return Err(Rejection::invalid(format!(
                "messages.{index}.content.{position}: Input tag '{kind}' found using 'type' does not match any of the expected tags"
            )));
        }
        let blank = |block: &Value| {
            block_type(block) == "text"
                && block.get("text").and_then(Value::as_str).is_none_or(|text| text.trim().is_empty())
        };
        let nested = block.get("content").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        if blank(block) || (kind == "tool_result" && nested.iter().any(blank)) {
            return Err(Rejection::invalid(format!(
                "messages.{index}.content.{position}: text content blocks must contain non-whitespace text"
            )));
        }
        if kind == "tool_use" && !["id", "name"].iter().all(|field| block.get(*field).is_some_and(Value::is_string)) {
            return Err(Rejection::invalid(format!(
                "messages.{index}.content.{position}: tool_use needs `id` and `name`"
            )));
        }
    }
    Ok(())
}

/// Every `tool_use` is answered in the next (user) message, and every
/// `tool_result` answers a `tool_use` of the message before it.
fn check_tool_pairing(messages: &[Value]) -> Checked {
    let turns: Vec<&Value> = messages.iter().filter(|message| role(message) != "system").collect();
    let ids = |message: &Value, kind: &str, field: &str| -> Vec<String> {
        blocks(message)
            .iter()
            .filter(|block| block_type(block) == kind)
            .filter_map(|block| block.get(field).and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    for (index, turn) in turns.iter().enumerate() {
        if role(turn) == "assistant"
            && let Some(next) = turns.get(index + 1)
        {
            let answered = ids(next, "tool_result", "tool_use_id");
            let missing: Vec<String> =
                ids(turn, "tool_use", "id").into_iter().filter(|id| !answered.contains(id)).collect();
            if !missing.is_empty() {
                return Err(Rejection::invalid(format!(
                    "messages.{}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. \
                     Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                    index + 1,
                    missing.join(", ")
                )));
            }
        }
        if role(turn) == "user" {
            let offered = if index == 0 { Vec::new() } else { ids(turns[index - 1], "tool_use", "id") };
            if let Some(stray) = ids(turn, "tool_result", "tool_use_id").into_iter().find(|id| !offered.contains(id)) {
                return Err(Rejection::invalid(format!(
                    "messages.{index}.content: unexpected `tool_use_id` found in `tool_result` blocks: {stray}. \
                     Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                )));
            }
        }
    }
    Ok(())
}

/// A trailing assistant turn is a prefill: refused on models without
/// prefill unless it resumes a `pause_turn` (content this fake served with
/// `pause_turn`, or a turn ending in server tool activity) or redeems a
/// fallback-credit prefill claim. A prefill may not end in whitespace.
fn check_trailing_assistant(
    context: &Context<'_>,
    body: &Map<String, Value>,
    messages: &[Value],
    model: &str,
) -> Checked {
    let Some(last) = messages.last().filter(|message| role(message) == "assistant") else { return Ok(()) };
    let content = blocks(last);
    let resumes_pause = context.paused.iter().any(|paused| !paused.is_empty() && content.starts_with(paused))
        || content.last().is_some_and(|block| {
            let kind = block_type(block);
            kind == "server_tool_use" || kind == "mcp_tool_use" || kind.ends_with("_tool_result")
        });
    let claims_credit = body.contains_key("fallback_credit_token");
    if let Some(caps) = catalog::lookup(model)
        && !caps.prefill
        && !resumes_pause
        && !claims_credit
    {
        return Err(Rejection::invalid(
            "This model does not support assistant message prefill. The conversation must end with a user message.",
        ));
    }
    let trailing_space = content.last().is_some_and(|block| {
        block_type(block) == "text"
            && block.get("text").and_then(Value::as_str).is_some_and(|text| text != text.trim_end())
    });
    if trailing_space && !resumes_pause {
        return Err(Rejection::invalid("final assistant content cannot end with trailing whitespace"));
    }
    Ok(())
}

//! Pre-send checks on the conversation: its shape, the prefill rule, blank text blocks, and cache breakpoints.

use serde_json::{Map, Value};

use super::reject;
use crate::catalog::ModelCapabilities;
use crate::error::Result;
use crate::wire::content::{block_type, cacheable};
use crate::wire::request::WireRequest;

/// The most `cache_control` breakpoints one request may carry.
const MAX_CACHE_BREAKPOINTS: usize = 4;

/// A conversation starts with the user and, on models without prefill, ends
/// with the user unless the trailing assistant turn is a `pause_turn` being
/// resumed or a fallback-credit prefill claim.
pub(super) fn check_conversation(wire: &WireRequest, caps: Option<&ModelCapabilities>) -> Result<()> {
    let messages = wire.messages();
    let role = |message: &Value| message.get("role").and_then(Value::as_str).unwrap_or("").to_owned();
    let Some(first) = messages.first() else {
        return reject("the conversation is empty: send at least one user message");
    };
    if role(first) != "user" {
        return reject("the first message must come from the user");
    }
    let ends_with_assistant = messages.last().is_some_and(|last| role(last) == "assistant");
    if let Some(caps) = caps
        && ends_with_assistant
        && !caps.prefill
        && !wire.resume
        && !wire.prefill_claim
    {
        return reject(format!(
            "`{}` does not accept assistant prefill: the conversation ends with an assistant message. \
             Use structured output (`output_schema`) or instructions to shape the answer instead; \
             to resume a `pause_turn`, set `ModelRequest::resume`",
            caps.id
        ));
    }
    Ok(())
}

/// Text blocks must hold more than whitespace (the API's 400 otherwise).
pub(super) fn check_blocks(body: &Map<String, Value>) -> Result<()> {
    let system = body.get("system").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if system.iter().any(is_blank_text) {
        return reject("the system prompt has an empty text block");
    }
    let messages = body.get("messages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for (index, message) in messages.iter().enumerate() {
        let blank = match message.get("content") {
            Some(Value::Array(blocks)) => blocks.iter().any(|block| {
                is_blank_text(block)
                    || block
                        .get("content")
                        .and_then(Value::as_array)
                        .is_some_and(|nested| nested.iter().any(is_blank_text))
            }),
            Some(Value::String(text)) => text.trim().is_empty(),
            _ => false,
        };
        if blank && index + 1 == messages.len() && message.get("role").and_then(Value::as_str) == Some("user") {
            return reject("the prompt is empty: the last user message has no text; send a non-empty prompt");
        }
        if blank {
            return reject(format!(
                "message {index} has an empty text block; text blocks must hold non-whitespace text"
            ));
        }
    }
    Ok(())
}

fn is_blank_text(block: &Value) -> bool {
    block_type(block) == "text" && block.get("text").and_then(Value::as_str).is_none_or(|text| text.trim().is_empty())
}

/// At most four breakpoints, each on a block that may carry one: system
/// text, tool definitions, and message text, image, document, tool call and
/// tool result blocks; not thinking, server tool blocks or blank text.
pub(super) fn check_cache_breakpoints(body: &Map<String, Value>) -> Result<()> {
    let mut total = usize::from(body.contains_key("cache_control"));
    let tools = body.get("tools").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    total += tools.iter().filter(|tool| tool.get("cache_control").is_some()).count();
    let system = body.get("system").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for block in system.iter().filter(|block| block.get("cache_control").is_some()) {
        total += 1;
        if !cacheable(block) {
            return reject("a `cache_control` breakpoint on the system prompt must be on a non-empty text block");
        }
    }
    let messages = body.get("messages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for (index, message) in messages.iter().enumerate() {
        let blocks = message.get("content").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for block in blocks {
            total += nested_breakpoints(block);
            if block.get("cache_control").is_none() {
                continue;
            }
            total += 1;
            if !cacheable(block) {
                return reject(format!(
                    "message {index}: a `{}` block cannot carry `cache_control`; breakpoints go on text, image, \
                     document, tool_use and tool_result blocks",
                    block_type(block)
                ));
            }
        }
    }
    if total > MAX_CACHE_BREAKPOINTS {
        return reject(format!(
            "{total} `cache_control` breakpoints; a request may carry at most {MAX_CACHE_BREAKPOINTS}"
        ));
    }
    Ok(())
}

/// Breakpoints inside a tool result's content blocks.
fn nested_breakpoints(block: &Value) -> usize {
    block
        .get("content")
        .and_then(Value::as_array)
        .map_or(0, |nested| nested.iter().filter(|inner| inner.get("cache_control").is_some()).count())
}

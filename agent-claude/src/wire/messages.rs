//! The conversation as the API takes it: turns merged by role, system messages placed, fallback turns echoed, cache breakpoints.

use std::collections::HashSet;

use agent_core::{ContentBlock, Message, Role};
use serde_json::{Value, json};

use crate::state;
use crate::system::{self, SystemMessages};
use crate::wire::content::{block_to_wire, block_type, cacheable};

/// One turn being assembled.
enum Turn {
    User(Vec<Value>),
    Assistant(Vec<Value>),
    System(String),
}

/// The conversation as wire messages, and whether any went out as `role: "system"`.
///
/// Consecutive messages of one role merge into one turn (a second
/// `pause_turn` resume appends to the paused assistant turn); blank assistant
/// text and the client's state markers are dropped; assistant turns after a
/// mid-output server fallback are echoed as the spec requires; system markers
/// become system turns or `<system-reminder>` text (see [`crate::system`]).
pub(crate) fn to_wire(messages: &[Message], mode: SystemMessages) -> (Vec<Value>, bool) {
    let mut turns: Vec<Turn> = Vec::new();
    for message in messages {
        match message.role {
            Role::Assistant => {
                let mut blocks = echo_fallback_turn(&message.content);
                if blocks.is_empty() {
                    // Nothing to send (blank text, state markers only): the turns around it merge.
                    continue;
                }
                match turns.last_mut() {
                    Some(Turn::Assistant(content)) => content.append(&mut blocks),
                    _ => turns.push(Turn::Assistant(blocks)),
                }
            }
            Role::User => {
                for block in message.content.iter().map(block_to_wire) {
                    if state::is_marker(&block) {
                        continue;
                    }
                    match system::marker_text(&block) {
                        Some(text) => push_system(&mut turns, text, mode),
                        None => push_user(&mut turns, block),
                    }
                }
            }
        }
    }
    let mut sent_system = false;
    let wire = turns
        .into_iter()
        .filter_map(|turn| match turn {
            Turn::User(content) if !content.is_empty() => Some(json!({"role": "user", "content": content})),
            Turn::Assistant(content) if !content.is_empty() => Some(json!({"role": "assistant", "content": content})),
            Turn::System(text) => {
                sent_system = true;
                Some(json!({"role": "system", "content": text}))
            }
            _ => None,
        })
        .collect();
    (wire, sent_system)
}

fn push_user(turns: &mut Vec<Turn>, block: Value) {
    match turns.last_mut() {
        Some(Turn::User(content)) => content.push(block),
        _ => turns.push(Turn::User(vec![block])),
    }
}

/// A system message where the API takes one (after a user turn, or after an
/// assistant turn ending in a server tool result, never first), the
/// `<system-reminder>` fallback elsewhere.
fn push_system(turns: &mut Vec<Turn>, text: &str, mode: SystemMessages) {
    let placeable = match turns.last() {
        Some(Turn::User(content)) => !content.is_empty(),
        Some(Turn::Assistant(content)) => {
            content.last().is_some_and(|block| block_type(block).ends_with("_tool_result"))
        }
        Some(Turn::System(_)) => true,
        None => false,
    };
    if mode == SystemMessages::Reminder || !placeable {
        push_user(turns, system::reminder(text));
        return;
    }
    match turns.last_mut() {
        Some(Turn::System(existing)) => {
            existing.push_str("\n\n");
            existing.push_str(text);
        }
        _ => turns.push(Turn::System(text.to_owned())),
    }
}

/// An assistant turn's blocks. Before the last `fallback` block, model-internal
/// blocks of the model that declined (thinking, tool calls, unpaired server
/// tool calls, unknown types) are omitted; text, paired server tool blocks
/// and everything after the boundary echo normally.
fn echo_fallback_turn(content: &[ContentBlock]) -> Vec<Value> {
    let wire: Vec<Value> = content
        .iter()
        .filter(|block| !matches!(block, ContentBlock::Text { text, .. } if text.trim().is_empty()))
        .map(block_to_wire)
        .filter(|block| !state::is_marker(block))
        .collect();
    let Some(boundary) = wire.iter().rposition(|block| block_type(block) == "fallback") else {
        return wire;
    };
    let result_ids: HashSet<&str> = wire[..boundary]
        .iter()
        .filter(|block| block_type(block).ends_with("_tool_result"))
        .filter_map(|block| block.get("tool_use_id").and_then(Value::as_str))
        .collect();
    let mut kept: Vec<Value> = wire[..boundary]
        .iter()
        .filter(|block| match block_type(block) {
            "text" | "fallback" => true,
            "server_tool_use" | "mcp_tool_use" => {
                block.get("id").and_then(Value::as_str).is_some_and(|id| result_ids.contains(id))
            }
            kind => kind.ends_with("_tool_result"),
        })
        .cloned()
        .collect();
    kept.extend(wire[boundary..].iter().cloned());
    kept
}

/// Puts a breakpoint on the last block of the conversation that may carry one
/// (text, image, document, tool call or result: not thinking, server tool
/// blocks or empty text), unless that block already has one.
pub(crate) fn mark_last_cacheable(messages: &mut [Value], cache_control: Value) {
    for message in messages.iter_mut().rev() {
        let Some(blocks) = message.get_mut("content").and_then(Value::as_array_mut) else { continue };
        for block in blocks.iter_mut().rev() {
            if block.get("cache_control").is_some() {
                return;
            }
            if cacheable(block) {
                block["cache_control"] = cache_control;
                return;
            }
        }
    }
}

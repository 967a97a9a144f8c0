//! Mid-conversation `role: "system"` messages (beta `mid-conversation-system-2026-04-07`) and their fallback.
//!
//! Core messages have no system role, so [`system_message`] builds a user
//! message holding one marker block (`{"type": "claude_system", "text"}`).
//! The client sends each marker as a `{"role": "system"}` message where the
//! API takes one: right after a user turn (or an assistant turn ending in a
//! server tool result), never first, on a model that supports it, with the
//! beta header. Elsewhere, and on models the catalog lists without support,
//! it sends the fallback the API reference describes: the instruction as a
//! `<system-reminder>` text block in the user turn. A model the catalog does
//! not know gets the system message, and when it answers `role 'system' is
//! not supported on this model` the request is sent once more with the
//! fallback.

use agent_core::{ContentBlock, Message, Role};
use serde_json::{Value, json};

/// The marker block type of a mid-conversation system message.
pub(crate) const SYSTEM_MARKER: &str = "claude_system";

/// A mid-conversation operator instruction, sent as a `role: "system"`
/// message where the model takes one and as a `<system-reminder>` in the
/// user turn elsewhere.
///
/// Append it after the user message it follows. Unlike editing the top-level
/// instructions, it leaves the cached prefix of the conversation intact.
///
/// # Example
///
/// ```
/// use agent_core::Message;
///
/// let messages = vec![Message::user("Summarize the report."), agent_claude::system_message("Terse mode: under 40 words.")];
/// assert_eq!(messages.len(), 2);
/// ```
pub fn system_message(text: impl Into<String>) -> Message {
    Message::new(Role::User, vec![ContentBlock::Other(json!({"type": SYSTEM_MARKER, "text": text.into()}))])
}

/// How the client sends system markers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SystemMessages {
    /// As `role: "system"` messages where the API takes them.
    Native,
    /// As `<system-reminder>` text in the user turn.
    Reminder,
}

/// The instruction of a system marker, when `block` is one.
pub(crate) fn marker_text(block: &Value) -> Option<&str> {
    (block.get("type").and_then(Value::as_str) == Some(SYSTEM_MARKER))
        .then(|| block.get("text").and_then(Value::as_str).unwrap_or(""))
}

/// The fallback form of an instruction.
pub(crate) fn reminder(text: &str) -> Value {
    json!({"type": "text", "text": format!("<system-reminder>\n{text}\n</system-reminder>")})
}

/// Whether an API error is the model's refusal of system messages.
pub(crate) fn is_unsupported(err: &crate::Error) -> bool {
    err.status() == Some(400) && err.to_string().contains("role 'system' is not supported")
}

//! Server-side state in responses: the code-execution `container` and `context_management`, kept in the conversation.
//!
//! The API answers a request that used code execution with the container it
//! ran in (`{"id", "expires_at"}`), and a request with context editing with
//! what it applied (`context_management`). Core responses have no field for
//! provider state, so the client appends each as a marker block to the
//! response content (`{"type": "claude_container", ...}`,
//! `{"type": "claude_context_management", ...}`). The markers travel with the
//! conversation (and its stored sessions): when the conversation goes out
//! again, the client removes them from the messages and sends the latest
//! unexpired container id as the top-level `container` parameter, so later
//! turns reuse the container's files and state, as the API reference shows.
//! A `container` request option wins over the conversation's.

use std::time::{SystemTime, UNIX_EPOCH};

use agent_core::{ContentBlock, Message, ModelResponse};
use serde_json::{Value, json};

/// The marker block type of a container.
pub(crate) const CONTAINER_MARKER: &str = "claude_container";
/// The marker block type of context-management data.
pub(crate) const CONTEXT_MANAGEMENT_MARKER: &str = "claude_context_management";

/// A code-execution container the API ran tools in.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Container {
    /// The container id, sent back as the `container` parameter to reuse it.
    pub id: String,
    /// When the container expires (RFC 3339), when the API said.
    pub expires_at: Option<String>,
}

impl Container {
    /// The container a response ran in.
    ///
    /// # Example
    ///
    /// ```
    /// use agent_claude::Container;
    /// use agent_core::{ContentBlock, ModelResponse};
    ///
    /// let response = ModelResponse {
    ///     content: vec![ContentBlock::Other(serde_json::json!({"type": "claude_container", "id": "container_1"}))],
    ///     ..Default::default()
    /// };
    /// assert_eq!(Container::of(&response).map(|container| container.id), Some("container_1".to_owned()));
    /// ```
    pub fn of(response: &ModelResponse) -> Option<Self> {
        response.content.iter().rev().find_map(Self::from_block)
    }

    /// The latest container of a conversation that has not expired: the one
    /// the client sends with the next request.
    pub fn latest(messages: &[Message]) -> Option<Self> {
        let now = rfc3339_now();
        messages
            .iter()
            .rev()
            .flat_map(|message| message.content.iter().rev())
            .filter_map(Self::from_block)
            .find(|container| container.expires_at.as_deref().is_none_or(|expiry| !expired(expiry, &now)))
    }

    fn from_block(block: &ContentBlock) -> Option<Self> {
        let ContentBlock::Other(value) = block else { return None };
        if value.get("type").and_then(Value::as_str) != Some(CONTAINER_MARKER) {
            return None;
        }
        let id = value.get("id").and_then(Value::as_str).filter(|id| !id.is_empty())?.to_owned();
        let expires_at = value.get("expires_at").and_then(Value::as_str).map(str::to_owned);
        Some(Self { id, expires_at })
    }
}

/// The `context_management` data of a response (the edits the API applied).
pub fn context_management(response: &ModelResponse) -> Option<&Value> {
    response.content.iter().rev().find_map(|block| match block {
        ContentBlock::Other(value) if value.get("type").and_then(Value::as_str) == Some(CONTEXT_MANAGEMENT_MARKER) => {
            value.get("context_management")
        }
        _ => None,
    })
}

/// The marker blocks for a response's `container` and `context_management`.
pub(crate) fn markers(container: Option<&Value>, context_management: Option<&Value>) -> Vec<Value> {
    let mut out = Vec::new();
    match container {
        Some(Value::Object(fields)) if fields.get("id").is_some_and(Value::is_string) => {
            let mut marker = json!({"type": CONTAINER_MARKER, "id": fields["id"]});
            if let Some(expires_at) = fields.get("expires_at").filter(|value| value.is_string()) {
                marker["expires_at"] = expires_at.clone();
            }
            out.push(marker);
        }
        Some(Value::String(id)) if !id.is_empty() => out.push(json!({"type": CONTAINER_MARKER, "id": id})),
        _ => {}
    }
    if let Some(data) = context_management.filter(|data| !data.is_null()) {
        out.push(json!({"type": CONTEXT_MANAGEMENT_MARKER, "context_management": data}));
    }
    out
}

/// Whether a wire block is one of the client's state markers.
pub(crate) fn is_marker(block: &Value) -> bool {
    matches!(block.get("type").and_then(Value::as_str), Some(CONTAINER_MARKER | CONTEXT_MANAGEMENT_MARKER))
}

/// Whether RFC 3339 `expiry` is at or before `now` (both UTC, `Z`); other
/// forms are taken as unexpired and left to the API to judge.
fn expired(expiry: &str, now: &str) -> bool {
    let comparable = |text: &str| text.len() >= 19 && text.ends_with('Z');
    // Whole seconds compare as text: `YYYY-MM-DDTHH:MM:SS`.
    comparable(expiry) && comparable(now) && expiry[..19] <= now[..19]
}

/// The current time as RFC 3339 UTC (`2026-01-02T03:04:05Z`).
fn rfc3339_now() -> String {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Year, month and day of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_expiry() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
        let now = rfc3339_now();
        assert!(now.len() == 20 && now.ends_with('Z') && now.as_str() > "2024-01-01T00:00:00Z", "{now}");
        assert!(expired("2020-05-01T00:00:00.123456Z", &now));
        assert!(!expired("2999-01-01T00:00:00Z", &now));
        assert!(!expired("2020-05-01T00:00:00+02:00", &now), "other forms are left to the API");
    }

    #[test]
    fn the_latest_unexpired_container_wins() {
        let block = |id: &str, expiry: &str| {
            ContentBlock::Other(json!({"type": CONTAINER_MARKER, "id": id, "expires_at": expiry}))
        };
        let messages = vec![
            Message::new(agent_core::Role::Assistant, vec![block("old", "2999-01-01T00:00:00Z")]),
            Message::new(agent_core::Role::Assistant, vec![block("expired", "2020-01-01T00:00:00Z")]),
        ];
        assert_eq!(Container::latest(&messages).map(|container| container.id).as_deref(), Some("old"));
        assert_eq!(
            markers(Some(&json!("c1")), Some(&Value::Null)),
            vec![json!({"type": CONTAINER_MARKER, "id": "c1"})]
        );
    }
}

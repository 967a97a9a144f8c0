//! A run's history: loaded from the session before it, closed (no tool call
//! without its result) when it fails.

use super::AgentInner;
use crate::error::Error;
use crate::message::{ContentBlock, Message, Role};
use crate::persist::SessionSlot;
use crate::session::{RunRecord, RunStatus, StoreError};

/// The history a run starts from: the given messages, or the session's
/// recent finished runs, trimmed to the agent's token budget.
pub(super) async fn load<D>(
    agent: &AgentInner<D>,
    slot: Option<&SessionSlot>,
    given: Option<Vec<Message>>,
) -> Result<Vec<Message>, StoreError> {
    if let Some(history) = given {
        return Ok(history);
    }
    let (Some(store), Some(slot)) = (&agent.store, slot) else { return Ok(Vec::new()) };
    let runs = store.runs(&slot.session.session_id, agent.settings.history_runs).await?;
    let mut messages = history_messages(&runs, agent.settings.history_runs);
    if let Some(budget) = agent.settings.history_token_budget {
        trim_to_budget(&mut messages, budget);
    }
    Ok(messages)
}

/// The messages of the last `last` finished runs, oldest first. Paused and
/// running runs are left out: their last tool calls have no results yet.
pub(crate) fn history_messages(runs: &[RunRecord], last: Option<usize>) -> Vec<Message> {
    let finished: Vec<&RunRecord> =
        runs.iter().filter(|run| !matches!(run.status, RunStatus::Paused | RunStatus::Running)).collect();
    let skip = last.map_or(0, |last| finished.len().saturating_sub(last));
    finished[skip..].iter().flat_map(|run| run.messages.iter().cloned()).collect()
}

/// Drops the oldest messages until the estimated size fits `budget` tokens,
/// cutting only where a user text message starts a new exchange (so no tool
/// result loses its call).
pub(crate) fn trim_to_budget(messages: &mut Vec<Message>, budget: usize) {
    let sizes: Vec<usize> = messages.iter().map(estimate_tokens).collect();
    let mut total: usize = sizes.iter().sum();
    let mut cut = 0;
    while total > budget && cut < messages.len() {
        total -= sizes[cut];
        cut += 1;
        // Advance to the next message that can start a conversation.
        while cut < messages.len() && !starts_exchange(&messages[cut]) {
            total -= sizes[cut];
            cut += 1;
        }
    }
    messages.drain(..cut);
}

fn starts_exchange(message: &Message) -> bool {
    message.role == Role::User && !message.content.iter().any(|b| matches!(b, ContentBlock::ToolResult { .. }))
}

/// A rough token count: about four bytes of JSON per token.
pub(crate) fn estimate_tokens(message: &Message) -> usize {
    serde_json::to_string(message).map_or(0, |json| json.len() / 4 + 1)
}

/// Gives every tool call of the run that has no result an error result, in
/// call order right after its call, so a failed or cancelled run leaves a
/// valid conversation behind. `from` is where the run's messages start.
pub(super) fn close_open_tool_calls(messages: &mut Vec<Message>, from: usize, error: &Error) {
    let mut run = messages.split_off(from.min(messages.len()));
    let note = format!("the run ended before this tool call completed: {}", error.report());
    crate::session::close::close_open_tool_calls(&mut run, &note);
    messages.append(&mut run);
}

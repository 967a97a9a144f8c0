//! Loading a session's history before a run and saving the run after it.

use serde_json::{Map, Value};

use super::run::Run;
use super::{AgentInner, RunOptions};
use crate::error::{Error, Result};
use crate::hitl::PausedRun;
use crate::message::{ContentBlock, Message, Role, ToolResultContent};
use crate::session::{RunRecord, RunStatus, Session, StoreError, unix_now};

/// What a run starts from.
pub(super) struct Loaded {
    pub(super) session: Option<Session>,
    pub(super) messages: Vec<Message>,
    pub(super) state: Map<String, Value>,
}

/// Loads the session and its recent history, unless the options give them.
pub(super) async fn load<D>(agent: &AgentInner<D>, options: &RunOptions<D>) -> Result<Loaded> {
    let mut loaded = Loaded { session: None, messages: Vec::new(), state: Map::new() };
    if let (Some(store), Some(session_id)) = (&agent.store, &options.session_id) {
        loaded.session = store.session(session_id).await?;
        if options.history.is_none() {
            let runs = store.runs(session_id, agent.settings.history_runs).await?;
            loaded.messages = history_messages(&runs, agent.settings.history_runs);
            if let Some(budget) = agent.settings.history_token_budget {
                trim_to_budget(&mut loaded.messages, budget);
            }
        }
        if let Some(session) = &loaded.session {
            loaded.state = session.state.clone();
        }
    }
    if let Some(history) = &options.history {
        loaded.messages = history.clone();
    }
    if let Some(state) = &options.session_state {
        loaded.state = state.clone();
    }
    Ok(loaded)
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

/// Gives every tool call of the run that has no result an error result, so a
/// failed or cancelled run leaves a valid conversation behind.
pub(super) fn close_open_tool_calls(messages: &mut Vec<Message>, from: usize, error: &Error) {
    let Some(last) = messages.get(from..).and_then(|run| run.last()) else { return };
    if last.role != Role::Assistant {
        return;
    }
    let open: Vec<String> = last.tool_calls().map(|call| call.id.to_owned()).collect();
    if open.is_empty() {
        return;
    }
    let message = format!("the run ended before this tool call completed: {error}");
    let results = open
        .into_iter()
        .map(|id| ContentBlock::tool_result(id, ToolResultContent::Text(message.clone()), true))
        .collect();
    messages.push(Message::new(Role::User, results));
}

impl<D: Send + Sync + 'static> Run<'_, D> {
    /// Saves the run and its session, when the agent has a store and the run a
    /// session id.
    pub(super) async fn save(
        &mut self,
        status: RunStatus,
        output: Option<String>,
        error: Option<String>,
        paused: Option<PausedRun>,
    ) -> Result<(), StoreError> {
        let (Some(store), Some(session_id)) = (&self.agent.store, self.ctx.session_id()) else { return Ok(()) };
        let now = unix_now();
        let mut session = self.session.take().unwrap_or_else(|| Session::new(session_id, self.agent.session_type));
        if session.component_id.is_none() {
            session.component_id = self.agent.id.as_deref().map(str::to_owned);
        }
        if session.user_id.is_none() {
            session.user_id.clone_from(&self.user_id);
        }
        session.state = self.ctx.session_state().clone();
        if let Some(summary) = self.new_summary.take() {
            session.summary = Some(summary);
        }
        session.updated_at = now;
        let record = RunRecord {
            run_id: self.ctx.run_id().to_owned(),
            session_id: session_id.to_owned(),
            parent_run_id: self.parent_run_id.clone(),
            component_id: self.agent.id.as_deref().map(str::to_owned),
            user_id: self.user_id.clone(),
            status,
            input: self.input_text.clone(),
            output,
            messages: self.request.messages[self.history_len..].to_vec(),
            events: Vec::new(),
            metrics: serde_json::to_value(&self.metrics).unwrap_or(Value::Null),
            paused,
            error,
            created_at: self.created_at,
            updated_at: now,
        };
        let saved = store.save_run(&session, &record).await;
        self.session = Some(session);
        saved
    }
}

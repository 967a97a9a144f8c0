//! `Run`: the state of one agent run in progress, and how it reports events.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::time::Instant;

use super::AgentInner;
use super::structured::Structured;
use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::event::{EventScope, EventSink, RunEvent, RunEventKind, ToolExecution};
use crate::hitl::LoopCounters;
use crate::limits::Budget;
use crate::message::{Role, StopReason, ToolResultContent};
use crate::model::ModelRequest;
use crate::output::RunMetrics;
use crate::persist::SessionSlot;
use crate::session::{SessionSummary, unix_now};

/// One run in progress: the conversation sent to the model and the loop's state.
pub(crate) struct Run<'a, D> {
    pub(super) agent: &'a AgentInner<D>,
    pub(super) ctx: RunContext<D>,
    pub(super) request: ModelRequest,
    /// `request.messages[..history_len]` is history; the rest is this run's.
    pub(super) history_len: usize,
    pub(super) counters: LoopCounters,
    pub(super) metrics: RunMetrics,
    pub(super) started: Instant,
    pub(super) created_at: i64,
    pub(super) events: Option<EventSink>,
    pub(super) input_text: String,
    pub(super) structured: Option<Arc<Structured>>,
    pub(super) tool_cache: HashMap<String, ToolResultContent>,
    /// The session in the store, when the run has one.
    pub(super) slot: Option<SessionSlot>,
    pub(super) user_id: Option<String>,
    pub(super) parent_run_id: Option<String>,
    pub(super) last_model: String,
    pub(super) stop_reason: StopReason,
    pub(super) request_id: Option<String>,
    /// A summary written after this run, saved with the session.
    pub(super) new_summary: Option<SessionSummary>,
    /// The budget this run counts against (shared with its team or workflow).
    pub(super) budget: Arc<Budget>,
    /// Every tool execution so far, in call order.
    pub(super) tools: Vec<ToolExecution>,
    pub(super) metadata: Map<String, Value>,
}

impl<D: Send + Sync + 'static> Run<'_, D> {
    pub(super) fn check_cancelled(&self) -> Result<()> {
        if self.ctx.is_cancelled() { Err(Error::Cancelled) } else { Ok(()) }
    }

    /// Awaits `work` unless the run is cancelled first.
    pub(super) async fn with_cancel<T>(&self, work: impl Future<Output = T>) -> Result<T> {
        guarded(self.ctx.cancellation(), self.slot.as_ref(), self.ctx.run_id(), work).await
    }

    /// The text of the run's last assistant message (its answer so far).
    pub(super) fn last_text(&self) -> String {
        self.request.messages[self.history_len..]
            .iter()
            .rev()
            .find(|message| message.role == Role::Assistant)
            .map(crate::message::Message::text)
            .unwrap_or_default()
    }

    /// Records a tool execution, replacing an earlier record of the same call
    /// (a pending call that was then decided).
    pub(super) fn record_tool(&mut self, execution: ToolExecution) {
        match self.tools.iter_mut().find(|known| known.tool_call_id == execution.tool_call_id) {
            Some(known) => *known = execution,
            None => self.tools.push(execution),
        }
    }

    pub(super) fn emit(&self, kind: RunEventKind) {
        if let Some(events) = &self.events {
            let _ = events.send(event_of(self.agent, &self.ctx, kind));
        }
    }

    pub(super) fn emit_started(&self) {
        if self.events.is_some() {
            self.emit(RunEventKind::RunStarted {
                model: self.agent.model.id().to_owned(),
                model_provider: self.agent.model.provider().to_owned(),
            });
        }
    }
}

pub(super) fn event_of<D>(agent: &AgentInner<D>, ctx: &RunContext<D>, kind: RunEventKind) -> RunEvent {
    let team = agent.scope == EventScope::Team;
    RunEvent {
        kind,
        scope: agent.scope,
        run_id: ctx.run_id_arc(),
        session_id: ctx.session_id_arc(),
        agent_id: if team { None } else { ctx.agent_id_arc() },
        team_id: if team { ctx.agent_id_arc() } else { None },
        workflow_id: None,
        step_name: None,
        parent_run_id: None,
        created_at: unix_now(),
    }
}

/// Awaits `work` unless the run is cancelled first: by its token, or — when
/// the run has a session in a store — by a cancel request made through the
/// store (from this process or another). Meanwhile the session's lease is
/// renewed, so a long model call or tool keeps it.
pub(super) async fn guarded<T>(
    cancel: &tokio_util::sync::CancellationToken,
    slot: Option<&SessionSlot>,
    run_id: &str,
    work: impl Future<Output = T>,
) -> Result<T> {
    let Some(slot) = slot else {
        return tokio::select! {
            biased;
            () = cancel.cancelled() => Err(Error::Cancelled),
            value = work => Ok(value),
        };
    };
    let requested = async {
        match slot.store().wait_cancel(run_id).await {
            Ok(()) => {}
            Err(error) => {
                tracing::warn!(%error, "cannot watch for cancel requests of this run");
                std::future::pending::<()>().await;
            }
        }
    };
    let renew = async {
        let mut ticker = tokio::time::interval(crate::persist::LEASE_TTL / 3);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            slot.renew().await;
        }
    };
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(Error::Cancelled),
        () = requested => {
            cancel.cancel();
            Err(Error::Cancelled)
        }
        () = renew => Err(Error::Cancelled),
        value = work => Ok(value),
    }
}

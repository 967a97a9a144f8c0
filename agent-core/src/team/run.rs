//! Running a team: the leader's run with the team run as its tools' state,
//! broadcasting to members, and continuing after a member paused.

use std::collections::HashSet;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::leader::TeamRun;
use super::{Team, TeamMode};
use crate::error::{Error, Result};
use crate::event::{EventScope, RunEvent, RunEventKind};
use crate::hitl::{Decision, LoopCounters, PausedRun, PendingKind, PendingToolCall, ToolDecision};
use crate::limits::Budget;
use crate::message::{ContentBlock, Usage};
use crate::output::RunOutput;
use crate::persist::{SessionSlot, run_record};
use crate::request::{RunInput, RunJob, RunOptions, Start};
use crate::runnable::Engine;
use crate::session::{RunStatus, SessionType, unix_now};
use crate::tool::ToolError;

/// The id of a broadcast member's answer in a paused broadcast.
fn broadcast_id(member_id: &str) -> String {
    format!("broadcast:{member_id}")
}

impl<D: Send + Sync + 'static> Team<D> {
    pub(super) async fn execute_job(&self, job: RunJob<D>) -> Result<RunOutput<Value>> {
        let RunJob { start, mut options, events } = job;
        if let (None, Some(session_id)) = (&self.inner.store, &options.session_id) {
            let component = format!("team `{}`", self.id());
            return Err(Error::SessionWithoutStore { session_id: session_id.clone(), component });
        }
        let run_id = options.run_id_or_new();
        if options.deps.is_none() {
            options.deps.clone_from(&self.inner.deps);
        }
        let budget = match options.budget.take() {
            Some(budget) => budget,
            None => {
                let limits = options.limits.clone().or_else(|| self.inner.leader.inner.settings.usage_limits.clone());
                Arc::new(Budget::new(limits.unwrap_or_default()))
            }
        };
        options.budget = Some(Arc::clone(&budget));
        let cancel = options.cancel.get_or_insert_with(CancellationToken::new).clone();
        let paused = match start {
            Start::Input(input) => {
                let state = self.run_state(&options, Arc::clone(&run_id), events.clone(), budget, cancel).await?;
                if self.inner.mode == TeamMode::Broadcast {
                    let mut slot = self.open_slot(&options, &run_id).await?;
                    let result = self.broadcast(state, input, options, events, slot.as_mut()).await;
                    if let Some(slot) = &slot {
                        slot.release().await;
                    }
                    return result;
                }
                return self.lead(&state, Start::Input(input), options, events).await;
            }
            Start::Continue { from, decisions } => (
                crate::agent::paused_run(from.0, self.inner.store.as_ref(), options.session_id.as_deref()).await?,
                decisions,
            ),
        };
        let (paused, decisions) = paused;
        if options.session_id.is_none() {
            options.session_id.clone_from(&paused.session_id);
        }
        if options.user_id.is_none() {
            options.user_id.clone_from(&paused.user_id);
        }
        let run_id: Arc<str> = Arc::from(paused.run_id.as_str());
        options.run_id = Some(Arc::clone(&run_id));
        let mut slot = self.open_slot(&options, &run_id).await?;
        if let Some(slot) = &slot {
            // One caller continues a paused run; the leader's continuation is
            // part of this claim.
            let claim = slot.store().claim_paused_run(&slot.session.session_id, &run_id).await;
            let refused = match claim {
                Ok(Some(_)) => None,
                Ok(None) => Some(Error::RunClaimed { run_id: run_id.to_string() }),
                Err(error) => Some(error.into()),
            };
            if let Some(error) = refused {
                slot.release().await;
                return Err(error);
            }
            options.claimed = true;
        }
        let state = self.run_state(&options, Arc::clone(&run_id), events.clone(), budget, cancel).await?;
        let result = self.continue_members(state, paused, decisions, options, events, slot.as_mut()).await;
        if let Some(slot) = &slot {
            slot.release().await;
        }
        result
    }

    /// The team's session, leased for this run, when the team keeps sessions.
    async fn open_slot(&self, options: &RunOptions<D>, run_id: &str) -> Result<Option<SessionSlot>> {
        let (Some(store), Some(session_id)) = (&self.inner.store, &options.session_id) else { return Ok(None) };
        let wait = options.session_wait();
        let slot = SessionSlot::open(Arc::clone(store), session_id, SessionType::Team, Some(self.id()), run_id, wait);
        Ok(Some(slot.await?))
    }

    async fn run_state(
        &self,
        options: &RunOptions<D>,
        run_id: Arc<str>,
        events: Option<crate::event::EventSink>,
        budget: Arc<Budget>,
        cancel: CancellationToken,
    ) -> Result<Arc<TeamRun<D>>> {
        let mut history = Vec::new();
        if self.inner.share_history {
            history = match (&options.history, &self.inner.store, &options.session_id) {
                (Some(history), _, _) => history.clone(),
                (None, Some(store), Some(session_id)) => {
                    crate::agent::history::history_messages(&store.runs(session_id, None).await?, Some(10))
                }
                _ => Vec::new(),
            };
        }
        Ok(Arc::new(TeamRun {
            team: self.clone(),
            run_id,
            depth: options.depth,
            delegations: AtomicU32::new(0),
            events,
            user_id: options.user_id.clone(),
            history,
            member_usage: Mutex::new(Usage::default()),
            cancel,
            budget,
            answers: Mutex::new(Vec::new()),
        }))
    }

    /// The leader's run, with the team run as its tools' state; the output's
    /// usage includes the members'.
    async fn lead(
        &self,
        state: &Arc<TeamRun<D>>,
        start: Start,
        mut options: RunOptions<D>,
        events: Option<crate::event::EventSink>,
    ) -> Result<RunOutput<Value>> {
        options.extension = Some(Arc::clone(state) as Arc<dyn std::any::Any + Send + Sync>);
        let mut output = Engine::execute(&self.inner.leader, RunJob { start, options, events }).await?;
        output.usage += *state.member_usage.lock().unwrap_or_else(PoisonError::into_inner);
        output.metrics.set_usage(output.usage);
        Ok(output)
    }

    /// Broadcast: every member runs on the input at once; once all answered,
    /// the leader writes the answer from theirs. Members that pause pause the
    /// team run.
    async fn broadcast(
        &self,
        state: Arc<TeamRun<D>>,
        input: RunInput,
        options: RunOptions<D>,
        events: Option<crate::event::EventSink>,
        slot: Option<&mut SessionSlot>,
    ) -> Result<RunOutput<Value>> {
        let runs = self.inner.members.iter().map(|(member_id, member)| {
            let state = &state;
            let input = input.clone();
            async move {
                let result = match state.check_depth(member_id, member) {
                    Ok(()) => {
                        // The input is on the team's span already.
                        let timed = crate::trace::spans::delegation(&self.inner.id, member_id, None);
                        let request = state.member_request(member, Start::Input(input), None);
                        state.finish_member(member_id, state.run_member(request, timed).await)
                    }
                    Err(error) => Err(error),
                };
                (member_id.clone(), result)
            }
        });
        let results = futures::future::join_all(runs).await;
        let mut resolved = Vec::new();
        let mut pending = Vec::new();
        for (member_id, result) in results {
            match result {
                Ok(answer) => {
                    resolved.push(ContentBlock::tool_result(broadcast_id(&member_id), answer.into(), false));
                }
                Err(ToolError::Pause(payload)) => pending.push(PendingToolCall {
                    tool_call_id: broadcast_id(&member_id),
                    tool_name: member_id.clone(),
                    tool_args: json!({}),
                    kind: PendingKind::Deferred,
                    payload: Some(payload),
                }),
                Err(ToolError::Fatal(source)) => return Err(Error::ToolFailed { tool: member_id, source }),
                Err(ToolError::Retry(message)) => {
                    resolved.push(ContentBlock::tool_result(broadcast_id(&member_id), message.into(), true));
                }
            }
        }
        let paused = PausedRun {
            run_id: state.run_id.to_string(),
            session_id: options.session_id.clone(),
            user_id: options.user_id.clone(),
            input: input.text(),
            resolved,
            pending,
            counters: LoopCounters::default(),
            created_at: unix_now(),
            position: Some(json!({"broadcast": true})),
            ..PausedRun::default()
        };
        if !paused.pending.is_empty() {
            return self.save_paused(paused, &options, slot).await;
        }
        self.synthesize(&state, &paused, input, options, events).await
    }

    /// The leader's answer from the broadcast members' answers.
    async fn synthesize(
        &self,
        state: &Arc<TeamRun<D>>,
        paused: &PausedRun,
        input: RunInput,
        options: RunOptions<D>,
        events: Option<crate::event::EventSink>,
    ) -> Result<RunOutput<Value>> {
        let answers = paused.resolved.iter().filter_map(|block| match block {
            ContentBlock::ToolResult { tool_call_id, content, is_error } => {
                let member_id = tool_call_id.strip_prefix("broadcast:").unwrap_or(tool_call_id).to_owned();
                let text = if *is_error { format!("(failed) {}", content.to_text()) } else { content.to_text() };
                Some((member_id, text))
            }
            _ => None,
        });
        *state.answers.lock().unwrap_or_else(PoisonError::into_inner) = answers.collect();
        self.lead(state, Start::Input(input), options, events).await
    }

    /// Continues the members a paused team run waits on, then the leader (or
    /// the broadcast synthesis); stays paused while a member still waits.
    async fn continue_members(
        &self,
        state: Arc<TeamRun<D>>,
        paused: PausedRun,
        decisions: Vec<ToolDecision>,
        options: RunOptions<D>,
        events: Option<crate::event::EventSink>,
        slot: Option<&mut SessionSlot>,
    ) -> Result<RunOutput<Value>> {
        let mut options = options;
        // The team's continue comes first on its stream, before its members'.
        if let Some(sink) = &events {
            let session_id = options.session_id.clone().or_else(|| paused.session_id.clone());
            let _ = sink.send(RunEvent {
                kind: RunEventKind::RunContinued {},
                scope: EventScope::Team,
                run_id: Arc::from(paused.run_id.as_str()),
                session_id: session_id.map(|id| Arc::from(id.as_str())),
                agent_id: None,
                team_id: Some(Arc::from(self.id())),
                workflow_id: None,
                step_name: None,
                parent_run_id: options.parent_run_id.as_deref().map(Arc::from),
                created_at: unix_now(),
            });
            options.announced = true;
        }
        let mut leader_decisions = Vec::new();
        let mut still_pending = Vec::new();
        for pending in &paused.pending {
            let nested = match (pending.kind, pending.nested()) {
                (PendingKind::Deferred, Some(nested)) => nested,
                _ => {
                    let decision = decisions.iter().find(|d| d.tool_call_id == pending.tool_call_id).cloned();
                    leader_decisions.push(decision.ok_or_else(|| {
                        Error::Continue(format!("no decision for pending tool call `{}`", pending.tool_call_id))
                    })?);
                    continue;
                }
            };
            let member_id = pending.payload.as_ref().and_then(|p| p["member_id"].as_str()).unwrap_or_default();
            let member = self
                .inner
                .members
                .iter()
                .find(|(id, _)| id == member_id)
                .map(|(_, member)| member)
                .ok_or_else(|| Error::Continue(format!("team `{}` has no member `{member_id}`", self.id())))?;
            let wanted: HashSet<String> = nested.actionable_calls().into_iter().map(|call| call.tool_call_id).collect();
            let member_decisions: Vec<ToolDecision> =
                decisions.iter().filter(|d| wanted.contains(&d.tool_call_id)).cloned().collect();
            let start = Start::Continue { from: nested.into(), decisions: member_decisions };
            let timed = crate::trace::spans::delegation(&self.inner.id, member_id, None);
            let result = state.run_member(state.member_request(member, start, None), timed).await;
            match state.finish_member(member_id, result) {
                Ok(content) => leader_decisions.push(ToolDecision::result(&pending.tool_call_id, content)),
                Err(ToolError::Pause(payload)) => {
                    let mut again = pending.clone();
                    again.payload = Some(payload);
                    still_pending.push(again);
                }
                Err(ToolError::Fatal(source)) => return Err(Error::ToolFailed { tool: member_id.to_owned(), source }),
                Err(ToolError::Retry(message)) => leader_decisions.push(ToolDecision {
                    tool_call_id: pending.tool_call_id.clone(),
                    decision: Decision::Result { content: message.into(), is_error: true },
                }),
            }
        }
        let broadcast = paused.position.as_ref().is_some_and(|position| position["broadcast"] == true);
        if !still_pending.is_empty() || broadcast {
            let mut updated = paused.clone();
            updated.pending = still_pending;
            for decision in leader_decisions {
                match decision.decision {
                    Decision::Result { content, is_error } => {
                        updated.resolved.push(ContentBlock::tool_result(decision.tool_call_id, content, is_error));
                    }
                    _ => return Err(Error::Continue("a team member's call cannot wait for approval".into())),
                }
            }
            if !updated.pending.is_empty() {
                return self.save_paused(updated, &options, slot).await;
            }
            let input = RunInput::from(updated.input.clone());
            return self.synthesize(&state, &updated, input, options, events).await;
        }
        let start = Start::Continue { from: paused.into(), decisions: leader_decisions };
        self.lead(&state, start, options, events).await
    }

    /// A team run that stays paused outside the leader's loop (a member still
    /// waits, or a broadcast member paused): saved as paused, returned so.
    async fn save_paused(
        &self,
        paused: PausedRun,
        options: &RunOptions<D>,
        slot: Option<&mut SessionSlot>,
    ) -> Result<RunOutput<Value>> {
        let leader = &self.inner.leader;
        let output = RunOutput {
            run_id: paused.run_id.clone(),
            session_id: paused.session_id.clone(),
            user_id: paused.user_id.clone(),
            team_id: Some(self.inner.id.clone()),
            parent_run_id: options.parent_run_id.clone(),
            model: leader.model().id().to_owned(),
            model_provider: leader.model().provider().to_owned(),
            status: RunStatus::Paused,
            content: Value::Null,
            messages: paused.messages.clone(),
            tools: paused.tools.clone(),
            metadata: options.metadata.clone(),
            created_at: paused.created_at,
            paused: Some(paused),
            ..RunOutput::default()
        };
        if let Some(slot) = slot {
            let state = options.session_state.clone().unwrap_or_else(|| slot.session.state.clone());
            let input = output.paused.as_ref().map(|paused| paused.input.clone()).unwrap_or_default();
            let running = RunOutput { status: RunStatus::Running, paused: None, ..output.clone() };
            slot.start(&run_record(&running, input.clone(), None)).await?;
            slot.save(&run_record(&output, input, None), state, None).await?;
        }
        Ok(output)
    }
}

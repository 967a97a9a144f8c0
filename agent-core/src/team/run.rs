//! Running a team, streaming it, and continuing it after a member paused.

use std::collections::HashSet;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::leader::TeamRun;
use super::{Member, Team};
use crate::agent::run::EventSink;
use crate::agent::{RunInput, RunOptions, RunStream};
use crate::error::{Error, Result};
use crate::hitl::{Decision, PausedRun, PendingKind, ToolDecision};
use crate::message::{ContentBlock, Usage};
use crate::output::RunOutput;
use crate::session::RunStatus;
use crate::tool::ToolError;

impl<D: Send + Sync + 'static> Team<D> {
    /// Runs the team on `input` until the leader answers.
    ///
    /// # Errors
    ///
    /// As for [`Agent::run`](crate::Agent::run), for the leader's run. A
    /// member's failure is reported to the leader, which can react to it.
    pub async fn run(&self, input: impl Into<RunInput>) -> Result<RunOutput> {
        self.run_with(input, RunOptions::new()).await
    }

    /// [`Team::run`] with per-run options (session, user, dependencies, cancellation).
    ///
    /// # Errors
    ///
    /// As for [`Team::run`].
    pub async fn run_with(&self, input: impl Into<RunInput>, options: RunOptions<D>) -> Result<RunOutput> {
        self.run_nested(input.into(), options, 0, None).await
    }

    /// Runs the team, streaming the leader's `Team*` events and the members' events.
    pub fn run_stream(&self, input: impl Into<RunInput>) -> RunStream {
        self.run_stream_with(input, RunOptions::new())
    }

    /// [`Team::run_stream`] with per-run options.
    pub fn run_stream_with(&self, input: impl Into<RunInput>, options: RunOptions<D>) -> RunStream {
        let team = self.clone();
        let input = input.into();
        RunStream::new(move |sink| Box::pin(async move { team.run_nested(input, options, 0, Some(sink)).await }))
    }

    /// Continues a team run that paused because a member waits for the user.
    /// `decisions` answer the calls of [`RunOutput::pending_tool_calls`].
    ///
    /// # Errors
    ///
    /// [`Error::Continue`] when the output is not paused or a decision is
    /// missing; otherwise as for [`Team::run`].
    pub async fn continue_run(&self, paused: &RunOutput, decisions: Vec<ToolDecision>) -> Result<RunOutput> {
        let state = paused.paused.as_ref().ok_or_else(|| Error::Continue("the run is not paused".into()))?;
        self.continue_nested(state, decisions, RunOptions::new(), 0, None).await
    }

    /// [`Team::continue_run`], streaming the continued run's events.
    pub fn continue_run_stream(&self, paused: &RunOutput, decisions: Vec<ToolDecision>) -> RunStream {
        let team = self.clone();
        let state = paused.paused.clone();
        RunStream::new(move |sink| {
            Box::pin(async move {
                let state = state.ok_or_else(|| Error::Continue("the run is not paused".into()))?;
                team.continue_nested(&state, decisions, RunOptions::new(), 0, Some(sink)).await
            })
        })
    }

    /// Continues a paused team run kept in the team's store.
    ///
    /// # Errors
    ///
    /// [`Error::Continue`] when there is no store or the run is not paused;
    /// otherwise as for [`Team::continue_run`].
    pub async fn continue_run_id(
        &self,
        session_id: &str,
        run_id: &str,
        decisions: Vec<ToolDecision>,
    ) -> Result<RunOutput> {
        let state = self.run_state(Arc::from(run_id), 0, None, None, Vec::new());
        let paused = state.leader()?.load_paused(session_id, run_id).await?;
        self.continue_nested(&paused, decisions, RunOptions::new(), 0, None).await
    }

    fn run_state(
        &self,
        run_id: Arc<str>,
        depth: u32,
        events: Option<EventSink>,
        user_id: Option<String>,
        history: Vec<crate::message::Message>,
    ) -> Arc<TeamRun<D>> {
        Arc::new(TeamRun {
            team: self.clone(),
            run_id,
            depth,
            delegations: AtomicU32::new(0),
            events,
            user_id,
            history,
            member_usage: Mutex::new(Usage::default()),
            cancel: CancellationToken::new(),
        })
    }

    async fn prepare(
        &self,
        run_id: Arc<str>,
        options: &mut RunOptions<D>,
        depth: u32,
        events: Option<EventSink>,
    ) -> Result<Arc<TeamRun<D>>> {
        options.run_id = Some(Arc::clone(&run_id));
        if options.deps.is_none() {
            options.deps.clone_from(&self.inner.deps);
        }
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
        let mut state = self.run_state(run_id, depth, events, options.user_id.clone(), history);
        if let (Some(token), Some(state)) = (&options.cancel, Arc::get_mut(&mut state)) {
            // Cancelling the team run cancels its members.
            state.cancel = token.child_token();
        }
        Ok(state)
    }

    pub(crate) async fn run_nested(
        &self,
        input: RunInput,
        mut options: RunOptions<D>,
        depth: u32,
        events: Option<EventSink>,
    ) -> Result<RunOutput> {
        let run_id: Arc<str> = Arc::from(uuid::Uuid::now_v7().to_string());
        let state = self.prepare(run_id, &mut options, depth, events.clone()).await?;
        let leader = state.leader()?;
        let output = leader.start(input, options, events, None).await;
        with_member_usage(output, &state)
    }

    pub(crate) fn continue_nested<'a>(
        &'a self,
        paused: &'a PausedRun,
        decisions: Vec<ToolDecision>,
        mut options: RunOptions<D>,
        depth: u32,
        events: Option<EventSink>,
    ) -> BoxFuture<'a, Result<RunOutput>> {
        Box::pin(async move {
            if options.session_id.is_none() {
                options.session_id.clone_from(&paused.session_id);
            }
            if options.user_id.is_none() {
                options.user_id.clone_from(&paused.user_id);
            }
            let state = self.prepare(Arc::from(paused.run_id.as_str()), &mut options, depth, events.clone()).await?;
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
                let wanted: HashSet<String> =
                    nested.actionable_calls().into_iter().map(|call| call.tool_call_id).collect();
                let member_decisions: Vec<ToolDecision> =
                    decisions.iter().filter(|d| wanted.contains(&d.tool_call_id)).cloned().collect();
                let member_options = {
                    let mut member_options = RunOptions::new().parent_run_id(paused.run_id.clone());
                    member_options.deps.clone_from(&options.deps);
                    member_options.user_id.clone_from(&options.user_id);
                    member_options
                };
                let result = match member {
                    Member::Agent(agent) => match &events {
                        Some(sink) => {
                            let (agent, nested) = (agent.clone(), nested.clone());
                            let stream = RunStream::new(move |member_sink| {
                                Box::pin(async move {
                                    agent
                                        .continue_paused(&nested, member_decisions, member_options, Some(member_sink))
                                        .await
                                })
                            });
                            state.forward(stream, sink).await
                        }
                        None => agent.continue_paused(&nested, member_decisions, member_options, None).await,
                    },
                    Member::Team(team) => {
                        team.continue_nested(&nested, member_decisions, member_options, depth + 1, events.clone()).await
                    }
                };
                match state.finish_member(member_id, result) {
                    Ok(content) => leader_decisions.push(ToolDecision::result(&pending.tool_call_id, content)),
                    Err(ToolError::Pause(payload)) => {
                        let mut again = pending.clone();
                        again.payload = Some(payload);
                        still_pending.push(again);
                    }
                    Err(ToolError::Retry(message) | ToolError::Fatal(message)) => leader_decisions.push(ToolDecision {
                        tool_call_id: pending.tool_call_id.clone(),
                        decision: Decision::Result { content: message.into(), is_error: true },
                    }),
                }
            }
            if !still_pending.is_empty() {
                return self.still_paused(paused, leader_decisions, still_pending, &options).await;
            }
            let leader = state.leader()?;
            let output = leader.continue_paused(paused, leader_decisions, options, events).await;
            with_member_usage(output, &state)
        })
    }

    /// Some members still wait: the answered delegations become resolved
    /// results and the run stays paused (and is saved so).
    async fn still_paused(
        &self,
        paused: &PausedRun,
        answered: Vec<ToolDecision>,
        pending: Vec<crate::hitl::PendingToolCall>,
        options: &RunOptions<D>,
    ) -> Result<RunOutput> {
        let mut updated = paused.clone();
        updated.pending = pending;
        for decision in answered {
            match decision.decision {
                Decision::Result { content, is_error } => {
                    updated.resolved.push(ContentBlock::tool_result(decision.tool_call_id, content, is_error));
                }
                _ => return Err(Error::Continue("a team leader's call cannot wait for approval".into())),
            }
        }
        if let (Some(store), Some(session_id)) = (&self.inner.store, &options.session_id)
            && let Some(mut record) = store.run(session_id, &paused.run_id).await?
        {
            record.paused = Some(updated.clone());
            let session = store.session(session_id).await?.unwrap_or_default();
            store.save_run(&session, &record).await?;
        }
        Ok(RunOutput {
            run_id: paused.run_id.clone(),
            session_id: paused.session_id.clone(),
            agent_id: Some(self.inner.id.clone()),
            model: self.inner.model.id().to_owned(),
            status: RunStatus::Paused,
            messages: updated.messages.clone(),
            paused: Some(updated),
            ..RunOutput::default()
        })
    }
}

fn with_member_usage<D>(output: Result<RunOutput>, state: &TeamRun<D>) -> Result<RunOutput> {
    let mut output = output?;
    output.usage += *state.member_usage.lock().unwrap_or_else(PoisonError::into_inner);
    output.metrics.set_usage(output.usage);
    Ok(output)
}

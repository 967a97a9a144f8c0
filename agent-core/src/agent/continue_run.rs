//! `continue_run`: resuming a run paused for tool confirmations or external results.

use std::collections::HashMap;
use std::sync::Arc;

use super::execute::{Answer, CallSpec, TurnEnd};
use super::run::{EventSink, Outcome, Run};
use super::{Agent, RunOptions};
use crate::error::{Error, Result};
use crate::event::RunEventKind;
use crate::hitl::{Decision, PausedRun, ToolDecision};
use crate::message::{ContentBlock, ToolResultContent};
use crate::output::RunOutput;
use crate::session::RunStatus;

impl<D: Send + Sync + 'static> Agent<D> {
    /// Continues a paused run with the user's decision on every pending call,
    /// and runs it to the end (or the next pause).
    ///
    /// # Errors
    ///
    /// [`Error::Continue`] when the output is not paused or a pending call has
    /// no decision (or a decision names no pending call); otherwise as for
    /// [`Agent::run`].
    pub async fn continue_run(&self, paused: &RunOutput, decisions: Vec<ToolDecision>) -> Result<RunOutput> {
        let state = paused.paused.as_ref().ok_or_else(|| Error::Continue("the run is not paused".into()))?;
        self.continue_paused(state, decisions, RunOptions::new(), None).await
    }

    /// Continues a paused run kept in the agent's store, from this process or
    /// another.
    ///
    /// # Errors
    ///
    /// [`Error::Continue`] when there is no store, the run does not exist or is
    /// not paused; otherwise as for [`Agent::continue_run`].
    pub async fn continue_run_id(
        &self,
        session_id: &str,
        run_id: &str,
        decisions: Vec<ToolDecision>,
    ) -> Result<RunOutput> {
        let state = self.load_paused(session_id, run_id).await?;
        self.continue_paused(&state, decisions, RunOptions::new(), None).await
    }

    /// Continues a paused run, with per-run options (dependencies, cancellation).
    ///
    /// # Errors
    ///
    /// As for [`Agent::continue_run`].
    pub async fn continue_run_with(
        &self,
        paused: &PausedRun,
        decisions: Vec<ToolDecision>,
        options: RunOptions<D>,
    ) -> Result<RunOutput> {
        self.continue_paused(paused, decisions, options, None).await
    }

    pub(crate) async fn load_paused(&self, session_id: &str, run_id: &str) -> Result<PausedRun> {
        let store = self.inner.store.as_ref().ok_or_else(|| Error::Continue("the agent has no store".into()))?;
        let record = store
            .run(session_id, run_id)
            .await?
            .ok_or_else(|| Error::Continue(format!("run `{run_id}` not found in session `{session_id}`")))?;
        match (record.status, record.paused) {
            (RunStatus::Paused, Some(paused)) => Ok(paused),
            (status, _) => Err(Error::Continue(format!("run `{run_id}` is {}, not paused", status.as_str()))),
        }
    }

    pub(crate) async fn continue_paused(
        &self,
        paused: &PausedRun,
        decisions: Vec<ToolDecision>,
        mut options: RunOptions<D>,
        events: Option<EventSink>,
    ) -> Result<RunOutput> {
        let mut decisions: HashMap<String, Decision> =
            decisions.into_iter().map(|decision| (decision.tool_call_id, decision.decision)).collect();
        for pending in &paused.pending {
            if !decisions.contains_key(&pending.tool_call_id) {
                return Err(Error::Continue(format!(
                    "no decision for pending tool call `{}` ({})",
                    pending.tool_call_id, pending.tool_name
                )));
            }
        }
        if let Some(stray) = decisions.keys().find(|id| !paused.pending.iter().any(|p| &p.tool_call_id == *id)) {
            return Err(Error::Continue(format!("tool call `{stray}` is not pending")));
        }
        if options.session_id.is_none() {
            options.session_id.clone_from(&paused.session_id);
        }
        if options.user_id.is_none() {
            options.user_id.clone_from(&paused.user_id);
        }
        if options.history.is_none() && !(self.inner.store.is_some() && options.session_id.is_some()) {
            options.history = Some(paused.history.clone());
        }
        let mut run = Run::prepare(&self.inner, Arc::from(paused.run_id.as_str()), options, events, None).await?;
        run.input_text.clone_from(&paused.input);
        run.counters = paused.counters.clone();
        run.created_at = paused.created_at;
        run.request.messages.extend(paused.messages.iter().cloned());
        run.emit(RunEventKind::RunContinued {});
        run.recall().await;
        let result = match run.resolve(paused, &mut decisions).await {
            Ok(TurnEnd::Continue) => run.drive().await,
            Ok(TurnEnd::Paused(paused_again)) => Ok(Outcome::Paused(paused_again)),
            Ok(TurnEnd::Stop(answer)) => Ok(Outcome::Completed(answer)),
            Err(error) => Err(error),
        };
        run.finish(result).await
    }
}

impl<D: Send + Sync + 'static> Run<'_, D> {
    /// Turns the decisions into tool results (running approved calls) and
    /// appends them, with the results computed before the pause, in call order.
    async fn resolve(&mut self, paused: &PausedRun, decisions: &mut HashMap<String, Decision>) -> Result<TurnEnd> {
        let mut results: Vec<ContentBlock> = paused.resolved.clone();
        let mut approved = Vec::new();
        let mut to_run = Vec::new();
        for pending in &paused.pending {
            match decisions.remove(&pending.tool_call_id) {
                Some(Decision::Approve) => {
                    let Some(tool_index) = self.agent.tool_defs.iter().position(|def| def.name == pending.tool_name)
                    else {
                        return Err(Error::Continue(format!("tool `{}` no longer exists", pending.tool_name)));
                    };
                    to_run.push((approved.len(), tool_index));
                    approved.push(CallSpec {
                        id: pending.tool_call_id.clone(),
                        name: pending.tool_name.clone(),
                        input: pending.tool_args.clone(),
                    });
                }
                Some(Decision::Reject { reason }) => {
                    let text = match reason {
                        Some(reason) => format!("the user rejected this tool call: {reason}"),
                        None => "the user rejected this tool call".to_owned(),
                    };
                    results.push(ContentBlock::tool_result(&pending.tool_call_id, ToolResultContent::Text(text), true));
                }
                Some(Decision::Result { content, is_error }) => {
                    results.push(ContentBlock::tool_result(&pending.tool_call_id, content, is_error));
                }
                None => {}
            }
        }
        let mut pending = Vec::new();
        for answer in self.execute(&approved, &to_run).await? {
            match answer {
                Answer::Result(block) => results.push(block),
                Answer::Pending(call) => pending.push(call),
            }
        }
        // Results go back in the order the model made the calls.
        if let Some(calls) = self.request.messages.last() {
            let order: Vec<&str> = calls.tool_calls().map(|call| call.id).collect();
            results.sort_by_key(|block| match block {
                ContentBlock::ToolResult { tool_use_id, .. } => {
                    order.iter().position(|id| id == tool_use_id).unwrap_or(usize::MAX)
                }
                _ => usize::MAX,
            });
        }
        Ok(self.conclude_turn(results, pending))
    }
}

//! The tool step of the loop: the calls of one model turn (or of a continued
//! pause), planned, run concurrently, answered in call order.

use std::time::Duration;

use futures::StreamExt;

use super::HookAction;
use super::call::{CallSpec, cache_key, call_tool};
use super::state::Run;
use crate::error::{Error, Result};
use crate::event::{RunEventKind, ToolExecution};
use crate::hitl::{PausedRun, PendingKind, PendingToolCall};
use crate::message::{ContentBlock, Message, Role, ToolResultContent};
use crate::model::ToolInputError;
use crate::tool::{ToolError, ToolOutput};

/// The calls of one tool step and what to do with each.
pub(super) struct ToolStep {
    pub(super) calls: Vec<CallSpec>,
    pub(super) plans: Vec<Plan>,
    /// Results computed before a pause, for calls of the same turn.
    pub(super) resolved: Vec<ContentBlock>,
}

/// What to do with one call.
pub(super) enum Plan {
    /// Run tool number `usize`.
    Execute(usize),
    /// Answer with an error without running anything; `true` counts it
    /// against the tool's retry budget.
    Answer(String, bool),
    /// Answer with a result the loop already has (a cached one, or the
    /// caller's for an externally executed call).
    Given(ToolResultContent, bool),
    /// Wait for the user.
    Pending(PendingKind),
}

/// How a tool step ended.
pub(super) enum StepEnd {
    /// Results were sent back; call the model again.
    Continue,
    /// Some calls wait for the user.
    Paused(Box<PausedRun>),
    /// A `stop_after_call` tool answered: this is the run's answer.
    Stop(String),
}

impl<D: Send + Sync + 'static> Run<'_, D> {
    /// The step for the tool calls of the last assistant message.
    pub(super) fn fresh_step(&mut self, input_errors: &[ToolInputError]) -> Result<ToolStep> {
        let calls: Vec<CallSpec> = match self.request.messages.last() {
            Some(message) => message.tool_calls().map(CallSpec::new).collect(),
            None => Vec::new(),
        };
        self.counters.tool_calls += calls.len() as u32;
        if let Some(limit) = self.agent.settings.max_tool_calls
            && self.counters.tool_calls > limit
        {
            return Err(Error::ToolCallLimit { limit });
        }
        let mut plans = Vec::with_capacity(calls.len());
        for call in &calls {
            plans.push(self.plan(call, input_errors)?);
        }
        Ok(ToolStep { calls, plans, resolved: Vec::new() })
    }

    fn plan(&self, call: &CallSpec, input_errors: &[ToolInputError]) -> Result<Plan> {
        if let Some(bad) = input_errors.iter().find(|bad| bad.tool_call_id == call.id) {
            return Ok(Plan::Answer(
                format!(
                    "invalid arguments: the JSON could not be parsed ({}). Call the tool again with valid JSON.",
                    bad.message
                ),
                true,
            ));
        }
        let Some(tool_index) = self.agent.tool_index(&call.name) else {
            let available: Vec<&str> = self.agent.tool_defs.iter().map(|def| def.name.as_str()).collect();
            return Ok(Plan::Answer(
                format!("unknown tool `{}`; the available tools are: {}", call.name, available.join(", ")),
                true,
            ));
        };
        if !call.input.is_object() {
            return Ok(Plan::Answer("invalid arguments: expected a JSON object".into(), true));
        }
        for hook in &self.agent.pre_hooks {
            match hook(&self.ctx, &call.view()) {
                HookAction::Continue => {}
                HookAction::Reject(message) => return Ok(Plan::Answer(message, false)),
                HookAction::Stop(message) => return Err(Error::Hook(message)),
            }
        }
        let def = &self.agent.tool_defs[tool_index];
        if def.external_execution {
            return Ok(Plan::Pending(PendingKind::ExternalExecution));
        }
        if def.requires_confirmation {
            return Ok(Plan::Pending(PendingKind::Confirmation));
        }
        if def.cache_results
            && let Some(content) = self.tool_cache.get(&cache_key(call))
        {
            return Ok(Plan::Given(content.clone(), false));
        }
        Ok(Plan::Execute(tool_index))
    }

    /// Runs a tool step. Every call gets a result or stays pending; when the
    /// step fails, every call of the turn gets a result before the error is
    /// returned, so the conversation stays valid.
    pub(super) async fn run_tool_step(&mut self, step: ToolStep) -> Result<StepEnd> {
        let ToolStep { calls, plans, resolved } = step;
        let to_run: Vec<(usize, usize)> = plans
            .iter()
            .enumerate()
            .filter_map(|(call_index, plan)| match plan {
                Plan::Execute(tool_index) => Some((call_index, *tool_index)),
                _ => None,
            })
            .collect();
        let mut outcomes = self.execute(&calls, &to_run).await?.into_iter();

        let mut results = resolved;
        let mut pending = Vec::new();
        let mut fatal = None;
        for (call, plan) in calls.iter().zip(plans) {
            let (content, is_error) = match plan {
                Plan::Execute(tool_index) => {
                    let Some((outcome, duration)) = outcomes.next() else { continue };
                    let metrics = self.metrics.tool_calls.entry(call.name.clone()).or_default();
                    metrics.calls += 1;
                    metrics.duration += duration.as_secs_f64();
                    match outcome {
                        Ok(ToolOutput { content }) => {
                            if self.agent.tool_defs[tool_index].cache_results {
                                self.tool_cache.insert(cache_key(call), content.clone());
                            }
                            self.answered(call, content, false, Some(duration))
                        }
                        Err(ToolError::Pause(payload)) => {
                            pending.push(self.pending(call, PendingKind::Deferred, Some(payload)));
                            continue;
                        }
                        Err(ToolError::Retry(message)) => {
                            metrics.errors += 1;
                            if let Err(error) = self.count_retry(&call.name, &message) {
                                fatal.get_or_insert(error);
                            }
                            self.answered(call, ToolResultContent::Text(message), true, Some(duration))
                        }
                        Err(ToolError::Fatal(source)) => {
                            metrics.errors += 1;
                            let message = source.to_string();
                            let mut execution = execution(call, Some(message.clone()), true);
                            set_duration(&mut execution, Some(duration));
                            self.emit(RunEventKind::ToolCallError { tool: execution, error: message.clone() });
                            fatal.get_or_insert(match source.downcast::<Error>() {
                                // A team member or nested run over the shared budget: the
                                // whole run is.
                                Ok(inner) if matches!(*inner, Error::UsageLimitExceeded { .. }) => *inner,
                                Ok(inner) => Error::ToolFailed { tool: call.name.clone(), source: inner },
                                Err(source) => Error::ToolFailed { tool: call.name.clone(), source },
                            });
                            self.answered(call, ToolResultContent::Text(message), true, Some(duration))
                        }
                    }
                }
                Plan::Answer(message, counts) => {
                    self.metrics.tool_calls.entry(call.name.clone()).or_default().errors += 1;
                    if counts && let Err(error) = self.count_retry(&call.name, &message) {
                        fatal.get_or_insert(error);
                    }
                    self.answered(call, ToolResultContent::Text(message), true, None)
                }
                Plan::Given(content, is_error) => self.answered(call, content, is_error, None),
                Plan::Pending(kind) => {
                    pending.push(self.pending(call, kind, None));
                    continue;
                }
            };
            results.push(ContentBlock::tool_result(&call.id, content, is_error));
        }
        if let Some(error) = fatal {
            // The calls left waiting get error results too, so no call of the
            // turn stays without one.
            let note = format!("not run: the run stopped ({})", error.report());
            for call in pending {
                let content = ToolResultContent::Text(note.clone());
                let spec = CallSpec {
                    id: call.tool_call_id,
                    name: call.tool_name,
                    input: call.tool_args,
                    confirmed: None,
                    confirmation_note: None,
                };
                let (content, is_error) = self.answered(&spec, content, true, None);
                results.push(ContentBlock::tool_result(&spec.id, content, is_error));
            }
            self.push_results(results);
            return Err(error);
        }
        Ok(self.conclude(results, pending))
    }

    /// Runs the given calls (`(call index, tool index)`) concurrently, up to
    /// the agent's limit, and returns their outcomes in call order.
    async fn execute(
        &mut self,
        calls: &[CallSpec],
        to_run: &[(usize, usize)],
    ) -> Result<Vec<(Result<ToolOutput, ToolError>, Duration)>> {
        if to_run.is_empty() {
            return Ok(Vec::new());
        }
        for &(call_index, _) in to_run {
            self.emit(RunEventKind::ToolCallStarted { tool: execution(&calls[call_index], None, false) });
        }
        let settings = &self.agent.settings;
        let ctx = &self.ctx;
        let jobs: Vec<_> = to_run
            .iter()
            .map(|&(call_index, tool_index)| {
                let call = &calls[call_index];
                let retry = self.counters.retries.get(&call.name).copied().unwrap_or(0);
                let (tool, def) = (&self.agent.tools[tool_index], &self.agent.tool_defs[tool_index]);
                call_tool(tool, def, ctx, call, retry, settings.tool_timeout)
            })
            .collect();
        if jobs.len() == 1 || settings.tool_concurrency == 1 {
            let mut outcomes = Vec::with_capacity(jobs.len());
            for job in jobs {
                outcomes.push(self.with_cancel(job).await?);
            }
            Ok(outcomes)
        } else {
            let all = futures::stream::iter(jobs).buffered(settings.tool_concurrency).collect::<Vec<_>>();
            self.with_cancel(all).await
        }
    }

    /// Post hooks, the completion event and the execution record of one
    /// answered call; returns the result for the model.
    fn answered(
        &mut self,
        call: &CallSpec,
        content: ToolResultContent,
        is_error: bool,
        duration: Option<Duration>,
    ) -> (ToolResultContent, bool) {
        for hook in &self.agent.post_hooks {
            hook(&self.ctx, &call.view(), &content, is_error);
        }
        let mut execution = execution(call, Some(content.to_text()), is_error);
        set_duration(&mut execution, duration);
        if self.events.is_some() {
            self.emit(RunEventKind::ToolCallCompleted { tool: execution.clone() });
        }
        self.record_tool(execution);
        (content, is_error)
    }

    fn pending(&mut self, call: &CallSpec, kind: PendingKind, payload: Option<serde_json::Value>) -> PendingToolCall {
        let pending = PendingToolCall {
            tool_call_id: call.id.clone(),
            tool_name: call.name.clone(),
            tool_args: call.input.clone(),
            kind,
            payload,
        };
        self.record_tool(pending_execution(&pending));
        pending
    }

    /// Sends the results back, ends the run when a `stop_after_call` tool
    /// answered, or pauses when some calls are pending.
    fn conclude(&mut self, results: Vec<ContentBlock>, pending: Vec<PendingToolCall>) -> StepEnd {
        if pending.is_empty() {
            let answer = self.stop_answer(&results);
            self.push_results(results);
            return match answer {
                Some(text) => {
                    // Close the conversation with the answer, so the next run's
                    // history alternates as the API expects.
                    self.request.messages.push(Message::assistant(text.clone()));
                    StepEnd::Stop(text)
                }
                None => StepEnd::Continue,
            };
        }
        StepEnd::Paused(Box::new(PausedRun {
            run_id: self.ctx.run_id().to_owned(),
            session_id: self.ctx.session_id().map(str::to_owned),
            user_id: self.user_id.clone(),
            input: self.input_text.clone(),
            history: Vec::new(),
            messages: self.request.messages[self.history_len..].to_vec(),
            resolved: results,
            pending,
            counters: self.counters.clone(),
            created_at: self.created_at,
            position: None,
            tools: self.tools.clone(),
        }))
    }

    /// Appends the results as one user message, in the order the model made
    /// the calls.
    fn push_results(&mut self, mut results: Vec<ContentBlock>) {
        if let Some(calls) = self.request.messages.last() {
            let order: Vec<&str> = calls.tool_calls().map(|call| call.id).collect();
            results.sort_by_key(|block| match block {
                ContentBlock::ToolResult { tool_call_id, .. } => {
                    order.iter().position(|id| id == tool_call_id).unwrap_or(usize::MAX)
                }
                _ => usize::MAX,
            });
        }
        self.request.messages.push(Message::new(Role::User, results));
    }

    /// The text of a successful result from a `stop_after_call` tool, if any.
    fn stop_answer(&self, results: &[ContentBlock]) -> Option<String> {
        let calls = self.request.messages.last()?;
        results.iter().find_map(|block| match block {
            ContentBlock::ToolResult { tool_call_id, content, is_error: false } => {
                let call = calls.tool_calls().find(|call| call.id == tool_call_id)?;
                let def = &self.agent.tool_defs[self.agent.tool_index(call.name)?];
                def.stop_after_call.then(|| content.to_text())
            }
            _ => None,
        })
    }

    /// Counts a retryable failure; fails the run once the budget is spent.
    fn count_retry(&mut self, tool: &str, message: &str) -> Result<()> {
        let count = self.counters.retries.entry(tool.to_owned()).or_insert(0);
        *count += 1;
        if *count > self.agent.settings.max_tool_retries {
            return Err(Error::ToolRetriesExhausted {
                tool: tool.to_owned(),
                retries: *count,
                last_error: message.to_owned(),
            });
        }
        Ok(())
    }
}

fn execution(call: &CallSpec, result: Option<String>, is_error: bool) -> ToolExecution {
    ToolExecution {
        tool_call_id: call.id.clone(),
        tool_name: call.name.clone(),
        tool_args: call.input.clone(),
        tool_call_error: is_error,
        result,
        confirmed: call.confirmed,
        confirmation_note: call.confirmation_note.clone(),
        ..ToolExecution::default()
    }
}

fn set_duration(execution: &mut ToolExecution, duration: Option<Duration>) {
    if let Some(duration) = duration {
        execution.metrics.insert("duration".into(), duration.as_secs_f64());
    }
}

pub(super) fn pending_execution(pending: &PendingToolCall) -> ToolExecution {
    ToolExecution {
        tool_call_id: pending.tool_call_id.clone(),
        tool_name: pending.tool_name.clone(),
        tool_args: pending.tool_args.clone(),
        requires_confirmation: pending.kind == PendingKind::Confirmation,
        external_execution_required: pending.kind == PendingKind::ExternalExecution,
        ..ToolExecution::default()
    }
}

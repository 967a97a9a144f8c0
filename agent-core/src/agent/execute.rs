//! Running the tool calls of one model turn: planning, concurrent execution,
//! timeouts, caught panics, retries and pauses.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use serde_json::Value;
use tokio::time::Instant;

use super::HookAction;
use super::run::Run;
use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::event::{RunEventKind, ToolExecution};
use crate::hitl::{PausedRun, PendingKind, PendingToolCall};
use crate::message::{ContentBlock, Message, Role, ToolCall, ToolResultContent};
use crate::model::ToolInputError;
use crate::tool::{Tool, ToolDef, ToolError, ToolOutput};

/// One tool call the model made, owned.
#[derive(Clone, Debug)]
pub(super) struct CallSpec {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) input: Value,
}

impl CallSpec {
    fn view(&self) -> ToolCall<'_> {
        ToolCall { id: &self.id, name: &self.name, input: &self.input }
    }
}

/// How a turn of tool calls ended.
pub(super) enum TurnEnd {
    /// Results were sent back; call the model again.
    Continue,
    /// Some calls wait for the user.
    Paused(Box<PausedRun>),
    /// A `stop_after_call` tool answered: this is the run's answer.
    Stop(String),
}

/// How an executed call was answered.
pub(super) enum Answer {
    /// A result block for the model.
    Result(ContentBlock),
    /// The tool paused; the call waits for the user.
    Pending(PendingToolCall),
}

/// What to do with one call.
enum Plan {
    /// Run tool number `usize`.
    Execute(usize),
    /// Answer with an error without running anything; `true` counts it
    /// against the tool's retry budget.
    Answer(String, bool),
    /// Answer with a cached result.
    Cached(ToolResultContent),
    /// Wait for the user.
    Pending(PendingKind),
}

impl<D: Send + Sync + 'static> Run<'_, D> {
    /// Answers the tool calls of the last assistant message. Returns the paused
    /// state when some calls wait for the user.
    pub(super) async fn run_tool_turn(&mut self, input_errors: &[ToolInputError]) -> Result<TurnEnd> {
        let calls: Vec<CallSpec> = match self.request.messages.last() {
            Some(message) => message
                .tool_calls()
                .map(|call| CallSpec { id: call.id.to_owned(), name: call.name.to_owned(), input: call.input.clone() })
                .collect(),
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
        let to_run: Vec<(usize, usize)> = plans
            .iter()
            .enumerate()
            .filter_map(|(call_index, plan)| match plan {
                Plan::Execute(tool_index) => Some((call_index, *tool_index)),
                _ => None,
            })
            .collect();
        let mut executed = self.execute(&calls, &to_run).await?.into_iter();

        let mut results = Vec::with_capacity(calls.len());
        let mut pending = Vec::new();
        for (call, plan) in calls.iter().zip(plans) {
            match plan {
                Plan::Execute(_) => match executed.next() {
                    Some(Answer::Result(block)) => results.push(block),
                    Some(Answer::Pending(call)) => pending.push(call),
                    None => {}
                },
                Plan::Answer(message, counts) => {
                    self.metrics.tool_calls.entry(call.name.clone()).or_default().errors += 1;
                    if counts {
                        self.count_retry(&call.name, &message)?;
                    }
                    self.report_result(call, &ToolResultContent::Text(message.clone()), true);
                    results.push(ContentBlock::tool_result(&call.id, ToolResultContent::Text(message), true));
                }
                Plan::Cached(content) => {
                    self.report_result(call, &content, false);
                    results.push(ContentBlock::tool_result(&call.id, content, false));
                }
                Plan::Pending(kind) => pending.push(PendingToolCall {
                    tool_call_id: call.id.clone(),
                    tool_name: call.name.clone(),
                    tool_args: call.input.clone(),
                    kind,
                    payload: None,
                }),
            }
        }
        Ok(self.conclude_turn(results, pending))
    }

    /// Sends the results back, ends the run when a `stop_after_call` tool
    /// answered, or pauses when some calls are pending.
    pub(super) fn conclude_turn(&mut self, results: Vec<ContentBlock>, pending: Vec<PendingToolCall>) -> TurnEnd {
        if pending.is_empty() {
            let answer = self.stop_answer(&results);
            self.request.messages.push(Message::new(Role::User, results));
            return match answer {
                Some(text) => {
                    // Close the conversation with the answer, so the next run's
                    // history alternates as the API expects.
                    self.request.messages.push(Message::assistant(text.clone()));
                    TurnEnd::Stop(text)
                }
                None => TurnEnd::Continue,
            };
        }
        TurnEnd::Paused(Box::new(PausedRun {
            run_id: self.ctx.run_id().to_owned(),
            session_id: self.ctx.session_id().map(str::to_owned),
            user_id: self.user_id.clone(),
            input: self.input_text.clone(),
            history: Vec::new(),
            messages: self.request.messages[self.history_len..].to_vec(),
            resolved: results,
            pending,
            counters: self.counters.clone(),
            created_at: 0,
        }))
    }

    /// The text of a successful result from a `stop_after_call` tool, if any.
    fn stop_answer(&self, results: &[ContentBlock]) -> Option<String> {
        let calls = self.request.messages.last()?;
        results.iter().find_map(|block| match block {
            ContentBlock::ToolResult { tool_use_id, content, is_error: false } => {
                let call = calls.tool_calls().find(|call| call.id == tool_use_id)?;
                let def = self.agent.tool_defs.iter().find(|def| def.name == call.name)?;
                def.stop_after_call.then(|| content.to_text())
            }
            _ => None,
        })
    }

    fn plan(&self, call: &CallSpec, input_errors: &[ToolInputError]) -> Result<Plan> {
        if let Some(bad) = input_errors.iter().find(|bad| bad.tool_use_id == call.id) {
            return Ok(Plan::Answer(
                format!(
                    "invalid arguments: the JSON could not be parsed ({}). Call the tool again with valid JSON.",
                    bad.message
                ),
                true,
            ));
        }
        let Some(tool_index) = self.agent.tool_defs.iter().position(|def| def.name == call.name) else {
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
            return Ok(Plan::Cached(content.clone()));
        }
        Ok(Plan::Execute(tool_index))
    }

    /// Runs the given calls (`(call index, tool index)`) concurrently, up to
    /// the agent's limit, and returns their answers in call order.
    pub(super) async fn execute(&mut self, calls: &[CallSpec], to_run: &[(usize, usize)]) -> Result<Vec<Answer>> {
        if to_run.is_empty() {
            return Ok(Vec::new());
        }
        for &(call_index, _) in to_run {
            let call = &calls[call_index];
            self.emit(RunEventKind::ToolCallStarted { tool: execution(call, None, false) });
        }
        let settings = &self.agent.settings;
        let outcomes: Vec<(Result<ToolOutput, ToolError>, Duration)> = {
            let ctx = &self.ctx;
            let retries = &self.counters.retries;
            let mut jobs = Vec::with_capacity(to_run.len());
            for &(call_index, tool_index) in to_run {
                let call = &calls[call_index];
                let retry = retries.get(&call.name).copied().unwrap_or(0);
                jobs.push(call_tool(
                    &self.agent.tools[tool_index],
                    &self.agent.tool_defs[tool_index],
                    ctx,
                    call,
                    retry,
                    settings.tool_timeout,
                ));
            }
            if to_run.len() == 1 || settings.tool_concurrency == 1 {
                let mut outcomes = Vec::with_capacity(to_run.len());
                for job in jobs {
                    outcomes.push(self.with_cancel(job).await?);
                }
                outcomes
            } else {
                let all = futures::stream::iter(jobs).buffered(settings.tool_concurrency).collect::<Vec<_>>();
                self.with_cancel(all).await?
            }
        };

        let mut blocks = Vec::with_capacity(to_run.len());
        let mut fatal = None;
        for (&(call_index, tool_index), (outcome, duration)) in to_run.iter().zip(outcomes) {
            let call = &calls[call_index];
            let metrics = self.metrics.tool_calls.entry(call.name.clone()).or_default();
            metrics.calls += 1;
            metrics.duration += duration.as_secs_f64();
            let (content, is_error) = match outcome {
                Err(ToolError::Pause(payload)) => {
                    blocks.push(Answer::Pending(PendingToolCall {
                        tool_call_id: call.id.clone(),
                        tool_name: call.name.clone(),
                        tool_args: call.input.clone(),
                        kind: PendingKind::Deferred,
                        payload: Some(payload),
                    }));
                    continue;
                }
                Ok(output) => {
                    if self.agent.tool_defs[tool_index].cache_results {
                        self.tool_cache.insert(cache_key(call), output.content.clone());
                    }
                    (output.content, false)
                }
                Err(ToolError::Retry(message)) => {
                    metrics.errors += 1;
                    if fatal.is_none()
                        && let Err(error) = self.count_retry(&call.name, &message)
                    {
                        fatal = Some(error);
                    }
                    (ToolResultContent::Text(message), true)
                }
                Err(ToolError::Fatal(message)) => {
                    metrics.errors += 1;
                    self.emit(RunEventKind::ToolCallError {
                        tool: execution(call, Some(message.clone()), true),
                        error: message.clone(),
                    });
                    fatal.get_or_insert(Error::ToolFailed { tool: call.name.clone(), message: message.clone() });
                    (ToolResultContent::Text(message), true)
                }
            };
            self.report_result(call, &content, is_error);
            blocks.push(Answer::Result(ContentBlock::tool_result(&call.id, content, is_error)));
        }
        match fatal {
            Some(error) => {
                // Keep the answered calls in history so it stays valid.
                let answered = blocks
                    .into_iter()
                    .filter_map(|answer| match answer {
                        Answer::Result(block) => Some(block),
                        Answer::Pending(_) => None,
                    })
                    .collect();
                self.request.messages.push(Message::new(Role::User, answered));
                Err(error)
            }
            None => Ok(blocks),
        }
    }

    /// Post hooks and the completion event for one answered call.
    fn report_result(&self, call: &CallSpec, content: &ToolResultContent, is_error: bool) {
        for hook in &self.agent.post_hooks {
            hook(&self.ctx, &call.view(), content, is_error);
        }
        if self.events.is_some() {
            self.emit(RunEventKind::ToolCallCompleted { tool: execution(call, Some(content.to_text()), is_error) });
        }
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

    async fn with_cancel<T>(&self, work: impl Future<Output = T>) -> Result<T> {
        let cancel = self.ctx.cancellation();
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(Error::Cancelled),
            value = work => Ok(value),
        }
    }
}

/// Calls one tool with its time limit, turning a panic into an error result.
async fn call_tool<D: Send + Sync + 'static>(
    tool: &Arc<dyn Tool<D>>,
    def: &ToolDef,
    ctx: &RunContext<D>,
    call: &CallSpec,
    retry: u32,
    default_timeout: Option<Duration>,
) -> (Result<ToolOutput, ToolError>, Duration) {
    let started = Instant::now();
    let call_ctx = ctx.for_tool_call(&call.id, retry);
    let work = AssertUnwindSafe(tool.call(&call_ctx, call.input.clone())).catch_unwind();
    let caught = match def.timeout.or(default_timeout) {
        Some(limit) => match tokio::time::timeout(limit, work).await {
            Ok(caught) => caught,
            Err(_) => {
                let message = format!("tool `{}` timed out after {:.1}s", call.name, limit.as_secs_f64());
                return (Err(ToolError::Retry(message)), started.elapsed());
            }
        },
        None => work.await,
    };
    let result = caught.unwrap_or_else(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        tracing::error!(tool = %call.name, %reason, "tool panicked");
        Err(ToolError::Retry(format!("tool `{}` failed unexpectedly (it panicked: {reason})", call.name)))
    });
    (result, started.elapsed())
}

fn cache_key(call: &CallSpec) -> String {
    format!("{}\u{0}{}", call.name, call.input)
}

pub(super) fn execution(call: &CallSpec, result: Option<String>, is_error: bool) -> ToolExecution {
    ToolExecution {
        tool_call_id: call.id.clone(),
        tool_name: call.name.clone(),
        tool_args: call.input.clone(),
        tool_call_error: is_error,
        result,
        ..ToolExecution::default()
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

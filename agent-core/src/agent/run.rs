//! The tool-runner loop: call the model, decide, run the tools it asks for,
//! repeat; a continued run enters the same loop at the tool step.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use serde_json::Value;
use tokio::time::Instant;
use tracing::Instrument;

use super::decide::{Answered, Failure, Limits, Next, decide, may_call_model};
use super::execute::{StepEnd, ToolStep};
use super::resume::match_decisions;
use super::state::{Run, event_of};
use super::{Agent, AgentInner, Instructions};
use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::event::{EventSink, RunEventKind};
use crate::hitl::{LoopCounters, PausedRun};
use crate::limits::Budget;
use crate::message::{ContentBlock, Message, Role, StopReason};
use crate::model::{ModelError, ModelErrorKind, ModelEvent, ModelRequest, ModelResponse, ToolChoice};
use crate::output::{RunMetrics, RunOutput};
use crate::persist::{SessionSlot, run_record};
use crate::request::{RunJob, RunOptions, Start};
use crate::runnable::RunContent;
use crate::session::{RunStatus, StoreError, unix_now};

/// How the loop ended when it did not fail.
pub(crate) enum Outcome {
    Completed(String),
    Paused(Box<PausedRun>),
}

impl<D: Send + Sync + 'static> Agent<D> {
    /// Runs a job: a new run from input, or a paused run continued.
    pub(crate) async fn execute_job(&self, job: RunJob<D>) -> Result<RunOutput<Value>> {
        let RunJob { start, mut options, events } = job;
        match start {
            Start::Input(input) => {
                let mut run = Run::prepare(&self.inner, options, events).await?;
                run.input_text = input.text();
                run.request.messages.push(input.into_message());
                if let Err(error) = run.begin().await {
                    run.release().await;
                    return Err(error);
                }
                run.emit_started();
                run.recall().await;
                let result = run.drive(None).await;
                run.finish(result).await
            }
            Start::Continue { from, decisions } => {
                let store = self.inner.store.as_ref();
                let paused = super::paused_run(from.0, store, options.session_id.as_deref()).await?;
                let decisions = match_decisions(&paused, decisions)?;
                if options.session_id.is_none() {
                    options.session_id.clone_from(&paused.session_id);
                }
                if options.user_id.is_none() {
                    options.user_id.clone_from(&paused.user_id);
                }
                if options.history.is_none() && !(self.inner.store.is_some() && options.session_id.is_some()) {
                    options.history = Some(paused.history.clone());
                }
                options.run_id = Some(Arc::from(paused.run_id.as_str()));
                let (claimed, announced) = (options.claimed, options.announced);
                let mut run = Run::prepare(&self.inner, options, events).await?;
                if !claimed && let Err(error) = run.claim().await {
                    run.release().await;
                    return Err(error);
                }
                run.input_text.clone_from(&paused.input);
                run.counters = paused.counters.clone();
                run.created_at = paused.created_at;
                run.tools.clone_from(&paused.tools);
                run.request.messages.extend(paused.messages.iter().cloned());
                if !announced {
                    run.emit(RunEventKind::RunContinued {});
                }
                run.recall().await;
                let result = match run.resumed_step(&paused, decisions) {
                    Ok(step) => run.drive(Some(step)).await,
                    Err(error) => Err(error),
                };
                run.finish(result).await
            }
        }
    }
}

impl<'a, D: Send + Sync + 'static> Run<'a, D> {
    pub(super) async fn prepare(
        agent: &'a AgentInner<D>,
        mut options: RunOptions<D>,
        events: Option<EventSink>,
    ) -> Result<Self> {
        let deps = options.deps.take().or_else(|| agent.deps.clone()).ok_or_else(|| {
            Error::Config("no dependencies: give them to the builder or to the run with .deps()".into())
        })?;
        let run_id = options.run_id_or_new();
        let slot = match (&agent.store, &options.session_id) {
            (Some(store), Some(session_id)) => Some(
                SessionSlot::open(
                    Arc::clone(store),
                    session_id,
                    agent.session_type,
                    agent.id.as_deref(),
                    &run_id,
                    options.session_wait(),
                )
                .await?,
            ),
            (None, Some(session_id)) => {
                let component =
                    agent.id.as_deref().map_or_else(|| "the agent".to_owned(), |id| format!("agent `{id}`"));
                return Err(Error::SessionWithoutStore { session_id: session_id.clone(), component });
            }
            _ => None,
        };
        let history = match super::history::load(agent, slot.as_ref(), options.history.take()).await {
            Ok(history) => history,
            Err(error) => {
                if let Some(slot) = &slot {
                    slot.release().await;
                }
                return Err(error.into());
            }
        };
        let session = slot.as_ref().map(|slot| &slot.session);
        let user_id = options.user_id.take().or_else(|| session.and_then(|s| s.user_id.clone()));
        let state = match options.session_state.take() {
            Some(state) => state,
            None => session.map(|s| s.state.clone()).unwrap_or_default(),
        };
        let mut builder = RunContext::builder(deps, run_id)
            .session_id(options.session_id.map(Arc::from))
            .user_id(user_id.as_deref().map(Arc::from))
            .agent_id(agent.id.clone())
            .session_state(state)
            .metadata(options.metadata.clone())
            .extension(options.extension.take());
        if let Some(token) = options.cancel {
            builder = builder.cancel(token);
        }
        let ctx = builder.build();
        let mut instructions = system_prompt(agent, &ctx);
        if agent.settings.summary_in_context
            && let Some(summary) = session.and_then(|s| s.summary.as_ref())
        {
            append_section(&mut instructions, &format!("Summary of the conversation so far:\n{}", summary.summary));
        }
        let structured = options.structured;
        let request = ModelRequest {
            model: None,
            instructions,
            messages: history,
            tools: Arc::clone(&agent.tool_defs),
            tool_choice: agent.settings.tool_choice.clone(),
            disable_parallel_tool_use: agent.settings.disable_parallel_tool_use,
            max_tokens: agent.settings.max_tokens,
            output_schema: structured.as_ref().map(|s| s.schema.clone()),
            options: agent.settings.model_options.clone(),
            resume: false,
        };
        let limits = options.limits.or_else(|| agent.settings.usage_limits.clone()).unwrap_or_default();
        Ok(Self {
            agent,
            ctx,
            history_len: request.messages.len(),
            request,
            counters: LoopCounters::default(),
            metrics: RunMetrics::default(),
            started: Instant::now(),
            created_at: unix_now(),
            events,
            input_text: String::new(),
            structured,
            tool_cache: HashMap::new(),
            slot,
            user_id,
            parent_run_id: options.parent_run_id,
            last_model: String::new(),
            stop_reason: StopReason::EndTurn,
            request_id: None,
            new_summary: None,
            budget: options.budget.unwrap_or_else(|| Arc::new(Budget::new(limits))),
            tools: Vec::new(),
            metadata: options.metadata,
        })
    }

    /// Puts knowledge and the user's memories relevant to the input into the
    /// system prompt. A failing store is logged, not raised: the run goes on
    /// without.
    pub(super) async fn recall(&mut self) {
        if let Some((knowledge, top_k)) = &self.agent.knowledge_context {
            let query = crate::knowledge::SearchQuery::new(self.input_text.clone()).top_k(*top_k);
            match crate::knowledge::retrieve_context(&**knowledge, &query).await {
                Ok(section) if !section.is_empty() => append_section(&mut self.request.instructions, &section),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "could not search the knowledge base"),
            }
        }
        let (Some(manager), Some(user_id)) = (&self.agent.memory, &self.user_id) else { return };
        match manager.relevant(user_id, &self.input_text, self.agent.settings.memories_in_context).await {
            Ok(memories) => {
                let section = crate::memory::MemoryManager::prompt_section(&memories);
                if !section.is_empty() {
                    append_section(&mut self.request.instructions, &section);
                }
            }
            Err(error) => tracing::warn!(%error, "could not recall user memories"),
        }
    }

    /// After a completed run: extract memories and refresh the session
    /// summary. Failures are logged; the run's answer stands.
    async fn remember(&mut self) {
        let run_messages = &self.request.messages[self.history_len..];
        if let (Some(manager), Some(user_id)) = (&self.agent.memory, &self.user_id) {
            self.emit(RunEventKind::MemoryUpdateStarted {});
            let agent_id = self.agent.id.as_deref();
            if let Err(error) = manager.update_from_messages(user_id, agent_id, run_messages).await {
                tracing::warn!(%error, "could not update user memories");
            }
            self.emit(RunEventKind::MemoryUpdateCompleted {});
        }
        if let (Some(summarizer), Some(slot)) = (&self.agent.summarizer, &self.slot) {
            self.emit(RunEventKind::SessionSummaryStarted {});
            match summarizer.summarize(slot.session.summary.as_ref(), run_messages).await {
                Ok(summary) => self.new_summary = Some(summary),
                Err(error) => tracing::warn!(%error, "could not write the session summary"),
            }
            self.emit(RunEventKind::SessionSummaryCompleted {});
        }
    }

    /// The loop: a tool step (first, for a continued run), then model turns,
    /// each followed by what [`decide`] says.
    pub(super) async fn drive(&mut self, mut step: Option<ToolStep>) -> Result<Outcome> {
        let settings = &self.agent.settings;
        let limits = Limits {
            max_turns: settings.max_turns,
            max_continuations: settings.max_continuations,
            max_output_retries: settings.max_output_retries,
        };
        loop {
            if let Some(tool_step) = step.take() {
                match self.run_tool_step(tool_step).await? {
                    StepEnd::Continue => {}
                    StepEnd::Paused(paused) => return Ok(Outcome::Paused(paused)),
                    StepEnd::Stop(answer) => return Ok(Outcome::Completed(answer)),
                }
            }
            self.check_cancelled()?;
            may_call_model(&self.counters, limits).map_err(failure)?;
            self.request.tool_choice = tool_choice_for_turn(settings.tool_choice.as_ref(), self.counters.turns);
            let response = self.call_model().await?;
            self.request.resume = false;
            self.counters.usage += response.usage;
            if !response.model.is_empty() {
                self.last_model.clone_from(&response.model);
            }
            if response.request_id.is_some() {
                self.request_id.clone_from(&response.request_id);
            }
            if let Some(model) = &response.fallback_model {
                self.request.model = Some(model.clone());
            }
            let ModelResponse { content, stop_reason, tool_input_errors, usage, .. } = response;
            let tool_names: Vec<&str> = content
                .iter()
                .filter_map(|block| match block {
                    ContentBlock::ToolUse { name, .. } => Some(name.as_str()),
                    _ => None,
                })
                .collect();
            let over_budget = self.budget.charge(usage, tool_names.len() as u32, self.agent.model.pricing()).err();
            let text = crate::message::blocks_text(&content);
            let check = match (&self.structured, tool_names.is_empty()) {
                (Some(structured), true) => Some((structured.validate)(&text)),
                _ => None,
            };
            let answered = Answered {
                stop_reason: &stop_reason,
                last_tool: tool_names.last().copied(),
                only_stopping_tools: tool_names.iter().all(|name| {
                    self.agent.tool_index(name).is_some_and(|index| self.agent.tool_defs[index].stop_after_call)
                }),
                check,
                over_budget,
            };
            let next = decide(&answered, &self.counters, limits);
            if stop_reason == StopReason::PauseTurn {
                self.counters.continuations += 1;
            } else {
                self.counters.continuations = 0;
                self.counters.turns += 1;
                self.stop_reason = stop_reason;
            }
            let next = match next {
                // The refused or overflowing turn is not part of the conversation.
                Next::Fail(reason @ (Failure::Refused(_) | Failure::ContextWindowExceeded)) => {
                    return Err(failure(reason));
                }
                next => next,
            };
            if !content.is_empty() {
                // A paused turn goes back as the trailing assistant message,
                // with no user message after it: the API resumes from it.
                self.request.messages.push(Message::new(Role::Assistant, content));
            }
            match next {
                Next::Resume => self.request.resume = true,
                Next::RunTools => step = Some(self.fresh_step(&tool_input_errors)?),
                Next::Retry(message) => {
                    self.counters.output_retries += 1;
                    self.request.messages.push(Message::user(message));
                }
                Next::Answer => return Ok(Outcome::Completed(text)),
                Next::Fail(reason) => return Err(failure(reason)),
            }
        }
    }

    /// One model call: whole, or streamed with deltas forwarded as events.
    async fn call_model(&mut self) -> Result<ModelResponse> {
        let cancel = self.ctx.cancellation().clone();
        let model = &self.agent.model;
        let model_id = self.request.model.as_deref().unwrap_or(model.id());
        let timed = crate::trace::spans::model_call(model_id, model.provider(), self.counters.turns);
        let call = async {
            let Some(events) = &self.events else {
                let response = model.request(&self.request).await?;
                if self.metrics.time_to_first_token.is_none() {
                    self.metrics.time_to_first_token = Some(self.started.elapsed().as_secs_f64());
                }
                return Ok(response);
            };
            let mut stream = model.stream(&self.request).await?;
            while let Some(event) = stream.next().await {
                let kind = match event? {
                    ModelEvent::Completed(response) => return Ok(response),
                    ModelEvent::TextDelta { text, .. } => RunEventKind::RunContent { content: text },
                    ModelEvent::ThinkingDelta { thinking, .. } => {
                        RunEventKind::ReasoningContentDelta { reasoning_content: thinking }
                    }
                    // What streamed before belongs to the declined attempt.
                    ModelEvent::Fallback { model: fallback } => RunEventKind::ModelRequestStarted {
                        model: fallback,
                        model_provider: model.provider().to_owned(),
                    },
                    _ => continue,
                };
                if self.metrics.time_to_first_token.is_none() {
                    self.metrics.time_to_first_token = Some(self.started.elapsed().as_secs_f64());
                }
                let _ = events.send(event_of(self.agent, &self.ctx, kind));
            }
            Err(Error::Model(ModelError::new(
                ModelErrorKind::Stream,
                "the model's stream ended without a complete response",
            )))
        };
        let call = call.instrument(timed.span());
        let result = super::state::guarded(&cancel, self.slot.as_ref(), self.ctx.run_id(), call).await.and_then(|r| r);
        crate::trace::spans::end_model_call(&timed, &result);
        result
    }

    /// Saves the run, reports how it ended, and builds the output.
    pub(super) async fn finish(mut self, result: Result<Outcome>) -> Result<RunOutput<Value>> {
        self.metrics.set_usage(self.counters.usage);
        self.metrics.turns = self.counters.turns;
        self.metrics.duration = self.started.elapsed().as_secs_f64();
        match result {
            Ok(Outcome::Completed(content)) => {
                self.remember().await;
                let output = self.output(RunStatus::Completed, Value::String(content.clone()), None);
                let saved = self.save(&output, None).await;
                self.release().await;
                if let Err(source) = saved {
                    // The answer is not lost: the caller gets it with the error.
                    return Err(Error::Unsaved { output: Box::new(output.map(String::from_value)), source });
                }
                self.emit(RunEventKind::RunContentCompleted {});
                self.emit(RunEventKind::RunCompleted { content, metrics: self.metrics.clone() });
                Ok(output)
            }
            Ok(Outcome::Paused(mut paused)) => {
                if self.slot.is_none() {
                    paused.history = self.request.messages[..self.history_len].to_vec();
                }
                let tools = paused.pending.iter().map(super::execute::pending_execution).collect();
                let output = self.output(RunStatus::Paused, Value::Null, Some(*paused));
                let saved = self.save(&output, None).await;
                self.release().await;
                if let Err(source) = saved {
                    return Err(Error::Unsaved { output: Box::new(output.map(String::from_value)), source });
                }
                self.emit(RunEventKind::RunPaused { tools });
                Ok(output)
            }
            Err(error) => {
                super::history::close_open_tool_calls(&mut self.request.messages, self.history_len, &error);
                let status = if matches!(error, Error::Cancelled) { RunStatus::Cancelled } else { RunStatus::Error };
                let output = self.output(status, Value::String(self.last_text()), None);
                if let Err(store_error) = self.save(&output, Some(error.report())).await {
                    tracing::warn!(%store_error, "could not save the failed run");
                }
                self.release().await;
                match &error {
                    Error::Cancelled => self.emit(RunEventKind::RunCancelled { reason: error.to_string() }),
                    other => self.emit(RunEventKind::RunError {
                        content: other.report(),
                        error_type: other.kind_name().to_owned(),
                    }),
                }
                Err(error.with_partial(|| output.map(String::from_value)))
            }
        }
    }

    /// Before any model call: refuses input the store cannot hold, and records
    /// the run as running so other processes see it.
    async fn begin(&self) -> Result<()> {
        let Some(slot) = &self.slot else { return Ok(()) };
        slot.check_storable(&self.input_text, &self.ctx.session_state())?;
        let output = self.output(RunStatus::Running, Value::Null, None);
        slot.start(&run_record(&output, self.input_text.clone(), None)).await?;
        Ok(())
    }

    /// Claims the paused run in the store, so only one caller continues it.
    async fn claim(&self) -> Result<()> {
        let Some(slot) = &self.slot else { return Ok(()) };
        let session_id = &slot.session.session_id;
        match slot.store().claim_paused_run(session_id, self.ctx.run_id()).await? {
            Some(_) => Ok(()),
            None => Err(Error::RunClaimed { run_id: self.ctx.run_id().to_owned() }),
        }
    }

    /// Gives the session's lease back.
    async fn release(&self) {
        if let Some(slot) = &self.slot {
            slot.release().await;
        }
    }

    /// Saves the run into its session, when it has one.
    async fn save(&mut self, output: &RunOutput<Value>, error: Option<String>) -> Result<(), StoreError> {
        let Some(slot) = &mut self.slot else { return Ok(()) };
        let record = run_record(output, self.input_text.clone(), error);
        let state = self.ctx.session_state().clone();
        slot.save(&record, state, self.new_summary.take()).await
    }

    fn output(&self, status: RunStatus, content: Value, paused: Option<PausedRun>) -> RunOutput<Value> {
        let id = self.ctx.agent_id().map(str::to_owned);
        let team = self.agent.scope == crate::event::EventScope::Team;
        RunOutput {
            run_id: self.ctx.run_id().to_owned(),
            session_id: self.ctx.session_id().map(str::to_owned),
            user_id: self.user_id.clone(),
            agent_id: if team { None } else { id.clone() },
            team_id: if team { id } else { None },
            workflow_id: None,
            parent_run_id: self.parent_run_id.clone(),
            model: if self.last_model.is_empty() { self.agent.model.id().to_owned() } else { self.last_model.clone() },
            model_provider: self.agent.model.provider().to_owned(),
            status,
            content,
            messages: self.request.messages[self.history_len..].to_vec(),
            tools: self.tools.clone(),
            step_outputs: Vec::new(),
            stop_reason: self.stop_reason.clone(),
            usage: self.counters.usage,
            metrics: self.metrics.clone(),
            metadata: self.metadata.clone(),
            paused,
            request_id: self.request_id.clone(),
            created_at: self.created_at,
        }
    }
}

/// A forced tool choice (any tool, or a named one) applies to the first model
/// turn only; after it the model chooses freely, so it can answer.
fn tool_choice_for_turn(configured: Option<&ToolChoice>, turns: u32) -> Option<ToolChoice> {
    match configured {
        Some(ToolChoice::Any | ToolChoice::Tool { .. }) if turns > 0 => Some(ToolChoice::Auto),
        other => other.cloned(),
    }
}

/// The error for a failure; its partial output is filled in by `finish`.
fn failure(reason: Failure) -> Error {
    let partial = Box::default();
    match reason {
        Failure::Refused(details) => Error::Refused { details, partial },
        Failure::ContextWindowExceeded => Error::ContextWindowExceeded,
        Failure::PauseTurnLimit(limit) => Error::PauseTurnLimit { limit, partial },
        Failure::TruncatedToolCall(tool) => Error::TruncatedToolCall { tool },
        Failure::MaxTurns(limit) => Error::MaxTurns { limit, partial },
        Failure::OutputValidation { attempts, message } => Error::OutputValidation { attempts, message, partial },
        Failure::UsageLimit(limit, used) => Error::UsageLimitExceeded { limit, used, partial },
    }
}

/// Appends a section to the system prompt, separated by a blank line.
fn append_section(instructions: &mut Option<String>, section: &str) {
    match instructions {
        Some(prompt) if !prompt.is_empty() => {
            prompt.push_str("\n\n");
            prompt.push_str(section);
        }
        _ => *instructions = Some(section.to_owned()),
    }
}

/// Builds the system prompt: static parts, dynamic parts, toolkit instructions.
fn system_prompt<D>(agent: &AgentInner<D>, ctx: &RunContext<D>) -> Option<String> {
    match agent.instructions.as_slice() {
        [] => None,
        [Instructions::Static(text)] => Some(text.clone()),
        parts => {
            let mut prompt = String::new();
            for part in parts {
                let text = match part {
                    Instructions::Static(text) => text.clone(),
                    Instructions::Dynamic(f) => f(ctx),
                };
                if text.is_empty() {
                    continue;
                }
                if !prompt.is_empty() {
                    prompt.push_str("\n\n");
                }
                prompt.push_str(&text);
            }
            Some(prompt)
        }
    }
}

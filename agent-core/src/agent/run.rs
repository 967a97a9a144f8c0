//! The tool-runner loop: call the model, run the tools it asks for, repeat.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::execute::TurnEnd;
use super::structured::Structured;
use super::{Agent, AgentInner, Instructions, RunInput, RunOptions};
use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::event::{EventScope, RunEvent, RunEventKind};
use crate::hitl::{LoopCounters, PausedRun};
use crate::message::{ContentBlock, Message, Role, StopReason, ToolResultContent};
use crate::model::{ModelError, ModelErrorKind, ModelEvent, ModelRequest, ModelResponse};
use crate::output::{RunMetrics, RunOutput};
use crate::session::{RunStatus, Session, unix_now};

pub(crate) type EventSink = UnboundedSender<RunEvent>;

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
    pub(super) structured: Option<&'a Structured>,
    pub(super) tool_cache: HashMap<String, ToolResultContent>,
    pub(super) session: Option<Session>,
    pub(super) user_id: Option<String>,
    pub(super) parent_run_id: Option<String>,
    pub(super) last_model: String,
    pub(super) stop_reason: StopReason,
    /// A summary written after this run, saved with the session.
    pub(super) new_summary: Option<crate::session::SessionSummary>,
}

/// How the loop ended when it did not fail.
pub(crate) enum Outcome {
    Completed(String),
    Paused(Box<PausedRun>),
}

impl<D: Send + Sync + 'static> Agent<D> {
    /// Runs the agent on `input` until it answers.
    ///
    /// # Errors
    ///
    /// See [`Error`]: the model failed, a limit was hit, a tool failed fatally,
    /// the model refused, the store failed.
    pub async fn run(&self, input: impl Into<RunInput>) -> Result<RunOutput> {
        self.run_with(input, RunOptions::new()).await
    }

    /// Runs the agent with per-run options (session, user, dependencies,
    /// cancellation).
    ///
    /// # Errors
    ///
    /// As for [`Agent::run`]; [`Error::Cancelled`] when the token is cancelled.
    pub async fn run_with(&self, input: impl Into<RunInput>, options: RunOptions<D>) -> Result<RunOutput> {
        self.start(input.into(), options, None, None).await
    }

    pub(crate) async fn start(
        &self,
        input: RunInput,
        options: RunOptions<D>,
        events: Option<EventSink>,
        structured: Option<&Structured>,
    ) -> Result<RunOutput> {
        let run_id: Arc<str> = options.run_id.clone().unwrap_or_else(|| Arc::from(uuid::Uuid::now_v7().to_string()));
        let mut run = Run::prepare(&self.inner, run_id, options, events, structured).await?;
        run.input_text = input.text();
        run.request.messages.push(input.into_message());
        run.emit_started();
        run.recall().await;
        let result = run.drive().await;
        run.finish(result).await
    }
}

impl<'a, D: Send + Sync + 'static> Run<'a, D> {
    pub(super) async fn prepare(
        agent: &'a AgentInner<D>,
        run_id: Arc<str>,
        mut options: RunOptions<D>,
        events: Option<EventSink>,
        structured: Option<&'a Structured>,
    ) -> Result<Self> {
        let deps =
            options.deps.take().or_else(|| agent.deps.clone()).ok_or_else(|| {
                Error::Config("no dependencies: give them to the builder or in RunOptions::deps".into())
            })?;
        let loaded = super::history::load(agent, &options).await?;
        let session_id: Option<Arc<str>> = options.session_id.map(Arc::from);
        let user_id = options.user_id.or_else(|| loaded.session.as_ref().and_then(|s| s.user_id.clone()));
        let mut builder = RunContext::builder(deps, run_id)
            .session_id(session_id)
            .user_id(user_id.as_deref().map(Arc::from))
            .agent_id(agent.id.clone())
            .session_state(loaded.state);
        if let Some(token) = options.cancel {
            builder = builder.cancel(token);
        }
        let ctx = builder.build();
        let mut instructions = system_prompt(agent, &ctx);
        if agent.settings.summary_in_context
            && let Some(summary) = loaded.session.as_ref().and_then(|s| s.summary.as_ref())
        {
            append_section(&mut instructions, &format!("Summary of the conversation so far:\n{}", summary.summary));
        }
        let request = ModelRequest {
            model: None,
            instructions,
            messages: loaded.messages,
            tools: Arc::clone(&agent.tool_defs),
            tool_choice: agent.settings.tool_choice.clone(),
            disable_parallel_tool_use: agent.settings.disable_parallel_tool_use,
            max_tokens: agent.settings.max_tokens,
            output_schema: structured.map(|s| s.schema.clone()),
            options: agent.settings.model_options.clone(),
            resume: false,
        };
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
            session: loaded.session,
            user_id,
            parent_run_id: options.parent_run_id,
            last_model: String::new(),
            stop_reason: StopReason::EndTurn,
            new_summary: None,
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
        if let (Some(summarizer), Some(_), Some(_)) = (&self.agent.summarizer, &self.agent.store, self.ctx.session_id())
        {
            self.emit(RunEventKind::SessionSummaryStarted {});
            let previous = self.session.as_ref().and_then(|session| session.summary.as_ref());
            match summarizer.summarize(previous, run_messages).await {
                Ok(summary) => self.new_summary = Some(summary),
                Err(error) => tracing::warn!(%error, "could not write the session summary"),
            }
            self.emit(RunEventKind::SessionSummaryCompleted {});
        }
    }

    /// The loop itself, bounded by `max_turns` and `max_continuations`.
    pub(super) async fn drive(&mut self) -> Result<Outcome> {
        let settings = &self.agent.settings;
        loop {
            self.check_cancelled()?;
            let response = self.call_model().await?;
            self.request.resume = false;
            self.counters.usage += response.usage;
            if !response.model.is_empty() {
                self.last_model.clone_from(&response.model);
            }
            if let Some(model) = &response.fallback_model {
                self.request.model = Some(model.clone());
            }
            match &response.stop_reason {
                StopReason::Refusal { details } => return Err(Error::Refused { details: details.clone() }),
                StopReason::ModelContextWindowExceeded => return Err(Error::ContextWindowExceeded),
                StopReason::PauseTurn => {
                    self.counters.continuations += 1;
                    if self.counters.continuations > settings.max_continuations {
                        return Err(Error::PauseTurnLimit { limit: settings.max_continuations });
                    }
                    // The paused content goes back as the trailing assistant turn,
                    // with no extra user message: the API resumes from it.
                    if !response.content.is_empty() {
                        self.request.messages.push(Message::new(Role::Assistant, response.content));
                    }
                    self.request.resume = true;
                    continue;
                }
                _ => self.counters.continuations = 0,
            }
            self.counters.turns += 1;
            let ModelResponse { content, stop_reason, tool_input_errors, .. } = response;
            let last_tool = content.iter().rev().find_map(|block| match block {
                ContentBlock::ToolUse { name, .. } => Some(name.clone()),
                _ => None,
            });
            if let (StopReason::MaxTokens, Some(tool)) = (&stop_reason, &last_tool) {
                return Err(Error::TruncatedToolCall { tool: tool.clone() });
            }
            self.stop_reason = stop_reason;
            if !content.is_empty() {
                self.request.messages.push(Message::new(Role::Assistant, content));
            }
            if last_tool.is_some() {
                match self.run_tool_turn(&tool_input_errors).await? {
                    TurnEnd::Continue => {}
                    TurnEnd::Paused(paused) => return Ok(Outcome::Paused(paused)),
                    TurnEnd::Stop(answer) => return Ok(Outcome::Completed(answer)),
                }
                if self.counters.turns >= settings.max_turns {
                    return Err(Error::MaxTurns { limit: settings.max_turns });
                }
                continue;
            }
            let text = self.final_text();
            if let Some(structured) = self.structured
                && let Err(message) = (structured.validate)(&text)
            {
                self.counters.output_retries += 1;
                if self.counters.output_retries > settings.max_output_retries {
                    return Err(Error::OutputValidation { attempts: self.counters.output_retries, message });
                }
                if self.counters.turns >= settings.max_turns {
                    return Err(Error::MaxTurns { limit: settings.max_turns });
                }
                self.request.messages.push(Message::user(format!(
                    "Your answer does not match the required JSON schema: {message}. \
                     Answer again with only a JSON value that matches the schema."
                )));
                continue;
            }
            return Ok(Outcome::Completed(text));
        }
    }

    /// One model call: whole, or streamed with deltas forwarded as events.
    async fn call_model(&mut self) -> Result<ModelResponse> {
        let cancel = self.ctx.cancellation().clone();
        let model = &self.agent.model;
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
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(Error::Cancelled),
            result = call => result,
        }
    }

    pub(super) fn check_cancelled(&self) -> Result<()> {
        if self.ctx.is_cancelled() { Err(Error::Cancelled) } else { Ok(()) }
    }

    fn final_text(&self) -> String {
        match self.request.messages.last() {
            Some(message) if message.role == Role::Assistant && self.request.messages.len() > self.history_len => {
                message.text()
            }
            _ => String::new(),
        }
    }

    pub(super) fn emit(&self, kind: RunEventKind) {
        if let Some(events) = &self.events {
            let _ = events.send(event_of(self.agent, &self.ctx, kind));
        }
    }

    fn emit_started(&self) {
        if self.events.is_some() {
            self.emit(RunEventKind::RunStarted {
                model: self.agent.model.id().to_owned(),
                model_provider: self.agent.model.provider().to_owned(),
            });
        }
    }

    /// Saves the run, reports how it ended, and builds the output.
    pub(super) async fn finish(mut self, result: Result<Outcome>) -> Result<RunOutput> {
        self.metrics.set_usage(self.counters.usage);
        self.metrics.turns = self.counters.turns;
        self.metrics.duration = self.started.elapsed().as_secs_f64();
        match result {
            Ok(Outcome::Completed(content)) => {
                self.remember().await;
                self.save(RunStatus::Completed, Some(content.clone()), None, None).await?;
                self.emit(RunEventKind::RunContentCompleted {});
                self.emit(RunEventKind::RunCompleted { content: content.clone(), metrics: self.metrics.clone() });
                Ok(self.into_output(RunStatus::Completed, content, None))
            }
            Ok(Outcome::Paused(mut paused)) => {
                paused.created_at = self.created_at;
                if self.agent.store.is_none() || self.ctx.session_id().is_none() {
                    paused.history = self.request.messages[..self.history_len].to_vec();
                }
                self.save(RunStatus::Paused, None, None, Some((*paused).clone())).await?;
                let tools = paused.pending.iter().map(super::execute::pending_execution).collect();
                self.emit(RunEventKind::RunPaused { tools });
                Ok(self.into_output(RunStatus::Paused, String::new(), Some(*paused)))
            }
            Err(error) => {
                super::history::close_open_tool_calls(&mut self.request.messages, self.history_len, &error);
                let status = if matches!(error, Error::Cancelled) { RunStatus::Cancelled } else { RunStatus::Error };
                if let Err(store_error) = self.save(status, None, Some(error.to_string()), None).await {
                    tracing::warn!(%store_error, "could not save the failed run");
                }
                match &error {
                    Error::Cancelled => self.emit(RunEventKind::RunCancelled { reason: error.to_string() }),
                    other => self.emit(RunEventKind::RunError {
                        content: other.to_string(),
                        error_type: error_type(other).to_owned(),
                    }),
                }
                Err(error)
            }
        }
    }

    fn into_output(mut self, status: RunStatus, content: String, paused: Option<PausedRun>) -> RunOutput {
        let messages = self.request.messages.split_off(self.history_len);
        RunOutput {
            run_id: self.ctx.run_id().to_owned(),
            session_id: self.ctx.session_id().map(str::to_owned),
            agent_id: self.ctx.agent_id().map(str::to_owned),
            model: if self.last_model.is_empty() { self.agent.model.id().to_owned() } else { self.last_model },
            status,
            content,
            messages,
            stop_reason: self.stop_reason,
            usage: self.counters.usage,
            metrics: self.metrics,
            paused,
        }
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
                if !prompt.is_empty() {
                    prompt.push_str("\n\n");
                }
                match part {
                    Instructions::Static(text) => prompt.push_str(text),
                    Instructions::Dynamic(f) => prompt.push_str(&f(ctx)),
                }
            }
            Some(prompt)
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

/// The name of an error's kind, as `RunError` events report it.
pub(crate) fn error_type(error: &Error) -> &'static str {
    match error {
        Error::Model(_) => "ModelError",
        Error::MaxTurns { .. } => "MaxTurns",
        Error::ToolCallLimit { .. } => "ToolCallLimit",
        Error::ToolRetriesExhausted { .. } => "ToolRetriesExhausted",
        Error::ToolFailed { .. } => "ToolFailed",
        Error::Hook(_) => "Hook",
        Error::Refused { .. } => "Refused",
        Error::TruncatedToolCall { .. } => "TruncatedToolCall",
        Error::PauseTurnLimit { .. } => "PauseTurnLimit",
        Error::ContextWindowExceeded => "ContextWindowExceeded",
        Error::OutputValidation { .. } => "OutputValidation",
        Error::StepFailed { .. } => "StepFailed",
        Error::InvalidInput(_) => "InvalidInput",
        Error::Cancelled => "Cancelled",
        Error::Store(_) => "Store",
        Error::Continue(_) => "Continue",
        Error::Config(_) => "Config",
    }
}

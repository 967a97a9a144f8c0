//! The spans the loop opens and closes (runs, model calls, tool calls, delegations, steps), with the fields the module docs list.
//!
//! Every helper checks [`Span::is_disabled`] first: with no subscriber
//! interested, a span costs a branch, and no field is computed.

use serde_json::Value;
use tokio::time::Instant;
use tracing::Span;
use tracing::field::Empty;

use super::TARGET;
use crate::error::{Error, Result};
use crate::message::StopReason;
use crate::model::ModelResponse;
use crate::output::RunOutput;
use crate::request::{RunOptions, Start};
use crate::runnable::RunContent;
use crate::session::{RunStatus, SessionType};
use crate::tool::{ToolError, ToolOutput};

/// A span and when its work started, by the runtime's clock.
pub(crate) struct Timed {
    span: Span,
    started: Instant,
}

impl Timed {
    fn new(span: Span) -> Self {
        Self { span, started: Instant::now() }
    }

    /// The span, to instrument the work with.
    pub(crate) fn span(&self) -> Span {
        self.span.clone()
    }

    fn on(&self) -> bool {
        !self.span.is_disabled()
    }

    /// Records the output (when there is one), the status and the duration.
    fn finish(&self, outcome: std::result::Result<Option<&str>, &str>) {
        match outcome {
            Ok(output) => {
                if let Some(output) = output {
                    self.span.record("output", output);
                }
                self.span.record("otel.status_code", "OK");
            }
            Err(message) => {
                self.span.record("otel.status_code", "ERROR");
                self.span.record("otel.status_message", message);
            }
        }
        self.span.record("duration_ms", self.started.elapsed().as_secs_f64() * 1000.0);
    }
}

macro_rules! run_span {
    ($name:literal) => {
        tracing::info_span!(
            target: TARGET,
            $name,
            otel.name = Empty,
            otel.status_code = Empty,
            otel.status_message = Empty,
            duration_ms = Empty,
            run_id = Empty,
            session_id = Empty,
            user_id = Empty,
            agent_id = Empty,
            team_id = Empty,
            workflow_id = Empty,
            parent_run_id = Empty,
            input = Empty,
            output = Empty,
            run_status = Empty,
        )
    };
}

/// The span of an agent's, team's or workflow's run. A new run gets its id
/// here, so the span has it from the start.
pub(crate) fn run<D>(
    kind: SessionType,
    id: Option<&str>,
    name: Option<&str>,
    options: &mut RunOptions<D>,
    start: &Start,
) -> Timed {
    let span = match kind {
        SessionType::Agent => run_span!("agent.run"),
        SessionType::Team => run_span!("team.run"),
        SessionType::Workflow => run_span!("workflow.run"),
    };
    let timed = Timed::new(span);
    if !timed.on() {
        return timed;
    }
    let span = &timed.span;
    span.record("otel.name", format!("{}.run", name.or(id).unwrap_or(kind.as_str())));
    let id_field = match kind {
        SessionType::Agent => "agent_id",
        SessionType::Team => "team_id",
        SessionType::Workflow => "workflow_id",
    };
    if let Some(id) = id {
        span.record(id_field, id);
    }
    if let Start::Input(input) = start {
        span.record("run_id", &*options.run_id_or_new());
        span.record("input", input.text());
    }
    for (field, value) in
        [("session_id", &options.session_id), ("user_id", &options.user_id), ("parent_run_id", &options.parent_run_id)]
    {
        if let Some(value) = value {
            span.record(field, value.as_str());
        }
    }
    timed
}

/// Ends a run's span with what its output says (ids the run found on the way,
/// such as a continued run's session, included).
pub(crate) fn end_run(timed: &Timed, result: &Result<RunOutput<Value>>) {
    if !timed.on() {
        return;
    }
    let span = &timed.span;
    let ids = match result {
        Ok(output) => Some((&output.run_id, &output.session_id, &output.user_id, output.status.as_str())),
        Err(error) => error.partial_output().map(|output| (&output.run_id, &output.session_id, &output.user_id, "")),
    };
    if let Some((run_id, session_id, user_id, status)) = ids {
        span.record("run_id", run_id.as_str());
        for (field, value) in [("session_id", session_id), ("user_id", user_id)] {
            if let Some(value) = value {
                span.record(field, value.as_str());
            }
        }
        if !status.is_empty() {
            span.record("run_status", status);
        }
    }
    match result {
        Ok(output) if output.status == RunStatus::Paused => timed.finish(Ok(None)),
        Ok(output) => timed.finish(Ok(Some(&output.content.to_text()))),
        Err(error) => {
            span.record("run_status", if matches!(error, Error::Cancelled) { "cancelled" } else { "error" });
            timed.finish(Err(&error.report()));
        }
    }
}

/// The span of one model call.
pub(crate) fn model_call(model: &str, provider: &str, turn: u32) -> Timed {
    let span = tracing::info_span!(
        target: TARGET,
        "model.call",
        otel.name = Empty,
        otel.status_code = Empty,
        otel.status_message = Empty,
        duration_ms = Empty,
        model = Empty,
        provider = Empty,
        turn,
        input_tokens = Empty,
        output_tokens = Empty,
        cache_read_tokens = Empty,
        cache_write_tokens = Empty,
        stop_reason = Empty,
        output = Empty,
    );
    let timed = Timed::new(span);
    if timed.on() {
        timed.span.record("otel.name", format!("{model}.invoke"));
        timed.span.record("model", model);
        timed.span.record("provider", provider);
    }
    timed
}

/// Ends a model call's span with its usage and text, or its error.
pub(crate) fn end_model_call(timed: &Timed, result: &Result<ModelResponse>) {
    if !timed.on() {
        return;
    }
    match result {
        Ok(response) => {
            let span = &timed.span;
            if !response.model.is_empty() {
                span.record("model", response.model.as_str());
            }
            span.record("input_tokens", response.usage.input_tokens);
            span.record("output_tokens", response.usage.output_tokens);
            span.record("cache_read_tokens", response.usage.cache_read_input_tokens);
            span.record("cache_write_tokens", response.usage.cache_creation_input_tokens);
            span.record("stop_reason", stop_reason_name(&response.stop_reason));
            let text = crate::message::blocks_text(&response.content);
            timed.finish(Ok(Some(&text).filter(|text| !text.is_empty()).map(String::as_str)));
        }
        Err(error) => timed.finish(Err(&error.report())),
    }
}

fn stop_reason_name(reason: &StopReason) -> &str {
    match reason {
        StopReason::EndTurn => "end_turn",
        StopReason::ToolUse => "tool_use",
        StopReason::MaxTokens => "max_tokens",
        StopReason::StopSequence { .. } => "stop_sequence",
        StopReason::PauseTurn => "pause_turn",
        StopReason::Refusal { .. } => "refusal",
        StopReason::ModelContextWindowExceeded => "model_context_window_exceeded",
        StopReason::Unknown { value } => value,
    }
}

/// The span of one tool call; the arguments are formatted only if a
/// subscriber reads them.
pub(crate) fn tool_call(tool_name: &str, tool_call_id: &str, retry: u32, input: &Value) -> Timed {
    let span = tracing::info_span!(
        target: TARGET,
        "tool.call",
        otel.name = tool_name,
        otel.status_code = Empty,
        otel.status_message = Empty,
        duration_ms = Empty,
        tool_name,
        tool_call_id,
        retry,
        input = %input,
        output = Empty,
        is_error = Empty,
        paused = Empty,
    );
    Timed::new(span)
}

/// Ends a tool call's span: its result, a retryable or fatal error, or a pause.
pub(crate) fn end_tool_call(timed: &Timed, result: &std::result::Result<ToolOutput, ToolError>) {
    if !timed.on() {
        return;
    }
    let span = &timed.span;
    match result {
        Ok(output) => {
            span.record("is_error", false);
            timed.finish(Ok(Some(&output.content.to_text())));
        }
        Err(ToolError::Pause(_)) => {
            span.record("paused", true);
            timed.finish(Ok(None));
        }
        Err(error) => {
            span.record("is_error", true);
            timed.finish(Err(&error.to_string()));
        }
    }
}

/// The span of a team handing a task to a member (`task` is `None` when
/// the member's paused run is continued).
pub(crate) fn delegation(team_id: &str, member_id: &str, task: Option<&str>) -> Timed {
    let span = tracing::info_span!(
        target: TARGET,
        "team.delegate",
        otel.name = Empty,
        otel.status_code = Empty,
        otel.status_message = Empty,
        duration_ms = Empty,
        team_id,
        member_id,
        input = task,
        output = Empty,
    );
    let timed = Timed::new(span);
    if timed.on() {
        timed.span.record("otel.name", format!("delegate to {member_id}"));
    }
    timed
}

/// Ends a delegation's span with the member's answer or error.
pub(crate) fn end_delegation(timed: &Timed, result: &Result<RunOutput<Value>>) {
    if !timed.on() {
        return;
    }
    match result {
        Ok(output) if output.paused.is_some() => timed.finish(Ok(None)),
        Ok(output) => timed.finish(Ok(Some(&output.content.to_text()))),
        Err(error) => timed.finish(Err(&error.report())),
    }
}

/// The span of one workflow step (a leaf or a construct).
pub(crate) fn step(workflow_id: &str, step_name: &str, step_index: usize, step_type: &str) -> Timed {
    let span = tracing::info_span!(
        target: TARGET,
        "workflow.step",
        otel.name = step_name,
        otel.status_code = Empty,
        otel.status_message = Empty,
        duration_ms = Empty,
        workflow_id,
        step_name,
        step_index,
        step_type,
        output = Empty,
        paused = Empty,
    );
    Timed::new(span)
}

/// Ends a step's span: its output (`None` for a pause), or its error.
pub(crate) fn end_step(timed: &Timed, result: std::result::Result<Option<&Value>, &Error>) {
    if !timed.on() {
        return;
    }
    match result {
        Ok(Some(output)) => timed.finish(Ok(Some(&output.to_text()))),
        Ok(None) => {
            timed.span.record("paused", true);
            timed.finish(Ok(None));
        }
        Err(error) => timed.finish(Err(&error.report())),
    }
}

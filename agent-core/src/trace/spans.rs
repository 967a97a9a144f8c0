//! The spans the loop opens and closes (runs, model calls, tool calls, delegations, steps), with the fields the module docs list.
//!
//! Field values are computed only when a subscriber is interested (the
//! span macros evaluate them only then, and the end helpers return early
//! for a disabled span). What is known at the start is given when the span
//! is made; what is known at the end is recorded in one call, so a
//! subscriber sees two field visits per span, not one per field.

use serde_json::Value;
use tokio::time::Instant;
use tracing::Span;
use tracing::field::{Empty, Field};

use super::TARGET;
use crate::error::{Error, Result};
use crate::message::{ContentBlock, StopReason, ToolResultContent};
use crate::model::ModelResponse;
use crate::output::RunOutput;
use crate::request::{RunOptions, Start};
use crate::session::{RunStatus, SessionType};
use crate::tool::{ToolError, ToolOutput};

/// A span and when its work started, by the runtime's clock.
pub(crate) struct Timed {
    span: Span,
    started: Instant,
}

/// A field value for [`record`], if there is one.
type Slot<'a> = (&'static str, Option<&'a dyn tracing::Value>);

impl Timed {
    fn new(span: Span) -> Self {
        Self { span, started: Instant::now() }
    }

    /// The span, to instrument the work with.
    pub(crate) fn span(&self) -> Span {
        self.span.clone()
    }

    fn off(&self) -> bool {
        self.span.is_disabled()
    }

    /// Records the end fields in one call: `extra` (at most [`EXTRA`]), the
    /// output, the status (an error's message for an `Err`) and the duration.
    fn finish(&self, extra: &[Slot<'_>], outcome: std::result::Result<Option<Text<'_>>, &str>) {
        let (output, status, message) = match outcome {
            Ok(output) => (output.filter(|text| !text.is_empty()).map(tracing::field::display), "OK", None),
            Err(message) => (None, "ERROR", Some(message)),
        };
        let duration_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let mut all: [Slot<'_>; EXTRA + 4] = [("", None); EXTRA + 4];
        let extra = &extra[..extra.len().min(EXTRA)];
        all[..extra.len()].copy_from_slice(extra);
        all[EXTRA..].copy_from_slice(&[
            ("output", output.as_ref().map(|value| value as &dyn tracing::Value)),
            ("otel.status_code", Some(&status)),
            ("otel.status_message", message.as_ref().map(|value| value as &dyn tracing::Value)),
            ("duration_ms", Some(&duration_ms)),
        ]);
        record(&self.span, all);
    }
}

/// At most this many fields besides the output, status and duration are recorded at a span's end.
const EXTRA: usize = 6;

/// An output, formatted only when a subscriber reads it.
#[derive(Clone, Copy)]
enum Text<'a> {
    /// The text blocks of a model's answer.
    Blocks(&'a [ContentBlock]),
    /// A run's or step's content: a string as it is, other JSON serialized.
    Content(&'a Value),
    /// A tool's result.
    Tool(&'a ToolResultContent),
}

impl Text<'_> {
    fn is_empty(&self) -> bool {
        match self {
            Self::Blocks(blocks) => {
                !blocks.iter().any(|block| matches!(block, ContentBlock::Text { text, .. } if !text.is_empty()))
            }
            Self::Content(Value::String(text)) | Self::Tool(ToolResultContent::Text(text)) => text.is_empty(),
            Self::Content(value) => value.is_null(),
            Self::Tool(ToolResultContent::Json(_)) => false,
            Self::Tool(ToolResultContent::Blocks(blocks)) => Self::Blocks(blocks).is_empty(),
        }
    }
}

impl std::fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let blocks: &[ContentBlock] = match *self {
            Self::Blocks(blocks) => blocks,
            Self::Tool(ToolResultContent::Blocks(blocks)) => blocks,
            Self::Content(Value::String(text)) | Self::Tool(ToolResultContent::Text(text)) => return f.write_str(text),
            Self::Content(value) | Self::Tool(ToolResultContent::Json(value)) => return write!(f, "{value}"),
        };
        for block in blocks {
            if let ContentBlock::Text { text, .. } = block {
                f.write_str(text)?;
            }
        }
        Ok(())
    }
}

/// Records several fields of `span` in one call (the names are fields the
/// span declared; `None` values and unknown names are skipped).
fn record<const N: usize>(span: &Span, values: [Slot<'_>; N]) {
    if N == 0 || values.iter().all(|(_, value)| value.is_none()) {
        return;
    }
    let Some(metadata) = span.metadata() else { return };
    let fields = metadata.fields();
    let Some(any) = fields.iter().next() else { return };
    let found: [Option<Field>; N] = values.each_ref().map(|(name, _)| fields.field(name));
    let keys: [Field; N] = std::array::from_fn(|index| found[index].clone().unwrap_or_else(|| any.clone()));
    let pairs: [(&Field, Option<&dyn tracing::Value>); N] =
        std::array::from_fn(|index| (&keys[index], values[index].1.filter(|_| found[index].is_some())));
    span.record_all(&fields.value_set(&pairs));
}

macro_rules! run_span {
    ($name:literal, $display:expr, $agent:expr, $team:expr, $workflow:expr, $run_id:expr, $options:expr, $input:expr) => {
        tracing::info_span!(
            target: TARGET,
            $name,
            otel.name = %$display,
            otel.status_code = Empty,
            otel.status_message = Empty,
            duration_ms = Empty,
            run_id = $run_id,
            session_id = $options.session_id.as_deref(),
            user_id = $options.user_id.as_deref(),
            agent_id = $agent,
            team_id = $team,
            workflow_id = $workflow,
            parent_run_id = $options.parent_run_id.as_deref(),
            input = $input,
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
    let run_id = match start {
        Start::Input(_) => Some(options.run_id_or_new()),
        Start::Continue { .. } => None,
    };
    let options = &*options;
    let shown = name.or(id).unwrap_or(kind.as_str());
    let run_id = run_id.as_deref();
    let input = || match start {
        Start::Input(input) => Some(input.text()),
        Start::Continue { .. } => None,
    };
    let span = match kind {
        SessionType::Agent => {
            run_span!(
                "agent.run",
                format_args!("{shown}.run"),
                id,
                None::<&str>,
                None::<&str>,
                run_id,
                options,
                input()
            )
        }
        SessionType::Team => {
            run_span!("team.run", format_args!("{shown}.run"), None::<&str>, id, None::<&str>, run_id, options, input())
        }
        SessionType::Workflow => {
            run_span!(
                "workflow.run",
                format_args!("{shown}.run"),
                None::<&str>,
                None::<&str>,
                id,
                run_id,
                options,
                input()
            )
        }
    };
    Timed::new(span)
}

/// Ends a run's span with what its output says (ids the run found on the way,
/// such as a continued run's session, included).
pub(crate) fn end_run(timed: &Timed, result: &Result<RunOutput<Value>>) {
    if timed.off() {
        return;
    }
    let (ids, status) = match result {
        Ok(output) => (Some((&output.run_id, &output.session_id, &output.user_id)), output.status.as_str()),
        Err(error) => (
            error.partial_output().map(|output| (&output.run_id, &output.session_id, &output.user_id)),
            if matches!(error, Error::Cancelled) { RunStatus::Cancelled.as_str() } else { RunStatus::Error.as_str() },
        ),
    };
    let run_id = ids.map(|(run_id, _, _)| run_id.as_str());
    let session_id = ids.and_then(|(_, session_id, _)| session_id.as_deref());
    let user_id = ids.and_then(|(_, _, user_id)| user_id.as_deref());
    let extra = [
        ("run_id", run_id.as_ref().map(|value| value as &dyn tracing::Value)),
        ("session_id", session_id.as_ref().map(|value| value as &dyn tracing::Value)),
        ("user_id", user_id.as_ref().map(|value| value as &dyn tracing::Value)),
        ("run_status", Some(&status as &dyn tracing::Value)),
    ];
    match result {
        Ok(output) if output.status == RunStatus::Paused => timed.finish(&extra, Ok(None)),
        Ok(output) => timed.finish(&extra, Ok(Some(Text::Content(&output.content)))),
        Err(error) => timed.finish(&extra, Err(&error.report())),
    }
}

/// The span of one model call.
pub(crate) fn model_call(model: &str, provider: &str, turn: u32) -> Timed {
    let span = tracing::info_span!(
        target: TARGET,
        "model.call",
        otel.name = %format_args!("{model}.invoke"),
        otel.status_code = Empty,
        otel.status_message = Empty,
        duration_ms = Empty,
        model,
        provider,
        turn,
        input_tokens = Empty,
        output_tokens = Empty,
        cache_read_tokens = Empty,
        cache_write_tokens = Empty,
        stop_reason = Empty,
        output = Empty,
    );
    Timed::new(span)
}

/// Ends a model call's span with its usage and text, or its error.
pub(crate) fn end_model_call(timed: &Timed, result: &Result<ModelResponse>) {
    if timed.off() {
        return;
    }
    match result {
        Ok(response) => {
            let usage = &response.usage;
            let model = Some(response.model.as_str()).filter(|model| !model.is_empty());
            let stop_reason = stop_reason_name(&response.stop_reason);
            let extra = [
                ("model", model.as_ref().map(|value| value as &dyn tracing::Value)),
                ("input_tokens", Some(&usage.input_tokens as &dyn tracing::Value)),
                ("output_tokens", Some(&usage.output_tokens)),
                ("cache_read_tokens", Some(&usage.cache_read_input_tokens)),
                ("cache_write_tokens", Some(&usage.cache_creation_input_tokens)),
                ("stop_reason", Some(&stop_reason)),
            ];
            timed.finish(&extra, Ok(Some(Text::Blocks(&response.content))));
        }
        Err(error) => timed.finish(&[], Err(&error.report())),
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
    if timed.off() {
        return;
    }
    match result {
        Ok(output) => timed.finish(&[("is_error", Some(&false))], Ok(Some(Text::Tool(&output.content)))),
        Err(ToolError::Pause(_)) => timed.finish(&[("paused", Some(&true))], Ok(None)),
        Err(error) => timed.finish(&[("is_error", Some(&true))], Err(&error.to_string())),
    }
}

/// The span of a team handing a task to a member (`task` is `None` when
/// the member's paused run is continued).
pub(crate) fn delegation(team_id: &str, member_id: &str, task: Option<&str>) -> Timed {
    let span = tracing::info_span!(
        target: TARGET,
        "team.delegate",
        otel.name = %format_args!("delegate to {member_id}"),
        otel.status_code = Empty,
        otel.status_message = Empty,
        duration_ms = Empty,
        team_id,
        member_id,
        input = task,
        output = Empty,
    );
    Timed::new(span)
}

/// Ends a delegation's span with the member's answer or error.
pub(crate) fn end_delegation(timed: &Timed, result: &Result<RunOutput<Value>>) {
    if timed.off() {
        return;
    }
    match result {
        Ok(output) if output.paused.is_some() => timed.finish(&[], Ok(None)),
        Ok(output) => timed.finish(&[], Ok(Some(Text::Content(&output.content)))),
        Err(error) => timed.finish(&[], Err(&error.report())),
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
    if timed.off() {
        return;
    }
    match result {
        Ok(Some(output)) => timed.finish(&[], Ok(Some(Text::Content(output)))),
        Ok(None) => timed.finish(&[("paused", Some(&true))], Ok(None)),
        Err(error) => timed.finish(&[], Err(&error.report())),
    }
}

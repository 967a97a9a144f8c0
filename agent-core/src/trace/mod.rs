//! Traces: the `tracing` spans the loop emits, and the stored form of a finished trace.
//!
//! The loop emits [`tracing`] spans and nothing else: `agent-core` never
//! stores, sends or formats a trace. A subscriber decides what happens to
//! them — `agent_memory::TraceLayer` stores finished traces through a
//! [`TraceStore`], an OpenTelemetry layer exports them, a `fmt` layer prints
//! them, and with no subscriber they cost a branch each.
//!
//! # The spans
//!
//! Every span has the target [`TARGET`] and level `INFO`. Its `tracing` name
//! says what it is ([`SpanKind::from_span_name`]); the display name is the
//! `otel.name` field (the OpenTelemetry convention, so an OpenTelemetry
//! layer shows the same names). Fields set when the span ends:
//! `otel.status_code` (`OK` or `ERROR`), `otel.status_message` (the error),
//! `duration_ms` (the time it took, by the runtime's clock) and, where there
//! is one, `output`.
//!
//! | span | kind | `otel.name` | fields |
//! |---|---|---|---|
//! | `agent.run`, `team.run`, `workflow.run` | [`Agent`](SpanKind::Agent), [`Team`](SpanKind::Team), [`Workflow`](SpanKind::Workflow) | `<name or id>.run` | `run_id`, `session_id`, `user_id`, `agent_id` / `team_id` / `workflow_id`, `parent_run_id`, `input`, `output`, `run_status` |
//! | `model.call` | [`Llm`](SpanKind::Llm) | `<model>.invoke` | `model`, `provider`, `turn`; `input_tokens`, `output_tokens`, `cache_read_tokens`, `cache_write_tokens`, `stop_reason`, `output` |
//! | `tool.call` | [`Tool`](SpanKind::Tool) | the tool's name | `tool_name`, `tool_call_id`, `retry`, `input` (the arguments as JSON); `output`, `is_error`, `paused` |
//! | `team.delegate` | [`Delegation`](SpanKind::Delegation) | `delegate to <member>` | `team_id`, `member_id`, `input` (the task); `output` |
//! | `workflow.step` | [`Step`](SpanKind::Step) | the step's name | `workflow_id`, `step_name`, `step_index`, `step_type`; `output` |
//!
//! A team's leader runs inside the `team.run` span (it has no span of its
//! own), so a team trace reads `team.run` → `model.call`, `tool.call` →
//! `team.delegate` → the member's `agent.run` → ... A run started inside
//! another (a member, a step) is a child span; a run with no run span above
//! it starts a trace of its own.

mod expr;
mod filter;
mod in_memory;
mod record;
pub(crate) mod spans;
mod store;
mod time;

pub use filter::{Comparison, FilterError, FilterValue, MAX_FILTER_DEPTH, TraceField, TraceFilter};
pub use in_memory::InMemoryTraceStore;
pub use record::{SpanKind, SpanNode, SpanRecord, SpanStatus, Trace, TraceSummary};
pub use store::{SessionTraceStats, TraceQuery, TraceStore};
pub use time::parse_time_micros;

/// The target of every span the loop emits, to filter them in or out.
pub const TARGET: &str = "agent_core::trace";

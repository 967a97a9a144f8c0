//! What a run returns: `RunOutput`, typed output and metrics.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::hitl::{PausedRun, PendingToolCall};
use crate::message::{Message, StopReason, Usage};
use crate::session::RunStatus;

/// The result of a run that completed or paused.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOutput {
    /// The run's id.
    pub run_id: String,
    /// The session, if any.
    pub session_id: Option<String>,
    /// The agent that ran.
    pub agent_id: Option<String>,
    /// The model that produced the last turn.
    pub model: String,
    /// `Completed` or `Paused`.
    pub status: RunStatus,
    /// The final answer's text (empty while paused).
    pub content: String,
    /// The messages this run added to the conversation, input first.
    pub messages: Vec<Message>,
    /// Why the model stopped on its last turn.
    pub stop_reason: StopReason,
    /// Token usage summed over all turns.
    pub usage: Usage,
    /// Counts and timings.
    pub metrics: RunMetrics,
    /// Present while the run waits for the user.
    pub paused: Option<PausedRun>,
}

impl RunOutput {
    /// Whether the run waits for tool decisions.
    pub fn is_paused(&self) -> bool {
        self.status == RunStatus::Paused
    }

    /// The tool calls the user must decide on (empty unless paused). For a
    /// team, these are the calls its members wait on.
    pub fn pending_tool_calls(&self) -> Vec<PendingToolCall> {
        self.paused.as_ref().map_or_else(Vec::new, PausedRun::actionable_calls)
    }
}

/// A run's result with the answer parsed into `T`.
#[derive(Clone, Debug)]
pub struct TypedRunOutput<T> {
    /// The parsed answer.
    pub output: T,
    /// The run.
    pub run: RunOutput,
}

/// Metrics of a run, with the AgentOS field names (times in seconds).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// All input and output tokens.
    pub total_tokens: u64,
    /// Input tokens read from the cache.
    pub cache_read_tokens: u64,
    /// Input tokens written to the cache.
    pub cache_write_tokens: u64,
    /// Seconds from the start of the run to the first streamed token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_first_token: Option<f64>,
    /// Seconds the run took (the last leg, for a continued run).
    pub duration: f64,
    /// Model calls made.
    pub turns: u32,
    /// Calls per tool.
    #[serde(default)]
    pub tool_calls: BTreeMap<String, ToolMetrics>,
}

impl RunMetrics {
    /// Copies token counts from summed usage.
    pub fn set_usage(&mut self, usage: Usage) {
        self.input_tokens = usage.input_tokens;
        self.output_tokens = usage.output_tokens;
        self.cache_read_tokens = usage.cache_read_input_tokens;
        self.cache_write_tokens = usage.cache_creation_input_tokens;
        self.total_tokens = usage.total_input_tokens() + usage.output_tokens;
    }
}

/// Metrics of one tool within a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolMetrics {
    /// Calls made.
    pub calls: u32,
    /// Calls that ended with an error result.
    pub errors: u32,
    /// Total seconds spent in the tool.
    pub duration: f64,
}

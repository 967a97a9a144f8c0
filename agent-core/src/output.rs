//! What a run returns: `RunOutput` and its metrics.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use serde_json::{Map, Value};

use crate::event::ToolExecution;
use crate::hitl::{PausedRun, PendingToolCall};
use crate::message::{Message, StopReason, Usage};
use crate::session::RunStatus;
use crate::workflow::StepOutput;

/// The result of a run of an agent, team or workflow that completed or paused.
///
/// `T` is the content: the answer's text (`String`) for agents and teams, a
/// JSON value for workflows, the parsed value after
/// [`RunRequest::typed`](crate::RunRequest::typed).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOutput<T = String> {
    /// The run's id.
    pub run_id: String,
    /// The session, if any.
    pub session_id: Option<String>,
    /// The user the run was for, if known.
    pub user_id: Option<String>,
    /// The agent that ran (for a team or workflow: none).
    pub agent_id: Option<String>,
    /// The team that ran.
    pub team_id: Option<String>,
    /// The workflow that ran.
    pub workflow_id: Option<String>,
    /// The run that started this one (a team leader's or workflow's).
    pub parent_run_id: Option<String>,
    /// The model that produced the last turn (empty for a workflow).
    pub model: String,
    /// The provider of that model, such as `anthropic`.
    pub model_provider: String,
    /// `Completed` or `Paused`.
    pub status: RunStatus,
    /// The final answer (empty or null while paused).
    pub content: T,
    /// The messages this run added to the conversation, input first.
    pub messages: Vec<Message>,
    /// Every tool execution of the run, in call order: arguments, result or
    /// error, duration, and the user's confirmation where one was asked.
    pub tools: Vec<ToolExecution>,
    /// A workflow's step outputs, in the order they finished.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub step_outputs: Vec<StepOutput>,
    /// Why the model stopped on its last turn; see [`RunOutput::is_truncated`].
    pub stop_reason: StopReason,
    /// Token usage summed over all turns (a team's includes its members').
    pub usage: Usage,
    /// Counts and timings.
    pub metrics: RunMetrics,
    /// The metadata the run was given.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// Present while the run waits for the user.
    pub paused: Option<PausedRun>,
    /// The provider's id of the last model request, for support and logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// When the run started, unix seconds.
    #[serde(default)]
    pub created_at: i64,
}

impl<T> RunOutput<T> {
    /// Whether the run waits for tool decisions.
    pub fn is_paused(&self) -> bool {
        self.status == RunStatus::Paused
    }

    /// Whether the answer was cut off by the output token limit
    /// (`max_tokens`): the content is incomplete. Raise the agent's
    /// `max_tokens` to get all of it.
    pub fn is_truncated(&self) -> bool {
        self.stop_reason == StopReason::MaxTokens
    }

    /// The tool calls the user must decide on (empty unless paused). For a
    /// team, these are the calls its members wait on.
    pub fn pending_tool_calls(&self) -> Vec<PendingToolCall> {
        self.paused.as_ref().map_or_else(Vec::new, PausedRun::actionable_calls)
    }

    /// The output with its content converted.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> RunOutput<U> {
        RunOutput {
            run_id: self.run_id,
            session_id: self.session_id,
            user_id: self.user_id,
            agent_id: self.agent_id,
            team_id: self.team_id,
            workflow_id: self.workflow_id,
            parent_run_id: self.parent_run_id,
            model: self.model,
            model_provider: self.model_provider,
            status: self.status,
            content: f(self.content),
            messages: self.messages,
            tools: self.tools,
            step_outputs: self.step_outputs,
            stop_reason: self.stop_reason,
            usage: self.usage,
            metrics: self.metrics,
            metadata: self.metadata,
            paused: self.paused,
            request_id: self.request_id,
            created_at: self.created_at,
        }
    }
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

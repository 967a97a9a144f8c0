//! `RunEvent`: what a streamed run reports, named as the AgentOS run events.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::output::RunMetrics;

/// One event of a streamed run.
///
/// Serializes as the AgentOS API does: `{"event": "RunContent", "run_id": ...,
/// "content": ...}`, so a server can forward events unchanged as SSE (`event:`
/// is [`RunEvent::name`], `data:` the JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunEvent {
    /// What happened.
    #[serde(flatten)]
    pub kind: RunEventKind,
    /// The run it belongs to.
    pub run_id: Arc<str>,
    /// The session, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Arc<str>>,
    /// The agent that produced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Arc<str>>,
    /// Unix seconds.
    pub created_at: i64,
}

impl RunEvent {
    /// The event's name, such as `RunContent`.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
}

/// The kinds of run events, with their payloads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event")]
#[non_exhaustive]
pub enum RunEventKind {
    /// The run started.
    RunStarted {
        /// The model id.
        model: String,
        /// The model provider.
        model_provider: String,
    },
    /// A piece of the answer (a text delta).
    RunContent {
        /// The new text.
        content: String,
    },
    /// A piece of the model's reasoning.
    ReasoningContentDelta {
        /// The new reasoning text.
        reasoning_content: String,
    },
    /// The answer's text is complete.
    RunContentCompleted {},
    /// A tool call is about to run.
    ToolCallStarted {
        /// The call.
        tool: ToolExecution,
    },
    /// A tool call finished (possibly with an error result sent to the model).
    ToolCallCompleted {
        /// The call and its result.
        tool: ToolExecution,
    },
    /// A tool call failed.
    ToolCallError {
        /// The call.
        tool: ToolExecution,
        /// What went wrong.
        error: String,
    },
    /// The run is waiting for the user.
    RunPaused {
        /// The calls waiting.
        tools: Vec<ToolExecution>,
    },
    /// A paused run was continued.
    RunContinued {},
    /// The run finished.
    RunCompleted {
        /// The final answer.
        content: String,
        /// Metrics of the run.
        metrics: RunMetrics,
    },
    /// The run failed.
    RunError {
        /// The error message.
        content: String,
        /// The error's kind, e.g. `MaxTurns`.
        error_type: String,
    },
    /// The run was cancelled.
    RunCancelled {
        /// Why.
        reason: String,
    },
    /// Memories are being updated after the run.
    MemoryUpdateStarted {},
    /// Memories were updated.
    MemoryUpdateCompleted {},
    /// A session summary is being written.
    SessionSummaryStarted {},
    /// The session summary was written.
    SessionSummaryCompleted {},
}

impl RunEventKind {
    /// The event's name, such as `RunContent`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RunStarted { .. } => "RunStarted",
            Self::RunContent { .. } => "RunContent",
            Self::ReasoningContentDelta { .. } => "ReasoningContentDelta",
            Self::RunContentCompleted {} => "RunContentCompleted",
            Self::ToolCallStarted { .. } => "ToolCallStarted",
            Self::ToolCallCompleted { .. } => "ToolCallCompleted",
            Self::ToolCallError { .. } => "ToolCallError",
            Self::RunPaused { .. } => "RunPaused",
            Self::RunContinued {} => "RunContinued",
            Self::RunCompleted { .. } => "RunCompleted",
            Self::RunError { .. } => "RunError",
            Self::RunCancelled { .. } => "RunCancelled",
            Self::MemoryUpdateStarted {} => "MemoryUpdateStarted",
            Self::MemoryUpdateCompleted {} => "MemoryUpdateCompleted",
            Self::SessionSummaryStarted {} => "SessionSummaryStarted",
            Self::SessionSummaryCompleted {} => "SessionSummaryCompleted",
        }
    }
}

/// A tool call as events report it (the AgentOS `ToolExecution` shape).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolExecution {
    /// The call's id.
    pub tool_call_id: String,
    /// The tool's name.
    pub tool_name: String,
    /// The arguments.
    pub tool_args: Value,
    /// Whether the call failed.
    #[serde(default)]
    pub tool_call_error: bool,
    /// The result as text, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The call waits for the user's approval.
    #[serde(default)]
    pub requires_confirmation: bool,
    /// The caller must execute the call.
    #[serde(default)]
    pub external_execution_required: bool,
    /// Metrics of the call, e.g. `{"duration": 0.012}` in seconds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
}

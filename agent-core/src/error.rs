//! The error type of `agent-core`.

use crate::message::StopDetails;
use crate::model::ModelError;
use crate::session::StoreError;

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model call failed.
    #[error("model error: {0}")]
    Model(#[from] ModelError),
    /// The run used all its turns without a final answer.
    #[error(
        "the run hit its limit of {limit} model turns without a final answer; raise `max_turns` or simplify the task"
    )]
    MaxTurns {
        /// The limit.
        limit: u32,
    },
    /// The run made more tool calls than allowed.
    #[error("the run hit its limit of {limit} tool calls")]
    ToolCallLimit {
        /// The limit.
        limit: u32,
    },
    /// A tool kept failing with retryable errors.
    #[error("tool `{tool}` failed {retries} times, more than its retry budget; last error: {last_error}")]
    ToolRetriesExhausted {
        /// The tool's name.
        tool: String,
        /// Failures counted.
        retries: u32,
        /// The last failure's message.
        last_error: String,
    },
    /// A tool failed fatally.
    #[error("tool `{tool}` failed: {message}")]
    ToolFailed {
        /// The tool's name.
        tool: String,
        /// What went wrong.
        message: String,
    },
    /// A hook stopped the run.
    #[error("hook stopped the run: {0}")]
    Hook(String),
    /// The model declined the request.
    #[error("the model refused the request{}", details.as_ref().and_then(|d| d.category.as_deref()).map(|c| format!(" (category: {c})")).unwrap_or_default())]
    Refused {
        /// Structured refusal details, when given.
        details: Option<StopDetails>,
    },
    /// The output limit cut a tool call short.
    #[error("the model hit max_tokens in the middle of a call to `{tool}`; raise max_tokens")]
    TruncatedToolCall {
        /// The tool being called.
        tool: String,
    },
    /// The API kept pausing the turn.
    #[error("the model paused its turn {limit} times in a row; raise `max_continuations`")]
    PauseTurnLimit {
        /// The limit.
        limit: u32,
    },
    /// The context window is full.
    #[error("the conversation no longer fits the model's context window")]
    ContextWindowExceeded,
    /// The final answer did not match the output type, after all retries.
    #[error("the model's output did not match the expected type after {attempts} attempts: {message}")]
    OutputValidation {
        /// Attempts made.
        attempts: u32,
        /// The last parser message.
        message: String,
    },
    /// A workflow step failed and its policy was to fail the workflow.
    #[error("workflow step `{step}` failed: {message}")]
    StepFailed {
        /// The step's name.
        step: String,
        /// What went wrong.
        message: String,
    },
    /// The input could not be used.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The run was cancelled.
    #[error("the run was cancelled")]
    Cancelled,
    /// A store failed.
    #[error("store error: {0}")]
    Store(#[from] StoreError),
    /// `continue_run` was called with something it cannot continue.
    #[error("cannot continue run: {0}")]
    Continue(String),
    /// The agent is configured in a way that cannot run.
    #[error("invalid agent configuration: {0}")]
    Config(String),
}

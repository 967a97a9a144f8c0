//! The error type of `agent-core`.

use crate::limits::{UsageLimit, UsageSoFar};
use crate::message::StopDetails;
use crate::model::ModelError;
use crate::output::RunOutput;
use crate::session::StoreError;

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The original error of a tool or a workflow step function.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a run failed.
///
/// Messages say what happened without repeating their source: print the whole
/// chain with `{:#}` (anyhow) or walk [`std::error::Error::source`]. Errors
/// that end a run the model was in the middle of ([`Error::MaxTurns`],
/// [`Error::Refused`], [`Error::PauseTurnLimit`], [`Error::OutputValidation`],
/// [`Error::UsageLimitExceeded`]) carry the partial output gathered so far.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model call failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The run used all its turns without a final answer. The tool calls of
    /// the last turn were not run.
    #[error(
        "the run hit its limit of {limit} model turns without a final answer; raise `max_turns` or simplify the task"
    )]
    MaxTurns {
        /// The limit.
        limit: u32,
        /// What the run produced before it stopped.
        partial: Box<RunOutput>,
    },
    /// The run made more tool calls than allowed.
    #[error("the run hit its limit of {limit} tool calls")]
    ToolCallLimit {
        /// The limit.
        limit: u32,
    },
    /// The run went over one of its usage limits.
    #[error("the run went over its usage limit of {limit}")]
    UsageLimitExceeded {
        /// The limit that was passed.
        limit: UsageLimit,
        /// What the run (or its team or workflow) used so far.
        used: UsageSoFar,
        /// What the run produced before it stopped.
        partial: Box<RunOutput>,
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
    /// A tool failed fatally; `source` is its error.
    #[error("tool `{tool}` failed")]
    ToolFailed {
        /// The tool's name.
        tool: String,
        /// The tool's own error.
        #[source]
        source: BoxError,
    },
    /// A hook stopped the run.
    #[error("hook stopped the run: {0}")]
    Hook(String),
    /// The model declined the request.
    #[error("the model refused the request{}", details.as_ref().and_then(|d| d.category.as_deref()).map(|c| format!(" (category: {c})")).unwrap_or_default())]
    Refused {
        /// Structured refusal details, when given.
        details: Option<StopDetails>,
        /// What the run produced before the refusal.
        partial: Box<RunOutput>,
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
        /// What the run produced before it stopped.
        partial: Box<RunOutput>,
    },
    /// The context window is full.
    #[error("the conversation no longer fits the model's context window")]
    ContextWindowExceeded,
    /// The final answer did not match the output type, after all retries.
    #[error("the model's output did not match the expected type after {attempts} attempts: {message}")]
    OutputValidation {
        /// Attempts made.
        attempts: u32,
        /// The last parser or schema message.
        message: String,
        /// The run, with the last answer as its content.
        partial: Box<RunOutput>,
    },
    /// A typed run paused for tool decisions; continue it from `paused`
    /// (with `continue_run(..).typed()`).
    #[error("the run paused for tool decisions before it gave a typed answer")]
    TypedRunPaused {
        /// The paused output.
        paused: Box<RunOutput>,
    },
    /// A workflow step failed and its policy was to fail the workflow;
    /// `source` is the step's error (the agent's or team's run error, or
    /// [`Error::Function`]).
    #[error("workflow step `{step}` failed")]
    StepFailed {
        /// The step's name.
        step: String,
        /// The step's error.
        #[source]
        source: Box<Error>,
    },
    /// A workflow step function returned an error.
    #[error(transparent)]
    Function(BoxError),
    /// The input could not be used.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The run was cancelled.
    #[error("the run was cancelled")]
    Cancelled,
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The run was given a session (`.session(..)`) but the agent, team or
    /// workflow has no store to keep it in; nothing was sent to the model.
    #[error(
        "the run has session `{session_id}` but {component} has no store to keep it in; \
         add one with `.store(..)` on its builder (an `InMemoryStore`, or `agent_memory::SqliteStore`)"
    )]
    SessionWithoutStore {
        /// The session the run was given.
        session_id: String,
        /// What was run: `the agent`, ``team `research` ``, ...
        component: String,
    },
    /// Another run holds the session and did not end within the wait
    /// ([`RunRequest::wait_for_session`](crate::RunRequest::wait_for_session)).
    #[error("session `{session_id}` is busy with another run")]
    SessionBusy {
        /// The session.
        session_id: String,
    },
    /// Another caller claimed the paused run first and is continuing it.
    #[error("run `{run_id}` is already being continued by another caller")]
    RunClaimed {
        /// The run.
        run_id: String,
    },
    /// The run finished but could not be saved: `output` is its answer,
    /// `source` the store's error.
    #[error("the run finished but could not be saved")]
    Unsaved {
        /// The finished run's output.
        output: Box<RunOutput>,
        /// Why the store refused it.
        #[source]
        source: StoreError,
    },
    /// `continue_run` was called with something it cannot continue.
    #[error("cannot continue run: {0}")]
    Continue(String),
    /// The agent is configured in a way that cannot run.
    #[error("invalid agent configuration: {0}")]
    Config(String),
}

impl Error {
    /// The name of the error's kind, as `RunError` events report it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Model(_) => "ModelError",
            Self::MaxTurns { .. } => "MaxTurns",
            Self::ToolCallLimit { .. } => "ToolCallLimit",
            Self::UsageLimitExceeded { .. } => "UsageLimitExceeded",
            Self::ToolRetriesExhausted { .. } => "ToolRetriesExhausted",
            Self::ToolFailed { .. } => "ToolFailed",
            Self::Hook(_) => "Hook",
            Self::Refused { .. } => "Refused",
            Self::TruncatedToolCall { .. } => "TruncatedToolCall",
            Self::PauseTurnLimit { .. } => "PauseTurnLimit",
            Self::ContextWindowExceeded => "ContextWindowExceeded",
            Self::OutputValidation { .. } => "OutputValidation",
            Self::TypedRunPaused { .. } => "TypedRunPaused",
            Self::StepFailed { .. } => "StepFailed",
            Self::Function(_) => "Function",
            Self::InvalidInput(_) => "InvalidInput",
            Self::Cancelled => "Cancelled",
            Self::Store(_) => "Store",
            Self::SessionWithoutStore { .. } => "SessionWithoutStore",
            Self::SessionBusy { .. } => "SessionBusy",
            Self::RunClaimed { .. } => "RunClaimed",
            Self::Unsaved { .. } => "Unsaved",
            Self::Continue(_) => "Continue",
            Self::Config(_) => "Config",
        }
    }

    /// The partial output this error carries, if any.
    pub fn partial_output(&self) -> Option<&RunOutput> {
        match self {
            Self::MaxTurns { partial, .. }
            | Self::UsageLimitExceeded { partial, .. }
            | Self::Refused { partial, .. }
            | Self::PauseTurnLimit { partial, .. }
            | Self::OutputValidation { partial, .. } => Some(partial),
            Self::TypedRunPaused { paused } | Self::Unsaved { output: paused, .. } => Some(paused),
            Self::StepFailed { source, .. } => source.partial_output(),
            _ => None,
        }
    }

    /// Fills in the partial output of an error the loop raised.
    pub(crate) fn with_partial(mut self, output: impl FnOnce() -> RunOutput) -> Self {
        if let Self::MaxTurns { partial, .. }
        | Self::UsageLimitExceeded { partial, .. }
        | Self::Refused { partial, .. }
        | Self::PauseTurnLimit { partial, .. }
        | Self::OutputValidation { partial, .. } = &mut self
        {
            **partial = output();
        }
        self
    }

    /// The error and its sources, joined with `: ` (what stores and events
    /// keep as the error message).
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let line = cause.to_string();
            // A transparent wrapper shows its source's text already.
            if !text.ends_with(&line) {
                text.push_str(": ");
                text.push_str(&line);
            }
            source = cause.source();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelErrorKind;

    #[test]
    fn no_message_repeats_its_source() {
        let model = Error::Model(ModelError::new(ModelErrorKind::Overloaded, "the API is overloaded"));
        let tool = Error::ToolFailed { tool: "wipe".into(), source: "disk on fire".into() };
        let step = Error::StepFailed { step: "write".into(), source: Box::new(tool) };
        let store = Error::Store(StoreError::Backend(Box::new(std::io::Error::other("disk full"))));
        let stored_step = Error::StepFailed { step: "save".into(), source: Box::new(store) };
        for (error, expected) in [
            (&model, "the API is overloaded"),
            (&step, "workflow step `write` failed: tool `wipe` failed: disk on fire"),
            (&stored_step, "workflow step `save` failed: store backend error: disk full"),
        ] {
            assert_eq!(error.report(), expected);
            let mut texts = vec![error.to_string()];
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                texts.push(cause.to_string());
                source = cause.source();
            }
            for pair in texts.windows(2) {
                assert!(!pair[0].contains(&pair[1]) || pair[0] == pair[1], "{pair:?} repeats its source");
            }
        }
    }

    #[test]
    fn a_model_error_names_its_request_id_once() {
        let mut error = ModelError::new(ModelErrorKind::Overloaded, "the API is overloaded");
        error.request_id = Some("req_42".into());
        assert_eq!(Error::Model(error.clone()).report(), "the API is overloaded (request id req_42)");
        // A provider whose message names the id already is not repeated.
        error.message = "overloaded (request id req_42)".into();
        assert_eq!(error.to_string(), "overloaded (request id req_42)");
    }

    #[test]
    fn a_failed_step_keeps_the_run_error_to_match_on() {
        let error = Error::StepFailed { step: "write".into(), source: Box::new(Error::ToolCallLimit { limit: 3 }) };
        let Error::StepFailed { source, .. } = &error else { unreachable!() };
        assert!(matches!(**source, Error::ToolCallLimit { limit: 3 }));
    }
}

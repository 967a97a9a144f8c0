//! Agents, tools, models and the loop that runs them.
//!
//! `agent-core` defines the framework's vocabulary and the tool-runner loop. It
//! does no network or disk IO: models ([`Model`]) and stores
//! ([`SessionStore`]) arrive through traits, implemented by `agent-claude`,
//! `agent-memory` or your own crates. Runs emit [`tracing`] spans ([`trace`])
//! that a subscriber may store or export; the loop never does.

pub mod agent;
mod context;
mod error;
pub mod eval;
mod event;
mod hitl;
pub mod knowledge;
mod limits;
pub mod memory;
pub(crate) mod message;
mod model;
mod output;
mod persist;
mod request;
mod rfc3339;
mod runnable;
mod session;
mod stream;
mod team;
pub mod tool;
pub mod trace;
mod workflow;

#[cfg(feature = "testing")]
pub mod testing;

pub use agent::{Agent, AgentBuilder, HookAction};
pub use context::RunContext;
pub use error::{BoxError, Error, Result};
pub use event::{EventScope, RunEvent, RunEventKind, ToolExecution};
pub use hitl::{Decision, PausedRun, PendingKind, PendingToolCall, ToolDecision};
pub use limits::{UsageLimit, UsageLimits, UsageSoFar};
pub use message::{
    ContentBlock, MediaSource, Message, Role, ServerToolResult, StopDetails, StopReason, ToolCall, ToolResultContent,
    Usage,
};
pub use model::{
    IntoModel, Model, ModelError, ModelErrorKind, ModelEvent, ModelEventStream, ModelPricing, ModelRequest,
    ModelResponse, ToolChoice, ToolInputError,
};
pub use output::{RunMetrics, RunOutput, ToolMetrics};
pub use persist::{DEFAULT_SESSION_WAIT, IntoStore};
pub use request::{ContinueFrom, RunInput, RunRequest};
pub use runnable::{RunContent, Runnable};
/// Daily usage metrics computed from stored runs.
pub use session::metrics;
pub use session::{
    ABANDONED_RUN_ERROR, InMemoryStore, Page, RunRecord, RunStatus, Session, SessionQuery, SessionSort, SessionStore,
    SessionSummary, SessionType, SortOrder, StoreError,
};
pub use stream::RunStream;
pub use team::{MemberInfo, Team, TeamBuilder, TeamMode};
pub use tool::{FnTool, IntoToolkit, Tool, ToolDef, ToolError, ToolOutput, Toolkit};
pub use workflow::{OnError, Step, StepError, StepInput, StepKindName, StepOutput, Workflow, WorkflowBuilder};

/// Helpers for the sibling crates (`agent-claude`, `agent-memory`,
/// `agent-os`): the persisted message format, paging, clocks, replaying a
/// response as events. Not part of the API users build on; it may change
/// without notice.
#[doc(hidden)]
pub mod support {
    /// RFC 3339 UTC times, the AgentOS time format.
    pub mod rfc3339 {
        pub use crate::rfc3339::{format, parse};
    }
    pub use crate::knowledge::fusion_support::*;
    pub use crate::memory::store::check_owner;
    pub use crate::message::{MESSAGE_FORMAT_VERSION, VersionedMessages};
    pub use crate::model::response_events;
    pub use crate::request::RunJob;
    pub use crate::session::{paginate, unix_now};
    pub use crate::tool::schema::schema_for;
}

/// Re-exported so users need no direct dependency for the common derives.
pub use schemars;
/// Re-exported for building JSON values and schemas.
pub use serde_json;

pub use agent_macros::{tool, toolkit};

/// Paths the `#[tool]` macro's generated code uses. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use async_trait::async_trait;
    pub use schemars;
    pub use serde;
    pub use serde_json;
    pub use std::sync::{Arc, OnceLock};

    pub use crate::{IntoToolkit, RunContext, Tool, ToolDef, ToolError, ToolOutput, Toolkit};

    /// The bound on every `#[tool]` parameter type; the macro asserts it at the
    /// parameter's type so a missing derive is one error naming the type.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be a tool parameter type",
        label = "needs `serde::Deserialize` and `schemars::JsonSchema`",
        note = "derive both on your type: `#[derive(serde::Deserialize, schemars::JsonSchema)]`"
    )]
    pub trait ArgType: serde::de::DeserializeOwned + schemars::JsonSchema {}

    #[diagnostic::do_not_recommend]
    impl<T: serde::de::DeserializeOwned + schemars::JsonSchema> ArgType for T {}
}

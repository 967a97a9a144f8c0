//! Pre- and post-tool hooks.

use std::sync::Arc;

use crate::context::RunContext;
use crate::message::{ToolCall, ToolResultContent};

/// What a pre-tool hook decides about a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookAction {
    /// Run the tool.
    Continue,
    /// Do not run it; answer the model with this error message instead.
    Reject(String),
    /// Stop the run with [`Error::Hook`](crate::Error::Hook).
    Stop(String),
}

/// A hook run before each tool call.
pub type PreToolHook<D> = Arc<dyn Fn(&RunContext<D>, &ToolCall<'_>) -> HookAction + Send + Sync>;

/// A hook run after each tool call, with the result and whether it is an error.
pub type PostToolHook<D> = Arc<dyn Fn(&RunContext<D>, &ToolCall<'_>, &ToolResultContent, bool) + Send + Sync>;

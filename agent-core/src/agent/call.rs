//! Calling one tool: its time limit, a caught panic, the cache key of a call.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use serde_json::Value;
use tokio::time::Instant;
use tracing::Instrument;

use crate::context::RunContext;
use crate::message::ToolCall;
use crate::tool::{Tool, ToolDef, ToolError, ToolOutput};

/// One tool call the model made, owned, with the user's answer to a
/// confirmation when one was asked.
#[derive(Clone, Debug)]
pub(super) struct CallSpec {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) input: Value,
    /// `Some(true)` approved, `Some(false)` rejected by the user.
    pub(super) confirmed: Option<bool>,
    pub(super) confirmation_note: Option<String>,
}

impl CallSpec {
    pub(super) fn new(call: ToolCall<'_>) -> Self {
        Self {
            id: call.id.to_owned(),
            name: call.name.to_owned(),
            input: call.input.clone(),
            confirmed: None,
            confirmation_note: None,
        }
    }

    pub(super) fn view(&self) -> ToolCall<'_> {
        ToolCall { id: &self.id, name: &self.name, input: &self.input }
    }
}

/// Calls one tool with its time limit, turning a panic into an error result.
pub(super) async fn call_tool<D: Send + Sync + 'static>(
    tool: &Arc<dyn Tool<D>>,
    def: &ToolDef,
    ctx: &RunContext<D>,
    call: &CallSpec,
    retry: u32,
    default_timeout: Option<Duration>,
) -> (Result<ToolOutput, ToolError>, Duration) {
    let timed = crate::trace::spans::tool_call(&call.name, &call.id, retry, &call.input);
    let (result, duration) = call_timed(tool, def, ctx, call, retry, default_timeout).instrument(timed.span()).await;
    crate::trace::spans::end_tool_call(&timed, &result);
    (result, duration)
}

async fn call_timed<D: Send + Sync + 'static>(
    tool: &Arc<dyn Tool<D>>,
    def: &ToolDef,
    ctx: &RunContext<D>,
    call: &CallSpec,
    retry: u32,
    default_timeout: Option<Duration>,
) -> (Result<ToolOutput, ToolError>, Duration) {
    let started = Instant::now();
    let call_ctx = ctx.for_tool_call(&call.id, retry);
    let work = AssertUnwindSafe(tool.call(&call_ctx, call.input.clone())).catch_unwind();
    let caught = match def.timeout.or(default_timeout) {
        Some(limit) => match tokio::time::timeout(limit, work).await {
            Ok(caught) => caught,
            Err(_) => {
                let message = format!("tool `{}` timed out after {:.1}s", call.name, limit.as_secs_f64());
                return (Err(ToolError::Retry(message)), started.elapsed());
            }
        },
        None => work.await,
    };
    let result = caught.unwrap_or_else(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        tracing::error!(tool = %call.name, %reason, "tool panicked");
        Err(ToolError::Retry(format!("tool `{}` failed unexpectedly (it panicked: {reason})", call.name)))
    });
    (result, started.elapsed())
}

pub(super) fn cache_key(call: &CallSpec) -> String {
    format!("{}\u{0}{}", call.name, call.input)
}

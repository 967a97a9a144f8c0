//! Human in the loop: pending tool calls, the user's decisions, and the
//! state a paused run needs to continue.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::ToolExecution;
use crate::message::{ContentBlock, Message, ToolResultContent, Usage};

/// Why a tool call is waiting for the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    /// The tool runs once the user approves.
    Confirmation,
    /// The caller runs the tool and supplies the result.
    ExternalExecution,
    /// The tool itself paused (see [`ToolError::Pause`](crate::ToolError::Pause));
    /// its payload says what it waits for.
    Deferred,
}

/// A tool call a paused run is waiting on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingToolCall {
    /// The id of the call; decisions refer to it.
    pub tool_call_id: String,
    /// The tool's name.
    pub tool_name: String,
    /// The arguments the model sent.
    pub tool_args: Value,
    /// What the run is waiting for.
    pub kind: PendingKind,
    /// For [`PendingKind::Deferred`]: what the tool needs to resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
}

/// The user's decision on one pending tool call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolDecision {
    /// The id of the pending call.
    pub tool_call_id: String,
    /// What to do with it.
    pub decision: Decision,
}

/// What to do with a pending tool call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Decision {
    /// Run the tool.
    Approve,
    /// Do not run it; the model is told it was rejected, and why.
    Reject {
        /// The reason given to the model.
        reason: Option<String>,
    },
    /// The result of a call the caller executed itself.
    Result {
        /// The result content.
        content: ToolResultContent,
        /// Whether the call failed.
        #[serde(default)]
        is_error: bool,
    },
}

impl ToolDecision {
    /// Approve the call.
    pub fn approve(tool_call_id: impl Into<String>) -> Self {
        Self { tool_call_id: tool_call_id.into(), decision: Decision::Approve }
    }

    /// Reject the call, with a reason for the model.
    pub fn reject(tool_call_id: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { tool_call_id: tool_call_id.into(), decision: Decision::Reject { reason: Some(reason.into()) } }
    }

    /// Supply the result of an externally executed call.
    pub fn result(tool_call_id: impl Into<String>, content: impl Into<ToolResultContent>) -> Self {
        Self {
            tool_call_id: tool_call_id.into(),
            decision: Decision::Result { content: content.into(), is_error: false },
        }
    }
}

/// Everything a paused run needs to continue, in this process or another.
///
/// Opaque: read it through its accessors, continue it with `continue_run`.
/// Serializable: stores keep it with the run record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PausedRun {
    pub(crate) run_id: String,
    pub(crate) session_id: Option<String>,
    pub(crate) user_id: Option<String>,
    /// The run's input as text.
    pub(crate) input: String,
    /// The messages of the conversation before this run (history), as sent to
    /// the model. Empty when the agent has a store: history is reloaded.
    #[serde(default)]
    pub(crate) history: Vec<Message>,
    /// The messages the run has added, ending with the assistant message whose
    /// tool calls are pending.
    pub(crate) messages: Vec<Message>,
    /// Results already computed for that assistant message's tool calls.
    pub(crate) resolved: Vec<ContentBlock>,
    /// The calls waiting for the user, in call order.
    pub(crate) pending: Vec<PendingToolCall>,
    /// Loop counters, so limits hold across the pause.
    pub(crate) counters: LoopCounters,
    /// When the run started, unix seconds.
    #[serde(default)]
    pub(crate) created_at: i64,
    /// Where a workflow stood when one of its steps paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) position: Option<Value>,
    /// Tool executions of the run so far, in call order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) tools: Vec<ToolExecution>,
}

impl PausedRun {
    /// Loads the paused run `run_id` of session `session_id` from a store —
    /// to list its pending calls in another process (a review UI, an
    /// approval job) before deciding them with `continue_run((session_id,
    /// run_id), decisions)`.
    ///
    /// # Errors
    ///
    /// [`Error::Continue`](crate::Error::Continue) when the run is missing or
    /// is not paused; [`Error::RunClaimed`](crate::Error::RunClaimed) when
    /// another caller is continuing it now; a store error.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use agent_core::testing::{ScriptedModel, Turn};
    /// use agent_core::{Agent, FnTool, InMemoryStore, PausedRun, ToolDecision, ToolDef, ToolOutput};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let schema = serde_json::json!({"type": "object"});
    /// let deploy = FnTool::<()>::raw(ToolDef::new("deploy", "Deploys.", schema), |_, _| async {
    ///     Ok(ToolOutput::text("deployed"))
    /// })
    /// .with_def(|def| def.requires_confirmation(true));
    /// let store = Arc::new(InMemoryStore::new());
    /// let model = ScriptedModel::new([Turn::tool_call("c1", "deploy", serde_json::json!({})), Turn::text("Done.")]);
    /// let agent = Agent::builder(model).tool(deploy).store(store.clone()).build()?;
    /// let run_id = agent.run("deploy it").session("ops").await?.run_id;
    ///
    /// // Later, anywhere that reaches the store: what is waiting, then the decisions.
    /// let paused = PausedRun::load(&*store, "ops", &run_id).await?;
    /// assert_eq!(paused.actionable_calls()[0].tool_name, "deploy");
    /// let decisions: Vec<ToolDecision> =
    ///     paused.actionable_calls().iter().map(|call| ToolDecision::approve(&call.tool_call_id)).collect();
    /// assert_eq!(agent.continue_run(("ops", run_id.as_str()), decisions).await?.content, "Done.");
    /// # Ok::<_, agent_core::Error>(()) }).unwrap();
    /// ```
    pub async fn load(store: &dyn crate::SessionStore, session_id: &str, run_id: &str) -> crate::Result<Self> {
        crate::agent::load_paused(store, session_id, run_id).await
    }

    /// The paused run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Its session, if any.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// The user it runs for, if known.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// Its input, as text.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The calls it waits on directly, in call order (see
    /// [`PausedRun::actionable_calls`] for what the user decides on).
    pub fn pending(&self) -> &[PendingToolCall] {
        &self.pending
    }

    /// When the run started, unix seconds.
    pub fn created_at(&self) -> i64 {
        self.created_at
    }

    /// The calls the user must decide on: the pending calls, with calls that a
    /// tool deferred to a nested run (a team member, a workflow step) replaced
    /// by that run's own pending calls.
    pub fn actionable_calls(&self) -> Vec<PendingToolCall> {
        let mut calls = Vec::new();
        for pending in &self.pending {
            match pending.nested() {
                Some(nested) => calls.extend(nested.actionable_calls()),
                None => calls.push(pending.clone()),
            }
        }
        calls
    }
}

impl PendingToolCall {
    /// The paused run behind a deferred call, when its payload carries one
    /// (as a team member's delegation does: `{"paused": PausedRun, ...}`).
    pub fn nested(&self) -> Option<PausedRun> {
        let payload = self.payload.as_ref()?.get("paused")?;
        serde_json::from_value(payload.clone()).ok()
    }
}

/// Counters the loop keeps against its limits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct LoopCounters {
    /// Model turns so far.
    pub(crate) turns: u32,
    /// `pause_turn` continuations so far.
    pub(crate) continuations: u32,
    /// Tool calls so far.
    pub(crate) tool_calls: u32,
    /// Retryable failures per tool name.
    pub(crate) retries: BTreeMap<String, u32>,
    /// Structured-output parse failures so far.
    pub(crate) output_retries: u32,
    /// Usage so far.
    pub(crate) usage: Usage,
}

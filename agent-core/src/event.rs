//! `RunEvent`: what a streamed run reports, named as the AgentOS run events.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::output::RunMetrics;

/// Where a run sends its events while it is streamed.
pub(crate) type EventSink = tokio::sync::mpsc::UnboundedSender<RunEvent>;

/// One event of a streamed run.
///
/// Serializes as the AgentOS API does: `{"event": "RunContent", "run_id": ...,
/// "content": ...}`, so a server can forward events unchanged as SSE (`event:`
/// is [`RunEvent::name`], `data:` the JSON). Events of a team's own run (its
/// leader) carry [`EventScope::Team`] and are named with a `Team` prefix
/// (`TeamRunContent`); events of members and workflow steps keep their own
/// names and say where they come from in `team_id`, `workflow_id` and
/// `step_name`.
#[derive(Clone, Debug, PartialEq)]
pub struct RunEvent {
    /// What happened.
    pub kind: RunEventKind,
    /// Whose run produced it.
    pub scope: EventScope,
    /// The run it belongs to.
    pub run_id: Arc<str>,
    /// The session, if any.
    pub session_id: Option<Arc<str>>,
    /// The agent that produced it.
    pub agent_id: Option<Arc<str>>,
    /// The team it belongs to.
    pub team_id: Option<Arc<str>>,
    /// The workflow it belongs to.
    pub workflow_id: Option<Arc<str>>,
    /// The workflow step it belongs to.
    pub step_name: Option<Arc<str>>,
    /// The run that started this run (a team's or workflow's).
    pub parent_run_id: Option<Arc<str>>,
    /// Unix seconds.
    pub created_at: i64,
}

/// Whose run an event reports on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EventScope {
    /// An agent's run (or a workflow's own events).
    #[default]
    Agent,
    /// A team leader's run: the event name gets a `Team` prefix.
    Team,
}

impl RunEvent {
    /// The event's name as AgentOS sends it, such as `RunContent` or
    /// `TeamRunContent`.
    pub fn name(&self) -> &'static str {
        match self.scope {
            EventScope::Agent => self.kind.name(),
            EventScope::Team => self.kind.team_name(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct EventRepr<K> {
    #[serde(flatten)]
    kind: K,
    run_id: Arc<str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_id: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent_id: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    team_id: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    workflow_id: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    step_name: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_run_id: Option<Arc<str>>,
    created_at: i64,
}

impl Serialize for RunEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let repr = EventRepr {
            kind: &self.kind,
            run_id: self.run_id.clone(),
            session_id: self.session_id.clone(),
            agent_id: self.agent_id.clone(),
            team_id: self.team_id.clone(),
            workflow_id: self.workflow_id.clone(),
            step_name: self.step_name.clone(),
            parent_run_id: self.parent_run_id.clone(),
            created_at: self.created_at,
        };
        if self.scope == EventScope::Agent {
            return repr.serialize(serializer);
        }
        let mut value = serde_json::to_value(&repr).map_err(serde::ser::Error::custom)?;
        if let Some(map) = value.as_object_mut() {
            map.insert("event".into(), Value::String(self.name().to_owned()));
        }
        value.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RunEvent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut value = Value::deserialize(deserializer)?;
        let mut scope = EventScope::Agent;
        if let Some(Value::String(name)) = value.get_mut("event")
            && let Some(rest) = name.strip_prefix("Team")
        {
            *name = rest.to_owned();
            scope = EventScope::Team;
        }
        let repr: EventRepr<RunEventKind> = serde_json::from_value(value).map_err(serde::de::Error::custom)?;
        Ok(Self {
            kind: repr.kind,
            scope,
            run_id: repr.run_id,
            session_id: repr.session_id,
            agent_id: repr.agent_id,
            team_id: repr.team_id,
            workflow_id: repr.workflow_id,
            step_name: repr.step_name,
            parent_run_id: repr.parent_run_id,
            created_at: repr.created_at,
        })
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
    /// A model request started on another model than the run's: the provider
    /// fell back (after a refusal). Content streamed before it belongs to the
    /// declined attempt.
    ModelRequestStarted {
        /// The model that now answers.
        model: String,
        /// Its provider.
        model_provider: String,
    },
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
    /// A workflow run started.
    WorkflowStarted {
        /// The workflow's name.
        workflow_name: String,
    },
    /// A workflow run finished.
    WorkflowCompleted {
        /// The last step's output.
        content: Value,
    },
    /// A workflow run failed.
    WorkflowError {
        /// The error message.
        error: String,
    },
    /// A workflow run was cancelled.
    WorkflowCancelled {
        /// Why.
        reason: String,
    },
    /// A workflow step started.
    StepStarted {
        /// The step's name.
        step_name: String,
        /// Its position among its siblings.
        step_index: usize,
    },
    /// A workflow step finished.
    StepCompleted {
        /// The step's name.
        step_name: String,
        /// Its output.
        content: Value,
    },
    /// A workflow step paused for tool decisions; the workflow pauses with it.
    StepPaused {
        /// The step's name.
        step_name: String,
        /// Its position among its siblings.
        step_index: usize,
    },
    /// A workflow step failed (its error policy decides what happens next).
    StepError {
        /// The step's name.
        step_name: String,
        /// The error message.
        error: String,
    },
    /// Parallel steps started.
    ParallelExecutionStarted {
        /// The construct's name.
        step_name: String,
        /// How many steps run at once.
        parallel_step_count: usize,
    },
    /// Parallel steps finished.
    ParallelExecutionCompleted {
        /// The construct's name.
        step_name: String,
    },
    /// A condition was evaluated.
    ConditionExecutionStarted {
        /// The construct's name.
        step_name: String,
        /// Whether its steps run.
        condition_result: bool,
    },
    /// A condition's steps finished.
    ConditionExecutionCompleted {
        /// The construct's name.
        step_name: String,
    },
    /// A loop started.
    LoopExecutionStarted {
        /// The construct's name.
        step_name: String,
        /// Its iteration limit.
        max_iterations: u32,
    },
    /// A loop iteration started.
    LoopIterationStarted {
        /// The construct's name.
        step_name: String,
        /// 1-based iteration number.
        iteration: u32,
    },
    /// A loop iteration finished.
    LoopIterationCompleted {
        /// The construct's name.
        step_name: String,
        /// 1-based iteration number.
        iteration: u32,
    },
    /// A loop finished.
    LoopExecutionCompleted {
        /// The construct's name.
        step_name: String,
        /// Iterations run.
        iterations: u32,
    },
    /// A router chose its steps.
    RouterExecutionStarted {
        /// The construct's name.
        step_name: String,
        /// The names of the chosen steps.
        selected_steps: Vec<String>,
    },
    /// A router's chosen steps finished.
    RouterExecutionCompleted {
        /// The construct's name.
        step_name: String,
    },
}

impl RunEventKind {
    /// The event's name, such as `RunContent`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RunStarted { .. } => "RunStarted",
            Self::RunContent { .. } => "RunContent",
            Self::ReasoningContentDelta { .. } => "ReasoningContentDelta",
            Self::RunContentCompleted {} => "RunContentCompleted",
            Self::ModelRequestStarted { .. } => "ModelRequestStarted",
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
            Self::WorkflowStarted { .. } => "WorkflowStarted",
            Self::WorkflowCompleted { .. } => "WorkflowCompleted",
            Self::WorkflowError { .. } => "WorkflowError",
            Self::WorkflowCancelled { .. } => "WorkflowCancelled",
            Self::StepStarted { .. } => "StepStarted",
            Self::StepCompleted { .. } => "StepCompleted",
            Self::StepError { .. } => "StepError",
            Self::StepPaused { .. } => "StepPaused",
            Self::ParallelExecutionStarted { .. } => "ParallelExecutionStarted",
            Self::ParallelExecutionCompleted { .. } => "ParallelExecutionCompleted",
            Self::ConditionExecutionStarted { .. } => "ConditionExecutionStarted",
            Self::ConditionExecutionCompleted { .. } => "ConditionExecutionCompleted",
            Self::LoopExecutionStarted { .. } => "LoopExecutionStarted",
            Self::LoopIterationStarted { .. } => "LoopIterationStarted",
            Self::LoopIterationCompleted { .. } => "LoopIterationCompleted",
            Self::LoopExecutionCompleted { .. } => "LoopExecutionCompleted",
            Self::RouterExecutionStarted { .. } => "RouterExecutionStarted",
            Self::RouterExecutionCompleted { .. } => "RouterExecutionCompleted",
        }
    }

    /// The name of this event for a team's own run (`TeamRunContent`, ...).
    pub fn team_name(&self) -> &'static str {
        match self {
            Self::RunStarted { .. } => "TeamRunStarted",
            Self::RunContent { .. } => "TeamRunContent",
            Self::ReasoningContentDelta { .. } => "TeamReasoningContentDelta",
            Self::RunContentCompleted {} => "TeamRunContentCompleted",
            Self::ModelRequestStarted { .. } => "TeamModelRequestStarted",
            Self::ToolCallStarted { .. } => "TeamToolCallStarted",
            Self::ToolCallCompleted { .. } => "TeamToolCallCompleted",
            Self::ToolCallError { .. } => "TeamToolCallError",
            Self::RunPaused { .. } => "TeamRunPaused",
            Self::RunContinued {} => "TeamRunContinued",
            Self::RunCompleted { .. } => "TeamRunCompleted",
            Self::RunError { .. } => "TeamRunError",
            Self::RunCancelled { .. } => "TeamRunCancelled",
            Self::MemoryUpdateStarted {} => "TeamMemoryUpdateStarted",
            Self::MemoryUpdateCompleted {} => "TeamMemoryUpdateCompleted",
            Self::SessionSummaryStarted {} => "TeamSessionSummaryStarted",
            Self::SessionSummaryCompleted {} => "TeamSessionSummaryCompleted",
            other => other.name(),
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
    /// The user's answer to a confirmation: `true` approved, `false` rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<bool>,
    /// The reason the user gave with a rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation_note: Option<String>,
    /// Metrics of the call, e.g. `{"duration": 0.012}` in seconds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
}

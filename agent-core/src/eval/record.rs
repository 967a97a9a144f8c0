//! `EvalRun`: the stored record of one eval, and the small types every eval shares (type, status, subject).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::session::{SessionType, unix_now};

/// The kind of an eval, with the AgentOS names (`reliability`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalType {
    /// A judge model scores the answer against an expected output.
    Accuracy,
    /// A judge model checks the answer against criteria.
    AgentAsJudge,
    /// Latency and memory over several runs.
    Performance,
    /// The expected tool calls were made.
    Reliability,
}

impl EvalType {
    /// Every eval type, in name order.
    pub const ALL: [EvalType; 4] = [Self::Accuracy, Self::AgentAsJudge, Self::Performance, Self::Reliability];

    /// The lowercase name used in APIs and databases.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accuracy => "accuracy",
            Self::AgentAsJudge => "agent_as_judge",
            Self::Performance => "performance",
            Self::Reliability => "reliability",
        }
    }

    /// Parses the lowercase name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// Whether an eval passed, serialized as AgentOS does: `PASSED` or `FAILED`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EvalStatus {
    /// Every check passed.
    #[serde(rename = "PASSED")]
    Passed,
    /// At least one check failed.
    #[default]
    #[serde(rename = "FAILED")]
    Failed,
}

impl EvalStatus {
    /// `Passed` when `passed`, else `Failed`.
    pub fn of(passed: bool) -> Self {
        if passed { Self::Passed } else { Self::Failed }
    }

    /// Whether this is `Passed`.
    pub fn is_passed(self) -> bool {
        self == Self::Passed
    }
}

/// What an eval evaluated: the component and the model its runs used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalSubject {
    /// Agent, team or workflow.
    pub kind: SessionType,
    /// Its id.
    pub id: Option<String>,
    /// Its display name.
    pub name: Option<String>,
    /// The model of its last run (none for a workflow).
    pub model_id: Option<String>,
    /// That model's provider.
    pub model_provider: Option<String>,
}

impl EvalSubject {
    /// Takes the model of a run's output (an empty one means none: workflows).
    pub(crate) fn saw_model(&mut self, model: &str, provider: &str) {
        if !model.is_empty() {
            self.model_id = Some(model.to_owned());
            self.model_provider = Some(provider.to_owned()).filter(|provider| !provider.is_empty());
        }
    }
}

/// An iteration (a run of the target) that gave nothing to evaluate: the run
/// failed or paused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedIteration {
    /// 1-based iteration number (warm-up runs are not counted).
    pub iteration: u32,
    /// What went wrong.
    pub error: String,
}

/// The stored record of one eval run, with the AgentOS `EvalSchema` field
/// names (`eval_type`, `eval_input`, `eval_data`, ...); times are unix seconds.
///
/// `eval_input` is what the eval was asked (expected tool calls, criteria,
/// iterations); `eval_data` its result (a serialized [`ReliabilityResult`],
/// [`AccuracyResult`], [`AgentAsJudgeResult`] or [`PerformanceResult`]),
/// whose `eval_status` says whether it passed.
///
/// [`ReliabilityResult`]: super::ReliabilityResult
/// [`AccuracyResult`]: super::AccuracyResult
/// [`AgentAsJudgeResult`]: super::AgentAsJudgeResult
/// [`PerformanceResult`]: super::PerformanceResult
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalRun {
    /// Unique id.
    pub id: String,
    /// The kind of eval.
    pub eval_type: EvalType,
    /// A display name, if given.
    pub name: Option<String>,
    /// The agent evaluated.
    pub agent_id: Option<String>,
    /// The team evaluated.
    pub team_id: Option<String>,
    /// The workflow evaluated.
    pub workflow_id: Option<String>,
    /// The model the evaluated runs used.
    pub model_id: Option<String>,
    /// That model's provider.
    pub model_provider: Option<String>,
    /// The display name of the component evaluated.
    pub evaluated_component_name: Option<String>,
    /// What the eval was asked (an object).
    pub eval_input: Value,
    /// The result (an object).
    pub eval_data: Value,
    /// Creation time, unix seconds.
    pub created_at: i64,
    /// Last update time (a rename), unix seconds.
    pub updated_at: i64,
}

impl EvalRun {
    /// A record of an eval of `subject`, with a fresh id, created now.
    pub fn new(eval_type: EvalType, subject: &EvalSubject, eval_input: Value, eval_data: Value) -> Self {
        let now = unix_now();
        let id_of = |kind: SessionType| subject.id.clone().filter(|_| subject.kind == kind);
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            eval_type,
            name: None,
            agent_id: id_of(SessionType::Agent),
            team_id: id_of(SessionType::Team),
            workflow_id: id_of(SessionType::Workflow),
            model_id: subject.model_id.clone(),
            model_provider: subject.model_provider.clone(),
            evaluated_component_name: subject.name.clone(),
            eval_input,
            eval_data,
            created_at: now,
            updated_at: now,
        }
    }

    /// Sets the display name.
    #[must_use]
    pub fn with_name(mut self, name: Option<String>) -> Self {
        self.name = name;
        self
    }

    /// The result's status (`eval_data.eval_status`), if it has one.
    pub fn status(&self) -> Option<EvalStatus> {
        self.eval_data.get("eval_status").and_then(|status| EvalStatus::deserialize(status).ok())
    }
}

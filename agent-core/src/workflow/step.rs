//! Workflow steps: agents, teams, functions and the control-flow constructs.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use crate::context::RunContext;
use crate::runnable::{Runnable, SharedEngine};
use crate::session::SessionType;

/// The error a function step returns.
pub type StepError = Box<dyn std::error::Error + Send + Sync>;

pub(crate) type StepFn<D> = dyn Fn(StepInput<D>) -> BoxFuture<'static, Result<StepOutput, StepError>> + Send + Sync;
pub(crate) type Predicate<D> = dyn Fn(&StepInput<D>) -> bool + Send + Sync;
pub(crate) type EndCondition = dyn Fn(&[StepOutput]) -> bool + Send + Sync;
pub(crate) type Chooser<D> = dyn Fn(&StepInput<D>) -> Vec<String> + Send + Sync;

/// What a step does when it fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    /// The workflow fails.
    #[default]
    Fail,
    /// The step is skipped: its output is `null` and the previous output
    /// passes on unchanged.
    Skip,
    /// The step is tried again, up to this many more times, then fails.
    Retry(u32),
}

/// One step of a workflow.
pub struct Step<D = ()> {
    pub(crate) name: String,
    pub(crate) kind: StepKind<D>,
    pub(crate) on_error: OnError,
}

pub(crate) enum StepKind<D> {
    /// An agent, a team or a workflow.
    Run(SharedEngine<D>),
    Function(Arc<StepFn<D>>),
    Sequence(Vec<Step<D>>),
    Parallel(Vec<Step<D>>),
    Condition {
        when: Arc<Predicate<D>>,
        steps: Vec<Step<D>>,
    },
    Loop {
        steps: Vec<Step<D>>,
        until: Arc<EndCondition>,
        max_iterations: u32,
    },
    Router {
        choose: Arc<Chooser<D>>,
        routes: Vec<Step<D>>,
    },
}

impl<D: Send + Sync + 'static> Step<D> {
    fn new(name: impl Into<String>, kind: StepKind<D>) -> Self {
        Self { name: name.into(), kind, on_error: OnError::Fail }
    }

    /// A step that runs an agent, a team or another workflow on the previous
    /// step's output (the workflow input for the first step): as text for an
    /// agent or team, as JSON for a workflow. When it pauses for tool
    /// decisions, the workflow pauses (in sequences and conditions; a step
    /// inside a parallel, loop or router construct must not pause).
    pub fn run(name: impl Into<String>, target: impl Runnable<D>) -> Self {
        Self::new(name, StepKind::Run(Arc::new(target)))
    }

    /// A step that runs an async function.
    pub fn function<F, Fut>(name: impl Into<String>, f: F) -> Self
    where
        F: Fn(StepInput<D>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<StepOutput, StepError>> + Send + 'static,
    {
        Self::new(name, StepKind::Function(Arc::new(move |input| Box::pin(f(input)))))
    }

    /// Steps run one after another.
    pub fn sequence(name: impl Into<String>, steps: Vec<Step<D>>) -> Self {
        Self::new(name, StepKind::Sequence(steps))
    }

    /// Steps run at once; the output is an object of their outputs by name.
    pub fn parallel(name: impl Into<String>, steps: Vec<Step<D>>) -> Self {
        Self::new(name, StepKind::Parallel(steps))
    }

    /// Steps that run only when `when` holds.
    pub fn condition(
        name: impl Into<String>,
        when: impl Fn(&StepInput<D>) -> bool + Send + Sync + 'static,
        steps: Vec<Step<D>>,
    ) -> Self {
        Self::new(name, StepKind::Condition { when: Arc::new(when), steps })
    }

    /// Steps repeated until `until` holds for an iteration's outputs, at most
    /// `max_iterations` times.
    pub fn repeat(
        name: impl Into<String>,
        steps: Vec<Step<D>>,
        until: impl Fn(&[StepOutput]) -> bool + Send + Sync + 'static,
        max_iterations: u32,
    ) -> Self {
        Self::new(name, StepKind::Loop { steps, until: Arc::new(until), max_iterations })
    }

    /// Runs the routes whose names `choose` returns (in that order), chosen
    /// from the previous output.
    pub fn router(
        name: impl Into<String>,
        choose: impl Fn(&StepInput<D>) -> Vec<String> + Send + Sync + 'static,
        routes: Vec<Step<D>>,
    ) -> Self {
        Self::new(name, StepKind::Router { choose: Arc::new(choose), routes })
    }

    /// What to do when the step fails (default: fail the workflow).
    #[must_use]
    pub fn on_error(mut self, policy: OnError) -> Self {
        self.on_error = policy;
        self
    }

    /// The step's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What kind of step it is, for servers that describe workflows.
    pub fn kind(&self) -> StepKindName {
        match &self.kind {
            StepKind::Run(target) => match target.kind() {
                SessionType::Agent => StepKindName::Agent,
                SessionType::Team => StepKindName::Team,
                SessionType::Workflow => StepKindName::Workflow,
            },
            StepKind::Function(_) => StepKindName::Function,
            StepKind::Sequence(_) => StepKindName::Sequence,
            StepKind::Parallel(_) => StepKindName::Parallel,
            StepKind::Condition { .. } => StepKindName::Condition,
            StepKind::Loop { .. } => StepKindName::Loop,
            StepKind::Router { .. } => StepKindName::Router,
        }
    }

    /// The steps inside a construct (sequence, parallel, condition, loop,
    /// router), in order; empty for a leaf step.
    pub fn children(&self) -> &[Step<D>] {
        match &self.kind {
            StepKind::Sequence(steps)
            | StepKind::Parallel(steps)
            | StepKind::Condition { steps, .. }
            | StepKind::Loop { steps, .. } => steps,
            StepKind::Router { routes, .. } => routes,
            StepKind::Run(_) | StepKind::Function(_) => &[],
        }
    }

    /// For a step that runs an agent, team or workflow: its id.
    pub fn target_id(&self) -> Option<&str> {
        match &self.kind {
            StepKind::Run(target) => target.id(),
            _ => None,
        }
    }
}

/// The kind of a workflow step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKindName {
    /// Runs an agent.
    Agent,
    /// Runs a team.
    Team,
    /// Runs another workflow.
    Workflow,
    /// Runs a function.
    Function,
    /// Runs steps in order.
    Sequence,
    /// Runs steps at once.
    Parallel,
    /// Runs steps when a condition holds.
    Condition,
    /// Repeats steps.
    Loop,
    /// Runs the steps a function chooses.
    Router,
}

impl StepKindName {
    /// The lowercase name, such as `agent` or `parallel`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Team => "team",
            Self::Workflow => "workflow",
            Self::Function => "function",
            Self::Sequence => "sequence",
            Self::Parallel => "parallel",
            Self::Condition => "condition",
            Self::Loop => "loop",
            Self::Router => "router",
        }
    }
}

/// What a step sees: the workflow input, the previous output, named earlier
/// outputs, and the run context (dependencies, session state, cancellation).
pub struct StepInput<D = ()> {
    pub(crate) input: Arc<Value>,
    pub(crate) previous: Option<Value>,
    pub(crate) outputs: Arc<BTreeMap<String, Value>>,
    pub(crate) ctx: RunContext<D>,
}

impl<D> Clone for StepInput<D> {
    fn clone(&self) -> Self {
        Self {
            input: Arc::clone(&self.input),
            previous: self.previous.clone(),
            outputs: Arc::clone(&self.outputs),
            ctx: self.ctx.clone(),
        }
    }
}

impl<D> StepInput<D> {
    /// The workflow's input.
    pub fn input(&self) -> &Value {
        &self.input
    }

    /// The previous step's output (none for the first step).
    pub fn previous(&self) -> Option<&Value> {
        self.previous.as_ref()
    }

    /// The previous output as text (strings as they are, other JSON
    /// serialized), or the workflow input for the first step.
    pub fn previous_text(&self) -> String {
        match self.previous.as_ref().unwrap_or(&self.input) {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        }
    }

    /// The output of an earlier step, by name.
    pub fn output(&self, step_name: &str) -> Option<&Value> {
        self.outputs.get(step_name)
    }

    /// The run context: dependencies, session state, cancellation.
    pub fn ctx(&self) -> &RunContext<D> {
        &self.ctx
    }

    /// The workflow's session state (shared by all steps, persisted).
    pub fn session_state(&self) -> std::sync::MutexGuard<'_, Map<String, Value>> {
        self.ctx.session_state()
    }
}

/// What a step produced.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepOutput {
    /// The step's name (set by the workflow).
    pub step_name: String,
    /// The output.
    pub content: Value,
    /// Stop the workflow after this step.
    #[serde(default)]
    pub stop: bool,
}

impl StepOutput {
    /// An output that lets the workflow go on.
    pub fn new(content: impl Into<Value>) -> Self {
        Self { step_name: String::new(), content: content.into(), stop: false }
    }

    /// An output that stops the workflow after this step.
    pub fn stop(content: impl Into<Value>) -> Self {
        Self { stop: true, ..Self::new(content) }
    }
}

//! `Workflow`: deterministic steps (agents, teams, functions) with control flow.

mod run;
mod step;

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::hitl::ToolDecision;
use crate::limits::UsageLimits;
use crate::output::RunOutput;
use crate::persist::IntoStore;
use crate::request::{ContinueFrom, RunInput, RunJob, RunRequest};
use crate::runnable::Runnable;
use crate::session::{SessionStore, SessionType};

pub use step::{OnError, Step, StepError, StepInput, StepKindName, StepOutput};

/// A workflow: steps run in order, with `parallel`, `condition`, `repeat`
/// (loop) and `router` constructs, sharing a session state.
///
/// # Example
///
/// ```
/// use agent_core::{Step, StepOutput, Workflow};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let workflow = Workflow::builder("shout")
///     .step(Step::function("upper", |input| async move {
///         Ok(StepOutput::new(input.previous_text().to_uppercase()))
///     }))
///     .step(Step::function("exclaim", |input| async move {
///         Ok(StepOutput::new(format!("{}!", input.previous_text())))
///     }))
///     .build()?;
/// let output = workflow.run("hello").await?;
/// assert_eq!(output.content, "HELLO!");
/// assert_eq!(output.step_outputs.len(), 2);
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
pub struct Workflow<D = ()> {
    inner: Arc<WorkflowInner<D>>,
}

impl<D> Clone for Workflow<D> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

pub(crate) struct WorkflowInner<D> {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) steps: Vec<Step<D>>,
    pub(crate) deps: Option<Arc<D>>,
    pub(crate) store: Option<Arc<dyn SessionStore>>,
    pub(crate) usage_limits: Option<UsageLimits>,
}

impl<D: Send + Sync + 'static> Workflow<D> {
    /// Starts building a run of the workflow on `input` (text, or JSON with
    /// `serde_json::json!`); await it for the output, whose content is the
    /// last step's output as JSON.
    ///
    /// # Errors
    ///
    /// When awaited: [`Error::StepFailed`] when a step fails under the `Fail`
    /// policy (or after its retries), holding the step's error;
    /// [`Error::Cancelled`]; store errors.
    pub fn run(&self, input: impl Into<RunInput>) -> RunRequest<D, Value> {
        Runnable::run(self, input)
    }

    /// Starts building the continuation of a workflow run whose step paused
    /// for tool decisions; `decisions` answer the calls of
    /// [`RunOutput::pending_tool_calls`]. The paused step continues, then the
    /// steps after it.
    ///
    /// # Errors
    ///
    /// When awaited: [`Error::Continue`] when the run is not paused or a
    /// decision is missing; otherwise as for [`Workflow::run`].
    pub fn continue_run(&self, from: impl Into<ContinueFrom>, decisions: Vec<ToolDecision>) -> RunRequest<D, Value> {
        Runnable::continue_run(self, from, decisions)
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[Step<D>] {
        &self.inner.steps
    }

    /// The store the workflow keeps sessions in, if any.
    pub fn store(&self) -> Option<&Arc<dyn SessionStore>> {
        self.inner.store.as_ref()
    }

    /// The workflow's id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The workflow's display name, if set.
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// What the workflow does, if set.
    pub fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }
}

/// Configures a [`Workflow`].
#[must_use]
pub struct WorkflowBuilder<D = ()> {
    inner: WorkflowInner<D>,
}

impl Workflow<()> {
    /// Starts building a workflow with this id.
    pub fn builder(id: impl Into<String>) -> WorkflowBuilder<()> {
        WorkflowBuilder::new(id.into(), Some(Arc::new(())))
    }
}

impl<D: Send + Sync + 'static> Workflow<D> {
    /// Starts building a workflow whose steps share `deps`.
    pub fn with_deps(id: impl Into<String>, deps: D) -> WorkflowBuilder<D> {
        WorkflowBuilder::new(id.into(), Some(Arc::new(deps)))
    }
}

impl<D: Send + Sync + 'static> WorkflowBuilder<D> {
    fn new(id: String, deps: Option<Arc<D>>) -> Self {
        Self {
            inner: WorkflowInner {
                id,
                name: None,
                description: None,
                steps: Vec::new(),
                deps,
                store: None,
                usage_limits: None,
            },
        }
    }

    /// A display name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.inner.name = Some(name.into());
        self
    }

    /// What the workflow does.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.inner.description = Some(description.into());
        self
    }

    /// Appends a step.
    pub fn step(mut self, step: Step<D>) -> Self {
        self.inner.steps.push(step);
        self
    }

    /// Keep workflow sessions (state and runs) in this store (a value, or a
    /// shared `Arc`).
    pub fn store(mut self, store: impl IntoStore) -> Self {
        self.inner.store = Some(store.into_store());
        self
    }

    /// Usage limits shared by every step of a workflow run.
    pub fn usage_limits(mut self, limits: UsageLimits) -> Self {
        self.inner.usage_limits = Some(limits);
        self
    }

    /// Builds the workflow.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when it has no steps.
    pub fn build(self) -> Result<Workflow<D>> {
        if self.inner.steps.is_empty() {
            return Err(Error::Config(format!("workflow `{}` has no steps", self.inner.id)));
        }
        Ok(Workflow { inner: Arc::new(self.inner) })
    }
}

impl<D: Send + Sync + 'static> Runnable<D> for Workflow<D> {
    type Content = Value;

    fn kind(&self) -> SessionType {
        SessionType::Workflow
    }

    fn id(&self) -> Option<&str> {
        Some(&self.inner.id)
    }

    fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }

    fn execute(&self, mut job: RunJob<D>) -> BoxFuture<'static, Result<RunOutput<Value>>> {
        let workflow = self.clone();
        Box::pin(async move {
            let inner = &workflow.inner;
            let timed = crate::trace::spans::run(
                SessionType::Workflow,
                Some(&inner.id),
                inner.name.as_deref(),
                &mut job.options,
                &job.start,
            );
            let result = workflow.execute_job(job).instrument(timed.span()).await;
            crate::trace::spans::end_run(&timed, &result);
            result
        })
    }
}

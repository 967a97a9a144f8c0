//! `Workflow`: deterministic steps (agents, teams, functions) with control flow.

mod run;
mod step;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::message::Usage;
use crate::session::{RunStatus, SessionStore};

pub use step::{OnError, Step, StepError, StepInput, StepOutput};

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
}

impl<D: Send + Sync + 'static> Workflow<D> {
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

/// The result of a workflow run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkflowOutput {
    /// The run's id.
    pub run_id: String,
    /// The session, if any.
    pub session_id: Option<String>,
    /// The workflow's id.
    pub workflow_id: String,
    /// How the run ended.
    pub status: RunStatus,
    /// The last step's output.
    pub content: Value,
    /// Every step's output, in the order they finished.
    pub step_outputs: Vec<StepOutput>,
    /// Token usage of all agent and team steps.
    pub usage: Usage,
    /// Seconds the run took.
    pub duration: f64,
}

impl WorkflowOutput {
    /// The output parsed into `T`.
    ///
    /// # Errors
    ///
    /// [`Error::OutputValidation`] when it does not match `T`.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        let parsed = match &self.content {
            Value::String(text) => crate::agent::parse_answer(text),
            other => T::deserialize(other),
        };
        parsed.map_err(|err| Error::OutputValidation { attempts: 1, message: err.to_string() })
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
        Self { inner: WorkflowInner { id, name: None, description: None, steps: Vec::new(), deps, store: None } }
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

    /// Keep workflow sessions (state and runs) in this store.
    pub fn store(mut self, store: impl SessionStore) -> Self {
        self.inner.store = Some(Arc::new(store));
        self
    }

    /// Keep workflow sessions in this shared store.
    pub fn store_arc(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.inner.store = Some(store);
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

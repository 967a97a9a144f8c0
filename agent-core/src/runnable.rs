//! `Runnable`: what agents, teams and workflows share — one way to run them.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;

use crate::error::Result;
use crate::hitl::ToolDecision;
use crate::output::RunOutput;
use crate::request::{ContinueFrom, RunInput, RunJob, RunRequest};
use crate::session::SessionType;

/// Something that runs: an [`Agent`](crate::Agent), a [`Team`](crate::Team)
/// or a [`Workflow`](crate::Workflow).
///
/// [`Runnable::run`] and [`Runnable::continue_run`] return a [`RunRequest`]
/// to configure, then await (the output), [`stream`](RunRequest::stream)
/// (the events) or make [`typed`](RunRequest::typed). Team members and
/// workflow steps take anything `Runnable`, so a step can be an agent, a team
/// or another workflow. Agents, teams and workflows also have inherent `run`
/// and `continue_run` methods, so the trait need not be imported to run them.
///
/// The trait is implemented by this crate's types only: its engine
/// ([`Runnable::execute`]) takes the crate's private run job.
///
/// # Example
///
/// ```
/// use agent_core::testing::TestModel;
/// use agent_core::{Agent, Runnable, SessionType};
///
/// /// Runs anything and returns its answer as text.
/// async fn ask<R: Runnable + Clone>(target: &R, question: &str) -> agent_core::Result<String> {
///     let output = target.run(question).await?;
///     Ok(R::content_text(&output.content))
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let agent = Agent::builder(TestModel::new().answer("42")).id("oracle").build()?;
/// assert_eq!(agent.kind(), SessionType::Agent);
/// assert_eq!(ask(&agent, "The answer?").await?, "42");
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
pub trait Runnable<D = ()>: Send + Sync + 'static {
    /// The content of a run's output: `String` for agents and teams, a JSON
    /// [`Value`] for workflows.
    type Content: RunContent;

    /// Whether this is an agent, a team or a workflow.
    fn kind(&self) -> SessionType;

    /// The stable id (teams and workflows always have one).
    fn id(&self) -> Option<&str>;

    /// The display name, if set.
    fn name(&self) -> Option<&str>;

    /// What it does, if set (team leaders show it for their members).
    fn description(&self) -> Option<&str>;

    /// Runs a job. Not public API: build jobs with [`Runnable::run`] and
    /// [`Runnable::continue_run`].
    #[doc(hidden)]
    fn execute(&self, job: RunJob<D>) -> BoxFuture<'static, Result<RunOutput<Value>>>;

    /// Starts building a run on `input`.
    fn run(&self, input: impl Into<RunInput>) -> RunRequest<D, Self::Content>
    where
        Self: Sized + Clone,
        D: Send + Sync + 'static,
    {
        RunRequest::new(Arc::new(self.clone()), crate::request::Start::Input(input.into()))
    }

    /// Starts building the continuation of a paused run: `from` is the paused
    /// output, its [`PausedRun`](crate::PausedRun), or a `(session_id, run_id)`
    /// pair to load from the store; `decisions` answer every pending call.
    fn continue_run(&self, from: impl Into<ContinueFrom>, decisions: Vec<ToolDecision>) -> RunRequest<D, Self::Content>
    where
        Self: Sized + Clone,
        D: Send + Sync + 'static,
    {
        RunRequest::new(Arc::new(self.clone()), crate::request::Start::Continue { from: from.into(), decisions })
    }

    /// The content as text: strings as they are, other JSON serialized.
    fn content_text(content: &Self::Content) -> String
    where
        Self: Sized,
    {
        content.to_text()
    }
}

/// What a run's content can be: text (`String`) or JSON ([`Value`]).
pub trait RunContent: Sized + Send + 'static {
    /// Converts the engine's JSON content.
    #[doc(hidden)]
    fn from_value(value: Value) -> Self;

    /// The content as text: strings as they are, other JSON serialized.
    fn to_text(&self) -> String;
}

impl RunContent for String {
    fn from_value(value: Value) -> Self {
        match value {
            Value::String(text) => text,
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    fn to_text(&self) -> String {
        self.clone()
    }
}

impl RunContent for Value {
    fn from_value(value: Value) -> Self {
        value
    }

    fn to_text(&self) -> String {
        match self {
            Value::String(text) => text.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }
}

/// The object-safe part of [`Runnable`], which team members, workflow steps
/// and run requests hold.
pub(crate) trait Engine<D>: Send + Sync + 'static {
    fn kind(&self) -> SessionType;
    fn id(&self) -> Option<&str>;
    fn name(&self) -> Option<&str>;
    fn description(&self) -> Option<&str>;
    fn execute(&self, job: RunJob<D>) -> BoxFuture<'static, Result<RunOutput<Value>>>;
}

impl<D, R: Runnable<D>> Engine<D> for R {
    fn kind(&self) -> SessionType {
        Runnable::kind(self)
    }
    fn id(&self) -> Option<&str> {
        Runnable::id(self)
    }
    fn name(&self) -> Option<&str> {
        Runnable::name(self)
    }
    fn description(&self) -> Option<&str> {
        Runnable::description(self)
    }
    fn execute(&self, job: RunJob<D>) -> BoxFuture<'static, Result<RunOutput<Value>>> {
        Runnable::execute(self, job)
    }
}

/// A shared engine: a team member or workflow step.
pub(crate) type SharedEngine<D> = Arc<dyn Engine<D>>;

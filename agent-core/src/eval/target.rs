//! What an eval runs: the `EvalTarget` trait, its adapter for any `Runnable`, and the log of every tool call a run reports.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use futures::future::BoxFuture;

use super::record::EvalSubject;
use crate::error::{Error, Result};
use crate::event::{RunEvent, RunEventKind, ToolExecution};
use crate::output::RunOutput;
use crate::runnable::{RunContent, Runnable};
use crate::session::{RunStatus, SessionType};

/// One run of an eval's target, as evals read it.
#[derive(Debug)]
pub struct Observation {
    /// The run's output (its content as text), or the error it failed with.
    pub result: Result<RunOutput<String>>,
    /// Every tool call the run reported, in the order they finished: its
    /// own, and those of a team's members and a workflow's steps. Calls made
    /// before a failure are included.
    pub tool_calls: Vec<ToolExecution>,
}

impl Observation {
    /// The answer, or why there is none (the run failed or paused).
    ///
    /// # Errors
    ///
    /// The run's error as text, or a message saying it paused.
    pub fn answer(&self) -> std::result::Result<&str, String> {
        match &self.result {
            Ok(output) if output.status == RunStatus::Paused => {
                Err("the run paused for tool decisions, which an eval cannot give".to_owned())
            }
            Ok(output) => Ok(&output.content),
            Err(error) => Err(error.to_string()),
        }
    }

    /// The output, when the run did not fail.
    pub fn output(&self) -> Option<&RunOutput<String>> {
        self.result.as_ref().ok()
    }
}

/// What an eval evaluates: an agent, team or workflow that runs on a text
/// input. [`RunnableTarget`] makes one of any [`Runnable`]; a server can
/// implement it over the components it serves.
pub trait EvalTarget: Send + Sync {
    /// Agent, team or workflow.
    fn kind(&self) -> SessionType;

    /// The component's id.
    fn id(&self) -> Option<&str>;

    /// The component's display name.
    fn name(&self) -> Option<&str>;

    /// Runs once on `input`, with no session (evals leave no history).
    fn run_once<'a>(&'a self, input: &'a str) -> BoxFuture<'a, Observation>;
}

/// What a target is, before any run says which model it used.
pub(crate) fn subject_of(target: &dyn EvalTarget) -> EvalSubject {
    EvalSubject {
        kind: target.kind(),
        id: target.id().map(str::to_owned),
        name: target.name().map(str::to_owned),
        model_id: None,
        model_provider: None,
    }
}

/// Records the model an observed run used into `subject`.
pub(crate) fn note_model(subject: &mut EvalSubject, observation: &Observation) {
    if let Some(output) = observation.output() {
        subject.saw_model(&output.model, &output.model_provider);
    }
}

/// An [`EvalTarget`] for any [`Runnable`]: each run is streamed so the tool
/// calls of members and steps are seen too.
///
/// # Example
///
/// ```
/// use agent_core::eval::{EvalTarget, RunnableTarget};
/// use agent_core::testing::TestModel;
/// use agent_core::Agent;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let agent = Agent::builder(TestModel::new().answer("4")).id("math").build()?;
/// let target = RunnableTarget::new(agent);
/// let observed = target.run_once("2 + 2?").await;
/// assert_eq!(observed.answer(), Ok("4"));
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
pub struct RunnableTarget<R, D = ()> {
    runnable: R,
    deps: Option<Arc<D>>,
}

impl<R, D> std::fmt::Debug for RunnableTarget<R, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunnableTarget").field("deps", &self.deps.is_some()).finish_non_exhaustive()
    }
}

impl<R, D> RunnableTarget<R, D> {
    /// A target running `runnable` with the deps it was built with.
    pub fn new(runnable: R) -> Self {
        Self { runnable, deps: None }
    }

    /// Runs with these deps instead.
    #[must_use]
    pub fn deps(self, deps: D) -> Self {
        self.deps_arc(Arc::new(deps))
    }

    /// Runs with these shared deps instead.
    #[must_use]
    pub fn deps_arc(mut self, deps: Arc<D>) -> Self {
        self.deps = Some(deps);
        self
    }
}

impl<R, D> EvalTarget for RunnableTarget<R, D>
where
    R: Runnable<D> + Clone,
    D: Send + Sync + 'static,
{
    fn kind(&self) -> SessionType {
        self.runnable.kind()
    }

    fn id(&self) -> Option<&str> {
        self.runnable.id()
    }

    fn name(&self) -> Option<&str> {
        self.runnable.name()
    }

    fn run_once<'a>(&'a self, input: &'a str) -> BoxFuture<'a, Observation> {
        Box::pin(async move {
            let mut request = self.runnable.run(input);
            if let Some(deps) = &self.deps {
                request = request.deps_arc(Arc::clone(deps));
            }
            let mut stream = request.stream();
            let mut log = ToolCallLog::default();
            while let Some(event) = stream.next().await {
                log.record(&event);
            }
            let result = stream.output().unwrap_or(Err(Error::Cancelled));
            Observation {
                result: result.map(|output| output.map(|content| content.to_text())),
                tool_calls: log.into_calls(),
            }
        })
    }
}

/// Collects the tool calls a run reports in its events (its own, its
/// members', its steps'), once per call: a call reported as failed and then
/// completed is kept once, as completed.
#[derive(Debug, Default)]
pub struct ToolCallLog {
    calls: Vec<ToolExecution>,
    index: HashMap<(Arc<str>, String), usize>,
}

impl ToolCallLog {
    /// Takes note of the call an event reports, if any.
    pub fn record(&mut self, event: &RunEvent) {
        let tool = match &event.kind {
            RunEventKind::ToolCallCompleted { tool } | RunEventKind::ToolCallError { tool, .. } => tool,
            _ => return,
        };
        let key = (Arc::clone(&event.run_id), tool.tool_call_id.clone());
        match self.index.get(&key) {
            Some(&position) => self.calls[position] = tool.clone(),
            None => {
                self.index.insert(key, self.calls.len());
                self.calls.push(tool.clone());
            }
        }
    }

    /// The calls, in the order they were first reported.
    pub fn into_calls(self) -> Vec<ToolExecution> {
        self.calls
    }
}

//! Running a workflow: steps, control flow, error policies, events, sessions.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::step::{Step, StepInput, StepKind, StepOutput};
use super::{OnError, Workflow, WorkflowInner, WorkflowOutput};
use crate::agent::run::EventSink;
use crate::agent::{RunOptions, RunStream};
use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::event::{EventScope, RunEvent, RunEventKind};
use crate::message::Usage;
use crate::output::RunOutput;
use crate::session::{RunRecord, RunStatus, Session, SessionType, unix_now};

/// Where a workflow run stands: the last output, named outputs, all outputs.
#[derive(Clone, Default)]
struct Position {
    previous: Option<Value>,
    outputs: BTreeMap<String, Value>,
    trail: Vec<StepOutput>,
}

/// One workflow run in progress.
struct Flow<'a, D> {
    workflow: &'a WorkflowInner<D>,
    ctx: RunContext<D>,
    input: Arc<Value>,
    events: Option<EventSink>,
    workflow_id: Arc<str>,
    user_id: Option<String>,
    usage: Mutex<Usage>,
}

impl<D: Send + Sync + 'static> Workflow<D> {
    /// Runs the workflow on `input` (any serializable value; a string for
    /// text).
    ///
    /// # Errors
    ///
    /// [`Error::StepFailed`] when a step fails under the `Fail` policy (or
    /// after its retries), [`Error::Cancelled`], store errors, and
    /// [`Error::InvalidInput`] when the input cannot be serialized.
    pub async fn run(&self, input: impl Serialize) -> Result<WorkflowOutput> {
        self.run_with(input, RunOptions::new()).await
    }

    /// [`Workflow::run`] with per-run options (session, user, dependencies,
    /// cancellation).
    ///
    /// # Errors
    ///
    /// As for [`Workflow::run`].
    pub async fn run_with(&self, input: impl Serialize, options: RunOptions<D>) -> Result<WorkflowOutput> {
        let input = serde_json::to_value(input).map_err(|err| Error::InvalidInput(err.to_string()))?;
        self.execute(input, options, None).await
    }

    /// Runs the workflow, streaming `WorkflowStarted`, `StepStarted`, the
    /// steps' agent and team events (marked with `workflow_id` and
    /// `step_name`), `StepCompleted`, ..., `WorkflowCompleted`.
    pub fn run_stream(&self, input: impl Serialize) -> RunStream<WorkflowOutput> {
        self.run_stream_with(input, RunOptions::new())
    }

    /// [`Workflow::run_stream`] with per-run options.
    pub fn run_stream_with(&self, input: impl Serialize, options: RunOptions<D>) -> RunStream<WorkflowOutput> {
        let workflow = self.clone();
        let input = serde_json::to_value(input).map_err(|err| Error::InvalidInput(err.to_string()));
        RunStream::new(move |sink| Box::pin(async move { workflow.execute(input?, options, Some(sink)).await }))
    }

    async fn execute(
        &self,
        input: Value,
        mut options: RunOptions<D>,
        events: Option<EventSink>,
    ) -> Result<WorkflowOutput> {
        let workflow = &*self.inner;
        let started = Instant::now();
        let deps =
            options.deps.take().or_else(|| workflow.deps.clone()).ok_or_else(|| {
                Error::Config("no dependencies: give them to the builder or in RunOptions::deps".into())
            })?;
        let session = match (&workflow.store, &options.session_id) {
            (Some(store), Some(session_id)) => store.session(session_id).await?,
            _ => None,
        };
        let state =
            options.session_state.take().or_else(|| session.as_ref().map(|s| s.state.clone())).unwrap_or_default();
        let run_id: Arc<str> = Arc::from(uuid::Uuid::now_v7().to_string());
        let mut builder = RunContext::builder(deps, run_id)
            .session_id(options.session_id.as_deref().map(Arc::from))
            .user_id(options.user_id.as_deref().map(Arc::from))
            .agent_id(Some(Arc::from(workflow.id.as_str())))
            .session_state(state);
        if let Some(token) = options.cancel.take() {
            builder = builder.cancel(token);
        }
        let flow = Flow {
            workflow,
            ctx: builder.build(),
            input: Arc::new(input),
            events,
            workflow_id: Arc::from(workflow.id.as_str()),
            user_id: options.user_id.clone(),
            usage: Mutex::new(Usage::default()),
        };
        flow.emit(
            None,
            RunEventKind::WorkflowStarted {
                workflow_name: workflow.name.clone().unwrap_or_else(|| workflow.id.clone()),
            },
        );
        let mut position = Position::default();
        let result = flow.run_steps(&workflow.steps, &mut position).await;
        let usage = *flow.usage.lock().unwrap_or_else(PoisonError::into_inner);
        let status = match &result {
            Ok(_) => RunStatus::Completed,
            Err(Error::Cancelled) => RunStatus::Cancelled,
            Err(_) => RunStatus::Error,
        };
        let output = WorkflowOutput {
            run_id: flow.ctx.run_id().to_owned(),
            session_id: options.session_id.clone(),
            workflow_id: workflow.id.clone(),
            status,
            content: position.previous.clone().unwrap_or(Value::Null),
            step_outputs: position.trail,
            usage,
            duration: started.elapsed().as_secs_f64(),
        };
        let error = result.as_ref().err().map(ToString::to_string);
        let saved = flow.save(session, &output, error).await;
        match result {
            Ok(_) => {
                saved?;
                flow.emit(None, RunEventKind::WorkflowCompleted { content: output.content.clone() });
                Ok(output)
            }
            Err(error) => {
                if let Err(store_error) = saved {
                    tracing::warn!(%store_error, "could not save the failed workflow run");
                }
                match &error {
                    Error::Cancelled => flow.emit(None, RunEventKind::WorkflowCancelled { reason: error.to_string() }),
                    other => flow.emit(None, RunEventKind::WorkflowError { error: other.to_string() }),
                }
                Err(error)
            }
        }
    }
}

impl<D: Send + Sync + 'static> Flow<'_, D> {
    /// Runs steps in order; returns whether one of them stopped the workflow.
    fn run_steps<'s>(&'s self, steps: &'s [Step<D>], position: &'s mut Position) -> BoxFuture<'s, Result<bool>> {
        Box::pin(async move {
            for (index, step) in steps.iter().enumerate() {
                if self.run_step(step, index, position).await? {
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }

    fn run_step<'s>(
        &'s self,
        step: &'s Step<D>,
        index: usize,
        position: &'s mut Position,
    ) -> BoxFuture<'s, Result<bool>> {
        Box::pin(async move {
            if self.ctx.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let name = step.name.clone();
            match &step.kind {
                StepKind::Agent(_) | StepKind::Team(_) | StepKind::Function(_) => {
                    self.run_leaf(step, index, position).await
                }
                StepKind::Sequence(steps) => self.run_steps(steps, position).await,
                StepKind::Parallel(steps) => {
                    self.emit(
                        None,
                        RunEventKind::ParallelExecutionStarted {
                            step_name: name.clone(),
                            parallel_step_count: steps.len(),
                        },
                    );
                    let branches = steps.iter().enumerate().map(|(index, branch)| {
                        let mut branch_position = position.clone();
                        let before = branch_position.trail.len();
                        async move {
                            let stopped = self.run_step(branch, index, &mut branch_position).await?;
                            Ok::<_, Error>((branch_position, before, stopped))
                        }
                    });
                    let results = futures::future::try_join_all(branches).await?;
                    let mut combined = Map::new();
                    let mut stopped = false;
                    for ((branch_position, before, branch_stopped), branch) in results.into_iter().zip(steps) {
                        combined.insert(branch.name.clone(), branch_position.previous.clone().unwrap_or(Value::Null));
                        for output in &branch_position.trail[before..] {
                            position.outputs.insert(output.step_name.clone(), output.content.clone());
                        }
                        position.trail.extend_from_slice(&branch_position.trail[before..]);
                        stopped |= branch_stopped;
                    }
                    let content = Value::Object(combined);
                    position.outputs.insert(name.clone(), content.clone());
                    position.previous = Some(content);
                    self.emit(None, RunEventKind::ParallelExecutionCompleted { step_name: name });
                    Ok(stopped)
                }
                StepKind::Condition { when, steps } => {
                    let holds = when(&self.view(position));
                    self.emit(
                        None,
                        RunEventKind::ConditionExecutionStarted { step_name: name.clone(), condition_result: holds },
                    );
                    let stopped = if holds { self.run_steps(steps, position).await? } else { false };
                    self.emit(None, RunEventKind::ConditionExecutionCompleted { step_name: name });
                    Ok(stopped)
                }
                StepKind::Loop { steps, until, max_iterations } => {
                    self.emit(
                        None,
                        RunEventKind::LoopExecutionStarted { step_name: name.clone(), max_iterations: *max_iterations },
                    );
                    let mut iterations = 0;
                    let mut stopped = false;
                    while iterations < *max_iterations {
                        iterations += 1;
                        self.emit(
                            None,
                            RunEventKind::LoopIterationStarted { step_name: name.clone(), iteration: iterations },
                        );
                        let before = position.trail.len();
                        stopped = self.run_steps(steps, position).await?;
                        self.emit(
                            None,
                            RunEventKind::LoopIterationCompleted { step_name: name.clone(), iteration: iterations },
                        );
                        if stopped || until(&position.trail[before..]) {
                            break;
                        }
                    }
                    self.emit(None, RunEventKind::LoopExecutionCompleted { step_name: name, iterations });
                    Ok(stopped)
                }
                StepKind::Router { choose, routes } => {
                    let chosen = choose(&self.view(position));
                    self.emit(
                        None,
                        RunEventKind::RouterExecutionStarted {
                            step_name: name.clone(),
                            selected_steps: chosen.clone(),
                        },
                    );
                    let mut stopped = false;
                    for (index, route_name) in chosen.iter().enumerate() {
                        let route =
                            routes.iter().find(|route| &route.name == route_name).ok_or_else(|| Error::StepFailed {
                                step: name.clone(),
                                message: format!("router chose unknown step `{route_name}`"),
                            })?;
                        if self.run_step(route, index, position).await? {
                            stopped = true;
                            break;
                        }
                    }
                    self.emit(None, RunEventKind::RouterExecutionCompleted { step_name: name });
                    Ok(stopped)
                }
            }
        })
    }

    /// Runs an agent, team or function step under its error policy.
    async fn run_leaf(&self, step: &Step<D>, index: usize, position: &mut Position) -> Result<bool> {
        self.emit(Some(&step.name), RunEventKind::StepStarted { step_name: step.name.clone(), step_index: index });
        let mut retries = 0;
        let output = loop {
            let view = self.view(position);
            let cancel = self.ctx.cancellation();
            let attempt = tokio::select! {
                biased;
                () = cancel.cancelled() => Err(Error::Cancelled),
                result = self.attempt(step, view) => result,
            };
            match attempt {
                Ok(output) => break Some(output),
                Err(Error::Cancelled) => return Err(Error::Cancelled),
                Err(error) => {
                    let message = match error {
                        Error::StepFailed { message, .. } => message,
                        other => other.to_string(),
                    };
                    self.emit(
                        Some(&step.name),
                        RunEventKind::StepError { step_name: step.name.clone(), error: message.clone() },
                    );
                    match step.on_error {
                        OnError::Retry(limit) if retries < limit => retries += 1,
                        OnError::Skip => break None,
                        _ => return Err(Error::StepFailed { step: step.name.clone(), message }),
                    }
                }
            }
        };
        let Some(mut output) = output else {
            position.outputs.insert(step.name.clone(), Value::Null);
            position.trail.push(StepOutput { step_name: step.name.clone(), content: Value::Null, stop: false });
            return Ok(false);
        };
        output.step_name.clone_from(&step.name);
        self.emit(
            Some(&step.name),
            RunEventKind::StepCompleted { step_name: step.name.clone(), content: output.content.clone() },
        );
        position.outputs.insert(step.name.clone(), output.content.clone());
        position.previous = Some(output.content.clone());
        let stop = output.stop;
        position.trail.push(output);
        Ok(stop)
    }

    async fn attempt(&self, step: &Step<D>, view: StepInput<D>) -> Result<StepOutput> {
        let run = match &step.kind {
            StepKind::Function(f) => {
                return f(view)
                    .await
                    .map_err(|err| Error::StepFailed { step: step.name.clone(), message: err.to_string() });
            }
            StepKind::Agent(agent) => {
                let options = self.member_options();
                match &self.events {
                    Some(sink) => {
                        self.forward(agent.run_stream_with(view.previous_text(), options), sink, &step.name).await
                    }
                    None => agent.run_with(view.previous_text(), options).await,
                }
            }
            StepKind::Team(team) => {
                let options = self.member_options();
                match &self.events {
                    Some(sink) => {
                        self.forward(team.run_stream_with(view.previous_text(), options), sink, &step.name).await
                    }
                    None => team.run_with(view.previous_text(), options).await,
                }
            }
            _ => return Err(Error::Config(format!("step `{}` is not a leaf step", step.name))),
        }?;
        *self.usage.lock().unwrap_or_else(PoisonError::into_inner) += run.usage;
        if run.is_paused() {
            return Err(Error::StepFailed {
                step: step.name.clone(),
                message: "the step paused for tool decisions; human-in-the-loop is not supported inside workflows"
                    .into(),
            });
        }
        Ok(StepOutput::new(run.content))
    }

    fn member_options(&self) -> RunOptions<D> {
        let mut options = RunOptions::new()
            .parent_run_id(self.ctx.run_id().to_owned())
            .cancel_token(self.ctx.cancellation().child_token());
        options.deps = Some(self.ctx.deps_arc());
        options.user_id.clone_from(&self.user_id);
        options
    }

    async fn forward(&self, stream: RunStream, sink: &EventSink, step_name: &str) -> Result<RunOutput> {
        let step: Arc<str> = Arc::from(step_name);
        stream
            .forward_into(sink, |event| {
                event.workflow_id = Some(Arc::clone(&self.workflow_id));
                event.step_name.get_or_insert_with(|| Arc::clone(&step));
                event.parent_run_id.get_or_insert_with(|| self.ctx.run_id_arc());
            })
            .await
    }

    fn view(&self, position: &Position) -> StepInput<D> {
        StepInput {
            input: Arc::clone(&self.input),
            previous: position.previous.clone(),
            outputs: Arc::new(position.outputs.clone()),
            ctx: self.ctx.clone(),
        }
    }

    fn emit(&self, step_name: Option<&str>, kind: RunEventKind) {
        if let Some(sink) = &self.events {
            let _ = sink.send(RunEvent {
                kind,
                scope: EventScope::Agent,
                run_id: self.ctx.run_id_arc(),
                session_id: self.ctx.session_id_arc(),
                agent_id: None,
                team_id: None,
                workflow_id: Some(Arc::clone(&self.workflow_id)),
                step_name: step_name.map(Arc::from),
                parent_run_id: None,
                created_at: unix_now(),
            });
        }
    }

    async fn save(&self, session: Option<Session>, output: &WorkflowOutput, error: Option<String>) -> Result<()> {
        let (Some(store), Some(session_id)) = (&self.workflow.store, self.ctx.session_id()) else { return Ok(()) };
        let now = unix_now();
        let mut session = session.unwrap_or_else(|| Session::new(session_id, SessionType::Workflow));
        session.component_id.get_or_insert_with(|| self.workflow.id.clone());
        if session.user_id.is_none() {
            session.user_id.clone_from(&self.user_id);
        }
        session.state = self.ctx.session_state().clone();
        session.updated_at = now;
        let record = RunRecord {
            run_id: output.run_id.clone(),
            session_id: session_id.to_owned(),
            component_id: Some(self.workflow.id.clone()),
            user_id: self.user_id.clone(),
            status: output.status,
            input: match &*self.input {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            },
            output: (output.status == RunStatus::Completed).then(|| match &output.content {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            }),
            metrics: json!({"duration": output.duration, "step_outputs": output.step_outputs}),
            error,
            created_at: now,
            updated_at: now,
            ..RunRecord::default()
        };
        Ok(store.save_run(&session, &record).await?)
    }
}

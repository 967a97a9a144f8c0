//! Running a workflow: steps, control flow, error policies, pauses, events,
//! sessions.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::time::Instant;
use tracing::Instrument;

use super::step::{Step, StepInput, StepKind, StepOutput};
use super::{OnError, Workflow};
use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::event::{EventScope, EventSink, RunEvent, RunEventKind};
use crate::hitl::{PausedRun, PendingKind, PendingToolCall, ToolDecision};
use crate::limits::Budget;
use crate::message::Usage;
use crate::output::{RunMetrics, RunOutput};
use crate::persist::{SessionSlot, run_record};
use crate::request::{RunJob, RunOptions, RunRequest, Start};
use crate::runnable::{RunContent, SharedEngine};
use crate::session::{RunStatus, SessionType, unix_now};

/// Where a workflow run stands: the last output, named outputs, all outputs.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Position {
    previous: Option<Value>,
    outputs: BTreeMap<String, Value>,
    trail: Vec<StepOutput>,
}

/// Before any step: a new run refuses input the store cannot hold and is
/// recorded as running; a continued one claims its paused record, so only one
/// caller continues it.
#[allow(clippy::too_many_arguments)]
async fn begin<D>(
    slot: &SessionSlot,
    continuing: bool,
    run_id: &str,
    input: &Value,
    state: &Map<String, Value>,
    options: &RunOptions<D>,
    workflow_id: &str,
    created_at: i64,
) -> Result<()> {
    if continuing {
        return match slot.store().claim_paused_run(&slot.session.session_id, run_id).await? {
            Some(_) => Ok(()),
            None => Err(Error::RunClaimed { run_id: run_id.to_owned() }),
        };
    }
    slot.check_storable(&input.to_text(), state)?;
    let running = RunOutput {
        run_id: run_id.to_owned(),
        session_id: Some(slot.session.session_id.clone()),
        user_id: options.user_id.clone(),
        workflow_id: Some(workflow_id.to_owned()),
        parent_run_id: options.parent_run_id.clone(),
        status: RunStatus::Running,
        content: Value::Null,
        created_at,
        ..RunOutput::default()
    };
    Ok(slot.start(&run_record(&running, input.to_text(), None)).await?)
}

/// How a run of steps ended.
enum Control {
    /// Go on with the next step.
    Next,
    /// A step stopped the workflow.
    Stop,
    /// A step paused for tool decisions.
    Paused(Box<PausedStep>),
}

/// A step that paused, and where it is in the workflow.
struct PausedStep {
    path: Vec<usize>,
    name: String,
    paused: PausedRun,
}

/// A paused step to continue, found by its path.
struct Resume {
    path: Vec<usize>,
    from: PausedRun,
    decisions: Vec<ToolDecision>,
}

/// What a paused workflow keeps, in its [`PausedRun`]'s position.
#[derive(Serialize, Deserialize)]
struct Kept {
    path: Vec<usize>,
    position: Position,
    input: Value,
}

/// One workflow run in progress.
struct Flow<D> {
    ctx: RunContext<D>,
    input: Arc<Value>,
    events: Option<EventSink>,
    workflow_id: Arc<str>,
    user_id: Option<String>,
    usage: Mutex<Usage>,
    budget: Arc<Budget>,
    depth: u32,
}

impl<D: Send + Sync + 'static> Workflow<D> {
    pub(super) async fn execute_job(&self, job: RunJob<D>) -> Result<RunOutput<Value>> {
        let RunJob { start, mut options, events } = job;
        let workflow = &*self.inner;
        let started = Instant::now();
        let (input, mut resume, mut position) = match start {
            Start::Input(input) => (input.to_value(), None, Position::default()),
            Start::Continue { from, decisions } => {
                let paused =
                    crate::agent::paused_run(from.0, self.inner.store.as_ref(), options.session_id.as_deref()).await?;
                if options.session_id.is_none() {
                    options.session_id.clone_from(&paused.session_id);
                }
                if options.user_id.is_none() {
                    options.user_id.clone_from(&paused.user_id);
                }
                options.run_id = Some(Arc::from(paused.run_id.as_str()));
                let kept: Kept = paused
                    .position
                    .clone()
                    .and_then(|kept| serde_json::from_value(kept).ok())
                    .ok_or_else(|| Error::Continue("the paused run is not a workflow's".into()))?;
                let from = paused
                    .pending
                    .first()
                    .and_then(PendingToolCall::nested)
                    .ok_or_else(|| Error::Continue("the paused workflow has no paused step".into()))?;
                (kept.input, Some(Resume { path: kept.path, from, decisions }), kept.position)
            }
        };
        let deps = options.deps.take().or_else(|| workflow.deps.clone()).ok_or_else(|| {
            Error::Config("no dependencies: give them to the builder or to the run with .deps()".into())
        })?;
        let continuing = resume.is_some();
        let run_id = options.run_id_or_new();
        let mut slot = match (&workflow.store, &options.session_id) {
            (Some(store), Some(session_id)) => {
                let (component, wait) = (Some(workflow.id.as_str()), options.session_wait());
                let open =
                    SessionSlot::open(Arc::clone(store), session_id, SessionType::Workflow, component, &run_id, wait);
                Some(open.await?)
            }
            (None, Some(session_id)) => {
                return Err(Error::SessionWithoutStore {
                    session_id: session_id.clone(),
                    component: format!("workflow `{}`", workflow.id),
                });
            }
            _ => None,
        };
        let state = options
            .session_state
            .take()
            .or_else(|| slot.as_ref().map(|slot| slot.session.state.clone()))
            .unwrap_or_default();
        let user_id = options.user_id.clone().or_else(|| slot.as_ref().and_then(|slot| slot.session.user_id.clone()));
        let created_at = unix_now();
        if let Some(slot) = &slot
            && let Err(error) =
                begin(slot, continuing, &run_id, &input, &state, &options, &workflow.id, created_at).await
        {
            slot.release().await;
            return Err(error);
        }
        let mut builder = RunContext::builder(deps, run_id)
            .session_id(options.session_id.as_deref().map(Arc::from))
            .user_id(user_id.as_deref().map(Arc::from))
            .agent_id(Some(Arc::from(workflow.id.as_str())))
            .session_state(state)
            .metadata(options.metadata.clone());
        if let Some(token) = options.cancel.take() {
            builder = builder.cancel(token);
        }
        let budget = options.budget.take().unwrap_or_else(|| {
            let limits = options.limits.clone().or_else(|| workflow.usage_limits.clone());
            Arc::new(Budget::new(limits.unwrap_or_default()))
        });
        let flow = Flow {
            ctx: builder.build(),
            input: Arc::new(input),
            events,
            workflow_id: Arc::from(workflow.id.as_str()),
            user_id,
            usage: Mutex::new(Usage::default()),
            budget,
            depth: options.depth,
        };
        let name = workflow.name.clone().unwrap_or_else(|| workflow.id.clone());
        flow.emit(None, RunEventKind::WorkflowStarted { workflow_name: name });
        let result = match resume.take() {
            None => flow.run_steps(&workflow.steps, 0, &[], true, &mut position).await,
            Some(resume) => {
                let path = resume.path.clone();
                flow.resume(&workflow.steps, &path, &[], resume, &mut position).await
            }
        };
        let (status, paused) = match &result {
            Ok(Control::Paused(step)) => (RunStatus::Paused, Some(flow.paused_run(step, &position, created_at))),
            Ok(_) => (RunStatus::Completed, None),
            Err(Error::Cancelled) => (RunStatus::Cancelled, None),
            Err(_) => (RunStatus::Error, None),
        };
        let usage = *flow.usage.lock().unwrap_or_else(PoisonError::into_inner);
        let mut metrics = RunMetrics { duration: started.elapsed().as_secs_f64(), ..RunMetrics::default() };
        metrics.set_usage(usage);
        let output = RunOutput {
            run_id: flow.ctx.run_id().to_owned(),
            session_id: options.session_id.clone(),
            user_id: flow.user_id.clone(),
            workflow_id: Some(workflow.id.clone()),
            parent_run_id: options.parent_run_id.clone(),
            status,
            content: if paused.is_some() { Value::Null } else { position.previous.clone().unwrap_or(Value::Null) },
            step_outputs: position.trail,
            usage,
            metrics,
            metadata: options.metadata,
            paused,
            created_at,
            ..RunOutput::default()
        };
        let error = result.as_ref().err().map(Error::report);
        let saved = match &mut slot {
            Some(slot) => {
                let record = run_record(&output, flow.input.to_text(), error);
                let state = flow.ctx.session_state().clone();
                let saved = slot.save(&record, state, None).await;
                slot.release().await;
                saved
            }
            None => Ok(()),
        };
        match result {
            Ok(Control::Paused(step)) => {
                if let Err(source) = saved {
                    return Err(Error::Unsaved { output: Box::new(output.map(String::from_value)), source });
                }
                let step_index = step.path.last().copied().unwrap_or_default();
                flow.emit(Some(&step.name), RunEventKind::StepPaused { step_name: step.name.clone(), step_index });
                Ok(output)
            }
            Ok(_) => {
                if let Err(source) = saved {
                    return Err(Error::Unsaved { output: Box::new(output.map(String::from_value)), source });
                }
                flow.emit(None, RunEventKind::WorkflowCompleted { content: output.content.clone() });
                Ok(output)
            }
            Err(error) => {
                if let Err(store_error) = saved {
                    tracing::warn!(%store_error, "could not save the failed workflow run");
                }
                match &error {
                    Error::Cancelled => flow.emit(None, RunEventKind::WorkflowCancelled { reason: error.to_string() }),
                    other => flow.emit(None, RunEventKind::WorkflowError { error: other.report() }),
                }
                Err(error)
            }
        }
    }
}

impl<D: Send + Sync + 'static> Flow<D> {
    /// Runs `steps[from..]` in order. `prefix` is the path of the construct
    /// they are in; `pausable` says whether a step there may pause.
    fn run_steps<'s>(
        &'s self,
        steps: &'s [Step<D>],
        from: usize,
        prefix: &'s [usize],
        pausable: bool,
        position: &'s mut Position,
    ) -> BoxFuture<'s, Result<Control>> {
        Box::pin(async move {
            for (index, step) in steps.iter().enumerate().skip(from) {
                let path = [prefix, &[index]].concat();
                match self.run_step(step, index, &path, pausable, position).await? {
                    Control::Next => {}
                    other => return Ok(other),
                }
            }
            Ok(Control::Next)
        })
    }

    /// Continues the paused step at `path` (relative to `steps`), then the
    /// steps after it, level by level.
    fn resume<'s>(
        &'s self,
        steps: &'s [Step<D>],
        path: &'s [usize],
        prefix: &'s [usize],
        resume: Resume,
        position: &'s mut Position,
    ) -> BoxFuture<'s, Result<Control>> {
        Box::pin(async move {
            let (&index, rest) = path.split_first().ok_or_else(|| Error::Continue("no paused step".into()))?;
            let step =
                steps.get(index).ok_or_else(|| Error::Continue("the workflow no longer has the paused step".into()))?;
            let here = [prefix, &[index]].concat();
            let control = match (&step.kind, rest.is_empty()) {
                (StepKind::Run(_), true) => self.run_leaf(step, index, &here, true, position, Some(resume)).await?,
                (StepKind::Sequence(children) | StepKind::Condition { steps: children, .. }, false) => {
                    self.resume(children, rest, &here, resume, position).await?
                }
                _ => return Err(Error::Continue("the workflow no longer has the paused step".into())),
            };
            match control {
                Control::Next => self.run_steps(steps, index + 1, prefix, true, position).await,
                other => Ok(other),
            }
        })
    }

    fn run_step<'s>(
        &'s self,
        step: &'s Step<D>,
        index: usize,
        path: &'s [usize],
        pausable: bool,
        position: &'s mut Position,
    ) -> BoxFuture<'s, Result<Control>> {
        Box::pin(async move {
            if self.ctx.is_cancelled() {
                return Err(Error::Cancelled);
            }
            if matches!(step.kind, StepKind::Run(_) | StepKind::Function(_)) {
                return self.run_leaf(step, index, path, pausable, position, None).await;
            }
            let timed = crate::trace::spans::step(&self.workflow_id, &step.name, index, step.kind().as_str());
            let result = self.run_construct(step, path, pausable, position).instrument(timed.span()).await;
            crate::trace::spans::end_step(&timed, step_outcome(&result, step, position));
            result
        })
    }

    /// Runs a construct: a sequence, parallel branches, a condition, a loop
    /// or a router.
    async fn run_construct(
        &self,
        step: &Step<D>,
        path: &[usize],
        pausable: bool,
        position: &mut Position,
    ) -> Result<Control> {
        {
            let name = step.name.clone();
            match &step.kind {
                StepKind::Run(_) | StepKind::Function(_) => {
                    Err(Error::Config(format!("step `{}` is a leaf step, not a construct", step.name)))
                }
                StepKind::Sequence(steps) => self.run_steps(steps, 0, path, pausable, position).await,
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
                        let branch_path = [path, &[index]].concat();
                        async move {
                            let control =
                                self.run_step(branch, index, &branch_path, false, &mut branch_position).await?;
                            Ok::<_, Error>((branch_position, before, control))
                        }
                    });
                    let results = futures::future::try_join_all(branches).await?;
                    let mut combined = Map::new();
                    let mut stopped = false;
                    for ((branch_position, before, control), branch) in results.into_iter().zip(steps) {
                        combined.insert(branch.name.clone(), branch_position.previous.clone().unwrap_or(Value::Null));
                        for output in &branch_position.trail[before..] {
                            position.outputs.insert(output.step_name.clone(), output.content.clone());
                        }
                        position.trail.extend_from_slice(&branch_position.trail[before..]);
                        stopped |= matches!(control, Control::Stop);
                    }
                    let content = Value::Object(combined);
                    position.outputs.insert(name.clone(), content.clone());
                    position.previous = Some(content);
                    self.emit(None, RunEventKind::ParallelExecutionCompleted { step_name: name });
                    Ok(if stopped { Control::Stop } else { Control::Next })
                }
                StepKind::Condition { when, steps } => {
                    let holds = when(&self.view(position));
                    self.emit(
                        None,
                        RunEventKind::ConditionExecutionStarted { step_name: name.clone(), condition_result: holds },
                    );
                    let control =
                        if holds { self.run_steps(steps, 0, path, pausable, position).await? } else { Control::Next };
                    self.emit(None, RunEventKind::ConditionExecutionCompleted { step_name: name });
                    Ok(control)
                }
                StepKind::Loop { steps, until, max_iterations } => {
                    self.emit(
                        None,
                        RunEventKind::LoopExecutionStarted { step_name: name.clone(), max_iterations: *max_iterations },
                    );
                    let mut iterations = 0;
                    let mut control = Control::Next;
                    while iterations < *max_iterations {
                        iterations += 1;
                        self.emit(
                            None,
                            RunEventKind::LoopIterationStarted { step_name: name.clone(), iteration: iterations },
                        );
                        let before = position.trail.len();
                        control = self.run_steps(steps, 0, path, false, position).await?;
                        self.emit(
                            None,
                            RunEventKind::LoopIterationCompleted { step_name: name.clone(), iteration: iterations },
                        );
                        if matches!(control, Control::Stop) || until(&position.trail[before..]) {
                            break;
                        }
                    }
                    self.emit(None, RunEventKind::LoopExecutionCompleted { step_name: name, iterations });
                    Ok(control)
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
                    let mut control = Control::Next;
                    for (index, route_name) in chosen.iter().enumerate() {
                        let route =
                            routes.iter().find(|route| &route.name == route_name).ok_or_else(|| Error::StepFailed {
                                step: name.clone(),
                                source: Box::new(Error::Config(format!("router chose unknown step `{route_name}`"))),
                            })?;
                        let route_path = [path, &[index]].concat();
                        control = self.run_step(route, index, &route_path, false, position).await?;
                        if matches!(control, Control::Stop) {
                            break;
                        }
                    }
                    self.emit(None, RunEventKind::RouterExecutionCompleted { step_name: name });
                    Ok(control)
                }
            }
        }
    }

    /// Runs (or continues) an agent, team, workflow or function step under
    /// its error policy, in the step's span.
    async fn run_leaf(
        &self,
        step: &Step<D>,
        index: usize,
        path: &[usize],
        pausable: bool,
        position: &mut Position,
        resume: Option<Resume>,
    ) -> Result<Control> {
        let timed = crate::trace::spans::step(&self.workflow_id, &step.name, index, step.kind().as_str());
        let result = self.attempt_leaf(step, index, path, pausable, position, resume).instrument(timed.span()).await;
        crate::trace::spans::end_step(&timed, step_outcome(&result, step, position));
        result
    }

    async fn attempt_leaf(
        &self,
        step: &Step<D>,
        index: usize,
        path: &[usize],
        pausable: bool,
        position: &mut Position,
        mut resume: Option<Resume>,
    ) -> Result<Control> {
        if resume.is_none() {
            self.emit(Some(&step.name), RunEventKind::StepStarted { step_name: step.name.clone(), step_index: index });
        }
        let mut retries = 0;
        let output = loop {
            let view = self.view(position);
            let cancel = self.ctx.cancellation();
            let attempt = tokio::select! {
                biased;
                () = cancel.cancelled() => Err(Error::Cancelled),
                result = self.attempt(step, view, resume.take()) => result,
            };
            match attempt {
                Ok(Attempt::Done(output)) => break Some(output),
                Ok(Attempt::Paused(paused)) if pausable => {
                    let name = step.name.clone();
                    return Ok(Control::Paused(Box::new(PausedStep { path: path.to_vec(), name, paused: *paused })));
                }
                Ok(Attempt::Paused(_)) => {
                    return Err(Error::StepFailed {
                        step: step.name.clone(),
                        source: Box::new(Error::Config(
                            "the step paused for tool decisions inside a parallel, loop or router construct; \
                             steps that pause belong in sequences and conditions"
                                .into(),
                        )),
                    });
                }
                Err(Error::Cancelled) => return Err(Error::Cancelled),
                Err(error) => {
                    self.emit(
                        Some(&step.name),
                        RunEventKind::StepError { step_name: step.name.clone(), error: error.report() },
                    );
                    match step.on_error {
                        OnError::Retry(limit) if retries < limit => retries += 1,
                        OnError::Skip => break None,
                        _ => return Err(Error::StepFailed { step: step.name.clone(), source: Box::new(error) }),
                    }
                }
            }
        };
        let Some(mut output) = output else {
            position.outputs.insert(step.name.clone(), Value::Null);
            position.trail.push(StepOutput { step_name: step.name.clone(), content: Value::Null, stop: false });
            return Ok(Control::Next);
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
        Ok(if stop { Control::Stop } else { Control::Next })
    }

    async fn attempt(&self, step: &Step<D>, view: StepInput<D>, resume: Option<Resume>) -> Result<Attempt> {
        let target = match &step.kind {
            StepKind::Function(f) => return f(view).await.map(Attempt::Done).map_err(Error::Function),
            StepKind::Run(target) => target,
            _ => return Err(Error::Config(format!("step `{}` is not a leaf step", step.name))),
        };
        let start = match resume {
            Some(resume) => Start::Continue { from: resume.from.into(), decisions: resume.decisions },
            None => Start::Input(view.previous.clone().unwrap_or_else(|| (*self.input).clone()).into()),
        };
        let run = self.step_request(target, start).run_nested(self.events.as_ref(), self.marker(&step.name)).await?;
        *self.usage.lock().unwrap_or_else(PoisonError::into_inner) += run.usage;
        match run.paused {
            Some(paused) => Ok(Attempt::Paused(Box::new(paused))),
            None => Ok(Attempt::Done(StepOutput::new(run.content))),
        }
    }

    fn step_request(&self, target: &SharedEngine<D>, start: Start) -> RunRequest<D, Value> {
        RunRequest::<D, Value>::new(Arc::clone(target), start)
            .parent_run_id(self.ctx.run_id().to_owned())
            .cancel(self.ctx.cancellation().child_token())
            .deps_arc(self.ctx.deps_arc())
            .user_opt(self.user_id.clone())
            .budget(Some(Arc::clone(&self.budget)))
            .depth(self.depth + 1)
    }

    /// Marks a step's events with the workflow, the step and the workflow run.
    fn marker(&self, step_name: &str) -> impl FnMut(&mut RunEvent) + use<D> {
        let step: Arc<str> = Arc::from(step_name);
        let workflow_id = Arc::clone(&self.workflow_id);
        let run_id = self.ctx.run_id_arc();
        move |event| {
            event.workflow_id = Some(Arc::clone(&workflow_id));
            event.step_name.get_or_insert_with(|| Arc::clone(&step));
            event.parent_run_id.get_or_insert_with(|| Arc::clone(&run_id));
        }
    }

    /// The workflow's paused state: the paused step as a deferred call whose
    /// payload carries the step's paused run, and where the workflow stood.
    fn paused_run(&self, step: &PausedStep, position: &Position, created_at: i64) -> PausedRun {
        let path: Vec<String> = step.path.iter().map(ToString::to_string).collect();
        let kept = Kept { path: step.path.clone(), position: position.clone(), input: (*self.input).clone() };
        PausedRun {
            run_id: self.ctx.run_id().to_owned(),
            session_id: self.ctx.session_id().map(str::to_owned),
            user_id: self.user_id.clone(),
            input: self.input.to_text(),
            pending: vec![PendingToolCall {
                tool_call_id: format!("step:{}", path.join(".")),
                tool_name: step.name.clone(),
                tool_args: json!({}),
                kind: PendingKind::Deferred,
                payload: Some(json!({"step_name": step.name, "paused": step.paused})),
            }],
            created_at,
            position: serde_json::to_value(kept).ok(),
            ..PausedRun::default()
        }
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
}

/// What a step's span records: its output, `None` for a pause, or its error.
fn step_outcome<'p, D>(
    result: &'p Result<Control>,
    step: &Step<D>,
    position: &'p Position,
) -> std::result::Result<Option<&'p Value>, &'p Error> {
    match result {
        Ok(Control::Paused(_)) => Ok(None),
        Ok(_) => Ok(Some(position.outputs.get(&step.name).or(position.previous.as_ref()).unwrap_or(&Value::Null))),
        Err(error) => Err(error),
    }
}

/// How one attempt at a leaf step ended.
enum Attempt {
    Done(StepOutput),
    Paused(Box<PausedRun>),
}

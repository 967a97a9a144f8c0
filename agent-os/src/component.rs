//! Served components: agents, teams and workflows behind one object-safe trait, with the deps each run gets and the description discovery routes show.

use std::sync::Arc;

use agent_core::{
    Agent, ContinueFrom, RunContent, RunEvent, RunInput, RunOutput, RunRequest, Runnable, SessionStore, SessionType,
    Step, Team, ToolDecision, Workflow,
};
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use crate::deps::Deps;
use crate::error::ApiError;
use crate::wire::StepExecutor;

/// How a run starts.
pub(crate) enum Start {
    /// A new run on this input.
    Input(RunInput),
    /// The continuation of a paused run.
    Continue { from: ContinueFrom, decisions: Vec<ToolDecision> },
}

/// Everything a request asks of one run.
pub(crate) struct RunSpec {
    pub(crate) start: Start,
    pub(crate) run_id: Option<String>,
    pub(crate) session_id: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) state: Option<Map<String, Value>>,
    pub(crate) metadata: Option<Map<String, Value>>,
    pub(crate) dependencies: Option<Map<String, Value>>,
    pub(crate) cancel: CancellationToken,
}

/// What a launched run yields: its events, then its result. Each item is
/// moved once, through a channel, so the size difference of the variants
/// costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub(crate) enum RunItem {
    /// An event of the run (or of a member or step).
    Event(RunEvent),
    /// The run's end.
    Done(agent_core::Result<RunOutput<Value>>),
}

/// An agent, team or workflow the server runs.
pub(crate) trait Component: Send + Sync + 'static {
    fn kind(&self) -> SessionType;
    fn id(&self) -> &str;
    fn name(&self) -> Option<&str>;
    /// The store its runs are kept in, if any.
    fn store(&self) -> Option<&Arc<dyn SessionStore>>;
    /// The full description (`AgentResponse`, `TeamResponse`, `WorkflowResponse`).
    fn describe(&self, db_id: Option<&str>) -> Value;
    /// The short description of `/config`.
    fn summary(&self, db_id: Option<&str>) -> Value;
    /// A workflow's steps and what runs them (empty for agents and teams).
    fn step_executors(&self) -> &[StepExecutor];
    /// Starts a run: its events, then its result. The run advances only while
    /// the stream is polled.
    fn launch(&self, spec: RunSpec) -> Result<BoxStream<'static, RunItem>, ApiError>;
}

/// A served agent, team or workflow with the deps its runs get.
pub(crate) struct Served<R, D> {
    pub(crate) runnable: R,
    pub(crate) deps: Deps<D>,
    pub(crate) steps: Vec<StepExecutor>,
}

/// What the description of each kind needs beyond [`Runnable`].
pub(crate) trait Describe {
    fn store(&self) -> Option<&Arc<dyn SessionStore>>;
    fn describe(&self, db_id: Option<&str>) -> Value;
    fn summary(&self, db_id: Option<&str>) -> Value;
    /// A workflow's steps (depth first) and what runs each.
    fn step_executors(&self) -> Vec<StepExecutor> {
        Vec::new()
    }
}

impl<D, R> Component for Served<R, D>
where
    D: Send + Sync + 'static,
    R: Runnable<D> + Describe + Clone,
    R::Content: Serialize,
{
    fn kind(&self) -> SessionType {
        self.runnable.kind()
    }

    fn id(&self) -> &str {
        self.runnable.id().unwrap_or_default()
    }

    fn name(&self) -> Option<&str> {
        self.runnable.name()
    }

    fn store(&self) -> Option<&Arc<dyn SessionStore>> {
        Describe::store(&self.runnable)
    }

    fn describe(&self, db_id: Option<&str>) -> Value {
        self.runnable.describe(db_id)
    }

    fn summary(&self, db_id: Option<&str>) -> Value {
        self.runnable.summary(db_id)
    }

    fn step_executors(&self) -> &[StepExecutor] {
        &self.steps
    }

    fn launch(&self, spec: RunSpec) -> Result<BoxStream<'static, RunItem>, ApiError> {
        let deps = self.deps.resolve(spec.dependencies.as_ref())?;
        let mut request: RunRequest<D, R::Content> = match spec.start {
            Start::Input(input) => self.runnable.run(input),
            Start::Continue { from, decisions } => self.runnable.continue_run(from, decisions),
        };
        request = request.deps_arc(deps).cancel(spec.cancel);
        if let Some(run_id) = spec.run_id {
            request = request.run_id(run_id);
        }
        if let Some(session_id) = spec.session_id {
            request = request.session(session_id);
        }
        if let Some(user_id) = spec.user_id {
            request = request.user(user_id);
        }
        if let Some(state) = spec.state {
            request = request.state(state);
        }
        if let Some(metadata) = spec.metadata {
            request = request.metadata(metadata);
        }
        let stream = request.stream();
        Ok(futures::stream::unfold(Some(stream), |state| async move {
            let mut stream = state?;
            match stream.next().await {
                Some(event) => Some((RunItem::Event(event), Some(stream))),
                None => {
                    let result = stream.output().unwrap_or(Err(agent_core::Error::Cancelled));
                    Some((RunItem::Done(result.map(|output| output.map(content_json))), None))
                }
            }
        })
        .boxed())
    }
}

fn content_json<C: RunContent + Serialize>(content: C) -> Value {
    serde_json::to_value(&content).unwrap_or_else(|_| Value::String(content.to_text()))
}

fn model_response(id: &str, provider: &str) -> Value {
    json!({"id": id, "name": id, "model": id, "provider": provider})
}

fn model_summary(id: &str, provider: &str) -> Value {
    json!({"id": id, "provider": provider})
}

impl<D: Send + Sync + 'static> Describe for Agent<D> {
    fn store(&self) -> Option<&Arc<dyn SessionStore>> {
        Agent::store(self)
    }

    fn describe(&self, db_id: Option<&str>) -> Value {
        let tools: Vec<Value> = self
            .tool_defs()
            .iter()
            .map(|def| {
                json!({
                    "name": def.name,
                    "description": def.description,
                    "parameters": def.input_schema,
                    "requires_confirmation": def.requires_confirmation,
                    "external_execution": def.external_execution,
                })
            })
            .collect();
        let instructions = self.instructions().join("\n");
        json!({
            "id": self.id(),
            "name": self.name(),
            "db_id": db_id,
            "description": self.description(),
            "model": model_response(self.model().id(), self.model().provider()),
            "tools": {"tools": tools},
            "sessions": {"session_table": "sessions", "add_history_to_context": self.store().is_some()},
            "knowledge": {"has_knowledge": self.has_knowledge()},
            "memory": {"enable_user_memories": self.has_memory()},
            "system_message": {"instructions": instructions},
            "default_tools": {},
            "streaming": {"stream": true, "stream_events": true},
            "response_settings": {"max_turns": self.max_turns()},
            "metadata": {},
        })
    }

    fn summary(&self, db_id: Option<&str>) -> Value {
        json!({
            "id": self.id(),
            "name": self.name(),
            "description": self.description(),
            "db_id": db_id,
            "model": model_summary(self.model().id(), self.model().provider()),
        })
    }
}

impl<D: Send + Sync + 'static> Describe for Team<D> {
    fn store(&self) -> Option<&Arc<dyn SessionStore>> {
        Team::store(self)
    }

    fn describe(&self, db_id: Option<&str>) -> Value {
        let mut leader = self.leader().describe(db_id);
        let members: Vec<Value> = self
            .members()
            .map(|member| {
                let mut entry = json!({"id": member.id, "name": member.name, "description": member.description});
                if member.kind == SessionType::Team {
                    entry["mode"] = Value::String("coordinate".into());
                }
                entry
            })
            .collect();
        if let Some(map) = leader.as_object_mut() {
            map.insert("id".into(), json!(self.id()));
            map.insert("name".into(), json!(self.name()));
            map.insert("description".into(), json!(self.description()));
            map.insert("mode".into(), json!(mode_name(self)));
            map.insert("members".into(), Value::Array(members));
        }
        leader
    }

    fn summary(&self, db_id: Option<&str>) -> Value {
        json!({
            "id": self.id(),
            "name": self.name(),
            "description": self.description(),
            "db_id": db_id,
            "mode": mode_name(self),
            "model": model_summary(self.model().id(), self.model().provider()),
        })
    }
}

fn mode_name<D: Send + Sync + 'static>(team: &Team<D>) -> String {
    team.mode().as_str().to_owned()
}

impl<D: Send + Sync + 'static> Describe for Workflow<D> {
    fn store(&self) -> Option<&Arc<dyn SessionStore>> {
        Workflow::store(self)
    }

    fn describe(&self, db_id: Option<&str>) -> Value {
        json!({
            "id": self.id(),
            "name": self.name(),
            "db_id": db_id,
            "description": self.description(),
            "steps": self.steps().iter().map(describe_step).collect::<Vec<_>>(),
            "metadata": {},
            "workflow_agent": false,
        })
    }

    fn summary(&self, db_id: Option<&str>) -> Value {
        json!({"id": self.id(), "name": self.name(), "description": self.description(), "db_id": db_id})
    }

    fn step_executors(&self) -> Vec<StepExecutor> {
        let mut executors = Vec::new();
        let mut stack: Vec<&Step<D>> = self.steps().iter().rev().collect();
        while let Some(step) = stack.pop() {
            use agent_core::StepKindName as K;
            let executor_type = match step.kind() {
                K::Agent => "agent",
                K::Team => "team",
                K::Workflow => "workflow",
                K::Function => "function",
                _ => "steps",
            };
            let executor_name = step.target_id().unwrap_or(step.name()).to_owned();
            executors.push(StepExecutor { step_name: step.name().to_owned(), executor_type, executor_name });
            stack.extend(step.children().iter().rev());
        }
        executors
    }
}

fn describe_step<D: Send + Sync + 'static>(step: &Step<D>) -> Value {
    use agent_core::StepKindName as K;
    let kind = step.kind();
    let type_name = match kind {
        K::Agent | K::Team | K::Workflow | K::Function => "Step",
        K::Sequence => "Steps",
        K::Parallel => "Parallel",
        K::Condition => "Condition",
        K::Loop => "Loop",
        K::Router => "Router",
    };
    let mut entry = json!({"name": step.name(), "type": type_name});
    let target = step.target_id().map(|id| json!({"id": id}));
    match (kind, target) {
        (K::Agent, Some(target)) => entry["agent"] = target,
        (K::Team, Some(target)) => entry["team"] = target,
        (K::Workflow, Some(target)) => entry["workflow"] = target,
        _ => {}
    }
    if !step.children().is_empty() {
        entry["steps"] = Value::Array(step.children().iter().map(describe_step).collect());
    }
    entry
}

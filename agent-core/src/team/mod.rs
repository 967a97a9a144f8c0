//! `Team`: agents, teams or workflows coordinated by a leader agent.

mod builder;
mod leader;
mod run;

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;
use tracing::Instrument;

use crate::agent::Agent;
use crate::error::Result;
use crate::hitl::ToolDecision;
use crate::model::Model;
use crate::output::RunOutput;
use crate::request::{ContinueFrom, RunInput, RunJob, RunRequest};
use crate::runnable::{Runnable, SharedEngine};
use crate::session::{SessionStore, SessionType};

pub use builder::TeamBuilder;

/// How a team's leader works with its members.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TeamMode {
    /// The leader picks one member; that member's answer is the team's.
    Route,
    /// The leader delegates tasks to members through tool calls (several at
    /// once when it likes) and writes the final answer.
    #[default]
    Coordinate,
    /// Every member gets the task at once; the leader synthesizes their answers.
    Broadcast,
}

impl TeamMode {
    /// The mode's lowercase name: `route`, `coordinate` or `broadcast`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Route => "route",
            Self::Coordinate => "coordinate",
            Self::Broadcast => "broadcast",
        }
    }

    /// Parses the lowercase name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "route" => Some(Self::Route),
            "coordinate" => Some(Self::Coordinate),
            "broadcast" => Some(Self::Broadcast),
            _ => None,
        }
    }
}

/// What a team says about one of its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberInfo<'a> {
    /// The member's id.
    pub id: &'a str,
    /// Agent, team or workflow.
    pub kind: SessionType,
    /// Its display name, if set.
    pub name: Option<&'a str>,
    /// What it does, if set.
    pub description: Option<&'a str>,
}

/// A team: a leader agent coordinating members — agents, teams or workflows.
///
/// It runs like an agent: [`Team::run`], [`Team::continue_run`], streamed or
/// awaited. The leader's events are named `TeamRunStarted`,
/// `TeamRunContent`, `TeamToolCallStarted`, ...; members' events are forwarded
/// with their own names, their `agent_id`, and the team's `team_id`. The
/// leader is an agent built from an [`AgentBuilder`](crate::AgentBuilder)
/// ([`TeamBuilder::leader`]), so every agent setting applies to it; the team
/// shares one usage budget across the leader and its members.
///
/// # Example
///
/// ```
/// use agent_core::testing::TestModel;
/// use agent_core::{Agent, Team, TeamMode};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let researcher = Agent::builder(TestModel::new().answer("Rust is a systems language."))
///     .id("researcher")
///     .description("Finds facts.")
///     .build()?;
/// let team = Team::builder(TestModel::new().answer("Summary: Rust is a systems language."))
///     .id("writers")
///     .mode(TeamMode::Coordinate)
///     .member(researcher)
///     .build()?;
/// let output = team.run("What is Rust?").await?;
/// assert_eq!(output.content, "Summary: Rust is a systems language.");
/// assert_eq!(output.team_id.as_deref(), Some("writers"));
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
pub struct Team<D = ()> {
    inner: Arc<TeamInner<D>>,
}

impl<D> Clone for Team<D> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

impl<D> std::fmt::Debug for Team<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Team").field("id", &self.inner.id).field("mode", &self.inner.mode).finish_non_exhaustive()
    }
}

pub(crate) struct TeamInner<D> {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) mode: TeamMode,
    /// The leader, built once; its tools reach the run through the run
    /// context's extension.
    pub(crate) leader: Agent<D>,
    pub(crate) members: Vec<(String, SharedEngine<D>)>,
    pub(crate) deps: Option<Arc<D>>,
    pub(crate) max_delegations: u32,
    pub(crate) max_depth: u32,
    pub(crate) store: Option<Arc<dyn SessionStore>>,
    pub(crate) share_history: bool,
    pub(crate) share_state: bool,
}

impl<D: Send + Sync + 'static> Team<D> {
    /// Starts building a run of the team on `input`; await it for the output.
    ///
    /// # Errors
    ///
    /// When awaited, as for [`Agent::run`], for the leader's run. A member's
    /// failure is reported to the leader, which can react to it.
    pub fn run(&self, input: impl Into<RunInput>) -> RunRequest<D> {
        Runnable::run(self, input)
    }

    /// Starts building the continuation of a team run that paused because a
    /// member (or the leader) waits for the user; `decisions` answer the calls
    /// of [`RunOutput::pending_tool_calls`].
    ///
    /// # Errors
    ///
    /// When awaited: [`Error::Continue`](crate::Error::Continue) when the run
    /// is not paused or a decision is missing; otherwise as for [`Team::run`].
    pub fn continue_run(&self, from: impl Into<ContinueFrom>, decisions: Vec<ToolDecision>) -> RunRequest<D> {
        Runnable::continue_run(self, from, decisions)
    }

    /// The team's id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The team's display name, if set.
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// What the team does, if set.
    pub fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }

    /// The team's mode.
    pub fn mode(&self) -> TeamMode {
        self.inner.mode
    }

    /// The leader's model.
    pub fn model(&self) -> &dyn Model {
        self.inner.leader.model()
    }

    /// The leader agent (its instructions, tools, settings).
    pub fn leader(&self) -> &Agent<D> {
        &self.inner.leader
    }

    /// The store the team keeps sessions in, if any.
    pub fn store(&self) -> Option<&Arc<dyn SessionStore>> {
        self.inner.store.as_ref()
    }

    /// The members, in order.
    pub fn members(&self) -> impl Iterator<Item = MemberInfo<'_>> {
        self.inner.members.iter().map(|(id, member)| MemberInfo {
            id,
            kind: member.kind(),
            name: member.name(),
            description: member.description(),
        })
    }
}

impl<D: Send + Sync + 'static> Runnable<D> for Team<D> {
    type Content = String;

    fn kind(&self) -> SessionType {
        SessionType::Team
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
        let team = self.clone();
        Box::pin(async move {
            let inner = &team.inner;
            let timed = crate::trace::spans::run(
                SessionType::Team,
                Some(&inner.id),
                inner.name.as_deref(),
                &mut job.options,
                &job.start,
            );
            let result = team.execute_job(job).instrument(timed.span()).await;
            crate::trace::spans::end_run(&timed, &result);
            result
        })
    }
}

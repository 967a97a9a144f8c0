//! `Team`: agents (or teams) coordinated by a leader model.

mod builder;
mod leader;
mod run;

use std::sync::Arc;

use crate::agent::Agent;
use crate::model::Model;
use crate::session::SessionStore;

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

/// A member of a team: an agent or another team.
pub enum Member<D = ()> {
    /// An agent.
    Agent(Agent<D>),
    /// A nested team.
    Team(Team<D>),
}

impl<D> Clone for Member<D> {
    fn clone(&self) -> Self {
        match self {
            Self::Agent(agent) => Self::Agent(agent.clone()),
            Self::Team(team) => Self::Team(team.clone()),
        }
    }
}

impl<D: Send + Sync + 'static> Member<D> {
    /// The member's id (the agent's or team's id).
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Agent(agent) => agent.id(),
            Self::Team(team) => Some(team.id()),
        }
    }

    /// What the member does, for the leader.
    pub fn description(&self) -> Option<&str> {
        match self {
            Self::Agent(agent) => agent.description().or(agent.name()),
            Self::Team(team) => team.inner.description.as_deref().or(team.inner.name.as_deref()),
        }
    }
}

impl<D> From<Agent<D>> for Member<D> {
    fn from(agent: Agent<D>) -> Self {
        Self::Agent(agent)
    }
}

impl<D> From<Team<D>> for Member<D> {
    fn from(team: Team<D>) -> Self {
        Self::Team(team)
    }
}

/// A team: a leader model coordinating member agents or teams.
///
/// It has the agent's surface: [`Team::run`], [`Team::run_stream`],
/// [`Team::continue_run`]. The leader's events are named `TeamRunStarted`,
/// `TeamRunContent`, `TeamToolCallStarted`, ...; members' events are forwarded
/// with their own names, their `agent_id`, and the team's `team_id`.
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
    pub(crate) model: Arc<dyn Model>,
    pub(crate) instructions: Vec<String>,
    pub(crate) members: Vec<(String, Member<D>)>,
    pub(crate) deps: Option<Arc<D>>,
    pub(crate) max_delegations: u32,
    pub(crate) max_depth: u32,
    pub(crate) max_turns: u32,
    pub(crate) store: Option<Arc<dyn SessionStore>>,
    pub(crate) share_history: bool,
    pub(crate) share_state: bool,
}

impl<D: Send + Sync + 'static> Team<D> {
    /// The team's id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The team's mode.
    pub fn mode(&self) -> TeamMode {
        self.inner.mode
    }

    /// The members and their ids, in order.
    pub fn members(&self) -> impl Iterator<Item = (&str, &Member<D>)> {
        self.inner.members.iter().map(|(id, member)| (id.as_str(), member))
    }
}

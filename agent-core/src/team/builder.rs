//! `TeamBuilder`: configures a team and builds its leader.

use std::collections::HashSet;
use std::sync::Arc;

use super::leader::{DELEGATE_TOOL, ROUTE_TOOL, leader_tool, member_answers_section};
use super::{Team, TeamInner, TeamMode};
use crate::agent::{Agent, AgentBuilder};
use crate::error::{Error, Result};
use crate::limits::UsageLimits;
use crate::model::{IntoModel, ToolChoice};
use crate::persist::IntoStore;
use crate::runnable::{Runnable, SharedEngine};
use crate::session::SessionStore;

/// Configures a [`Team`].
#[must_use]
pub struct TeamBuilder<D = ()> {
    id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    mode: TeamMode,
    leader: AgentBuilder<D>,
    members: Vec<SharedEngine<D>>,
    deps: Option<Arc<D>>,
    max_delegations: u32,
    max_depth: u32,
    store: Option<Arc<dyn SessionStore>>,
    share_history: bool,
    share_state: bool,
}

impl Team<()> {
    /// Starts building a team whose leader runs on `model`.
    pub fn builder(model: impl IntoModel) -> TeamBuilder<()> {
        TeamBuilder::new(model, Some(Arc::new(())))
    }
}

impl<D: Send + Sync + 'static> Team<D> {
    /// Starts building a team whose leader and members share `deps`.
    pub fn with_deps(model: impl IntoModel, deps: D) -> TeamBuilder<D> {
        TeamBuilder::new(model, Some(Arc::new(deps)))
    }
}

impl<D: Send + Sync + 'static> TeamBuilder<D> {
    fn new(model: impl IntoModel, deps: Option<Arc<D>>) -> Self {
        Self {
            id: None,
            name: None,
            description: None,
            mode: TeamMode::default(),
            leader: Agent::builder_without_deps(model),
            members: Vec::new(),
            deps,
            max_delegations: 10,
            max_depth: 3,
            store: None,
            share_history: false,
            share_state: false,
        }
    }

    /// The team's id (required).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// A display name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// What the team does (shown to a parent team's leader).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// How the leader works with the members (default: coordinate).
    pub fn mode(mut self, mode: TeamMode) -> Self {
        self.mode = mode;
        self
    }

    /// Adds instructions for the leader.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.leader = self.leader.instructions(instructions);
        self
    }

    /// Configures the leader with any agent setting (tools, hooks, model
    /// options, limits, memory, ...).
    ///
    /// # Example
    ///
    /// ```
    /// use agent_core::testing::TestModel;
    /// use agent_core::{Agent, Team};
    ///
    /// # fn main() -> agent_core::Result<()> {
    /// let member = Agent::builder(TestModel::new()).id("helper").build()?;
    /// let team = Team::builder(TestModel::new())
    ///     .id("team")
    ///     .member(member)
    ///     .leader(|leader| leader.max_tokens(1024).model_option("temperature", 0.2.into()))
    ///     .build()?;
    /// assert_eq!(team.leader().id(), Some("team"));
    /// # Ok(()) }
    /// ```
    pub fn leader(mut self, configure: impl FnOnce(AgentBuilder<D>) -> AgentBuilder<D>) -> Self {
        self.leader = configure(self.leader);
        self
    }

    /// Adds a member: an agent, a team or a workflow. Members need an id.
    pub fn member<R: Runnable<D>>(mut self, member: R) -> Self {
        self.members.push(Arc::new(member));
        self
    }

    /// Limit on delegations per team run (default 10). Past it the leader is
    /// told to answer with what it has.
    pub fn max_delegations(mut self, limit: u32) -> Self {
        self.max_delegations = limit;
        self
    }

    /// Limit on nesting of teams within teams (default 3).
    pub fn max_depth(mut self, depth: u32) -> Self {
        self.max_depth = depth;
        self
    }

    /// Limit on the leader's model turns per run (default 20).
    pub fn max_turns(mut self, turns: u32) -> Self {
        self.leader = self.leader.max_turns(turns);
        self
    }

    /// Usage limits shared by the leader and every member run of a team run.
    pub fn usage_limits(mut self, limits: UsageLimits) -> Self {
        self.leader = self.leader.usage_limits(limits);
        self
    }

    /// Keep team sessions in this store (a value, or a shared `Arc`).
    pub fn store(mut self, store: impl IntoStore) -> Self {
        self.store = Some(store.into_store());
        self
    }

    /// Give members the team session's history with each task.
    pub fn share_history_with_members(mut self, yes: bool) -> Self {
        self.share_history = yes;
        self
    }

    /// Give members a copy of the team's session state.
    pub fn share_state_with_members(mut self, yes: bool) -> Self {
        self.share_state = yes;
        self
    }

    /// Builds the team and its leader.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the team has no id or no members, a member has
    /// no id, two members share one, or the leader's settings are invalid.
    pub fn build(self) -> Result<Team<D>> {
        let id = self.id.ok_or_else(|| Error::Config("a team needs an id".into()))?;
        if self.members.is_empty() {
            return Err(Error::Config(format!("team `{id}` has no members")));
        }
        let mut seen = HashSet::new();
        let mut members = Vec::with_capacity(self.members.len());
        for member in self.members {
            let member_id = member
                .id()
                .ok_or_else(|| Error::Config(format!("a member of team `{id}` has no id; set one with .id()")))?
                .to_owned();
            if !seen.insert(member_id.clone()) {
                return Err(Error::Config(format!("team `{id}` has two members with id `{member_id}`")));
            }
            members.push((member_id, member));
        }
        let mut leader = self.leader.id(id.clone()).team_leader().instructions(prompt(&id, self.mode, &members));
        if let Some(name) = &self.name {
            leader = leader.name(name.clone());
        }
        if let Some(store) = &self.store {
            leader = leader.store(Arc::clone(store));
        }
        let member_ids: Vec<String> = members.iter().map(|(member_id, _)| member_id.clone()).collect();
        leader = match self.mode {
            TeamMode::Route => leader
                .tool(leader_tool::<D>(ROUTE_TOOL, true, &member_ids))
                .tool_choice(ToolChoice::Tool { name: ROUTE_TOOL.into() }),
            TeamMode::Coordinate => leader.tool(leader_tool::<D>(DELEGATE_TOOL, false, &member_ids)),
            TeamMode::Broadcast => leader.instructions_fn(member_answers_section::<D>),
        };
        Ok(Team {
            inner: Arc::new(TeamInner {
                id,
                name: self.name,
                description: self.description,
                mode: self.mode,
                leader: leader.build()?,
                members,
                deps: self.deps,
                max_delegations: self.max_delegations,
                max_depth: self.max_depth,
                store: self.store,
                share_history: self.share_history,
                share_state: self.share_state,
            }),
        })
    }
}

/// The leader's instructions about the team and its mode.
fn prompt<D: 'static>(id: &str, mode: TeamMode, members: &[(String, SharedEngine<D>)]) -> String {
    let mut prompt = format!("You lead the team `{id}`. Its members:\n");
    for (member_id, member) in members {
        let about = member.description().or(member.name()).unwrap_or("(no description)");
        prompt.push_str(&format!("- `{member_id}` ({}): {about}\n", member.kind().as_str()));
    }
    prompt.push('\n');
    prompt.push_str(match mode {
        TeamMode::Route => {
            "Route the user's request to the one member best suited to answer it with `route_to_member`, \
             passing the request on as the task. The member's answer goes to the user as it is."
        }
        TeamMode::Coordinate => {
            "Delegate tasks to members with `delegate_task_to_member` (several calls in one turn run in \
             parallel), then write the final answer for the user from their results. If a member fails, \
             decide whether to retry, ask another member, or answer with what you have."
        }
        TeamMode::Broadcast => {
            "Every member has answered the user's request; their answers follow. Write the final answer \
             for the user from them."
        }
    });
    prompt
}

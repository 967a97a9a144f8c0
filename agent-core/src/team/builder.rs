//! `TeamBuilder`: configures a team.

use std::collections::HashSet;
use std::sync::Arc;

use super::{Member, Team, TeamInner, TeamMode};
use crate::error::{Error, Result};
use crate::model::{IntoModel, Model};
use crate::session::SessionStore;

/// Configures a [`Team`].
#[must_use]
pub struct TeamBuilder<D = ()> {
    id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    mode: TeamMode,
    model: Arc<dyn Model>,
    instructions: Vec<String>,
    members: Vec<Member<D>>,
    deps: Option<Arc<D>>,
    max_delegations: u32,
    max_depth: u32,
    max_turns: u32,
    store: Option<Arc<dyn SessionStore>>,
    share_history: bool,
    share_state: bool,
}

impl Team<()> {
    /// Starts building a team whose leader runs on `model`.
    pub fn builder(model: impl IntoModel) -> TeamBuilder<()> {
        TeamBuilder::new(model.into_model(), Some(Arc::new(())))
    }
}

impl<D: Send + Sync + 'static> Team<D> {
    /// Starts building a team whose members share `deps`.
    pub fn with_deps(model: impl IntoModel, deps: D) -> TeamBuilder<D> {
        TeamBuilder::new(model.into_model(), Some(Arc::new(deps)))
    }
}

impl<D: Send + Sync + 'static> TeamBuilder<D> {
    fn new(model: Arc<dyn Model>, deps: Option<Arc<D>>) -> Self {
        Self {
            id: None,
            name: None,
            description: None,
            mode: TeamMode::default(),
            model,
            instructions: Vec::new(),
            members: Vec::new(),
            deps,
            max_delegations: 10,
            max_depth: 3,
            max_turns: crate::agent::DEFAULT_MAX_TURNS,
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
        self.instructions.push(instructions.into());
        self
    }

    /// Adds a member agent or team. Members need an id.
    pub fn member(mut self, member: impl Into<Member<D>>) -> Self {
        self.members.push(member.into());
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
        self.max_turns = turns;
        self
    }

    /// Keep team sessions in this store.
    pub fn store(mut self, store: impl SessionStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Keep team sessions in this shared store.
    pub fn store_arc(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = Some(store);
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

    /// Builds the team.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the team has no id or no members, a member has
    /// no id, or two members share one.
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
        Ok(Team {
            inner: Arc::new(TeamInner {
                id,
                name: self.name,
                description: self.description,
                mode: self.mode,
                model: self.model,
                instructions: self.instructions,
                members,
                deps: self.deps,
                max_delegations: self.max_delegations,
                max_depth: self.max_depth,
                max_turns: self.max_turns,
                store: self.store,
                share_history: self.share_history,
                share_state: self.share_state,
            }),
        })
    }
}

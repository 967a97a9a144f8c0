//! `AgentBuilder`: configures an agent.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::hooks::{HookAction, PostToolHook, PreToolHook};
use super::{Agent, AgentInner, Instructions, Settings};
use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::event::EventScope;
use crate::knowledge::{Knowledge, knowledge_tools};
use crate::limits::UsageLimits;
use crate::memory::{MemoryManager, SessionSummarizer};
use crate::message::{ToolCall, ToolResultContent};
use crate::model::{IntoModel, Model, ToolChoice};
use crate::persist::IntoStore;
use crate::session::{SessionStore, SessionType};
use crate::tool::{IntoToolkit, Tool};

/// Configures an [`Agent`]. Every setter takes and returns the builder.
#[must_use]
pub struct AgentBuilder<D = ()> {
    id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    model: Arc<dyn Model>,
    instructions: Vec<Instructions<D>>,
    tools: Vec<Arc<dyn Tool<D>>>,
    deps: Option<Arc<D>>,
    settings: Settings,
    pre_hooks: Vec<PreToolHook<D>>,
    post_hooks: Vec<PostToolHook<D>>,
    store: Option<Arc<dyn SessionStore>>,
    memory: Option<MemoryManager>,
    knowledge_context: Option<(Arc<dyn Knowledge>, usize)>,
    summarizer: Option<SessionSummarizer>,
    scope: EventScope,
    session_type: SessionType,
}

impl Agent<()> {
    /// Starts building an agent without dependencies.
    pub fn builder(model: impl IntoModel) -> AgentBuilder<()> {
        AgentBuilder::new(model.into_model(), Some(Arc::new(())))
    }
}

impl<D: Send + Sync + 'static> Agent<D> {
    /// Starts building an agent whose tools reach `deps` through
    /// [`RunContext::deps`].
    pub fn with_deps(model: impl IntoModel, deps: D) -> AgentBuilder<D> {
        AgentBuilder::new(model.into_model(), Some(Arc::new(deps)))
    }

    /// Starts building an agent whose dependencies are given per run
    /// ([`RunRequest::deps`](crate::RunRequest::deps)).
    pub fn builder_without_deps(model: impl IntoModel) -> AgentBuilder<D> {
        AgentBuilder::new(model.into_model(), None)
    }
}

impl<D: Send + Sync + 'static> AgentBuilder<D> {
    fn new(model: Arc<dyn Model>, deps: Option<Arc<D>>) -> Self {
        Self {
            id: None,
            name: None,
            description: None,
            model,
            instructions: Vec::new(),
            tools: Vec::new(),
            deps,
            settings: Settings::default(),
            pre_hooks: Vec::new(),
            post_hooks: Vec::new(),
            store: None,
            memory: None,
            knowledge_context: None,
            summarizer: None,
            scope: EventScope::Agent,
            session_type: SessionType::Agent,
        }
    }

    /// Makes the agent a team's leader: its events and sessions are the team's.
    pub(crate) fn team_leader(mut self) -> Self {
        self.scope = EventScope::Team;
        self.session_type = SessionType::Team;
        self
    }

    /// A stable id (used for sessions, events and the server's routes).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// A display name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// A description of what the agent does (shown by servers and team leaders).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Adds static text to the system prompt.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions.push(Instructions::Static(instructions.into()));
        self
    }

    /// Adds text computed from the run context at the start of each run.
    pub fn instructions_fn(mut self, f: impl Fn(&RunContext<D>) -> String + Send + Sync + 'static) -> Self {
        self.instructions.push(Instructions::Dynamic(Arc::new(f)));
        self
    }

    /// Adds a tool: a value, or a shared `Arc` of one.
    pub fn tool(mut self, tool: impl Tool<D>) -> Self {
        self.tools.push(Arc::new(tool));
        self
    }

    /// Adds a toolkit's tools and instructions.
    pub fn toolkit(mut self, toolkit: impl IntoToolkit<D>) -> Self {
        let (instructions, tools) = toolkit.into_toolkit().into_parts();
        if let Some(text) = instructions {
            self.instructions.push(Instructions::Static(text));
        }
        self.tools.extend(tools);
        self
    }

    /// Dependencies reached through [`RunContext::deps`].
    pub fn deps(mut self, deps: D) -> Self {
        self.deps = Some(Arc::new(deps));
        self
    }

    /// Limit on model turns per run (default 20); exceeding it is
    /// [`Error::MaxTurns`].
    pub fn max_turns(mut self, max_turns: u32) -> Self {
        self.settings.max_turns = max_turns;
        self
    }

    /// Limit on tool calls per run; exceeding it is [`Error::ToolCallLimit`].
    pub fn max_tool_calls(mut self, limit: u32) -> Self {
        self.settings.max_tool_calls = Some(limit);
        self
    }

    /// How many tool calls of one model turn run at once (default 16; 1 runs
    /// them one after another). Results go back in call order either way.
    pub fn tool_concurrency(mut self, concurrency: usize) -> Self {
        self.settings.tool_concurrency = concurrency.max(1);
        self
    }

    /// Time limit for a tool call when the tool sets none (default 120 s;
    /// `None` for no limit). A call that runs over is answered with an error
    /// result the model can react to.
    pub fn tool_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.tool_timeout = timeout;
        self
    }

    /// How many retryable failures (bad arguments, tool errors, timeouts) each
    /// tool may have per run before the run fails (default 3).
    pub fn max_tool_retries(mut self, retries: u32) -> Self {
        self.settings.max_tool_retries = retries;
        self
    }

    /// How many times the model may retry a structured answer that does not
    /// parse (default 2).
    pub fn max_output_retries(mut self, retries: u32) -> Self {
        self.settings.max_output_retries = retries;
        self
    }

    /// How many `pause_turn` stops in a row are resumed (default 5).
    pub fn max_continuations(mut self, continuations: u32) -> Self {
        self.settings.max_continuations = continuations;
        self
    }

    /// Upper bound on output tokens per model call.
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.settings.max_tokens = Some(max_tokens);
        self
    }

    /// How the model must pick tools.
    pub fn tool_choice(mut self, choice: ToolChoice) -> Self {
        self.settings.tool_choice = Some(choice);
        self
    }

    /// Ask the model for at most one tool call per turn.
    pub fn disable_parallel_tool_use(mut self) -> Self {
        self.settings.disable_parallel_tool_use = true;
        self
    }

    /// A provider-specific setting sent with every request (for Claude, e.g.
    /// `temperature` or `thinking`).
    pub fn model_option(mut self, key: impl Into<String>, value: Value) -> Self {
        self.settings.model_options.insert(key.into(), value);
        self
    }

    /// Keep sessions in this store (a value, or a shared `Arc`); runs with a
    /// session id load and save history.
    pub fn store(mut self, store: impl IntoStore) -> Self {
        self.store = Some(store.into_store());
        self
    }

    /// Usage limits for every run (tokens, tool calls, cost); a run's own
    /// [`RunRequest::limits`](crate::RunRequest::limits) replace them.
    pub fn usage_limits(mut self, limits: UsageLimits) -> Self {
        self.settings.usage_limits = Some(limits);
        self
    }

    /// How many earlier runs of the session are sent as history (default 10;
    /// `None` for all).
    pub fn history_runs(mut self, runs: Option<usize>) -> Self {
        self.settings.history_runs = runs;
        self
    }

    /// Caps the history sent with each run at about this many tokens (estimated
    /// from the messages' size), dropping the oldest exchanges first.
    pub fn history_token_budget(mut self, tokens: usize) -> Self {
        self.settings.history_token_budget = Some(tokens);
        self
    }

    /// Remember facts about users: before each run with a user id, the
    /// memories relevant to the input go into the system prompt; after each
    /// completed run, the manager's model extracts new facts from it (add,
    /// update, delete, deduplicate). Failures of the extraction are logged,
    /// not raised: the run's answer stands.
    pub fn memory(mut self, manager: MemoryManager) -> Self {
        self.memory = Some(manager);
        self
    }

    /// Agentic memory: give the model tools to add, update, delete and search
    /// the user's memories itself.
    pub fn memory_tools(self, manager: &MemoryManager) -> Self {
        self.toolkit(manager.tools::<D>())
    }

    /// How many relevant memories go into the system prompt (default 10).
    pub fn memories_in_context(mut self, limit: usize) -> Self {
        self.settings.memories_in_context = limit;
        self
    }

    /// Agentic retrieval: give the model a `search_knowledge` tool over this
    /// knowledge base (with filters it can set); results carry their sources.
    pub fn knowledge(self, knowledge: Arc<dyn Knowledge>) -> Self {
        self.toolkit(knowledge_tools::<D>(knowledge))
    }

    /// Automatic retrieval: before each run, search this knowledge base for
    /// the input and put the `top_k` results, with their sources, into the
    /// system prompt. A failed search is logged and the run goes on without.
    pub fn knowledge_context(mut self, knowledge: Arc<dyn Knowledge>, top_k: usize) -> Self {
        self.knowledge_context = Some((knowledge, top_k));
        self
    }

    /// Write a session summary after each completed run (incrementally, from
    /// the previous summary and the run's messages) and keep it with the
    /// session. Needs a store and a session id.
    pub fn session_summaries(mut self, summarizer: SessionSummarizer) -> Self {
        self.summarizer = Some(summarizer);
        self
    }

    /// Put the session summary into the system prompt. Combined with a small
    /// [`AgentBuilder::history_runs`], the summary stands in for old history.
    pub fn summary_in_context(mut self, yes: bool) -> Self {
        self.settings.summary_in_context = yes;
        self
    }

    /// Runs before every tool call; can let it run, answer it with an error
    /// result, or stop the run.
    pub fn pre_tool_hook(
        mut self,
        hook: impl Fn(&RunContext<D>, &ToolCall<'_>) -> HookAction + Send + Sync + 'static,
    ) -> Self {
        self.pre_hooks.push(Arc::new(hook));
        self
    }

    /// Runs after every tool call with its result and whether it is an error.
    pub fn post_tool_hook(
        mut self,
        hook: impl Fn(&RunContext<D>, &ToolCall<'_>, &ToolResultContent, bool) + Send + Sync + 'static,
    ) -> Self {
        self.post_hooks.push(Arc::new(hook));
        self
    }

    /// Builds the agent.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when two tools share a name or a tool's name is not
    /// 1-64 characters of `a-z A-Z 0-9 _ -`.
    pub fn build(self) -> Result<Agent<D>> {
        let tool_defs: Arc<[_]> = self.tools.iter().map(|tool| tool.def()).collect();
        if tool_defs.len() > 1 {
            let mut seen = HashSet::with_capacity(tool_defs.len());
            for def in tool_defs.iter() {
                if !seen.insert(def.name.as_str()) {
                    return Err(Error::Config(format!("two tools are named `{}`", def.name)));
                }
            }
        }
        for def in tool_defs.iter() {
            if !valid_tool_name(&def.name) {
                return Err(Error::Config(format!(
                    "tool name `{}` must be 1-64 characters of a-z, A-Z, 0-9, `_` and `-`",
                    def.name
                )));
            }
        }
        Ok(Agent {
            inner: Arc::new(AgentInner {
                id: self.id.map(Arc::from),
                name: self.name,
                description: self.description,
                model: self.model,
                instructions: self.instructions,
                tools: self.tools,
                tool_defs,
                deps: self.deps,
                settings: self.settings,
                pre_hooks: self.pre_hooks,
                post_hooks: self.post_hooks,
                store: self.store,
                memory: self.memory,
                knowledge_context: self.knowledge_context,
                summarizer: self.summarizer,
                scope: self.scope,
                session_type: self.session_type,
            }),
        })
    }
}

/// Whether a tool name is accepted by the providers (`^[a-zA-Z0-9_-]{1,64}$`).
pub(crate) fn valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

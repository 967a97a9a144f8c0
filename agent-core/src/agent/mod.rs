//! `Agent`: a model, instructions and tools, run by the tool-runner loop.

mod builder;
mod continue_run;
mod execute;
pub(crate) mod history;
mod hooks;
pub(crate) mod run;
mod stream;
mod structured;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::context::RunContext;
use crate::event::EventScope;
use crate::knowledge::Knowledge;
use crate::memory::{MemoryManager, SessionSummarizer};
use crate::message::{ContentBlock, Message, Role};
use crate::model::{Model, ToolChoice};
use crate::session::{SessionStore, SessionType};
use crate::tool::{Tool, ToolDef};

pub use builder::AgentBuilder;
pub use hooks::{HookAction, PostToolHook, PreToolHook};
pub use stream::RunStream;
pub(crate) use structured::parse_answer;

/// An agent: a model with instructions and tools, run by the tool-runner loop.
///
/// Built with [`Agent::builder`] (no dependencies) or [`Agent::with_deps`].
/// Cloning is cheap and clones share everything; one agent serves any number
/// of concurrent runs.
///
/// # Example
///
/// ```
/// use agent_core::{Agent, FnTool, ToolError};
/// use agent_core::testing::TestModel;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct City {
///     /// The city's name.
///     city: String,
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let agent = Agent::builder(TestModel::new())
///     .instructions("You report the weather.")
///     .tool(FnTool::new("get_weather", "Current weather in a city.", |_ctx, args: City| async move {
///         Ok::<_, ToolError>(format!("Sunny in {}", args.city))
///     }))
///     .build()?;
/// let output = agent.run("Weather in Paris?").await?;
/// assert!(output.content.contains("Sunny in"));
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
pub struct Agent<D = ()> {
    inner: Arc<AgentInner<D>>,
}

impl<D> Clone for Agent<D> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

impl<D> std::fmt::Debug for Agent<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("id", &self.inner.id)
            .field("model", &self.inner.model.id())
            .field("tools", &self.inner.tool_defs.iter().map(|def| def.name.as_str()).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

pub(crate) struct AgentInner<D> {
    pub(crate) id: Option<Arc<str>>,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) model: Arc<dyn Model>,
    pub(crate) instructions: Vec<Instructions<D>>,
    pub(crate) tools: Vec<Arc<dyn Tool<D>>>,
    pub(crate) tool_defs: Arc<[Arc<ToolDef>]>,
    pub(crate) deps: Option<Arc<D>>,
    pub(crate) settings: Settings,
    pub(crate) pre_hooks: Vec<PreToolHook<D>>,
    pub(crate) post_hooks: Vec<PostToolHook<D>>,
    pub(crate) store: Option<Arc<dyn SessionStore>>,
    /// Recalls and extracts user memories.
    pub(crate) memory: Option<MemoryManager>,
    /// A knowledge base searched for every input, top results in the prompt.
    pub(crate) knowledge_context: Option<(Arc<dyn Knowledge>, usize)>,
    /// Writes session summaries after runs.
    pub(crate) summarizer: Option<SessionSummarizer>,
    /// Team leaders report their events as the team's.
    pub(crate) scope: EventScope,
    /// Team leaders keep team sessions.
    pub(crate) session_type: SessionType,
}

/// Computes instructions from the run context.
pub(crate) type DynamicInstructions<D> = dyn Fn(&RunContext<D>) -> String + Send + Sync;

/// Part of an agent's system prompt.
pub(crate) enum Instructions<D> {
    Static(String),
    Dynamic(Arc<DynamicInstructions<D>>),
}

/// The loop's limits and model settings.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) max_turns: u32,
    pub(crate) max_tool_calls: Option<u32>,
    pub(crate) tool_concurrency: usize,
    pub(crate) tool_timeout: Option<Duration>,
    pub(crate) max_tool_retries: u32,
    pub(crate) max_output_retries: u32,
    pub(crate) max_continuations: u32,
    pub(crate) max_tokens: Option<u32>,
    pub(crate) tool_choice: Option<ToolChoice>,
    pub(crate) disable_parallel_tool_use: bool,
    pub(crate) model_options: Map<String, Value>,
    pub(crate) history_runs: Option<usize>,
    pub(crate) history_token_budget: Option<usize>,
    pub(crate) memories_in_context: usize,
    pub(crate) summary_in_context: bool,
}

/// Default limit on model turns per run.
pub const DEFAULT_MAX_TURNS: u32 = 20;
/// Default retry budget per tool per run.
pub const DEFAULT_MAX_TOOL_RETRIES: u32 = 3;
/// Default number of `pause_turn` continuations in a row.
pub const DEFAULT_MAX_CONTINUATIONS: u32 = 5;
/// Default time limit of one tool call.
pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(120);

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_turns: DEFAULT_MAX_TURNS,
            max_tool_calls: None,
            tool_concurrency: 16,
            tool_timeout: Some(DEFAULT_TOOL_TIMEOUT),
            max_tool_retries: DEFAULT_MAX_TOOL_RETRIES,
            max_output_retries: 2,
            max_continuations: DEFAULT_MAX_CONTINUATIONS,
            max_tokens: None,
            tool_choice: None,
            disable_parallel_tool_use: false,
            model_options: Map::new(),
            history_runs: Some(10),
            history_token_budget: None,
            memories_in_context: 10,
            summary_in_context: false,
        }
    }
}

impl<D: Send + Sync + 'static> Agent<D> {
    /// The agent's id, if set.
    pub fn id(&self) -> Option<&str> {
        self.inner.id.as_deref()
    }

    /// The agent's display name, if set.
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// The agent's description, if set.
    pub fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }

    /// The model the agent runs on.
    pub fn model(&self) -> &dyn Model {
        &*self.inner.model
    }

    /// The definitions of the agent's tools, in order.
    pub fn tool_defs(&self) -> &[Arc<ToolDef>] {
        &self.inner.tool_defs
    }

    /// The store the agent keeps sessions in, if any.
    pub fn store(&self) -> Option<&Arc<dyn SessionStore>> {
        self.inner.store.as_ref()
    }
}

/// What a run starts from: text, or content blocks (images, documents).
#[derive(Clone, Debug, PartialEq)]
pub struct RunInput {
    pub(crate) content: Vec<ContentBlock>,
}

impl RunInput {
    /// The input as a user message.
    pub fn into_message(self) -> Message {
        Message::new(Role::User, self.content)
    }

    /// The input's text blocks, joined.
    pub fn text(&self) -> String {
        crate::message::blocks_text(&self.content)
    }
}

impl From<&str> for RunInput {
    fn from(text: &str) -> Self {
        Self { content: vec![ContentBlock::text(text)] }
    }
}

impl From<String> for RunInput {
    fn from(text: String) -> Self {
        Self { content: vec![ContentBlock::text(text)] }
    }
}

impl From<&String> for RunInput {
    fn from(text: &String) -> Self {
        Self::from(text.as_str())
    }
}

impl From<Vec<ContentBlock>> for RunInput {
    fn from(content: Vec<ContentBlock>) -> Self {
        Self { content }
    }
}

impl From<Message> for RunInput {
    fn from(message: Message) -> Self {
        Self { content: message.content }
    }
}

/// Per-run settings: session, user, dependencies, cancellation.
pub struct RunOptions<D = ()> {
    pub(crate) session_id: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) deps: Option<Arc<D>>,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) session_state: Option<Map<String, Value>>,
    pub(crate) history: Option<Vec<Message>>,
    pub(crate) parent_run_id: Option<String>,
    pub(crate) run_id: Option<Arc<str>>,
}

impl<D> Default for RunOptions<D> {
    fn default() -> Self {
        Self {
            session_id: None,
            user_id: None,
            deps: None,
            cancel: None,
            session_state: None,
            history: None,
            parent_run_id: None,
            run_id: None,
        }
    }
}

impl<D> RunOptions<D> {
    /// Default options: no session, the agent's dependencies.
    pub fn new() -> Self {
        Self::default()
    }

    /// Run within this session: history is loaded from and the run saved to
    /// the agent's store.
    #[must_use]
    pub fn session_id(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// The user the run is for.
    #[must_use]
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Dependencies for this run, instead of the agent's.
    #[must_use]
    pub fn deps(mut self, deps: D) -> Self {
        self.deps = Some(Arc::new(deps));
        self
    }

    /// A token that cancels the run when cancelled. The run then ends with
    /// [`Error::Cancelled`](crate::Error::Cancelled) and is saved as cancelled.
    #[must_use]
    pub fn cancel_token(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Session state to start from, instead of the stored one.
    #[must_use]
    pub fn session_state(mut self, state: Map<String, Value>) -> Self {
        self.session_state = Some(state);
        self
    }

    /// Earlier messages to send before the input, instead of the stored history.
    #[must_use]
    pub fn history(mut self, messages: Vec<Message>) -> Self {
        self.history = Some(messages);
        self
    }

    /// The run that started this one (a team leader's run, for a member).
    #[must_use]
    pub fn parent_run_id(mut self, run_id: impl Into<String>) -> Self {
        self.parent_run_id = Some(run_id.into());
        self
    }
}

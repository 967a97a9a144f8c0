//! `Agent`: a model, instructions and tools, run by the tool-runner loop.

mod builder;
mod call;
mod decide;
mod execute;
pub(crate) mod history;
mod hooks;
mod resume;
mod run;
mod state;
pub(crate) mod structured;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::event::EventScope;
use crate::hitl::{PausedRun, ToolDecision};
use crate::knowledge::Knowledge;
use crate::limits::UsageLimits;
use crate::memory::{MemoryManager, SessionSummarizer};
use crate::model::{Model, ToolChoice};
use crate::output::RunOutput;
use crate::request::{ContinueFrom, RunInput, RunJob, RunRequest};
use crate::runnable::Runnable;
use crate::session::{RunStatus, SessionStore, SessionType};
use crate::tool::{Tool, ToolDef};

pub use builder::AgentBuilder;
pub use hooks::{HookAction, PostToolHook, PreToolHook};

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
    pub(crate) inner: Arc<AgentInner<D>>,
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
    pub(crate) usage_limits: Option<UsageLimits>,
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
            usage_limits: None,
        }
    }
}

impl<D> AgentInner<D> {
    /// The position of the tool with this name.
    pub(crate) fn tool_index(&self, name: &str) -> Option<usize> {
        self.tool_defs.iter().position(|def| def.name == name)
    }
}

impl<D: Send + Sync + 'static> Agent<D> {
    /// Starts building a run on `input`; await it for the output.
    ///
    /// # Errors
    ///
    /// When awaited, see [`Error`]: the model failed, a limit was hit, a tool
    /// failed fatally, the model refused, the store failed; a session id
    /// without a store is [`Error::Config`].
    ///
    /// # Example
    ///
    /// ```
    /// use agent_core::testing::{ScriptedModel, Turn};
    /// use agent_core::{Agent, FnTool, ToolError};
    /// use serde_json::json;
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct City {
    ///     city: String,
    /// }
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let model = ScriptedModel::new([
    ///     Turn::tool_call("c1", "get_weather", json!({"city": "Paris"})),
    ///     Turn::text("It is sunny in Paris."),
    /// ]);
    /// let weather = FnTool::new("get_weather", "Weather in a city.", |_ctx, args: City| async move {
    ///     Ok::<_, ToolError>(format!("Sunny in {}", args.city))
    /// });
    /// let agent = Agent::builder(model.clone()).tool(weather).build()?;
    /// let output = agent.run("Weather in Paris?").await?;
    /// assert_eq!(output.content, "It is sunny in Paris.");
    /// assert_eq!(output.tools[0].result.as_deref(), Some("Sunny in Paris"));
    /// model.assert_complete();
    /// # Ok::<_, agent_core::Error>(()) }).unwrap();
    /// ```
    pub fn run(&self, input: impl Into<RunInput>) -> RunRequest<D> {
        Runnable::run(self, input)
    }

    /// Starts building the continuation of a paused run, with the user's
    /// decision on every pending call; await it to run to the end (or the
    /// next pause). `from` is the paused output, its [`PausedRun`], or a
    /// `(session_id, run_id)` pair kept in the agent's store (from this
    /// process or another).
    ///
    /// # Errors
    ///
    /// When awaited: [`Error::Continue`] when the run is not paused, is not in
    /// the store, or a pending call has no decision (or a decision names no
    /// pending call); otherwise as for [`Agent::run`].
    ///
    /// # Example
    ///
    /// ```
    /// use agent_core::testing::{ScriptedModel, Turn};
    /// use agent_core::{Agent, FnTool, ToolDecision, ToolError};
    /// use serde_json::json;
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Path {
    ///     path: String,
    /// }
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let model = ScriptedModel::new([
    ///     Turn::tool_call("c1", "delete", json!({"path": "/tmp/x"})),
    ///     Turn::text("Deleted."),
    /// ]);
    /// let delete = FnTool::new("delete", "Delete a file.", |_ctx, args: Path| async move {
    ///     Ok::<_, ToolError>(format!("deleted {}", args.path))
    /// })
    /// .with_def(|def| def.requires_confirmation(true));
    /// let agent = Agent::builder(model).tool(delete).build()?;
    ///
    /// let output = agent.run("Delete /tmp/x").await?;
    /// assert!(output.is_paused());
    /// let decisions = output.pending_tool_calls().iter().map(|call| ToolDecision::approve(&call.tool_call_id)).collect();
    /// let output = agent.continue_run(&output, decisions).await?;
    /// assert_eq!(output.content, "Deleted.");
    /// assert_eq!(output.tools[0].confirmed, Some(true));
    /// # Ok::<_, agent_core::Error>(()) }).unwrap();
    /// ```
    pub fn continue_run(&self, from: impl Into<ContinueFrom>, decisions: Vec<ToolDecision>) -> RunRequest<D> {
        Runnable::continue_run(self, from, decisions)
    }

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

    /// The static parts of the agent's instructions, in order (parts computed
    /// per run are left out).
    pub fn instructions(&self) -> Vec<&str> {
        self.inner
            .instructions
            .iter()
            .filter_map(|part| match part {
                Instructions::Static(text) => Some(text.as_str()),
                Instructions::Dynamic(_) => None,
            })
            .collect()
    }

    /// The store the agent keeps sessions in, if any.
    pub fn store(&self) -> Option<&Arc<dyn SessionStore>> {
        self.inner.store.as_ref()
    }

    /// Whether the agent remembers facts about users ([`AgentBuilder::memory`]).
    pub fn has_memory(&self) -> bool {
        self.inner.memory.is_some()
    }

    /// Whether the agent searches a knowledge base, as a tool or as context.
    pub fn has_knowledge(&self) -> bool {
        self.inner.knowledge_context.is_some() || self.inner.tool_defs.iter().any(|def| def.name == "search_knowledge")
    }

    /// The loop's limit on model turns per run.
    pub fn max_turns(&self) -> u32 {
        self.inner.settings.max_turns
    }
}

impl<D: Send + Sync + 'static> Runnable<D> for Agent<D> {
    type Content = String;

    fn kind(&self) -> SessionType {
        self.inner.session_type
    }

    fn id(&self) -> Option<&str> {
        self.inner.id.as_deref()
    }

    fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }

    fn execute(&self, mut job: RunJob<D>) -> BoxFuture<'static, Result<RunOutput<Value>>> {
        let agent = self.clone();
        Box::pin(async move {
            // A team's leader runs inside the team's span: it has none of its own.
            if agent.inner.scope == EventScope::Team {
                return agent.execute_job(job).await;
            }
            let inner = &agent.inner;
            let timed = crate::trace::spans::run(
                SessionType::Agent,
                inner.id.as_deref(),
                inner.name.as_deref(),
                &mut job.options,
                &job.start,
            );
            let result = agent.execute_job(job).instrument(timed.span()).await;
            crate::trace::spans::end_run(&timed, &result);
            result
        })
    }
}

/// The paused run a continuation starts from: the one given, or the one kept
/// in the store (in the request's session, when it names one).
pub(crate) async fn paused_run(
    from: crate::request::Origin,
    store: Option<&Arc<dyn SessionStore>>,
    session_id: Option<&str>,
) -> Result<PausedRun> {
    use crate::request::Origin;
    match from {
        Origin::Paused(paused) => Ok(*paused),
        Origin::NotPaused { run_id } => Err(Error::Continue(format!("run `{run_id}` is not paused"))),
        Origin::Stored { session_id: stored_in, run_id } => {
            let store = store.ok_or_else(|| Error::Continue("there is no store to load the paused run from".into()))?;
            load_paused(&**store, session_id.unwrap_or(&stored_in), &run_id).await
        }
    }
}

/// A paused run kept in a store.
pub(crate) async fn load_paused(store: &dyn SessionStore, session_id: &str, run_id: &str) -> Result<PausedRun> {
    let record = store
        .run(session_id, run_id)
        .await?
        .ok_or_else(|| Error::Continue(format!("run `{run_id}` not found in session `{session_id}`")))?;
    match (record.status, record.paused) {
        (RunStatus::Paused, Some(paused)) => Ok(paused),
        // Another caller claimed it and is continuing it now.
        (RunStatus::Running, _) => Err(Error::RunClaimed { run_id: run_id.to_owned() }),
        (status, _) => Err(Error::Continue(format!("run `{run_id}` is {}, not paused", status.as_str()))),
    }
}

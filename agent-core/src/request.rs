//! `RunRequest`: a run being configured — input, session, user, deps, limits
//! — then awaited, streamed or typed.

use std::future::IntoFuture;
use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::agent::structured::{Structured, parse_content};
use crate::error::{Error, Result};
use crate::event::EventSink;
use crate::hitl::{PausedRun, ToolDecision};
use crate::limits::{Budget, UsageLimits};
use crate::message::{ContentBlock, Message, Role};
use crate::output::RunOutput;
use crate::runnable::{RunContent, SharedEngine};
use crate::stream::RunStream;

/// What a run starts from: text, content blocks (images, documents), or a
/// JSON value (a workflow's input).
#[derive(Clone, Debug, PartialEq)]
pub struct RunInput {
    pub(crate) content: Vec<ContentBlock>,
    /// The input as JSON, when it was given as JSON.
    pub(crate) data: Option<Value>,
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

    /// Any serializable value as input: a workflow gets the JSON value; an
    /// agent gets its text (strings as they are, other values serialized).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the value cannot be serialized.
    pub fn json(value: impl serde::Serialize) -> Result<Self> {
        serde_json::to_value(value).map(Self::from).map_err(|err| Error::InvalidInput(err.to_string()))
    }

    /// The input as JSON: the value it was given as, or its text.
    pub fn to_value(&self) -> Value {
        self.data.clone().unwrap_or_else(|| Value::String(self.text()))
    }
}

impl From<&str> for RunInput {
    fn from(text: &str) -> Self {
        Self { content: vec![ContentBlock::text(text)], data: None }
    }
}

impl From<String> for RunInput {
    fn from(text: String) -> Self {
        Self { content: vec![ContentBlock::text(text)], data: None }
    }
}

impl From<&String> for RunInput {
    fn from(text: &String) -> Self {
        Self::from(text.as_str())
    }
}

impl From<Vec<ContentBlock>> for RunInput {
    fn from(content: Vec<ContentBlock>) -> Self {
        Self { content, data: None }
    }
}

impl From<Message> for RunInput {
    fn from(message: Message) -> Self {
        Self { content: message.content, data: None }
    }
}

/// JSON input: a workflow gets the value itself; an agent gets its text
/// (strings as they are, other values serialized).
impl From<Value> for RunInput {
    fn from(value: Value) -> Self {
        let text = RunContent::to_text(&value);
        Self { content: vec![ContentBlock::text(text)], data: Some(value) }
    }
}

/// Where a continued run comes from: a paused output, its [`PausedRun`], or
/// a `(session_id, run_id)` pair loaded from the store.
#[derive(Clone, Debug)]
pub struct ContinueFrom(pub(crate) Origin);

#[derive(Clone, Debug)]
pub(crate) enum Origin {
    Paused(Box<PausedRun>),
    Stored {
        session_id: String,
        run_id: String,
    },
    /// An output that is not paused: continuing it is an error.
    NotPaused {
        run_id: String,
    },
}

impl<T> From<&RunOutput<T>> for ContinueFrom {
    fn from(output: &RunOutput<T>) -> Self {
        match &output.paused {
            Some(paused) => Self(Origin::Paused(Box::new(paused.clone()))),
            None => Self(Origin::NotPaused { run_id: output.run_id.clone() }),
        }
    }
}

impl<T> From<RunOutput<T>> for ContinueFrom {
    fn from(output: RunOutput<T>) -> Self {
        match output.paused {
            Some(paused) => Self(Origin::Paused(Box::new(paused))),
            None => Self(Origin::NotPaused { run_id: output.run_id }),
        }
    }
}

impl From<PausedRun> for ContinueFrom {
    fn from(paused: PausedRun) -> Self {
        Self(Origin::Paused(Box::new(paused)))
    }
}

impl From<&PausedRun> for ContinueFrom {
    fn from(paused: &PausedRun) -> Self {
        Self(Origin::Paused(Box::new(paused.clone())))
    }
}

impl From<(&str, &str)> for ContinueFrom {
    fn from((session_id, run_id): (&str, &str)) -> Self {
        Self(Origin::Stored { session_id: session_id.to_owned(), run_id: run_id.to_owned() })
    }
}

impl From<(String, String)> for ContinueFrom {
    fn from((session_id, run_id): (String, String)) -> Self {
        Self(Origin::Stored { session_id, run_id })
    }
}

/// How a run starts: from input, or by continuing a paused run.
#[derive(Clone, Debug)]
pub(crate) enum Start {
    Input(RunInput),
    Continue { from: ContinueFrom, decisions: Vec<ToolDecision> },
}

/// Per-run settings, gathered by [`RunRequest`] and read by the engines.
pub(crate) struct RunOptions<D> {
    pub(crate) session_id: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) deps: Option<Arc<D>>,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) session_state: Option<Map<String, Value>>,
    pub(crate) metadata: Map<String, Value>,
    pub(crate) history: Option<Vec<Message>>,
    pub(crate) parent_run_id: Option<String>,
    pub(crate) run_id: Option<Arc<str>>,
    pub(crate) limits: Option<UsageLimits>,
    /// A budget shared with the team or workflow that started this run.
    pub(crate) budget: Option<Arc<Budget>>,
    pub(crate) structured: Option<Arc<Structured>>,
    /// How deep in teams within teams this run is.
    pub(crate) depth: u32,
    /// A caller up the chain (the team) already claimed the paused run.
    pub(crate) claimed: bool,
    /// How long to wait for another run on the session (default 30 s).
    pub(crate) session_wait: Option<std::time::Duration>,
    /// Run-wide state for the run's tools (a team run, for its leader).
    pub(crate) extension: Option<Arc<dyn std::any::Any + Send + Sync>>,
    /// A caller up the chain (the team) already reported `RunContinued`.
    pub(crate) announced: bool,
}

impl<D> Default for RunOptions<D> {
    fn default() -> Self {
        Self {
            session_id: None,
            user_id: None,
            deps: None,
            cancel: None,
            session_state: None,
            metadata: Map::new(),
            history: None,
            parent_run_id: None,
            run_id: None,
            limits: None,
            budget: None,
            structured: None,
            depth: 0,
            claimed: false,
            session_wait: None,
            extension: None,
            announced: false,
        }
    }
}

impl<D> RunOptions<D> {
    /// How long to wait for the session's lease.
    pub(crate) fn session_wait(&self) -> std::time::Duration {
        self.session_wait.unwrap_or(crate::persist::DEFAULT_SESSION_WAIT)
    }

    /// The id of this run: the one given, or a new one. Known before the run
    /// starts, so callers can refer to it (cancel it, look it up) at once.
    pub(crate) fn run_id_or_new(&mut self) -> Arc<str> {
        Arc::clone(self.run_id.get_or_insert_with(|| Arc::from(uuid::Uuid::now_v7().to_string())))
    }
}

/// What an engine ([`Runnable::execute`](crate::Runnable::execute)) runs.
/// Opaque: built by [`RunRequest`].
#[doc(hidden)]
pub struct RunJob<D> {
    pub(crate) start: Start,
    pub(crate) options: RunOptions<D>,
    pub(crate) events: Option<EventSink>,
}

/// A run being configured. Await it for the output, call
/// [`stream`](RunRequest::stream) for its events, or
/// [`typed`](RunRequest::typed) for a parsed answer.
///
/// Returned by `run` and `continue_run` on [`Agent`](crate::Agent),
/// [`Team`](crate::Team) and [`Workflow`](crate::Workflow). `O` is the
/// output's content: `String` for agents and teams, a JSON `Value` for
/// workflows, `T` after `typed::<T>()`.
///
/// # Example
///
/// ```
/// use agent_core::testing::TestModel;
/// use agent_core::{Agent, InMemoryStore};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let agent = Agent::builder(TestModel::new().answer("Hello, Ada.")).store(InMemoryStore::new()).build()?;
/// let output = agent.run("Hi, I am Ada.").session("s1").user("ada").run_id("r1").await?;
/// assert_eq!((output.run_id.as_str(), output.content.as_str()), ("r1", "Hello, Ada."));
/// assert_eq!(output.user_id.as_deref(), Some("ada"));
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
#[must_use = "a run request does nothing until it is awaited or streamed"]
pub struct RunRequest<D = (), O = String> {
    target: SharedEngine<D>,
    start: Start,
    options: RunOptions<D>,
    convert: fn(RunOutput<Value>) -> Result<RunOutput<O>>,
}

impl<D: Send + Sync + 'static, O: RunContent> RunRequest<D, O> {
    pub(crate) fn new(target: SharedEngine<D>, start: Start) -> Self {
        Self { target, start, options: RunOptions::default(), convert: |output| Ok(output.map(O::from_value)) }
    }
}

impl<D: Send + Sync + 'static, O: Send + 'static> RunRequest<D, O> {
    /// Run within this session: history is loaded from and the run saved to
    /// the store. Without a store this is an error when the run starts.
    pub fn session(mut self, session_id: impl Into<String>) -> Self {
        self.options.session_id = Some(session_id.into());
        self
    }

    /// The user the run is for (memories, session ownership).
    pub fn user(mut self, user_id: impl Into<String>) -> Self {
        self.options.user_id = Some(user_id.into());
        self
    }

    /// Dependencies for this run, instead of the builder's.
    pub fn deps(mut self, deps: D) -> Self {
        self.options.deps = Some(Arc::new(deps));
        self
    }

    /// Shared dependencies for this run, instead of the builder's.
    pub fn deps_arc(mut self, deps: Arc<D>) -> Self {
        self.options.deps = Some(deps);
        self
    }

    /// Session state to start from, instead of the stored one.
    pub fn state(mut self, state: Map<String, Value>) -> Self {
        self.options.session_state = Some(state);
        self
    }

    /// Metadata of the run: reachable by tools ([`RunContext::metadata`](crate::RunContext::metadata))
    /// and returned with the output.
    pub fn metadata(mut self, metadata: Map<String, Value>) -> Self {
        self.options.metadata = metadata;
        self
    }

    /// The run's id, instead of a new one (for a continued run, the paused run's).
    pub fn run_id(mut self, run_id: impl Into<String>) -> Self {
        self.options.run_id = Some(Arc::from(run_id.into()));
        self
    }

    /// A token that cancels the run when cancelled: it then ends with
    /// [`Error::Cancelled`] and is saved as cancelled, its open tool calls
    /// answered.
    pub fn cancel(mut self, token: CancellationToken) -> Self {
        self.options.cancel = Some(token);
        self
    }

    /// Earlier messages to send before the input, instead of the stored history.
    pub fn history(mut self, messages: Vec<Message>) -> Self {
        self.options.history = Some(messages);
        self
    }

    /// How long to wait when another run holds the session (runs on one
    /// session take turns, across processes too); `Duration::ZERO` fails at
    /// once with [`Error::SessionBusy`]. Default: 30 seconds.
    pub fn wait_for_session(mut self, wait: std::time::Duration) -> Self {
        self.options.session_wait = Some(wait);
        self
    }

    /// Usage limits for this run, instead of the builder's.
    pub fn limits(mut self, limits: UsageLimits) -> Self {
        self.options.limits = Some(limits);
        self
    }

    pub(crate) fn parent_run_id(mut self, run_id: impl Into<String>) -> Self {
        self.options.parent_run_id = Some(run_id.into());
        self
    }

    pub(crate) fn budget(mut self, budget: Option<Arc<Budget>>) -> Self {
        self.options.budget = budget;
        self
    }

    pub(crate) fn depth(mut self, depth: u32) -> Self {
        self.options.depth = depth;
        self
    }

    pub(crate) fn user_opt(mut self, user_id: Option<String>) -> Self {
        self.options.user_id = user_id;
        self
    }

    /// Asks for the answer as `T`: the model is given `T`'s JSON schema as the
    /// output format, an answer that does not parse or breaks a constraint of
    /// the schema is sent back with the reason (up to `max_output_retries`
    /// times), and the output's content is the parsed value. For a workflow,
    /// the last step's output is parsed.
    ///
    /// # Errors
    ///
    /// When awaited: [`Error::OutputValidation`] when no answer matched;
    /// [`Error::TypedRunPaused`] (holding the paused output) when the run
    /// paused for tool decisions.
    pub fn typed<T: DeserializeOwned + JsonSchema + Send + 'static>(self) -> RunRequest<D, T> {
        let mut options = self.options;
        options.structured = Some(Arc::new(Structured::of::<T>()));
        RunRequest { target: self.target, start: self.start, options, convert: typed_output::<T> }
    }

    /// Runs while yielding its events (`RunStarted`, `RunContent` deltas,
    /// `ToolCallStarted`, ..., then `RunCompleted`, `RunPaused`, `RunError`
    /// or `RunCancelled`); [`RunStream::finish`] gives the output.
    pub fn stream(self) -> RunStream<RunOutput<O>> {
        let Self { target, start, options, convert } = self;
        RunStream::new(move |sink| {
            Box::pin(async move {
                let output = target.execute(RunJob { start, options, events: Some(sink) }).await?;
                convert(output)
            })
        })
    }

    /// The run with its events sent to `events` unchanged.
    pub(crate) async fn run_into(self, events: Option<EventSink>) -> Result<RunOutput<O>> {
        let Self { target, start, options, convert } = self;
        convert(target.execute(RunJob { start, options, events }).await?)
    }

    /// The run of a team member or workflow step: its events, when the parent
    /// streams, go to the parent's stream after `mark` says where they come
    /// from.
    pub(crate) async fn run_nested(
        self,
        parent: Option<&EventSink>,
        mark: impl FnMut(&mut crate::event::RunEvent),
    ) -> Result<RunOutput<O>> {
        match parent {
            Some(sink) => self.stream().forward_into(sink, mark).await,
            None => self.await,
        }
    }
}

impl<D: Send + Sync + 'static, O: Send + 'static> IntoFuture for RunRequest<D, O> {
    type Output = Result<RunOutput<O>>;
    type IntoFuture = BoxFuture<'static, Result<RunOutput<O>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run_into(None))
    }
}

/// Parses a run's content into `T`.
fn typed_output<T: DeserializeOwned>(output: RunOutput<Value>) -> Result<RunOutput<T>> {
    if output.paused.is_some() {
        return Err(Error::TypedRunPaused { paused: Box::new(output.map(String::from_value)) });
    }
    match parse_content::<T>(&output.content) {
        Ok(parsed) => Ok(output.map(|_| parsed)),
        Err(message) => {
            Err(Error::OutputValidation { attempts: 1, message, partial: Box::new(output.map(String::from_value)) })
        }
    }
}

//! `RunContext<D>`: what a tool or dynamic instruction can see of the run.

use std::any::Any;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

/// The context of one run, handed to tools, hooks and dynamic instructions.
///
/// Cloning is cheap: the run-wide part is shared.
pub struct RunContext<D = ()> {
    scope: Arc<RunScope<D>>,
    tool_call_id: Option<Arc<str>>,
    retry: u32,
}

struct RunScope<D> {
    deps: Arc<D>,
    run_id: Arc<str>,
    session_id: Option<Arc<str>>,
    user_id: Option<Arc<str>>,
    agent_id: Option<Arc<str>>,
    session_state: Mutex<Map<String, Value>>,
    metadata: Map<String, Value>,
    cancel: CancellationToken,
    /// Run-wide state of the component running the agent (a team run, for
    /// its leader's tools).
    extension: Option<Arc<dyn Any + Send + Sync>>,
}

impl<D> Clone for RunContext<D> {
    fn clone(&self) -> Self {
        Self { scope: Arc::clone(&self.scope), tool_call_id: self.tool_call_id.clone(), retry: self.retry }
    }
}

impl<D> RunContext<D> {
    /// A context with the given dependencies and a fresh run id, for calling
    /// tools directly (in tests, for example).
    pub fn new(deps: D) -> Self {
        Self::builder(Arc::new(deps), Arc::from(uuid::Uuid::now_v7().to_string())).build()
    }

    pub(crate) fn builder(deps: Arc<D>, run_id: Arc<str>) -> RunContextBuilder<D> {
        RunContextBuilder {
            deps,
            run_id,
            session_id: None,
            user_id: None,
            agent_id: None,
            session_state: Map::new(),
            metadata: Map::new(),
            cancel: CancellationToken::new(),
            extension: None,
        }
    }

    /// The user's dependencies.
    pub fn deps(&self) -> &D {
        &self.scope.deps
    }

    /// The dependencies as a shared handle.
    pub fn deps_arc(&self) -> Arc<D> {
        Arc::clone(&self.scope.deps)
    }

    /// The id of this run.
    pub fn run_id(&self) -> &str {
        &self.scope.run_id
    }

    /// The session this run belongs to, if any.
    pub fn session_id(&self) -> Option<&str> {
        self.scope.session_id.as_deref()
    }

    /// The user this run is for, if known.
    pub fn user_id(&self) -> Option<&str> {
        self.scope.user_id.as_deref()
    }

    /// The id of the agent running.
    pub fn agent_id(&self) -> Option<&str> {
        self.scope.agent_id.as_deref()
    }

    /// The id of the tool call being answered (inside a tool only).
    pub fn tool_call_id(&self) -> Option<&str> {
        self.tool_call_id.as_deref()
    }

    /// How many times this tool already failed with a retryable error in this run.
    pub fn retry(&self) -> u32 {
        self.retry
    }

    /// The session state, shared by every tool of the run and persisted with
    /// the session when the agent has a store.
    pub fn session_state(&self) -> MutexGuard<'_, Map<String, Value>> {
        self.scope.session_state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The metadata the run was given ([`RunRequest::metadata`](crate::RunRequest::metadata)).
    pub fn metadata(&self) -> &Map<String, Value> {
        &self.scope.metadata
    }

    /// Whether the run was cancelled; long tools should check it and stop.
    pub fn is_cancelled(&self) -> bool {
        self.scope.cancel.is_cancelled()
    }

    /// A token that is cancelled when the run is.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.scope.cancel
    }

    pub(crate) fn for_tool_call(&self, tool_call_id: &str, retry: u32) -> Self {
        Self { scope: Arc::clone(&self.scope), tool_call_id: Some(Arc::from(tool_call_id)), retry }
    }

    pub(crate) fn run_id_arc(&self) -> Arc<str> {
        Arc::clone(&self.scope.run_id)
    }

    pub(crate) fn session_id_arc(&self) -> Option<Arc<str>> {
        self.scope.session_id.clone()
    }

    pub(crate) fn agent_id_arc(&self) -> Option<Arc<str>> {
        self.scope.agent_id.clone()
    }

    /// The run-wide state of type `T` the run was started with, if any.
    pub(crate) fn extension<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        Arc::clone(self.scope.extension.as_ref()?).downcast::<T>().ok()
    }
}

pub(crate) struct RunContextBuilder<D> {
    deps: Arc<D>,
    run_id: Arc<str>,
    session_id: Option<Arc<str>>,
    user_id: Option<Arc<str>>,
    agent_id: Option<Arc<str>>,
    session_state: Map<String, Value>,
    metadata: Map<String, Value>,
    cancel: CancellationToken,
    extension: Option<Arc<dyn Any + Send + Sync>>,
}

impl<D> RunContextBuilder<D> {
    pub(crate) fn session_id(mut self, id: Option<Arc<str>>) -> Self {
        self.session_id = id;
        self
    }
    pub(crate) fn user_id(mut self, id: Option<Arc<str>>) -> Self {
        self.user_id = id;
        self
    }
    pub(crate) fn agent_id(mut self, id: Option<Arc<str>>) -> Self {
        self.agent_id = id;
        self
    }
    pub(crate) fn session_state(mut self, state: Map<String, Value>) -> Self {
        self.session_state = state;
        self
    }
    pub(crate) fn cancel(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }
    pub(crate) fn metadata(mut self, metadata: Map<String, Value>) -> Self {
        self.metadata = metadata;
        self
    }
    pub(crate) fn extension(mut self, extension: Option<Arc<dyn Any + Send + Sync>>) -> Self {
        self.extension = extension;
        self
    }
    pub(crate) fn build(self) -> RunContext<D> {
        RunContext {
            scope: Arc::new(RunScope {
                deps: self.deps,
                run_id: self.run_id,
                session_id: self.session_id,
                user_id: self.user_id,
                agent_id: self.agent_id,
                session_state: Mutex::new(self.session_state),
                metadata: self.metadata,
                cancel: self.cancel,
                extension: self.extension,
            }),
            tool_call_id: None,
            retry: 0,
        }
    }
}

//! `AgentOs` and its builder: the served components, the store, security and limits; the router and the server with graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use agent_core::eval::EvalStore;
use agent_core::memory::MemoryStore;
use agent_core::trace::TraceStore;
use agent_core::{Agent, IntoStore, Model, Runnable, SessionStore, SessionType, Team, Workflow};
use agent_memory::KnowledgeBase;
use axum::Router;
use serde::Serialize;
use serde_json::Value;

use crate::component::{Component, Describe, Served};
use crate::deps::Deps;
use crate::error::{ApiError, Error, Result};
use crate::runs::Runs;

/// The default largest request body: 32 MiB (uploads included).
pub const DEFAULT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The default time runs in flight get to finish at shutdown before they are cancelled.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// An AgentOS: agents, teams and workflows served over the AgentOS HTTP API,
/// so AgentOS clients (the Python `AgentOSClient`, UIs written for Agno's
/// AgentOS) work against them unmodified.
///
/// Build it with [`AgentOs::builder`], then mount [`AgentOs::router`] in
/// your own axum service or run [`AgentOs::serve`].
///
/// # Example
///
/// ```
/// use agent_core::Agent;
/// use agent_core::testing::TestModel;
/// use agent_os::AgentOs;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let agent = Agent::builder(TestModel::new().answer("Hello!")).id("greeter").name("Greeter").build()?;
/// let os = AgentOs::builder().id("my-os").agent(agent).build()?;
/// let router: axum::Router = os.router();
/// # let _ = router;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AgentOs {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for AgentOs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentOs").field("id", &self.shared.id).finish_non_exhaustive()
    }
}

/// What every handler reads.
pub(crate) struct Shared {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) components: Vec<Arc<dyn Component>>,
    pub(crate) store: Option<Arc<dyn SessionStore>>,
    pub(crate) memory_store: Option<Arc<dyn MemoryStore>>,
    pub(crate) memory_model: Option<Arc<dyn Model>>,
    pub(crate) eval_store: Option<Arc<dyn EvalStore>>,
    pub(crate) models: Option<ModelResolver>,
    pub(crate) db_id: String,
    pub(crate) security_key: Option<String>,
    pub(crate) cors_origins: Option<Vec<String>>,
    pub(crate) body_limit: usize,
    pub(crate) shutdown_grace: Duration,
    pub(crate) runs: Arc<Runs>,
    /// The knowledge bases the `/knowledge` routes serve, by name; the first is the default.
    pub(crate) knowledge: Vec<KnowledgeBase>,
    /// When the server was built, unix microseconds.
    pub(crate) instantiated_at: i64,
    /// The last metrics refresh.
    pub(crate) metrics_refresh: crate::routes::RefreshState,
    /// Where the trace routes read traces.
    pub(crate) trace_store: Option<Arc<dyn TraceStore>>,
}

impl Shared {
    /// The served component of `kind` with `id`: 404 `Agent not found` (team, workflow) otherwise.
    pub(crate) fn component(&self, kind: SessionType, id: &str) -> Result<Arc<dyn Component>, ApiError> {
        self.components
            .iter()
            .find(|component| component.kind() == kind && component.id() == id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("{} not found", kind_title(kind))))
    }

    /// The components of `kind`, in the order they were added.
    pub(crate) fn of_kind(&self, kind: SessionType) -> impl Iterator<Item = &Arc<dyn Component>> {
        self.components.iter().filter(move |component| component.kind() == kind)
    }

    /// The display name of the component with `id`, of any kind.
    pub(crate) fn name_of(&self, id: &str) -> Option<String> {
        self.components.iter().find(|component| component.id() == id).map(|c| c.name().unwrap_or(id).to_owned())
    }

    /// Every distinct store: the server's and the components' own.
    pub(crate) fn stores(&self) -> Vec<Arc<dyn SessionStore>> {
        let mut stores: Vec<Arc<dyn SessionStore>> = self.store.iter().cloned().collect();
        for store in self.components.iter().filter_map(|component| component.store()) {
            if !stores.iter().any(|known| Arc::ptr_eq(known, store)) {
                stores.push(store.clone());
            }
        }
        stores
    }

    /// The store shown with database id `db_id`.
    pub(crate) fn store_by_db_id(&self, db_id: &str) -> Option<Arc<dyn SessionStore>> {
        self.stores().into_iter().find(|store| self.db_id_of(Some(store)).as_deref() == Some(db_id))
    }

    /// The database id shown for a store.
    pub(crate) fn db_id_of(&self, store: Option<&Arc<dyn SessionStore>>) -> Option<String> {
        let store = store?;
        let index = self.stores().iter().position(|known| Arc::ptr_eq(known, store))?;
        Some(if index == 0 { self.db_id.clone() } else { format!("{}-{index}", self.db_id) })
    }
}

/// `Agent`, `Team`, `Workflow`.
pub(crate) fn kind_title(kind: SessionType) -> &'static str {
    match kind {
        SessionType::Agent => "Agent",
        SessionType::Team => "Team",
        SessionType::Workflow => "Workflow",
    }
}

impl AgentOs {
    /// A builder for an AgentOS whose runs take no deps.
    pub fn builder() -> AgentOsBuilder<()> {
        AgentOsBuilder::with_deps(Deps::none())
    }

    /// The router serving the whole API, to mount in your own service or serve.
    pub fn router(&self) -> Router {
        crate::routes::router(self.shared.clone())
    }

    /// The OpenAPI document of every route.
    pub fn openapi(&self) -> Value {
        crate::openapi::document(&self.shared)
    }

    /// Serves on `listener` until `shutdown` resolves, then stops taking
    /// runs, gives those in flight the shutdown grace to finish, cancels the
    /// rest (saved as cancelled) and returns. At start, runs a dead process
    /// left `running` in the stores are failed.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when serving fails; [`Error::Store`] when the stores
    /// cannot be checked at start.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        for store in self.shared.stores() {
            let failed = store.fail_abandoned_runs().await?;
            if failed > 0 {
                tracing::info!(runs = failed, "failed runs that a stopped process left running");
            }
        }
        let router = self.router();
        let runs = self.shared.runs.clone();
        let grace = self.shared.shutdown_grace;
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: finishing the runs in flight");
            runs.close(grace).await;
        };
        axum::serve(listener, router).with_graceful_shutdown(signal).await?;
        Ok(())
    }

    /// Binds `address` and serves until Ctrl-C or SIGTERM, shutting down
    /// gracefully.
    ///
    /// # Errors
    ///
    /// As [`AgentOs::serve`], and [`Error::Io`] when `address` cannot be bound.
    pub async fn run(self, address: impl tokio::net::ToSocketAddrs) -> Result<()> {
        let listener = tokio::net::TcpListener::bind(address).await?;
        self.serve(listener, shutdown_signal()).await
    }

    /// Stops taking runs and waits, up to the shutdown grace, for those in
    /// flight; then cancels the rest and waits (bounded) until they are
    /// saved. [`AgentOs::serve`] calls it when its shutdown signal fires;
    /// call it yourself when you mount [`AgentOs::router`] in your own server.
    pub async fn close(&self) {
        self.shared.runs.close(self.shared.shutdown_grace).await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// Builds an [`AgentOs`]; `D` is the deps type of the runs.
#[must_use]
pub struct AgentOsBuilder<D> {
    id: String,
    name: Option<String>,
    description: Option<String>,
    deps: Deps<D>,
    components: Vec<Pending<D>>,
    store: Option<Arc<dyn SessionStore>>,
    memory_store: Option<Arc<dyn MemoryStore>>,
    memory_model: Option<Arc<dyn Model>>,
    eval_store: Option<Arc<dyn EvalStore>>,
    models: Option<ModelResolver>,
    db_id: String,
    security_key: Option<String>,
    cors_origins: Option<Vec<String>>,
    body_limit: usize,
    shutdown_grace: Duration,
    knowledge: Vec<KnowledgeBase>,
    trace_store: Option<Arc<dyn TraceStore>>,
}

type Pending<D> = Box<dyn FnOnce(&Deps<D>) -> Result<Arc<dyn Component>> + Send>;

/// Makes a model from a provider and a model id (`anthropic`, `claude-sonnet-4-5`).
pub(crate) type ModelResolver = Arc<dyn Fn(&str, &str) -> Result<Arc<dyn Model>, String> + Send + Sync>;

impl<D> std::fmt::Debug for AgentOsBuilder<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentOsBuilder")
            .field("id", &self.id)
            .field("components", &self.components.len())
            .finish_non_exhaustive()
    }
}

impl<D: Send + Sync + 'static> AgentOsBuilder<D> {
    /// A builder whose runs get their deps from `deps`.
    pub fn with_deps(deps: Deps<D>) -> Self {
        Self {
            id: "agent-os".into(),
            name: None,
            description: None,
            deps,
            components: Vec::new(),
            store: None,
            memory_store: None,
            memory_model: None,
            eval_store: None,
            models: None,
            db_id: "agent-os-db".into(),
            security_key: None,
            cors_origins: None,
            body_limit: DEFAULT_BODY_LIMIT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            knowledge: Vec::new(),
            trace_store: None,
        }
    }

    /// The OS id (`os_id` in `/config`; default `agent-os`).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// The display name (default: the id).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// What the OS is for.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Serves an agent; it needs an id, unique among the agents.
    pub fn agent(self, agent: Agent<D>) -> Self {
        self.component(agent)
    }

    /// Serves a team.
    pub fn team(self, team: Team<D>) -> Self {
        self.component(team)
    }

    /// Serves a workflow.
    pub fn workflow(self, workflow: Workflow<D>) -> Self {
        self.component(workflow)
    }

    fn component<R>(mut self, runnable: R) -> Self
    where
        R: Runnable<D> + Describe + Clone,
        R::Content: Serialize,
    {
        self.components.push(Box::new(move |deps: &Deps<D>| {
            let kind = runnable.kind();
            if runnable.id().is_none_or(str::is_empty) {
                return Err(Error::Config(format!(
                    "every served {} needs an id; set one with `.id(..)`",
                    kind.as_str()
                )));
            }
            let steps = runnable.step_executors();
            let served: Arc<dyn Component> = Arc::new(Served { runnable, deps: deps.clone(), steps });
            Ok(served)
        }));
        self
    }

    /// The store the server uses for cancels across processes and for the
    /// session routes. Components keep their runs in their own stores; give
    /// them this one so that several server processes share one database.
    pub fn store(mut self, store: impl IntoStore) -> Self {
        self.store = Some(store.into_store());
        self
    }

    /// The store the memory routes read and write (`/memories`, ...).
    pub fn memory_store(mut self, store: Arc<dyn MemoryStore>) -> Self {
        self.memory_store = Some(store);
        self
    }

    /// The store the trace routes read (`/traces`, ...): the one
    /// `agent_memory::TraceLayer` writes to. Without one, the trace lists
    /// are empty, as AgentOS answers without tracing.
    pub fn trace_store(mut self, store: Arc<dyn TraceStore>) -> Self {
        self.trace_store = Some(store);
        self
    }

    /// The model `POST /optimize-memories` uses when the request names none.
    pub fn memory_model(mut self, model: Arc<dyn Model>) -> Self {
        self.memory_model = Some(model);
        self
    }

    /// The store the eval routes keep eval runs in (`/eval-runs`); evals run
    /// by `POST /eval-runs` are stored there.
    pub fn eval_store(mut self, store: Arc<dyn EvalStore>) -> Self {
        self.eval_store = Some(store);
        self
    }

    /// How a request's `provider:model-id` (such as
    /// `anthropic:claude-sonnet-4-5`) becomes a model; without it, requests
    /// naming a model are refused with a 400.
    pub fn models(
        mut self,
        resolve: impl Fn(&str, &str) -> Result<Arc<dyn Model>, String> + Send + Sync + 'static,
    ) -> Self {
        self.models = Some(Arc::new(resolve));
        self
    }

    /// The id the store is shown with (default `agent-os-db`).
    pub fn db_id(mut self, db_id: impl Into<String>) -> Self {
        self.db_id = db_id.into();
        self
    }

    /// Requires `Authorization: Bearer <key>` on every route but `/health`
    /// when `Some` (the AgentOS `OS_SECURITY_KEY` convention).
    pub fn security_key(mut self, key: Option<String>) -> Self {
        self.security_key = key.filter(|key| !key.is_empty());
        self
    }

    /// Reads the security key from `OS_SECURITY_KEY`, when set.
    pub fn security_key_from_env(self) -> Self {
        let key = std::env::var("OS_SECURITY_KEY").ok();
        self.security_key(key)
    }

    /// Allows cross-origin requests from these origins (`*` for any).
    pub fn cors_origins(mut self, origins: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.cors_origins = Some(origins.into_iter().map(Into::into).collect());
        self
    }

    /// The largest request body, in bytes (default [`DEFAULT_BODY_LIMIT`]); larger ones get a 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Serves a knowledge base on the `/knowledge` routes, addressed by its
    /// name (`knowledge_id`, and `db_id` too); several may be added, the
    /// first is the one requests that name none use. Uploads larger than
    /// the knowledge base's `max_bytes` (or the body limit) get a 413.
    pub fn knowledge(mut self, knowledge: KnowledgeBase) -> Self {
        self.knowledge.push(knowledge);
        self
    }

    /// How long runs in flight get to finish at shutdown (default [`DEFAULT_SHUTDOWN_GRACE`]).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Builds the AgentOS.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when a component has no id, two of one kind share
    /// one, or two knowledge bases share a name.
    pub fn build(self) -> Result<AgentOs> {
        for (index, knowledge) in self.knowledge.iter().enumerate() {
            if self.knowledge[..index].iter().any(|known| known.name() == knowledge.name()) {
                return Err(Error::Config(format!(
                    "two knowledge bases are named `{}`; names must be unique",
                    knowledge.name()
                )));
            }
        }
        let mut components: Vec<Arc<dyn Component>> = Vec::new();
        for pending in self.components {
            let component = pending(&self.deps)?;
            if components.iter().any(|known| known.kind() == component.kind() && known.id() == component.id()) {
                return Err(Error::Config(format!(
                    "two {}s have the id `{}`; ids must be unique",
                    component.kind().as_str(),
                    component.id()
                )));
            }
            components.push(component);
        }
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX))
            .unwrap_or_default();
        let shared = Shared {
            name: self.name.unwrap_or_else(|| self.id.clone()),
            id: self.id,
            description: self.description,
            components,
            store: self.store,
            memory_store: self.memory_store,
            memory_model: self.memory_model,
            eval_store: self.eval_store,
            models: self.models,
            db_id: self.db_id,
            security_key: self.security_key,
            cors_origins: self.cors_origins,
            body_limit: self.body_limit,
            shutdown_grace: self.shutdown_grace,
            runs: Arc::default(),
            knowledge: self.knowledge,
            instantiated_at: micros,
            metrics_refresh: crate::routes::RefreshState::default(),
            trace_store: self.trace_store,
        };
        Ok(AgentOs { shared: Arc::new(shared) })
    }
}

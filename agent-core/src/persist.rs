//! A run's session in its store — leased, loaded, started, saved, released —
//! the one place agents, teams and workflows write runs to a store.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::output::RunOutput;
use crate::session::{RunRecord, RunStatus, Session, SessionStore, SessionSummary, SessionType, StoreError, unix_now};

/// How long a session's lease lasts without renewal. A run renews it while it
/// waits on the model or its tools, so only a process that died leaves a
/// session locked, for at most this long.
pub(crate) const LEASE_TTL: Duration = Duration::from_secs(60);

/// How long a run waits, by default, for another run on its session to end.
pub const DEFAULT_SESSION_WAIT: Duration = Duration::from_secs(30);

/// A run's session in a store: its lease taken, loaded when the run starts,
/// written when it pauses or ends, the lease given back after.
pub(crate) struct SessionSlot {
    store: Arc<dyn SessionStore>,
    /// The session as loaded, or a new one not yet stored.
    pub(crate) session: Session,
    /// Who holds the lease: the run's id.
    holder: String,
}

impl SessionSlot {
    /// Takes the session's lease for run `holder` — waiting up to `wait` for
    /// another run on the session to end — then loads the session, or starts
    /// a new one of this type for this component.
    pub(crate) async fn open(
        store: Arc<dyn SessionStore>,
        session_id: &str,
        session_type: SessionType,
        component_id: Option<&str>,
        holder: &str,
        wait: Duration,
    ) -> Result<Self> {
        take_lease(&*store, session_id, holder, wait).await?;
        let loaded = match store.session(session_id).await {
            Ok(loaded) => loaded,
            Err(error) => {
                release(&*store, session_id, holder).await;
                return Err(error.into());
            }
        };
        let session = loaded.unwrap_or_else(|| {
            let mut session = Session::new(session_id, session_type);
            session.component_id = component_id.map(str::to_owned);
            session
        });
        Ok(Self { store, session, holder: holder.to_owned() })
    }

    /// The store the session is in.
    pub(crate) fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    /// Refuses text and state the store cannot hold, before any work.
    pub(crate) fn check_storable(&self, input: &str, state: &Map<String, Value>) -> Result<(), StoreError> {
        self.store.check_storable("the run's input", input)?;
        self.store.check_storable_json("the session state", &Value::Object(state.clone()))
    }

    /// Records the run as `running` (creating the session when it is new), so
    /// other processes see it and can cancel it.
    pub(crate) async fn start(&self, record: &RunRecord) -> Result<(), StoreError> {
        self.store.start_run(&self.session, record).await
    }

    /// Saves the run and the session fields a run owns (state, summary, the
    /// user when the session has none), in one store transaction.
    pub(crate) async fn save(
        &mut self,
        record: &RunRecord,
        state: Map<String, Value>,
        summary: Option<SessionSummary>,
    ) -> Result<(), StoreError> {
        let session = &mut self.session;
        if session.user_id.is_none() {
            session.user_id.clone_from(&record.user_id);
        }
        if session.component_id.is_none() {
            session.component_id.clone_from(&record.component_id);
        }
        session.state = state;
        if let Some(summary) = summary {
            session.summary = Some(summary);
        }
        if session.session_name.is_none() {
            session.session_name = session_name_of(&record.input);
        }
        if record.status != RunStatus::Paused && record.status != RunStatus::Running {
            add_run_metrics(&mut session.metrics, &record.metrics);
        }
        session.updated_at = unix_now();
        self.store.save_run(session, record).await
    }

    /// Renews the lease while the run goes on.
    pub(crate) async fn renew(&self) {
        match self.store.acquire_lease(&self.session.session_id, &self.holder, LEASE_TTL).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(session_id = %self.session.session_id, "another run took this session's lease"),
            Err(error) => tracing::warn!(%error, "could not renew the session lease"),
        }
    }

    /// Gives the lease back.
    pub(crate) async fn release(&self) {
        release(&*self.store, &self.session.session_id, &self.holder).await;
    }
}

/// Takes a session's lease, waiting with a bounded backoff up to `wait`.
async fn take_lease(store: &dyn SessionStore, session_id: &str, holder: &str, wait: Duration) -> Result<()> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut backoff = Duration::from_millis(5);
    loop {
        if store.acquire_lease(session_id, holder, LEASE_TTL).await? {
            return Ok(());
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(Error::SessionBusy { session_id: session_id.to_owned() });
        }
        tokio::time::sleep(backoff.min(deadline - now)).await;
        backoff = (backoff * 2).min(Duration::from_millis(200));
    }
}

async fn release(store: &dyn SessionStore, session_id: &str, holder: &str) {
    if let Err(error) = store.release_lease(session_id, holder).await {
        tracing::warn!(%error, "could not release the session lease; it expires by itself");
    }
}

/// The longest session name taken from a first message, in characters.
const SESSION_NAME_CHARS: usize = 100;

/// A session's name from its first input, as AgentOS names unnamed
/// sessions: the first non-empty line, cut at 100 characters.
pub(crate) fn session_name_of(input: &str) -> Option<String> {
    let line = input.lines().map(str::trim).find(|line| !line.is_empty())?;
    let mut name: String = line.chars().take(SESSION_NAME_CHARS).collect();
    if line.chars().count() > SESSION_NAME_CHARS {
        name.push('…');
    }
    Some(name)
}

/// The token counts session metrics sum.
const SUMMED_METRICS: [&str; 5] =
    ["input_tokens", "output_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens"];

/// Adds a finished run's token counts (and one run) to its session's metrics.
pub(crate) fn add_run_metrics(session: &mut Value, run: &Value) {
    if !session.is_object() {
        *session = Value::Object(Map::new());
    }
    let Value::Object(totals) = session else { return };
    for key in SUMMED_METRICS {
        let add = run.get(key).and_then(Value::as_u64).unwrap_or(0);
        let sum = totals.get(key).and_then(Value::as_u64).unwrap_or(0).saturating_add(add);
        totals.insert(key.to_owned(), Value::from(sum));
    }
    let runs = totals.get("runs").and_then(Value::as_u64).unwrap_or(0) + 1;
    totals.insert("runs".to_owned(), Value::from(runs));
}

/// The stored record of a run, from its output. `input` is the run's input as
/// text; `error` the report of the error that ended it.
pub(crate) fn run_record(output: &RunOutput<Value>, input: String, error: Option<String>) -> RunRecord {
    let mut metrics = serde_json::to_value(&output.metrics).unwrap_or(Value::Null);
    if !output.step_outputs.is_empty()
        && let Value::Object(map) = &mut metrics
    {
        map.insert("step_outputs".into(), serde_json::to_value(&output.step_outputs).unwrap_or(Value::Null));
    }
    let completed = output.status == crate::session::RunStatus::Completed;
    RunRecord {
        run_id: output.run_id.clone(),
        session_id: output.session_id.clone().unwrap_or_default(),
        parent_run_id: output.parent_run_id.clone(),
        component_id: output.agent_id.clone().or_else(|| output.team_id.clone()).or_else(|| output.workflow_id.clone()),
        user_id: output.user_id.clone(),
        status: output.status,
        input,
        output: completed.then(|| crate::runnable::RunContent::to_text(&output.content)),
        messages: output.messages.clone(),
        events: Vec::new(),
        metrics,
        paused: output.paused.clone(),
        error,
        model: (!output.model.is_empty()).then(|| output.model.clone()),
        model_provider: (!output.model_provider.is_empty()).then(|| output.model_provider.clone()),
        metadata: output.metadata.clone(),
        created_at: output.created_at,
        updated_at: unix_now(),
    }
}

/// Anything a builder accepts as its store: a store value or a shared `Arc`.
pub trait IntoStore {
    /// Converts into the shared form agents, teams and workflows hold.
    fn into_store(self) -> Arc<dyn SessionStore>;
}

impl<S: SessionStore> IntoStore for S {
    fn into_store(self) -> Arc<dyn SessionStore> {
        Arc::new(self)
    }
}

impl<S: SessionStore> IntoStore for Arc<S> {
    fn into_store(self) -> Arc<dyn SessionStore> {
        self
    }
}

impl IntoStore for Arc<dyn SessionStore> {
    fn into_store(self) -> Arc<dyn SessionStore> {
        self
    }
}

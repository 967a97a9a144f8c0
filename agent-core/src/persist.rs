//! Saving a run into its session: the one place agents, teams and workflows
//! write runs to a store.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::output::RunOutput;
use crate::session::{RunRecord, Session, SessionStore, SessionSummary, SessionType, StoreError, unix_now};

/// A run's session in a store: loaded when the run starts, written when it
/// pauses or ends.
pub(crate) struct SessionSlot {
    store: Arc<dyn SessionStore>,
    /// The session as loaded, or a new one not yet stored.
    pub(crate) session: Session,
}

impl SessionSlot {
    /// Loads the session, or starts a new one of this type for this component.
    pub(crate) async fn open(
        store: Arc<dyn SessionStore>,
        session_id: &str,
        session_type: SessionType,
        component_id: Option<&str>,
    ) -> Result<Self, StoreError> {
        let session = match store.session(session_id).await? {
            Some(session) => session,
            None => {
                let mut session = Session::new(session_id, session_type);
                session.component_id = component_id.map(str::to_owned);
                session
            }
        };
        Ok(Self { store, session })
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
        session.updated_at = unix_now();
        self.store.save_run(session, record).await
    }
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

//! The `SessionStore` trait and its error type.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::{Page, RunRecord, Session, SessionQuery};

/// An error from a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The row does not exist.
    #[error("{what} `{id}` not found")]
    NotFound {
        /// What kind of row.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// A row could not be decoded.
    #[error("{what} `{id}` is corrupt: {message}")]
    Corrupt {
        /// What kind of row.
        what: &'static str,
        /// Its id.
        id: String,
        /// What was wrong.
        message: String,
    },
    /// The database was migrated by a newer version of this software.
    #[error("database schema version {found} is newer than the {supported} this build knows; upgrade the application")]
    SchemaTooNew {
        /// The version in the database.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The request was invalid (bad sort key, bad page, input the store
    /// cannot hold, ...).
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// The database failed; the message is the driver's error (match the
    /// variant and downcast the box to reach it). It is not also the error's
    /// `source`, so a printed cause chain shows it once.
    #[error("store backend error: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

/// The error message a run gets when [`SessionStore::fail_abandoned_runs`]
/// marks it failed.
pub const ABANDONED_RUN_ERROR: &str =
    "the process running this run stopped before it finished (its session lease expired)";

/// Where sessions and their runs are kept.
///
/// Implementations: [`InMemoryStore`](super::InMemoryStore) here; SQLite and
/// Postgres in `agent-memory`. All of them pass the same conformance suite.
///
/// # Runs across processes
///
/// Several processes may share one store. A run on a session holds the
/// session's lease ([`acquire_lease`](Self::acquire_lease)) from before it
/// loads the session until after it saves it, so runs on one session are
/// serialized; [`start_run`](Self::start_run) records it as running, so other
/// processes can find ([`find_run`](Self::find_run)) and cancel it
/// ([`request_cancel`](Self::request_cancel), noticed through
/// [`wait_cancel`](Self::wait_cancel)); [`save_run`](Self::save_run) writes
/// only what the run owns. A paused run is continued by one process only:
/// the one whose [`claim_paused_run`](Self::claim_paused_run) wins. Runs of a
/// process that died are failed by
/// [`fail_abandoned_runs`](Self::fail_abandoned_runs) once their lease expired.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
///
/// use agent_core::testing::TestModel;
/// use agent_core::{Agent, InMemoryStore, RunStatus, SessionStore};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = Arc::new(InMemoryStore::new());
/// let agent = Agent::builder(TestModel::new().answer("Noted.")).id("notes").store(Arc::clone(&store)).build()?;
/// agent.run("Remember the milk").session("s1").user("ada").await?;
///
/// let session = store.session("s1").await?.expect("the run created it");
/// assert_eq!((session.user_id.as_deref(), session.component_id.as_deref()), (Some("ada"), Some("notes")));
/// let runs = store.runs("s1", None).await?;
/// assert_eq!((runs.len(), runs[0].status), (1, RunStatus::Completed));
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// The session with this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] when the row cannot be decoded, or a backend error.
    async fn session(&self, session_id: &str) -> Result<Option<Session>, StoreError>;

    /// Creates or replaces a session (its runs are kept).
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn upsert_session(&self, session: &Session) -> Result<(), StoreError>;

    /// Deletes a session and its runs; returns whether it existed.
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError>;

    /// Sessions matching the query, one page of them.
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn list_sessions(&self, query: &SessionQuery) -> Result<Page<Session>, StoreError>;

    /// Records a run as it starts, in one transaction: the session is created
    /// when it does not exist (an existing one is left as it is: name,
    /// metadata and state untouched), and the run is written (inserted, or
    /// replacing a record with the same id).
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when the run is not `running`, belongs to
    /// another session, or holds text the store cannot keep
    /// ([`check_storable`](Self::check_storable)); a backend error. Nothing
    /// is written then.
    async fn start_run(&self, session: &Session, run: &RunRecord) -> Result<(), StoreError>;

    /// Saves a run and what it owns of its session, in one transaction.
    ///
    /// Of the session only the run's part is written: `state`, `summary`,
    /// `metrics` (the run's caller holds the session's lease, so it adds the
    /// run's tokens to what it loaded), `updated_at`, and `user_id` /
    /// `component_id` / `session_name` where the stored session has none.
    /// The type and metadata stay as stored, and so does a name given during
    /// the run. The run is inserted or replaced.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] (`what: "session"`) when the session does not
    /// exist (deleted during the run, or never started with
    /// [`start_run`](Self::start_run)): a deleted session is never created
    /// again. [`StoreError::Invalid`] as for `start_run`; a backend error.
    /// Nothing is written then.
    async fn save_run(&self, session: &Session, run: &RunRecord) -> Result<(), StoreError>;

    /// One run of a session.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] when the row cannot be decoded, or a backend error.
    async fn run(&self, session_id: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError>;

    /// The run with this id, whatever its session.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when runs of several sessions have this id;
    /// [`StoreError::Corrupt`] when the row cannot be decoded; a backend error.
    async fn find_run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError>;

    /// The runs of a session, oldest first; only the newest `last` when given.
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn runs(&self, session_id: &str, last: Option<usize>) -> Result<Vec<RunRecord>, StoreError>;

    /// Takes or renews the session's lease for `holder`, valid for `ttl`.
    ///
    /// Returns `true` when `holder` holds it now: the lease was free, had
    /// expired, or was already `holder`'s (then it is renewed). Returns
    /// `false` while another holder's lease has not expired. Atomic across
    /// processes sharing the store; expiry is judged by the store's clock.
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn acquire_lease(&self, session_id: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError>;

    /// Gives the session's lease back; returns whether `holder` held it
    /// (another holder's lease is left alone).
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn release_lease(&self, session_id: &str, holder: &str) -> Result<bool, StoreError>;

    /// Atomically moves a paused run to `running` and returns it, with its
    /// [`PausedRun`](crate::PausedRun); `None` when it is not paused (any
    /// more): another process claimed it first, or it finished.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] (`what: "run"`) when the run does not exist;
    /// [`StoreError::Corrupt`] when it cannot be decoded; a backend error.
    async fn claim_paused_run(&self, session_id: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError>;

    /// Asks for the run to be cancelled; returns `true` when the run exists
    /// and is `running` (the request is recorded, and the process running it
    /// is woken in [`wait_cancel`](Self::wait_cancel)).
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn request_cancel(&self, run_id: &str) -> Result<bool, StoreError>;

    /// Resolves once a cancel was requested for the run, including a request
    /// made before the call. Meant to be raced against the run: it is
    /// cancel-safe, and dropping it stops the wait. Backends notice a request
    /// made by another process within a bounded time (Postgres at once
    /// through `LISTEN`/`NOTIFY`, SQLite by polling every 100 ms; the
    /// in-memory store at once).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] (`what: "run"`) when the run does not exist
    /// (never started, or its session was deleted); a backend error.
    async fn wait_cancel(&self, run_id: &str) -> Result<(), StoreError>;

    /// Marks failed the runs left `running` whose session has no unexpired
    /// lease (the process running them died): status `error`, the error
    /// [`ABANDONED_RUN_ERROR`], and an error result for every tool call
    /// without one. Returns how many.
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn fail_abandoned_runs(&self) -> Result<u64, StoreError>;

    /// Refuses text this store cannot hold (Postgres: a NUL character), so
    /// a run can be refused before any work; `what` names it in the message.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] saying what cannot be stored and why.
    fn check_storable(&self, what: &str, text: &str) -> Result<(), StoreError>;

    /// Refuses JSON this store cannot hold (Postgres: `\u0000` in a string or
    /// key), as [`check_storable`](Self::check_storable) does for text.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] saying what cannot be stored and why.
    fn check_storable_json(&self, what: &str, value: &Value) -> Result<(), StoreError>;

    /// Daily usage metrics over the stored runs in `range`, oldest day first
    /// (see [`metrics::aggregate`](super::metrics::aggregate) for what counts).
    /// Stores compute them from their rows; the default refuses.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when the store does not compute metrics; a
    /// backend error.
    async fn daily_metrics(
        &self,
        range: super::metrics::DayRange,
    ) -> Result<Vec<super::metrics::DayMetrics>, StoreError> {
        let _ = range;
        Err(StoreError::Invalid("this store does not compute usage metrics".into()))
    }

    /// Applies the schema migrations the store lacks; returns how many (0
    /// for stores without a schema).
    ///
    /// # Errors
    ///
    /// [`StoreError::SchemaTooNew`] when a newer build migrated the store; a
    /// backend error.
    async fn migrate(&self) -> Result<usize, StoreError> {
        Ok(0)
    }
}

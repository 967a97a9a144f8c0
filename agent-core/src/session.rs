//! Sessions and runs as stores keep them, and the `SessionStore` trait.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::hitl::PausedRun;
use crate::message::Message;

/// What kind of component a session belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionType {
    /// An agent's session.
    #[default]
    Agent,
    /// A team's session.
    Team,
    /// A workflow's session.
    Workflow,
}

impl SessionType {
    /// The lowercase name used in APIs and databases.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Team => "team",
            Self::Workflow => "workflow",
        }
    }

    /// Parses the lowercase name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "agent" => Some(Self::Agent),
            "team" => Some(Self::Team),
            "workflow" => Some(Self::Workflow),
            _ => None,
        }
    }
}

/// A conversation with one agent, team or workflow.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Unique id.
    pub session_id: String,
    /// What kind of component owns it.
    pub session_type: SessionType,
    /// The id of the agent, team or workflow.
    pub component_id: Option<String>,
    /// The user the session is with.
    pub user_id: Option<String>,
    /// A display name.
    pub session_name: Option<String>,
    /// State shared by the runs of the session (tools read and write it).
    pub state: Map<String, Value>,
    /// A summary of the conversation so far.
    pub summary: Option<SessionSummary>,
    /// Aggregated metrics, in the shape the owner chooses.
    pub metrics: Value,
    /// Creation time, unix seconds.
    pub created_at: i64,
    /// Last update time, unix seconds.
    pub updated_at: i64,
}

impl Session {
    /// A new, empty session created now.
    pub fn new(session_id: impl Into<String>, session_type: SessionType) -> Self {
        let now = unix_now();
        Self { session_id: session_id.into(), session_type, created_at: now, updated_at: now, ..Self::default() }
    }
}

/// A model-written summary of a session.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// The summary text.
    pub summary: String,
    /// Topics discussed.
    #[serde(default)]
    pub topics: Vec<String>,
    /// When it was written, unix seconds.
    pub updated_at: i64,
}

/// The lifecycle state of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still running.
    #[default]
    Running,
    /// Waiting for the user (tool confirmation or external execution).
    Paused,
    /// Finished with an answer.
    Completed,
    /// Ended with an error.
    Error,
    /// Cancelled.
    Cancelled,
}

impl RunStatus {
    /// The lowercase name used in APIs and databases.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Completed => "completed",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses the lowercase name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "running" => Some(Self::Running),
            "paused" => Some(Self::Paused),
            "completed" => Some(Self::Completed),
            "error" => Some(Self::Error),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

/// One run within a session, as stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Unique id.
    pub run_id: String,
    /// The session it belongs to.
    pub session_id: String,
    /// The run that started this one (a team leader's run, for a member).
    pub parent_run_id: Option<String>,
    /// The id of the agent, team or workflow that ran.
    pub component_id: Option<String>,
    /// The user it ran for.
    pub user_id: Option<String>,
    /// Its state.
    pub status: RunStatus,
    /// The input, as text.
    pub input: String,
    /// The final answer, once there is one.
    pub output: Option<String>,
    /// The messages the run added to the conversation, input first. Every
    /// tool call in them has its result.
    pub messages: Vec<Message>,
    /// Events recorded during the run (when the agent stores them).
    #[serde(default)]
    pub events: Vec<Value>,
    /// Metrics of the run.
    pub metrics: Value,
    /// What a paused run needs to continue.
    pub paused: Option<PausedRun>,
    /// The error message of a failed run.
    pub error: Option<String>,
    /// Creation time, unix seconds.
    pub created_at: i64,
    /// Last update time, unix seconds.
    pub updated_at: i64,
}

/// Sort direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first.
    #[default]
    Desc,
}

/// What sessions are sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionSort {
    /// Creation time.
    CreatedAt,
    /// Last update time.
    #[default]
    UpdatedAt,
    /// Session name.
    SessionName,
}

/// Filters, paging and sorting for [`SessionStore::list_sessions`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionQuery {
    /// Only sessions of this type.
    pub session_type: Option<SessionType>,
    /// Only sessions of this agent, team or workflow.
    pub component_id: Option<String>,
    /// Only sessions of this user.
    pub user_id: Option<String>,
    /// Only sessions whose name contains this text (case-insensitive).
    pub session_name: Option<String>,
    /// Page size; all rows when unset.
    pub limit: Option<u32>,
    /// 1-based page number.
    pub page: Option<u32>,
    /// Sort key.
    pub sort_by: SessionSort,
    /// Sort direction.
    pub sort_order: SortOrder,
}

/// One page of a list, with the total count across pages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Rows matching the filters, across all pages.
    pub total: u64,
    /// 1-based page number.
    pub page: u32,
    /// Page size, if paged.
    pub limit: Option<u32>,
}

impl<T> Page<T> {
    /// Number of pages at this page size.
    pub fn total_pages(&self) -> u64 {
        match self.limit {
            Some(limit) if limit > 0 => self.total.div_ceil(u64::from(limit)),
            _ => u64::from(self.total > 0),
        }
    }
}

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
    /// The request was invalid (bad sort key, bad page, ...).
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// The database failed.
    #[error("store backend error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where sessions and their runs are kept.
///
/// Implementations: [`InMemoryStore`] here; SQLite and Postgres in
/// `agent-memory`. All of them pass the same conformance suite.
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

    /// Saves a run and its session in one transaction: the session is created
    /// or updated (state, summary, `updated_at`), the run inserted or replaced.
    ///
    /// # Errors
    ///
    /// A backend error; nothing is written then.
    async fn save_run(&self, session: &Session, run: &RunRecord) -> Result<(), StoreError>;

    /// One run of a session.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] when the row cannot be decoded, or a backend error.
    async fn run(&self, session_id: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError>;

    /// The runs of a session, oldest first; only the newest `last` when given.
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn runs(&self, session_id: &str, last: Option<usize>) -> Result<Vec<RunRecord>, StoreError>;
}

/// A [`SessionStore`] in process memory, for tests and short-lived programs.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    inner: Mutex<InMemoryData>,
}

#[derive(Debug, Default)]
struct InMemoryData {
    sessions: HashMap<String, Session>,
    /// Runs per session, in insertion order.
    runs: HashMap<String, Vec<RunRecord>>,
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn data(&self) -> std::sync::MutexGuard<'_, InMemoryData> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl SessionStore for InMemoryStore {
    async fn session(&self, session_id: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.data().sessions.get(session_id).cloned())
    }

    async fn upsert_session(&self, session: &Session) -> Result<(), StoreError> {
        self.data().sessions.insert(session.session_id.clone(), session.clone());
        Ok(())
    }

    async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError> {
        let mut data = self.data();
        data.runs.remove(session_id);
        Ok(data.sessions.remove(session_id).is_some())
    }

    async fn list_sessions(&self, query: &SessionQuery) -> Result<Page<Session>, StoreError> {
        let data = self.data();
        let name_filter = query.session_name.as_ref().map(|name| name.to_lowercase());
        let mut rows: Vec<&Session> = data
            .sessions
            .values()
            .filter(|s| query.session_type.is_none_or(|t| s.session_type == t))
            .filter(|s| query.component_id.as_ref().is_none_or(|id| s.component_id.as_ref() == Some(id)))
            .filter(|s| query.user_id.as_ref().is_none_or(|id| s.user_id.as_ref() == Some(id)))
            .filter(|s| {
                name_filter.as_ref().is_none_or(|needle| {
                    s.session_name.as_ref().is_some_and(|name| name.to_lowercase().contains(needle))
                })
            })
            .collect();
        rows.sort_by(|a, b| {
            let ordering = match query.sort_by {
                SessionSort::CreatedAt => a.created_at.cmp(&b.created_at),
                SessionSort::UpdatedAt => a.updated_at.cmp(&b.updated_at),
                SessionSort::SessionName => a.session_name.cmp(&b.session_name),
            }
            .then_with(|| a.session_id.cmp(&b.session_id));
            match query.sort_order {
                SortOrder::Asc => ordering,
                SortOrder::Desc => ordering.reverse(),
            }
        });
        Ok(paginate(rows.into_iter().cloned().collect(), query.limit, query.page))
    }

    async fn save_run(&self, session: &Session, run: &RunRecord) -> Result<(), StoreError> {
        let mut data = self.data();
        data.sessions.insert(session.session_id.clone(), session.clone());
        let runs = data.runs.entry(session.session_id.clone()).or_default();
        match runs.iter_mut().find(|existing| existing.run_id == run.run_id) {
            Some(existing) => *existing = run.clone(),
            None => runs.push(run.clone()),
        }
        Ok(())
    }

    async fn run(&self, session_id: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        Ok(self.data().runs.get(session_id).and_then(|runs| runs.iter().find(|r| r.run_id == run_id).cloned()))
    }

    async fn runs(&self, session_id: &str, last: Option<usize>) -> Result<Vec<RunRecord>, StoreError> {
        let data = self.data();
        let Some(runs) = data.runs.get(session_id) else { return Ok(Vec::new()) };
        let skip = last.map_or(0, |last| runs.len().saturating_sub(last));
        Ok(runs[skip..].to_vec())
    }
}

/// Cuts one page out of sorted rows.
pub fn paginate<T>(rows: Vec<T>, limit: Option<u32>, page: Option<u32>) -> Page<T> {
    let total = rows.len() as u64;
    let page = page.unwrap_or(1).max(1);
    let items = match limit {
        Some(limit) => {
            let start = (page as usize - 1).saturating_mul(limit as usize);
            rows.into_iter().skip(start).take(limit as usize).collect()
        }
        None => rows,
    };
    Page { items, total, page, limit }
}

/// The current time in unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs() as i64)
}

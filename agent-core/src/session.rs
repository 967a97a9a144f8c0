//! Sessions and runs as stores keep them, and the `SessionStore` trait.

pub(crate) mod close;
mod in_memory;
pub mod metrics;
mod store;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use in_memory::InMemoryStore;
pub use store::{ABANDONED_RUN_ERROR, SessionStore, StoreError};

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
    /// Token metrics summed over the session's finished runs
    /// (`input_tokens`, `output_tokens`, `total_tokens`,
    /// `cache_read_tokens`, `cache_write_tokens`, `runs`), or null before
    /// the first.
    pub metrics: Value,
    /// Free-form metadata the owner attaches (AgentOS `metadata`).
    #[serde(default)]
    pub metadata: Map<String, Value>,
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
    /// The model of the run's last turn (none for a workflow).
    #[serde(default)]
    pub model: Option<String>,
    /// That model's provider, such as `anthropic`.
    #[serde(default)]
    pub model_provider: Option<String>,
    /// The metadata the run was given.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// Creation time, unix seconds.
    pub created_at: i64,
    /// Last update time, unix seconds.
    pub updated_at: i64,
}

impl RunRecord {
    /// Gives every tool call of the run's messages that has no result an
    /// error result saying `reason`, so the stored conversation stays valid:
    /// the results of an assistant message's calls are in the user message
    /// right after it, in call order, before any other block. Returns how
    /// many results were added.
    pub fn close_open_tool_calls(&mut self, reason: &str) -> usize {
        close::close_open_tool_calls(&mut self.messages, reason)
    }
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

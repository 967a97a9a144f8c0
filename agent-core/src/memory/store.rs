//! User memories as stores keep them, the `MemoryStore` trait and its
//! in-memory implementation.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::session::{Page, SortOrder, StoreError, paginate, unix_now};

/// A fact about a user, remembered across sessions.
///
/// Field names follow the AgentOS memory JSON (`memory_id`, `memory`,
/// `topics`, `user_id`, ...); times are unix seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMemory {
    /// Unique id.
    pub memory_id: String,
    /// The fact, as one or two sentences.
    pub memory: String,
    /// Topics it is about, such as `preferences` or `work`.
    #[serde(default)]
    pub topics: Vec<String>,
    /// The user it is about.
    pub user_id: Option<String>,
    /// The agent that recorded it.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// The team that recorded it.
    #[serde(default)]
    pub team_id: Option<String>,
    /// The user input it was taken from.
    #[serde(default)]
    pub input: Option<String>,
    /// Creation time, unix seconds.
    #[serde(default)]
    pub created_at: i64,
    /// Last update time, unix seconds.
    pub updated_at: i64,
}

impl UserMemory {
    /// A new memory about `user_id`, with a fresh id, created now.
    pub fn new(user_id: impl Into<String>, memory: impl Into<String>) -> Self {
        let now = unix_now();
        Self {
            memory_id: uuid::Uuid::now_v7().to_string(),
            memory: memory.into(),
            user_id: Some(user_id.into()),
            created_at: now,
            updated_at: now,
            ..Self::default()
        }
    }

    /// Sets the topics.
    #[must_use]
    pub fn with_topics<I, S>(mut self, topics: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.topics = topics.into_iter().map(Into::into).collect();
        self
    }
}

/// What memories are sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemorySort {
    /// Last update time.
    #[default]
    UpdatedAt,
    /// Creation time.
    CreatedAt,
    /// The memory text.
    Memory,
}

/// Filters, paging and sorting for [`MemoryStore::list_memories`], as the
/// AgentOS `GET /memories` endpoint takes them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryQuery {
    /// Only memories about this user.
    pub user_id: Option<String>,
    /// Only memories recorded by this agent.
    pub agent_id: Option<String>,
    /// Only memories recorded by this team.
    pub team_id: Option<String>,
    /// Only memories with every one of these topics (as AgentOS filters).
    #[serde(default)]
    pub topics: Vec<String>,
    /// Only memories whose text contains this (case-insensitive for ASCII).
    pub search_content: Option<String>,
    /// Page size; all rows when unset.
    pub limit: Option<u32>,
    /// 1-based page number.
    pub page: Option<u32>,
    /// Sort key.
    #[serde(default)]
    pub sort_by: MemorySort,
    /// Sort direction.
    #[serde(default)]
    pub sort_order: SortOrder,
}

impl MemoryQuery {
    /// A query for every memory of one user, newest first.
    pub fn user(user_id: impl Into<String>) -> Self {
        Self { user_id: Some(user_id.into()), ..Self::default() }
    }

    /// Whether a memory passes the filters (not paging). Backends without a
    /// query language use it; SQL backends must agree with it.
    pub fn matches(&self, memory: &UserMemory) -> bool {
        let same = |filter: &Option<String>, value: &Option<String>| filter.is_none() || filter == value;
        same(&self.user_id, &memory.user_id)
            && same(&self.agent_id, &memory.agent_id)
            && same(&self.team_id, &memory.team_id)
            && self.topics.iter().all(|topic| memory.topics.contains(topic))
            && self
                .search_content
                .as_ref()
                .is_none_or(|needle| memory.memory.to_ascii_lowercase().contains(&needle.to_ascii_lowercase()))
    }

    /// The order of two memories under this query's sort; ties are broken by id.
    pub fn compare(&self, a: &UserMemory, b: &UserMemory) -> Ordering {
        let ordering = match self.sort_by {
            MemorySort::UpdatedAt => a.updated_at.cmp(&b.updated_at),
            MemorySort::CreatedAt => a.created_at.cmp(&b.created_at),
            MemorySort::Memory => a.memory.cmp(&b.memory),
        }
        .then_with(|| a.memory_id.cmp(&b.memory_id));
        match self.sort_order {
            SortOrder::Asc => ordering,
            SortOrder::Desc => ordering.reverse(),
        }
    }
}

/// How many memories a user has, for the AgentOS `user_memory_stats` endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMemoryStats {
    /// The user.
    pub user_id: String,
    /// Memories about the user.
    pub total_memories: u64,
    /// When the newest of them was last updated, unix seconds.
    pub last_memory_updated_at: i64,
}

/// Where user memories are kept.
///
/// Implementations: [`InMemoryMemoryStore`] here; SQLite and Postgres in
/// `agent-memory`. All of them pass the same conformance suite.
///
/// List calls skip a row that cannot be decoded (and log it with `tracing`),
/// so one bad row does not hide the others; `total` still counts it. Direct
/// reads ([`MemoryStore::memory`]) return [`StoreError::Corrupt`] for it.
#[async_trait]
pub trait MemoryStore: Send + Sync + 'static {
    /// Creates or replaces a memory.
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn upsert_memory(&self, memory: &UserMemory) -> Result<(), StoreError>;

    /// The memory with this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] when the row cannot be decoded, or a backend error.
    async fn memory(&self, memory_id: &str) -> Result<Option<UserMemory>, StoreError>;

    /// Deletes a memory; returns whether it existed.
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn delete_memory(&self, memory_id: &str) -> Result<bool, StoreError>;

    /// Deletes memories by id, in one transaction; returns how many existed.
    ///
    /// # Errors
    ///
    /// A backend error; nothing is deleted then.
    async fn delete_memories(&self, memory_ids: &[String]) -> Result<u64, StoreError>;

    /// Memories matching the query, one page of them.
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn list_memories(&self, query: &MemoryQuery) -> Result<Page<UserMemory>, StoreError>;

    /// The distinct topics in use, sorted; only the user's when given.
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn memory_topics(&self, user_id: Option<&str>) -> Result<Vec<String>, StoreError>;

    /// Memory counts per user, the most recently updated user first (memories
    /// without a user are not counted).
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn user_memory_stats(
        &self,
        limit: Option<u32>,
        page: Option<u32>,
    ) -> Result<Page<UserMemoryStats>, StoreError>;

    /// Replaces every memory of `user_id` with `memories`, in one transaction
    /// (what [`MemoryManager::optimize`](super::MemoryManager::optimize) writes).
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when a memory belongs to another user, or a
    /// backend error; nothing is changed then.
    async fn replace_user_memories(&self, user_id: &str, memories: &[UserMemory]) -> Result<(), StoreError>;

    /// Deletes every memory.
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn clear_memories(&self) -> Result<(), StoreError>;
}

/// Checks that every memory belongs to `user_id`, for
/// [`MemoryStore::replace_user_memories`].
///
/// # Errors
///
/// [`StoreError::Invalid`] naming the first memory of another user.
pub fn check_owner(user_id: &str, memories: &[UserMemory]) -> Result<(), StoreError> {
    match memories.iter().find(|memory| memory.user_id.as_deref() != Some(user_id)) {
        Some(other) => Err(StoreError::Invalid(format!(
            "memory `{}` does not belong to user `{user_id}` and cannot replace their memories",
            other.memory_id
        ))),
        None => Ok(()),
    }
}

/// A [`MemoryStore`] in process memory, for tests and short-lived programs.
#[derive(Debug, Default)]
pub struct InMemoryMemoryStore {
    memories: Mutex<HashMap<String, UserMemory>>,
}

impl InMemoryMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn data(&self) -> std::sync::MutexGuard<'_, HashMap<String, UserMemory>> {
        self.memories.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl MemoryStore for InMemoryMemoryStore {
    async fn upsert_memory(&self, memory: &UserMemory) -> Result<(), StoreError> {
        self.data().insert(memory.memory_id.clone(), memory.clone());
        Ok(())
    }

    async fn memory(&self, memory_id: &str) -> Result<Option<UserMemory>, StoreError> {
        Ok(self.data().get(memory_id).cloned())
    }

    async fn delete_memory(&self, memory_id: &str) -> Result<bool, StoreError> {
        Ok(self.data().remove(memory_id).is_some())
    }

    async fn delete_memories(&self, memory_ids: &[String]) -> Result<u64, StoreError> {
        let mut data = self.data();
        Ok(memory_ids.iter().filter(|id| data.remove(id.as_str()).is_some()).count() as u64)
    }

    async fn list_memories(&self, query: &MemoryQuery) -> Result<Page<UserMemory>, StoreError> {
        let data = self.data();
        let mut rows: Vec<UserMemory> = data.values().filter(|memory| query.matches(memory)).cloned().collect();
        rows.sort_by(|a, b| query.compare(a, b));
        Ok(paginate(rows, query.limit, query.page))
    }

    async fn memory_topics(&self, user_id: Option<&str>) -> Result<Vec<String>, StoreError> {
        let data = self.data();
        let topics: BTreeSet<&String> = data
            .values()
            .filter(|memory| user_id.is_none_or(|id| memory.user_id.as_deref() == Some(id)))
            .flat_map(|memory| memory.topics.iter())
            .collect();
        Ok(topics.into_iter().cloned().collect())
    }

    async fn user_memory_stats(
        &self,
        limit: Option<u32>,
        page: Option<u32>,
    ) -> Result<Page<UserMemoryStats>, StoreError> {
        let data = self.data();
        let mut per_user: HashMap<&str, UserMemoryStats> = HashMap::new();
        for memory in data.values() {
            let Some(user_id) = memory.user_id.as_deref() else { continue };
            let stats = per_user.entry(user_id).or_insert_with(|| UserMemoryStats {
                user_id: user_id.to_owned(),
                total_memories: 0,
                last_memory_updated_at: i64::MIN,
            });
            stats.total_memories += 1;
            stats.last_memory_updated_at = stats.last_memory_updated_at.max(memory.updated_at);
        }
        let mut rows: Vec<UserMemoryStats> = per_user.into_values().collect();
        rows.sort_by(|a, b| {
            b.last_memory_updated_at.cmp(&a.last_memory_updated_at).then_with(|| a.user_id.cmp(&b.user_id))
        });
        Ok(paginate(rows, limit, page))
    }

    async fn replace_user_memories(&self, user_id: &str, memories: &[UserMemory]) -> Result<(), StoreError> {
        check_owner(user_id, memories)?;
        let mut data = self.data();
        data.retain(|_, memory| memory.user_id.as_deref() != Some(user_id));
        for memory in memories {
            data.insert(memory.memory_id.clone(), memory.clone());
        }
        Ok(())
    }

    async fn clear_memories(&self) -> Result<(), StoreError> {
        self.data().clear();
        Ok(())
    }
}

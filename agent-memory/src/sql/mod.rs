//! `SqlStore<DB>`: the session, memory and eval stores written once over sqlx,
//! with the few pieces of SQL that differ per backend in a [`Dialect`].
//!
//! Queries use `$n` placeholders (SQLite accepts them too) and bind JSON
//! through [`sqlx::types::Json`], which is `TEXT` on SQLite and `JSONB` on
//! Postgres, so nearly every statement is the same text on both.

mod cancel;
mod evals;
mod memories;
mod metrics;
pub(crate) mod migrate;
mod runs;
mod sessions;
mod trace_filter;
mod traces;

use std::fmt;
use std::sync::Arc;

use agent_core::StoreError;
use serde_json::Value;
use sqlx::{Database, Pool};

pub(crate) use cancel::CancelSignal;
#[cfg(feature = "postgres")]
pub(crate) use cancel::CancelWatch;
#[cfg(feature = "sqlite")]
pub(crate) use cancel::Polling;

/// The SQL one backend writes differently. Implemented for [`sqlx::Sqlite`]
/// and [`sqlx::Postgres`] only (sealed).
pub trait Dialect: Database + sealed::Sealed {
    /// Starts a transaction that will write (SQLite takes the write lock up
    /// front, so concurrent writers queue on the busy timeout instead of
    /// failing to upgrade a read lock).
    const BEGIN_WRITE: &'static str;
    /// Appended to a text sort key so text sorts by code point, as Rust strings do.
    const BYTE_ORDER: &'static str;
    /// Opens the "topics has this one" filter of a memory query (one per
    /// topic, AND-ed: a memory must have them all, as AgentOS filters); the
    /// topic follows as a bind, then [`TOPIC_HAS_CLOSE`](Self::TOPIC_HAS_CLOSE).
    const TOPIC_HAS_OPEN: &'static str;
    /// Closes [`TOPIC_HAS_OPEN`](Self::TOPIC_HAS_OPEN).
    const TOPIC_HAS_CLOSE: &'static str;
    /// The distinct topics of the memories, sorted; `$1` is the user or `NULL`.
    const MEMORY_TOPICS: &'static str;
    /// The database's clock in unix milliseconds, the clock leases expire by.
    const NOW_MS: &'static str;
    /// Run after a cancel request is recorded, with the run id as `$1`.
    const NOTIFY_CANCEL: Option<&'static str>;
    /// Whether text and JSON strings holding NUL characters are refused.
    const REFUSES_NUL: bool;

    /// The daily run aggregates (columns `day`, `agent_runs`, `agent_sessions`,
    /// `team_runs`, `team_sessions`, `workflow_runs`, `workflow_sessions`,
    /// `users`, and the token sums), oldest day first; `$1` / `$2` bound the
    /// days (unix seconds of midnight, or `NULL`).
    const DAY_METRICS: &'static str;
    /// The runs per day and model (`day`, `model`, `provider`, `runs`), bounded as [`DAY_METRICS`](Self::DAY_METRICS).
    const MODEL_METRICS: &'static str;

    /// Opens and closes an ASCII-only lower-casing of a text expression
    /// (trace filters ignore ASCII case on every backend alike; a
    /// Unicode-aware `lower` would not agree with the others).
    const ASCII_LOWER: (&'static str, &'static str);
    /// The function giving the 1-based position of a text in another (0 when absent).
    const POSITION: &'static str;

    /// How many rows a statement changed.
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// Migrates a store of this backend to the newest schema.
    fn migrate_store(store: &SqlStore<Self>) -> futures::future::BoxFuture<'_, Result<usize, StoreError>>;
}

/// The token sums of the daily aggregates, by column name.
pub(crate) const TOKEN_COLUMNS: [&str; 5] =
    ["input_tokens", "output_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens"];

mod sealed {
    /// Keeps [`Dialect`](super::Dialect) to the backends of this crate.
    pub trait Sealed {}
    #[cfg(feature = "sqlite")]
    impl Sealed for sqlx::Sqlite {}
    #[cfg(feature = "postgres")]
    impl Sealed for sqlx::Postgres {}
}

/// Sessions, runs, user memories and eval runs in a SQL database: [`SqliteStore`](crate::SqliteStore)
/// (`SqlStore<Sqlite>`) or [`PostgresStore`](crate::PostgresStore)
/// (`SqlStore<Postgres>`). Both implement [`agent_core::SessionStore`],
/// [`agent_core::memory::MemoryStore`] and [`agent_core::eval::EvalStore`]
/// with the same code; see each alias for how to open one. Cloning shares the pool.
pub struct SqlStore<DB: Dialect> {
    pub(crate) pool: Pool<DB>,
    /// The Postgres schema the tables are in, when one was chosen.
    pub(crate) schema: Option<String>,
    pub(crate) cancel: Arc<dyn CancelSignal>,
    /// A connection held open for the store's life, never used: it keeps a
    /// shared in-memory SQLite database alive while the pool replaces
    /// connections (one dropped mid-query is closed, not reused).
    pub(crate) keep_alive: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

impl<DB: Dialect> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            schema: self.schema.clone(),
            cancel: Arc::clone(&self.cancel),
            keep_alive: self.keep_alive.clone(),
        }
    }
}

impl<DB: Dialect> fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore").field("backend", &DB::NAME).field("schema", &self.schema).finish_non_exhaustive()
    }
}

impl<DB: Dialect> SqlStore<DB> {
    /// The connection pool, for queries of your own (the tables are
    /// `agent_sessions`, `agent_runs`, `agent_memories`, `agent_session_leases`,
    /// `agent_eval_runs`).
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Refuses text the backend cannot keep.
pub(crate) fn check_text<DB: Dialect>(what: &str, text: &str) -> Result<(), StoreError> {
    if DB::REFUSES_NUL && text.contains('\0') {
        return Err(StoreError::Invalid(format!(
            "{what} contains a NUL character (U+0000), which {} cannot store; remove it",
            DB::NAME
        )));
    }
    Ok(())
}

/// Refuses JSON the backend cannot keep: a NUL in any string or key.
pub(crate) fn check_json<DB: Dialect>(what: &str, value: &Value) -> Result<(), StoreError> {
    if !DB::REFUSES_NUL {
        return Ok(());
    }
    match value {
        Value::String(text) => check_text::<DB>(what, text),
        Value::Array(items) => items.iter().try_for_each(|item| check_json::<DB>(what, item)),
        Value::Object(map) => map.iter().try_for_each(|(key, value)| {
            check_text::<DB>(what, key)?;
            check_json::<DB>(what, value)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

//! `SqliteStore`: sessions, runs and memories in an embedded SQLite database.

mod schema;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use agent_core::StoreError;
use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::codec::backend;
use crate::sql::{Polling, SqlStore, migrate};

/// How often a SQLite store's `wait_cancel` checks for a cancel request.
pub const SQLITE_CANCEL_POLL: Duration = Duration::from_millis(100);

/// How to open a [`SqliteStore`].
///
/// Needs the `sqlite` feature (the default).
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use agent_memory::{SqliteOptions, SqliteStore};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let dir = std::env::temp_dir().join(format!("agent-memory-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let options = SqliteOptions::file(dir.join("agent.db")).busy_timeout(Duration::from_secs(10)).max_connections(4);
/// let store = SqliteStore::open_with(options).await?;
/// assert_eq!(store.schema_version().await?, agent_memory::SCHEMA_VERSION);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<_, agent_core::StoreError>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    connect: SqliteConnectOptions,
    in_memory: bool,
    max_connections: u32,
    migrate: bool,
}

impl SqliteOptions {
    /// A database file, created if missing.
    pub fn file(path: impl AsRef<Path>) -> Self {
        Self::from_connect(SqliteConnectOptions::new().filename(path).create_if_missing(true), false)
    }

    /// A private in-memory database, gone when the store (and its clones)
    /// is dropped. It is a named shared-cache database that the store keeps
    /// open with a connection of its own, so the pool can replace a
    /// connection without losing the data.
    pub fn memory() -> Self {
        let name = format!("file:agent-memory-{}?mode=memory&cache=shared", uuid::Uuid::new_v4());
        Self::from_connect(SqliteConnectOptions::new().filename(name).shared_cache(true), true)
    }

    /// A database named by a URL such as `sqlite://agent.db` or `sqlite::memory:`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when the URL cannot be parsed.
    pub fn url(url: &str) -> Result<Self, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::Invalid(format!("`{url}` is not a SQLite URL (sqlite://path or sqlite::memory:)")));
        }
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(|err| StoreError::Invalid(format!("bad SQLite URL `{url}`: {err}")))?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        Ok(Self::from_connect(connect.create_if_missing(true), in_memory))
    }

    fn from_connect(connect: SqliteConnectOptions, in_memory: bool) -> Self {
        let connect = connect
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        Self { connect, in_memory, max_connections: 8, migrate: true }
    }

    /// How long a write waits for another connection's write to finish
    /// before failing (default 5 s).
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.connect = self.connect.busy_timeout(timeout);
        self
    }

    /// The most connections the pool opens (default 8; always 1 in memory).
    #[must_use]
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Whether opening migrates the schema (default true). Without it, open
    /// still refuses a schema newer than this build knows.
    #[must_use]
    pub fn migrate(mut self, yes: bool) -> Self {
        self.migrate = yes;
        self
    }
}

/// Sessions, runs and user memories in an embedded SQLite database: the
/// zero-setup default.
///
/// Needs the `sqlite` feature (the default).
///
/// The database runs in WAL mode with `synchronous = NORMAL`, foreign keys on
/// and a busy timeout, so several tasks, and several stores on one file,
/// write without losing data. Each `save_run` is one transaction. Session
/// leases expire by the database's clock; `wait_cancel` polls every
/// [`SQLITE_CANCEL_POLL`]. Cloning shares the pool.
///
/// # Example
///
/// ```
/// use agent_core::memory::{MemoryQuery, MemoryStore, UserMemory};
/// use agent_memory::SqliteStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = SqliteStore::open_in_memory().await?;
/// store.upsert_memory(&UserMemory::new("ana", "Ana likes green tea.").with_topics(["preferences"])).await?;
/// let page = store.list_memories(&MemoryQuery { search_content: Some("TEA".into()), ..MemoryQuery::user("ana") }).await?;
/// assert_eq!(page.total, 1);
/// # Ok::<_, agent_core::StoreError>(())
/// # }).unwrap();
/// ```
pub type SqliteStore = SqlStore<Sqlite>;

impl SqlStore<Sqlite> {
    /// Opens (creating if missing) a database file and migrates it.
    ///
    /// # Errors
    ///
    /// [`StoreError::SchemaTooNew`] when a newer build migrated the file; a
    /// backend error when it cannot be opened.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(SqliteOptions::file(path)).await
    }

    /// Opens a private in-memory database, for tests and short-lived programs.
    ///
    /// # Errors
    ///
    /// A backend error.
    pub async fn open_in_memory() -> Result<Self, StoreError> {
        Self::open_with(SqliteOptions::memory()).await
    }

    /// Opens the database named by a URL such as `sqlite://agent.db`.
    ///
    /// # Errors
    ///
    /// As for [`SqliteStore::open`]; [`StoreError::Invalid`] for a bad URL.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::open_with(SqliteOptions::url(url)?).await
    }

    /// Opens a database with the given options.
    ///
    /// # Errors
    ///
    /// As for [`SqliteStore::open`].
    pub async fn open_with(options: SqliteOptions) -> Result<Self, StoreError> {
        let mut pool = SqlitePoolOptions::new();
        let mut keep_alive: Option<Arc<dyn std::any::Any + Send + Sync>> = None;
        pool = if options.in_memory {
            // One connection at a time (shared-cache tables lock as a whole),
            // and a connection of the store's own that keeps the database alive.
            let keeper = sqlx::ConnectOptions::connect(&options.connect).await.map_err(backend)?;
            keep_alive = Some(Arc::new(std::sync::Mutex::new(keeper)));
            pool.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            pool.max_connections(options.max_connections)
        };
        let pool = pool.connect_with(options.connect).await.map_err(backend)?;
        let cancel = Arc::new(Polling { interval: SQLITE_CANCEL_POLL });
        let store = Self { pool, schema: None, cancel, keep_alive };
        if options.migrate {
            store.migrate().await?;
        } else {
            migrate::check(migrate::version(&store.pool, &schema::SCHEMA).await?)?;
        }
        Ok(store)
    }

    /// Applies the schema migrations this database lacks; returns how many.
    ///
    /// # Errors
    ///
    /// [`StoreError::SchemaTooNew`] when a newer build migrated the
    /// database; a backend error (nothing is applied then).
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        migrate::migrate(&self.pool, &schema::SCHEMA, <Sqlite as crate::sql::Dialect>::BEGIN_WRITE, &[]).await
    }

    /// The schema version of the database (0 before the first migration).
    ///
    /// # Errors
    ///
    /// A backend error.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        migrate::version(&self.pool, &schema::SCHEMA).await
    }
}

#[cfg(test)]
mod tests {
    use agent_core::{Session, SessionStore, SessionType};

    use super::SqliteStore;

    #[tokio::test]
    async fn an_in_memory_store_keeps_its_data_when_the_pool_replaces_its_connection() {
        let store = SqliteStore::open_in_memory().await.expect("opens");
        store.upsert_session(&Session::new("s1", SessionType::Agent)).await.expect("writes");
        // What happens to a connection whose query future was dropped mid-flight.
        let connection = store.pool.acquire().await.expect("a connection");
        connection.close().await.expect("closes");
        assert!(store.session("s1").await.expect("the tables are still there").is_some());
        let other = SqliteStore::open_in_memory().await.expect("opens");
        assert!(other.session("s1").await.expect("reads").is_none(), "each in-memory store is private");
    }
}

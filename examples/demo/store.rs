//! The demo's database: SQLite (a file or in memory) or Postgres, by URL, holding both sessions and user memories.

use std::sync::Arc;

use agent_core::SessionStore;
use agent_core::eval::EvalStore;
use agent_core::memory::MemoryStore;
use agent_core::trace::TraceStore;
use agent_memory::{PostgresStore, SqliteStore};

/// One database seen two ways: the session store every component saves
/// to, and the memory store of the `/memories` routes.
#[derive(Clone)]
pub struct Stores {
    /// Sessions and runs.
    pub sessions: Arc<dyn SessionStore>,
    /// User memories, in the same database.
    pub memories: Arc<dyn MemoryStore>,
    /// Eval runs, in the same database.
    pub evals: Arc<dyn EvalStore>,
    /// Traces of the runs, in the same database (install
    /// `agent_memory::TraceLayer` over it to fill it).
    pub traces: Arc<dyn TraceStore>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores").finish_non_exhaustive()
    }
}

impl Stores {
    /// The views of one store that keeps sessions, memories and eval runs.
    pub fn of<S: SessionStore + MemoryStore + EvalStore + TraceStore + 'static>(store: S) -> Self {
        let store = Arc::new(store);
        Self { sessions: store.clone(), memories: store.clone(), evals: store.clone(), traces: store }
    }
}

/// Opens the database `url` names: `postgres://…` / `postgresql://…`
/// for Postgres, `sqlite:…` for SQLite, any other text as a SQLite file
/// path, and no URL for SQLite in memory. The schema is migrated on open.
///
/// Servers should use a file or Postgres: the in-memory database is gone
/// when the process stops.
///
/// # Errors
///
/// When the database cannot be reached or migrated.
///
/// # Example
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let stores = examples::demo::open_store(None).await?;
/// # let _ = stores.sessions;
/// # Ok::<_, anyhow::Error>(()) }).unwrap();
/// ```
pub async fn open_store(url: Option<&str>) -> anyhow::Result<Stores> {
    Ok(match url {
        None => Stores::of(SqliteStore::open_in_memory().await?),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Stores::of(PostgresStore::connect(url).await?)
        }
        Some(url) if url.starts_with("sqlite:") => Stores::of(SqliteStore::connect(url).await?),
        Some(path) => Stores::of(SqliteStore::open(path).await?),
    })
}

//! The demo's session store: SQLite (a file or in memory) or Postgres, by URL.

use std::sync::Arc;

use agent_core::SessionStore;
use agent_memory::{PostgresStore, SqliteStore};

/// Opens the session store `url` names: `postgres://…` / `postgresql://…`
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
/// let store = examples::demo::open_store(None).await?;
/// # let _ = store;
/// # Ok::<_, anyhow::Error>(()) }).unwrap();
/// ```
pub async fn open_store(url: Option<&str>) -> anyhow::Result<Arc<dyn SessionStore>> {
    Ok(match url {
        None => Arc::new(SqliteStore::open_in_memory().await?),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Arc::new(PostgresStore::connect(url).await?)
        }
        Some(url) if url.starts_with("sqlite:") => Arc::new(SqliteStore::connect(url).await?),
        Some(path) => Arc::new(SqliteStore::open(path).await?),
    })
}

//! The store conformance suite against `SqliteStore` on a temporary file,
//! plus SQLite-only checks (migrations, options).

#![allow(clippy::unwrap_used)]

mod conformance;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agent_core::StoreError;
use agent_memory::{SCHEMA_VERSION, SqliteOptions, SqliteStore};
use conformance::Stores;

fn open(path: PathBuf, guard: Option<Arc<tempfile::TempDir>>) -> conformance::BoxFuture<Result<Stores, StoreError>> {
    Box::pin(async move {
        let store = SqliteStore::open(&path).await?;
        let pool = store.pool().clone();
        let reopen_guard = guard.clone();
        Ok(Stores {
            sessions: Arc::new(store.clone()),
            memories: Arc::new(store),
            raw: Some(Arc::new(move |sql: String| {
                let pool = pool.clone();
                Box::pin(async move {
                    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await.unwrap();
                })
            })),
            reopen: Some(Arc::new(move || open(path.clone(), reopen_guard.clone()))),
            guard: guard.map(|dir| Box::new(dir) as Box<dyn std::any::Any + Send + Sync>),
        })
    })
}

async fn stores() -> Option<Stores> {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    Some(open(dir.path().join("agent.db"), Some(dir)).await.unwrap())
}

all_backend_tests!(stores);
sql_backend_tests!(stores);

fn db_path(dir: &Path) -> PathBuf {
    dir.join("agent.db")
}

#[tokio::test]
async fn migrations_run_once_and_record_the_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(db_path(dir.path())).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
    assert_eq!(store.migrate().await.unwrap(), 0, "nothing left to apply");
    let reopened = SqliteStore::open(db_path(dir.path())).await.unwrap();
    assert_eq!(reopened.schema_version().await.unwrap(), SCHEMA_VERSION);
}

#[tokio::test]
async fn migration_can_be_deferred_and_run_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions::file(db_path(dir.path())).migrate(false);
    let store = SqliteStore::open_with(options).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), 0);
    assert_eq!(store.migrate().await.unwrap(), SCHEMA_VERSION as usize);
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
}

#[tokio::test]
async fn deferred_migration_still_refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(db_path(dir.path())).await.unwrap();
    sqlx::query("INSERT INTO agent_schema_version (version, description, applied_at) VALUES (7, 'future', 0)")
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
    let options = SqliteOptions::file(db_path(dir.path())).migrate(false);
    let err = SqliteStore::open_with(options).await.unwrap_err();
    assert!(matches!(err, StoreError::SchemaTooNew { found: 7, .. }), "{err}");
    assert!(err.to_string().contains("upgrade"), "the message says what to do: {err}");
}

#[tokio::test]
async fn opens_by_url_and_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", db_path(dir.path()).display());
    let store = SqliteStore::connect(&url).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
    let memory = SqliteStore::open_in_memory().await.unwrap();
    assert_eq!(memory.schema_version().await.unwrap(), SCHEMA_VERSION);
    assert!(matches!(SqliteStore::connect("postgres://nope").await, Err(StoreError::Invalid(_))));
}

#[tokio::test]
async fn runs_in_wal_mode_with_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(db_path(dir.path())).await.unwrap();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(store.pool()).await.unwrap();
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(store.pool()).await.unwrap();
    let busy_timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(store.pool()).await.unwrap();
    assert_eq!((journal.as_str(), foreign_keys, busy_timeout), ("wal", 1, 5000));
}

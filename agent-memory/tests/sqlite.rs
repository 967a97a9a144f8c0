//! The store conformance suite against `SqliteStore` on a temporary file,
//! plus SQLite-only checks (migrations, options).

#![allow(clippy::unwrap_used)]

mod conformance;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use agent_core::{RunStatus, SessionStore, StoreError};
use agent_memory::{SCHEMA_VERSION, SqliteOptions, SqliteStore};
use conformance::Stores;

fn open(path: PathBuf, guard: Option<Arc<tempfile::TempDir>>) -> conformance::BoxFuture<Result<Stores, StoreError>> {
    Box::pin(async move {
        let store = SqliteStore::open(&path).await?;
        let pool = store.pool().clone();
        let reopen_guard = guard.clone();
        Ok(Stores {
            sessions: Arc::new(store.clone()),
            memories: Arc::new(store.clone()),
            evals: Arc::new(store),
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

async fn trace_stores() -> Option<conformance::traces::TraceStores> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("traces.db")).await.unwrap();
    Some(conformance::traces::TraceStores { store: Arc::new(store), guard: Some(Box::new(dir)) })
}

trace_backend_tests!(trace_stores);

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

/// The tables version 1 of the schema made, with one session and a run left running.
const VERSION_1: &[&str] = &[
    "CREATE TABLE agent_schema_version (version INTEGER PRIMARY KEY NOT NULL, description TEXT NOT NULL, \
     applied_at INTEGER NOT NULL)",
    "INSERT INTO agent_schema_version VALUES (1, 'sessions, runs and user memories', 0)",
    "CREATE TABLE agent_sessions (session_id TEXT PRIMARY KEY NOT NULL, session_type TEXT NOT NULL, \
     component_id TEXT, user_id TEXT, session_name TEXT, session_state TEXT NOT NULL DEFAULT '{}', summary TEXT, \
     metrics TEXT NOT NULL DEFAULT 'null', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)",
    "CREATE TABLE agent_runs (seq INTEGER PRIMARY KEY, session_id TEXT NOT NULL REFERENCES agent_sessions \
     (session_id) ON DELETE CASCADE, run_id TEXT NOT NULL, parent_run_id TEXT, component_id TEXT, user_id TEXT, \
     status TEXT NOT NULL, input TEXT NOT NULL, output TEXT, messages TEXT NOT NULL, events TEXT NOT NULL \
     DEFAULT '[]', metrics TEXT NOT NULL DEFAULT 'null', paused TEXT, error TEXT, created_at INTEGER NOT NULL, \
     updated_at INTEGER NOT NULL, UNIQUE (session_id, run_id))",
    "CREATE TABLE agent_memories (memory_id TEXT PRIMARY KEY NOT NULL, memory TEXT NOT NULL, topics TEXT NOT NULL \
     DEFAULT '[]', user_id TEXT, agent_id TEXT, team_id TEXT, input TEXT, created_at INTEGER NOT NULL, \
     updated_at INTEGER NOT NULL)",
    r#"INSERT INTO agent_sessions VALUES ('old', 'agent', NULL, 'ana', 'Old chat', '{"count": 3}', NULL, 'null', 1, 2)"#,
    r#"INSERT INTO agent_runs (session_id, run_id, status, input, messages, created_at, updated_at)
       VALUES ('old', 'r-old', 'running', 'hi', '{"version": 1, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}', 1, 2)"#,
];

#[tokio::test]
async fn a_version_1_database_is_migrated_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(db_path(dir.path())).create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    for statement in VERSION_1 {
        sqlx::query(*statement).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let store = SqliteStore::open(db_path(dir.path())).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
    let session = store.session("old").await.unwrap().unwrap();
    assert_eq!((session.session_name.as_deref(), session.state["count"].as_i64()), (Some("Old chat"), Some(3)));
    let run = store.find_run("r-old").await.unwrap().unwrap();
    assert_eq!((run.status, run.messages.len()), (RunStatus::Running, 1));
    assert!(store.request_cancel("r-old").await.unwrap(), "old runs take cancel requests");
    store.wait_cancel("r-old").await.unwrap();
    assert!(store.acquire_lease("old", "new process", Duration::from_secs(60)).await.unwrap());
    assert_eq!(store.fail_abandoned_runs().await.unwrap(), 0, "the session is leased again");
    assert!(store.release_lease("old", "new process").await.unwrap());
    assert_eq!(store.fail_abandoned_runs().await.unwrap(), 1, "then its old running run is failed");
}

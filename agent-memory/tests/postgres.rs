//! The store conformance suite against `PostgresStore`, when
//! `AGENT_TEST_POSTGRES_URL` names a database; each test works in a schema
//! of its own, dropped at the end.

#![allow(clippy::unwrap_used)]

mod conformance;
mod postgres_env;

use std::sync::Arc;
use std::time::Duration;

use agent_core::{RunStatus, SessionStore, StoreError};
use agent_memory::{PostgresOptions, PostgresStore, SCHEMA_VERSION};
use conformance::Stores;

/// The database URL, or `None` (the test says it was skipped).
fn database_url() -> Option<String> {
    postgres_env::url()
}

/// Drops the test's schema when the test ends (also when it fails).
struct SchemaGuard {
    url: String,
    schema: String,
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // A fresh thread with its own runtime: the test's runtime may be shutting down.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let pool = sqlx::PgPool::connect(&url).await.unwrap();
                let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await.unwrap();
                pool.close().await;
            });
        })
        .join();
        if dropped.is_err() {
            eprintln!("could not drop test schema {}", self.schema);
        }
    }
}

fn options(url: &str, schema: &str) -> PostgresOptions {
    PostgresOptions::new(url).unwrap().schema(schema).unwrap().max_connections(8)
}

fn open(
    url: String,
    schema: String,
    guard: Option<Arc<SchemaGuard>>,
) -> conformance::BoxFuture<Result<Stores, StoreError>> {
    Box::pin(async move {
        let store = PostgresStore::connect_with(options(&url, &schema)).await?;
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
            reopen: Some(Arc::new(move || open(url.clone(), schema.clone(), reopen_guard.clone()))),
            guard: guard.map(|guard| Box::new(guard) as Box<dyn std::any::Any + Send + Sync>),
        })
    })
}

fn unique_schema() -> String {
    format!("agent_test_{}", uuid::Uuid::new_v4().simple())
}

async fn stores() -> Option<Stores> {
    let url = database_url()?;
    let schema = unique_schema();
    let guard = Arc::new(SchemaGuard { url: url.clone(), schema: schema.clone() });
    Some(open(url, schema, Some(guard)).await.unwrap())
}

all_backend_tests!(stores);
sql_backend_tests!(stores);

async fn trace_stores() -> Option<conformance::traces::TraceStores> {
    let url = database_url()?;
    let schema = unique_schema();
    let guard = SchemaGuard { url: url.clone(), schema: schema.clone() };
    let store = PostgresStore::connect_with(options(&url, &schema)).await.unwrap();
    Some(conformance::traces::TraceStores { store: Arc::new(store), guard: Some(Box::new(guard)) })
}

trace_backend_tests!(trace_stores);

#[tokio::test]
async fn migrations_run_once_and_record_the_version() {
    let Some(url) = database_url() else { return };
    let schema = unique_schema();
    let _guard = SchemaGuard { url: url.clone(), schema: schema.clone() };
    let deferred = PostgresStore::connect_with(options(&url, &schema).migrate(false)).await.unwrap();
    assert_eq!(deferred.schema_version().await.unwrap(), 0);
    // Two processes starting together migrate once.
    let (first, second) = tokio::join!(
        PostgresStore::connect_with(options(&url, &schema)),
        PostgresStore::connect_with(options(&url, &schema))
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.schema_version().await.unwrap(), SCHEMA_VERSION);
    assert_eq!(second.migrate().await.unwrap(), 0);
    first.close().await;
    second.close().await;
    deferred.close().await;
}

#[tokio::test]
async fn rejects_a_bad_schema_name() {
    let err = PostgresOptions::new("postgres://localhost/db").unwrap().schema("x\"; DROP TABLE y").unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
}

/// The tables version 1 of the schema made, with one session and a run left running.
const VERSION_1: &[&str] = &[
    "CREATE TABLE agent_schema_version (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
     applied_at BIGINT NOT NULL)",
    "INSERT INTO agent_schema_version VALUES (1, 'sessions, runs and user memories', 0)",
    "CREATE TABLE agent_sessions (session_id TEXT PRIMARY KEY, session_type TEXT NOT NULL, component_id TEXT, \
     user_id TEXT, session_name TEXT, session_state JSONB NOT NULL DEFAULT '{}', summary JSONB, \
     metrics JSONB NOT NULL DEFAULT 'null', created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE TABLE agent_runs (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, session_id TEXT NOT NULL \
     REFERENCES agent_sessions (session_id) ON DELETE CASCADE, run_id TEXT NOT NULL, parent_run_id TEXT, \
     component_id TEXT, user_id TEXT, status TEXT NOT NULL, input TEXT NOT NULL, output TEXT, \
     messages TEXT NOT NULL, events JSONB NOT NULL DEFAULT '[]', metrics JSONB NOT NULL DEFAULT 'null', \
     paused TEXT, error TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, UNIQUE (session_id, run_id))",
    "CREATE TABLE agent_memories (memory_id TEXT PRIMARY KEY, memory TEXT NOT NULL, topics JSONB NOT NULL \
     DEFAULT '[]', user_id TEXT, agent_id TEXT, team_id TEXT, input TEXT, created_at BIGINT NOT NULL, \
     updated_at BIGINT NOT NULL)",
    r#"INSERT INTO agent_sessions VALUES ('old', 'agent', NULL, 'ana', 'Old chat', '{"count": 3}', NULL, 'null', 1, 2)"#,
    r#"INSERT INTO agent_runs (session_id, run_id, status, input, messages, created_at, updated_at)
       VALUES ('old', 'r-old', 'running', 'hi', '{"version": 1, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}', 1, 2)"#,
];

#[tokio::test]
async fn a_version_1_database_is_migrated_in_place() {
    let Some(url) = database_url() else { return };
    let schema = unique_schema();
    let _guard = SchemaGuard { url: url.clone(), schema: schema.clone() };
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\""))).execute(&pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("SET search_path TO \"{schema}\""))).execute(&mut *conn).await.unwrap();
    for statement in VERSION_1 {
        sqlx::query(*statement).execute(&mut *conn).await.unwrap();
    }
    drop(conn);
    pool.close().await;

    let store = PostgresStore::connect_with(options(&url, &schema)).await.unwrap();
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
    store.close().await;
}

//! The store conformance suite against `PostgresStore`, when
//! `AGENT_TEST_POSTGRES_URL` names a database; each test works in a schema
//! of its own, dropped at the end.

#![allow(clippy::unwrap_used)]

mod conformance;

use std::io::Write;
use std::sync::{Arc, Once};

use agent_core::StoreError;
use agent_memory::{PostgresOptions, PostgresStore, SCHEMA_VERSION};
use conformance::Stores;

const URL_VARIABLE: &str = "AGENT_TEST_POSTGRES_URL";

/// The database URL, or `None` (saying so once per test binary).
fn database_url() -> Option<String> {
    static SKIPPED: Once = Once::new();
    let url = std::env::var(URL_VARIABLE).ok().filter(|url| !url.is_empty());
    if url.is_none() {
        // Straight to stdout: the test harness captures `println!`.
        SKIPPED.call_once(|| {
            let line = format!("postgres conformance skipped: {URL_VARIABLE} is not set\n");
            std::io::stdout().write_all(line.as_bytes()).ok();
        });
    }
    url
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
            memories: Arc::new(store),
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

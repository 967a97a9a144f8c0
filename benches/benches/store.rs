//! Store throughput: appending to and loading a 1,000-message session, and
//! searching 10,000 memories, on SQLite (a temporary file) and on Postgres
//! when `AGENT_TEST_POSTGRES_URL` is set.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use agent_core::memory::{MemoryQuery, MemoryStore, UserMemory};
use agent_core::{Message, RunRecord, RunStatus, Session, SessionStore, SessionType};
use agent_memory::{PostgresOptions, PostgresStore, SqliteStore};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// A store under test, with what its benchmarks need.
trait Backend: SessionStore + MemoryStore {}
impl<T: SessionStore + MemoryStore> Backend for T {}

const MESSAGES_PER_SESSION: usize = 1_000;
const MEMORIES: usize = 10_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// A run adding one exchange (two messages of about 300 bytes each).
fn run(session_id: &str, index: usize) -> RunRecord {
    let text = "The quick brown fox jumps over the lazy dog while the agent keeps its notes. ".repeat(4);
    RunRecord {
        run_id: format!("run-{index:05}"),
        session_id: session_id.to_owned(),
        status: RunStatus::Completed,
        input: format!("question {index}"),
        output: Some(format!("answer {index}")),
        messages: vec![Message::user(format!("{index}: {text}")), Message::assistant(format!("{index}: {text}"))],
        ..RunRecord::default()
    }
}

/// Appends 1,000 messages (500 runs) to `session_id`, one transaction per run.
async fn fill_session(store: &dyn SessionStore, session_id: &str) {
    let session = Session::new(session_id, SessionType::Agent);
    // `save_run` never creates a session: create it first.
    store.upsert_session(&session).await.expect("upsert_session");
    for index in 0..MESSAGES_PER_SESSION / 2 {
        store.save_run(&session, &run(session_id, index)).await.expect("save_run");
    }
}

async fn fill_memories(store: &dyn MemoryStore) {
    let subjects = ["coffee", "tea", "hiking", "piano", "Lisbon", "cats", "chess", "sushi", "running", "jazz"];
    for index in 0..MEMORIES {
        let subject = subjects[index % subjects.len()];
        let memory =
            UserMemory::new(format!("user-{}", index % 100), format!("User {index} mentioned {subject} often."))
                .with_topics([subject.to_lowercase()]);
        store.upsert_memory(&memory).await.expect("upsert_memory");
    }
}

fn bench_backend(c: &mut Criterion, name: &str, runtime: &tokio::runtime::Runtime, store: Arc<dyn Backend>) {
    let mut group = c.benchmark_group("store");
    group.sample_size(10);

    // Appending 1,000 messages to a fresh session, 500 runs of 2.
    let sessions = AtomicUsize::new(0);
    group.bench_function(BenchmarkId::new("append 1,000-message session", name), |b| {
        b.to_async(runtime).iter(|| async {
            let session_id = format!("append-{}", sessions.fetch_add(1, Ordering::Relaxed));
            fill_session(store.as_ref(), &session_id).await;
        })
    });

    // One more run on a session that already holds 1,000 messages.
    runtime.block_on(fill_session(store.as_ref(), "full"));
    let next = AtomicUsize::new(MESSAGES_PER_SESSION);
    let session = Session::new("full", SessionType::Agent);
    group.sample_size(50);
    group.bench_function(BenchmarkId::new("append one run to a 1,000-message session", name), |b| {
        b.to_async(runtime).iter(|| async {
            let index = next.fetch_add(1, Ordering::Relaxed);
            store.save_run(&session, &run("full", index)).await.expect("save_run");
        })
    });

    // Loading the whole history of a 1,000-message session.
    runtime.block_on(fill_session(store.as_ref(), "load"));
    group.bench_function(BenchmarkId::new("load 1,000-message session", name), |b| {
        b.to_async(runtime).iter(|| async {
            let runs = store.runs("load", None).await.expect("runs");
            assert_eq!(runs.len(), MESSAGES_PER_SESSION / 2);
        })
    });

    // Text search over 10,000 memories: all users, and one user.
    runtime.block_on(fill_memories(store.as_ref()));
    let everyone = MemoryQuery { search_content: Some("PIANO".into()), limit: Some(20), ..MemoryQuery::default() };
    group.bench_function(BenchmarkId::new("search 10,000 memories", name), |b| {
        b.to_async(runtime).iter(|| async {
            let page = store.list_memories(&everyone).await.expect("list_memories");
            assert_eq!(page.total, 1_000);
        })
    });
    let one_user = MemoryQuery { search_content: Some("piano".into()), ..MemoryQuery::user("user-3") };
    group.bench_function(BenchmarkId::new("search one user's memories among 10,000", name), |b| {
        b.to_async(runtime).iter(|| async {
            let page = store.list_memories(&one_user).await.expect("list_memories");
            assert_eq!(page.total, 100);
        })
    });
    group.finish();
}

fn sqlite(c: &mut Criterion) {
    let runtime = runtime();
    let dir = std::env::temp_dir().join(format!("agents-rs-store-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let store = runtime.block_on(SqliteStore::open(dir.join("bench.db"))).expect("open SQLite");
    bench_backend(c, "sqlite", &runtime, Arc::new(store.clone()));
    runtime.block_on(store.close());
    std::fs::remove_dir_all(&dir).ok();
}

fn postgres(c: &mut Criterion) {
    let Some(url) = std::env::var("AGENT_TEST_POSTGRES_URL").ok().filter(|url| !url.is_empty()) else {
        println!("postgres store benchmarks skipped: AGENT_TEST_POSTGRES_URL is not set");
        return;
    };
    let runtime = runtime();
    let schema = format!("agent_bench_{}", std::process::id());
    let options = PostgresOptions::new(&url).and_then(|options| options.schema(&schema)).expect("options");
    let store = runtime.block_on(PostgresStore::connect_with(options)).expect("connect to Postgres");
    bench_backend(c, "postgres", &runtime, Arc::new(store.clone()));
    runtime.block_on(async {
        let drop_schema = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        let drop_schema = agent_memory::sqlx::query(agent_memory::sqlx::AssertSqlSafe(drop_schema));
        drop_schema.execute(store.pool()).await.expect("drop the benchmark schema");
        store.close().await;
    });
}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);

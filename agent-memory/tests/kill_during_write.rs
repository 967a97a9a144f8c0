//! Kill-during-write: a child process writes runs to a store in a loop
//! (start, tool calls, results, save) and is killed with SIGKILL at varied
//! moments, many times; after each kill the store must decode every run, and
//! once `fail_abandoned_runs` has run, no run is left running and no tool
//! call is without its result. On SQLite (a file) and on Postgres (with
//! `AGENT_TEST_POSTGRES_URL`). `harness = false`: the same binary is the child.

mod postgres_env;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_core::{
    ContentBlock, Message, Role, RunRecord, RunStatus, Session, SessionStore, SessionType, ToolResultContent,
};
use agent_memory::{PostgresOptions, PostgresStore, SqliteStore};
use serde_json::json;

/// Set in the child: the store to write to (`sqlite:<path>` or `postgres:<schema>`).
const CHILD: &str = "AGENT_MEMORY_KILL_CHILD";
const KILLS: u64 = 25;
const SESSION: &str = "s-kill";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    let Ok(runtime) = runtime else { fail("cannot build a runtime") };
    match std::env::var(CHILD) {
        Ok(target) => runtime.block_on(child(&target)),
        Err(_) => runtime.block_on(parent()),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("kill_during_write: {message}");
    std::process::exit(1)
}

async fn open(target: &str) -> Arc<dyn SessionStore> {
    let opened: Result<Arc<dyn SessionStore>, agent_core::StoreError> = match target.split_once(':') {
        Some(("sqlite", path)) => SqliteStore::open(path).await.map(|store| Arc::new(store) as Arc<dyn SessionStore>),
        Some(("postgres", schema)) => {
            let url = std::env::var("AGENT_TEST_POSTGRES_URL").unwrap_or_default();
            match PostgresOptions::new(&url).and_then(|options| options.schema(schema)) {
                Ok(options) => PostgresStore::connect_with(options).await.map(|store| Arc::new(store) as _),
                Err(err) => Err(err),
            }
        }
        _ => fail(&format!("bad target {target}")),
    };
    opened.unwrap_or_else(|err| fail(&format!("cannot open {target}: {err}")))
}

/// A run as it stands after its model asked for two tools.
fn started(index: u64) -> RunRecord {
    let call =
        |id: &str| ContentBlock::ToolUse { id: format!("{id}-{index}"), name: "lookup".into(), input: json!({}) };
    RunRecord {
        run_id: format!("run-{}-{index}", std::process::id()),
        session_id: SESSION.into(),
        status: RunStatus::Running,
        input: format!("question {index}"),
        messages: vec![
            Message::user(format!("question {index}")),
            Message::new(Role::Assistant, vec![call("a"), call("b")]),
        ],
        ..RunRecord::default()
    }
}

/// Writes runs forever; the parent kills it.
async fn child(target: &str) {
    let store = open(target).await;
    let holder = format!("child-{}", std::process::id());
    for index in 0.. {
        // A zero TTL stands for a lease whose holder is long dead by the time anyone looks.
        if let Err(err) = store.acquire_lease(SESSION, &holder, Duration::ZERO).await {
            fail(&format!("lease: {err}"));
        }
        let mut session = match store.session(SESSION).await {
            Ok(session) => session.unwrap_or_else(|| Session::new(SESSION, SessionType::Agent)),
            Err(err) => fail(&format!("load: {err}")),
        };
        let mut run = started(index);
        if let Err(err) = store.start_run(&session, &run).await {
            fail(&format!("start: {err}"));
        }
        let result = |id: &str| {
            ContentBlock::tool_result(format!("{id}-{index}"), ToolResultContent::Text("found".into()), false)
        };
        run.messages.push(Message::new(Role::User, vec![result("a"), result("b")]));
        run.messages.push(Message::assistant(format!("answer {index}")));
        run.status = RunStatus::Completed;
        session.state.insert("runs".into(), json!(index + 1));
        if let Err(err) = store.save_run(&session, &run).await {
            fail(&format!("save: {err}"));
        }
        store.release_lease(SESSION, &holder).await.ok();
    }
}

/// What the store holds after a kill.
struct Check {
    runs: usize,
    abandoned: u64,
}

async fn check(store: &dyn SessionStore, raw_count: i64) -> Check {
    let abandoned =
        store.fail_abandoned_runs().await.unwrap_or_else(|err| fail(&format!("fail_abandoned_runs: {err}")));
    let runs = store.runs(SESSION, None).await.unwrap_or_else(|err| fail(&format!("runs: {err}")));
    if i64::try_from(runs.len()).ok() != Some(raw_count) {
        fail(&format!("{raw_count} rows but {} runs decode", runs.len()));
    }
    for run in &runs {
        if run.status == RunStatus::Running {
            fail(&format!("{} is still running", run.run_id));
        }
        if run.clone().close_open_tool_calls("probe") != 0 {
            fail(&format!("{} has tool calls without results", run.run_id));
        }
    }
    Check { runs: runs.len(), abandoned }
}

async fn kill_loop(name: &str, target: &str, count: impl AsyncFn() -> i64) {
    let store = open(target).await;
    let Ok(exe) = std::env::current_exe() else { fail("no current exe") };
    let (mut abandoned, mut runs) = (0, 0);
    for kill in 0..KILLS {
        let mut child = Command::new(&exe)
            .env(CHILD, target)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| fail(&format!("spawn: {err}")));
        // Wait (bounded) until it writes, then a varied while more, then kill it.
        let before = count().await;
        let deadline = Instant::now() + Duration::from_secs(30);
        while count().await <= before {
            if Instant::now() > deadline {
                fail("the child wrote nothing in 30 s");
            }
            if let Ok(Some(status)) = child.try_wait() {
                fail(&format!("the child exited: {status}"));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis((kill * 37) % 100)).await;
        child.kill().unwrap_or_else(|err| fail(&format!("kill: {err}")));
        child.wait().ok();
        let found = check(&*store, count().await).await;
        abandoned += found.abandoned;
        runs = found.runs;
    }
    println!(
        "{name}: {KILLS} kills, {runs} runs stored, {abandoned} runs left running by a killed writer failed, \
         0 tool calls without results"
    );
}

async fn parent() {
    let dir = tempfile::tempdir().unwrap_or_else(|err| fail(&format!("tempdir: {err}")));
    let path = dir.path().join("kill.db");
    let target = format!("sqlite:{}", path.display());
    let sqlite = SqliteStore::open(&path).await.unwrap_or_else(|err| fail(&format!("open: {err}")));
    let pool = sqlite.pool().clone();
    kill_loop("sqlite", &target, async || {
        sqlx::query_scalar("SELECT COUNT(*) FROM agent_runs").fetch_one(&pool).await.unwrap_or(-1)
    })
    .await;

    // Without the URL: one line, or a panic (exit 101) when CI requires Postgres.
    let Some(url) = postgres_env::url_for("kill_during_write (postgres)") else { return };
    let schema = format!("agent_kill_{}", std::process::id());
    let options = PostgresOptions::new(&url).and_then(|options| options.schema(&schema));
    let postgres = match options {
        Ok(options) => {
            PostgresStore::connect_with(options).await.unwrap_or_else(|err| fail(&format!("connect: {err}")))
        }
        Err(err) => fail(&format!("options: {err}")),
    };
    let pool = postgres.pool().clone();
    kill_loop("postgres", &format!("postgres:{schema}"), async || {
        sqlx::query_scalar("SELECT COUNT(*) FROM agent_runs").fetch_one(&pool).await.unwrap_or(-1)
    })
    .await;
    let drop_schema = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    sqlx::query(sqlx::AssertSqlSafe(drop_schema)).execute(postgres.pool()).await.ok();
    postgres.close().await;
}

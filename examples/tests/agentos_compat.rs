//! The real Python AgentOS client against the demo AgentOS: `agent-os/compat/compat.py` drives every run,
//! discovery, memory, session and knowledge method of `agno.client.AgentOSClient` (agno 3.1.10) against the demo set,
//! served by `agent-os` on the real Claude client pointed at the strict fake Messages API with the demo brain
//! (models a request names, `anthropic:<model-id>`, too); `a2a_compat.py` drives the A2A routes with the
//! official A2A client.
//!
//! Runs when `AGENT_OS_COMPAT_PYTHON` names an interpreter with the pinned client
//! (`agent-os/compat/setup.sh VENV_DIR` prints it); CI sets it, and `AGENT_OS_REQUIRE_COMPAT=1`, which
//! makes a missing interpreter a failure. Without them the test says it is skipped.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use agent_core::Model;
use examples::demo;

/// How long the whole script may take (a few hundred calls, each answered in milliseconds: about 4 s in all).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// The security key the server requires and the script sends.
const SECURITY_KEY: &str = "compat-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_agentos_client_drives_the_demo_os() {
    let Some(python) = std::env::var_os("AGENT_OS_COMPAT_PYTHON").filter(|python| !python.is_empty()) else {
        assert!(
            std::env::var("AGENT_OS_REQUIRE_COMPAT").as_deref() != Ok("1"),
            "AGENT_OS_REQUIRE_COMPAT=1 but AGENT_OS_COMPAT_PYTHON is not set"
        );
        println!("skipped: AGENT_OS_COMPAT_PYTHON is not set (agent-os/compat/setup.sh VENV_DIR prints one)");
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../agent-os/compat/compat.py");

    let fake = demo::messages_api::start_fake("127.0.0.1:0").await.unwrap();
    let claude: Arc<dyn Model> = Arc::new(fake.builder().model("claude-sonnet-4-5").build().unwrap());
    // A database file, as a deployment would use.
    let database = std::env::temp_dir().join(format!("agentos-compat-{}.db", std::process::id()));
    remove_database(&database);
    let stores = demo::open_store(Some(&database.display().to_string())).await.unwrap();
    // Traces of every run go to the same database, for the trace methods.
    let traces = agent_memory::TraceLayer::spawn(stores.traces.clone());
    tracing::subscriber::set_global_default(tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::registry(),
        traces,
    ))
    .unwrap();
    let fake_url = fake.url().to_owned();
    // `anthropic:<model-id>` in a request (optimize-memories) is Claude with that id, on the fake too.
    let demo = demo::build(move |_| claude.clone(), stores).await.unwrap().with_claude(move |model_id| {
        let claude = agent_claude::Claude::builder().api_key("sk-ant-fake").base_url(&fake_url).env_lookup(|_| None);
        let claude = claude.model(model_id).build().map_err(|err| err.to_string())?;
        Ok(Arc::new(claude) as Arc<dyn Model>)
    });
    let os = demo.os_builder().security_key(Some(SECURITY_KEY.into())).build().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(os.serve(listener, async {
        stopped.await.ok();
    }));

    let run = |script: &Path, args: Vec<String>| {
        tokio::process::Command::new(&python)
            .arg(script)
            .args(args)
            .env("AGENT_OS_SECURITY_KEY", SECURITY_KEY)
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", Path::new(&python).display()))
    };
    let child = run(&script, vec![url.clone(), "--keep-going".into()]);
    let finished = tokio::time::timeout(SCRIPT_TIMEOUT, child.wait_with_output()).await;
    // The A2A routes, through the official A2A client.
    let a2a_script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../agent-os/compat/a2a_compat.py");
    let a2a = run(&a2a_script, vec![url.clone(), SECURITY_KEY.into()]);
    let a2a_finished = tokio::time::timeout(SCRIPT_TIMEOUT, a2a.wait_with_output()).await;
    stop.send(()).ok();
    server.await.unwrap().unwrap();
    remove_database(&database);

    let a2a_output = match a2a_finished {
        Ok(output) => output.unwrap(),
        Err(_) => panic!("a2a_compat.py did not finish within {SCRIPT_TIMEOUT:?}"),
    };
    let a2a_stdout = String::from_utf8_lossy(&a2a_output.stdout);
    let a2a_stderr = String::from_utf8_lossy(&a2a_output.stderr);
    assert!(
        a2a_output.status.success(),
        "a2a_compat.py failed ({}):\n{a2a_stdout}\n--- stderr ---\n{a2a_stderr}",
        a2a_output.status
    );
    println!("{a2a_stdout}");
    let output = match finished {
        Ok(output) => output.unwrap(),
        Err(_) => panic!("compat.py did not finish within {SCRIPT_TIMEOUT:?}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "compat.py failed ({}):\n{stdout}\n--- stderr ---\n{stderr}", output.status);
    println!("{stdout}");
    let refused: Vec<String> = fake.requests().into_iter().filter_map(|request| request.rejection).collect();
    assert!(refused.is_empty(), "the fake Messages API refused requests: {refused:#?}");
}

/// Removes a SQLite database and its WAL files, if present.
fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        std::fs::remove_file(file).ok();
    }
}

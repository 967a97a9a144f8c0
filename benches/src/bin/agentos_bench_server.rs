//! Our AgentOS bench server: agents `instant` and `timer` served by `agent_os` on a loopback port,
//! for `benches/agentos_compare.sh` (Agno's twin is `benches/agno/agno_server.py`).
//!
//! `instant` is a [`TestModel`] answering at once with a short text; `timer`
//! sleeps (tokio time, `--timer-secs`, 120 s by default) before the same
//! answer. No store unless `--sqlite PATH` is given. Stops on SIGINT or SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use agent_core::testing::{TestModel, text_response};
use agent_core::{Agent, Model, ModelError, ModelRequest, ModelResponse, SessionStore};
use async_trait::async_trait;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

/// The text both agents answer with (the same as Agno's bench model).
const ANSWER: &str = "Hello from the bench model.";

const USAGE: &str = "usage: agentos_bench_server [--port PORT] [--timer-secs S] [--sqlite PATH]";

/// A model that answers after a fixed wait, without blocking a thread.
struct TimerModel {
    delay: Duration,
}

#[async_trait]
impl Model for TimerModel {
    fn id(&self) -> &str {
        "bench"
    }

    fn provider(&self) -> &str {
        "bench"
    }

    async fn request(&self, _request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        tokio::time::sleep(self.delay).await;
        Ok(text_response(ANSWER))
    }
}

struct Options {
    port: u16,
    timer: Duration,
    sqlite: Option<String>,
}

fn options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options { port: 7781, timer: Duration::from_secs(120), sqlite: None };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--port" => options.port = value.parse().map_err(|_| format!("bad port {value}"))?,
            "--timer-secs" => {
                options.timer = Duration::from_secs(value.parse().map_err(|_| format!("bad seconds {value}"))?);
            }
            "--sqlite" => options.sqlite = Some(value),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("{error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("agentos_bench_server: runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("agentos_bench_server: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(options: Options) -> Result<(), Box<dyn std::error::Error>> {
    let store: Option<Arc<dyn SessionStore>> = match &options.sqlite {
        Some(path) => Some(Arc::new(agent_memory::SqliteStore::open(path).await?)),
        None => None,
    };
    let mut instant = Agent::builder(TestModel::new().answer(ANSWER)).id("instant").name("instant");
    let mut timer = Agent::builder(TimerModel { delay: options.timer }).id("timer").name("timer");
    if let Some(store) = &store {
        instant = instant.store(Arc::clone(store));
        timer = timer.store(Arc::clone(store));
    }
    let mut os = agent_os::AgentOs::builder().id("bench-os").agent(instant.build()?).agent(timer.build()?);
    if let Some(store) = store {
        os = os.store(store);
    }
    // Stopped between rounds with streams already closed: nothing in flight needs the grace.
    let os = os.shutdown_grace(Duration::from_secs(1)).build()?;
    let listener = TcpListener::bind(("127.0.0.1", options.port)).await?;
    let mut terminate = signal(SignalKind::terminate())?;
    let shutdown = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    };
    os.serve(listener, shutdown).await?;
    Ok(())
}

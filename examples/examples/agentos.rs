//! The demo AgentOS: weather, approval and writer agents, a team and two
//! workflows served over the AgentOS HTTP API, for the Python
//! `agno.client.AgentOSClient` or any AgentOS UI.
//!
//! Runs on Claude when ANTHROPIC_API_KEY is set (honouring
//! ANTHROPIC_BASE_URL: point it at `cargo run --example fake_messages_api`
//! to use the real client without a key), on the offline demo brain
//! otherwise, and says which. Sessions and user memories go to an embedded SQLite file
//! (`--db PATH`, default `agentos.db`) or to Postgres (`--db postgres://…`
//! or DATABASE_URL), so several server processes can share one database.
//! OS_SECURITY_KEY, when set, is required as a bearer token on every route
//! but `/health`.
//!
//! ```text
//! cargo run --example agentos -- --port 7777 --db agentos.db
//! ```

use std::sync::Arc;

use anyhow::Context;

const USAGE: &str = "usage: agentos [--port N] [--host ADDRESS] [--db PATH|URL]";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut port, mut host) = (7777_u16, "127.0.0.1".to_owned());
    let mut database = std::env::var("DATABASE_URL").ok().filter(|url| !url.is_empty());
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value ({USAGE})"));
        match arg.as_str() {
            "--port" => {
                let text = value("--port")?;
                port = text.parse().with_context(|| format!("--port: `{text}` is not a port number"))?;
            }
            "--host" => host = value("--host")?,
            "--db" => database = Some(value("--db")?),
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument `{other}` ({USAGE})"),
        }
    }
    let model = examples::demo::model_from_env()?;
    let database = database.unwrap_or_else(|| "agentos.db".to_owned());
    let store = examples::demo::open_store(Some(&database)).await?;
    // Runs are traced into the same database (`/traces`).
    let traces = agent_memory::TraceLayer::spawn(store.traces.clone());
    tracing::subscriber::set_global_default(tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::registry(),
        traces,
    ))?;
    eprintln!("[sessions in {}]", if database.starts_with("postgres") { "Postgres" } else { database.as_str() });
    let demo = examples::demo::build(move |_| Arc::clone(&model), store).await?;
    let os = demo.os_builder().security_key_from_env().build()?;
    println!("AgentOS on http://{host}:{port} (OpenAPI at /openapi.json)");
    os.run((host.as_str(), port)).await.with_context(|| format!("serving on {host}:{port}"))?;
    Ok(())
}

//! The demo AgentOS: weather, approval and writer agents, a team and two
//! workflows served over the AgentOS HTTP API, for the Python
//! `agno.client.AgentOSClient` or any AgentOS UI. Runs on Claude when
//! ANTHROPIC_API_KEY is set (point ANTHROPIC_BASE_URL at `cargo run
//! --example fake_messages_api` to use the real client without a key), on
//! the offline demo brain otherwise. Sessions go to the database
//! DATABASE_URL names (`sqlite:…`, a file path, or `postgres://…`), by
//! default to `agentos-demo.db` in the temporary directory. OS_SECURITY_KEY, when set, is required as a bearer token.
//!
//! ```text
//! cargo run --example agentos_demo -- --port 7777
//! ```

use std::sync::Arc;

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut port = 7777_u16;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().context("--port needs a value")?;
                port = value.parse().with_context(|| format!("--port: `{value}` is not a port number"))?;
            }
            other => anyhow::bail!("unknown argument `{other}` (usage: agentos_demo [--port N])"),
        }
    }
    let model = examples::demo::model_from_env()?;
    let database = std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| std::env::temp_dir().join("agentos-demo.db").display().to_string());
    eprintln!("[sessions in {database}]");
    let store = examples::demo::open_store(Some(&database)).await?;
    let demo = examples::demo::build(move |_| Arc::clone(&model), store).await?;
    let os = demo.os_builder().security_key_from_env().build()?;
    println!("http://127.0.0.1:{port}");
    os.run(("127.0.0.1", port)).await.with_context(|| format!("serving on 127.0.0.1:{port}"))?;
    Ok(())
}

//! The strict fake Messages API, answering with the demo brain, as a
//! standalone server: point any Claude client at it to run agents without a
//! key or network.
//!
//! ```text
//! cargo run --example fake_messages_api -- --port 8090
//! ANTHROPIC_BASE_URL=http://127.0.0.1:8090 ANTHROPIC_API_KEY=sk-ant-fake cargo run --example quickstart
//! ```

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut port = 8090_u16;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().context("--port needs a value")?;
                port = value.parse().with_context(|| format!("--port: `{value}` is not a port number"))?;
            }
            other => anyhow::bail!("unknown argument `{other}` (usage: fake_messages_api [--port N])"),
        }
    }
    let fake = examples::demo::messages_api::start_fake(&format!("127.0.0.1:{port}"))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    println!("{}", fake.url());
    eprintln!("[the strict fake Messages API answers with the demo brain; any API key works; Ctrl-C stops it]");
    std::future::pending::<()>().await;
    Ok(())
}

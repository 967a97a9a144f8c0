//! Streaming: print Claude's reply as it arrives, through the `Model` trait directly.
//!
//! Needs `ANTHROPIC_API_KEY` (or `ANTHROPIC_AUTH_TOKEN`); honours
//! `ANTHROPIC_BASE_URL`, so it runs unchanged against any server speaking the
//! Messages API, and `ANTHROPIC_MODEL` to pick another model than
//! `claude-opus-4-8`. Without credentials it says so and exits successfully.
//!
//! ```text
//! cargo run -p examples --example streaming -- "Write a haiku about borrow checking"
//! ```

use std::io::Write;

use agent_claude::Claude;
use agent_core::{Message, Model, ModelEvent, ModelRequest, StopReason};
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let has_credentials = ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()));
    if !has_credentials {
        println!("This example talks to Claude: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) and run it again.");
        return Ok(());
    }
    let mut builder = Claude::builder();
    if let Ok(model) = std::env::var("ANTHROPIC_MODEL") {
        builder = builder.model(model);
    }
    let claude = builder.build()?;

    let prompt: Vec<String> = std::env::args().skip(1).collect();
    let prompt =
        if prompt.is_empty() { "Write a haiku about Rust's borrow checker.".to_owned() } else { prompt.join(" ") };
    let request = ModelRequest { messages: vec![Message::user(prompt)], max_tokens: Some(4096), ..Default::default() };

    eprintln!("[streaming from {}]", claude.id());
    let mut stream = claude.stream(&request).await?;
    let mut stdout = std::io::stdout();
    while let Some(event) = stream.next().await {
        match event? {
            ModelEvent::TextDelta { text, .. } => {
                write!(stdout, "{text}")?;
                stdout.flush()?;
            }
            ModelEvent::Completed(response) => {
                writeln!(stdout)?;
                if let StopReason::Refusal { details } = &response.stop_reason {
                    let category = details.as_ref().and_then(|details| details.category.clone());
                    eprintln!("[the model declined: {}]", category.unwrap_or_else(|| "no category".into()));
                }
                let usage = response.usage;
                eprintln!(
                    "[{} | stop: {:?} | input {} (cache read {}, written {}), output {} tokens]",
                    response.model,
                    response.stop_reason,
                    usage.input_tokens,
                    usage.cache_read_input_tokens,
                    usage.cache_creation_input_tokens,
                    usage.output_tokens
                );
            }
            _ => {}
        }
    }
    Ok(())
}

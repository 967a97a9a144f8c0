//! Measures how long a dead server (accepts connections, never answers) holds a request and a stream with the default limits.
//!
//! Run with `cargo run -p agent-claude --example dead_server` (it takes about
//! 13 minutes: the defaults are what is measured). It prints the time each
//! call took to fail and the error it failed with.

use std::time::Instant;

use agent_claude::Claude;
use agent_core::{Message, Model, ModelRequest};
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    // Accept every connection and keep it open without reading or writing.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let claude = Claude::builder().api_key("sk-ant-dead").base_url(&url).env_lookup(|_| None).build()?;
    let request = ModelRequest { messages: vec![Message::user("Hello")], ..Default::default() };

    let started = Instant::now();
    let outcome = match claude.stream(&request).await {
        Err(err) => Err(err),
        Ok(mut stream) => loop {
            match stream.next().await {
                Some(Ok(_)) => continue,
                Some(Err(err)) => break Err(err),
                None => break Ok(()),
            }
        },
    };
    println!("stream:        {:>7.1} s  {outcome:?}", started.elapsed().as_secs_f64());

    let started = Instant::now();
    let outcome = claude.request(&request).await.map(|_| ());
    println!("whole request: {:>7.1} s  {outcome:?}", started.elapsed().as_secs_f64());
    Ok(())
}

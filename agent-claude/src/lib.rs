//! Claude for `agent-core`: the Messages API as a [`Model`](agent_core::Model), over `reqwest`.
//!
//! [`Claude`] sends whole and streamed messages with retries, enforces the
//! rules of the API before a request leaves (no assistant prefill on the
//! 4.6+ family, no sampling parameters or `budget_tokens` where they 400, no
//! explicit disabled thinking on Fable 5, structured-output schemas in the
//! subset the API takes, ...), turns refusals into a typed stop reason, and
//! can fall back to other models on a refusal, server-side or client-side.
//! It is the only crate that knows the Messages API JSON; its wire types
//! stay private.
//!
//! ```no_run
//! use agent_claude::Claude;
//! use agent_core::{Message, Model, ModelRequest};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let claude = Claude::from_env()?; // ANTHROPIC_API_KEY, claude-opus-4-8
//! let request = ModelRequest { messages: vec![Message::user("Hello")], ..Default::default() };
//! let response = claude.request(&request).await?;
//! println!("{:?}", response.content);
//! # Ok(()) }
//! ```
//!
//! # Time limits and the worst case
//!
//! Every wait is bounded. With the defaults, a server that accepts the
//! connection and never answers fails a whole request after one 10-minute
//! attempt (a timed-out attempt is not retried once the request has spent
//! its `timeout`; measured: 600.0 s), and a stream after three 60-second
//! first-byte timeouts and the backoff between them (measured: 181.2 s;
//! `examples/dead_server.rs` repeats the measurement). A stream kept open
//! by pings alone ends at the total timeout (60 minutes), the worst case of
//! any request with the defaults. See
//! [`ClaudeBuilder::timeout`], [`ClaudeBuilder::first_byte_timeout`],
//! [`ClaudeBuilder::stream_idle_timeout`] and [`ClaudeBuilder::total_timeout`].
//!
//! # Testing without a key
//!
//! The `fake` feature adds `agent_claude::fake`: a loopback Messages API as
//! strict as the API reference, scripted with replies and faults, recording
//! the requests it received.

pub mod betas;
pub mod catalog;
mod client;
mod config;
mod endpoints;
mod error;
#[cfg(feature = "fake")]
pub mod fake;
mod fallback;
mod memory_tool;
mod options;
mod rules;
mod schema;
mod settings;
mod sse;
mod state;
mod stream;
mod system;
mod transport;
mod wire;

pub use catalog::{Effort, ModelCapabilities};
pub use client::Claude;
pub use config::{ClaudeBuilder, DEFAULT_BASE_URL, EnvLookup};
pub use endpoints::{ModelInfo, TokenCount};
pub use error::{Error, Result};
pub use memory_tool::MemoryTool;
pub use options::OPTION_KEYS;
pub use settings::{CacheTtl, Thinking, ThinkingDisplay};
pub use state::{Container, context_management};
pub use system::system_message;
pub use transport::ANTHROPIC_VERSION;
pub use transport::retry::Sleeper;

/// The SSE decoder and stream accumulator, for the benchmarks. Not public API.
#[doc(hidden)]
pub mod __bench {
    pub use crate::sse::{SseDecoder, SseError, SseEvent};

    /// Decodes a recorded stream in chunks of `chunk_size` bytes, through the
    /// accumulator; returns the number of SSE events and of content blocks.
    ///
    /// # Errors
    ///
    /// A decode or stream error, as the client would report it.
    pub fn decode_stream(bytes: &[u8], chunk_size: usize) -> crate::Result<(usize, usize)> {
        let (events, decoded) = crate::stream::decode_recorded(bytes, chunk_size)?;
        Ok((events, decoded.response.content.len()))
    }
}

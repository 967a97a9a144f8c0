//! Claude for `agent-core`: the Messages API as a [`Model`](agent_core::Model), over `reqwest`.
//!
//! [`Claude`] sends whole and streamed messages with retries, enforces the
//! rules of the API before a request leaves (no assistant prefill on the
//! 4.6+ family, no sampling parameters or `budget_tokens` where they 400, no
//! explicit disabled thinking on Fable 5, ...), turns refusals into a typed
//! stop reason, and can fall back to other models on a refusal, server-side
//! or client-side. It is the only crate that knows the Messages API JSON; its
//! wire types stay private.
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

mod attempt;
pub mod betas;
pub mod catalog;
mod client;
mod config;
mod endpoints;
mod error;
mod fallback;
mod memory_tool;
mod options;
mod retry;
mod rules;
mod settings;
mod sse;
mod stream;
mod wire;

pub use catalog::{Effort, ModelCapabilities};
pub use client::{ANTHROPIC_VERSION, Claude};
pub use config::{ClaudeBuilder, DEFAULT_BASE_URL, EnvLookup};
pub use endpoints::{ModelInfo, TokenCount};
pub use error::{Error, Result};
pub use memory_tool::MemoryTool;
pub use options::OPTION_KEYS;
pub use retry::Sleeper;
pub use settings::{CacheTtl, Thinking, ThinkingDisplay};

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
        let (events, decoded) = crate::attempt::decode_recorded(bytes, chunk_size)?;
        Ok((events, decoded.response.content.len()))
    }
}

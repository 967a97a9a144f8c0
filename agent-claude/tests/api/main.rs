//! Wire tests: the real client against a loopback fake Messages API, asserting what was parsed and what was sent.

#![allow(clippy::unwrap_used, unreachable_pub, missing_docs)]

mod config;
mod endpoints;
mod errors;
mod fake;
mod fallbacks;
mod faults;
mod memory;
mod messages;
mod responder;
mod retries;
mod rules;
mod schema_snapshots;
mod schemas;
mod state;
mod streaming;
mod support;

use agent_core::{Message, ModelRequest};

/// A request holding one user message.
pub fn ask(text: &str) -> ModelRequest {
    ModelRequest { messages: vec![Message::user(text)], ..Default::default() }
}

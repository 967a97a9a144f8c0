//! Storing traces: the `tracing-subscriber` layer that turns the loop's spans into stored traces, its writer, and (feature `otel`) OpenTelemetry export beside it.
//!
//! `agent-core` emits spans only ([`agent_core::trace`]); this module is
//! where they become rows. Install [`TraceLayer`] in the subscriber, spawn
//! its [`TraceWriter`], and every finished run (with its model calls, tool
//! calls, delegations and steps) lands in the [`TraceStore`](agent_core::trace::TraceStore)
//! you gave it — [`SqliteStore`](crate::SqliteStore), [`PostgresStore`](crate::PostgresStore)
//! or [`InMemoryTraceStore`](agent_core::trace::InMemoryTraceStore). The
//! loop never waits for the store.

mod fields;
mod layer;
#[cfg(feature = "otel")]
pub mod otel;
mod writer;

pub use layer::{TraceLayer, TraceLayerBuilder};
pub use writer::{TraceHandle, TraceWriter};

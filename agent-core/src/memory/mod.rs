//! User memories: facts about a user that agents remember across sessions.
//!
//! - [`UserMemory`] and the [`MemoryStore`] trait keep them (in process with
//!   [`InMemoryMemoryStore`]; SQLite and Postgres in `agent-memory`).
//! - [`MemoryManager`] asks a model which memories to add, update or delete
//!   after a run, offers tools so the agent can manage memories itself, and
//!   merges a user's memories on request ([`MemoryManager::optimize`]).
//! - [`SessionSummarizer`] asks a model for a summary of a long session.
//!
//! None of this does IO of its own: it only calls the [`Model`](crate::Model)
//! and [`MemoryStore`] traits.

mod manager;
pub(crate) mod store;
pub(crate) mod structured;
mod summary;
mod tools;

pub use manager::{MemoryManager, MemoryUpdate, OptimizeOutcome};
pub use store::{InMemoryMemoryStore, MemoryQuery, MemorySort, MemoryStore, UserMemory, UserMemoryStats};

pub use summary::SessionSummarizer;

//! SQLite and Postgres stores for sessions, runs, user memories and eval runs.
//!
//! `agent-memory` is the only crate of the framework that knows SQL. Its two
//! stores implement [`agent_core::SessionStore`],
//! [`agent_core::memory::MemoryStore`] and [`agent_core::eval::EvalStore`]
//! with the same behaviour as the in-memory stores of `agent-core` (one
//! conformance suite checks all of them):
//!
//! - [`SqliteStore`]: an embedded database file, the zero-setup default (WAL
//!   mode, a busy timeout, foreign keys, a connection pool).
//! - [`PostgresStore`]: for deployments where many server processes share one
//!   database, through a connection pool, over TLS when the URL's `sslmode`
//!   asks for it ([`PostgresOptions`]).
//!
//! Both are [`SqlStore`]: the store is written once over sqlx, and a small
//! [`Dialect`] holds the SQL each backend writes differently.
//!
//! # Features
//!
//! Only what a build asks for is compiled:
//!
//! | feature | what it brings |
//! |---|---|
//! | `sqlite` (default) | [`SqliteStore`], [`SqliteKnowledge`]; SQLite is compiled in |
//! | `postgres` | [`PostgresStore`], [`PostgresKnowledge`], TLS through rustls (`ring`, Mozilla roots) |
//! | `pdf` | the PDF reader of knowledge bases ([`ReaderKind::Pdf`](knowledge::ReaderKind::Pdf), `pdf-extract`) |
//! | `html` | the HTML reader of knowledge bases ([`ReaderKind::Html`](knowledge::ReaderKind::Html), `html2text`) |
//!
//! At least one of `sqlite` and `postgres` is needed. Without `pdf` or
//! `html`, such content fails to read with an error naming the feature.
//! Links to the items of a feature this build lacks are dead in its docs.
//!
//! # Runs across processes
//!
//! Processes sharing a database coordinate through it: a session lease
//! serializes runs on a session (so concurrent runs lose no update), a run is
//! recorded `running` when it starts and found by id from anywhere, a paused
//! run is claimed by one process only, a cancel request reaches the process
//! running the run (Postgres `LISTEN`/`NOTIFY`, SQLite polling), and runs
//! left running by a process that died are failed once its lease expired.
//! See [`agent_core::SessionStore`].
//!
//! Both keep a versioned schema ([`SCHEMA_VERSION`]) in the
//! `agent_schema_version` table and migrate it when opened (or on request
//! with `migrate()`); a store opened on a schema newer than this build knows
//! refuses with [`StoreError::SchemaTooNew`](agent_core::StoreError::SchemaTooNew).
//!
//! # Corrupt rows
//!
//! A row that cannot be decoded (bad JSON, an unknown status, a message
//! format newer than this build) is never a panic. Direct reads (`session`,
//! `run`, `memory`) return [`StoreError::Corrupt`](agent_core::StoreError::Corrupt)
//! naming the row; list calls (`list_sessions`, `runs`, `list_memories`)
//! skip it and log a `tracing` warning naming it, so one bad row does not hide
//! the others (the page's `total` still counts it).
//!
//! # Example
//!
//! ```
//! use agent_core::{RunRecord, RunStatus, Session, SessionStore, SessionType};
//! use agent_memory::SqliteStore;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let store = SqliteStore::open_in_memory().await?;
//! let session = Session::new("session-1", SessionType::Agent);
//! let mut run = RunRecord { run_id: "run-1".into(), session_id: "session-1".into(), ..RunRecord::default() };
//! // Recorded as running when it starts (creating the session), saved when it ends.
//! store.start_run(&session, &run).await?;
//! run.status = RunStatus::Completed;
//! store.save_run(&session, &run).await?;
//! assert_eq!(store.runs("session-1", None).await?[0].status, RunStatus::Completed);
//! # Ok::<_, agent_core::StoreError>(())
//! # }).unwrap();
//! ```

// Items of a feature left out are named in the docs all the same.
#![cfg_attr(not(all(feature = "sqlite", feature = "postgres")), allow(rustdoc::broken_intra_doc_links))]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("agent-memory needs a backend: enable its `sqlite` feature (the default) or `postgres`, or both");

mod codec;
pub mod knowledge;
#[cfg(feature = "postgres")]
mod postgres;
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
pub mod trace;

#[cfg(feature = "postgres")]
pub use knowledge::PostgresKnowledge;
#[cfg(feature = "sqlite")]
pub use knowledge::SqliteKnowledge;
pub use knowledge::{HttpEmbedder, KnowledgeBase};
#[cfg(feature = "postgres")]
pub use postgres::{POSTGRES_CANCEL_RECHECK, PostgresOptions, PostgresStore};
pub use sql::{Dialect, SqlStore};
#[cfg(feature = "sqlite")]
pub use sqlite::{SQLITE_CANCEL_POLL, SqliteOptions, SqliteStore};
pub use trace::{TraceHandle, TraceLayer, TraceLayerBuilder, TraceWriter};

/// Re-exported so callers of `pool()` need no direct dependency on a matching `sqlx`.
pub use sqlx;

/// The newest schema version this build knows (the same number for both backends).
pub const SCHEMA_VERSION: i64 = 5;

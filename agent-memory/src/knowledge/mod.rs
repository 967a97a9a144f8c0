//! Knowledge bases: content ingestion (readers, chunkers, embedders) and
//! lexical, vector and hybrid search on SQLite and Postgres.
//!
//! A [`KnowledgeBase`] ties a [`KnowledgeStore`] ([`SqliteKnowledge`],
//! [`PostgresKnowledge`]) to an optional [`Embedder`](agent_core::knowledge::Embedder)
//! ([`HttpEmbedder`] for OpenAI-compatible endpoints) and implements
//! [`agent_core::knowledge::Knowledge`], which agents search.
//!
//! - **Content** ([`Content`]) comes from text, bytes, files or URLs
//!   ([`ContentInput`]), with a name, description and metadata, and has the
//!   shape of the AgentOS `/knowledge/content` endpoints. Identical content
//!   (same SHA-256) is stored once.
//! - **Readers** ([`ReaderKind`]) turn text, Markdown, HTML (`html2text`),
//!   PDF (`pdf-extract`), CSV (`csv`) and JSON into text.
//! - **Chunking** ([`Chunking`]): fixed size with overlap, recursive
//!   (`text-splitter`), or Markdown-aware by headings; chunks keep their
//!   position and metadata (`chunk`, `section`, `page`).
//! - **Ingestion** runs in the background: an item is `processing`, then
//!   `completed` or `failed` with the reason. Its chunks become searchable
//!   all at once, in one transaction.
//! - **Search**: BM25 through SQLite FTS5, or Postgres full-text search;
//!   exact cosine similarity (pgvector when available on Postgres; an
//!   in-memory index on SQLite, exact or IVF); hybrid by reciprocal rank
//!   fusion; metadata filters and `top_k`.
//!
//! The knowledge tables keep their own schema version (in
//! `knowledge_schema_version`, keyed by table prefix), apart from the session
//! store's.

mod base;
mod builder;
mod chunker;
mod config;
mod content;
mod embedder;
mod http;
mod ingest;
#[cfg(feature = "postgres")]
mod postgres;
mod reader;
mod source;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
mod vector_index;

pub use base::KnowledgeBase;
pub use builder::KnowledgeBaseBuilder;
pub use chunker::{Chunk, Chunking, DEFAULT_CHUNK_SIZE};
pub use config::{ChunkerInfo, KnowledgeConfig, ReaderInfo, VectorDbInfo};
pub use content::{
    Content, ContentBody, ContentInput, ContentPatch, ContentQuery, ContentSort, ContentStatus, ContentStatusReport,
};
pub use embedder::{HttpEmbedder, HttpEmbedderConfig};
#[cfg(feature = "postgres")]
pub use postgres::PostgresKnowledge;
pub use reader::{Document, ReaderKind};
pub use source::{PageMeta, Source, SourceFile, SourceFiles, SourceFolder};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteKnowledge;
pub use store::{KNOWLEDGE_SCHEMA_VERSION, KnowledgeStore, StoredChunk, merge_metadata};
pub use vector_index::{ExactIndex, IndexEntry, IndexKind, IvfIndex, VectorIndex};

//! The `KnowledgeStore` trait every backend implements, and helpers they share.

use agent_core::knowledge::{KnowledgeError, SearchHit};
use agent_core::{Page, StoreError};
use async_trait::async_trait;
use serde_json::{Map, Value};

use super::content::{Content, ContentQuery};

/// The schema version of the knowledge tables (kept in `knowledge_schema_version`),
/// the same number for both backends.
pub const KNOWLEDGE_SCHEMA_VERSION: i64 = 1;

/// A chunk as a store keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredChunk {
    /// Unique id.
    pub id: String,
    /// 0-based position within its content item.
    pub index: usize,
    /// The text.
    pub text: String,
    /// The chunk's own metadata; stores merge the content item's metadata
    /// under it ([`merge_metadata`]) and keep the merge current.
    pub metadata: Map<String, Value>,
    /// The embedding, when the knowledge base has an embedder.
    pub embedding: Option<Vec<f32>>,
}

/// Where a knowledge base keeps content items and their chunks, and how it
/// searches them. SQLite and Postgres implement it; one conformance suite
/// checks both.
///
/// Chunks of a content item become searchable all at once, when
/// [`commit_chunks`](Self::commit_chunks) commits them.
#[async_trait]
pub trait KnowledgeStore: Send + Sync + 'static {
    /// Inserts a content item unless one with the same `content_hash` exists,
    /// in which case nothing is written and the existing item is returned.
    ///
    /// # Errors
    ///
    /// A store error.
    async fn insert_content(&self, content: &Content) -> Result<Option<Content>, KnowledgeError>;

    /// The content item with this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] for an undecodable row, or a store error.
    async fn content(&self, id: &str) -> Result<Option<Content>, KnowledgeError>;

    /// One page of content items.
    ///
    /// # Errors
    ///
    /// A store error.
    async fn list_content(&self, query: &ContentQuery) -> Result<Page<Content>, KnowledgeError>;

    /// Saves every field of an existing item; its chunks' metadata follows
    /// the item's. Returns `false` when the item no longer exists.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when the new hash belongs to another item, or a store error.
    async fn update_content(&self, content: &Content) -> Result<bool, KnowledgeError>;

    /// In one transaction: replaces the item's chunks with `chunks` and saves
    /// `content` (normally with status completed). Returns `false`, writing
    /// nothing, when the item was deleted meanwhile.
    ///
    /// # Errors
    ///
    /// A store error; nothing is written then.
    async fn commit_chunks(&self, content: &Content, chunks: &[StoredChunk]) -> Result<bool, KnowledgeError>;

    /// Deletes an item and its chunks; returns whether it existed.
    ///
    /// # Errors
    ///
    /// A store error.
    async fn delete_content(&self, id: &str) -> Result<bool, KnowledgeError>;

    /// Full-text search, best first: any of the query's words may match.
    ///
    /// # Errors
    ///
    /// [`KnowledgeError::Invalid`] for a bad filter, or a store error.
    async fn lexical_search(
        &self,
        text: &str,
        filters: &Map<String, Value>,
        top_k: usize,
    ) -> Result<Vec<SearchHit>, KnowledgeError>;

    /// Nearest chunks by cosine similarity, best first.
    ///
    /// # Errors
    ///
    /// [`KnowledgeError::Invalid`] for a bad filter, or a store error.
    async fn vector_search(
        &self,
        vector: &[f32],
        filters: &Map<String, Value>,
        top_k: usize,
    ) -> Result<Vec<SearchHit>, KnowledgeError>;

    /// How many chunks are searchable, of one item or of all.
    ///
    /// # Errors
    ///
    /// A store error.
    async fn chunk_count(&self, content_id: Option<&str>) -> Result<u64, KnowledgeError>;

    /// The metadata keys of the content items, sorted, for filters.
    ///
    /// # Errors
    ///
    /// A store error.
    async fn metadata_keys(&self) -> Result<Vec<String>, KnowledgeError>;

    /// Records that an item is still being ingested: sets its `updated_at`
    /// to `now` if it is `processing` (a heartbeat; items without one are
    /// taken for interrupted).
    ///
    /// # Errors
    ///
    /// A store error.
    async fn touch_processing(&self, id: &str, now: i64) -> Result<(), KnowledgeError>;

    /// The items still `processing` whose `updated_at` is before `updated_before`.
    ///
    /// # Errors
    ///
    /// A store error.
    async fn stale_processing(&self, updated_before: i64) -> Result<Vec<Content>, KnowledgeError>;

    /// The name of the table content items are kept in (shown in the AgentOS config).
    fn content_table(&self) -> &str {
        "knowledge_content"
    }
}

/// A chunk's searchable metadata: the content item's, overridden by the chunk's own.
pub fn merge_metadata(content: &Map<String, Value>, chunk: &Map<String, Value>) -> Map<String, Value> {
    let mut merged = content.clone();
    merged.extend(chunk.iter().map(|(key, value)| (key.clone(), value.clone())));
    merged
}

/// The words of a lexical query: lowercase alphanumeric runs, deduplicated,
/// at most 64 (so user text never reaches the query syntax of FTS5 or `tsquery`).
pub(crate) fn query_terms(text: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty()) {
        let word = word.to_lowercase();
        if !terms.contains(&word) {
            terms.push(word);
        }
        if terms.len() == 64 {
            break;
        }
    }
    terms
}

/// A filter value's scalar options: strings, numbers and booleans, or a list of them.
pub(crate) fn filter_options(key: &str, value: &Value) -> Result<Vec<Value>, KnowledgeError> {
    if key.is_empty() || key.contains(['"', '\\']) {
        return Err(KnowledgeError::Invalid(format!("bad filter key `{key}`")));
    }
    let options = match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    if options.is_empty()
        || options.iter().any(|option| !matches!(option, Value::String(_) | Value::Number(_) | Value::Bool(_)))
    {
        return Err(KnowledgeError::Invalid(format!(
            "filter `{key}` must be a string, number or boolean, or a non-empty list of them"
        )));
    }
    Ok(options)
}

/// Wraps a database error.
pub(crate) fn backend(err: impl std::error::Error + Send + Sync + 'static) -> KnowledgeError {
    KnowledgeError::Store(StoreError::Backend(Box::new(err)))
}

/// A row that could not be decoded.
pub(crate) fn corrupt(what: &'static str, id: &str, message: impl std::fmt::Display) -> KnowledgeError {
    KnowledgeError::Store(StoreError::Corrupt { what, id: id.to_owned(), message: message.to_string() })
}

/// Embeddings as little-endian `f32` bytes (the SQLite BLOB format).
#[cfg(feature = "sqlite")]
pub(crate) fn vector_to_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The inverse of [`vector_to_bytes`]; `None` when the length is not a multiple of 4.
#[cfg(feature = "sqlite")]
pub(crate) fn vector_from_bytes(bytes: &[u8]) -> Option<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

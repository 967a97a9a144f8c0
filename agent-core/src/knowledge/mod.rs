//! Knowledge bases: documents agents search to answer from (retrieval-augmented generation).
//!
//! This module holds what the agent loop needs and nothing that does IO: the
//! [`Knowledge`] trait an agent searches, the query and result types
//! ([`SearchQuery`], [`SearchHit`]), the [`Embedder`] trait that turns text
//! into vectors, reciprocal rank fusion for hybrid search
//! (`reciprocal_rank_fusion`), metadata filter matching
//! (`matches_filters`), and the two ways an agent uses a knowledge base:
//!
//! - *agentic retrieval*: the model calls the `search_knowledge` tool from
//!   [`knowledge_tools`] itself, choosing the query, `top_k` and filters;
//! - *automatic context*: the top results for the user's input are put into
//!   the model's context with `retrieve_context` / `context_section`.
//!
//! Readers, chunkers, stores and HTTP embedders live in `agent-memory`
//! (`agent_memory::knowledge`).
//!
//! # Example
//!
//! ```
//! use agent_core::knowledge::{SearchHit, SearchMode, SearchQuery};
//! use agent_core::support::context_section;
//!
//! let query = SearchQuery::new("refund policy").top_k(3).mode(SearchMode::Lexical).filter("team", "billing");
//! assert_eq!(query.top_k, 3);
//! let hit = SearchHit::new("chunk-1", "content-1", "policies.md", "Refunds take 5 days.");
//! assert!(context_section(&[hit]).contains("[1] policies.md"));
//! ```

mod embedder;
mod fusion;
mod tools;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::session::StoreError;

pub use embedder::{Embedder, HashEmbedder};
pub(crate) mod fusion_support {
    pub use super::fusion::{RRF_K, cosine_similarity, matches_filters, reciprocal_rank_fusion};
    pub use super::tools::{context_section, retrieve_context};
}
pub(crate) use tools::retrieve_context;
pub use tools::{MAX_TOOL_TOP_K, knowledge_tools};

/// How a search ranks chunks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    /// Full-text (BM25 or the database's text ranking); needs no embedder.
    /// Called `keyword` in the AgentOS API.
    #[serde(rename = "keyword", alias = "lexical")]
    Lexical,
    /// Nearest neighbours of the query's embedding (cosine similarity).
    Vector,
    /// Lexical and vector results fused by reciprocal rank; falls back to
    /// lexical when the knowledge base has no embedder.
    #[default]
    Hybrid,
}

impl SearchMode {
    /// The name used by the AgentOS API (`keyword`, `vector`, `hybrid`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lexical => "keyword",
            Self::Vector => "vector",
            Self::Hybrid => "hybrid",
        }
    }
}

/// A search of a knowledge base.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// What to look for, in natural language.
    pub text: String,
    /// How many results at most.
    #[serde(default = "default_top_k")]
    pub top_k: usize,
    /// Metadata every result must match: each key's value must equal the
    /// chunk's metadata value, or be one of the values when it is an array.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub filters: Map<String, Value>,
    /// How results are ranked.
    #[serde(default)]
    pub mode: SearchMode,
}

/// The default number of results of a search.
pub const DEFAULT_TOP_K: usize = 5;

fn default_top_k() -> usize {
    DEFAULT_TOP_K
}

impl SearchQuery {
    /// A hybrid search for `text` returning at most [`DEFAULT_TOP_K`] results.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), top_k: DEFAULT_TOP_K, filters: Map::new(), mode: SearchMode::default() }
    }

    /// Sets the maximum number of results.
    #[must_use]
    pub fn top_k(mut self, top_k: usize) -> Self {
        self.top_k = top_k;
        self
    }

    /// Sets the ranking mode.
    #[must_use]
    pub fn mode(mut self, mode: SearchMode) -> Self {
        self.mode = mode;
        self
    }

    /// Adds a metadata filter: results must have `key` equal to `value`
    /// (or to one of its elements when `value` is an array).
    #[must_use]
    pub fn filter(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.filters.insert(key.into(), value.into());
        self
    }

    /// Replaces all filters.
    #[must_use]
    pub fn filters(mut self, filters: Map<String, Value>) -> Self {
        self.filters = filters;
        self
    }
}

/// One chunk found by a search, with where it came from.
///
/// Serializes with the field names of the AgentOS search endpoint (`id`,
/// `content`, `name`, `meta_data`, `content_id`, `reranking_score`) plus
/// `score`, `source` and `chunk`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The chunk's id.
    pub id: String,
    /// The id of the content item the chunk belongs to.
    pub content_id: String,
    /// The content item's name (a file name, a title, a URL).
    pub name: String,
    /// The chunk's text.
    #[serde(rename = "content")]
    pub text: String,
    /// The chunk's metadata: the content item's metadata plus the chunk's own
    /// (`chunk`, `section`, `page`, ...).
    #[serde(rename = "meta_data", default)]
    pub metadata: Map<String, Value>,
    /// Relevance, higher is better. Its scale depends on the mode: BM25 for
    /// lexical, cosine similarity for vector, reciprocal rank for hybrid.
    pub score: f32,
    /// A reranker's score, when one reranked the results.
    #[serde(default)]
    pub reranking_score: Option<f32>,
    /// Where the content came from (a file path, a URL, or the name), for citations.
    pub source: String,
    /// The chunk's 0-based position within its content item.
    pub chunk: usize,
}

impl SearchHit {
    /// A hit with no metadata, score 0, chunk 0 and the name as source.
    pub fn new(
        id: impl Into<String>,
        content_id: impl Into<String>,
        name: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        let name = name.into();
        Self {
            id: id.into(),
            content_id: content_id.into(),
            source: name.clone(),
            name,
            text: text.into(),
            metadata: Map::new(),
            score: 0.0,
            reranking_score: None,
            chunk: 0,
        }
    }
}

/// Why a knowledge operation failed.
///
/// During ingestion every variant ends as the content item's `failed` status
/// with this error's message; during search it is returned to the caller.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KnowledgeError {
    /// No reader handles this kind of content.
    #[error("unsupported content type `{0}`; supported: text, markdown, html, pdf, csv, json")]
    Unsupported(String),
    /// The content could not be read or parsed.
    #[error("could not read the content: {0}")]
    Read(String),
    /// The content has no text once read.
    #[error("the content is empty: no text to index")]
    Empty,
    /// The embedder failed.
    #[error("embedder failed: {0}")]
    Embedder(String),
    /// The embedder did not answer in time.
    #[error("embedder timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The request was invalid (empty query, bad filter, vector search without an embedder, ...).
    #[error("invalid knowledge request: {0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A knowledge base an agent can search.
///
/// `agent_memory::knowledge::KnowledgeBase` implements it on SQLite and
/// Postgres; implement it yourself to search anything else.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
///
/// use agent_core::knowledge::{Knowledge, KnowledgeError, SearchHit, SearchQuery};
/// use agent_core::testing::{ScriptedModel, Turn};
/// use agent_core::Agent;
/// use serde_json::json;
///
/// /// A handful of facts, matched by a shared word.
/// struct Facts(Vec<&'static str>);
///
/// #[async_trait::async_trait]
/// impl Knowledge for Facts {
///     async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>, KnowledgeError> {
///         let words: Vec<String> = query.text.to_lowercase().split_whitespace().map(str::to_owned).collect();
///         Ok(self
///             .0
///             .iter()
///             .enumerate()
///             .filter(|(_, fact)| words.iter().any(|word| fact.to_lowercase().contains(word.as_str())))
///             .take(query.top_k)
///             .map(|(index, fact)| SearchHit::new(format!("f{index}"), "facts", "facts.txt", *fact))
///             .collect())
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let facts = Arc::new(Facts(vec!["Parcels leave from dock 4.", "The office opens at 9."]));
/// let model = ScriptedModel::new([
///     Turn::tool_call("c1", "search_knowledge", json!({"query": "parcels"})),
///     Turn::text("From dock 4."),
/// ]);
/// let agent = Agent::builder(model).knowledge(facts).build()?;
/// let output = agent.run("Where do parcels leave from?").await?;
/// assert!(output.tools[0].result.as_deref().unwrap_or_default().contains("dock 4"));
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
#[async_trait]
pub trait Knowledge: Send + Sync + 'static {
    /// The chunks that best match the query, best first, at most `top_k`.
    ///
    /// # Errors
    ///
    /// [`KnowledgeError::Invalid`] for a query the knowledge base cannot run,
    /// embedder errors for vector search, or a store error.
    async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>, KnowledgeError>;

    /// The metadata keys results can be filtered on, for the model's
    /// instructions (none by default).
    ///
    /// # Errors
    ///
    /// A store error.
    async fn filter_keys(&self) -> Result<Vec<String>, KnowledgeError> {
        Ok(Vec::new())
    }
}

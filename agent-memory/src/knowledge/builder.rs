//! `KnowledgeBaseBuilder`: how a knowledge base is put together.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_core::knowledge::Embedder;
use tokio::sync::{Semaphore, watch};

use super::base::{Inner, KnowledgeBase};
use super::chunker::Chunking;
use super::source::Source;
use super::store::KnowledgeStore;

impl KnowledgeBase {
    /// A builder over a store.
    pub fn builder(store: impl KnowledgeStore) -> KnowledgeBaseBuilder {
        Self::builder_shared(Arc::new(store))
    }

    /// A builder over a shared store.
    pub fn builder_shared(store: Arc<dyn KnowledgeStore>) -> KnowledgeBaseBuilder {
        KnowledgeBaseBuilder {
            name: "knowledge".into(),
            store,
            embedder: None,
            chunking: None,
            embed_batch_size: 64,
            embed_timeout: Duration::from_secs(60),
            fetch_timeout: Duration::from_secs(30),
            max_bytes: 50 * 1024 * 1024,
            max_concurrent_ingestions: 4,
            sources: Vec::new(),
        }
    }
}

/// Builds a [`KnowledgeBase`].
#[must_use]
pub struct KnowledgeBaseBuilder {
    name: String,
    store: Arc<dyn KnowledgeStore>,
    embedder: Option<Arc<dyn Embedder>>,
    chunking: Option<Chunking>,
    embed_batch_size: usize,
    embed_timeout: Duration,
    fetch_timeout: Duration,
    max_bytes: usize,
    max_concurrent_ingestions: usize,
    sources: Vec<Source>,
}

impl KnowledgeBaseBuilder {
    /// The knowledge base's name (its id in the AgentOS config; default `knowledge`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Embeds chunks and queries, enabling vector and hybrid search.
    pub fn embedder(self, embedder: impl Embedder) -> Self {
        self.embedder_arc(Arc::new(embedder))
    }

    /// Like [`embedder`](Self::embedder), with a shared embedder.
    pub fn embedder_arc(mut self, embedder: Arc<dyn Embedder>) -> Self {
        self.embedder = Some(embedder);
        self
    }

    /// One chunking strategy for all content (default: Markdown-aware for
    /// Markdown, recursive for the rest, 1,000 characters).
    pub fn chunking(mut self, chunking: Chunking) -> Self {
        self.chunking = Some(chunking);
        self
    }

    /// Chunks per embedder call during ingestion (default 64).
    pub fn embed_batch_size(mut self, size: usize) -> Self {
        self.embed_batch_size = size.max(1);
        self
    }

    /// Time limit of one embedder call (default 60 s); a timeout fails the item.
    pub fn embed_timeout(mut self, timeout: Duration) -> Self {
        self.embed_timeout = timeout;
        self
    }

    /// Time limit for fetching remote content (default 30 s).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// Largest file read or remote document fetched, in bytes (default 50 MiB);
    /// larger content fails.
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// How many items are ingested at once (default 4); more wait their turn, `processing`.
    pub fn max_concurrent_ingestions(mut self, count: usize) -> Self {
        self.max_concurrent_ingestions = count.max(1);
        self
    }

    /// Adds a source content can be browsed and added from.
    pub fn source(mut self, source: Source) -> Self {
        self.sources.push(source);
        self
    }

    /// The knowledge base.
    pub fn build(self) -> KnowledgeBase {
        super::http::install_crypto_provider();
        KnowledgeBase {
            inner: Arc::new(Inner {
                name: self.name,
                store: self.store,
                embedder: self.embedder,
                chunking: self.chunking,
                embed_batch_size: self.embed_batch_size,
                embed_timeout: self.embed_timeout,
                fetch_timeout: self.fetch_timeout,
                max_bytes: self.max_bytes,
                http: reqwest::Client::new(),
                in_flight: Mutex::new(HashSet::new()),
                changes: watch::Sender::new(0),
                ingest_slots: Semaphore::new(self.max_concurrent_ingestions),
                sources: self.sources,
            }),
        }
    }
}

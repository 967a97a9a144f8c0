//! `KnowledgeBase`: content in, background ingestion with status polling,
//! and lexical, vector and hybrid search out.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use agent_core::knowledge::{
    Embedder, Knowledge, KnowledgeError, RRF_K, SearchHit, SearchMode, SearchQuery, reciprocal_rank_fusion,
};
use agent_core::{Page, StoreError, unix_now};
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::chunker::Chunking;
use super::config::KnowledgeConfig;
use super::content::{
    Content, ContentBody, ContentInput, ContentPatch, ContentQuery, ContentStatus, ContentStatusReport,
};
use super::ingest::{self, Raw};
use super::store::KnowledgeStore;

/// A knowledge base: a store, an optional embedder and a chunking strategy,
/// tied together by background ingestion.
///
/// [`add`](Self::add) records a content item as `processing` and returns at
/// once; a background task reads, chunks, embeds and indexes it, then marks
/// it `completed`, or `failed` with the reason (unreadable or unsupported
/// content, empty text, embedder errors and timeouts). Poll with
/// [`status`](Self::status) or wait with [`wait`](Self::wait). An item's
/// chunks become searchable all at once when it completes; a failed item has
/// none. Adding content identical to an existing item (same SHA-256, or the
/// same URL) returns that item, unless it failed, in which case it is
/// processed again. Cloning shares everything.
///
/// # Example
///
/// ```
/// use agent_core::knowledge::{HashEmbedder, Knowledge, SearchQuery};
/// use agent_memory::knowledge::{ContentInput, KnowledgeBase, SqliteKnowledge};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = SqliteKnowledge::open_in_memory().await?;
/// let kb = KnowledgeBase::builder(store).embedder(HashEmbedder::new(64)).build();
/// let item = kb.add(ContentInput::text("hours.md", "# Hours\nWe open at 9 and close at 5.")).await?;
/// kb.wait(&item.id).await?;
/// let hits = kb.search(&SearchQuery::new("when do you open").top_k(1)).await?;
/// assert_eq!(hits[0].name, "hours.md");
/// # Ok::<_, agent_core::knowledge::KnowledgeError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct KnowledgeBase {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) name: String,
    pub(crate) store: Arc<dyn KnowledgeStore>,
    pub(crate) embedder: Option<Arc<dyn Embedder>>,
    pub(crate) chunking: Option<Chunking>,
    pub(crate) embed_batch_size: usize,
    pub(crate) embed_timeout: Duration,
    pub(crate) fetch_timeout: Duration,
    pub(crate) max_bytes: usize,
    pub(crate) http: reqwest::Client,
    in_flight: Mutex<HashSet<String>>,
    changes: watch::Sender<u64>,
}

impl Inner {
    /// Marks an item's ingestion finished and wakes the waiters.
    pub(crate) fn finish(&self, id: &str) {
        self.in_flight.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
        self.changes.send_modify(|generation| *generation += 1);
    }

    fn is_in_flight(&self, id: Option<&str>) -> bool {
        let in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        id.map_or(!in_flight.is_empty(), |id| in_flight.contains(id))
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

    /// Largest remote document fetched, in bytes (default 50 MiB).
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The knowledge base.
    pub fn build(self) -> KnowledgeBase {
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
            }),
        }
    }
}

/// A content item ready for the store, and what ingestion will read.
struct Prepared {
    content: Content,
    raw: Result<Raw, KnowledgeError>,
    text_default: bool,
}

async fn prepare(input: ContentInput) -> Prepared {
    let now = unix_now();
    let (name, source, raw, hash_input, text_default) = match input.body {
        ContentBody::Text(text) => {
            let name = input.name.unwrap_or_else(|| "text".into());
            (name.clone(), name, Ok(text.into_bytes()), None, true)
        }
        ContentBody::Bytes(bytes) => {
            let name = input.name.unwrap_or_else(|| "upload".into());
            (name.clone(), name, Ok(bytes), None, false)
        }
        ContentBody::File(path) => {
            let source = path.display().to_string();
            let name = input.name.or_else(|| path.file_name().map(|n| n.to_string_lossy().into_owned()));
            let read = tokio::task::spawn_blocking(move || std::fs::read(&path)).await;
            let bytes = match read {
                Ok(Ok(bytes)) => Ok(bytes),
                Ok(Err(err)) => Err(KnowledgeError::Read(format!("cannot read `{source}`: {err}"))),
                Err(err) => Err(KnowledgeError::Read(format!("cannot read `{source}`: {err}"))),
            };
            let hash_input = bytes.is_err().then(|| format!("unreadable file:{source}"));
            (name.unwrap_or_else(|| source.clone()), source, bytes, hash_input, false)
        }
        ContentBody::Url(url) => (
            input.name.unwrap_or_else(|| url.clone()),
            url.clone(),
            Err(KnowledgeError::Empty),
            Some(format!("url:{url}")),
            false,
        ),
    };
    let is_url = hash_input.as_deref().is_some_and(|h| h.starts_with("url:"));
    let hash = match (&hash_input, &raw) {
        (Some(text), _) => hex(&Sha256::digest(text.as_bytes())),
        (None, Ok(bytes)) => hex(&Sha256::digest(bytes)),
        (None, Err(_)) => hex(&Sha256::digest(source.as_bytes())),
    };
    let content = Content {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        description: input.description,
        metadata: input.metadata,
        content_type: input.content_type.unwrap_or_default(),
        size: raw.as_ref().map_or(0, |bytes| bytes.len() as u64),
        source: source.clone(),
        content_hash: hash,
        status: ContentStatus::Processing,
        created_at: now,
        updated_at: now,
        ..Content::default()
    };
    let raw = if is_url { Ok(Raw::Url(source)) } else { raw.map(Raw::Bytes) };
    Prepared { content, raw, text_default }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn not_found(id: &str) -> KnowledgeError {
    KnowledgeError::Store(StoreError::NotFound { what: "content", id: id.to_owned() })
}

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
        }
    }

    /// The knowledge base's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn KnowledgeStore> {
        &self.inner.store
    }

    /// Adds content and returns its item at once, `processing` (or already
    /// `failed` when a file cannot be read); ingestion goes on in the
    /// background. Identical content returns the existing item.
    ///
    /// # Errors
    ///
    /// A store error. Problems with the content itself are never errors
    /// here: they end as the item's `failed` status.
    pub async fn add(&self, input: ContentInput) -> Result<Content, KnowledgeError> {
        let Prepared { mut content, raw, text_default } = prepare(input).await;
        if let Some(existing) = self.inner.store.insert_content(&content).await? {
            if existing.status != ContentStatus::Failed || self.inner.is_in_flight(Some(&existing.id)) {
                return Ok(existing);
            }
            content.id = existing.id;
            content.created_at = existing.created_at;
            if !self.inner.store.update_content(&content).await? {
                return Err(not_found(&content.id));
            }
        }
        self.start(content, raw, text_default).await
    }

    /// Adds content and waits for its ingestion to end; returns the item,
    /// `completed` or `failed`.
    ///
    /// # Errors
    ///
    /// A store error.
    pub async fn add_and_wait(&self, input: ContentInput) -> Result<Content, KnowledgeError> {
        let content = self.add(input).await?;
        self.wait(&content.id).await
    }

    /// Replaces an item's content, keeping its id; its old chunks stay
    /// searchable until the new ones replace them (or are removed if the new
    /// content fails). Name, description and metadata are replaced when given.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown id, [`StoreError::Invalid`]
    /// when another item has identical content, or a store error.
    pub async fn replace(&self, id: &str, input: ContentInput) -> Result<Content, KnowledgeError> {
        let existing = self.inner.store.content(id).await?.ok_or_else(|| not_found(id))?;
        let keep_name = input.name.is_none();
        let Prepared { mut content, raw, text_default } = prepare(input).await;
        content.id = existing.id.clone();
        content.created_at = existing.created_at;
        if keep_name {
            content.name = existing.name;
        }
        if content.description.is_empty() {
            content.description = existing.description;
        }
        if content.metadata.is_empty() {
            content.metadata = existing.metadata;
        }
        if !self.inner.store.update_content(&content).await? {
            return Err(not_found(id));
        }
        self.start(content, raw, text_default).await
    }

    async fn start(
        &self,
        content: Content,
        raw: Result<Raw, KnowledgeError>,
        text_default: bool,
    ) -> Result<Content, KnowledgeError> {
        match raw {
            Err(err) => {
                let failed = Content { status: ContentStatus::Failed, status_message: err.to_string(), ..content };
                self.inner.store.commit_chunks(&failed, &[]).await?;
                Ok(failed)
            }
            Ok(raw) => {
                self.inner.in_flight.lock().unwrap_or_else(PoisonError::into_inner).insert(content.id.clone());
                tokio::spawn(ingest::run(Arc::clone(&self.inner), content.clone(), raw, text_default));
                Ok(content)
            }
        }
    }

    /// Waits until the item's ingestion ends (at once if it is not being
    /// ingested) and returns it.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when the item does not exist, or a store error.
    pub async fn wait(&self, id: &str) -> Result<Content, KnowledgeError> {
        let mut changes = self.inner.changes.subscribe();
        while self.inner.is_in_flight(Some(id)) {
            if changes.changed().await.is_err() {
                break;
            }
        }
        self.inner.store.content(id).await?.ok_or_else(|| not_found(id))
    }

    /// Waits until no ingestion is running.
    pub async fn wait_idle(&self) {
        let mut changes = self.inner.changes.subscribe();
        while self.inner.is_in_flight(None) {
            if changes.changed().await.is_err() {
                break;
            }
        }
    }

    /// The item with this id.
    ///
    /// # Errors
    ///
    /// A store error.
    pub async fn content(&self, id: &str) -> Result<Option<Content>, KnowledgeError> {
        self.inner.store.content(id).await
    }

    /// One page of items.
    ///
    /// # Errors
    ///
    /// A store error.
    pub async fn list(&self, query: &ContentQuery) -> Result<Page<Content>, KnowledgeError> {
        self.inner.store.list_content(query).await
    }

    /// The item's status, in the shape of the AgentOS status endpoint.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown id, or a store error.
    pub async fn status(&self, id: &str) -> Result<ContentStatusReport, KnowledgeError> {
        let content = self.inner.store.content(id).await?.ok_or_else(|| not_found(id))?;
        Ok(ContentStatusReport { status: content.status, status_message: content.status_message })
    }

    /// Changes an item's name, description or metadata; its chunks' metadata follows.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown id, or a store error.
    pub async fn update(&self, id: &str, patch: ContentPatch) -> Result<Content, KnowledgeError> {
        let mut content = self.inner.store.content(id).await?.ok_or_else(|| not_found(id))?;
        content.name = patch.name.unwrap_or(content.name);
        content.description = patch.description.unwrap_or(content.description);
        content.metadata = patch.metadata.unwrap_or(content.metadata);
        content.updated_at = unix_now();
        if !self.inner.store.update_content(&content).await? {
            return Err(not_found(id));
        }
        Ok(content)
    }

    /// Deletes an item and its chunks; returns whether it existed. An
    /// ingestion still running for it drops its chunks.
    ///
    /// # Errors
    ///
    /// A store error.
    pub async fn delete(&self, id: &str) -> Result<bool, KnowledgeError> {
        self.inner.store.delete_content(id).await
    }

    /// What this knowledge base can read, chunk and search, in the shape of
    /// the AgentOS `/knowledge/config` endpoint.
    ///
    /// # Errors
    ///
    /// A store error (reading the filter keys).
    pub async fn config(&self) -> Result<KnowledgeConfig, KnowledgeError> {
        let filters = self.inner.store.metadata_keys().await?;
        Ok(KnowledgeConfig::describe(&self.inner.name, self.inner.chunking, self.inner.embedder.is_some(), filters))
    }

    async fn embed_query(&self, embedder: &dyn Embedder, text: &str) -> Result<Vec<f32>, KnowledgeError> {
        let vectors = tokio::time::timeout(self.inner.embed_timeout, embedder.embed(&[text.to_owned()]))
            .await
            .map_err(|_| KnowledgeError::Timeout(self.inner.embed_timeout))??;
        vectors.into_iter().next().ok_or_else(|| KnowledgeError::Embedder("no embedding for the query".into()))
    }
}

#[async_trait]
impl Knowledge for KnowledgeBase {
    /// Lexical, vector or hybrid search. Hybrid fuses the best `4 × top_k`
    /// (at least 20) of each by reciprocal rank, and degrades to lexical when
    /// there is no embedder or the embedder fails.
    async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>, KnowledgeError> {
        if query.text.trim().is_empty() {
            return Err(KnowledgeError::Invalid("the search text is empty".into()));
        }
        if query.top_k == 0 {
            return Ok(Vec::new());
        }
        let store = &self.inner.store;
        let embedder = self.inner.embedder.as_deref();
        match (query.mode, embedder) {
            (SearchMode::Lexical, _) | (SearchMode::Hybrid, None) => {
                store.lexical_search(&query.text, &query.filters, query.top_k).await
            }
            (SearchMode::Vector, None) => {
                Err(KnowledgeError::Invalid("vector search needs a knowledge base with an embedder".into()))
            }
            (SearchMode::Vector, Some(embedder)) => {
                let vector = self.embed_query(embedder, &query.text).await?;
                store.vector_search(&vector, &query.filters, query.top_k).await
            }
            (SearchMode::Hybrid, Some(embedder)) => {
                let candidates = (query.top_k * 4).max(20);
                let lexical = store.lexical_search(&query.text, &query.filters, candidates).await?;
                let vector = match self.embed_query(embedder, &query.text).await {
                    Ok(vector) => store.vector_search(&vector, &query.filters, candidates).await?,
                    Err(err) => {
                        tracing::warn!(error = %err, "query embedding failed; hybrid search is lexical only");
                        Vec::new()
                    }
                };
                Ok(reciprocal_rank_fusion(&[lexical, vector], RRF_K, query.top_k))
            }
        }
    }

    async fn filter_keys(&self) -> Result<Vec<String>, KnowledgeError> {
        self.inner.store.metadata_keys().await
    }
}

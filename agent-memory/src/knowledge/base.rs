//! `KnowledgeBase`: content in, background ingestion with status polling,
//! and lexical, vector and hybrid search out.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use agent_core::knowledge::{Embedder, Knowledge, KnowledgeError, SearchHit, SearchMode, SearchQuery};
use agent_core::support::{RRF_K, reciprocal_rank_fusion, unix_now};
use agent_core::{Page, StoreError};
use async_trait::async_trait;
use tokio::sync::watch;

use super::chunker::Chunking;
use super::config::KnowledgeConfig;
use super::content::{Content, ContentInput, ContentPatch, ContentQuery, ContentStatus, ContentStatusReport};
use super::ingest::{self, Plan, Prepared, Raw, prepare};
use super::source::{self, Source, SourceFiles};
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
    pub(crate) inner: Arc<Inner>,
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
    pub(crate) in_flight: Mutex<HashSet<String>>,
    pub(crate) changes: watch::Sender<u64>,
    /// Bounds concurrent ingestions so writers do not pile up on the store.
    pub(crate) ingest_slots: tokio::sync::Semaphore,
    pub(crate) sources: Vec<Source>,
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

fn not_found(id: &str) -> KnowledgeError {
    KnowledgeError::Store(StoreError::NotFound { what: "content", id: id.to_owned() })
}

impl KnowledgeBase {
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
        let Prepared { mut content, raw, plan } = prepare(input, self.inner.max_bytes).await;
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
        self.start(content, raw, plan).await
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
        let Prepared { mut content, raw, plan } = prepare(input, self.inner.max_bytes).await;
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
        self.start(content, raw, plan).await
    }

    async fn start(
        &self,
        content: Content,
        raw: Result<Raw, KnowledgeError>,
        plan: Plan,
    ) -> Result<Content, KnowledgeError> {
        match raw {
            Err(err) => {
                let failed = Content { status: ContentStatus::Failed, status_message: err.to_string(), ..content };
                self.inner.store.commit_chunks(&failed, &[]).await?;
                Ok(failed)
            }
            Ok(raw) => {
                self.inner.in_flight.lock().unwrap_or_else(PoisonError::into_inner).insert(content.id.clone());
                tokio::spawn(ingest::run(Arc::clone(&self.inner), content.clone(), raw, plan));
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

    /// Deletes every item and its chunks; returns how many were deleted.
    ///
    /// # Errors
    ///
    /// A store error; the items deleted before it stay deleted.
    pub async fn delete_all(&self) -> Result<u64, KnowledgeError> {
        let items = self.inner.store.list_content(&ContentQuery::default()).await?.items;
        let mut deleted = 0;
        for item in items {
            if self.inner.store.delete_content(&item.id).await? {
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// The largest content item read, fetched or given, in bytes.
    pub fn max_bytes(&self) -> usize {
        self.inner.max_bytes
    }

    /// Marks failed the items a stopped process left `processing` (no
    /// heartbeat for 90 s), removing their chunks, so they can be added
    /// again; returns how many. Stores do it when they are opened; a
    /// long-running process sharing the database with others may call it
    /// from time to time.
    ///
    /// # Errors
    ///
    /// A store error.
    pub async fn recover_interrupted(&self) -> Result<u64, KnowledgeError> {
        ingest::recover_interrupted(self.inner.store.as_ref()).await
    }

    /// The sources content can be added from.
    pub fn sources(&self) -> &[Source] {
        &self.inner.sources
    }

    /// One level of a source: its folders and one page of its files under
    /// `prefix` (the source's own prefix when `None`).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown source, [`KnowledgeError::Invalid`]
    /// for a prefix outside it, [`KnowledgeError::Read`] when it cannot be listed.
    pub async fn source_files(
        &self,
        source_id: &str,
        prefix: Option<&str>,
        page: u32,
        limit: u32,
    ) -> Result<SourceFiles, KnowledgeError> {
        let source = self.source(source_id)?.clone();
        let prefix = prefix.map(str::to_owned);
        tokio::task::spawn_blocking(move || source::list(&source, prefix.as_deref(), page, limit))
            .await
            .map_err(|err| KnowledgeError::Read(format!("listing the source stopped unexpectedly: {err}")))?
    }

    /// Adds a file of a source by key, named after the key, with `metadata`
    /// plus `source_id` (see [`add`](Self::add)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown source, [`KnowledgeError::Invalid`]
    /// for a key outside it (symbolic links included), or a store error.
    /// Files that are not regular files (a FIFO, a folder) or are larger
    /// than `max_bytes` end as `failed` items.
    pub async fn add_from_source(
        &self,
        source_id: &str,
        key: &str,
        metadata: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Content, KnowledgeError> {
        let source = self.source(source_id)?.clone();
        let owned_key = key.to_owned();
        let path = tokio::task::spawn_blocking(move || source.resolve(&owned_key))
            .await
            .map_err(|err| KnowledgeError::Read(format!("resolving the key stopped unexpectedly: {err}")))??;
        let input =
            ContentInput::file(path).name(key.trim_start_matches('/')).metadata(metadata).meta("source_id", source_id);
        self.add(input).await
    }

    fn source(&self, source_id: &str) -> Result<&Source, KnowledgeError> {
        self.inner
            .sources
            .iter()
            .find(|source| source.id == source_id)
            .ok_or_else(|| KnowledgeError::Store(StoreError::NotFound { what: "source", id: source_id.to_owned() }))
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

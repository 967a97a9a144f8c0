//! The knowledge store conformance suite: every check runs against every backend.

#![allow(clippy::unwrap_used, dead_code)]

mod per_item;

pub(crate) use per_item::{content_in_hand_is_bounded, delete_all_empties_the_base, per_item_reader_and_chunking};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agent_core::knowledge::{Embedder, HashEmbedder, Knowledge, KnowledgeError, SearchMode, SearchQuery};
use agent_memory::knowledge::{
    Chunking, ContentInput, ContentPatch, ContentQuery, ContentStatus, KnowledgeBase, KnowledgeBaseBuilder,
    KnowledgeStore,
};
use async_trait::async_trait;
use serde_json::json;
use tokio::sync::Semaphore;

pub(crate) type Store = Arc<dyn KnowledgeStore>;

pub(crate) const REFUNDS: &str = "# Refunds\n\nRefunds are paid back to the original card within five business days.";
pub(crate) const SHIPPING: &str =
    "# Shipping\n\nParcels ship from Lisbon every weekday; express delivery takes one day.";
pub(crate) const SUPPORT: &str = "# Support\n\nThe support desk answers emails in English and Portuguese.";

pub(crate) fn kb(store: &Store) -> KnowledgeBaseBuilder {
    KnowledgeBase::builder_shared(Arc::clone(store)).embedder(HashEmbedder::new(64))
}

async fn add_docs(kb: &KnowledgeBase) -> Vec<String> {
    let mut ids = Vec::new();
    for (name, text, team) in
        [("refunds.md", REFUNDS, "billing"), ("shipping.md", SHIPPING, "logistics"), ("support.md", SUPPORT, "care")]
    {
        let item = kb.add_and_wait(ContentInput::text(name, text).meta("team", team).meta("year", 2024)).await.unwrap();
        assert_eq!(item.status, ContentStatus::Completed, "{}", item.status_message);
        ids.push(item.id);
    }
    ids
}

fn names(hits: &[agent_core::knowledge::SearchHit]) -> Vec<&str> {
    hits.iter().map(|hit| hit.name.as_str()).collect()
}

/// Lexical search ranks the matching item first and cites it.
pub(crate) async fn lexical_search_finds_and_cites(store: Store) {
    let kb = kb(&store).build();
    let ids = add_docs(&kb).await;
    let hits = kb.search(&SearchQuery::new("when are refunds paid?").mode(SearchMode::Lexical)).await.unwrap();
    assert_eq!(hits[0].name, "refunds.md");
    assert_eq!(hits[0].content_id, ids[0]);
    assert_eq!(hits[0].source, "refunds.md");
    assert_eq!(hits[0].chunk, 0);
    assert!(hits[0].score > 0.0);
    assert!(hits[0].text.contains("five business days"));
    assert_eq!(hits[0].metadata["team"], "billing");
    assert_eq!(hits[0].metadata["section"], "Refunds");
    assert!(hits.iter().all(|hit| hit.name == "refunds.md"), "only matching chunks: {:?}", names(&hits));
    let none = kb.search(&SearchQuery::new("zebra").mode(SearchMode::Lexical)).await.unwrap();
    assert!(none.is_empty());
}

/// Vector search finds the nearest chunk; hybrid fuses both; top_k bounds results.
pub(crate) async fn vector_and_hybrid_search(store: Store) {
    let kb = kb(&store).build();
    add_docs(&kb).await;
    let vector = kb.search(&SearchQuery::new("express delivery parcels").mode(SearchMode::Vector)).await.unwrap();
    assert_eq!(vector[0].name, "shipping.md");
    assert!(vector[0].score > 0.0 && vector[0].score <= 1.0 + 1e-5);
    assert_eq!(vector.len(), 3, "vector search returns every chunk, ranked");
    let hybrid = kb.search(&SearchQuery::new("express delivery parcels").top_k(2)).await.unwrap();
    assert_eq!(hybrid.len(), 2);
    assert_eq!(hybrid[0].name, "shipping.md");
    assert!(hybrid[0].score > hybrid[1].score);
    let lexical_only = KnowledgeBase::builder_shared(Arc::clone(&store)).build();
    let err = lexical_only.search(&SearchQuery::new("parcels").mode(SearchMode::Vector)).await.unwrap_err();
    assert!(matches!(err, KnowledgeError::Invalid(_)), "{err}");
    let fallback = lexical_only.search(&SearchQuery::new("parcels")).await.unwrap();
    assert_eq!(names(&fallback), ["shipping.md"]);
}

/// Filters restrict every mode; lists match any element; bad filters are invalid.
pub(crate) async fn metadata_filters(store: Store) {
    let kb = kb(&store).build();
    add_docs(&kb).await;
    for mode in [SearchMode::Lexical, SearchMode::Vector, SearchMode::Hybrid] {
        let query = SearchQuery::new("refunds shipping support").mode(mode);
        let billing = kb.search(&query.clone().filter("team", "billing")).await.unwrap();
        assert_eq!(names(&billing), ["refunds.md"], "{mode:?}");
        let two =
            kb.search(&query.clone().filter("team", json!(["billing", "care"])).filter("year", 2024)).await.unwrap();
        let mut two = names(&two);
        two.sort_unstable();
        assert_eq!(two, ["refunds.md", "support.md"], "{mode:?}");
        assert!(kb.search(&query.clone().filter("year", 2023)).await.unwrap().is_empty(), "{mode:?}");
        let bad = kb.search(&query.clone().filter("team", json!({"nested": true}))).await.unwrap_err();
        assert!(matches!(bad, KnowledgeError::Invalid(_)), "{mode:?}: {bad}");
    }
    let mut keys = kb.filter_keys().await.unwrap();
    keys.sort();
    assert_eq!(keys, ["team", "year"]);
}

/// An item is processing, then completed; re-adding identical content is a no-op.
pub(crate) async fn status_lifecycle_and_idempotent_re_add(store: Store) {
    let kb = kb(&store).build();
    let item = kb.add(ContentInput::text("refunds.md", REFUNDS).description("refund policy")).await.unwrap();
    assert_eq!(item.status, ContentStatus::Processing);
    let done = kb.wait(&item.id).await.unwrap();
    assert_eq!(done.status, ContentStatus::Completed);
    assert_eq!(done.reader, "markdown");
    assert_eq!(done.content_type, "text/markdown");
    assert_eq!(done.size, REFUNDS.len() as u64);
    assert_eq!(done.content_hash.len(), 64);
    let report = kb.status(&item.id).await.unwrap();
    assert_eq!((report.status, report.status_message.as_str()), (ContentStatus::Completed, ""));
    let chunks = store.chunk_count(Some(&item.id)).await.unwrap();
    let again = kb.add(ContentInput::text("other-name.md", REFUNDS)).await.unwrap();
    assert_eq!(again.id, item.id);
    assert_eq!(again.status, ContentStatus::Completed);
    kb.wait_idle().await;
    assert_eq!(store.chunk_count(Some(&item.id)).await.unwrap(), chunks);
    assert_eq!(kb.list(&ContentQuery::default()).await.unwrap().total, 1);
}

/// Empty, unsupported and unreadable content ends as failed with the reason, with no chunks.
pub(crate) async fn bad_content_fails_with_reason(store: Store) {
    let kb = kb(&store).build();
    let empty = kb.add_and_wait(ContentInput::text("blank.txt", "  \n\n ")).await.unwrap();
    assert_eq!(empty.status, ContentStatus::Failed);
    assert!(empty.status_message.contains("empty"), "{}", empty.status_message);
    let unsupported = kb.add_and_wait(ContentInput::bytes("photo.heic", vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(unsupported.status, ContentStatus::Failed);
    assert!(unsupported.status_message.contains("unsupported"), "{}", unsupported.status_message);
    let missing = kb.add_and_wait(ContentInput::file("/nonexistent/knowledge/file.md")).await.unwrap();
    assert_eq!(missing.status, ContentStatus::Failed);
    assert!(missing.status_message.contains("cannot read"), "{}", missing.status_message);
    assert_eq!(missing.name, "file.md");
    let binary = kb.add_and_wait(ContentInput::bytes("notes.txt", vec![0xff, 0xfe, 0x00])).await.unwrap();
    assert!(binary.status_message.contains("UTF-8"), "{}", binary.status_message);
    let pdf = kb.add_and_wait(ContentInput::bytes("broken.pdf", b"%PDF-1.4 not really".to_vec())).await.unwrap();
    assert_eq!(pdf.status, ContentStatus::Failed);
    assert_eq!(store.chunk_count(None).await.unwrap(), 0);
    let page = kb.list(&ContentQuery::default()).await.unwrap();
    assert_eq!(page.total, 5);
    assert!(page.items.iter().all(|item| item.status == ContentStatus::Failed));
}

/// An embedder that fails the first `failures` calls, then works.
pub(crate) struct FlakyEmbedder {
    pub(crate) failures: AtomicUsize,
    pub(crate) inner: HashEmbedder,
}

#[async_trait]
impl Embedder for FlakyEmbedder {
    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, KnowledgeError> {
        if self.failures.load(Ordering::SeqCst) > 0 {
            self.failures.fetch_sub(1, Ordering::SeqCst);
            return Err(KnowledgeError::Embedder("HTTP 503: overloaded".into()));
        }
        self.inner.embed(texts).await
    }
}

/// An embedder that never answers.
pub(crate) struct HangingEmbedder;

#[async_trait]
impl Embedder for HangingEmbedder {
    fn dimensions(&self) -> usize {
        8
    }

    async fn embed(&self, _texts: &[String]) -> Result<Vec<Vec<f32>>, KnowledgeError> {
        std::future::pending().await
    }
}

/// Embedder failures and timeouts fail the item; re-adding a failed item retries it.
pub(crate) async fn embedder_failures_and_timeouts(store: Store) {
    let flaky = FlakyEmbedder { failures: AtomicUsize::new(1), inner: HashEmbedder::new(16) };
    let kb = KnowledgeBase::builder_shared(Arc::clone(&store)).embedder(flaky).build();
    let failed = kb.add_and_wait(ContentInput::text("refunds.md", REFUNDS)).await.unwrap();
    assert_eq!(failed.status, ContentStatus::Failed);
    assert!(failed.status_message.contains("503"), "{}", failed.status_message);
    assert_eq!(store.chunk_count(Some(&failed.id)).await.unwrap(), 0);
    let retried = kb.add_and_wait(ContentInput::text("refunds.md", REFUNDS)).await.unwrap();
    assert_eq!(retried.id, failed.id);
    assert_eq!(retried.status, ContentStatus::Completed);
    assert!(store.chunk_count(Some(&failed.id)).await.unwrap() > 0);

    let hanging = KnowledgeBase::builder_shared(Arc::clone(&store))
        .embedder(HangingEmbedder)
        .embed_timeout(Duration::from_millis(20))
        .build();
    let timed_out = hanging.add_and_wait(ContentInput::text("shipping.md", SHIPPING)).await.unwrap();
    assert_eq!(timed_out.status, ContentStatus::Failed);
    assert!(timed_out.status_message.contains("timed out"), "{}", timed_out.status_message);
    assert_eq!(store.chunk_count(Some(&timed_out.id)).await.unwrap(), 0);
}

/// An embedder that waits for a permit per call, so tests can hold ingestion mid-way.
pub(crate) struct GatedEmbedder {
    pub(crate) gate: Arc<Semaphore>,
    pub(crate) inner: HashEmbedder,
}

#[async_trait]
impl Embedder for GatedEmbedder {
    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, KnowledgeError> {
        let permit = self.gate.acquire().await.map_err(|err| KnowledgeError::Embedder(err.to_string()))?;
        permit.forget();
        self.inner.embed(texts).await
    }
}

/// Chunks become searchable only when their item completes; a replaced item's
/// old chunks stay searchable until then.
pub(crate) async fn chunks_are_invisible_until_completed(store: Store) {
    let gate = Arc::new(Semaphore::new(0));
    let embedder = GatedEmbedder { gate: Arc::clone(&gate), inner: HashEmbedder::new(16) };
    let kb = KnowledgeBase::builder_shared(Arc::clone(&store))
        .embedder(embedder)
        .embed_batch_size(1)
        .chunking(Chunking::recursive(40, 0))
        .build();
    let many = (0..6).map(|i| format!("Paragraph {i} about lighthouses.")).collect::<Vec<_>>().join("\n\n");
    let item = kb.add(ContentInput::text("lighthouses.txt", many)).await.unwrap();
    gate.add_permits(3);
    let lexical = SearchQuery::new("lighthouses").mode(SearchMode::Lexical);
    assert!(kb.search(&lexical).await.unwrap().is_empty(), "half-indexed chunks are invisible");
    assert_eq!(kb.status(&item.id).await.unwrap().status, ContentStatus::Processing);
    gate.add_permits(100);
    assert_eq!(kb.wait(&item.id).await.unwrap().status, ContentStatus::Completed);
    assert!(!kb.search(&lexical).await.unwrap().is_empty());

    gate.forget_permits(usize::MAX);
    let replaced = kb.replace(&item.id, ContentInput::text("lighthouses.txt", "Windmills grind grain.")).await.unwrap();
    assert_eq!(replaced.status, ContentStatus::Processing);
    assert!(!kb.search(&lexical).await.unwrap().is_empty(), "old chunks stay until the new ones commit");
    gate.add_permits(100);
    kb.wait(&item.id).await.unwrap();
    assert!(kb.search(&lexical).await.unwrap().is_empty());
    let windmills = kb.search(&SearchQuery::new("windmills").mode(SearchMode::Lexical)).await.unwrap();
    assert_eq!(windmills.len(), 1);
    assert_eq!(windmills[0].content_id, item.id);
}

/// Patching metadata and name reaches the chunks; deleting removes them from every search.
pub(crate) async fn update_and_delete_follow_chunks(store: Store) {
    let kb = kb(&store).build();
    let ids = add_docs(&kb).await;
    let patch = ContentPatch {
        name: Some("refund-policy.md".into()),
        metadata: Some(json!({"team": "finance"}).as_object().cloned().unwrap()),
        ..ContentPatch::default()
    };
    let updated = kb.update(&ids[0], patch).await.unwrap();
    assert_eq!(updated.name, "refund-policy.md");
    for mode in [SearchMode::Lexical, SearchMode::Vector] {
        let query = SearchQuery::new("refunds card").mode(mode);
        let finance = kb.search(&query.clone().filter("team", "finance")).await.unwrap();
        assert_eq!(names(&finance), ["refund-policy.md"], "{mode:?}");
        assert_eq!(finance[0].metadata["section"], "Refunds", "chunk metadata is kept: {mode:?}");
        assert!(kb.search(&query.clone().filter("team", "billing")).await.unwrap().is_empty(), "{mode:?}");
    }
    assert!(kb.delete(&ids[0]).await.unwrap());
    assert!(!kb.delete(&ids[0]).await.unwrap());
    assert!(kb.content(&ids[0]).await.unwrap().is_none());
    for mode in [SearchMode::Lexical, SearchMode::Vector, SearchMode::Hybrid] {
        let hits = kb.search(&SearchQuery::new("refunds card").mode(mode)).await.unwrap();
        assert!(hits.iter().all(|hit| hit.content_id != ids[0]), "{mode:?}");
    }
    let err = kb.update("missing", ContentPatch::default()).await.unwrap_err();
    assert!(matches!(err, KnowledgeError::Store(agent_core::StoreError::NotFound { .. })), "{err}");
}

/// Deleting an item while it is being ingested leaves no chunks behind.
pub(crate) async fn delete_during_ingestion_leaves_nothing(store: Store) {
    let gate = Arc::new(Semaphore::new(0));
    let embedder = GatedEmbedder { gate: Arc::clone(&gate), inner: HashEmbedder::new(16) };
    let kb = KnowledgeBase::builder_shared(Arc::clone(&store)).embedder(embedder).build();
    let item = kb.add(ContentInput::text("gone.txt", "Ephemeral text about comets.")).await.unwrap();
    assert!(kb.delete(&item.id).await.unwrap());
    gate.add_permits(10);
    kb.wait_idle().await;
    assert_eq!(store.chunk_count(None).await.unwrap(), 0);
    assert!(kb.content(&item.id).await.unwrap().is_none());
}

/// Lists page and sort; content serializes in the AgentOS shape.
pub(crate) async fn list_pages_and_agentos_shape(store: Store) {
    let kb = kb(&store).build();
    add_docs(&kb).await;
    let query = ContentQuery {
        limit: Some(2),
        page: Some(2),
        sort_by: agent_memory::knowledge::ContentSort::Name,
        sort_order: agent_core::SortOrder::Asc,
    };
    let page = kb.list(&query).await.unwrap();
    assert_eq!((page.total, page.total_pages(), page.items.len()), (3, 2, 1));
    assert_eq!(page.items[0].name, "support.md");
    let json = serde_json::to_value(&page.items[0]).unwrap();
    for key in ["id", "name", "description", "type", "size", "metadata", "access_count", "status", "status_message"] {
        assert!(json.get(key).is_some(), "missing `{key}` in {json}");
    }
    assert_eq!(json["status"], "completed");
    assert_eq!(json["type"], "text/markdown");
    assert_eq!(json["size"], SUPPORT.len().to_string());
    assert!(json["created_at"].as_str().is_some_and(|t| t.len() == 20 && t.ends_with('Z')), "{json}");
    let config = serde_json::to_value(kb.config().await.unwrap()).unwrap();
    assert_eq!(config["readers"]["markdown"]["chunkers"][0], "MarkdownChunker");
    assert_eq!(config["readersForType"][".pdf"], json!(["pdf"]));
    assert_eq!(config["vector_dbs"][0]["search_types"], json!(["keyword", "vector", "hybrid"]));
    assert_eq!(config["filters"], json!(["team", "year"]));
}

/// An embedder that panics.
pub(crate) struct PanickingEmbedder;

#[async_trait]
impl Embedder for PanickingEmbedder {
    fn dimensions(&self) -> usize {
        8
    }

    async fn embed(&self, _texts: &[String]) -> Result<Vec<Vec<f32>>, KnowledgeError> {
        panic!("embedder bug")
    }
}

/// A panicking embedder fails the item instead of leaving it processing with
/// its waiters blocked; the knowledge base keeps working.
pub(crate) async fn a_panicking_embedder_fails_the_item(store: Store) {
    let panicking = KnowledgeBase::builder_shared(Arc::clone(&store)).embedder(PanickingEmbedder).build();
    let input = ContentInput::text("a.txt", REFUNDS);
    let waited = tokio::time::timeout(Duration::from_secs(30), panicking.add_and_wait(input));
    let failed = waited.await.expect("wait() returns").unwrap();
    assert_eq!(failed.status, ContentStatus::Failed);
    assert!(
        failed.status_message.contains("panicked") && failed.status_message.contains("embedder bug"),
        "{}",
        failed.status_message
    );
    assert_eq!(store.chunk_count(Some(&failed.id)).await.unwrap(), 0);
    let working = kb(&store).build();
    let retried = working.add_and_wait(ContentInput::text("a.txt", REFUNDS)).await.unwrap();
    assert_eq!((retried.id, retried.status), (failed.id, ContentStatus::Completed), "added again, it is ingested");
}

/// An item left `processing` by a process that stopped (no heartbeat).
pub(crate) fn interrupted_item(name: &str, updated_at: i64) -> agent_memory::knowledge::Content {
    agent_memory::knowledge::Content {
        id: format!("id-{name}"),
        name: name.into(),
        content_hash: format!("hash-{name}"),
        status: ContentStatus::Processing,
        created_at: updated_at,
        updated_at,
        ..Default::default()
    }
}

/// Items a stopped process left processing are failed (and can be added again); live ones are left alone.
pub(crate) async fn interrupted_ingestions_are_recovered(store: Store) {
    let now = agent_core::support::unix_now();
    assert!(store.insert_content(&interrupted_item("stale.txt", now - 3_600)).await.unwrap().is_none());
    assert!(store.insert_content(&interrupted_item("live.txt", now)).await.unwrap().is_none());
    let kb = kb(&store).build();
    assert_eq!(kb.recover_interrupted().await.unwrap(), 1);
    let stale = kb.content("id-stale.txt").await.unwrap().unwrap();
    assert_eq!(stale.status, ContentStatus::Failed);
    assert!(stale.status_message.contains("interrupted"), "{}", stale.status_message);
    assert_eq!(
        kb.status("id-live.txt").await.unwrap().status,
        ContentStatus::Processing,
        "another process may be on it"
    );
    assert_eq!(kb.recover_interrupted().await.unwrap(), 0);
}

/// Runs a check on a fresh store from `open`; `None` means the backend is unavailable.
#[macro_export]
macro_rules! conformance {
    ($open:expr) => {
        $crate::conformance!(@tests $open;
            lexical_search_finds_and_cites,
            vector_and_hybrid_search,
            metadata_filters,
            status_lifecycle_and_idempotent_re_add,
            bad_content_fails_with_reason,
            embedder_failures_and_timeouts,
            chunks_are_invisible_until_completed,
            update_and_delete_follow_chunks,
            delete_during_ingestion_leaves_nothing,
            list_pages_and_agentos_shape,
            a_panicking_embedder_fails_the_item,
            interrupted_ingestions_are_recovered,
            per_item_reader_and_chunking,
            content_in_hand_is_bounded,
            delete_all_empties_the_base,
        );
    };
    (@tests $open:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                if let Some(store) = $open.await {
                    $crate::knowledge_suite::$check(store).await;
                }
            }
        )*
    };
}

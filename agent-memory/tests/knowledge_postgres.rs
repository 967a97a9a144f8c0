//! The knowledge conformance suite on Postgres (set `AGENT_TEST_POSTGRES_URL`;
//! each test says it was skipped otherwise). Each test uses its own table prefix.

#![allow(clippy::unwrap_used)]

mod knowledge_suite;
mod postgres_env;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use agent_memory::knowledge::{IndexKind, KnowledgeStore, PostgresKnowledge};

static NEXT: AtomicUsize = AtomicUsize::new(0);

async fn open() -> Option<Arc<dyn KnowledgeStore>> {
    Some(Arc::new(connect().await?.0))
}

/// A store on a fresh prefix, and the prefix.
async fn connect() -> Option<(PostgresKnowledge, String)> {
    let url = postgres_env::url()?;
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(&url).await.unwrap();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let prefix = format!("kt_{}_{}_{}", std::process::id(), nanos % 1_000_000_000, NEXT.fetch_add(1, Ordering::SeqCst));
    Some((PostgresKnowledge::with_pool(pool, &prefix).await.unwrap(), prefix))
}

conformance!(open());

mod in_memory_index {
    use super::*;

    async fn open() -> Option<Arc<dyn KnowledgeStore>> {
        Some(Arc::new(connect().await?.0.index_kind(IndexKind::Exact)))
    }

    conformance!(open());
}

/// Two stores on the same tables stand for two server processes: each one's
/// in-memory index follows the other's writes.
#[tokio::test]
async fn in_memory_indexes_follow_writes_from_other_processes() {
    use agent_core::knowledge::{HashEmbedder, Knowledge, SearchMode, SearchQuery};
    use agent_memory::knowledge::{ContentInput, KnowledgeBase};

    let Some((first, prefix)) = connect().await else { return };
    let second = PostgresKnowledge::with_pool(first.pool().clone(), &prefix).await.unwrap();
    let writer = KnowledgeBase::builder(first.index_kind(IndexKind::Exact)).embedder(HashEmbedder::new(32)).build();
    let reader = KnowledgeBase::builder(second.index_kind(IndexKind::Exact)).embedder(HashEmbedder::new(32)).build();
    let query = SearchQuery::new("glaciers melt").mode(SearchMode::Vector);
    assert!(reader.search(&query).await.unwrap().is_empty(), "loads an empty index");
    let item = writer.add_and_wait(ContentInput::text("ice.txt", "Glaciers melt in summer.")).await.unwrap();
    assert_eq!(reader.search(&query).await.unwrap()[0].content_id, item.id, "reloaded after a foreign write");
    assert!(writer.delete(&item.id).await.unwrap());
    assert!(reader.search(&query).await.unwrap().is_empty(), "a foreign delete is seen");
}

#[tokio::test]
async fn opening_recovers_items_a_stopped_process_left_processing() {
    use agent_memory::knowledge::{ContentStatus, KnowledgeStore};

    let Some((store, prefix)) = connect().await else { return };
    let stale = knowledge_suite::interrupted_item("stale.txt", agent_core::support::unix_now() - 3_600);
    assert!(store.insert_content(&stale).await.unwrap().is_none());
    let reopened = PostgresKnowledge::with_pool(store.pool().clone(), &prefix).await.unwrap();
    let item = reopened.content(&stale.id).await.unwrap().unwrap();
    assert_eq!(item.status, ContentStatus::Failed, "{}", item.status_message);
}

//! The knowledge conformance suite on SQLite: in memory, on a file, and with the IVF index.

#![allow(clippy::unwrap_used)]

mod knowledge_suite;

use std::sync::Arc;

use agent_memory::knowledge::{IndexKind, KnowledgeStore, SqliteKnowledge};

async fn open() -> Option<Arc<dyn KnowledgeStore>> {
    Some(Arc::new(SqliteKnowledge::open_in_memory().await.unwrap()))
}

conformance!(open());

mod file {
    use super::*;

    async fn open() -> Option<Arc<dyn KnowledgeStore>> {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteKnowledge::open(dir.path().join("knowledge.db")).await.unwrap();
        // The directory must outlive the test; the OS temp dir is cleaned by the OS.
        std::mem::forget(dir);
        Some(Arc::new(store.index_kind(IndexKind::Ivf { probes: 4 })))
    }

    conformance!(open());
}

#[tokio::test]
async fn reopening_a_file_keeps_content_and_schema() {
    use agent_core::knowledge::{Knowledge, SearchMode, SearchQuery};
    use agent_memory::knowledge::{ContentInput, KnowledgeBase};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb.db");
    {
        let kb = KnowledgeBase::builder(SqliteKnowledge::open(&path).await.unwrap()).build();
        kb.add_and_wait(ContentInput::text("tides.txt", "Tides follow the moon.")).await.unwrap();
    }
    let kb = KnowledgeBase::builder(SqliteKnowledge::open(&path).await.unwrap()).build();
    let hits = kb.search(&SearchQuery::new("moon").mode(SearchMode::Lexical)).await.unwrap();
    assert_eq!(hits[0].name, "tides.txt");
}

#[tokio::test]
async fn two_prefixes_in_one_database_are_separate() {
    use agent_core::knowledge::{Knowledge, SearchMode, SearchQuery};
    use agent_memory::knowledge::{ContentInput, KnowledgeBase};

    let dir = tempfile::tempdir().unwrap();
    let first = SqliteKnowledge::open(dir.path().join("kb.db")).await.unwrap();
    let pool = first.pool().clone();
    let second = SqliteKnowledge::with_pool(pool.clone(), "manuals", IndexKind::Exact).await.unwrap();
    let first = KnowledgeBase::builder(first).build();
    let second = KnowledgeBase::builder(second).build();
    first.add_and_wait(ContentInput::text("a.txt", "Volcanoes erupt.")).await.unwrap();
    let query = SearchQuery::new("volcanoes").mode(SearchMode::Lexical);
    assert_eq!(first.search(&query).await.unwrap().len(), 1);
    assert!(second.search(&query).await.unwrap().is_empty());
    assert!(SqliteKnowledge::with_pool(pool, "bad prefix;", IndexKind::Exact).await.is_err());
}

#[tokio::test]
async fn opening_recovers_items_a_stopped_process_left_processing() {
    use agent_memory::knowledge::{ContentStatus, KnowledgeStore};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb.db");
    let store = SqliteKnowledge::open(&path).await.unwrap();
    let stale = knowledge_suite::interrupted_item("stale.txt", agent_core::support::unix_now() - 3_600);
    assert!(store.insert_content(&stale).await.unwrap().is_none());
    store.pool().close().await;
    // The process "crashed" with the item processing; the next one opens the file.
    let reopened = SqliteKnowledge::open(&path).await.unwrap();
    let item = reopened.content(&stale.id).await.unwrap().unwrap();
    assert_eq!(item.status, ContentStatus::Failed, "{}", item.status_message);
}

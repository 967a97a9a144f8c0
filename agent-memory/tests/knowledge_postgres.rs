//! The knowledge conformance suite on Postgres (set `AGENT_TEST_POSTGRES_URL`;
//! skipped with one line otherwise). Each test uses its own table prefix.

#![allow(clippy::unwrap_used)]

mod knowledge_suite;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use agent_memory::knowledge::{KnowledgeStore, PostgresKnowledge};

static NEXT: AtomicUsize = AtomicUsize::new(0);

async fn open() -> Option<Arc<dyn KnowledgeStore>> {
    let Ok(url) = std::env::var("AGENT_TEST_POSTGRES_URL") else {
        println!("skipped: AGENT_TEST_POSTGRES_URL is not set");
        return None;
    };
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(&url).await.unwrap();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let prefix = format!("kt_{}_{}_{}", std::process::id(), nanos % 1_000_000_000, NEXT.fetch_add(1, Ordering::SeqCst));
    Some(Arc::new(PostgresKnowledge::with_pool(pool, &prefix).await.unwrap()))
}

conformance!(open());

//! The store conformance suite against the in-memory stores of `agent-core`.

mod conformance;

use std::sync::Arc;

use agent_core::InMemoryStore;
use agent_core::eval::InMemoryEvalStore;
use agent_core::memory::InMemoryMemoryStore;
use conformance::Stores;

async fn stores() -> Option<Stores> {
    Some(Stores {
        sessions: Arc::new(InMemoryStore::new()),
        memories: Arc::new(InMemoryMemoryStore::new()),
        evals: Arc::new(InMemoryEvalStore::new()),
        raw: None,
        reopen: None,
        guard: None,
    })
}

all_backend_tests!(stores);

async fn trace_stores() -> Option<conformance::traces::TraceStores> {
    Some(conformance::traces::TraceStores {
        store: Arc::new(agent_core::trace::InMemoryTraceStore::new()),
        guard: None,
    })
}

trace_backend_tests!(trace_stores);

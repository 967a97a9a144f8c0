//! The `TraceStore` trait: where finished traces are kept, listed, searched and read back.

use async_trait::async_trait;

use super::filter::TraceFilter;
use super::record::{SpanRecord, Trace, TraceSummary};
use crate::session::{Page, StoreError};

/// Which traces to list, one page of them. Traces come newest first (by
/// start time; ties by trace id, descending).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraceQuery {
    /// What a trace must match; `None` matches every trace.
    pub filter: Option<TraceFilter>,
    /// Page size; `None` lists all.
    pub limit: Option<u32>,
    /// 1-based page number (default 1).
    pub page: Option<u32>,
}

impl TraceQuery {
    /// Every trace, unpaged.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a filter: a trace must match it and the filters added before.
    #[must_use]
    pub fn filter(mut self, filter: TraceFilter) -> Self {
        self.filter = Some(match self.filter.take() {
            None => filter,
            Some(TraceFilter::And(mut filters)) => {
                filters.push(filter);
                TraceFilter::And(filters)
            }
            Some(existing) => TraceFilter::And(vec![existing, filter]),
        });
        self
    }

    /// One page of `limit` traces.
    #[must_use]
    pub fn page(mut self, page: u32, limit: u32) -> Self {
        self.page = Some(page);
        self.limit = Some(limit);
        self
    }

    /// Refuses a filter whose values do not fit their fields.
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        match &self.filter {
            Some(filter) => filter.check().map_err(|error| StoreError::Invalid(error.to_string())),
            None => Ok(()),
        }
    }
}

/// The traces of one session, summed up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionTraceStats {
    /// The session.
    pub session_id: String,
    /// The session's user (the greatest, by byte order, when its traces differ).
    pub user_id: Option<String>,
    /// The agent of its traces (the greatest, when they differ).
    pub agent_id: Option<String>,
    /// The team of its traces (the greatest, when they differ).
    pub team_id: Option<String>,
    /// The workflow of its traces (the greatest, when they differ).
    pub workflow_id: Option<String>,
    /// How many traces it has.
    pub total_traces: u64,
    /// Unix microseconds its first trace was recorded.
    pub first_trace_at: i64,
    /// Unix microseconds its last trace was recorded.
    pub last_trace_at: i64,
}

/// Where finished traces are kept.
///
/// Implementations: [`InMemoryTraceStore`](super::InMemoryTraceStore)
/// here; SQLite and Postgres in `agent-memory` (whose `TraceLayer` is the
/// `tracing` layer that writes here). All of them pass one conformance suite.
///
/// # Example
///
/// ```
/// use agent_core::trace::{InMemoryTraceStore, TraceField, TraceFilter, TraceQuery, TraceStore};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = InMemoryTraceStore::new();
/// // Traces arrive from a subscriber (agent_memory::TraceLayer); none yet.
/// let query = TraceQuery::new().filter(TraceFilter::eq(TraceField::AgentId, "weather")).page(1, 20);
/// let page = store.traces(&query).await?;
/// assert_eq!((page.items.len(), page.total), (0, 0));
/// assert!(store.trace("no-such-trace").await?.is_none());
/// # Ok::<_, agent_core::StoreError>(()) }).unwrap();
/// ```
#[async_trait]
pub trait TraceStore: Send + Sync + 'static {
    /// Stores whole traces (a batch, in one write where the backend can); a
    /// trace whose id is stored already replaces it.
    ///
    /// # Errors
    ///
    /// A backend error; then none of the batch is stored.
    async fn insert_traces(&self, traces: &[Trace]) -> Result<(), StoreError>;

    /// The summaries of the traces matching the query, newest first, one page.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for a filter whose values do not fit their
    /// fields; a backend error.
    async fn traces(&self, query: &TraceQuery) -> Result<Page<TraceSummary>, StoreError>;

    /// Whole traces (with their spans) matching the query, newest first, one page.
    ///
    /// # Errors
    ///
    /// As [`TraceStore::traces`].
    async fn search_traces(&self, query: &TraceQuery) -> Result<Page<Trace>, StoreError> {
        let summaries = self.traces(query).await?;
        let mut items = Vec::with_capacity(summaries.items.len());
        for summary in summaries.items {
            if let Some(trace) = self.trace(&summary.trace_id).await? {
                items.push(trace);
            }
        }
        Ok(Page { items, total: summaries.total, page: summaries.page, limit: summaries.limit })
    }

    /// The trace with this id, with its spans (root first, in the order they started).
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] when a row cannot be decoded; a backend error.
    async fn trace(&self, trace_id: &str) -> Result<Option<Trace>, StoreError>;

    /// One span of a trace.
    ///
    /// # Errors
    ///
    /// As [`TraceStore::trace`].
    async fn span(&self, trace_id: &str, span_id: &str) -> Result<Option<SpanRecord>, StoreError>;

    /// The sessions of the traces matching the query (traces without a
    /// session are left out), the most recently traced first (ties by
    /// session id, descending), one page.
    ///
    /// # Errors
    ///
    /// As [`TraceStore::traces`].
    async fn trace_session_stats(&self, query: &TraceQuery) -> Result<Page<SessionTraceStats>, StoreError>;
}

//! `InMemoryTraceStore`: a `TraceStore` in process memory.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use super::record::{SpanRecord, Trace, TraceSummary};
use super::store::{SessionTraceStats, TraceQuery, TraceStore};
use crate::session::{Page, StoreError, paginate};

/// A [`TraceStore`] in process memory, for tests and short-lived programs.
#[derive(Debug, Default)]
pub struct InMemoryTraceStore {
    traces: Mutex<BTreeMap<String, Trace>>,
}

impl InMemoryTraceStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn data(&self) -> MutexGuard<'_, BTreeMap<String, Trace>> {
        self.traces.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The matching summaries, newest first.
    fn matching(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
        query.check()?;
        let data = self.data();
        let mut found: Vec<TraceSummary> = data
            .values()
            .map(|trace| &trace.summary)
            .filter(|summary| query.filter.as_ref().is_none_or(|filter| filter.matches(summary)))
            .cloned()
            .collect();
        found.sort_by(|a, b| (b.start_time, &b.trace_id).cmp(&(a.start_time, &a.trace_id)));
        Ok(found)
    }
}

#[async_trait]
impl TraceStore for InMemoryTraceStore {
    async fn insert_traces(&self, traces: &[Trace]) -> Result<(), StoreError> {
        let mut data = self.data();
        for trace in traces {
            data.insert(trace.summary.trace_id.clone(), trace.clone());
        }
        Ok(())
    }

    async fn traces(&self, query: &TraceQuery) -> Result<Page<TraceSummary>, StoreError> {
        Ok(paginate(self.matching(query)?, query.limit, query.page))
    }

    async fn search_traces(&self, query: &TraceQuery) -> Result<Page<Trace>, StoreError> {
        let page = paginate(self.matching(query)?, query.limit, query.page);
        let data = self.data();
        let items = page.items.iter().filter_map(|summary| data.get(&summary.trace_id).cloned()).collect();
        Ok(Page { items, total: page.total, page: page.page, limit: page.limit })
    }

    async fn trace(&self, trace_id: &str) -> Result<Option<Trace>, StoreError> {
        Ok(self.data().get(trace_id).cloned())
    }

    async fn span(&self, trace_id: &str, span_id: &str) -> Result<Option<SpanRecord>, StoreError> {
        Ok(self.data().get(trace_id).and_then(|trace| trace.span(span_id).cloned()))
    }

    async fn trace_session_stats(&self, query: &TraceQuery) -> Result<Page<SessionTraceStats>, StoreError> {
        let mut sessions: BTreeMap<String, SessionTraceStats> = BTreeMap::new();
        for trace in self.matching(query)? {
            let Some(session_id) = trace.session_id.clone() else { continue };
            let stats = sessions.entry(session_id.clone()).or_insert_with(|| SessionTraceStats {
                session_id,
                first_trace_at: trace.created_at,
                last_trace_at: trace.created_at,
                ..SessionTraceStats::default()
            });
            stats.total_traces += 1;
            stats.first_trace_at = stats.first_trace_at.min(trace.created_at);
            stats.last_trace_at = stats.last_trace_at.max(trace.created_at);
            // As SQL's MAX: the greatest value, by byte order.
            for (kept, found) in [
                (&mut stats.user_id, trace.user_id),
                (&mut stats.agent_id, trace.agent_id),
                (&mut stats.team_id, trace.team_id),
                (&mut stats.workflow_id, trace.workflow_id),
            ] {
                if found.is_some() && *kept < found {
                    *kept = found;
                }
            }
        }
        let mut rows: Vec<SessionTraceStats> = sessions.into_values().collect();
        rows.sort_by_key(|stats| Reverse((stats.last_trace_at, stats.session_id.clone())));
        Ok(paginate(rows, query.limit, query.page))
    }
}

//! `InMemoryStore`: a `SessionStore` in process memory.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::watch;

use super::store::{ABANDONED_RUN_ERROR, SessionStore, StoreError};
use super::{Page, RunRecord, RunStatus, Session, SessionQuery, SessionSort, SortOrder, paginate, unix_now};

/// A [`SessionStore`] in process memory, for tests and short-lived programs.
///
/// Leases expire by the process's monotonic clock; a cancel request wakes
/// [`wait_cancel`](SessionStore::wait_cancel) at once. It holds any text.
#[derive(Debug)]
pub struct InMemoryStore {
    inner: Mutex<InMemoryData>,
    /// Bumped on every cancel request and session deletion, to wake waiters.
    changes: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct InMemoryData {
    sessions: HashMap<String, Session>,
    /// Runs per session, in insertion order.
    runs: HashMap<String, Vec<RunRecord>>,
    /// Lease holder and expiry per session.
    leases: HashMap<String, (String, Instant)>,
    /// `(session_id, run_id)` of the runs a cancel was requested for.
    cancel_requested: HashSet<(String, String)>,
}

impl Default for InMemoryStore {
    fn default() -> Self {
        Self { inner: Mutex::default(), changes: watch::Sender::new(0) }
    }
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn data(&self) -> MutexGuard<'_, InMemoryData> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake(&self) {
        self.changes.send_modify(|generation| *generation = generation.wrapping_add(1));
    }
}

impl InMemoryData {
    fn put_run(&mut self, run: &RunRecord) {
        let runs = self.runs.entry(run.session_id.clone()).or_default();
        match runs.iter_mut().find(|existing| existing.run_id == run.run_id) {
            Some(existing) => *existing = run.clone(),
            None => runs.push(run.clone()),
        }
    }

    fn find_run(&self, run_id: &str) -> Result<Option<&RunRecord>, StoreError> {
        let mut found = self.runs.values().flatten().filter(|run| run.run_id == run_id);
        match (found.next(), found.next()) {
            (Some(_), Some(_)) => Err(ambiguous_run(run_id)),
            (run, _) => Ok(run),
        }
    }

    fn has_live_lease(&self, session_id: &str, now: Instant) -> bool {
        self.leases.get(session_id).is_some_and(|(_, expires)| *expires > now)
    }
}

/// The error for a run id found in several sessions.
fn ambiguous_run(run_id: &str) -> StoreError {
    StoreError::Invalid(format!("run id `{run_id}` is used in several sessions; look it up with its session"))
}

/// Checks that a run belongs to the session it is saved with.
fn check_same_session(session: &Session, run: &RunRecord) -> Result<(), StoreError> {
    if run.session_id != session.session_id {
        return Err(StoreError::Invalid(format!(
            "run `{}` belongs to session `{}`, not `{}`",
            run.run_id, run.session_id, session.session_id
        )));
    }
    Ok(())
}

#[async_trait]
impl SessionStore for InMemoryStore {
    async fn session(&self, session_id: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.data().sessions.get(session_id).cloned())
    }

    async fn upsert_session(&self, session: &Session) -> Result<(), StoreError> {
        self.data().sessions.insert(session.session_id.clone(), session.clone());
        Ok(())
    }

    async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError> {
        let existed = {
            let mut data = self.data();
            data.runs.remove(session_id);
            data.cancel_requested.retain(|(session, _)| session != session_id);
            data.sessions.remove(session_id).is_some()
        };
        self.wake();
        Ok(existed)
    }

    async fn list_sessions(&self, query: &SessionQuery) -> Result<Page<Session>, StoreError> {
        let data = self.data();
        let name_filter = query.session_name.as_ref().map(|name| name.to_lowercase());
        let mut rows: Vec<&Session> = data
            .sessions
            .values()
            .filter(|s| query.session_type.is_none_or(|t| s.session_type == t))
            .filter(|s| query.component_id.as_ref().is_none_or(|id| s.component_id.as_ref() == Some(id)))
            .filter(|s| query.user_id.as_ref().is_none_or(|id| s.user_id.as_ref() == Some(id)))
            .filter(|s| {
                name_filter.as_ref().is_none_or(|needle| {
                    s.session_name.as_ref().is_some_and(|name| name.to_lowercase().contains(needle))
                })
            })
            .collect();
        rows.sort_by(|a, b| {
            let ordering = match query.sort_by {
                SessionSort::CreatedAt => a.created_at.cmp(&b.created_at),
                SessionSort::UpdatedAt => a.updated_at.cmp(&b.updated_at),
                SessionSort::SessionName => a.session_name.cmp(&b.session_name),
            }
            .then_with(|| a.session_id.cmp(&b.session_id));
            match query.sort_order {
                SortOrder::Asc => ordering,
                SortOrder::Desc => ordering.reverse(),
            }
        });
        Ok(paginate(rows.into_iter().cloned().collect(), query.limit, query.page))
    }

    async fn start_run(&self, session: &Session, run: &RunRecord) -> Result<(), StoreError> {
        check_same_session(session, run)?;
        if run.status != RunStatus::Running {
            return Err(StoreError::Invalid(format!(
                "run `{}` starts as `{}`, not running",
                run.run_id,
                run.status.as_str()
            )));
        }
        let mut data = self.data();
        data.sessions.entry(session.session_id.clone()).or_insert_with(|| session.clone());
        data.cancel_requested.remove(&(run.session_id.clone(), run.run_id.clone()));
        data.put_run(run);
        Ok(())
    }

    async fn save_run(&self, session: &Session, run: &RunRecord) -> Result<(), StoreError> {
        check_same_session(session, run)?;
        let mut data = self.data();
        let Some(stored) = data.sessions.get_mut(&session.session_id) else {
            return Err(StoreError::NotFound { what: "session", id: session.session_id.clone() });
        };
        stored.state.clone_from(&session.state);
        stored.summary.clone_from(&session.summary);
        stored.metrics.clone_from(&session.metrics);
        if stored.session_name.is_none() {
            stored.session_name.clone_from(&session.session_name);
        }
        stored.updated_at = session.updated_at;
        if stored.user_id.is_none() {
            stored.user_id.clone_from(&session.user_id);
        }
        if stored.component_id.is_none() {
            stored.component_id.clone_from(&session.component_id);
        }
        data.put_run(run);
        Ok(())
    }

    async fn run(&self, session_id: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        Ok(self.data().runs.get(session_id).and_then(|runs| runs.iter().find(|r| r.run_id == run_id).cloned()))
    }

    async fn find_run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        Ok(self.data().find_run(run_id)?.cloned())
    }

    async fn runs(&self, session_id: &str, last: Option<usize>) -> Result<Vec<RunRecord>, StoreError> {
        let data = self.data();
        let Some(runs) = data.runs.get(session_id) else { return Ok(Vec::new()) };
        let skip = last.map_or(0, |last| runs.len().saturating_sub(last));
        Ok(runs[skip..].to_vec())
    }

    async fn acquire_lease(&self, session_id: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut data = self.data();
        if let Some((current, expires)) = data.leases.get(session_id)
            && current != holder
            && *expires > now
        {
            return Ok(false);
        }
        // A TTL too long for the clock is as good as forever.
        let expires = now.checked_add(ttl).unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400));
        data.leases.insert(session_id.to_owned(), (holder.to_owned(), expires));
        Ok(true)
    }

    async fn release_lease(&self, session_id: &str, holder: &str) -> Result<bool, StoreError> {
        let mut data = self.data();
        if data.leases.get(session_id).is_some_and(|(current, _)| current == holder) {
            data.leases.remove(session_id);
            return Ok(true);
        }
        Ok(false)
    }

    async fn claim_paused_run(&self, session_id: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        let mut data = self.data();
        let run = data
            .runs
            .get_mut(session_id)
            .and_then(|runs| runs.iter_mut().find(|run| run.run_id == run_id))
            .ok_or_else(|| StoreError::NotFound { what: "run", id: run_id.to_owned() })?;
        if run.status != RunStatus::Paused {
            return Ok(None);
        }
        run.status = RunStatus::Running;
        run.updated_at = unix_now();
        let claimed = run.clone();
        data.cancel_requested.remove(&(session_id.to_owned(), run_id.to_owned()));
        Ok(Some(claimed))
    }

    async fn request_cancel(&self, run_id: &str) -> Result<bool, StoreError> {
        let requested = {
            let mut data = self.data();
            let running: Vec<(String, String)> = data
                .runs
                .values()
                .flatten()
                .filter(|run| run.run_id == run_id && run.status == RunStatus::Running)
                .map(|run| (run.session_id.clone(), run.run_id.clone()))
                .collect();
            let requested = !running.is_empty();
            data.cancel_requested.extend(running);
            requested
        };
        if requested {
            self.wake();
        }
        Ok(requested)
    }

    async fn wait_cancel(&self, run_id: &str) -> Result<(), StoreError> {
        let mut changes = self.changes.subscribe();
        loop {
            {
                let data = self.data();
                let run = data
                    .find_run(run_id)?
                    .ok_or_else(|| StoreError::NotFound { what: "run", id: run_id.to_owned() })?;
                if data.cancel_requested.contains(&(run.session_id.clone(), run.run_id.clone())) {
                    return Ok(());
                }
            }
            // The sender lives as long as the store, which outlives this borrow.
            if changes.changed().await.is_err() {
                return Err(StoreError::NotFound { what: "run", id: run_id.to_owned() });
            }
        }
    }

    async fn daily_metrics(
        &self,
        range: super::metrics::DayRange,
    ) -> Result<Vec<super::metrics::DayMetrics>, StoreError> {
        let data = self.data();
        let pairs = data.runs.iter().flat_map(|(session_id, runs)| {
            let session = data.sessions.get(session_id);
            runs.iter().filter_map(move |run| session.map(|session| (session, run)))
        });
        Ok(super::metrics::aggregate(pairs, range))
    }

    async fn fail_abandoned_runs(&self) -> Result<u64, StoreError> {
        let now = Instant::now();
        let mut data = self.data();
        let abandoned: Vec<String> =
            data.runs.keys().filter(|session_id| !data.has_live_lease(session_id, now)).cloned().collect();
        let mut failed = 0;
        for session_id in abandoned {
            for run in data.runs.get_mut(&session_id).into_iter().flatten() {
                if run.status == RunStatus::Running {
                    run.status = RunStatus::Error;
                    run.error = Some(ABANDONED_RUN_ERROR.to_owned());
                    run.close_open_tool_calls(ABANDONED_RUN_ERROR);
                    run.updated_at = unix_now();
                    failed += 1;
                }
            }
        }
        Ok(failed)
    }

    fn check_storable(&self, _what: &str, _text: &str) -> Result<(), StoreError> {
        Ok(())
    }

    fn check_storable_json(&self, _what: &str, _value: &Value) -> Result<(), StoreError> {
        Ok(())
    }
}

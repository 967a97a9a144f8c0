//! Where eval runs are kept: the `EvalStore` trait, its list query, and the in-memory store.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::record::{EvalRun, EvalType};
use crate::session::{Page, SessionType, SortOrder, StoreError, paginate, unix_now};

/// What eval runs are sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalSort {
    /// Creation time.
    #[default]
    CreatedAt,
    /// Last update time.
    UpdatedAt,
    /// The display name (runs without one sort as an empty name).
    Name,
}

/// Filters, paging and sorting for [`EvalStore::list_eval_runs`], as the
/// AgentOS `GET /eval-runs` endpoint takes them. Filters combine with AND.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalQuery {
    /// Only evals of this agent.
    pub agent_id: Option<String>,
    /// Only evals of this team.
    pub team_id: Option<String>,
    /// Only evals of this workflow.
    pub workflow_id: Option<String>,
    /// Only evals whose runs used this model.
    pub model_id: Option<String>,
    /// Only evals of agents, of teams or of workflows (AgentOS `type`).
    pub component: Option<SessionType>,
    /// Only evals of these types (any of them); all types when empty.
    #[serde(default)]
    pub eval_types: Vec<EvalType>,
    /// Page size; all rows when unset.
    pub limit: Option<u32>,
    /// 1-based page number.
    pub page: Option<u32>,
    /// Sort key.
    #[serde(default)]
    pub sort_by: EvalSort,
    /// Sort direction (newest first by default).
    #[serde(default)]
    pub sort_order: SortOrder,
}

impl EvalQuery {
    /// Whether a run passes the filters (not paging). Backends without a
    /// query language use it; SQL backends must agree with it.
    pub fn matches(&self, run: &EvalRun) -> bool {
        let same = |filter: &Option<String>, value: &Option<String>| filter.is_none() || filter == value;
        let component = match self.component {
            None => true,
            Some(SessionType::Agent) => run.agent_id.is_some(),
            Some(SessionType::Team) => run.team_id.is_some(),
            Some(SessionType::Workflow) => run.workflow_id.is_some(),
        };
        same(&self.agent_id, &run.agent_id)
            && same(&self.team_id, &run.team_id)
            && same(&self.workflow_id, &run.workflow_id)
            && same(&self.model_id, &run.model_id)
            && component
            && (self.eval_types.is_empty() || self.eval_types.contains(&run.eval_type))
    }

    /// The order of two runs under this query's sort; ties are broken by id.
    pub fn compare(&self, a: &EvalRun, b: &EvalRun) -> Ordering {
        let ordering = match self.sort_by {
            EvalSort::CreatedAt => a.created_at.cmp(&b.created_at),
            EvalSort::UpdatedAt => a.updated_at.cmp(&b.updated_at),
            EvalSort::Name => a.name.as_deref().unwrap_or("").cmp(b.name.as_deref().unwrap_or("")),
        }
        .then_with(|| a.id.cmp(&b.id));
        match self.sort_order {
            SortOrder::Asc => ordering,
            SortOrder::Desc => ordering.reverse(),
        }
    }
}

/// Where eval runs are kept.
///
/// Implementations: [`InMemoryEvalStore`] here; SQLite and Postgres in
/// `agent-memory`. All of them pass the same conformance suite.
///
/// List calls skip a row that cannot be decoded (and log it with `tracing`);
/// `total` still counts it. Direct reads ([`EvalStore::eval_run`]) return
/// [`StoreError::Corrupt`] for it.
#[async_trait]
pub trait EvalStore: Send + Sync + 'static {
    /// Stores a new eval run.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when a run with its id exists or the store
    /// cannot hold its content, or a backend error.
    async fn create_eval_run(&self, run: &EvalRun) -> Result<(), StoreError>;

    /// The eval run with this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] when the row cannot be decoded, or a backend error.
    async fn eval_run(&self, id: &str) -> Result<Option<EvalRun>, StoreError>;

    /// Eval runs matching the query, one page of them.
    ///
    /// # Errors
    ///
    /// A backend error.
    async fn list_eval_runs(&self, query: &EvalQuery) -> Result<Page<EvalRun>, StoreError>;

    /// Renames an eval run (and sets its `updated_at` to now); returns it as
    /// it is now, or `None` when there is none with this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when the store cannot hold the name,
    /// [`StoreError::Corrupt`] when the row cannot be decoded, or a backend error.
    async fn rename_eval_run(&self, id: &str, name: &str) -> Result<Option<EvalRun>, StoreError>;

    /// Deletes eval runs by id, in one transaction; returns how many existed.
    ///
    /// # Errors
    ///
    /// A backend error; nothing is deleted then.
    async fn delete_eval_runs(&self, ids: &[String]) -> Result<u64, StoreError>;
}

/// An [`EvalStore`] in process memory, for tests and short-lived programs.
#[derive(Debug, Default)]
pub struct InMemoryEvalStore {
    runs: Mutex<HashMap<String, EvalRun>>,
}

impl InMemoryEvalStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn data(&self) -> MutexGuard<'_, HashMap<String, EvalRun>> {
        self.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The error for a second run with an existing id.
pub(crate) fn duplicate(id: &str) -> StoreError {
    StoreError::Invalid(format!("an eval run with id `{id}` already exists"))
}

#[async_trait]
impl EvalStore for InMemoryEvalStore {
    async fn create_eval_run(&self, run: &EvalRun) -> Result<(), StoreError> {
        let mut data = self.data();
        if data.contains_key(&run.id) {
            return Err(duplicate(&run.id));
        }
        data.insert(run.id.clone(), run.clone());
        Ok(())
    }

    async fn eval_run(&self, id: &str) -> Result<Option<EvalRun>, StoreError> {
        Ok(self.data().get(id).cloned())
    }

    async fn list_eval_runs(&self, query: &EvalQuery) -> Result<Page<EvalRun>, StoreError> {
        let data = self.data();
        let mut rows: Vec<EvalRun> = data.values().filter(|run| query.matches(run)).cloned().collect();
        rows.sort_by(|a, b| query.compare(a, b));
        Ok(paginate(rows, query.limit, query.page))
    }

    async fn rename_eval_run(&self, id: &str, name: &str) -> Result<Option<EvalRun>, StoreError> {
        let mut data = self.data();
        Ok(data.get_mut(id).map(|run| {
            run.name = Some(name.to_owned());
            run.updated_at = unix_now();
            run.clone()
        }))
    }

    async fn delete_eval_runs(&self, ids: &[String]) -> Result<u64, StoreError> {
        let mut data = self.data();
        Ok(ids.iter().filter(|id| data.remove(id.as_str()).is_some()).count() as u64)
    }
}

//! The store conformance suite: every check that all `SessionStore`,
//! `MemoryStore` and `EvalStore` backends must pass, run by `tests/{in_memory,sqlite,postgres}.rs`.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

pub mod cancel;
pub mod evals;
pub mod memories;
pub mod metrics;
pub mod runs;
pub mod sessions;
pub mod sql;
pub mod traces;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use agent_core::SessionStore;
use agent_core::StoreError;
use agent_core::eval::EvalStore;
use agent_core::memory::MemoryStore;

/// A boxed future, for the backend hooks below.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Runs one SQL statement on the backend's database (to corrupt a row, say).
pub type RawSql = Arc<dyn Fn(String) -> BoxFuture<()> + Send + Sync>;

/// Opens another store instance on the same database.
pub type Reopen = Arc<dyn Fn() -> BoxFuture<Result<Stores, StoreError>> + Send + Sync>;

/// The stores of one backend, fresh for one test, with hooks for SQL-only checks.
pub struct Stores {
    pub sessions: Arc<dyn SessionStore>,
    pub memories: Arc<dyn MemoryStore>,
    pub evals: Arc<dyn EvalStore>,
    /// Present for SQL backends.
    pub raw: Option<RawSql>,
    /// Present for SQL backends.
    pub reopen: Option<Reopen>,
    /// Keeps the backend's resources (a temporary directory) alive.
    pub guard: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl Stores {
    pub fn raw(&self) -> &RawSql {
        self.raw.as_ref().expect("a SQL backend")
    }

    pub async fn reopen(&self) -> Result<Stores, StoreError> {
        (self.reopen.as_ref().expect("a SQL backend"))().await
    }
}

/// One `#[tokio::test]` per conformance check, each on fresh stores from
/// `$make` (an async fn returning `Option<Stores>`; `None` skips the test).
#[macro_export]
macro_rules! conformance_tests {
    ($make:path; $($module:ident :: $check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let Some(stores) = $make().await else { return };
                conformance::$module::$check(&stores).await;
            }
        )*
    };
}

/// The checks every backend runs.
#[macro_export]
macro_rules! all_backend_tests {
    ($make:path) => {
        $crate::conformance_tests!($make;
            sessions::session_roundtrip,
            sessions::upsert_session_keeps_runs,
            sessions::delete_session_removes_runs,
            sessions::list_sessions_filters,
            sessions::list_sessions_sorts_and_pages,
            sessions::save_run_roundtrip,
            sessions::save_run_updates_session,
            sessions::runs_keep_first_save_order,
            sessions::paused_run_roundtrip,
            sessions::concurrent_runs_keep_every_message,
            metrics::daily_metrics_count_runs_sessions_users_tokens_and_models,
            runs::start_run_creates_only_missing_sessions,
            runs::save_run_writes_only_what_the_run_owns,
            runs::save_run_names_an_unnamed_session,
            runs::save_run_never_recreates_a_deleted_session,
            runs::leases_have_one_holder_at_a_time,
            runs::hundred_runs_under_the_lease_count_to_100,
            runs::a_paused_run_is_claimed_once,
            runs::concurrent_claims_have_one_winner,
            runs::hundred_agent_runs_on_one_session_count_to_100,
            runs::a_failed_turn_is_stored_with_every_call_answered,
            runs::tool_results_keep_their_type,
            runs::unstorable_input_is_refused_before_the_model_is_called,
            cancel::find_run_by_id_alone,
            cancel::cancel_requests_reach_running_runs,
            cancel::a_cancel_wakes_a_waiting_run,
            cancel::abandoned_runs_fail_with_every_call_answered,
            cancel::unstorable_input_is_refused_up_front,
            memories::memory_roundtrip,
            memories::list_memories_filters,
            memories::list_memories_sorts_and_pages,
            memories::memory_topics,
            memories::user_memory_stats,
            memories::delete_memories,
            memories::replace_user_memories,
            memories::clear_memories,
            memories::memories_with_nul_are_kept_or_refused,
            evals::eval_run_roundtrip,
            evals::list_eval_runs_filters,
            evals::list_eval_runs_sorts_and_pages,
            evals::rename_eval_run,
            evals::delete_eval_runs,
            evals::eval_runs_with_nul_are_kept_or_refused,
        );
    };
}

/// The checks SQL backends run on top of [`all_backend_tests`].
#[macro_export]
macro_rules! sql_backend_tests {
    ($make:path) => {
        $crate::conformance_tests!($make;
            sql::corrupt_session_rows,
            sql::corrupt_run_rows,
            sql::corrupt_memory_rows,
            sql::corrupt_eval_rows,
            sql::newer_schema_is_refused,
            sql::two_instances_keep_every_run,
            sql::paused_run_survives_reopen,
            sql::two_instances_count_to_100_under_the_lease,
            sql::two_instances_claim_a_paused_run_once,
            sql::a_cancel_lands_in_another_instance,
        );
    };
}

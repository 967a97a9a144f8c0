//! `SessionStore` for `SqlStore`: sessions, their runs and lists. Leases,
//! claims and cancels are in `runs.rs`.

use std::time::Duration;

use agent_core::{Page, RunRecord, RunStatus, Session, SessionQuery, SessionSort, SessionStore, SortOrder, StoreError};
use async_trait::async_trait;
use serde_json::Value;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};

use super::{Dialect, SqlStore, check_json, check_text};
use crate::codec::{self, JsonColumn, RunJson, SessionJson, backend, limit_offset};

pub(super) const SESSION_COLUMNS: &str = "session_id, session_type, component_id, user_id, session_name, \
     session_state, summary, metrics, metadata, created_at, updated_at";

pub(super) const RUN_COLUMNS: &str = "session_id, run_id, parent_run_id, component_id, user_id, status, input, \
     output, messages, events, metrics, paused, error, model, model_provider, metadata, created_at, updated_at";

const UPSERT_SESSION: &str = "INSERT INTO agent_sessions (session_id, session_type, component_id, user_id, \
     session_name, session_state, summary, metrics, metadata, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
     ON CONFLICT (session_id) DO UPDATE SET session_type = excluded.session_type, \
     component_id = excluded.component_id, user_id = excluded.user_id, session_name = excluded.session_name, \
     session_state = excluded.session_state, summary = excluded.summary, metrics = excluded.metrics, \
     metadata = excluded.metadata, created_at = excluded.created_at, updated_at = excluded.updated_at";

const INSERT_SESSION_IF_MISSING: &str = "INSERT INTO agent_sessions (session_id, session_type, component_id, \
     user_id, session_name, session_state, summary, metrics, metadata, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (session_id) DO NOTHING";

/// What a run owns of its session; `user_id` and `component_id` only fill gaps.
const UPDATE_SESSION_FOR_RUN: &str = "UPDATE agent_sessions SET session_state = $2, summary = $3, \
     updated_at = $4, user_id = COALESCE(user_id, $5), component_id = COALESCE(component_id, $6), \
     metrics = $7, session_name = COALESCE(session_name, $8) WHERE session_id = $1";

/// Inserts or replaces a run; a new record clears an old cancel request.
const UPSERT_RUN: &str = "INSERT INTO agent_runs (session_id, run_id, parent_run_id, component_id, user_id, \
     status, input, output, messages, events, metrics, paused, error, model, model_provider, metadata, \
     created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
     ON CONFLICT (session_id, run_id) DO UPDATE SET parent_run_id = excluded.parent_run_id, \
     component_id = excluded.component_id, user_id = excluded.user_id, status = excluded.status, \
     input = excluded.input, output = excluded.output, messages = excluded.messages, events = excluded.events, \
     metrics = excluded.metrics, paused = excluded.paused, error = excluded.error, model = excluded.model, \
     model_provider = excluded.model_provider, metadata = excluded.metadata, \
     created_at = excluded.created_at, updated_at = excluded.updated_at";

const DELETE_SESSION: &str = "DELETE FROM agent_sessions WHERE session_id = $1";

impl<DB: Dialect> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
    for<'e> Option<&'e str>: Encode<'e, DB>,
    for<'e> String: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> JsonColumn: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> Option<JsonColumn>: Encode<'e, DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    /// Writes a session row with `sql` (an upsert or an insert-if-missing).
    async fn write_session(conn: &mut DB::Connection, sql: &'static str, session: &Session) -> Result<u64, StoreError> {
        let json = SessionJson::of(session)?;
        let done = sqlx::query(sql)
            .bind(session.session_id.as_str())
            .bind(session.session_type.as_str())
            .bind(session.component_id.as_deref())
            .bind(session.user_id.as_deref())
            .bind(session.session_name.as_deref())
            .bind(json.state)
            .bind(json.summary)
            .bind(json.metrics)
            .bind(json.metadata)
            .bind(session.created_at)
            .bind(session.updated_at)
            .execute(conn)
            .await
            .map_err(backend)?;
        Ok(DB::rows_affected(&done))
    }

    /// Inserts or replaces a run row.
    async fn write_run(conn: &mut DB::Connection, run: &RunRecord) -> Result<(), StoreError> {
        let json = RunJson::of(run)?;
        sqlx::query(UPSERT_RUN)
            .bind(run.session_id.as_str())
            .bind(run.run_id.as_str())
            .bind(run.parent_run_id.as_deref())
            .bind(run.component_id.as_deref())
            .bind(run.user_id.as_deref())
            .bind(run.status.as_str())
            .bind(run.input.as_str())
            .bind(run.output.as_deref())
            .bind(json.messages)
            .bind(json.events)
            .bind(json.metrics)
            .bind(json.paused.as_deref())
            .bind(run.error.as_deref())
            .bind(run.model.as_deref())
            .bind(run.model_provider.as_deref())
            .bind(json.metadata)
            .bind(run.created_at)
            .bind(run.updated_at)
            .execute(conn)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Refuses a run and session this backend cannot store, before anything is written.
    fn check_record(session: &Session, run: &RunRecord) -> Result<(), StoreError> {
        if run.session_id != session.session_id {
            return Err(StoreError::Invalid(format!(
                "run `{}` belongs to session `{}`, not `{}`",
                run.run_id, run.session_id, session.session_id
            )));
        }
        let texts = [
            ("the session id", Some(session.session_id.as_str())),
            ("the session name", session.session_name.as_deref()),
            ("the user id", session.user_id.as_deref()),
            ("the user id", run.user_id.as_deref()),
            ("the component id", session.component_id.as_deref()),
            ("the component id", run.component_id.as_deref()),
            ("the run id", Some(run.run_id.as_str())),
            ("the parent run id", run.parent_run_id.as_deref()),
            ("the run input", Some(run.input.as_str())),
            ("the run output", run.output.as_deref()),
            ("the run error", run.error.as_deref()),
            ("the run model", run.model.as_deref()),
            ("the run model provider", run.model_provider.as_deref()),
        ];
        for (what, text) in texts {
            check_text::<DB>(what, text.unwrap_or_default())?;
        }
        check_json::<DB>("the session state", &Value::Object(session.state.clone()))?;
        if let Some(summary) = &session.summary {
            check_text::<DB>("the session summary", &summary.summary)?;
            summary.topics.iter().try_for_each(|topic| check_text::<DB>("the session summary", topic))?;
        }
        check_json::<DB>("the session metrics", &session.metrics)?;
        check_json::<DB>("the session metadata", &Value::Object(session.metadata.clone()))?;
        check_json::<DB>("the run metadata", &Value::Object(run.metadata.clone()))?;
        run.events.iter().try_for_each(|event| check_json::<DB>("the run events", event))?;
        check_json::<DB>("the run metrics", &run.metrics)
    }

    /// Appends the session filters of `query` as a `WHERE` clause.
    fn push_filters(builder: &mut QueryBuilder<DB>, query: &SessionQuery) {
        builder.push(" WHERE 1 = 1");
        if let Some(session_type) = query.session_type {
            builder.push(" AND session_type = ").push_bind(session_type.as_str());
        }
        if let Some(component_id) = &query.component_id {
            builder.push(" AND component_id = ").push_bind(component_id.clone());
        }
        if let Some(user_id) = &query.user_id {
            builder.push(" AND user_id = ").push_bind(user_id.clone());
        }
        if let Some(name) = &query.session_name {
            builder
                .push(" AND lower(session_name) LIKE lower(")
                .push_bind(codec::like_pattern(name))
                .push(") ESCAPE '\\'");
        }
    }
}

#[async_trait]
impl<DB: Dialect> SessionStore for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
    for<'e> Option<&'e str>: Encode<'e, DB>,
    for<'e> String: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> JsonColumn: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> Option<JsonColumn>: Encode<'e, DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn daily_metrics(
        &self,
        range: agent_core::metrics::DayRange,
    ) -> Result<Vec<agent_core::metrics::DayMetrics>, StoreError> {
        self.daily_metrics_of(range).await
    }

    async fn migrate(&self) -> Result<usize, StoreError> {
        DB::migrate_store(self).await
    }

    async fn session(&self, session_id: &str) -> Result<Option<Session>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM agent_sessions WHERE session_id = $1");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(session_id).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(codec::session).transpose()
    }

    async fn upsert_session(&self, session: &Session) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        Self::write_session(&mut conn, UPSERT_SESSION, session).await.map(|_| ())
    }

    async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError> {
        // The runs go with it (ON DELETE CASCADE).
        let done = sqlx::query(DELETE_SESSION).bind(session_id).execute(&self.pool).await.map_err(backend)?;
        Ok(DB::rows_affected(&done) > 0)
    }

    async fn list_sessions(&self, query: &SessionQuery) -> Result<Page<Session>, StoreError> {
        let mut count = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM agent_sessions");
        Self::push_filters(&mut count, query);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await.map_err(backend)?;

        let mut select = QueryBuilder::<DB>::new(format!("SELECT {SESSION_COLUMNS} FROM agent_sessions"));
        Self::push_filters(&mut select, query);
        let (key, text) = match query.sort_by {
            SessionSort::CreatedAt => ("created_at", ""),
            SessionSort::UpdatedAt => ("updated_at", ""),
            SessionSort::SessionName => ("session_name", DB::BYTE_ORDER),
        };
        // NULL sorts first ascending and last descending, as `Option` does.
        let (direction, nulls) = match query.sort_order {
            SortOrder::Asc => ("ASC", "NULLS FIRST"),
            SortOrder::Desc => ("DESC", "NULLS LAST"),
        };
        let byte_order = DB::BYTE_ORDER;
        select.push(format!(" ORDER BY {key}{text} {direction} {nulls}, session_id{byte_order} {direction}"));
        if let Some((limit, offset)) = limit_offset(query.limit, query.page) {
            select.push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        }
        let rows = select.build().fetch_all(&self.pool).await.map_err(backend)?;
        Ok(codec::page(codec::decode_list(&rows, codec::session), total, query.limit, query.page))
    }

    async fn start_run(&self, session: &Session, run: &RunRecord) -> Result<(), StoreError> {
        Self::check_record(session, run)?;
        if run.status != RunStatus::Running {
            return Err(StoreError::Invalid(format!(
                "run `{}` starts as `{}`, not running",
                run.run_id,
                run.status.as_str()
            )));
        }
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await.map_err(backend)?;
        Self::write_session(&mut tx, INSERT_SESSION_IF_MISSING, session).await?;
        Self::write_run(&mut tx, run).await?;
        self.clear_cancel(&mut tx, &run.session_id, &run.run_id).await?;
        tx.commit().await.map_err(backend)
    }

    async fn save_run(&self, session: &Session, run: &RunRecord) -> Result<(), StoreError> {
        Self::check_record(session, run)?;
        let json = SessionJson::of(session)?;
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await.map_err(backend)?;
        let done = sqlx::query(UPDATE_SESSION_FOR_RUN)
            .bind(session.session_id.as_str())
            .bind(json.state)
            .bind(json.summary)
            .bind(session.updated_at)
            .bind(session.user_id.as_deref())
            .bind(session.component_id.as_deref())
            .bind(json.metrics)
            .bind(session.session_name.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        if DB::rows_affected(&done) == 0 {
            // Deleted during the run (or never started): write nothing, create nothing.
            return Err(StoreError::NotFound { what: "session", id: session.session_id.clone() });
        }
        Self::write_run(&mut tx, run).await?;
        tx.commit().await.map_err(backend)
    }

    async fn run(&self, session_id: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM agent_runs WHERE session_id = $1 AND run_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(session_id)
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(codec::run).transpose()
    }

    async fn find_run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        self.find_run_by_id(run_id).await
    }

    async fn runs(&self, session_id: &str, last: Option<usize>) -> Result<Vec<RunRecord>, StoreError> {
        let rows = match last {
            None => {
                let sql = format!("SELECT {RUN_COLUMNS} FROM agent_runs WHERE session_id = $1 ORDER BY seq");
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(session_id).fetch_all(&self.pool).await
            }
            Some(last) => {
                let sql = format!(
                    "SELECT * FROM (SELECT seq, {RUN_COLUMNS} FROM agent_runs WHERE session_id = $1 \
                     ORDER BY seq DESC LIMIT $2) AS newest ORDER BY seq"
                );
                let last = i64::try_from(last).unwrap_or(i64::MAX);
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(session_id).bind(last).fetch_all(&self.pool).await
            }
        }
        .map_err(backend)?;
        Ok(codec::decode_list(&rows, codec::run))
    }

    async fn acquire_lease(&self, session_id: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.take_lease(session_id, holder, ttl).await
    }

    async fn release_lease(&self, session_id: &str, holder: &str) -> Result<bool, StoreError> {
        self.give_back_lease(session_id, holder).await
    }

    async fn claim_paused_run(&self, session_id: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        self.claim(session_id, run_id).await
    }

    async fn request_cancel(&self, run_id: &str) -> Result<bool, StoreError> {
        self.ask_cancel(run_id).await
    }

    async fn wait_cancel(&self, run_id: &str) -> Result<(), StoreError> {
        self.await_cancel(run_id).await
    }

    async fn fail_abandoned_runs(&self) -> Result<u64, StoreError> {
        self.fail_abandoned().await
    }

    fn check_storable(&self, what: &str, text: &str) -> Result<(), StoreError> {
        check_text::<DB>(what, text)
    }

    fn check_storable_json(&self, what: &str, value: &Value) -> Result<(), StoreError> {
        check_json::<DB>(what, value)
    }
}

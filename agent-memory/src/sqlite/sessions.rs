//! `SessionStore` for SQLite: sessions and their runs.

use agent_core::{Page, RunRecord, Session, SessionQuery, SessionSort, SessionStore, SortOrder, StoreError};
use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::SqliteStore;
use crate::codec::{self, RunJson, SessionJson, backend, limit_offset};

const SESSION_COLUMNS: &str = "session_id, session_type, component_id, user_id, session_name, session_state, \
     summary, metrics, created_at, updated_at";

const RUN_COLUMNS: &str = "session_id, run_id, parent_run_id, component_id, user_id, status, input, output, \
     messages, events, metrics, paused, error, created_at, updated_at";

const UPSERT_SESSION: &str = "INSERT INTO agent_sessions (session_id, session_type, component_id, user_id, \
     session_name, session_state, summary, metrics, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (session_id) DO UPDATE SET session_type = excluded.session_type, \
     component_id = excluded.component_id, user_id = excluded.user_id, session_name = excluded.session_name, \
     session_state = excluded.session_state, summary = excluded.summary, metrics = excluded.metrics, \
     created_at = excluded.created_at, updated_at = excluded.updated_at";

const UPSERT_RUN: &str = "INSERT INTO agent_runs (session_id, run_id, parent_run_id, component_id, user_id, \
     status, input, output, messages, events, metrics, paused, error, created_at, updated_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (session_id, run_id) DO UPDATE SET parent_run_id = excluded.parent_run_id, \
     component_id = excluded.component_id, user_id = excluded.user_id, status = excluded.status, \
     input = excluded.input, output = excluded.output, messages = excluded.messages, events = excluded.events, \
     metrics = excluded.metrics, paused = excluded.paused, error = excluded.error, \
     created_at = excluded.created_at, updated_at = excluded.updated_at";

/// Writes a session row (without touching its runs).
async fn upsert_session(conn: &mut SqliteConnection, session: &Session) -> Result<(), StoreError> {
    let json = SessionJson::of(session)?;
    sqlx::query(UPSERT_SESSION)
        .bind(&session.session_id)
        .bind(session.session_type.as_str())
        .bind(&session.component_id)
        .bind(&session.user_id)
        .bind(&session.session_name)
        .bind(json.state)
        .bind(json.summary)
        .bind(json.metrics)
        .bind(session.created_at)
        .bind(session.updated_at)
        .execute(conn)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Appends the session filters of `query` as a `WHERE` clause.
fn push_filters(builder: &mut QueryBuilder<Sqlite>, query: &SessionQuery) {
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
        builder.push(" AND session_name LIKE ").push_bind(codec::like_pattern(name)).push(" ESCAPE '\\'");
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn session(&self, session_id: &str) -> Result<Option<Session>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM agent_sessions WHERE session_id = ?");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(session_id).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(codec::session).transpose()
    }

    async fn upsert_session(&self, session: &Session) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        upsert_session(&mut conn, session).await
    }

    async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError> {
        // The runs go with it (ON DELETE CASCADE).
        let result = sqlx::query("DELETE FROM agent_sessions WHERE session_id = ?")
            .bind(session_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(result.rows_affected() > 0)
    }

    async fn list_sessions(&self, query: &SessionQuery) -> Result<Page<Session>, StoreError> {
        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM agent_sessions");
        push_filters(&mut count, query);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await.map_err(backend)?;

        let mut select = QueryBuilder::<Sqlite>::new(format!("SELECT {SESSION_COLUMNS} FROM agent_sessions"));
        push_filters(&mut select, query);
        let key = match query.sort_by {
            SessionSort::CreatedAt => "created_at",
            SessionSort::UpdatedAt => "updated_at",
            SessionSort::SessionName => "session_name",
        };
        // SQLite sorts NULL first ascending and last descending, as `Option` does.
        let direction = match query.sort_order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        select.push(format!(" ORDER BY {key} {direction}, session_id {direction}"));
        if let Some((limit, offset)) = limit_offset(query.limit, query.page) {
            select.push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        }
        let rows = select.build().fetch_all(&self.pool).await.map_err(backend)?;
        Ok(codec::page(codec::decode_list(&rows, codec::session), total, query.limit, query.page))
    }

    async fn save_run(&self, session: &Session, run: &RunRecord) -> Result<(), StoreError> {
        if run.session_id != session.session_id {
            return Err(StoreError::Invalid(format!(
                "run `{}` belongs to session `{}`, not `{}`",
                run.run_id, run.session_id, session.session_id
            )));
        }
        let json = RunJson::of(run)?;
        // IMMEDIATE takes the write lock up front, so concurrent writers queue
        // on the busy timeout instead of failing to upgrade a read lock.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        upsert_session(&mut tx, session).await?;
        sqlx::query(UPSERT_RUN)
            .bind(&run.session_id)
            .bind(&run.run_id)
            .bind(&run.parent_run_id)
            .bind(&run.component_id)
            .bind(&run.user_id)
            .bind(run.status.as_str())
            .bind(&run.input)
            .bind(&run.output)
            .bind(json.messages)
            .bind(json.events)
            .bind(json.metrics)
            .bind(json.paused)
            .bind(&run.error)
            .bind(run.created_at)
            .bind(run.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn run(&self, session_id: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM agent_runs WHERE session_id = ? AND run_id = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(session_id)
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(codec::run).transpose()
    }

    async fn runs(&self, session_id: &str, last: Option<usize>) -> Result<Vec<RunRecord>, StoreError> {
        let rows = match last {
            None => {
                let sql = format!("SELECT {RUN_COLUMNS} FROM agent_runs WHERE session_id = ? ORDER BY seq");
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(session_id).fetch_all(&self.pool).await
            }
            Some(last) => {
                let sql = format!(
                    "SELECT {RUN_COLUMNS} FROM (SELECT seq, {RUN_COLUMNS} FROM agent_runs WHERE session_id = ? \
                     ORDER BY seq DESC LIMIT ?) ORDER BY seq"
                );
                let last = i64::try_from(last).unwrap_or(i64::MAX);
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(session_id).bind(last).fetch_all(&self.pool).await
            }
        }
        .map_err(backend)?;
        Ok(codec::decode_list(&rows, codec::run))
    }
}

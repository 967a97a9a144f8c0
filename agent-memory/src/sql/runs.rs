//! Runs across processes for `SqlStore`: session leases, claiming paused
//! runs, cancel requests and runs abandoned by a process that died.

use std::time::Duration;

use agent_core::support::unix_now;
use agent_core::{ABANDONED_RUN_ERROR, RunRecord, StoreError};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::sessions::RUN_COLUMNS;
use super::{Dialect, SqlStore};
use crate::codec::{self, JsonColumn, backend};

/// The longest lease, so `now + ttl` stays far from overflowing (ten years).
const MAX_TTL_MS: i64 = 10 * 365 * 86_400 * 1000;

const RELEASE_LEASE: &str = "DELETE FROM agent_session_leases WHERE session_id = $1 AND holder = $2";

const CLEAR_CANCEL: &str = "UPDATE agent_runs SET cancel_requested_at = NULL WHERE session_id = $1 AND run_id = $2";

const REQUEST_CANCEL: &str = "UPDATE agent_runs SET cancel_requested_at = $2 WHERE run_id = $1 AND status = 'running'";

const CANCEL_REQUESTED: &str = "SELECT cancel_requested_at FROM agent_runs WHERE run_id = $1";

const RUN_EXISTS: &str = "SELECT COUNT(*) FROM agent_runs WHERE session_id = $1 AND run_id = $2";

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
    /// Takes, renews or refuses the lease in one conditional upsert, after a
    /// plain read that refuses at once while another holder's lease stands:
    /// waiters then neither lock the lease row (Postgres) nor take the write
    /// lock (SQLite), so the holder's own queries are not queued behind them.
    pub(super) async fn take_lease(&self, session_id: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = DB::NOW_MS;
        let held = format!(
            "SELECT COUNT(*) FROM agent_session_leases WHERE session_id = $1 AND holder <> $2 AND expires_at > {now}"
        );
        let others: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(held))
            .bind(session_id)
            .bind(holder)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        if others > 0 {
            return Ok(false);
        }
        let sql = format!(
            "INSERT INTO agent_session_leases (session_id, holder, expires_at) VALUES ($1, $2, {now} + $3) \
             ON CONFLICT (session_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE agent_session_leases.holder = excluded.holder OR agent_session_leases.expires_at <= {now}"
        );
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).min(MAX_TTL_MS);
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(session_id)
            .bind(holder)
            .bind(ttl_ms)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(DB::rows_affected(&done) > 0)
    }

    pub(super) async fn give_back_lease(&self, session_id: &str, holder: &str) -> Result<bool, StoreError> {
        let done =
            sqlx::query(RELEASE_LEASE).bind(session_id).bind(holder).execute(&self.pool).await.map_err(backend)?;
        Ok(DB::rows_affected(&done) > 0)
    }

    /// Forgets a cancel request (a run starting or continuing is a new attempt).
    pub(super) async fn clear_cancel(
        &self,
        conn: &mut DB::Connection,
        session_id: &str,
        run_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(CLEAR_CANCEL).bind(session_id).bind(run_id).execute(conn).await.map_err(backend)?;
        Ok(())
    }

    pub(super) async fn find_run_by_id(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM agent_runs WHERE run_id = $1 ORDER BY seq LIMIT 2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(run_id).fetch_all(&self.pool).await.map_err(backend)?;
        match rows.as_slice() {
            [] => Ok(None),
            [row] => codec::run(row).map(Some),
            _ => Err(StoreError::Invalid(format!(
                "run id `{run_id}` is used in several sessions; look it up with its session"
            ))),
        }
    }

    /// Moves a paused run to running, if it still is paused, in one statement.
    pub(super) async fn claim(&self, session_id: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        let sql = format!(
            "UPDATE agent_runs SET status = 'running', cancel_requested_at = NULL, updated_at = $3 \
             WHERE session_id = $1 AND run_id = $2 AND status = 'paused' RETURNING {RUN_COLUMNS}"
        );
        let claimed = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(session_id)
            .bind(run_id)
            .bind(unix_now())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        if let Some(row) = claimed {
            return codec::run(&row).map(Some);
        }
        let exists: i64 = sqlx::query_scalar(RUN_EXISTS)
            .bind(session_id)
            .bind(run_id)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        if exists == 0 {
            return Err(StoreError::NotFound { what: "run", id: run_id.to_owned() });
        }
        Ok(None)
    }

    /// Records a cancel request, and notifies listeners where the backend can.
    pub(super) async fn ask_cancel(&self, run_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await.map_err(backend)?;
        let now_ms = i64::try_from(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis(),
        )
        .unwrap_or(i64::MAX);
        let done = sqlx::query(REQUEST_CANCEL).bind(run_id).bind(now_ms).execute(&mut *tx).await.map_err(backend)?;
        let requested = DB::rows_affected(&done) > 0;
        if let (true, Some(notify)) = (requested, DB::NOTIFY_CANCEL) {
            // Delivered when the transaction commits, after the flag is visible.
            sqlx::query(notify).bind(run_id).execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(requested)
    }

    /// Whether a cancel was requested for the run; `NotFound` when it does not exist.
    async fn cancel_requested(&self, run_id: &str) -> Result<bool, StoreError> {
        let flags: Vec<Option<i64>> =
            sqlx::query_scalar(CANCEL_REQUESTED).bind(run_id).fetch_all(&self.pool).await.map_err(backend)?;
        if flags.is_empty() {
            return Err(StoreError::NotFound { what: "run", id: run_id.to_owned() });
        }
        Ok(flags.iter().any(Option::is_some))
    }

    /// Watches first, then checks, so a request made in between is not missed.
    pub(super) async fn await_cancel(&self, run_id: &str) -> Result<(), StoreError> {
        let mut watch = self.cancel.watch().await?;
        while !self.cancel_requested(run_id).await? {
            watch.changed(run_id).await;
        }
        Ok(())
    }

    /// Fails every running run whose session has no live lease, closing its
    /// open tool calls. Each update re-checks the lease, so a run whose
    /// session was leased again meanwhile is left alone.
    pub(super) async fn fail_abandoned(&self) -> Result<u64, StoreError> {
        let now = DB::NOW_MS;
        let abandoned = format!(
            "status = 'running' AND NOT EXISTS (SELECT 1 FROM agent_session_leases l \
             WHERE l.session_id = agent_runs.session_id AND l.expires_at > {now})"
        );
        let select = format!("SELECT {RUN_COLUMNS} FROM agent_runs WHERE {abandoned}");
        let update = format!(
            "UPDATE agent_runs SET status = 'error', error = $3, messages = $4, updated_at = $5 \
             WHERE session_id = $1 AND run_id = $2 AND {abandoned}"
        );
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await.map_err(backend)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(select)).fetch_all(&mut *tx).await.map_err(backend)?;
        let mut failed = 0;
        for row in &rows {
            let messages = match codec::run(row) {
                Ok(mut run) => {
                    run.close_open_tool_calls(ABANDONED_RUN_ERROR);
                    codec::RunJson::of(&run)?.messages
                }
                Err(err) => {
                    // An undecodable run still ends: its messages are kept as they are.
                    tracing::warn!(error = %err, "failing an abandoned run that cannot be decoded");
                    row.try_get::<String, _>("messages").map_err(backend)?
                }
            };
            let (session_id, run_id): (String, String) =
                (row.try_get("session_id").map_err(backend)?, row.try_get("run_id").map_err(backend)?);
            let done = sqlx::query(sqlx::AssertSqlSafe(update.clone()))
                .bind(session_id.as_str())
                .bind(run_id.as_str())
                .bind(ABANDONED_RUN_ERROR)
                .bind(messages)
                .bind(unix_now())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            failed += DB::rows_affected(&done);
        }
        tx.commit().await.map_err(backend)?;
        if failed > 0 {
            tracing::warn!(failed, "marked runs abandoned by a stopped process as failed");
        }
        Ok(failed)
    }
}

//! Daily usage metrics for `SqlStore`: two grouped queries over the runs (per day, per day and model), not a scan of every session.

use agent_core::StoreError;
use agent_core::metrics::{DAY_SECONDS, DayMetrics, DayRange, ModelCount, TokenTotals, sort_models};
use sqlx::{ColumnIndex, Decode, Executor, IntoArguments, Row, Type};

use super::{Dialect, SqlStore, TOKEN_COLUMNS};
use crate::codec::backend;

impl<DB: Dialect> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'e> String: sqlx::Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> i64: sqlx::Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
{
    /// The daily metrics of the runs in `range`, oldest day first.
    pub(crate) async fn daily_metrics_of(&self, range: DayRange) -> Result<Vec<DayMetrics>, StoreError> {
        let from = range.from.unwrap_or(i64::MIN);
        let to = range.to.map_or(i64::MAX, |to| to.saturating_add(DAY_SECONDS));
        let rows = sqlx::query(DB::DAY_METRICS).bind(from).bind(to).fetch_all(&self.pool).await.map_err(backend)?;
        let mut days = Vec::with_capacity(rows.len());
        for row in &rows {
            let count = |name: &str| -> Result<u64, StoreError> {
                let value: i64 = row.try_get(name).map_err(backend)?;
                Ok(u64::try_from(value).unwrap_or(0))
            };
            let [input, output, total, cache_read, cache_write] = TOKEN_COLUMNS;
            days.push(DayMetrics {
                day: row.try_get("day").map_err(backend)?,
                agent_runs: count("agent_runs")?,
                agent_sessions: count("agent_sessions")?,
                team_runs: count("team_runs")?,
                team_sessions: count("team_sessions")?,
                workflow_runs: count("workflow_runs")?,
                workflow_sessions: count("workflow_sessions")?,
                users: count("users")?,
                tokens: TokenTotals {
                    input_tokens: count(input)?,
                    output_tokens: count(output)?,
                    total_tokens: count(total)?,
                    cache_read_tokens: count(cache_read)?,
                    cache_write_tokens: count(cache_write)?,
                },
                models: Vec::new(),
            });
        }
        let models = sqlx::query(DB::MODEL_METRICS).bind(from).bind(to).fetch_all(&self.pool).await.map_err(backend)?;
        for row in &models {
            let day: i64 = row.try_get("day").map_err(backend)?;
            let runs: i64 = row.try_get("runs").map_err(backend)?;
            let model = ModelCount {
                model_id: row.try_get("model").map_err(backend)?,
                model_provider: row.try_get("provider").map_err(backend)?,
                count: u64::try_from(runs).unwrap_or(0),
            };
            if let Some(metrics) = days.iter_mut().find(|metrics| metrics.day == day) {
                metrics.models.push(model);
            }
        }
        for metrics in &mut days {
            sort_models(&mut metrics.models);
        }
        Ok(days)
    }
}

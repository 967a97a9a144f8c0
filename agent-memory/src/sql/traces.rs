//! `TraceStore` for `SqlStore`: traces and their spans in two tables, written in batches, listed with filter expressions.

use std::borrow::Cow;
use std::collections::HashMap;

use agent_core::trace::{
    SessionTraceStats, SpanKind, SpanRecord, SpanStatus, Trace, TraceQuery, TraceStore, TraceSummary,
};
use agent_core::{Page, StoreError};
use async_trait::async_trait;
use serde_json::{Map, Value};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, QueryBuilder, Row, Type};

use super::trace_filter::push_filter;
use super::{Dialect, SqlStore};
use crate::codec::{JsonColumn, backend, limit_offset, page, to_json_column};

const TRACE_COLUMNS: &str = "trace_id, name, status, start_time, end_time, duration_ms, total_spans, error_count, \
     run_id, session_id, user_id, agent_id, team_id, workflow_id, input, output, error, created_at";

const SPAN_COLUMNS: &str = "trace_id, span_id, parent_span_id, name, kind, status, status_message, start_time, \
     end_time, input, output, attributes";

const INSERT_TRACE: &str = "INSERT INTO agent_traces (trace_id, name, status, start_time, end_time, duration_ms, \
     total_spans, error_count, run_id, session_id, user_id, agent_id, team_id, workflow_id, input, output, error, \
     created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

/// Spans per `INSERT` (12 binds each, well under every backend's limit).
const SPANS_PER_INSERT: usize = 400;

/// Text the backend can keep: Postgres cannot hold NUL, so a span's NUL
/// becomes U+FFFD (traces are diagnostics: a lossy character beats a lost trace).
fn keepable<DB: Dialect>(text: &str) -> Cow<'_, str> {
    if DB::REFUSES_NUL && text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{fffd}"))
    } else {
        Cow::Borrowed(text)
    }
}

fn keepable_opt<DB: Dialect>(text: Option<&str>) -> Option<String> {
    text.map(|text| keepable::<DB>(text).into_owned())
}

fn keepable_json<DB: Dialect>(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::String(keepable::<DB>(text).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(keepable_json::<DB>).collect()),
        Value::Object(map) => Value::Object(
            map.iter().map(|(key, value)| (keepable::<DB>(key).into_owned(), keepable_json::<DB>(value))).collect(),
        ),
        other => other.clone(),
    }
}

fn corrupt(what: &'static str, id: String, message: String) -> StoreError {
    StoreError::Corrupt { what, id, message }
}

fn summary_of<R: Row>(row: &R) -> Result<TraceSummary, StoreError>
where
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> &'r str: ColumnIndex<R>,
{
    let id: String = row.try_get("trace_id").map_err(backend)?;
    let fail = |message: String| corrupt("trace", id.clone(), message);
    let text =
        |name: &str| row.try_get::<Option<String>, _>(name).map_err(|err| fail(format!("column `{name}`: {err}")));
    let int = |name: &str| row.try_get::<i64, _>(name).map_err(|err| fail(format!("column `{name}`: {err}")));
    let count = |name: &str| int(name).map(|value| u32::try_from(value).unwrap_or(0));
    let status: String = row.try_get("status").map_err(|err| fail(format!("column `status`: {err}")))?;
    Ok(TraceSummary {
        status: SpanStatus::parse(&status).ok_or_else(|| fail(format!("unknown status `{status}`")))?,
        name: text("name")?.unwrap_or_default(),
        start_time: int("start_time")?,
        end_time: int("end_time")?,
        duration_ms: int("duration_ms")?,
        total_spans: count("total_spans")?,
        error_count: count("error_count")?,
        run_id: text("run_id")?,
        session_id: text("session_id")?,
        user_id: text("user_id")?,
        agent_id: text("agent_id")?,
        team_id: text("team_id")?,
        workflow_id: text("workflow_id")?,
        input: text("input")?,
        output: text("output")?,
        error: text("error")?,
        created_at: int("created_at")?,
        trace_id: id.clone(),
    })
}

fn span_of<R: Row>(row: &R) -> Result<SpanRecord, StoreError>
where
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> JsonColumn: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> &'r str: ColumnIndex<R>,
{
    let trace_id: String = row.try_get("trace_id").map_err(backend)?;
    let span_id: String = row.try_get("span_id").map_err(backend)?;
    let fail = |message: String| corrupt("span", format!("{trace_id}/{span_id}"), message);
    let text =
        |name: &str| row.try_get::<Option<String>, _>(name).map_err(|err| fail(format!("column `{name}`: {err}")));
    let int = |name: &str| row.try_get::<i64, _>(name).map_err(|err| fail(format!("column `{name}`: {err}")));
    let kind = text("kind")?.unwrap_or_default();
    let status = text("status")?.unwrap_or_default();
    let attributes: JsonColumn =
        row.try_get("attributes").map_err(|err| fail(format!("column `attributes`: {err}")))?;
    let attributes: Map<String, Value> =
        serde_json::from_str(attributes.0.get()).map_err(|err| fail(format!("column `attributes`: {err}")))?;
    Ok(SpanRecord {
        kind: SpanKind::parse(&kind).ok_or_else(|| fail(format!("unknown kind `{kind}`")))?,
        status: SpanStatus::parse(&status).ok_or_else(|| fail(format!("unknown status `{status}`")))?,
        parent_span_id: text("parent_span_id")?,
        name: text("name")?.unwrap_or_default(),
        status_message: text("status_message")?,
        start_time: int("start_time")?,
        end_time: int("end_time")?,
        input: text("input")?,
        output: text("output")?,
        attributes,
        trace_id: trace_id.clone(),
        span_id: span_id.clone(),
    })
}

impl<DB: Dialect> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
    for<'e> Option<&'e str>: Encode<'e, DB>,
    for<'e> Option<String>: Encode<'e, DB> + Decode<'e, DB>,
    for<'e> String: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> JsonColumn: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    /// Replaces one trace (its row, then its spans) inside a write transaction.
    async fn write_trace(conn: &mut DB::Connection, trace: &Trace) -> Result<(), StoreError> {
        let summary = &trace.summary;
        let id = summary.trace_id.as_str();
        sqlx::query("DELETE FROM agent_trace_spans WHERE trace_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
        sqlx::query("DELETE FROM agent_traces WHERE trace_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
        sqlx::query(INSERT_TRACE)
            .bind(keepable::<DB>(id).into_owned())
            .bind(keepable::<DB>(&summary.name).into_owned())
            .bind(summary.status.as_str())
            .bind(summary.start_time)
            .bind(summary.end_time)
            .bind(summary.duration_ms)
            .bind(i64::from(summary.total_spans))
            .bind(i64::from(summary.error_count))
            .bind(keepable_opt::<DB>(summary.run_id.as_deref()))
            .bind(keepable_opt::<DB>(summary.session_id.as_deref()))
            .bind(keepable_opt::<DB>(summary.user_id.as_deref()))
            .bind(keepable_opt::<DB>(summary.agent_id.as_deref()))
            .bind(keepable_opt::<DB>(summary.team_id.as_deref()))
            .bind(keepable_opt::<DB>(summary.workflow_id.as_deref()))
            .bind(keepable_opt::<DB>(summary.input.as_deref()))
            .bind(keepable_opt::<DB>(summary.output.as_deref()))
            .bind(keepable_opt::<DB>(summary.error.as_deref()))
            .bind(summary.created_at)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
        for (chunk_index, chunk) in trace.spans.chunks(SPANS_PER_INSERT).enumerate() {
            let mut attributes = Vec::with_capacity(chunk.len());
            for span in chunk {
                attributes.push(to_json_column(
                    &keepable_json::<DB>(&Value::Object(span.attributes.clone())),
                    "span attributes",
                )?);
            }
            let mut insert =
                QueryBuilder::<DB>::new(format!("INSERT INTO agent_trace_spans ({SPAN_COLUMNS}, position) "));
            let first = chunk_index * SPANS_PER_INSERT;
            insert.push_values(chunk.iter().zip(attributes).enumerate(), |mut row, (index, (span, attributes))| {
                row.push_bind(keepable::<DB>(id).into_owned())
                    .push_bind(keepable::<DB>(&span.span_id).into_owned())
                    .push_bind(keepable_opt::<DB>(span.parent_span_id.as_deref()))
                    .push_bind(keepable::<DB>(&span.name).into_owned())
                    .push_bind(span.kind.as_str())
                    .push_bind(span.status.as_str())
                    .push_bind(keepable_opt::<DB>(span.status_message.as_deref()))
                    .push_bind(span.start_time)
                    .push_bind(span.end_time)
                    .push_bind(keepable_opt::<DB>(span.input.as_deref()))
                    .push_bind(keepable_opt::<DB>(span.output.as_deref()))
                    .push_bind(attributes)
                    .push_bind(i64::try_from(first + index).unwrap_or(i64::MAX));
            });
            insert.build().execute(&mut *conn).await.map_err(backend)?;
        }
        Ok(())
    }

    /// Appends ` WHERE <filter>` (and `extra`, AND-ed), when there is one.
    fn push_where(builder: &mut QueryBuilder<DB>, query: &TraceQuery, extra: Option<&str>) {
        match (&query.filter, extra) {
            (None, None) => {}
            (None, Some(extra)) => {
                builder.push(format!(" WHERE {extra}"));
            }
            (Some(filter), extra) => {
                builder.push(" WHERE ");
                push_filter(builder, filter);
                if let Some(extra) = extra {
                    builder.push(format!(" AND {extra}"));
                }
            }
        }
    }

    fn push_page(builder: &mut QueryBuilder<DB>, query: &TraceQuery) {
        if let Some((limit, offset)) = limit_offset(query.limit, query.page) {
            builder.push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        }
    }

    fn check(query: &TraceQuery) -> Result<(), StoreError> {
        match &query.filter {
            Some(filter) => filter.check().map_err(|error| StoreError::Invalid(error.to_string())),
            None => Ok(()),
        }
    }

    /// The spans of these traces, each trace's in order.
    async fn spans_of(&self, trace_ids: &[&str]) -> Result<HashMap<String, Vec<SpanRecord>>, StoreError> {
        let mut spans: HashMap<String, Vec<SpanRecord>> = HashMap::new();
        if trace_ids.is_empty() {
            return Ok(spans);
        }
        let mut select =
            QueryBuilder::<DB>::new(format!("SELECT {SPAN_COLUMNS} FROM agent_trace_spans WHERE trace_id IN ("));
        let mut ids = select.separated(", ");
        for id in trace_ids {
            ids.push_bind((*id).to_owned());
        }
        select.push(") ORDER BY trace_id, position");
        let rows = select.build().fetch_all(&self.pool).await.map_err(backend)?;
        for row in &rows {
            let span = span_of(row)?;
            spans.entry(span.trace_id.clone()).or_default().push(span);
        }
        Ok(spans)
    }
}

#[async_trait]
impl<DB: Dialect> TraceStore for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
    for<'e> Option<&'e str>: Encode<'e, DB>,
    for<'e> Option<String>: Encode<'e, DB> + Decode<'e, DB>,
    for<'e> String: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> JsonColumn: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn insert_traces(&self, traces: &[Trace]) -> Result<(), StoreError> {
        if traces.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await.map_err(backend)?;
        for trace in traces {
            Self::write_trace(&mut tx, trace).await?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn traces(&self, query: &TraceQuery) -> Result<Page<TraceSummary>, StoreError> {
        Self::check(query)?;
        let mut count = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM agent_traces");
        Self::push_where(&mut count, query, None);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await.map_err(backend)?;
        let mut select = QueryBuilder::<DB>::new(format!("SELECT {TRACE_COLUMNS} FROM agent_traces"));
        Self::push_where(&mut select, query, None);
        select.push(format!(" ORDER BY start_time DESC, trace_id{} DESC", DB::BYTE_ORDER));
        Self::push_page(&mut select, query);
        let rows = select.build().fetch_all(&self.pool).await.map_err(backend)?;
        let items = rows.iter().map(summary_of).collect::<Result<_, _>>()?;
        Ok(page(items, total, query.limit, query.page))
    }

    async fn search_traces(&self, query: &TraceQuery) -> Result<Page<Trace>, StoreError> {
        let summaries = self.traces(query).await?;
        let ids: Vec<&str> = summaries.items.iter().map(|summary| summary.trace_id.as_str()).collect();
        let mut spans = self.spans_of(&ids).await?;
        let items = summaries
            .items
            .iter()
            .map(|summary| Trace {
                spans: spans.remove(&summary.trace_id).unwrap_or_default(),
                summary: summary.clone(),
            })
            .collect();
        Ok(Page { items, total: summaries.total, page: summaries.page, limit: summaries.limit })
    }

    async fn trace(&self, trace_id: &str) -> Result<Option<Trace>, StoreError> {
        let sql = format!("SELECT {TRACE_COLUMNS} FROM agent_traces WHERE trace_id = $1");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(trace_id).fetch_optional(&self.pool).await.map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let summary = summary_of(&row)?;
        let spans = self.spans_of(&[trace_id]).await?.remove(trace_id).unwrap_or_default();
        Ok(Some(Trace { summary, spans }))
    }

    async fn span(&self, trace_id: &str, span_id: &str) -> Result<Option<SpanRecord>, StoreError> {
        let sql = format!("SELECT {SPAN_COLUMNS} FROM agent_trace_spans WHERE trace_id = $1 AND span_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(trace_id)
            .bind(span_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(span_of).transpose()
    }

    async fn trace_session_stats(&self, query: &TraceQuery) -> Result<Page<SessionTraceStats>, StoreError> {
        Self::check(query)?;
        let with_session = Some("session_id IS NOT NULL");
        let mut count = QueryBuilder::<DB>::new("SELECT COUNT(DISTINCT session_id) FROM agent_traces");
        Self::push_where(&mut count, query, with_session);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await.map_err(backend)?;
        let order = DB::BYTE_ORDER;
        let mut select = QueryBuilder::<DB>::new(format!(
            "SELECT session_id, MAX(user_id{order}) AS user_id, MAX(agent_id{order}) AS agent_id, \
             MAX(team_id{order}) AS team_id, MAX(workflow_id{order}) AS workflow_id, \
             COUNT(*) AS total_traces, MIN(created_at) AS first_trace_at, MAX(created_at) AS last_trace_at \
             FROM agent_traces"
        ));
        Self::push_where(&mut select, query, with_session);
        select.push(format!(" GROUP BY session_id ORDER BY last_trace_at DESC, session_id{order} DESC"));
        Self::push_page(&mut select, query);
        let rows = select.build().fetch_all(&self.pool).await.map_err(backend)?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let total_traces: i64 = row.try_get("total_traces").map_err(backend)?;
            items.push(SessionTraceStats {
                session_id: row.try_get("session_id").map_err(backend)?,
                user_id: row.try_get("user_id").map_err(backend)?,
                agent_id: row.try_get("agent_id").map_err(backend)?,
                team_id: row.try_get("team_id").map_err(backend)?,
                workflow_id: row.try_get("workflow_id").map_err(backend)?,
                total_traces: u64::try_from(total_traces).unwrap_or(0),
                first_trace_at: row.try_get("first_trace_at").map_err(backend)?,
                last_trace_at: row.try_get("last_trace_at").map_err(backend)?,
            });
        }
        Ok(page(items, total, query.limit, query.page))
    }
}

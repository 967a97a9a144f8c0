//! Trace routes: the list (filters, paging), one trace as its span tree or one span, per-session stats, and search by a filter expression grouped by run or session.

use std::sync::Arc;

use agent_core::trace::{Comparison, TraceField, TraceFilter, TraceQuery, TraceStore, parse_time_micros};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::page::{Answer, answer, limit_and_page, paged};
use super::trace_wire::{node_json, session_json, summary_json, trace_json};
use crate::error::ApiError;
use crate::form::Fields;
use crate::json::JsonBody;
use crate::os::Shared;

/// Search pages hold at most this many traces (as AgentOS caps them).
const MAX_SEARCH_LIMIT: i64 = 100;

fn store_of(shared: &Shared) -> Option<Arc<dyn TraceStore>> {
    shared.trace_store.clone()
}

fn trace_not_found() -> ApiError {
    ApiError::not_found("Trace not found")
}

/// An ISO 8601 query time as unix microseconds; 400 when it is not one (as AgentOS answers).
fn time(query: &Fields, name: &str) -> Result<Option<i64>, ApiError> {
    let Some(text) = query.text(name) else { return Ok(None) };
    parse_time_micros(text).map(Some).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid {name} format. Use ISO 8601 format (e.g., '2025-11-19T10:00:00Z' or '2025-11-19T10:00:00+05:30')"
        ))
    })
}

/// The query's `field=value` filters, AND-ed.
fn named_filters(query: &Fields, fields: &[TraceField]) -> TraceQuery {
    let mut trace_query = TraceQuery::new();
    for field in fields {
        if let Some(value) = query.text(field.as_str()) {
            trace_query = trace_query.filter(TraceFilter::eq(*field, value));
        }
    }
    trace_query
}

pub(super) async fn list(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    answer(list_traces(shared, query).await)
}

async fn list_traces(shared: Arc<Shared>, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let (limit, page) = limit_and_page(&query)?;
    use TraceField::{AgentId, RunId, SessionId, Status, TeamId, UserId, WorkflowId};
    let mut trace_query = named_filters(&query, &[RunId, SessionId, UserId, AgentId, TeamId, WorkflowId, Status]);
    if let Some(start) = time(&query, "start_time")? {
        trace_query = trace_query.filter(TraceFilter::compare(TraceField::StartTime, Comparison::Gte, start));
    }
    if let Some(end) = time(&query, "end_time")? {
        trace_query = trace_query.filter(TraceFilter::compare(TraceField::EndTime, Comparison::Lte, end));
    }
    // No trace store: an empty list, as AgentOS answers without tracing.
    let Some(store) = store_of(&shared) else { return Ok(Json(paged(Vec::new(), page, limit, 0)).into_response()) };
    let found = store.traces(&trace_query.page(page, limit)).await.map_err(ApiError::from_store)?;
    Ok(Json(paged(found.items.iter().map(summary_json).collect(), page, limit, found.total)).into_response())
}

pub(super) async fn one(
    State(shared): State<Arc<Shared>>,
    Path(trace_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(read_trace(shared, trace_id, query).await)
}

async fn read_trace(shared: Arc<Shared>, trace_id: String, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let store = store_of(&shared).ok_or_else(trace_not_found)?;
    let trace = store.trace(&trace_id).await.map_err(ApiError::from_store)?.ok_or_else(trace_not_found)?;
    // `run_id` may come along; the trace id names the trace already.
    match query.text("span_id") {
        Some(span_id) => {
            let span = trace.span(span_id).ok_or_else(|| ApiError::not_found("Span not found"))?;
            Ok(Json(node_json(span, Vec::new())).into_response())
        }
        None => Ok(Json(trace_json(&trace)).into_response()),
    }
}

pub(super) async fn session_stats(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    answer(trace_session_stats(shared, query).await)
}

async fn trace_session_stats(shared: Arc<Shared>, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let (limit, page) = limit_and_page(&query)?;
    use TraceField::{AgentId, TeamId, UserId, WorkflowId};
    let mut trace_query = named_filters(&query, &[UserId, AgentId, TeamId, WorkflowId]);
    if let Some(start) = time(&query, "start_time")? {
        trace_query = trace_query.filter(TraceFilter::compare(TraceField::CreatedAt, Comparison::Gte, start));
    }
    if let Some(end) = time(&query, "end_time")? {
        trace_query = trace_query.filter(TraceFilter::compare(TraceField::CreatedAt, Comparison::Lte, end));
    }
    let Some(store) = store_of(&shared) else { return Ok(Json(paged(Vec::new(), page, limit, 0)).into_response()) };
    let found = store.trace_session_stats(&trace_query.page(page, limit)).await.map_err(ApiError::from_store)?;
    Ok(Json(paged(found.items.iter().map(session_json).collect(), page, limit, found.total)).into_response())
}

/// `TraceSearchRequest`.
#[derive(Deserialize, Default)]
pub(super) struct SearchBody {
    filter: Option<Value>,
    group_by: Option<Value>,
    page: Option<Value>,
    limit: Option<Value>,
}

/// A whole-number body field at least `min` (and at most `max`), 422 otherwise.
fn body_int(value: Option<&Value>, name: &str, default: i64, min: i64, max: Option<i64>) -> Result<i64, ApiError> {
    let Some(value) = value.filter(|value| !value.is_null()) else { return Ok(default) };
    let number = value.as_i64().ok_or_else(|| {
        ApiError::validation(&["body", name], "int_type", "Input should be a valid integer", value.clone())
    })?;
    if number < min {
        let message = format!("Input should be greater than or equal to {min}");
        return Err(ApiError::validation(&["body", name], "greater_than_equal", message, value.clone()));
    }
    if let Some(max) = max.filter(|max| number > *max) {
        let message = format!("Input should be less than or equal to {max}");
        return Err(ApiError::validation(&["body", name], "less_than_equal", message, value.clone()));
    }
    Ok(number)
}

pub(super) async fn search(
    State(shared): State<Arc<Shared>>,
    body: Result<JsonBody<SearchBody>, ApiError>,
) -> Response {
    answer(search_traces(shared, body).await)
}

async fn search_traces(shared: Arc<Shared>, body: Result<JsonBody<SearchBody>, ApiError>) -> Answer {
    let JsonBody(body) = body?;
    let by_session = match body.group_by.as_ref().filter(|value| !value.is_null()) {
        None => false,
        Some(Value::String(group)) if group == "run" => false,
        Some(Value::String(group)) if group == "session" => true,
        Some(other) => {
            let message = "Input should be 'run' or 'session'";
            return Err(ApiError::validation(&["body", "group_by"], "enum", message, other.clone()));
        }
    };
    let page = body_int(body.page.as_ref(), "page", 1, 1, None)?;
    let limit = body_int(body.limit.as_ref(), "limit", 20, 1, Some(MAX_SEARCH_LIMIT))?;
    let (page, limit) = (u32::try_from(page).unwrap_or(u32::MAX), u32::try_from(limit).unwrap_or(20));
    let mut query = TraceQuery::new();
    if let Some(filter) = body.filter.as_ref().filter(|filter| !filter.is_null()) {
        let filter = TraceFilter::from_json(filter)
            .map_err(|error| ApiError::bad_request(format!("Invalid filter expression: {error}")))?;
        query = query.filter(filter);
    }
    let query = query.page(page, limit);
    let Some(store) = store_of(&shared) else { return Ok(Json(paged(Vec::new(), page, limit, 0)).into_response()) };
    let (items, total) = if by_session {
        let found = store.trace_session_stats(&query).await.map_err(ApiError::from_store)?;
        (found.items.iter().map(session_json).collect(), found.total)
    } else {
        let found = store.search_traces(&query).await.map_err(ApiError::from_store)?;
        (found.items.iter().map(trace_json).collect(), found.total)
    };
    Ok(Json(paged(items, page, limit, total)).into_response())
}

/// The filterable fields, for UIs building a filter bar (`/traces/filter-schema`).
pub(super) async fn filter_schema() -> Response {
    let text_ops = json!(["EQ", "NEQ", "CONTAINS", "STARTSWITH", "IN"]);
    let time_ops = json!(["GT", "GTE", "LT", "LTE"]);
    let fields: Vec<Value> = TraceField::ALL
        .iter()
        .map(|field| {
            let key = field.as_str();
            let label = key.replace('_', " ");
            match field {
                TraceField::Status => json!({"key": key, "label": "Status", "type": "enum",
                    "operators": ["EQ", "NEQ", "IN"], "values": ["OK", "ERROR"]}),
                TraceField::DurationMs => json!({"key": key, "label": "Duration (ms)", "type": "number",
                    "operators": ["EQ", "NEQ", "GT", "GTE", "LT", "LTE"]}),
                _ if field.is_time() => json!({"key": key, "label": label, "type": "datetime", "operators": time_ops}),
                _ => json!({"key": key, "label": label, "type": "string", "operators": text_ops}),
            }
        })
        .collect();
    Json(json!({"fields": fields, "logical_operators": ["AND", "OR"]})).into_response()
}

//! Metrics and database routes: daily usage aggregates (`/metrics`, refreshed on demand or in the background) and schema migrations.

use std::sync::{Arc, Mutex, PoisonError};

use agent_core::metrics::{DayMetrics, DayRange};
use agent_core::support::{rfc3339, unix_now};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::page::{Answer, answer};
use super::sessions::store_of;
use crate::error::ApiError;
use crate::form::Fields;
use crate::json::JsonBody;
use crate::os::Shared;

/// The state of the last metrics refresh.
#[derive(Debug, Default)]
pub(crate) struct Refresh {
    status: &'static str,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    error: Option<String>,
}

/// The refresh state every metrics route shares.
pub(crate) type RefreshState = Mutex<Refresh>;

fn lock(state: &RefreshState) -> std::sync::MutexGuard<'_, Refresh> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A day as `DayAggregatedMetrics`.
fn day_json(metrics: &DayMetrics, now: i64) -> Value {
    let date = rfc3339::format(metrics.day);
    let tokens = &metrics.tokens;
    json!({
        "id": format!("{}_daily", &date[..10]),
        "agent_runs_count": metrics.agent_runs,
        "agent_sessions_count": metrics.agent_sessions,
        "team_runs_count": metrics.team_runs,
        "team_sessions_count": metrics.team_sessions,
        "workflow_runs_count": metrics.workflow_runs,
        "workflow_sessions_count": metrics.workflow_sessions,
        "users_count": metrics.users,
        "token_metrics": {
            "input_tokens": tokens.input_tokens,
            "output_tokens": tokens.output_tokens,
            "total_tokens": tokens.total_tokens,
            "audio_total_tokens": 0,
            "audio_input_tokens": 0,
            "audio_output_tokens": 0,
            "cache_read_tokens": tokens.cache_read_tokens,
            "cache_write_tokens": tokens.cache_write_tokens,
            "reasoning_tokens": 0,
        },
        "model_metrics": metrics.models,
        "date": date,
        "created_at": rfc3339::format(now),
        "updated_at": rfc3339::format(now),
    })
}

/// A `YYYY-MM-DD` query parameter as the unix seconds of its midnight.
fn date(query: &Fields, name: &str) -> Result<Option<i64>, ApiError> {
    let Some(text) = query.text(name) else { return Ok(None) };
    // A real calendar date formats back to itself (2025-02-30 does not).
    let parsed = rfc3339::parse(&format!("{text}T00:00:00Z"));
    match parsed.filter(|seconds| rfc3339::format(*seconds).get(..10) == Some(text)) {
        Some(seconds) => Ok(Some(seconds)),
        None => Err(ApiError::validation(
            &["query", name],
            "date_from_datetime_parsing",
            "Input should be a valid date in the format YYYY-MM-DD",
            json!(text),
        )),
    }
}

async fn compute(shared: &Shared, query: &Fields, range: DayRange) -> Result<Vec<Value>, ApiError> {
    let store = store_of(shared, query)?;
    let days = store.daily_metrics(range).await.map_err(ApiError::from_store)?;
    let now = unix_now();
    Ok(days.iter().map(|day| day_json(day, now)).collect())
}

pub(super) async fn metrics(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    answer(read_metrics(shared, query).await)
}

async fn read_metrics(shared: Arc<Shared>, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let range = DayRange { from: date(&query, "starting_date")?, to: date(&query, "ending_date")? };
    if let (Some(from), Some(to)) = (range.from, range.to)
        && from > to
    {
        return Err(ApiError::bad_request("starting_date is after ending_date"));
    }
    let days = compute(&shared, &query, range).await?;
    let updated_at = lock(&shared.metrics_refresh).finished_at.unwrap_or_else(unix_now);
    Ok(Json(json!({"metrics": days, "updated_at": rfc3339::format(updated_at)})).into_response())
}

pub(super) async fn refresh(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    answer(refresh_metrics(shared, query).await)
}

/// Recomputes the aggregates (they are computed from the runs on every
/// read; a refresh records when, and reports them). In the background it
/// answers 202 at once; `/metrics/refresh/status` tells when it is done.
async fn refresh_metrics(shared: Arc<Shared>, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let background = query.bool("background", false)?;
    store_of(&shared, &query)?;
    {
        let mut state = lock(&shared.metrics_refresh);
        if state.status == "running" {
            return Err(ApiError::conflict("a metrics refresh is already running"));
        }
        *state = Refresh { status: "running", started_at: Some(unix_now()), ..Refresh::default() };
    }
    let run = {
        let shared = shared.clone();
        async move {
            let result = compute(&shared, &query, DayRange::default()).await;
            let mut state = lock(&shared.metrics_refresh);
            state.finished_at = Some(unix_now());
            match &result {
                Ok(_) => state.status = "completed",
                Err(_) => {
                    state.status = "failed";
                    state.error = Some("the store could not compute the metrics (the server log has the cause)".into());
                }
            }
            result
        }
    };
    if background {
        tokio::spawn(run);
        let body = json!({"status": "running", "message": "Metrics refresh started; poll /metrics/refresh/status"});
        return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
    }
    Ok(Json(Value::Array(run.await?)).into_response())
}

pub(super) async fn refresh_status(State(shared): State<Arc<Shared>>) -> Response {
    let state = lock(&shared.metrics_refresh);
    let at = |seconds: Option<i64>| seconds.map(rfc3339::format);
    let status = if state.status.is_empty() { "idle" } else { state.status };
    Json(json!({"status": status, "started_at": at(state.started_at), "finished_at": at(state.finished_at), "error": state.error}))
        .into_response()
}

#[derive(Deserialize, Default)]
pub(super) struct Migrate {
    target_version: Option<Value>,
}

pub(super) async fn migrate(
    State(shared): State<Arc<Shared>>,
    Path(db_id): Path<String>,
    RawQuery(query): RawQuery,
    body: Result<JsonBody<Migrate>, ApiError>,
) -> Response {
    answer(migrate_databases(shared, db_id, query, body).await)
}

async fn migrate_databases(
    shared: Arc<Shared>,
    db_id: String,
    query: Option<String>,
    body: Result<JsonBody<Migrate>, ApiError>,
) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let JsonBody(body) = body?;
    let target = query.text("target_version").map(|text| json!(text)).or(body.target_version.filter(|v| !v.is_null()));
    if let Some(target) = target {
        return Err(ApiError::bad_request(format!(
            "target_version {target} is not supported: the stores migrate to their newest schema (leave it out)"
        )));
    }
    let stores = if db_id == "all" {
        shared.stores()
    } else {
        let store = shared
            .store_by_db_id(&db_id)
            .ok_or_else(|| ApiError::not_found(format!("Database with id '{db_id}' not found")))?;
        vec![store]
    };
    let mut applied = 0;
    for store in stores {
        applied += store.migrate().await.map_err(|err| match err {
            agent_core::StoreError::SchemaTooNew { .. } => ApiError::conflict(err.to_string()),
            other => ApiError::internal(&other),
        })?;
    }
    let message = if db_id == "all" {
        "All databases migrated successfully to latest version"
    } else {
        "Database migrated successfully to latest version"
    };
    Ok(Json(json!({"message": message, "migrations_applied": applied})).into_response())
}

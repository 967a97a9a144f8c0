//! Session routes: create, list, read, rename, update and delete sessions, and read their runs, as the AgentOS client expects them.

use std::sync::Arc;

use agent_core::{RunRecord, Session, SessionQuery, SessionSort, SessionStore, SessionSummary, SessionType, SortOrder};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::page::{Answer, answer, limit_and_page, paged};
use super::session_wire::{detail, list_item, preview_json, run_json};
use crate::error::ApiError;
use crate::form::Fields;
use crate::json::JsonBody;
use crate::os::Shared;

const TYPES: &[&str] = &["agent", "team", "workflow"];

/// The store sessions are read from: the one `db_id` names, else the server's.
pub(crate) fn store_of(shared: &Shared, query: &Fields) -> Result<Arc<dyn SessionStore>, ApiError> {
    if let Some(db_id) = query.text("db_id") {
        return shared
            .store_by_db_id(db_id)
            .ok_or_else(|| ApiError::not_found(format!("Database with id '{db_id}' not found")));
    }
    shared.stores().into_iter().next().ok_or_else(|| {
        ApiError::unavailable("No database is configured on this AgentOS: give it a store with `.store(..)`")
    })
}

fn session_type(query: &Fields) -> Result<Option<SessionType>, ApiError> {
    Ok(query.choice("type", TYPES)?.and_then(SessionType::parse))
}

fn not_found(session_id: &str) -> ApiError {
    ApiError::not_found(format!("Session with id '{session_id}' not found"))
}

/// Loads a session, as the query scopes it: a `type` or `user_id` it does
/// not have reads as not found.
async fn load(store: &dyn SessionStore, session_id: &str, query: &Fields) -> Result<Session, ApiError> {
    let kind = session_type(query)?;
    let session = store.session(session_id).await.map_err(|err| ApiError::internal(&err))?;
    let session = session.ok_or_else(|| not_found(session_id))?;
    if kind.is_some_and(|kind| kind != session.session_type)
        || query.text("user_id").is_some_and(|user| session.user_id.as_deref() != Some(user))
    {
        return Err(not_found(session_id));
    }
    Ok(session)
}

#[derive(Deserialize)]
pub(super) struct CreateSession {
    session_id: Option<String>,
    session_name: Option<String>,
    session_state: Option<Map<String, Value>>,
    metadata: Option<Map<String, Value>>,
    user_id: Option<String>,
    agent_id: Option<String>,
    team_id: Option<String>,
    workflow_id: Option<String>,
}

pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    body: Result<JsonBody<CreateSession>, ApiError>,
) -> Response {
    answer(create_session(shared, query, body).await)
}

async fn create_session(
    shared: Arc<Shared>,
    query: Option<String>,
    body: Result<JsonBody<CreateSession>, ApiError>,
) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let kind = session_type(&query)?.unwrap_or(SessionType::Agent);
    let JsonBody(body) = body?;
    let store = store_of(&shared, &query)?;
    let session_id = body.session_id.filter(|id| !id.is_empty()).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if store.session(&session_id).await.map_err(|err| ApiError::internal(&err))?.is_some() {
        return Err(ApiError::conflict(format!("Session with id '{session_id}' already exists")));
    }
    let component_id = match kind {
        SessionType::Agent => body.agent_id,
        SessionType::Team => body.team_id,
        SessionType::Workflow => body.workflow_id,
    };
    if let Some(id) = component_id.as_deref() {
        shared.component(kind, id)?;
    }
    let mut session = Session::new(session_id, kind);
    session.component_id = component_id;
    session.user_id = body.user_id;
    session.session_name = body.session_name.filter(|name| !name.is_empty());
    session.state = body.session_state.unwrap_or_default();
    session.metadata = body.metadata.unwrap_or_default();
    store.upsert_session(&session).await.map_err(ApiError::from_store)?;
    Ok((StatusCode::CREATED, Json(detail(&shared, &session, &[]))).into_response())
}

pub(super) async fn list(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    answer(list_sessions(shared, query).await)
}

async fn list_sessions(shared: Arc<Shared>, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let (limit, page) = limit_and_page(&query)?;
    let sort_by = match query.choice("sort_by", &["created_at", "updated_at", "session_name"])? {
        Some("updated_at") => SessionSort::UpdatedAt,
        Some("session_name") => SessionSort::SessionName,
        _ => SessionSort::CreatedAt,
    };
    let sort_order = match query.choice("sort_order", &["asc", "desc"])? {
        Some("asc") => SortOrder::Asc,
        _ => SortOrder::Desc,
    };
    let store = store_of(&shared, &query)?;
    let filter = SessionQuery {
        session_type: session_type(&query)?,
        component_id: query.text("component_id").map(str::to_owned),
        user_id: query.text("user_id").map(str::to_owned),
        session_name: query.text("session_name").map(str::to_owned),
        limit: Some(limit),
        page: Some(page),
        sort_by,
        sort_order,
    };
    let found = store.list_sessions(&filter).await.map_err(ApiError::from_store)?;
    let items = found.items.iter().map(list_item).collect();
    Ok(Json(paged(items, page, limit, found.total)).into_response())
}

pub(super) async fn one(
    State(shared): State<Arc<Shared>>,
    Path(session_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(read_session(shared, session_id, query).await)
}

async fn read_session(shared: Arc<Shared>, session_id: String, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let store = store_of(&shared, &query)?;
    let session = load(&*store, &session_id, &query).await?;
    let runs = store.runs(&session_id, None).await.map_err(|err| ApiError::internal(&err))?;
    Ok(Json(detail(&shared, &session, &runs)).into_response())
}

/// The runs of a session the query selects: `created_after` / `created_before` (unix seconds) and `status` (any of, case-insensitive).
fn selected<'a>(runs: &'a [RunRecord], query: &Fields) -> Result<Vec<&'a RunRecord>, ApiError> {
    let after = query.int("created_after", i64::MIN, i64::MIN)?;
    let before = query.int("created_before", i64::MIN, i64::MAX)?;
    let statuses: Vec<String> =
        query.all("status").iter().filter(|s| !s.is_empty()).map(|s| s.to_ascii_lowercase()).collect();
    if let Some(unknown) = statuses.iter().find(|status| agent_core::RunStatus::parse(status).is_none()) {
        return Err(ApiError::bad_request(format!(
            "unknown run status `{unknown}`: use RUNNING, PAUSED, COMPLETED, ERROR or CANCELLED"
        )));
    }
    Ok(runs
        .iter()
        .filter(|run| run.created_at >= after && run.created_at <= before)
        .filter(|run| statuses.is_empty() || statuses.iter().any(|status| status == run.status.as_str()))
        .collect())
}

pub(super) async fn runs(
    State(shared): State<Arc<Shared>>,
    Path(session_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(session_runs(shared, session_id, query, false).await)
}

pub(super) async fn previews(
    State(shared): State<Arc<Shared>>,
    Path(session_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(session_runs(shared, session_id, query, true).await)
}

async fn session_runs(shared: Arc<Shared>, session_id: String, query: Option<String>, preview: bool) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let store = store_of(&shared, &query)?;
    let session = load(&*store, &session_id, &query).await?;
    let runs = store.runs(&session_id, None).await.map_err(|err| ApiError::internal(&err))?;
    let chosen = selected(&runs, &query)?;
    let items: Vec<Value> = if preview {
        chosen.iter().map(|run| preview_json(&session, run)).collect()
    } else {
        chosen.iter().map(|run| run_json(&session, run)).collect()
    };
    Ok(Json(Value::Array(items)).into_response())
}

pub(super) async fn run(
    State(shared): State<Arc<Shared>>,
    Path((session_id, run_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(session_run(shared, session_id, run_id, query).await)
}

async fn session_run(shared: Arc<Shared>, session_id: String, run_id: String, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let store = store_of(&shared, &query)?;
    let session = load(&*store, &session_id, &query).await?;
    let run = store.run(&session_id, &run_id).await.map_err(|err| ApiError::internal(&err))?;
    let run =
        run.ok_or_else(|| ApiError::not_found(format!("Run with id '{run_id}' not found in session '{session_id}'")))?;
    Ok(Json(run_json(&session, &run)).into_response())
}

#[derive(Deserialize)]
pub(super) struct Rename {
    session_name: String,
}

pub(super) async fn rename(
    State(shared): State<Arc<Shared>>,
    Path(session_id): Path<String>,
    RawQuery(query): RawQuery,
    body: Result<JsonBody<Rename>, ApiError>,
) -> Response {
    let changes =
        body.map(|JsonBody(body)| JsonBody(Update { session_name: Some(body.session_name), ..Update::default() }));
    answer(update_session(shared, session_id, query, changes).await)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct Update {
    session_name: Option<String>,
    session_state: Option<Map<String, Value>>,
    metadata: Option<Map<String, Value>>,
    summary: Option<SummaryUpdate>,
}

#[derive(Deserialize)]
pub(super) struct SummaryUpdate {
    summary: String,
    #[serde(default)]
    topics: Vec<String>,
}

pub(super) async fn update(
    State(shared): State<Arc<Shared>>,
    Path(session_id): Path<String>,
    RawQuery(query): RawQuery,
    body: Result<JsonBody<Update>, ApiError>,
) -> Response {
    answer(update_session(shared, session_id, query, body).await)
}

async fn update_session(
    shared: Arc<Shared>,
    session_id: String,
    query: Option<String>,
    body: Result<JsonBody<Update>, ApiError>,
) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let JsonBody(changes) = body?;
    let store = store_of(&shared, &query)?;
    let mut session = load(&*store, &session_id, &query).await?;
    if let Some(name) = changes.session_name {
        session.session_name = Some(name);
    }
    if let Some(state) = changes.session_state {
        session.state = state;
    }
    if let Some(metadata) = changes.metadata {
        session.metadata = metadata;
    }
    if let Some(summary) = changes.summary {
        let now = agent_core::support::unix_now();
        session.summary = Some(SessionSummary { summary: summary.summary, topics: summary.topics, updated_at: now });
    }
    session.updated_at = agent_core::support::unix_now();
    store.upsert_session(&session).await.map_err(ApiError::from_store)?;
    let runs = store.runs(&session_id, None).await.map_err(|err| ApiError::internal(&err))?;
    Ok(Json(detail(&shared, &session, &runs)).into_response())
}

pub(super) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(session_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(delete_session(shared, session_id, query).await)
}

async fn delete_session(shared: Arc<Shared>, session_id: String, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let store = store_of(&shared, &query)?;
    load(&*store, &session_id, &query).await?;
    store.delete_session(&session_id).await.map_err(|err| ApiError::internal(&err))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub(super) struct DeleteMany {
    session_ids: Vec<String>,
    #[serde(default)]
    session_types: Vec<String>,
}

pub(super) async fn delete_many(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    body: Result<JsonBody<DeleteMany>, ApiError>,
) -> Response {
    answer(delete_sessions(shared, query, body).await)
}

async fn delete_sessions(
    shared: Arc<Shared>,
    query: Option<String>,
    body: Result<JsonBody<DeleteMany>, ApiError>,
) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let JsonBody(body) = body?;
    if body.session_ids.is_empty() {
        return Err(ApiError::validation(
            &["body", "session_ids"],
            "too_short",
            "List should have at least 1 item",
            json!([]),
        ));
    }
    let mut types = Vec::new();
    for name in &body.session_types {
        let kind = SessionType::parse(name).ok_or_else(|| {
            ApiError::validation(
                &["body", "session_types"],
                "enum",
                "Input should be 'agent', 'team' or 'workflow'",
                json!(name),
            )
        })?;
        types.push(kind);
    }
    let store = store_of(&shared, &query)?;
    let user = query.text("user_id");
    for session_id in &body.session_ids {
        let Some(session) = store.session(session_id).await.map_err(|err| ApiError::internal(&err))? else { continue };
        let type_ok = types.is_empty() || types.contains(&session.session_type);
        let user_ok = user.is_none_or(|user| session.user_id.as_deref() == Some(user));
        if type_ok && user_ok {
            store.delete_session(session_id).await.map_err(|err| ApiError::internal(&err))?;
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

//! Memory routes: create, list, read, update and delete user memories, their topics and per-user counts, and optimize a user's memories (with a dry run).

use std::sync::Arc;

use agent_core::Model;
use agent_core::SortOrder;
use agent_core::memory::{MemoryManager, MemoryQuery, MemorySort, MemoryStore, UserMemory};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::page::{Answer, answer, limit_and_page, paged};
use crate::error::ApiError;
use crate::form::Fields;
use crate::json::JsonBody;
use crate::os::Shared;

fn store_of(shared: &Shared) -> Result<Arc<dyn MemoryStore>, ApiError> {
    shared.memory_store.clone().ok_or_else(|| {
        ApiError::unavailable("No memory store is configured on this AgentOS: give it one with `.memory_store(..)`")
    })
}

/// A memory as `UserMemorySchema`.
fn memory_json(memory: &UserMemory) -> Value {
    json!({
        "memory_id": memory.memory_id,
        "memory": memory.memory,
        "topics": memory.topics,
        "agent_id": memory.agent_id,
        "team_id": memory.team_id,
        "user_id": memory.user_id,
        "created_at": agent_core::support::rfc3339::format(memory.created_at),
        "updated_at": agent_core::support::rfc3339::format(memory.updated_at),
    })
}

fn not_found(memory_id: &str) -> ApiError {
    ApiError::not_found(format!("Memory with ID {memory_id} not found"))
}

/// Loads a memory; one of another user (when `user_id` is given) reads as not found.
async fn load(store: &dyn MemoryStore, memory_id: &str, user_id: Option<&str>) -> Result<UserMemory, ApiError> {
    let memory =
        store.memory(memory_id).await.map_err(|err| ApiError::internal(&err))?.ok_or_else(|| not_found(memory_id))?;
    if user_id.is_some_and(|user| memory.user_id.as_deref() != Some(user)) {
        return Err(not_found(memory_id));
    }
    Ok(memory)
}

/// The body of a create or an update (`UserMemoryCreateSchema`).
#[derive(Deserialize)]
pub(super) struct MemoryBody {
    memory: String,
    user_id: Option<String>,
    topics: Option<Vec<String>>,
    agent_id: Option<String>,
    team_id: Option<String>,
}

pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    body: Result<JsonBody<MemoryBody>, ApiError>,
) -> Response {
    answer(create_memory(shared, body).await)
}

async fn create_memory(shared: Arc<Shared>, body: Result<JsonBody<MemoryBody>, ApiError>) -> Answer {
    let JsonBody(body) = body?;
    let store = store_of(&shared)?;
    let user_id =
        body.user_id.filter(|user| !user.is_empty()).ok_or_else(|| ApiError::bad_request("User ID is required"))?;
    if body.memory.trim().is_empty() {
        return Err(ApiError::validation(
            &["body", "memory"],
            "string_too_short",
            "String should have at least 1 character",
            json!(body.memory),
        ));
    }
    let mut memory = UserMemory::new(user_id, body.memory).with_topics(body.topics.unwrap_or_default());
    memory.agent_id = body.agent_id;
    memory.team_id = body.team_id;
    store.upsert_memory(&memory).await.map_err(ApiError::from_store)?;
    Ok(Json(memory_json(&memory)).into_response())
}

pub(super) async fn one(
    State(shared): State<Arc<Shared>>,
    Path(memory_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(read_memory(shared, memory_id, query).await)
}

async fn read_memory(shared: Arc<Shared>, memory_id: String, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let store = store_of(&shared)?;
    let memory = load(&*store, &memory_id, query.text("user_id")).await?;
    Ok(Json(memory_json(&memory)).into_response())
}

pub(super) async fn list(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    answer(list_memories(shared, query).await)
}

async fn list_memories(shared: Arc<Shared>, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let (limit, page) = limit_and_page(&query)?;
    let sort_by = match query.choice("sort_by", &["updated_at", "created_at", "memory"])? {
        Some("created_at") => MemorySort::CreatedAt,
        Some("memory") => MemorySort::Memory,
        _ => MemorySort::UpdatedAt,
    };
    let sort_order = match query.choice("sort_order", &["asc", "desc"])? {
        Some("asc") => SortOrder::Asc,
        _ => SortOrder::Desc,
    };
    let store = store_of(&shared)?;
    let filter = MemoryQuery {
        user_id: query.text("user_id").map(str::to_owned),
        agent_id: query.text("agent_id").map(str::to_owned),
        team_id: query.text("team_id").map(str::to_owned),
        topics: query.all("topics").into_iter().filter(|topic| !topic.is_empty()).map(str::to_owned).collect(),
        search_content: query.text("search_content").map(str::to_owned),
        limit: Some(limit),
        page: Some(page),
        sort_by,
        sort_order,
    };
    let found = store.list_memories(&filter).await.map_err(ApiError::from_store)?;
    Ok(Json(paged(found.items.iter().map(memory_json).collect(), page, limit, found.total)).into_response())
}

pub(super) async fn update(
    State(shared): State<Arc<Shared>>,
    Path(memory_id): Path<String>,
    body: Result<JsonBody<MemoryBody>, ApiError>,
) -> Response {
    answer(update_memory(shared, memory_id, body).await)
}

async fn update_memory(shared: Arc<Shared>, memory_id: String, body: Result<JsonBody<MemoryBody>, ApiError>) -> Answer {
    let JsonBody(body) = body?;
    let store = store_of(&shared)?;
    let mut memory = load(&*store, &memory_id, body.user_id.as_deref()).await?;
    if body.memory.trim().is_empty() {
        return Err(ApiError::validation(
            &["body", "memory"],
            "string_too_short",
            "String should have at least 1 character",
            json!(body.memory),
        ));
    }
    memory.memory = body.memory;
    if let Some(topics) = body.topics {
        memory.topics = topics;
    }
    if body.agent_id.is_some() {
        memory.agent_id = body.agent_id;
    }
    if body.team_id.is_some() {
        memory.team_id = body.team_id;
    }
    memory.updated_at = agent_core::support::unix_now();
    store.upsert_memory(&memory).await.map_err(ApiError::from_store)?;
    Ok(Json(memory_json(&memory)).into_response())
}

pub(super) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(memory_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(delete_memory(shared, memory_id, query).await)
}

async fn delete_memory(shared: Arc<Shared>, memory_id: String, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let store = store_of(&shared)?;
    load(&*store, &memory_id, query.text("user_id")).await?;
    store.delete_memory(&memory_id).await.map_err(|err| ApiError::internal(&err))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub(super) struct DeleteMany {
    memory_ids: Vec<String>,
    user_id: Option<String>,
}

pub(super) async fn delete_many(
    State(shared): State<Arc<Shared>>,
    body: Result<JsonBody<DeleteMany>, ApiError>,
) -> Response {
    answer(delete_memories(shared, body).await)
}

async fn delete_memories(shared: Arc<Shared>, body: Result<JsonBody<DeleteMany>, ApiError>) -> Answer {
    let JsonBody(body) = body?;
    let store = store_of(&shared)?;
    let mut chosen = Vec::new();
    for memory_id in body.memory_ids {
        // Scoped: another user's memories are left alone.
        match load(&*store, &memory_id, body.user_id.as_deref()).await {
            Ok(_) => chosen.push(memory_id),
            Err(err) if err.status() == StatusCode::NOT_FOUND => {}
            Err(err) => return Err(err),
        }
    }
    store.delete_memories(&chosen).await.map_err(|err| ApiError::internal(&err))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn topics(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    answer(memory_topics(shared, query).await)
}

async fn memory_topics(shared: Arc<Shared>, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let store = store_of(&shared)?;
    let topics = store.memory_topics(query.text("user_id")).await.map_err(|err| ApiError::internal(&err))?;
    Ok(Json(topics).into_response())
}

pub(super) async fn stats(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    answer(user_stats(shared, query).await)
}

async fn user_stats(shared: Arc<Shared>, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let (limit, page) = limit_and_page(&query)?;
    let store = store_of(&shared)?;
    let stat = |user_id: &str, total: u64, last: i64| json!({"user_id": user_id, "total_memories": total, "last_memory_updated_at": agent_core::support::rfc3339::format(last)});
    if let Some(user_id) = query.text("user_id") {
        let found = store.list_memories(&MemoryQuery::user(user_id)).await.map_err(ApiError::from_store)?;
        let last = found.items.iter().map(|memory| memory.updated_at).max();
        let items = match last {
            Some(last) if page == 1 => vec![stat(user_id, found.total, last)],
            _ => Vec::new(),
        };
        let total = u64::from(last.is_some());
        return Ok(Json(paged(items, page, limit, total)).into_response());
    }
    let found = store.user_memory_stats(Some(limit), Some(page)).await.map_err(ApiError::from_store)?;
    let items =
        found.items.iter().map(|row| stat(&row.user_id, row.total_memories, row.last_memory_updated_at)).collect();
    Ok(Json(paged(items, page, limit, found.total)).into_response())
}

#[derive(Deserialize)]
pub(super) struct Optimize {
    user_id: String,
    model: Option<String>,
    #[serde(default = "yes")]
    apply: bool,
}

fn yes() -> bool {
    true
}

pub(super) async fn optimize(
    State(shared): State<Arc<Shared>>,
    body: Result<JsonBody<Optimize>, ApiError>,
) -> Response {
    answer(optimize_memories(shared, body).await)
}

/// The model an optimize request names (`provider:model-id`), or the server's memory model.
fn model_for(shared: &Shared, name: Option<&str>) -> Result<Arc<dyn Model>, ApiError> {
    let Some(name) = name.filter(|name| !name.is_empty()) else {
        return shared.memory_model.clone().ok_or_else(|| {
            ApiError::bad_request("no model given, and this AgentOS has no memory model (`.memory_model(..)`)")
        });
    };
    let (provider, id) = name
        .split_once(':')
        .filter(|(provider, id)| !provider.is_empty() && !id.is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("model `{name}` is not `provider:model-id`")))?;
    let resolve = shared.models.as_ref().ok_or_else(|| {
        ApiError::bad_request(format!("this AgentOS cannot create model `{name}` (no model resolver)"))
    })?;
    resolve(provider, id).map_err(|message| ApiError::bad_request(format!("model `{name}`: {message}")))
}

async fn optimize_memories(shared: Arc<Shared>, body: Result<JsonBody<Optimize>, ApiError>) -> Answer {
    let JsonBody(body) = body?;
    let store = store_of(&shared)?;
    let existing = store
        .list_memories(&MemoryQuery { limit: Some(1), ..MemoryQuery::user(&body.user_id) })
        .await
        .map_err(ApiError::from_store)?;
    if existing.total == 0 {
        return Err(ApiError::not_found(format!("No memories found for user {}", body.user_id)));
    }
    let model = model_for(&shared, body.model.as_deref())?;
    let manager = MemoryManager::new(model, store);
    let outcome =
        if body.apply { manager.optimize(&body.user_id).await } else { manager.optimize_dry_run(&body.user_id).await };
    let outcome = outcome.map_err(|err| match err {
        agent_core::Error::OutputValidation { message, .. } => {
            ApiError::bad_request(format!("the model's answer was refused: {message}"))
        }
        agent_core::Error::Model(model) => ApiError::new(StatusCode::BAD_GATEWAY, format!("the model failed: {model}")),
        other => ApiError::internal(&other),
    })?;
    Ok(Json(json!({
        "memories": outcome.memories.iter().map(memory_json).collect::<Vec<_>>(),
        "memories_before": outcome.memories_before,
        "memories_after": outcome.memories_after,
        "tokens_before": outcome.tokens_before,
        "tokens_after": outcome.tokens_after,
        "tokens_saved": outcome.tokens_saved,
        "reduction_percentage": outcome.reduction_percentage,
    }))
    .into_response())
}

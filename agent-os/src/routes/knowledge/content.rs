//! Content item routes: list (sorted, paged), read, update, delete one or all, and the ingestion status.

use std::sync::Arc;

use agent_core::SortOrder;
use agent_memory::knowledge::{ContentPatch, ContentQuery, ContentSort};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::page::{limit_and_page, paged};
use super::{Answer, answer, content_json, content_not_found, from_query, knowledge_error};
use crate::error::ApiError;
use crate::form::Fields;
use crate::os::Shared;

pub(super) async fn list(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    answer(list_content(&shared, query.as_deref()).await)
}

async fn list_content(shared: &Shared, query: Option<&str>) -> Answer {
    let query = Fields::from_query(query)?;
    let knowledge = from_query(shared, &query)?;
    let (limit, page) = limit_and_page(&query)?;
    let sort_by = match query.choice("sort_by", &["created_at", "updated_at", "name"])? {
        Some("updated_at") => ContentSort::UpdatedAt,
        Some("name") => ContentSort::Name,
        _ => ContentSort::CreatedAt,
    };
    let sort_order = match query.choice("sort_order", &["asc", "desc"])? {
        Some("asc") => SortOrder::Asc,
        _ => SortOrder::Desc,
    };
    let content_query = ContentQuery { limit: Some(limit), page: Some(page), sort_by, sort_order };
    let found = knowledge.list(&content_query).await.map_err(knowledge_error)?;
    let items: Vec<Value> = found.items.iter().map(content_json).collect();
    Ok(Json(paged(items, page, limit, found.total)).into_response())
}

pub(super) async fn one(
    State(shared): State<Arc<Shared>>,
    Path(content_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(read(&shared, &content_id, query.as_deref()).await)
}

async fn read(shared: &Shared, content_id: &str, query: Option<&str>) -> Answer {
    let query = Fields::from_query(query)?;
    let knowledge = from_query(shared, &query)?;
    let content = knowledge.content(content_id).await.map_err(knowledge_error)?;
    let content = content.ok_or_else(|| content_not_found(content_id))?;
    Ok(Json(content_json(&content)).into_response())
}

pub(super) async fn status(
    State(shared): State<Arc<Shared>>,
    Path(content_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(read_status(&shared, &content_id, query.as_deref()).await)
}

async fn read_status(shared: &Shared, content_id: &str, query: Option<&str>) -> Answer {
    let query = Fields::from_query(query)?;
    let knowledge = from_query(shared, &query)?;
    let report = knowledge.status(content_id).await.map_err(knowledge_error)?;
    let body = json!({"id": content_id, "status": report.status.as_str(), "status_message": report.status_message});
    Ok(Json(body).into_response())
}

/// The fields an update form may carry.
const UPDATE_FIELDS: &[&str] = &["name", "description", "metadata", "reader_id"];

pub(super) async fn update(
    State(shared): State<Arc<Shared>>,
    Path(content_id): Path<String>,
    RawQuery(query): RawQuery,
    form: Result<Fields, ApiError>,
) -> Response {
    answer(update_content(&shared, &content_id, query.as_deref(), form).await)
}

async fn update_content(
    shared: &Shared,
    content_id: &str,
    query: Option<&str>,
    form: Result<Fields, ApiError>,
) -> Answer {
    let query = Fields::from_query(query)?;
    let knowledge = from_query(shared, &query)?;
    let form = form?;
    super::upload::refuse_unknown(&form, UPDATE_FIELDS)?;
    if let Some(reader_id) = form.text("reader_id") {
        super::upload::reader(reader_id)?;
    }
    let metadata =
        form.json_object("metadata").map_err(|_| ApiError::bad_request("Invalid JSON format for metadata"))?;
    let patch = ContentPatch {
        name: form.text("name").map(str::to_owned),
        description: form.text("description").map(str::to_owned),
        metadata,
    };
    let content = knowledge.update(content_id, patch).await.map_err(knowledge_error)?;
    Ok(Json(content_json(&content)).into_response())
}

pub(super) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(content_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(delete_content(&shared, &content_id, query.as_deref()).await)
}

/// Deletes an item and answers it as it was (the client needs a body with its `id`).
async fn delete_content(shared: &Shared, content_id: &str, query: Option<&str>) -> Answer {
    let query = Fields::from_query(query)?;
    let knowledge = from_query(shared, &query)?;
    let content = knowledge.content(content_id).await.map_err(knowledge_error)?;
    let content = content.ok_or_else(|| content_not_found(content_id))?;
    if !knowledge.delete(content_id).await.map_err(knowledge_error)? {
        return Err(content_not_found(content_id));
    }
    Ok(Json(content_json(&content)).into_response())
}

pub(super) async fn delete_all(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    answer(delete_every(&shared, query.as_deref()).await)
}

async fn delete_every(shared: &Shared, query: Option<&str>) -> Answer {
    let query = Fields::from_query(query)?;
    let knowledge = from_query(shared, &query)?;
    let deleted = knowledge.delete_all().await.map_err(knowledge_error)?;
    tracing::info!(knowledge = knowledge.name(), deleted, "deleted every knowledge content item");
    Ok(Json(json!("success")).into_response())
}

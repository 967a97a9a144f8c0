//! Content sources: `GET /knowledge/{knowledge_id}/sources` and one level of a source's files, paged.

use std::sync::Arc;

use agent_core::StoreError;
use agent_core::knowledge::KnowledgeError;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Answer, answer, knowledge_error, select};
use crate::error::ApiError;
use crate::form::Fields;
use crate::os::Shared;

pub(super) async fn list(
    State(shared): State<Arc<Shared>>,
    Path(knowledge_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(list_sources(&shared, &knowledge_id, query.as_deref()))
}

fn list_sources(shared: &Shared, knowledge_id: &str, query: Option<&str>) -> Answer {
    let query = Fields::from_query(query)?;
    let knowledge = select(shared, Some(knowledge_id), query.text("db_id"))?;
    let sources: Vec<Value> = knowledge
        .sources()
        .iter()
        .map(|source| {
            json!({"id": source.id, "name": source.name, "type": source.source_type, "prefix": source.prefix, "metadata": {}})
        })
        .collect();
    Ok(Json(Value::Array(sources)).into_response())
}

pub(super) async fn files(
    State(shared): State<Arc<Shared>>,
    Path((knowledge_id, source_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(list_files(&shared, &knowledge_id, &source_id, query.as_deref()).await)
}

async fn list_files(shared: &Shared, knowledge_id: &str, source_id: &str, query: Option<&str>) -> Answer {
    let query = Fields::from_query(query)?;
    let knowledge = select(shared, Some(knowledge_id), query.text("db_id"))?;
    let limit = query.int("limit", 1, 100)?;
    if limit > 1000 {
        return Err(ApiError::validation(
            &["query", "limit"],
            "less_than_equal",
            "Input should be less than or equal to 1000",
            json!(query.text("limit")),
        ));
    }
    let page = query.int("page", 1, 1)?;
    query.choice("delimiter", &["/"])?;
    let (limit, page) = (u32::try_from(limit).unwrap_or(1000), u32::try_from(page).unwrap_or(u32::MAX));
    let listing =
        knowledge.source_files(source_id, query.raw("prefix"), page, limit).await.map_err(|err| match err {
            // A prefix that is not a folder of the source.
            KnowledgeError::Read(message) => ApiError::not_found(message),
            KnowledgeError::Store(StoreError::NotFound { .. }) => {
                ApiError::not_found(format!("Content source not found: {source_id}"))
            }
            other => knowledge_error(other),
        })?;
    Ok(Json(listing).into_response())
}

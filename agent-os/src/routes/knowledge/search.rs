//! `POST /knowledge/search` (keyword, vector or hybrid; filters; paged) and `GET /knowledge/config`.

use std::sync::Arc;
use std::time::Instant;

use agent_core::knowledge::{Knowledge, SearchHit, SearchMode, SearchQuery};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Answer, answer, from_query, knowledge_error, select, unavailable};
use crate::error::ApiError;
use crate::form::Fields;
use crate::json::JsonBody;
use crate::os::Shared;

/// Results searched for when the request sets no `max_results`; pages are cut from them.
const DEFAULT_MAX_RESULTS: usize = 100;

/// The most results one search may ask for.
const MAX_RESULTS: usize = 1000;

/// `VectorSearchRequestSchema`.
#[derive(Deserialize)]
pub(super) struct SearchRequest {
    query: String,
    #[serde(default)]
    db_id: Option<String>,
    #[serde(default)]
    knowledge_id: Option<String>,
    #[serde(default)]
    vector_db_ids: Option<Vec<String>>,
    #[serde(default)]
    search_type: Option<String>,
    #[serde(default)]
    max_results: Option<i64>,
    #[serde(default)]
    filters: Option<Map<String, Value>>,
    #[serde(default)]
    meta: Option<SearchPage>,
}

#[derive(Deserialize)]
pub(super) struct SearchPage {
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    page: Option<i64>,
}

pub(super) async fn search(
    State(shared): State<Arc<Shared>>,
    body: Result<JsonBody<SearchRequest>, ApiError>,
) -> Response {
    answer(run_search(&shared, body).await)
}

fn at_least(loc: &[&str], value: i64, min: i64) -> Result<i64, ApiError> {
    if value < min {
        return Err(ApiError::validation(
            loc,
            "greater_than_equal",
            format!("Input should be greater than or equal to {min}"),
            json!(value),
        ));
    }
    Ok(value)
}

fn search_mode(search_type: Option<&str>) -> Result<SearchMode, ApiError> {
    match search_type {
        None | Some("") => Ok(SearchMode::default()),
        Some("keyword" | "lexical") => Ok(SearchMode::Lexical),
        Some("vector") => Ok(SearchMode::Vector),
        Some("hybrid") => Ok(SearchMode::Hybrid),
        Some(other) => Err(ApiError::validation(
            &["body", "search_type"],
            "enum",
            "Input should be 'vector', 'keyword' or 'hybrid'",
            json!(other),
        )),
    }
}

/// A hit as `VectorSearchResult`.
fn hit_json(hit: &SearchHit) -> Value {
    let origin = (hit.source.starts_with("http://") || hit.source.starts_with("https://")).then_some(&hit.source);
    json!({
        "id": hit.id,
        "content": hit.text,
        "name": hit.name,
        "meta_data": hit.metadata,
        "usage": null,
        "reranking_score": hit.reranking_score,
        "score": hit.score,
        "content_id": hit.content_id,
        "content_origin": origin,
        "size": hit.text.chars().count(),
    })
}

async fn run_search(shared: &Shared, body: Result<JsonBody<SearchRequest>, ApiError>) -> Answer {
    if shared.knowledge.is_empty() {
        return Err(unavailable());
    }
    let JsonBody(request) = body?;
    let knowledge = select(shared, request.knowledge_id.as_deref(), request.db_id.as_deref())?;
    let started = Instant::now();
    if let Some(ids) = request.vector_db_ids.as_ref().filter(|ids| !ids.is_empty())
        && !ids.iter().any(|id| id == knowledge.name())
    {
        return Err(ApiError::bad_request(format!(
            "None of the provided Vector DB IDs {ids:?} match the knowledge base Vector DB ID {}",
            knowledge.name()
        )));
    }
    let mode = search_mode(request.search_type.as_deref())?;
    let max_results = match request.max_results {
        Some(max) => usize::try_from(at_least(&["body", "max_results"], max, 1)?).unwrap_or(usize::MAX),
        None => DEFAULT_MAX_RESULTS,
    };
    if max_results > MAX_RESULTS {
        return Err(ApiError::validation(
            &["body", "max_results"],
            "less_than_equal",
            format!("Input should be less than or equal to {MAX_RESULTS}"),
            json!(max_results),
        ));
    }
    let meta = request.meta.unwrap_or(SearchPage { limit: None, page: None });
    let limit = at_least(&["body", "meta", "limit"], meta.limit.unwrap_or(20), 1)?;
    let page = at_least(&["body", "meta", "page"], meta.page.unwrap_or(1), 0)?.max(1);
    let query =
        SearchQuery::new(request.query).top_k(max_results).mode(mode).filters(request.filters.unwrap_or_default());
    let hits = knowledge.search(&query).await.map_err(knowledge_error)?;
    let (limit, page) = (usize::try_from(limit).unwrap_or(usize::MAX), usize::try_from(page).unwrap_or(usize::MAX));
    let data: Vec<Value> =
        hits.iter().skip(page.saturating_sub(1).saturating_mul(limit)).take(limit).map(hit_json).collect();
    let total = hits.len();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let meta = json!({
        "page": page,
        "limit": limit,
        "total_pages": total.div_ceil(limit),
        "total_count": total,
        "search_time_ms": elapsed_ms,
    });
    Ok(Json(json!({"data": data, "meta": meta})).into_response())
}

pub(super) async fn config(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    answer(read_config(&shared, query.as_deref()).await)
}

/// The knowledge base's `ConfigResponseSchema`, with its content sources.
async fn read_config(shared: &Shared, query: Option<&str>) -> Answer {
    let query = Fields::from_query(query)?;
    let knowledge = from_query(shared, &query)?;
    let config = knowledge.config().await.map_err(knowledge_error)?;
    let mut value = serde_json::to_value(config).map_err(|err| ApiError::internal(&err))?;
    let sources: Vec<Value> = knowledge
        .sources()
        .iter()
        .map(|source| {
            json!({"id": source.id, "name": source.name, "type": source.source_type, "prefix": source.prefix, "metadata": {}})
        })
        .collect();
    value["remote_content_sources"] = Value::Array(sources);
    Ok(Json(value).into_response())
}

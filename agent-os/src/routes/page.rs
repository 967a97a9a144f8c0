//! Paging as AgentOS pages lists: `limit` (at least 1, default 20) and 1-based `page` in, `{"data", "meta"}` out.

use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::form::Fields;

/// A handler's result.
pub(super) type Answer = Result<Response, ApiError>;

/// The response of a handler's result, error or not.
pub(super) fn answer(result: Answer) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// The `limit` and `page` of a list query (page 0 reads as 1, as agno allows it).
pub(super) fn limit_and_page(query: &Fields) -> Result<(u32, u32), ApiError> {
    let limit = u32::try_from(query.int("limit", 1, 20)?).unwrap_or(u32::MAX);
    let page = u32::try_from(query.int("page", 0, 1)?).unwrap_or(u32::MAX).max(1);
    Ok((limit, page))
}

/// `PaginatedResponse`: the page's items and its `meta`.
pub(super) fn paged(items: Vec<Value>, page: u32, limit: u32, total: u64) -> Value {
    let total_pages = if limit == 0 { 0 } else { total.div_ceil(u64::from(limit)) };
    json!({
        "data": items,
        "meta": {"page": page, "limit": limit, "total_pages": total_pages, "total_count": total, "search_time_ms": 0.0},
    })
}

//! The security key: `Authorization: Bearer <key>` on every route but `/health`, compared in constant time.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::os::Shared;

/// Lets a request through when no key is set, for `/health`, and when it
/// carries the key; answers 401 otherwise.
pub(crate) async fn require_key(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let Some(key) = shared.security_key.as_deref() else { return next.run(request).await };
    if request.uri().path() == "/health" || request.method() == axum::http::Method::OPTIONS {
        return next.run(request).await;
    }
    let header = request.headers().get(AUTHORIZATION).and_then(|value| value.to_str().ok());
    let Some(header) = header else {
        return ApiError::new(StatusCode::UNAUTHORIZED, "Authorization required").into_response();
    };
    let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).unwrap_or("").trim();
    if bool::from(token.as_bytes().ct_eq(key.as_bytes())) {
        next.run(request).await
    } else {
        ApiError::new(StatusCode::UNAUTHORIZED, "Invalid authentication token").into_response()
    }
}

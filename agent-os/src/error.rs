//! Errors: what building or serving an AgentOS fails with, and the HTTP errors handlers answer.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// What building or serving an [`AgentOs`](crate::AgentOs) can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The builder's settings do not make a server (two agents with one id, an agent without an id, ...).
    #[error("invalid AgentOS configuration: {0}")]
    Config(String),
    /// The listener failed.
    #[error("the AgentOS server failed: {0}")]
    Io(#[from] std::io::Error),
    /// The store failed at start-up (failing the runs a dead process left running).
    #[error("the AgentOS store failed: {0}")]
    Store(#[from] agent_core::StoreError),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An HTTP error answer: a status and AgentOS's `{"detail": ...}` body.
///
/// Internal errors are logged where they happen and answered with a generic
/// message: no internal error text reaches a client.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    detail: Value,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self { status, detail: Value::String(detail.into()) }
    }

    pub(crate) fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    pub(crate) fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    pub(crate) fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, detail)
    }

    /// A failure of ours: logged with its cause, answered without it.
    pub(crate) fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error while answering a request");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }

    /// A request validation error, as FastAPI reports them (422, a list).
    pub(crate) fn validation(loc: &[&str], kind: &str, message: impl Into<String>, input: Value) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail: json!([{"type": kind, "loc": loc, "msg": message.into(), "input": input}]),
        }
    }

    /// A required field that is missing.
    pub(crate) fn missing(loc: &[&str]) -> Self {
        Self::validation(loc, "missing", "Field required", Value::Null)
    }

    /// The status answered.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// Maps an error a run returned before it produced anything the client
    /// could use: conflicts and bad continuations are the caller's, store
    /// failures ours.
    pub(crate) fn from_run(error: &agent_core::Error) -> Self {
        use agent_core::{Error as E, StoreError};
        match error {
            E::SessionBusy { .. } | E::RunClaimed { .. } => Self::conflict(error.to_string()),
            E::Continue(_) | E::InvalidInput(_) => Self::bad_request(error.to_string()),
            E::Store(StoreError::NotFound { .. }) => Self::not_found(error.to_string()),
            E::Store(StoreError::Invalid(_)) => Self::bad_request(error.to_string()),
            other => Self::internal(other),
        }
    }

    /// A store error: a request the store refuses is a 400; anything else ours.
    pub(crate) fn from_store(err: agent_core::StoreError) -> Self {
        match err {
            agent_core::StoreError::Invalid(message) => Self::bad_request(message),
            other => Self::internal(&other),
        }
    }

    /// Whether a run error is the request's fault (answered with a 4xx before
    /// any output), rather than a failure of the run itself.
    pub(crate) fn is_request_error(error: &agent_core::Error) -> bool {
        use agent_core::{Error as E, StoreError};
        matches!(
            error,
            E::SessionBusy { .. }
                | E::RunClaimed { .. }
                | E::Continue(_)
                | E::InvalidInput(_)
                | E::Store(StoreError::NotFound { .. } | StoreError::Invalid(_))
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({"detail": self.detail}))).into_response()
    }
}

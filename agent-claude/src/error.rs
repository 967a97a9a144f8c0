//! The crate's one error type, and its conversion into `agent_core::ModelError`.

use std::time::Duration;

use agent_core::{ModelError, ModelErrorKind};

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to Claude.
///
/// Provider errors keep the HTTP status, the API's error type and message, the
/// `request-id` and any `retry-after` the server sent, so callers can react
/// without parsing messages. The message ends with the request id when there
/// is one (`... (request id req_011...)`), the number Anthropic's support asks
/// for.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Neither an API key nor an auth token was configured or found in the environment.
    #[error(
        "no Claude credentials found: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN), \
         or call `api_key` / `auth_token` on the builder"
    )]
    MissingCredentials,
    /// A builder setting is invalid (a malformed base URL or header value, for example).
    #[error("invalid Claude client configuration: {0}")]
    Config(String),
    /// The request breaks a rule of the API and was not sent.
    #[error("request rejected before sending: {0}")]
    InvalidRequest(String),
    /// The API answered with an HTTP error.
    #[error(
        "Claude API error {status}{}: {message}{}{}",
        error_type.as_deref().map(|t| format!(" ({t})")).unwrap_or_default(),
        retry_after.map(|wait| format!(" (the server asks to wait {} s before retrying)", wait.as_secs_f64())).unwrap_or_default(),
        request_id_note(request_id.as_deref())
    )]
    Api {
        /// HTTP status.
        status: u16,
        /// The API error type, such as `overloaded_error`.
        error_type: Option<String>,
        /// The API's message.
        message: String,
        /// The `request-id` response header (or body field).
        request_id: Option<String>,
        /// How long the server asked us to wait (`retry-after-ms` / `retry-after`).
        retry_after: Option<Duration>,
        /// The server's `x-should-retry` verdict, when it sent one.
        should_retry: Option<bool>,
    },
    /// Connecting, sending or reading failed at the transport level, or a
    /// time limit passed (`timeout` is then set).
    #[error("could not reach the Claude API: {message}{}", request_id_note(request_id.as_deref()))]
    Connection {
        /// What failed.
        message: String,
        /// The failure was a timeout.
        timeout: bool,
        /// The `request-id` of the response, when the failure came after its headers
        /// (a stream that broke off or went silent).
        request_id: Option<String>,
    },
    /// A response body or one server-sent event was larger than the client's
    /// limit ([`ClaudeBuilder::max_response_bytes`](crate::ClaudeBuilder::max_response_bytes),
    /// [`ClaudeBuilder::max_event_bytes`](crate::ClaudeBuilder::max_event_bytes)); it was not read further.
    #[error(
        "the Claude API response exceeds the {limit}-byte limit for {what}; it was not read further{}",
        request_id_note(request_id.as_deref())
    )]
    ResponseTooLarge {
        /// What was too large: `a response body`, `a stream`, `one stream event` or `an error body`.
        what: &'static str,
        /// The limit in bytes.
        limit: usize,
        /// The `request-id` of the response.
        request_id: Option<String>,
    },
    /// A response body could not be decoded.
    #[error("could not decode the Claude API response: {message}{}", request_id_note(request_id.as_deref()))]
    Decode {
        /// The decoder's message.
        message: String,
        /// The `request-id` of the response.
        request_id: Option<String>,
    },
    /// The stream carried an `error` event or broke off before `message_stop`.
    #[error("the Claude response stream failed: {message}{}", request_id_note(request_id.as_deref()))]
    Stream {
        /// The API error type of an `error` event, such as `overloaded_error`.
        error_type: Option<String>,
        /// What happened.
        message: String,
        /// The `request-id` of the response.
        request_id: Option<String>,
    },
}

/// ` (request id ...)` when the response had one, for the end of a message.
fn request_id_note(request_id: Option<&str>) -> String {
    request_id.map(|id| format!(" (request id {id})")).unwrap_or_default()
}

impl Error {
    /// The HTTP status, when the API answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The API error type (`rate_limit_error`, `overloaded_error`, ...), when known.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            Self::Api { error_type, .. } | Self::Stream { error_type, .. } => error_type.as_deref(),
            _ => None,
        }
    }

    /// The `request-id` of the failed response, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api { request_id, .. }
            | Self::Decode { request_id, .. }
            | Self::Stream { request_id, .. }
            | Self::Connection { request_id, .. }
            | Self::ResponseTooLarge { request_id, .. } => request_id.as_deref(),
            Self::MissingCredentials | Self::Config(_) | Self::InvalidRequest(_) => None,
        }
    }

    /// How long the server asked to wait before retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether sending the same request again may succeed.
    ///
    /// Connection failures and timeouts, 408, 409, 429, 5xx and 529 are
    /// retryable, as is a stream that broke off or reported an overload; 400,
    /// 401, 403, 404 and 413 never are, nor is a response over the size limit.
    /// An `x-should-retry` header overrides the status for the other codes.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { status, should_retry, .. } => {
                if matches!(status, 400 | 401 | 403 | 404 | 413) {
                    return false;
                }
                should_retry.unwrap_or(matches!(status, 408 | 409 | 429) || *status >= 500)
            }
            Self::Connection { .. } => true,
            Self::Stream { error_type, .. } => match error_type.as_deref() {
                None => true,
                Some(kind) => matches!(kind, "overloaded_error" | "api_error" | "rate_limit_error" | "timeout_error"),
            },
            Self::MissingCredentials
            | Self::Config(_)
            | Self::InvalidRequest(_)
            | Self::Decode { .. }
            | Self::ResponseTooLarge { .. } => false,
        }
    }

    /// The `agent_core` kind of this error.
    pub fn kind(&self) -> ModelErrorKind {
        match self {
            Self::MissingCredentials => ModelErrorKind::Authentication,
            Self::Config(_) => ModelErrorKind::Other,
            Self::InvalidRequest(_) => ModelErrorKind::InvalidRequest,
            Self::Api { status, error_type, .. } => match (status, error_type.as_deref()) {
                // A 403 `billing_error` is a billing problem, not bad credentials.
                (_, Some("billing_error")) => ModelErrorKind::Api,
                (401 | 403, _) | (_, Some("authentication_error" | "permission_error")) => {
                    ModelErrorKind::Authentication
                }
                (429, _) | (_, Some("rate_limit_error")) => ModelErrorKind::RateLimited,
                (529, _) | (_, Some("overloaded_error")) => ModelErrorKind::Overloaded,
                (408, _) | (_, Some("timeout_error")) => ModelErrorKind::Timeout,
                (400 | 413, _) => ModelErrorKind::InvalidRequest,
                _ => ModelErrorKind::Api,
            },
            Self::Connection { timeout: true, .. } => ModelErrorKind::Timeout,
            Self::Connection { .. } => ModelErrorKind::Connection,
            Self::Decode { .. } | Self::ResponseTooLarge { .. } => ModelErrorKind::Decode,
            Self::Stream { error_type: Some(kind), .. } if kind == "overloaded_error" => ModelErrorKind::Overloaded,
            Self::Stream { .. } => ModelErrorKind::Stream,
        }
    }

    pub(crate) fn connection(err: &reqwest::Error) -> Self {
        // reqwest's Display hides the cause chain; keep it, the cause is what users need.
        let mut message = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Connection { message, timeout: err.is_timeout(), request_id: None }
    }

    /// A time limit passed.
    pub(crate) fn timed_out(message: String, request_id: Option<String>) -> Self {
        Self::Connection { message, timeout: true, request_id }
    }

    /// Whether this is a timeout (of a connection, a first byte, a silent stream or the total time).
    pub(crate) fn is_timeout(&self) -> bool {
        matches!(self, Self::Connection { timeout: true, .. })
    }

    /// The same error carrying `request_id` when it has none yet.
    pub(crate) fn with_request_id(mut self, id: Option<&str>) -> Self {
        let slot = match &mut self {
            Self::Api { request_id, .. }
            | Self::Decode { request_id, .. }
            | Self::Stream { request_id, .. }
            | Self::Connection { request_id, .. }
            | Self::ResponseTooLarge { request_id, .. } => request_id,
            Self::MissingCredentials | Self::Config(_) | Self::InvalidRequest(_) => return self,
        };
        if slot.is_none() {
            *slot = id.map(str::to_owned);
        }
        self
    }
}

impl From<Error> for ModelError {
    fn from(err: Error) -> Self {
        ModelError {
            kind: err.kind(),
            message: err.to_string(),
            status: err.status(),
            error_type: err.error_type().map(str::to_owned),
            request_id: err.request_id().map(str::to_owned),
            retry_after: err.retry_after(),
            retryable: err.is_retryable(),
        }
    }
}

//! The transport: HTTP to the Messages API with headers, retries, time limits and size limits.
//!
//! The middle layer: it sends bodies the request layer built and decodes the
//! answers, and knows nothing of fallbacks or the `Claude` facade. Every wait
//! is bounded (defaults in parentheses, set on the builder):
//!
//! - connecting: the connect timeout (30 s) per attempt;
//! - a whole request: `timeout` (10 min) per attempt, from sending to the last byte;
//! - a stream: `first_byte_timeout` (60 s) from sending to the first body
//!   byte, then `stream_idle_timeout` (5 min) between chunks;
//! - everything, retries and fallbacks included: `total_timeout` (60 min).
//!
//! Timeouts are retried only while the request has spent less than `timeout`
//! (see [`retry`]). Bodies are read up to `max_response_bytes` (64 MiB) and
//! one stream event up to `max_event_bytes` (16 MiB); error bodies up to 64 KiB.

pub(crate) mod attempt;
pub(crate) mod body;
pub(crate) mod retry;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::transport::attempt::{Attempt, Streamed};
use crate::transport::body::ByteSource;
use crate::transport::retry::{Budget, RetryPolicy};
use crate::wire::request::WireRequest;
use crate::wire::response::{Decoded, WireErrorBody, WireMessage};

/// Makes rustls on `ring` the process's TLS crypto provider, unless one is
/// installed already (by the application or another library: theirs wins).
///
/// `reqwest` is built without a provider of its own (`rustls-no-provider`:
/// `ring` builds in a fraction of the time `aws-lc-rs` takes), so a client
/// needs one in place before it is built.
pub(crate) fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: a provider is in place.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The API version every request declares.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The time and size limits of requests.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub(crate) timeout: Duration,
    pub(crate) first_byte_timeout: Duration,
    pub(crate) stream_idle_timeout: Duration,
    pub(crate) total_timeout: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) max_event_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(600),
            first_byte_timeout: Duration::from_secs(60),
            stream_idle_timeout: Duration::from_secs(300),
            total_timeout: Duration::from_secs(3600),
            max_response_bytes: 64 * 1024 * 1024,
            max_event_bytes: 16 * 1024 * 1024,
        }
    }
}

/// How a request authenticates.
#[derive(Clone)]
pub(crate) enum Credentials {
    /// `x-api-key: <key>`.
    ApiKey(String),
    /// `Authorization: Bearer <token>`.
    AuthToken(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        match self {
            Self::ApiKey(_) => f.write_str("ApiKey(..)"),
            Self::AuthToken(_) => f.write_str("AuthToken(..)"),
        }
    }
}

/// One HTTP call: what to send, and until when.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub(crate) method: reqwest::Method,
    pub(crate) path: String,
    /// The serialized JSON body (serialized once, sent on every attempt).
    pub(crate) body: Option<Bytes>,
    pub(crate) betas: Option<String>,
    pub(crate) stream: bool,
    pub(crate) deadline: Option<Instant>,
}

impl Call {
    /// A POST of `body` (a JSON object).
    pub(crate) fn post(
        path: &str,
        body: &Map<String, Value>,
        betas: Option<String>,
        deadline: Option<Instant>,
    ) -> Self {
        // A map of JSON values always serializes.
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        Self {
            method: reqwest::Method::POST,
            path: path.to_owned(),
            body: Some(Bytes::from(bytes)),
            betas,
            stream: false,
            deadline,
        }
    }

    /// A GET.
    pub(crate) fn get(path: &str, betas: Option<String>, deadline: Option<Instant>) -> Self {
        Self { method: reqwest::Method::GET, path: path.to_owned(), body: None, betas, stream: false, deadline }
    }
}

/// A successful HTTP response.
enum Sent {
    Whole { request_id: Option<String>, body: Bytes },
    Stream(ByteSource),
}

/// The HTTP client of a `Claude`, cheap to clone.
#[derive(Clone)]
pub(crate) struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    headers: HeaderMap,
    retry: RetryPolicy,
    limits: Limits,
}

impl Transport {
    /// A transport to `base_url` with `credentials` and extra `headers`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a credential or header that is not a valid header value.
    pub(crate) fn new(
        http: reqwest::Client,
        base_url: String,
        credentials: &Credentials,
        extra_headers: &[(String, String)],
        retry: RetryPolicy,
        limits: Limits,
    ) -> Result<Self> {
        let value = |text: &str| HeaderValue::from_str(text).map_err(|err| Error::Config(format!("header: {err}")));
        let mut headers = HeaderMap::new();
        headers.insert("anthropic-version", HeaderValue::from_static(ANTHROPIC_VERSION));
        headers.insert(reqwest::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            reqwest::header::USER_AGENT,
            HeaderValue::from_static(concat!("agent-claude/", env!("CARGO_PKG_VERSION"))),
        );
        let (name, mut secret) = match credentials {
            Credentials::ApiKey(key) => (HeaderName::from_static("x-api-key"), value(key)?),
            Credentials::AuthToken(token) => (reqwest::header::AUTHORIZATION, value(&format!("Bearer {token}"))?),
        };
        secret.set_sensitive(true);
        headers.insert(name, secret);
        for (name, text) in extra_headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|err| Error::Config(err.to_string()))?;
            headers.insert(name, value(text)?);
        }
        Ok(Self { inner: Arc::new(Inner { http, base_url, headers, retry, limits }) })
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    pub(crate) fn retry(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The total deadline of a request starting now.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        Instant::now().checked_add(self.inner.limits.total_timeout)
    }

    /// A fresh retry budget for a call.
    fn budget(&self, call: &Call) -> Budget {
        Budget::new(self.inner.limits.timeout, call.deadline)
    }

    /// POSTs or GETs a call and decodes the JSON answer; returns it with its `request-id`.
    pub(crate) async fn json<T: serde::de::DeserializeOwned>(&self, call: &Call) -> Result<(T, Option<String>)> {
        match self.send(call, &mut self.budget(call)).await? {
            Sent::Whole { request_id, body } => match serde_json::from_slice(&body) {
                Ok(value) => Ok((value, request_id)),
                Err(err) => Err(Error::Decode { message: err.to_string(), request_id }),
            },
            Sent::Stream(bytes) => {
                Err(Error::Decode { message: "expected a whole response".into(), request_id: bytes.request_id })
            }
        }
    }

    /// One whole message (retries included, no fallback).
    pub(crate) async fn message(&self, wire: &WireRequest, deadline: Option<Instant>) -> Result<Decoded> {
        let call = Call::post("/v1/messages", &wire.body, wire.beta_header(), deadline);
        let (message, request_id): (WireMessage, _) = self.json(&call).await?;
        message.into_decoded(Vec::new(), request_id)
    }

    /// Opens one streamed message (retries included, no fallback).
    pub(crate) async fn stream(&self, wire: &WireRequest, deadline: Option<Instant>) -> Result<Streamed> {
        let mut call = Call::post("/v1/messages", &wire.body, wire.beta_header(), deadline);
        call.stream = true;
        let mut budget = self.budget(&call);
        let attempt = self.open(&call, &mut budget).await?;
        Ok(Streamed::new(self.clone(), call, budget, attempt))
    }

    /// Opens a stream within `budget`.
    pub(crate) async fn open(&self, call: &Call, budget: &mut Budget) -> Result<Attempt> {
        match self.send(call, budget).await? {
            Sent::Stream(bytes) => Ok(Attempt::new(bytes, self.inner.limits.max_event_bytes)),
            Sent::Whole { request_id, .. } => {
                Err(Error::Decode { message: "expected a stream, got a whole response".into(), request_id })
            }
        }
    }

    /// Sends until a 2xx response, retrying per the policy within `budget`.
    async fn send(&self, call: &Call, budget: &mut Budget) -> Result<Sent> {
        loop {
            match self.attempt(call).await {
                Ok(sent) => return Ok(sent),
                Err(err) => match self.inner.retry.verdict(budget, &err) {
                    Some(delay) => {
                        tracing::debug!(error = %err, ?delay, retry = budget.retries + 1, "retrying Claude request");
                        self.inner.retry.wait(delay).await;
                        budget.retries += 1;
                    }
                    None => return Err(err),
                },
            }
        }
    }

    /// One attempt: the response headers and, for a stream, its first chunk,
    /// within the attempt's time limit; for a whole response, the whole body.
    async fn attempt(&self, call: &Call) -> Result<Sent> {
        let limits = &self.inner.limits;
        let mut builder = self.inner.http.request(call.method.clone(), format!("{}{}", self.inner.base_url, call.path));
        builder = builder.headers(self.inner.headers.clone());
        if let Some(betas) = &call.betas {
            let value =
                HeaderValue::from_str(betas).map_err(|err| Error::InvalidRequest(format!("beta header: {err}")))?;
            builder = builder.header("anthropic-beta", value);
        }
        if let Some(body) = &call.body {
            builder = builder.body(body.clone());
        }
        let (limit, what) = if call.stream {
            (limits.first_byte_timeout, "no response within the first-byte timeout of")
        } else {
            (limits.timeout, "no complete response within the request timeout of")
        };
        let start = Instant::now();
        let (until, message) = match (start.checked_add(limit), call.deadline) {
            (Some(attempt_end), Some(deadline)) if deadline < attempt_end => (
                deadline,
                format!(
                    "the request did not finish within its total timeout of {} s",
                    limits.total_timeout.as_secs_f64()
                ),
            ),
            (None, Some(deadline)) => (deadline, "the request did not finish within its total timeout".to_owned()),
            (Some(attempt_end), _) => (attempt_end, format!("{what} {} s", limit.as_secs_f64())),
            (None, None) => (start + Duration::from_secs(86_400 * 365), format!("{what} {} s", limit.as_secs_f64())),
        };
        let timed_out = |request_id: Option<&str>| Error::timed_out(message.clone(), request_id.map(str::to_owned));

        let response = match tokio::time::timeout_at(until, builder.send()).await {
            Err(_) => return Err(timed_out(None)),
            Ok(Err(err)) => return Err(Error::connection(&err)),
            Ok(Ok(response)) => response,
        };
        let request_id = header_text(response.headers(), "request-id");
        if !response.status().is_success() {
            return match tokio::time::timeout_at(until, api_error(response, request_id.clone())).await {
                Ok(err) => Err(err),
                Err(_) => Err(timed_out(request_id.as_deref())),
            };
        }
        if call.stream {
            let mut rest = response.bytes_stream().boxed();
            let first = match tokio::time::timeout_at(until, rest.next()).await {
                Err(_) => return Err(timed_out(request_id.as_deref())),
                Ok(Some(Err(err))) => return Err(Error::connection(&err).with_request_id(request_id.as_deref())),
                Ok(Some(Ok(chunk))) => Some(chunk),
                Ok(None) => None,
            };
            return Ok(Sent::Stream(ByteSource {
                first,
                rest,
                received: 0,
                limit: limits.max_response_bytes,
                idle: limits.stream_idle_timeout,
                deadline: call.deadline,
                request_id,
            }));
        }
        let read = body::read_whole(response, limits.max_response_bytes, request_id.as_deref());
        match tokio::time::timeout_at(until, read).await {
            Err(_) => Err(timed_out(request_id.as_deref())),
            Ok(body) => Ok(Sent::Whole { body: body?, request_id }),
        }
    }
}

/// The typed error of a non-2xx response.
async fn api_error(response: reqwest::Response, request_id: Option<String>) -> Error {
    let status = response.status();
    let retry_after = retry::retry_after(response.headers());
    let should_retry = retry::should_retry(response.headers());
    let text = body::read_error_body(response).await;
    let parsed: WireErrorBody = serde_json::from_str(&text).unwrap_or_default();
    let message = parsed.error.message.unwrap_or_else(|| {
        let snippet: String = text.chars().take(500).collect();
        if snippet.is_empty() { status.canonical_reason().unwrap_or("no message").to_owned() } else { snippet }
    });
    Error::Api {
        status: status.as_u16(),
        error_type: parsed.error.kind,
        message,
        request_id: request_id.or(parsed.request_id),
        retry_after,
        should_retry,
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned)
}

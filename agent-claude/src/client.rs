//! The `Claude` client: HTTP transport with retries, whole and streamed messages, and the `Model` impl.

use std::collections::VecDeque;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use agent_core::{
    ContentBlock, Message, Model, ModelError, ModelEventStream, ModelRequest, ModelResponse, Role, StopReason,
};
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::betas;
use crate::catalog::{self, ModelCapabilities};
use crate::config::{ClaudeBuilder, Config, Credentials};
use crate::error::{Error, Result};
use crate::fallback;
use crate::retry;
use crate::rules::{self, Allowances};
use crate::wire::request::{self, WireRequest};
use crate::wire::response::{Decoded, WireErrorBody, WireMessage};

/// The API version every request declares.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
/// How many `pause_turn` responses the client remembers, to accept their resume.
const PAUSED_TURNS_REMEMBERED: usize = 64;

/// Claude through the Messages API: an [`agent_core::Model`].
///
/// Cheap to clone; clones share the connection pool.
///
/// # Example
///
/// ```
/// use agent_claude::Claude;
///
/// let claude = Claude::builder().api_key("sk-ant-test").base_url("http://127.0.0.1:9").build()?;
/// assert_eq!(agent_core::Model::provider(&claude), "anthropic");
/// # Ok::<(), agent_claude::Error>(())
/// ```
#[derive(Clone)]
pub struct Claude {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    http: reqwest::Client,
    /// Fingerprints of the content of recent `pause_turn` responses.
    paused_turns: Mutex<VecDeque<u64>>,
}

impl std::fmt::Debug for Claude {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claude")
            .field("model", &self.inner.config.model)
            .field("base_url", &self.inner.config.base_url)
            .field("credentials", &self.inner.config.credentials)
            .finish_non_exhaustive()
    }
}

impl Claude {
    /// A builder; unset settings come from the environment.
    pub fn builder() -> ClaudeBuilder {
        ClaudeBuilder::default()
    }

    /// A client configured from the environment only (`ANTHROPIC_API_KEY` or
    /// `ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_BASE_URL`), on `claude-opus-4-8`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingCredentials`] when neither variable is set.
    pub fn from_env() -> Result<Self> {
        Self::builder().build()
    }

    pub(crate) fn from_parts(config: Config, http: reqwest::Client) -> Self {
        Self { inner: Arc::new(Inner { config, http, paused_turns: Mutex::new(VecDeque::new()) }) }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The catalog entry of the configured model, when the catalog knows it.
    pub fn capabilities(&self) -> Option<&'static ModelCapabilities> {
        catalog::lookup(&self.inner.config.model)
    }

    /// Builds the wire request and checks the rules of the API.
    pub(crate) fn prepare(&self, request: &ModelRequest, stream: bool) -> Result<WireRequest> {
        let mut wire = request::build(&self.inner.config, request, stream)?;
        if self.inner.config.fallback_credit && !self.inner.config.fallback_models.is_empty() {
            wire.add_beta(betas::FALLBACK_CREDIT);
        }
        wire.resume = self.is_pause_turn_resume(&request.messages);
        rules::check(&wire, Allowances { trailing_assistant: wire.resume })?;
        Ok(wire)
    }

    /// Whether the conversation ends with an assistant turn the API paused:
    /// one this client returned with `pause_turn`, or one ending in server
    /// tool activity (which the API resumes from).
    fn is_pause_turn_resume(&self, messages: &[Message]) -> bool {
        let Some(last) = messages.last().filter(|message| message.role == Role::Assistant) else { return false };
        let server_tool_activity = last.content.iter().any(|block| match block {
            ContentBlock::ServerToolUse { .. } | ContentBlock::ServerToolResult(_) => true,
            ContentBlock::Other(value) => {
                let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
                kind.ends_with("_tool_use") || kind.ends_with("_tool_result")
            }
            _ => false,
        });
        server_tool_activity || self.remembers_paused(&last.content)
    }

    fn fingerprint(content: &[ContentBlock]) -> u64 {
        let mut hasher = DefaultHasher::new();
        serde_json::to_string(content).unwrap_or_default().hash(&mut hasher);
        hasher.finish()
    }

    fn remembers_paused(&self, content: &[ContentBlock]) -> bool {
        let fingerprint = Self::fingerprint(content);
        self.inner.paused_turns.lock().is_ok_and(|paused| paused.contains(&fingerprint))
    }

    /// Notes a response the API paused, so its resume is accepted.
    pub(crate) fn observe(&self, response: &ModelResponse) {
        if response.stop_reason != StopReason::PauseTurn || response.content.is_empty() {
            return;
        }
        let fingerprint = Self::fingerprint(&response.content);
        if let Ok(mut paused) = self.inner.paused_turns.lock() {
            if paused.len() == PAUSED_TURNS_REMEMBERED {
                paused.pop_front();
            }
            paused.push_back(fingerprint);
        }
    }

    fn headers(&self, betas: Option<String>) -> Result<HeaderMap> {
        let config = &self.inner.config;
        let mut headers = HeaderMap::new();
        let value = |text: &str| HeaderValue::from_str(text).map_err(|err| Error::Config(format!("header: {err}")));
        headers.insert("anthropic-version", HeaderValue::from_static(ANTHROPIC_VERSION));
        headers.insert(reqwest::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            reqwest::header::USER_AGENT,
            HeaderValue::from_static(concat!("agent-claude/", env!("CARGO_PKG_VERSION"))),
        );
        match &config.credentials {
            Credentials::ApiKey(key) => {
                let mut key = value(key)?;
                key.set_sensitive(true);
                headers.insert("x-api-key", key);
            }
            Credentials::AuthToken(token) => {
                let mut bearer = value(&format!("Bearer {token}"))?;
                bearer.set_sensitive(true);
                headers.insert(reqwest::header::AUTHORIZATION, bearer);
            }
        }
        if let Some(betas) = betas {
            headers.insert("anthropic-beta", value(&betas)?);
        }
        for (name, text) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|err| Error::Config(err.to_string()))?;
            headers.insert(name, value(text)?);
        }
        Ok(headers)
    }

    /// Sends one HTTP request, retrying per the policy, until a 2xx response.
    /// `read_body` reads the whole body inside the retry loop (whole responses).
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Map<String, Value>>,
        betas: Option<String>,
        stream: bool,
    ) -> Result<Sent> {
        let config = &self.inner.config;
        let url = format!("{}{path}", config.base_url);
        let headers = self.headers(betas)?;
        let mut retries = 0;
        loop {
            let mut builder = self.inner.http.request(method.clone(), &url).headers(headers.clone());
            if let Some(body) = body {
                builder = builder.json(body);
            }
            if !stream {
                builder = builder.timeout(config.timeout);
            }
            let outcome = match builder.send().await {
                Err(err) => Err(Error::connection(&err)),
                Ok(response) => Self::check_status(response, stream).await,
            };
            match outcome {
                Ok(sent) => return Ok(sent),
                Err(err) if retries < config.retry.max_retries && err.is_retryable() => {
                    let delay = config.retry.delay(retries, &err);
                    tracing::debug!(error = %err, ?delay, retry = retries + 1, "retrying Claude request");
                    config.retry.wait(delay).await;
                    retries += 1;
                }
                Err(err) => return Err(err),
            }
        }
    }

    async fn check_status(response: reqwest::Response, stream: bool) -> Result<Sent> {
        let status = response.status();
        let request_id = header_text(response.headers(), "request-id");
        if status.is_success() {
            if stream {
                return Ok(Sent::Stream { request_id, body: response.bytes_stream().boxed() });
            }
            let body = response.bytes().await.map_err(|err| Error::connection(&err))?;
            return Ok(Sent::Whole { request_id, body });
        }
        let retry_after = retry::retry_after(response.headers());
        let should_retry = retry::should_retry(response.headers());
        let text = response.text().await.unwrap_or_default();
        let parsed: WireErrorBody = serde_json::from_str(&text).unwrap_or_default();
        let message = parsed.error.message.unwrap_or_else(|| {
            let snippet: String = text.chars().take(500).collect();
            if snippet.is_empty() { status.canonical_reason().unwrap_or("no message").to_owned() } else { snippet }
        });
        Err(Error::Api {
            status: status.as_u16(),
            error_type: parsed.error.kind,
            message,
            request_id: request_id.or(parsed.request_id),
            retry_after,
            should_retry,
        })
    }

    /// POSTs a JSON body and decodes the JSON answer.
    pub(crate) async fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Map<String, Value>,
        betas: Option<String>,
    ) -> Result<T> {
        let sent = self.send(reqwest::Method::POST, path, Some(body), betas, false).await?;
        sent.decode()
    }

    /// GETs a JSON answer.
    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        let betas = (!self.inner.config.betas.is_empty()).then(|| self.inner.config.betas.join(","));
        self.send(reqwest::Method::GET, path, None, betas, false).await?.decode()
    }

    /// One whole message on one model (retries included, no fallback).
    pub(crate) async fn message(&self, wire: &WireRequest) -> Result<Decoded> {
        let message: WireMessage = self.post_json("/v1/messages", &wire.body, wire.beta_header()).await?;
        Ok(message.into_decoded(Vec::new()))
    }

    /// Opens one streamed message on one model (retries until the stream opens).
    pub(crate) async fn open_stream(&self, wire: &WireRequest) -> Result<(Option<String>, ByteStream)> {
        match self.send(reqwest::Method::POST, "/v1/messages", Some(&wire.body), wire.beta_header(), true).await? {
            Sent::Stream { request_id, body } => {
                let idle = self.inner.config.stream_idle_timeout;
                Ok((request_id, body.map_err(|err| Error::connection(&err)).boxed().with_idle_timeout(idle)))
            }
            Sent::Whole { .. } => Err(Error::Decode { message: "expected a stream".into(), request_id: None }),
        }
    }
}

/// The byte chunks of a streamed response.
pub(crate) type ByteStream = BoxStream<'static, Result<Bytes>>;

trait IdleTimeout {
    fn with_idle_timeout(self, idle: std::time::Duration) -> ByteStream;
}

impl IdleTimeout for ByteStream {
    /// Fails the stream when no chunk arrives for `idle` (the API pings meanwhile).
    fn with_idle_timeout(self, idle: std::time::Duration) -> ByteStream {
        futures::stream::unfold(Some(self), move |state| async move {
            let mut stream = state?;
            match tokio::time::timeout(idle, stream.next()).await {
                Ok(Some(item)) => Some((item, Some(stream))),
                Ok(None) => None,
                Err(_) => Some((
                    Err(Error::Connection {
                        message: format!("the stream was silent for {} s", idle.as_secs()),
                        timeout: true,
                    }),
                    None,
                )),
            }
        })
        .boxed()
    }
}

/// A successful HTTP response.
pub(crate) enum Sent {
    Whole { request_id: Option<String>, body: Bytes },
    Stream { request_id: Option<String>, body: BoxStream<'static, reqwest::Result<Bytes>> },
}

impl Sent {
    fn decode<T: serde::de::DeserializeOwned>(self) -> Result<T> {
        match self {
            Self::Whole { request_id, body } => {
                serde_json::from_slice(&body).map_err(|err| Error::Decode { message: err.to_string(), request_id })
            }
            Self::Stream { request_id, .. } => Err(Error::Decode { message: "unexpected stream".into(), request_id }),
        }
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned)
}

#[async_trait::async_trait]
impl Model for Claude {
    fn id(&self) -> &str {
        &self.inner.config.model
    }

    fn provider(&self) -> &str {
        "anthropic"
    }

    async fn request(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        let response = fallback::request(self, request).await?;
        self.observe(&response);
        Ok(response)
    }

    async fn stream(&self, request: &ModelRequest) -> Result<ModelEventStream, ModelError> {
        Ok(fallback::stream(self, request).await?)
    }
}

//! The client builder: credentials, endpoint, model, default request settings, retries, limits, caching, fallbacks.
//!
//! Part of the facade layer: it resolves the settings into the pieces of the
//! lower layers (request defaults, the transport, the fallback policy) and
//! assembles a [`Claude`].

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::catalog::{DEFAULT_MODEL, Effort};
use crate::client::Claude;
use crate::error::{Error, Result};
use crate::fallback::FallbackPolicy;
use crate::options;
use crate::settings::{CacheTtl, PromptCache, Thinking};
use crate::transport::retry::{RetryPolicy, Sleeper};
use crate::transport::{Credentials, Limits, Transport};
use crate::wire::request::RequestDefaults;

/// The production endpoint.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// Reads an environment variable; replaceable for tests and config files.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

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
}

/// Builds a [`Claude`] client.
///
/// Settings left unset come from the environment: `ANTHROPIC_API_KEY` (sent
/// as `x-api-key`) or `ANTHROPIC_AUTH_TOKEN` (sent as a bearer token), and
/// `ANTHROPIC_BASE_URL`. Explicit settings win over the environment.
///
/// # Example
///
/// ```
/// use agent_claude::{Claude, Thinking, Effort};
///
/// let claude = Claude::builder()
///     .api_key("sk-ant-test")
///     .model("claude-opus-4-8")
///     .thinking(Thinking::summarized())
///     .effort(Effort::High)
///     .max_retries(3)
///     .build()?;
/// assert_eq!(agent_core::Model::id(&claude), "claude-opus-4-8");
/// # Ok::<(), agent_claude::Error>(())
/// ```
#[must_use]
#[derive(Default)]
pub struct ClaudeBuilder {
    api_key: Option<String>,
    auth_token: Option<String>,
    base_url: Option<String>,
    model: Option<String>,
    max_tokens: Option<u32>,
    betas: Vec<String>,
    options: Map<String, Value>,
    server_tools: Vec<Value>,
    retry: RetryPolicy,
    limits: Limits,
    connect_timeout: Option<Duration>,
    cache: PromptCache,
    fallback_models: Vec<String>,
    fallback_credit: bool,
    headers: Vec<(String, String)>,
    http_client: Option<reqwest::Client>,
    env: Option<EnvLookup>,
}

impl ClaudeBuilder {
    /// The API key, sent as `x-api-key` (overrides `ANTHROPIC_API_KEY`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// An OAuth token, sent as `Authorization: Bearer` (overrides `ANTHROPIC_AUTH_TOKEN`).
    pub fn auth_token(mut self, token: impl Into<String>) -> Self {
        self.auth_token = Some(token.into());
        self
    }

    /// The API endpoint, such as `http://127.0.0.1:8080` (overrides `ANTHROPIC_BASE_URL`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The model id; `claude-opus-4-8` when unset.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Default `max_tokens` when a request sets none (otherwise 16000 for whole
    /// responses and 64000 for streams, capped at the model's limit).
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Adds an `anthropic-beta` feature id; betas compose into one header.
    pub fn beta(mut self, beta: impl Into<String>) -> Self {
        self.betas.push(beta.into());
        self
    }

    /// Default thinking settings (a request's `thinking` option overrides them).
    pub fn thinking(self, thinking: Thinking) -> Self {
        self.option("thinking", thinking.to_json())
    }

    /// Default `output_config.effort`.
    pub fn effort(self, effort: Effort) -> Self {
        self.option("effort", json!(effort.as_str()))
    }

    /// Default `temperature` (rejected on Fable 5 and Opus 4.7+).
    pub fn temperature(self, temperature: f64) -> Self {
        self.option("temperature", json!(temperature))
    }

    /// Default `stop_sequences`.
    pub fn stop_sequences(self, sequences: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let sequences: Vec<String> = sequences.into_iter().map(Into::into).collect();
        self.option("stop_sequences", json!(sequences))
    }

    /// A default request option, as [`ModelRequest::options`](agent_core::ModelRequest::options)
    /// takes it; see [`OPTION_KEYS`](crate::OPTION_KEYS) for the accepted keys.
    /// Unknown keys are reported by [`build`](Self::build).
    pub fn option(mut self, key: impl Into<String>, value: Value) -> Self {
        self.options.insert(key.into(), value);
        self
    }

    /// Adds a server tool definition sent with every request, such as
    /// `{"type": "web_search_20260209", "name": "web_search"}`.
    pub fn server_tool(mut self, definition: Value) -> Self {
        self.server_tools.push(definition);
        self
    }

    /// How many times a failed request is retried (default 2).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    /// The first backoff delay and the cap of the exponential backoff
    /// (defaults 500 ms and 8 s).
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.retry.initial_backoff = initial;
        self.retry.max_backoff = max;
        self
    }

    /// The function that waits between retries (`tokio::time::sleep` by
    /// default); tests inject one that records the delays.
    pub fn retry_sleep(mut self, sleep: Sleeper) -> Self {
        self.retry.sleep = Some(sleep);
        self
    }

    /// Time limit of one attempt of a whole (non-streaming) request, from
    /// sending to the last byte (default 10 minutes). It also bounds the
    /// retrying of timeouts: a timed-out attempt is retried only while the
    /// request has spent less than this.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.limits.timeout = timeout;
        self
    }

    /// Time limit of one attempt of a stream, from sending to the first byte
    /// of the body (default 60 s). A server that accepts the connection and
    /// never answers fails here instead of holding the stream.
    pub fn first_byte_timeout(mut self, timeout: Duration) -> Self {
        self.limits.first_byte_timeout = timeout;
        self
    }

    /// Longest silence tolerated on an open stream (default 5 minutes; the
    /// API sends `ping` events meanwhile, which count as activity, so a
    /// thinking model that streams nothing for minutes is not cut off).
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.limits.stream_idle_timeout = timeout;
        self
    }

    /// Time limit of a whole request or stream, retries and fallbacks
    /// included (default 60 minutes): the bound on a server that keeps a
    /// stream open with pings alone. `Duration::MAX` lifts it.
    pub fn total_timeout(mut self, timeout: Duration) -> Self {
        self.limits.total_timeout = timeout;
        self
    }

    /// The largest response body (whole) or stream (all events) the client
    /// reads, in bytes (default 64 MiB); larger ones fail with
    /// [`Error::ResponseTooLarge`] without being read further.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_response_bytes = bytes;
        self
    }

    /// The largest single server-sent event, in bytes (default 16 MiB).
    pub fn max_event_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_event_bytes = bytes;
        self
    }

    /// Time limit for establishing a connection (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Top-level automatic prompt caching: the API caches up to the last cacheable block.
    pub fn auto_cache(mut self, ttl: CacheTtl) -> Self {
        self.cache.automatic = Some(ttl);
        self
    }

    /// A `cache_control` breakpoint on the system prompt (caches tools and system).
    pub fn cache_system(mut self, ttl: CacheTtl) -> Self {
        self.cache.system = Some(ttl);
        self
    }

    /// A `cache_control` breakpoint on the last tool definition.
    pub fn cache_tools(mut self, ttl: CacheTtl) -> Self {
        self.cache.tools = Some(ttl);
        self
    }

    /// A `cache_control` breakpoint on the last block of the conversation, so
    /// each turn reads the previous turns from the cache.
    pub fn cache_conversation(mut self, ttl: CacheTtl) -> Self {
        self.cache.conversation = Some(ttl);
        self
    }

    /// Server-side refusal fallbacks (the beta `fallbacks` parameter, sent with
    /// the `server-side-fallback-2026-06-01` header): on a policy decline the
    /// API answers with the next model. 1 to 3 distinct models.
    pub fn server_fallbacks(self, models: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let entries: Vec<Value> = models.into_iter().map(|model| json!({"model": model.into()})).collect();
        self.option("fallbacks", Value::Array(entries))
    }

    /// A client-side fallback chain: after a `refusal`, the request is sent
    /// again on each of these models in turn, and the response names the model
    /// that accepted in [`ModelResponse::fallback_model`](agent_core::ModelResponse::fallback_model).
    pub fn fallback_models(mut self, models: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.fallback_models = models.into_iter().map(Into::into).collect();
        self
    }

    /// Fallback credit for the client-side chain (`fallback-credit-2026-06-01`
    /// beta): retries echo the refusal's `fallback_credit_token` so the cached
    /// prefix bills at cache-read rates.
    pub fn fallback_credit(mut self, enabled: bool) -> Self {
        self.fallback_credit = enabled;
        self
    }

    /// An extra header sent with every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A preconfigured `reqwest` client (proxies, TLS roots); the builder's
    /// connect timeout then does not apply.
    ///
    /// This crate builds `reqwest` without a TLS crypto provider of its own
    /// and installs rustls's `ring` provider when it builds its own client; a
    /// client built before that needs one installed
    /// (`rustls::crypto::ring::default_provider().install_default()`), or
    /// `reqwest`'s `rustls` feature in your own `Cargo.toml`.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Reads unset settings from this lookup instead of the process environment.
    pub fn env_lookup(mut self, lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Some(Arc::new(lookup));
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::MissingCredentials`] when no key or token is set or found in
    /// the environment; [`Error::Config`] for an invalid base URL, option key
    /// or header.
    pub fn build(self) -> Result<Claude> {
        let env = self.env.unwrap_or_else(|| Arc::new(|name: &str| std::env::var(name).ok()));
        let from_env = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let credentials = match (self.api_key, self.auth_token) {
            (Some(_), Some(_)) => {
                return Err(Error::Config(
                    "set either an API key or an auth token, not both: the API rejects requests carrying both".into(),
                ));
            }
            (Some(key), None) => Credentials::ApiKey(key),
            (None, Some(token)) => Credentials::AuthToken(token),
            // With both variables set, send only the key: both headers together are a 401.
            (None, None) => match (from_env("ANTHROPIC_API_KEY"), from_env("ANTHROPIC_AUTH_TOKEN")) {
                (Some(key), _) => Credentials::ApiKey(key),
                (None, Some(token)) => Credentials::AuthToken(token),
                (None, None) => return Err(Error::MissingCredentials),
            },
        };
        let base_url =
            self.base_url.or_else(|| from_env("ANTHROPIC_BASE_URL")).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base_url = base_url.trim().trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(Error::Config(format!("base URL `{base_url}` must start with http:// or https://")));
        }
        options::check_keys(&self.options).map_err(Error::Config)?;
        for (name, value) in &self.headers {
            reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|err| Error::Config(format!("header name `{name}`: {err}")))?;
            reqwest::header::HeaderValue::from_str(value)
                .map_err(|err| Error::Config(format!("header `{name}` value: {err}")))?;
        }
        crate::transport::install_crypto_provider();
        let http = match self.http_client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout.unwrap_or(Duration::from_secs(30)))
                .build()
                .map_err(|err| Error::Config(format!("HTTP client: {err}")))?,
        };
        let transport = Transport::new(http, base_url, &credentials, &self.headers, self.retry, self.limits)?;
        let defaults = RequestDefaults {
            model: self.model.unwrap_or_else(|| DEFAULT_MODEL.to_owned()),
            max_tokens: self.max_tokens,
            betas: self.betas,
            options: self.options,
            server_tools: self.server_tools,
            cache: self.cache,
        };
        let fallback = FallbackPolicy { models: self.fallback_models, credit: self.fallback_credit };
        Ok(Claude::new(defaults, transport, fallback))
    }
}

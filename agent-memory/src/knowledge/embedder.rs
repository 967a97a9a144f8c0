//! `HttpEmbedder`: embeddings from OpenAI-compatible `/embeddings` endpoints, in batches.

use std::time::Duration;

use agent_core::knowledge::{Embedder, KnowledgeError};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

/// Settings of an [`HttpEmbedder`].
#[derive(Clone, Debug, PartialEq)]
pub struct HttpEmbedderConfig {
    /// The API's base URL including the version, such as `https://api.openai.com/v1`;
    /// requests go to `{base_url}/embeddings`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer {api_key}` when set.
    pub api_key: Option<String>,
    /// The embedding model.
    pub model: String,
    /// The length of the vectors the model returns; sent as `dimensions`
    /// when `send_dimensions` is set (models that can shorten their vectors).
    pub dimensions: usize,
    /// Whether to send `dimensions` in the request.
    pub send_dimensions: bool,
    /// Texts per request; longer inputs are split into several requests.
    pub batch_size: usize,
    /// Time limit of one request.
    pub timeout: Duration,
}

impl HttpEmbedderConfig {
    /// Settings for a base URL and model, with a 1536-dimension default,
    /// batches of 64 and a 30 s timeout.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            dimensions: 1536,
            send_dimensions: false,
            batch_size: 64,
            timeout: Duration::from_secs(30),
        }
    }

    /// Settings from the environment: `EMBEDDINGS_BASE_URL` (or
    /// `OPENAI_BASE_URL`, default `https://api.openai.com/v1`),
    /// `EMBEDDINGS_API_KEY` (or `OPENAI_API_KEY`), `EMBEDDINGS_MODEL`
    /// (default `text-embedding-3-small`) and `EMBEDDINGS_DIMENSIONS`
    /// (default 1536).
    ///
    /// # Errors
    ///
    /// [`KnowledgeError::Invalid`] when `EMBEDDINGS_DIMENSIONS` is not a number.
    pub fn from_env() -> Result<Self, KnowledgeError> {
        let var = |names: &[&str]| names.iter().find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
        let base_url =
            var(&["EMBEDDINGS_BASE_URL", "OPENAI_BASE_URL"]).unwrap_or_else(|| "https://api.openai.com/v1".into());
        let model = var(&["EMBEDDINGS_MODEL"]).unwrap_or_else(|| "text-embedding-3-small".into());
        let mut config = Self::new(base_url, model);
        config.api_key = var(&["EMBEDDINGS_API_KEY", "OPENAI_API_KEY"]);
        if let Some(dimensions) = var(&["EMBEDDINGS_DIMENSIONS"]) {
            config.dimensions = dimensions.parse().map_err(|_| {
                KnowledgeError::Invalid(format!("EMBEDDINGS_DIMENSIONS `{dimensions}` is not a number"))
            })?;
            config.send_dimensions = true;
        }
        Ok(config)
    }
}

/// An [`Embedder`] calling an OpenAI-compatible embeddings endpoint (OpenAI,
/// Azure OpenAI, Ollama, vLLM, LiteLLM, ...).
///
/// Texts are sent in batches of `batch_size`; each request has the
/// configured timeout. A non-2xx answer, a malformed body, or vectors of the
/// wrong length or number are errors.
#[derive(Clone, Debug)]
pub struct HttpEmbedder {
    config: HttpEmbedderConfig,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct EmbeddingsResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    #[serde(default)]
    index: usize,
    embedding: Vec<f32>,
}

impl HttpEmbedder {
    /// An embedder with these settings.
    ///
    /// # Errors
    ///
    /// [`KnowledgeError::Invalid`] for a zero batch size or dimension count,
    /// or when the HTTP client cannot be built.
    pub fn new(config: HttpEmbedderConfig) -> Result<Self, KnowledgeError> {
        if config.batch_size == 0 || config.dimensions == 0 {
            return Err(KnowledgeError::Invalid("embedder batch size and dimensions must be positive".into()));
        }
        super::http::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|err| KnowledgeError::Invalid(format!("cannot build the HTTP client: {err}")))?;
        Ok(Self { config, client })
    }

    /// An embedder configured from the environment ([`HttpEmbedderConfig::from_env`]).
    ///
    /// # Errors
    ///
    /// As [`HttpEmbedderConfig::from_env`] and [`HttpEmbedder::new`].
    pub fn from_env() -> Result<Self, KnowledgeError> {
        Self::new(HttpEmbedderConfig::from_env()?)
    }

    /// The settings.
    pub fn config(&self) -> &HttpEmbedderConfig {
        &self.config
    }

    async fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, KnowledgeError> {
        let url = format!("{}/embeddings", self.config.base_url.trim_end_matches('/'));
        let mut body = json!({"model": self.config.model, "input": texts, "encoding_format": "float"});
        if self.config.send_dimensions {
            body["dimensions"] = json!(self.config.dimensions);
        }
        let mut request = self.client.post(&url).json(&body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(|err| self.transport_error(&err))?;
        let status = response.status();
        let text = response.text().await.map_err(|err| self.transport_error(&err))?;
        if !status.is_success() {
            let snippet: String = text.chars().take(300).collect();
            return Err(KnowledgeError::Embedder(format!("{url} answered HTTP {}: {snippet}", status.as_u16())));
        }
        let parsed: EmbeddingsResponse = serde_json::from_str(&text)
            .map_err(|err| KnowledgeError::Embedder(format!("malformed embeddings response: {err}")))?;
        if parsed.data.len() != texts.len() {
            return Err(KnowledgeError::Embedder(format!(
                "asked for {} embeddings, got {}",
                texts.len(),
                parsed.data.len()
            )));
        }
        let mut items = parsed.data;
        items.sort_by_key(|item| item.index);
        let mut vectors = Vec::with_capacity(items.len());
        for item in items {
            if item.embedding.len() != self.config.dimensions {
                return Err(KnowledgeError::Embedder(format!(
                    "expected {}-dimension embeddings, got {}",
                    self.config.dimensions,
                    item.embedding.len()
                )));
            }
            vectors.push(item.embedding);
        }
        Ok(vectors)
    }

    fn transport_error(&self, err: &reqwest::Error) -> KnowledgeError {
        if err.is_timeout() {
            KnowledgeError::Timeout(self.config.timeout)
        } else {
            KnowledgeError::Embedder(format!("request to the embeddings endpoint failed: {err}"))
        }
    }
}

#[async_trait]
impl Embedder for HttpEmbedder {
    fn dimensions(&self) -> usize {
        self.config.dimensions
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, KnowledgeError> {
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.config.batch_size) {
            vectors.extend(self.embed_batch(batch).await?);
        }
        Ok(vectors)
    }
}

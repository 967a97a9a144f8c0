//! The supporting endpoints: token counting and the models API (live capability lookup).

use agent_core::ModelRequest;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::client::Claude;
use crate::error::{Error, Result};
use crate::system::{self, SystemMessages};
use crate::transport::Call;

/// The answer of `POST /v1/messages/count_tokens`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TokenCount {
    /// Input tokens under the model's tokenizer (what a request is billed).
    pub input_tokens: u64,
    /// The same input under the prior-generation tokenizer (sent for Fable 5).
    #[serde(default)]
    pub input_tokens_prior_tokenizer: Option<u64>,
}

/// One model of `GET /v1/models`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ModelInfo {
    /// The model id.
    pub id: String,
    /// Human-readable name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Context window in tokens.
    #[serde(default)]
    pub max_input_tokens: Option<u64>,
    /// Largest `max_tokens`.
    #[serde(default)]
    pub max_tokens: Option<u64>,
    /// Release time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// The capability tree, `supported: true/false` at each leaf.
    #[serde(default)]
    pub capabilities: Value,
}

impl ModelInfo {
    /// Reads a capability leaf by path, e.g. `["thinking", "types", "adaptive"]`.
    pub fn supports(&self, path: &[&str]) -> bool {
        let mut node = &self.capabilities;
        for key in path {
            match node.get(key) {
                Some(child) => node = child,
                None => return false,
            }
        }
        node.get("supported") == Some(&Value::Bool(true))
    }
}

#[derive(Deserialize)]
struct ModelPage {
    #[serde(default)]
    data: Vec<ModelInfo>,
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    last_id: Option<String>,
}

/// The longest model list followed (pages of 100).
const MAX_MODEL_PAGES: usize = 50;

impl Claude {
    /// Counts the input tokens of a request on its model, without running it.
    ///
    /// The request is built and checked as for a message (the same pre-send
    /// rules and schema normalization), then sent without its generation
    /// settings.
    ///
    /// # Errors
    ///
    /// As for a message request: rule violations, API and connection errors.
    pub async fn count_tokens(&self, model_request: &ModelRequest) -> Result<TokenCount> {
        match self.count_with(model_request, SystemMessages::Native).await {
            Err(err) if system::is_unsupported(&err) => self.count_with(model_request, SystemMessages::Reminder).await,
            other => other,
        }
    }

    async fn count_with(&self, model_request: &ModelRequest, system: SystemMessages) -> Result<TokenCount> {
        let wire = self.prepare(model_request, false, system)?;
        let betas = wire.beta_header();
        let body: Map<String, Value> = wire
            .body
            .into_iter()
            .filter(|(key, _)| {
                matches!(
                    key.as_str(),
                    "model"
                        | "messages"
                        | "system"
                        | "tools"
                        | "tool_choice"
                        | "thinking"
                        | "output_config"
                        | "context_management"
                        | "mcp_servers"
                )
            })
            .collect();
        let transport = self.transport();
        let call = Call::post("/v1/messages/count_tokens", &body, betas, transport.deadline());
        Ok(transport.json(&call).await?.0)
    }

    /// The live description of one model (`GET /v1/models/{id}`).
    ///
    /// # Errors
    ///
    /// API and connection errors; a 404 for unknown ids.
    pub async fn model_info(&self, model: &str) -> Result<ModelInfo> {
        if model.is_empty() || model.contains(['/', '?', '#']) {
            return Err(Error::InvalidRequest(format!("`{model}` is not a model id")));
        }
        self.get_json(&format!("/v1/models/{model}")).await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        let transport = self.transport();
        Ok(transport.json(&Call::get(path, self.default_betas(), transport.deadline())).await?.0)
    }

    /// Every model available to the credentials (`GET /v1/models`, all pages).
    ///
    /// # Errors
    ///
    /// API and connection errors.
    pub async fn list_models(&self) -> Result<Vec<ModelInfo>> {
        let mut models = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_MODEL_PAGES {
            let path = match &after {
                Some(id) => format!("/v1/models?limit=100&after_id={id}"),
                None => "/v1/models?limit=100".to_owned(),
            };
            let page: ModelPage = self.get_json(&path).await?;
            models.extend(page.data);
            match page.last_id {
                Some(last) if page.has_more => after = Some(last),
                _ => break,
            }
        }
        Ok(models)
    }
}

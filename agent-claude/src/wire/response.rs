//! The Messages API response: a message, its usage and stop reason, and error bodies.

use agent_core::{ModelResponse, StopDetails, StopReason, Usage};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::state;
use crate::wire::content::{block_from_wire, block_type};

/// A `message` object, as returned whole or in `message_start`.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct WireMessage {
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) model: String,
    #[serde(default)]
    pub(crate) content: Vec<Value>,
    #[serde(default)]
    pub(crate) stop_reason: Option<String>,
    #[serde(default)]
    pub(crate) stop_sequence: Option<String>,
    #[serde(default)]
    pub(crate) stop_details: Option<Value>,
    #[serde(default)]
    pub(crate) usage: WireUsage,
    /// The code-execution container the request ran in.
    #[serde(default)]
    pub(crate) container: Option<Value>,
    /// What context management applied.
    #[serde(default)]
    pub(crate) context_management: Option<Value>,
}

/// `usage`; every field may be absent or null (streams send partial usage).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub(crate) input_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) output_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) cache_read_input_tokens: Option<u64>,
    /// Per-attempt usage; a `fallback_message` entry means a fallback model served the turn.
    #[serde(default)]
    pub(crate) iterations: Option<Vec<Value>>,
}

impl WireUsage {
    /// Overwrites the fields `later` carries (stream usage is cumulative).
    pub(crate) fn update(&mut self, later: WireUsage) {
        let WireUsage { input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, iterations } =
            later;
        self.input_tokens = input_tokens.or(self.input_tokens);
        self.output_tokens = output_tokens.or(self.output_tokens);
        self.cache_creation_input_tokens = cache_creation_input_tokens.or(self.cache_creation_input_tokens);
        self.cache_read_input_tokens = cache_read_input_tokens.or(self.cache_read_input_tokens);
        self.iterations = iterations.or(self.iterations.take());
    }

    /// The usage to bill: the sum of `iterations` when the API reports
    /// per-attempt usage (server-side fallbacks and compaction, where the
    /// top-level fields cover only the attempt that produced the message),
    /// the top-level fields otherwise.
    pub(crate) fn to_core(&self) -> Usage {
        let attempts: Vec<Usage> = self
            .iterations
            .iter()
            .flatten()
            .filter(|entry| entry.get("input_tokens").is_some() || entry.get("output_tokens").is_some())
            .map(|entry| {
                let field = |key: &str| entry.get(key).and_then(Value::as_u64).unwrap_or(0);
                Usage {
                    input_tokens: field("input_tokens"),
                    output_tokens: field("output_tokens"),
                    cache_creation_input_tokens: field("cache_creation_input_tokens"),
                    cache_read_input_tokens: field("cache_read_input_tokens"),
                }
            })
            .collect();
        if !attempts.is_empty() {
            return attempts.into_iter().fold(Usage::default(), |total, attempt| total + attempt);
        }
        Usage {
            input_tokens: self.input_tokens.unwrap_or(0),
            output_tokens: self.output_tokens.unwrap_or(0),
            cache_creation_input_tokens: self.cache_creation_input_tokens.unwrap_or(0),
            cache_read_input_tokens: self.cache_read_input_tokens.unwrap_or(0),
        }
    }

    fn served_by_fallback(&self) -> bool {
        self.iterations.iter().flatten().any(|entry| block_type(entry) == "fallback_message")
    }
}

/// The stop reason, with refusal details.
pub(crate) fn stop_reason(value: Option<&str>, sequence: Option<String>, details: Option<&Value>) -> StopReason {
    match value {
        Some("end_turn") => StopReason::EndTurn,
        Some("tool_use") => StopReason::ToolUse,
        Some("max_tokens") => StopReason::MaxTokens,
        Some("stop_sequence") => StopReason::StopSequence { sequence },
        Some("pause_turn") => StopReason::PauseTurn,
        Some("refusal") => StopReason::Refusal { details: details.and_then(stop_details) },
        Some("model_context_window_exceeded") => StopReason::ModelContextWindowExceeded,
        Some(other) => StopReason::Unknown { value: other.to_owned() },
        None => StopReason::Unknown { value: String::new() },
    }
}

/// `stop_details` (null is a valid state: `None`).
fn stop_details(value: &Value) -> Option<StopDetails> {
    let Value::Object(fields) = value else { return None };
    let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_owned);
    let extra: Map<String, Value> = fields
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "category" | "explanation"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Some(StopDetails { category: text("category"), explanation: text("explanation"), extra })
}

/// What the client needs beyond the core response: the raw refused content
/// (for a fallback-credit prefill claim) and the raw stop details.
#[derive(Clone, Debug, Default)]
pub(crate) struct Decoded {
    pub(crate) response: ModelResponse,
    /// The content as received, before a refusal discarded it.
    pub(crate) raw_content: Vec<Value>,
}

impl WireMessage {
    /// Converts to the core response. A refusal's partial output is discarded;
    /// a turn served by a server-side fallback names its model in
    /// `fallback_model`; the container and context-management data follow the
    /// content as marker blocks (see [`crate::state`]).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] for a `tool_use` block without an `id` or `name`: the
    /// call could not be answered, and dropping it would leave an empty turn.
    pub(crate) fn into_decoded(
        self,
        tool_input_errors: Vec<agent_core::ToolInputError>,
        request_id: Option<String>,
    ) -> Result<Decoded> {
        for block in self.content.iter().filter(|block| block_type(block) == "tool_use") {
            let present = |field: &str| block.get(field).and_then(Value::as_str).is_some_and(|text| !text.is_empty());
            if !present("id") || !present("name") {
                return Err(Error::Decode {
                    message: format!("a `tool_use` block has no `id` or `name`: {block}"),
                    request_id,
                });
            }
        }
        let stop = stop_reason(self.stop_reason.as_deref(), self.stop_sequence, self.stop_details.as_ref());
        let fallback_served =
            self.usage.served_by_fallback() || self.content.iter().any(|block| block_type(block) == "fallback");
        let refused = matches!(stop, StopReason::Refusal { .. });
        let mut content: Vec<_> =
            if refused { Vec::new() } else { self.content.iter().cloned().map(block_from_wire).collect() };
        if !refused {
            let markers = state::markers(self.container.as_ref(), self.context_management.as_ref());
            content.extend(markers.into_iter().map(agent_core::ContentBlock::Other));
        }
        let response = ModelResponse {
            id: self.id,
            fallback_model: (fallback_served && !refused && !self.model.is_empty()).then(|| self.model.clone()),
            model: self.model,
            content,
            stop_reason: stop,
            usage: self.usage.to_core(),
            tool_input_errors: if refused { Vec::new() } else { tool_input_errors },
            request_id,
        };
        Ok(Decoded { response, raw_content: self.content })
    }
}

/// An error body: `{"type": "error", "error": {"type", "message"}, "request_id"}`.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct WireErrorBody {
    #[serde(default)]
    pub(crate) error: WireError,
    #[serde(default)]
    pub(crate) request_id: Option<String>,
}

/// The inner `error` object of an error body or an `error` stream event.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct WireError {
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) message: Option<String>,
}

//! The model catalog: ids and capabilities of the Claude models, as the API reference lists them.
//!
//! The rules in `rules.rs` read it to reject requests the API would answer
//! with a 400. Ids not in the catalog pass through unchecked; for live data
//! use [`Claude::model_info`](crate::Claude::model_info).

use agent_core::ModelPricing;

/// The model used when none is configured.
pub const DEFAULT_MODEL: &str = "claude-opus-4-8";

/// An `output_config.effort` level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Effort {
    /// Fewer, consolidated tool calls; for sub-agents and simple tasks.
    Low,
    /// The cost/quality sweet spot for most applications.
    Medium,
    /// The default.
    High,
    /// Between `high` and `max` (Opus 4.7 and later, Fable 5).
    XHigh,
    /// Correctness over cost.
    Max,
}

impl Effort {
    /// The wire value, such as `xhigh`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::XHigh => "xhigh",
            Self::Max => "max",
        }
    }

    /// Parses a wire value.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "low" => Self::Low,
            "medium" => Self::Medium,
            "high" => Self::High,
            "xhigh" => Self::XHigh,
            "max" => Self::Max,
            _ => return None,
        })
    }
}

/// What one model accepts, from the API reference's model tables and migration guide.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelCapabilities {
    /// The model id (alias), such as `claude-opus-4-8`.
    pub id: &'static str,
    /// Other ids naming the same model (dated snapshots).
    pub aliases: &'static [&'static str],
    /// Human-readable name.
    pub display_name: &'static str,
    /// Context window in tokens.
    pub context_window: u32,
    /// Largest accepted `max_tokens`.
    pub max_output_tokens: u32,
    /// `thinking: {type: "adaptive"}` is accepted.
    pub adaptive_thinking: bool,
    /// `thinking: {type: "enabled", budget_tokens: N}` is accepted.
    pub budget_tokens: bool,
    /// An explicit `thinking: {type: "disabled"}` is accepted.
    pub thinking_disable: bool,
    /// `temperature`, `top_p` and `top_k` are accepted.
    pub sampling: bool,
    /// A conversation may end with an assistant message (prefill).
    pub prefill: bool,
    /// The accepted `output_config.effort` levels (empty: effort is rejected).
    pub effort: &'static [Effort],
    /// May stop with `refusal` from a safety classifier (Fable 5 family).
    pub refusal_classifiers: bool,
    /// Takes mid-conversation `role: "system"` messages (beta
    /// `mid-conversation-system-2026-04-07`, Opus 4.7 onward).
    pub mid_conversation_system: bool,
}

use Effort::{High, Low, Max, Medium, XHigh};

const EFFORT_ALL: &[Effort] = &[Low, Medium, High, XHigh, Max];
const EFFORT_NO_XHIGH: &[Effort] = &[Low, Medium, High, Max];
const EFFORT_BASIC: &[Effort] = &[Low, Medium, High];

/// Fable 5 and Mythos 5: thinking always on, no sampling, no prefill, classifiers.
const fn fable(id: &'static str, display_name: &'static str) -> ModelCapabilities {
    ModelCapabilities {
        id,
        aliases: &[],
        display_name,
        context_window: 1_000_000,
        max_output_tokens: 128_000,
        adaptive_thinking: true,
        budget_tokens: false,
        thinking_disable: false,
        sampling: false,
        prefill: false,
        effort: EFFORT_ALL,
        refusal_classifiers: true,
        mid_conversation_system: true,
    }
}

/// Opus 4.7 and 4.8: adaptive only, no sampling, no prefill.
const fn opus_47_family(id: &'static str, display_name: &'static str) -> ModelCapabilities {
    ModelCapabilities {
        id,
        aliases: &[],
        display_name,
        context_window: 1_000_000,
        max_output_tokens: 128_000,
        adaptive_thinking: true,
        budget_tokens: false,
        thinking_disable: true,
        sampling: false,
        prefill: false,
        effort: EFFORT_ALL,
        refusal_classifiers: false,
        mid_conversation_system: true,
    }
}

/// Older models: manual thinking with `budget_tokens`, sampling and prefill accepted.
#[allow(clippy::too_many_arguments)]
const fn legacy(
    id: &'static str,
    aliases: &'static [&'static str],
    display_name: &'static str,
    context_window: u32,
    max_output_tokens: u32,
    effort: &'static [Effort],
) -> ModelCapabilities {
    ModelCapabilities {
        id,
        aliases,
        display_name,
        context_window,
        max_output_tokens,
        adaptive_thinking: false,
        budget_tokens: true,
        thinking_disable: true,
        sampling: true,
        prefill: true,
        effort,
        refusal_classifiers: false,
        mid_conversation_system: false,
    }
}

/// A model's prices from the model table (US dollars per million tokens):
/// input and output as listed; a cache write costs 1.25× input (5-minute
/// TTL) and a cache read 0.1× input, as the caching guide states. Usage
/// limits on cost use them.
pub fn pricing(model: &str) -> Option<ModelPricing> {
    let id = lookup(model)?.id;
    let (input, output) = match id {
        "claude-fable-5" | "claude-mythos-5" => (10.0, 50.0),
        "claude-opus-4-8" | "claude-opus-4-7" | "claude-opus-4-6" => (5.0, 25.0),
        "claude-sonnet-4-6" => (3.0, 15.0),
        "claude-haiku-4-5" => (1.0, 5.0),
        // Legacy models: Anthropic's published prices (the spec's table lists
        // current models only).
        "claude-opus-4-5" => (5.0, 25.0),
        "claude-sonnet-4-5" | "claude-sonnet-4-0" => (3.0, 15.0),
        "claude-opus-4-1" | "claude-opus-4-0" => (15.0, 75.0),
        _ => return None,
    };
    Some(ModelPricing { input, output, cache_write: input * 1.25, cache_read: input * 0.1 })
}

/// Every model in the catalog, newest first.
pub static MODELS: &[ModelCapabilities] = &[
    fable("claude-fable-5", "Claude Fable 5"),
    fable("claude-mythos-5", "Claude Mythos 5"),
    opus_47_family("claude-opus-4-8", "Claude Opus 4.8"),
    opus_47_family("claude-opus-4-7", "Claude Opus 4.7"),
    ModelCapabilities {
        id: "claude-opus-4-6",
        aliases: &[],
        display_name: "Claude Opus 4.6",
        context_window: 1_000_000,
        max_output_tokens: 128_000,
        adaptive_thinking: true,
        budget_tokens: true,
        thinking_disable: true,
        sampling: true,
        prefill: false,
        effort: EFFORT_NO_XHIGH,
        refusal_classifiers: false,
        mid_conversation_system: false,
    },
    ModelCapabilities {
        id: "claude-sonnet-4-6",
        aliases: &[],
        display_name: "Claude Sonnet 4.6",
        context_window: 1_000_000,
        max_output_tokens: 64_000,
        adaptive_thinking: true,
        budget_tokens: true,
        thinking_disable: true,
        sampling: true,
        prefill: false,
        effort: EFFORT_NO_XHIGH,
        refusal_classifiers: false,
        mid_conversation_system: false,
    },
    legacy("claude-haiku-4-5", &["claude-haiku-4-5-20251001"], "Claude Haiku 4.5", 200_000, 64_000, &[]),
    legacy("claude-opus-4-5", &["claude-opus-4-5-20251101"], "Claude Opus 4.5", 200_000, 64_000, EFFORT_BASIC),
    legacy("claude-sonnet-4-5", &["claude-sonnet-4-5-20250929"], "Claude Sonnet 4.5", 200_000, 64_000, &[]),
    legacy("claude-opus-4-1", &["claude-opus-4-1-20250805"], "Claude Opus 4.1", 200_000, 32_000, &[]),
    legacy("claude-opus-4-0", &["claude-opus-4-20250514"], "Claude Opus 4", 200_000, 32_000, &[]),
    legacy("claude-sonnet-4-0", &["claude-sonnet-4-20250514"], "Claude Sonnet 4", 200_000, 64_000, &[]),
];

/// The capabilities of a model id (alias or dated id), or `None` for ids the
/// catalog does not know (those pass through unchecked).
///
/// # Example
///
/// ```
/// let fable = agent_claude::catalog::lookup("claude-fable-5").unwrap();
/// assert!(!fable.prefill && !fable.sampling && !fable.thinking_disable);
/// assert!(agent_claude::catalog::lookup("my-proxy-model").is_none());
/// ```
pub fn lookup(model: &str) -> Option<&'static ModelCapabilities> {
    MODELS.iter().find(|caps| caps.id == model || caps.aliases.contains(&model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_in_the_catalog_has_its_prices() {
        for model in MODELS {
            assert!(pricing(model.id).is_some(), "{} has no prices", model.id);
        }
        let opus = pricing("claude-opus-4-8").unwrap_or_default();
        assert_eq!((opus.input, opus.output, opus.cache_write, opus.cache_read), (5.0, 25.0, 6.25, 0.5));
        assert_eq!(pricing("claude-unknown"), None);
    }
}

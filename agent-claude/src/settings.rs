//! Request settings the builder offers as types: thinking, its display, and prompt cache breakpoints.

use serde_json::{Value, json};

/// Extended thinking settings (`thinking`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Thinking {
    /// `{type: "adaptive"}`: the model decides when and how much to think
    /// (Fable 5, Opus 4.6+, Sonnet 4.6).
    Adaptive {
        /// `display`: a readable summary, or omitted (empty thinking text).
        display: Option<ThinkingDisplay>,
    },
    /// `{type: "enabled", budget_tokens}`: a fixed budget, for older models only.
    Enabled {
        /// Thinking token budget (at least 1024, below `max_tokens`).
        budget_tokens: u32,
    },
    /// `{type: "disabled"}`; rejected on Fable 5 (omit thinking there instead).
    Disabled,
}

impl Thinking {
    /// Adaptive thinking with the model's default display.
    pub fn adaptive() -> Self {
        Self::Adaptive { display: None }
    }

    /// Adaptive thinking with summarized reasoning, for streaming it to users.
    pub fn summarized() -> Self {
        Self::Adaptive { display: Some(ThinkingDisplay::Summarized) }
    }

    pub(crate) fn to_json(self) -> Value {
        match self {
            Self::Adaptive { display: None } => json!({"type": "adaptive"}),
            Self::Adaptive { display: Some(display) } => json!({"type": "adaptive", "display": display.as_str()}),
            Self::Enabled { budget_tokens } => json!({"type": "enabled", "budget_tokens": budget_tokens}),
            Self::Disabled => json!({"type": "disabled"}),
        }
    }
}

/// `thinking.display`: whether thinking blocks carry a readable summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThinkingDisplay {
    /// A readable summary of the reasoning.
    Summarized,
    /// Thinking blocks with empty text (the default on Fable 5 and Opus 4.7+).
    Omitted,
}

impl ThinkingDisplay {
    fn as_str(self) -> &'static str {
        match self {
            Self::Summarized => "summarized",
            Self::Omitted => "omitted",
        }
    }
}

/// Prompt cache lifetime of a `cache_control` breakpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CacheTtl {
    /// `{type: "ephemeral"}`: five minutes (writes cost 1.25x).
    #[default]
    FiveMinutes,
    /// `{type: "ephemeral", ttl: "1h"}`: one hour (writes cost 2x).
    OneHour,
}

impl CacheTtl {
    pub(crate) fn to_json(self) -> Value {
        match self {
            Self::FiveMinutes => json!({"type": "ephemeral"}),
            Self::OneHour => json!({"type": "ephemeral", "ttl": "1h"}),
        }
    }
}

/// Where `cache_control` breakpoints go (at most four per request).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PromptCache {
    /// Top-level automatic caching: the API places the breakpoint itself.
    pub(crate) automatic: Option<CacheTtl>,
    /// On the last system block (caches tools and system together).
    pub(crate) system: Option<CacheTtl>,
    /// On the last tool definition.
    pub(crate) tools: Option<CacheTtl>,
    /// On the last block of the last message (multi-turn conversations).
    pub(crate) conversation: Option<CacheTtl>,
}

//! Shared helpers for the runnable examples in `examples/examples/`.

pub mod demo;

use std::sync::Arc;

/// The README's Rust blocks, compiled (and the offline ones run) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct Readme;

use agent_core::Model;

/// Claude when `ANTHROPIC_API_KEY` (or `ANTHROPIC_AUTH_TOKEN`) is set,
/// honouring `ANTHROPIC_BASE_URL`; otherwise the given offline model, saying so
/// on stderr.
///
/// # Errors
///
/// The Claude client's construction error (a bad base URL, for example).
pub fn claude_or_offline(offline: impl FnOnce() -> Arc<dyn Model>) -> Result<Arc<dyn Model>, agent_claude::Error> {
    if has_anthropic_key() {
        let claude = agent_claude::Claude::from_env()?;
        eprintln!("[running on Claude: {}]", agent_core::Model::id(&claude));
        Ok(Arc::new(claude))
    } else {
        eprintln!("[ANTHROPIC_API_KEY is not set: running on an offline test model]");
        Ok(offline())
    }
}

/// Whether `ANTHROPIC_API_KEY` or `ANTHROPIC_AUTH_TOKEN` is set (and not empty).
pub fn has_anthropic_key() -> bool {
    ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|value| !value.is_empty()))
}

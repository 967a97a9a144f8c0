//! `anthropic-beta` feature ids the client sends, exactly as the API reference spells them.
//!
//! Betas compose: the client joins every id a request needs into one
//! `anthropic-beta` header. Those below are added automatically when a
//! request uses the feature; add others with
//! [`ClaudeBuilder::beta`](crate::ClaudeBuilder::beta) or the `betas` option.

/// Server-side refusal fallbacks (the `fallbacks` parameter). Must be exactly
/// this value: other `server-side-fallback-*` dates reject the parameter.
pub const SERVER_SIDE_FALLBACK: &str = "server-side-fallback-2026-06-01";
/// Fallback credit: refusals carry a `fallback_credit_token` for a cheaper retry.
pub const FALLBACK_CREDIT: &str = "fallback-credit-2026-06-01";
/// Server-side compaction (`context_management` with a `compact_*` edit).
pub const COMPACTION: &str = "compact-2026-01-12";
/// Task budgets (`output_config.task_budget`).
pub const TASK_BUDGETS: &str = "task-budgets-2026-03-13";
/// The Files API (`{"type": "file", "file_id"}` sources).
pub const FILES_API: &str = "files-api-2025-04-14";
/// Mid-conversation `role: "system"` messages.
pub const MID_CONVERSATION_SYSTEM: &str = "mid-conversation-system-2026-04-07";

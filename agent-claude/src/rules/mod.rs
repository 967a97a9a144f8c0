//! Pre-send checks: the rules of the API that would otherwise come back as a 400, enforced before any HTTP call.
//!
//! They run on the final body (builder settings and request options merged),
//! so a setting is checked the same wherever it came from, for messages and
//! token counts alike. Model-specific rules apply to the models in the
//! catalog only; other ids pass unchecked. Part of the request layer: pure
//! functions of a built request.

mod conversation;

use serde_json::{Map, Value};

use crate::catalog::{self, Effort, ModelCapabilities};
use crate::error::{Error, Result};
use crate::wire::content::block_type;
use crate::wire::request::WireRequest;

/// The smallest `output_config.task_budget.total` the API accepts.
const MIN_TASK_BUDGET: u64 = 20_000;

/// Checks `wire` against the rules of the API.
///
/// # Errors
///
/// [`Error::InvalidRequest`] naming the broken rule and what to do instead.
pub(crate) fn check(wire: &WireRequest) -> Result<()> {
    let body = &wire.body;
    let caps = catalog::lookup(&wire.model);
    conversation::check_conversation(wire, caps)?;
    conversation::check_blocks(body)?;
    if let Some(caps) = caps {
        check_sampling(body, caps)?;
        check_thinking(body, caps)?;
        check_effort(body, caps)?;
        check_max_tokens(body, caps)?;
    }
    check_temperature_range(body)?;
    check_pre_warming(body)?;
    check_task_budget(body)?;
    conversation::check_cache_breakpoints(body)?;
    check_fallbacks(body, &wire.model)?;
    check_structured_output(body)?;
    Ok(())
}

fn reject(message: impl Into<String>) -> Result<()> {
    Err(Error::InvalidRequest(message.into()))
}

fn check_sampling(body: &Map<String, Value>, caps: &ModelCapabilities) -> Result<()> {
    for key in ["temperature", "top_p", "top_k"] {
        if body.contains_key(key) && !caps.sampling {
            return reject(format!(
                "`{}` does not accept `{key}`: sampling parameters are removed on this model (a 400); remove it",
                caps.id
            ));
        }
    }
    if body.contains_key("temperature") && body.contains_key("top_p") {
        return reject(format!("`{}` accepts `temperature` or `top_p`, not both", caps.id));
    }
    Ok(())
}

fn check_temperature_range(body: &Map<String, Value>) -> Result<()> {
    if let Some(temperature) = body.get("temperature").and_then(Value::as_f64)
        && !(0.0..=1.0).contains(&temperature)
    {
        return reject(format!("`temperature` must be between 0.0 and 1.0, got {temperature}"));
    }
    Ok(())
}

fn check_thinking(body: &Map<String, Value>, caps: &ModelCapabilities) -> Result<()> {
    let Some(thinking) = body.get("thinking") else { return Ok(()) };
    match block_type(thinking) {
        "adaptive" => {
            if !caps.adaptive_thinking {
                return reject(format!(
                    "`{}` does not support adaptive thinking; use `{{type: \"enabled\", budget_tokens}}`",
                    caps.id
                ));
            }
            if let Some(display) = thinking.get("display")
                && !matches!(display.as_str(), Some("summarized" | "omitted"))
            {
                return reject(format!("thinking `display` must be \"summarized\" or \"omitted\", got {display}"));
            }
        }
        "enabled" => {
            if !caps.budget_tokens {
                return reject(format!(
                    "`{}` does not accept `budget_tokens` (thinking type \"enabled\"): use `{{type: \"adaptive\"}}` \
                     and `effort` instead",
                    caps.id
                ));
            }
            let budget = thinking.get("budget_tokens").and_then(Value::as_u64);
            let max_tokens = body.get("max_tokens").and_then(Value::as_u64).unwrap_or(0);
            match budget {
                None => return reject("thinking type \"enabled\" needs an integer `budget_tokens`"),
                Some(budget) if budget < 1024 => {
                    return reject(format!("`budget_tokens` must be at least 1024, got {budget}"));
                }
                Some(budget) if budget >= max_tokens => {
                    return reject(format!("`budget_tokens` ({budget}) must be less than `max_tokens` ({max_tokens})"));
                }
                Some(_) => {}
            }
        }
        "disabled" => {
            if !caps.thinking_disable {
                return reject(format!(
                    "`{}` rejects an explicit `{{type: \"disabled\"}}` thinking: thinking is always on; \
                     omit the `thinking` parameter instead",
                    caps.id
                ));
            }
        }
        other => return reject(format!("unknown thinking type `{other}`")),
    }
    Ok(())
}

fn check_effort(body: &Map<String, Value>, caps: &ModelCapabilities) -> Result<()> {
    let Some(effort) = body.get("output_config").and_then(|config| config.get("effort")) else { return Ok(()) };
    let Some(level) = effort.as_str().and_then(Effort::parse) else {
        return reject(format!("unknown effort {effort}: use low, medium, high, xhigh or max"));
    };
    if caps.effort.is_empty() {
        return reject(format!("`{}` does not accept `effort`", caps.id));
    }
    if !caps.effort.contains(&level) {
        let accepted: Vec<&str> = caps.effort.iter().map(|effort| effort.as_str()).collect();
        return reject(format!(
            "`{}` does not accept effort `{}`; accepted: {}",
            caps.id,
            level.as_str(),
            accepted.join(", ")
        ));
    }
    Ok(())
}

fn check_max_tokens(body: &Map<String, Value>, caps: &ModelCapabilities) -> Result<()> {
    let max_tokens = body.get("max_tokens").and_then(Value::as_u64).unwrap_or(0);
    if max_tokens > u64::from(caps.max_output_tokens) {
        return reject(format!(
            "`max_tokens` {max_tokens} exceeds the {} output tokens `{}` can produce",
            caps.max_output_tokens, caps.id
        ));
    }
    Ok(())
}

/// `max_tokens: 0` pre-warms the cache; the API rejects it with a stream,
/// budgeted thinking, structured output or a forced tool choice.
fn check_pre_warming(body: &Map<String, Value>) -> Result<()> {
    if body.get("max_tokens").and_then(Value::as_u64) != Some(0) {
        return Ok(());
    }
    let conflict = if body.get("stream") == Some(&Value::Bool(true)) {
        Some("cannot be streamed")
    } else if body.get("thinking").map(block_type) == Some("enabled") {
        Some("cannot use thinking with `budget_tokens`")
    } else if body.get("output_config").and_then(|config| config.get("format")).is_some() {
        Some("cannot use structured output (`output_schema`)")
    } else if matches!(body.get("tool_choice").map(block_type), Some("tool" | "any")) {
        Some("cannot force a tool call (`tool_choice` `tool` or `any`)")
    } else {
        None
    };
    match conflict {
        Some(conflict) => reject(format!("`max_tokens: 0` (cache pre-warming) {conflict}")),
        None => Ok(()),
    }
}

/// `output_config.task_budget`: `{type: "tokens", total: N}` with N at least 20,000.
fn check_task_budget(body: &Map<String, Value>) -> Result<()> {
    let Some(budget) = body.get("output_config").and_then(|config| config.get("task_budget")) else { return Ok(()) };
    if block_type(budget) != "tokens" {
        return reject(format!("`task_budget` must be {{type: \"tokens\", total: N}}, got {budget}"));
    }
    match budget.get("total").and_then(Value::as_u64) {
        Some(total) if total >= MIN_TASK_BUDGET => Ok(()),
        Some(total) => reject(format!("`task_budget.total` must be at least {MIN_TASK_BUDGET} tokens, got {total}")),
        None => reject("`task_budget.total` must be a positive integer"),
    }
}

fn check_fallbacks(body: &Map<String, Value>, model: &str) -> Result<()> {
    let Some(fallbacks) = body.get("fallbacks") else { return Ok(()) };
    let Some(entries) = fallbacks.as_array().filter(|entries| (1..=3).contains(&entries.len())) else {
        return reject("`fallbacks` must be an array of 1 to 3 entries");
    };
    let mut seen: Vec<&str> = Vec::new();
    for entry in entries {
        let Some(fields) = entry.as_object() else { return reject("each `fallbacks` entry must be an object") };
        let Some(target) = fields.get("model").and_then(Value::as_str) else {
            return reject("each `fallbacks` entry needs a `model`");
        };
        if let Some(key) = fields
            .keys()
            .find(|key| !matches!(key.as_str(), "model" | "max_tokens" | "thinking" | "output_config" | "speed"))
        {
            return reject(format!("unknown key `{key}` in a `fallbacks` entry"));
        }
        if target == model || seen.contains(&target) {
            return reject(format!(
                "`fallbacks` entries must be distinct models other than the requested one (`{target}`)"
            ));
        }
        seen.push(target);
    }
    Ok(())
}

fn check_structured_output(body: &Map<String, Value>) -> Result<()> {
    if body.get("output_config").and_then(|config| config.get("format")).is_none() {
        return Ok(());
    }
    let cites = body.get("messages").and_then(Value::as_array).into_iter().flatten().any(|message| {
        message.get("content").and_then(Value::as_array).into_iter().flatten().any(|block| {
            block_type(block) == "document"
                && block.get("citations").and_then(|c| c.get("enabled")) == Some(&Value::Bool(true))
        })
    });
    if cites {
        return reject("structured output (`output_schema`) cannot be combined with document citations");
    }
    Ok(())
}

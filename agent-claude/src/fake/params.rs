//! The fake's parameter checks: generation settings by the model catalog, tools and schemas, cache breakpoints, betas.

use serde_json::{Map, Value};

use super::rules::{Checked, Rejection};
use crate::betas;
use crate::catalog;
use crate::schema::rules as schema_rules;
use crate::wire::content::{block_type, cacheable};

fn invalid(message: impl Into<String>) -> Checked {
    Err(Rejection::invalid(message))
}

/// `max_tokens`, sampling, thinking and pre-warming (messages only).
pub(super) fn check_generation(body: &Map<String, Value>, model: &str) -> Checked {
    let Some(max_tokens) = body.get("max_tokens").and_then(Value::as_u64) else {
        return invalid("max_tokens: Field required (a non-negative integer)");
    };
    let caps = catalog::lookup(model);
    if let Some(caps) = caps {
        if max_tokens > u64::from(caps.max_output_tokens) {
            return invalid(format!(
                "max_tokens: {max_tokens} > {}, which is the maximum allowed number of output tokens for {model}",
                caps.max_output_tokens
            ));
        }
        for key in ["temperature", "top_p", "top_k"] {
            if body.contains_key(key) && !caps.sampling {
                return invalid(format!("{key}: this parameter is not supported on {model}"));
            }
        }
    }
    if let Some(temperature) = body.get("temperature").and_then(Value::as_f64)
        && !(0.0..=1.0).contains(&temperature)
    {
        return invalid("temperature: Input should be less than or equal to 1");
    }
    let thinking = body.get("thinking").map(block_type);
    if let (Some(caps), Some(kind)) = (caps, thinking) {
        let accepted = match kind {
            "enabled" => caps.budget_tokens,
            "adaptive" => caps.adaptive_thinking,
            "disabled" => caps.thinking_disable,
            _ => false,
        };
        if !accepted {
            return invalid(format!("thinking.type: `{kind}` is not supported on {model}"));
        }
    }
    if thinking == Some("enabled") {
        let budget = body.get("thinking").and_then(|thinking| thinking.get("budget_tokens")).and_then(Value::as_u64);
        match budget {
            Some(budget) if budget >= 1024 && budget < max_tokens.max(1) => {}
            _ => return invalid("thinking.budget_tokens: must be at least 1024 and less than max_tokens"),
        }
    }
    if max_tokens == 0 {
        let forced = matches!(body.get("tool_choice").map(block_type), Some("tool" | "any"));
        let format = body.get("output_config").and_then(|config| config.get("format")).is_some();
        if body.get("stream") == Some(&Value::Bool(true)) || thinking == Some("enabled") || format || forced {
            return invalid(
                "max_tokens: 0 cannot be combined with stream, thinking.type \"enabled\", output_config.format \
                 or a forced tool_choice",
            );
        }
    }
    Ok(())
}

/// Custom tools have unique names and object schemas; strict ones follow the structured-output rules.
pub(super) fn check_tools(body: &Map<String, Value>) -> Checked {
    let Some(tools) = body.get("tools") else { return Ok(()) };
    let Some(tools) = tools.as_array() else { return invalid("tools: Input should be a valid list") };
    let mut names: Vec<&str> = Vec::new();
    for (index, tool) in tools.iter().enumerate() {
        let Some(name) = tool.get("name").and_then(Value::as_str) else {
            return invalid(format!("tools.{index}.name: Field required"));
        };
        if names.contains(&name) {
            return invalid(format!("tools: Tool names must be unique; `{name}` repeats"));
        }
        names.push(name);
        if tool.get("type").is_some_and(|kind| kind != "custom") {
            continue; // a server or provider tool
        }
        let Some(schema) = tool.get("input_schema").filter(|schema| schema.get("type") == Some(&Value::from("object")))
        else {
            return invalid(format!("tools.{index}.custom.input_schema: the root must be `type: \"object\"`"));
        };
        if tool.get("strict") == Some(&Value::Bool(true))
            && let Err(err) = schema_rules::check(schema)
        {
            return invalid(format!("tools.{index}.custom.input_schema: {err}"));
        }
    }
    Ok(())
}

/// `output_config.format`: a JSON schema the structured-output rules accept, without citations.
pub(super) fn check_output(body: &Map<String, Value>) -> Checked {
    let Some(format) = body.get("output_config").and_then(|config| config.get("format")) else { return Ok(()) };
    if block_type(format) != "json_schema" {
        return invalid("output_config.format.type: Input should be 'json_schema'");
    }
    let Some(schema) = format.get("schema") else { return invalid("output_config.format.schema: Field required") };
    if let Err(err) = schema_rules::check(schema) {
        return invalid(format!("output_config.format.schema: {err}"));
    }
    let cites = body.get("messages").and_then(Value::as_array).into_iter().flatten().any(|message| {
        message.get("content").and_then(Value::as_array).into_iter().flatten().any(|block| {
            block_type(block) == "document"
                && block.get("citations").and_then(|citations| citations.get("enabled")) == Some(&Value::Bool(true))
        })
    });
    if cites {
        return invalid("Citations cannot be enabled when using structured outputs (output_config.format)");
    }
    Ok(())
}

/// At most four breakpoints, each on a block that can carry one.
pub(super) fn check_cache(body: &Map<String, Value>) -> Checked {
    let marked = |value: &Value| value.get("cache_control").is_some();
    let list = |key: &str| body.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut total = usize::from(body.contains_key("cache_control"));
    total += list("tools").iter().filter(|tool| marked(tool)).count();
    for block in list("system").iter().filter(|block| marked(block)) {
        total += 1;
        if !cacheable(block) {
            return invalid("system: cache_control can only be set on non-empty text blocks");
        }
    }
    for (index, message) in list("messages").iter().enumerate() {
        let content = message.get("content").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for (position, block) in content.iter().enumerate() {
            let nested = block.get("content").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            total += nested.iter().filter(|inner| marked(inner)).count();
            if !marked(block) {
                continue;
            }
            total += 1;
            if !cacheable(block) {
                return invalid(format!(
                    "messages.{index}.content.{position}: cache_control cannot be set on a `{}` block",
                    block_type(block)
                ));
            }
        }
    }
    if total > 4 {
        return invalid(format!("A maximum of 4 blocks with cache_control may be provided. Found {total}."));
    }
    Ok(())
}

/// The betas features need, task budgets and containers.
pub(super) fn check_betas(body: &Map<String, Value>, betas: &[String]) -> Checked {
    let has = |beta: &str| betas.iter().any(|sent| sent == beta);
    if let Some(fallbacks) = body.get("fallbacks") {
        if !has(betas::SERVER_SIDE_FALLBACK) {
            return invalid(format!("fallbacks: requires the `{}` beta header", betas::SERVER_SIDE_FALLBACK));
        }
        if !fallbacks.as_array().is_some_and(|entries| (1..=3).contains(&entries.len())) {
            return invalid("fallbacks: must list 1 to 3 entries");
        }
    }
    if body.contains_key("fallback_credit_token") && !has(betas::FALLBACK_CREDIT) {
        return invalid(format!("fallback_credit_token: requires the `{}` beta header", betas::FALLBACK_CREDIT));
    }
    if let Some(budget) = body.get("output_config").and_then(|config| config.get("task_budget")) {
        if !has(betas::TASK_BUDGETS) {
            return invalid(format!("output_config.task_budget: requires the `{}` beta header", betas::TASK_BUDGETS));
        }
        if budget.get("total").and_then(Value::as_u64).is_none_or(|total| total < 20_000) {
            return invalid("output_config.task_budget.total: Input should be greater than or equal to 20000");
        }
    }
    let edits = body.get("context_management").and_then(|cm| cm.get("edits")).and_then(Value::as_array);
    if edits.is_some_and(|edits| edits.iter().any(|edit| block_type(edit).starts_with("compact_")))
        && !has(betas::COMPACTION)
    {
        return invalid(format!("context_management: compaction requires the `{}` beta header", betas::COMPACTION));
    }
    match body.get("container") {
        None | Some(Value::String(_)) => {}
        Some(Value::Object(fields)) if fields.get("id").is_none_or(Value::is_string) => {}
        Some(_) => return invalid("container: Input should be a container id or object"),
    }
    Ok(())
}

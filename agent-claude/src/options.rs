//! Per-request provider options (`ModelRequest::options`): the accepted keys and how they merge.

use serde_json::{Map, Value};

/// The keys accepted in [`ModelRequest::options`](agent_core::ModelRequest::options)
/// and [`ClaudeBuilder::option`](crate::ClaudeBuilder::option).
///
/// Each is sent as the request field of the same name, except:
/// `effort` (a string) becomes `output_config.effort`; `output_config` is
/// merged key by key into the one the client builds; `betas` (an array of
/// strings) is added to the `anthropic-beta` header. Request options override
/// the builder's, key by key.
pub const OPTION_KEYS: &[&str] = &[
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "metadata",
    "thinking",
    "effort",
    "output_config",
    "service_tier",
    "container",
    "context_management",
    "cache_control",
    "fallbacks",
    "mcp_servers",
    "betas",
];

/// Rejects keys outside [`OPTION_KEYS`].
pub(crate) fn check_keys(options: &Map<String, Value>) -> Result<(), String> {
    for key in options.keys() {
        if !OPTION_KEYS.contains(&key.as_str()) {
            return Err(format!("unknown option `{key}`; accepted options: {}", OPTION_KEYS.join(", ")));
        }
    }
    Ok(())
}

/// The builder's options with the request's on top: `output_config` merges
/// key by key, `betas` accumulate, everything else is replaced.
pub(crate) fn merge(defaults: &Map<String, Value>, request: &Map<String, Value>) -> Map<String, Value> {
    let mut merged = defaults.clone();
    for (key, value) in request {
        match (key.as_str(), merged.get_mut(key), value) {
            ("output_config", Some(Value::Object(base)), Value::Object(over)) => {
                base.extend(over.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            ("betas", Some(Value::Array(base)), Value::Array(over)) => base.extend(over.iter().cloned()),
            _ => {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    merged
}

/// Writes merged options into the request body; returns the extra betas.
pub(crate) fn apply(body: &mut Map<String, Value>, options: Map<String, Value>) -> Result<Vec<String>, String> {
    let mut betas = Vec::new();
    for (key, value) in options {
        match key.as_str() {
            "effort" => {
                if !value.is_string() {
                    return Err(format!("option `effort` must be a string, got {value}"));
                }
                output_config(body).insert("effort".into(), value);
            }
            "output_config" => {
                let Value::Object(fields) = value else {
                    return Err("option `output_config` must be an object".into());
                };
                output_config(body).extend(fields);
            }
            "betas" => {
                let Some(items) = value.as_array() else {
                    return Err("option `betas` must be an array of strings".into());
                };
                for item in items {
                    let Some(beta) = item.as_str() else {
                        return Err("option `betas` must be an array of strings".into());
                    };
                    betas.push(beta.to_owned());
                }
            }
            "thinking" | "metadata" | "cache_control" | "context_management" if !value.is_object() => {
                return Err(format!("option `{key}` must be an object, got {value}"));
            }
            "temperature" | "top_p" | "top_k" if !value.is_number() => {
                return Err(format!("option `{key}` must be a number, got {value}"));
            }
            "stop_sequences" if !value.as_array().is_some_and(|items| items.iter().all(Value::is_string)) => {
                return Err("option `stop_sequences` must be an array of strings".into());
            }
            _ => {
                body.insert(key, value);
            }
        }
    }
    Ok(betas)
}

/// The body's `output_config` object, created when missing.
pub(crate) fn output_config(body: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let entry = body.entry("output_config").or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    match entry {
        Value::Object(map) => map,
        _ => unreachable!("replaced by an object above"),
    }
}

//! The Messages API request body, built from a `ModelRequest` and the client's settings.

use std::collections::HashSet;

use agent_core::{ContentBlock, Message, ModelRequest, Role, ToolChoice, ToolDef};
use serde_json::{Map, Value, json};

use crate::betas;
use crate::catalog;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::options;
use crate::wire::content::{block_to_wire, block_type};

/// Default `max_tokens` of a whole response (keeps it under HTTP timeouts).
const DEFAULT_MAX_TOKENS: u32 = 16_000;
/// Default `max_tokens` of a stream (timeouts are no concern there).
const DEFAULT_STREAM_MAX_TOKENS: u32 = 64_000;

/// A request ready to send: the body and the `anthropic-beta` values.
#[derive(Clone, Debug)]
pub(crate) struct WireRequest {
    /// The model the request goes to.
    pub(crate) model: String,
    /// The JSON body.
    pub(crate) body: Map<String, Value>,
    /// Beta feature ids, deduplicated, in order.
    pub(crate) betas: Vec<String>,
    /// The conversation ends with a paused assistant turn being resumed.
    pub(crate) resume: bool,
}

impl WireRequest {
    /// The `anthropic-beta` header value, when any beta is on.
    pub(crate) fn beta_header(&self) -> Option<String> {
        (!self.betas.is_empty()).then(|| self.betas.join(","))
    }

    /// Adds a beta feature id unless present.
    pub(crate) fn add_beta(&mut self, beta: &str) {
        if !self.betas.iter().any(|known| known == beta) {
            self.betas.push(beta.to_owned());
        }
    }

    /// The messages array.
    pub(crate) fn messages(&self) -> &[Value] {
        self.body.get("messages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
    }
}

/// Builds the body for `request` on `config` (streamed or not).
///
/// # Errors
///
/// [`Error::InvalidRequest`] for unknown option keys or malformed option values.
pub(crate) fn build(config: &Config, request: &ModelRequest, stream: bool) -> Result<WireRequest> {
    options::check_keys(&request.options).map_err(Error::InvalidRequest)?;
    let model = request.model.clone().unwrap_or_else(|| config.model.clone());
    let caps = catalog::lookup(&model);
    let mut body = Map::new();
    body.insert("model".into(), json!(model));

    let max_tokens = request.max_tokens.or(config.max_tokens).unwrap_or_else(|| {
        let default = if stream { DEFAULT_STREAM_MAX_TOKENS } else { DEFAULT_MAX_TOKENS };
        caps.map_or(default, |caps| default.min(caps.max_output_tokens))
    });
    body.insert("max_tokens".into(), json!(max_tokens));

    if let Some(instructions) = &request.instructions {
        let mut block = json!({"type": "text", "text": instructions});
        if let Some(ttl) = config.cache.system {
            block["cache_control"] = ttl.to_json();
        }
        body.insert("system".into(), json!([block]));
    }

    let mut messages = messages_to_wire(&request.messages);
    if let Some(ttl) = config.cache.conversation {
        mark_last_cacheable(&mut messages, ttl.to_json());
    }
    body.insert("messages".into(), Value::Array(messages));

    let mut tools: Vec<Value> = config.server_tools.clone();
    tools.extend(request.tools.iter().map(|tool| tool_to_wire(tool)));
    if let (Some(ttl), Some(last)) = (config.cache.tools, tools.last_mut()) {
        last["cache_control"] = ttl.to_json();
    }
    if !tools.is_empty() {
        if let Some(choice) = tool_choice(request) {
            body.insert("tool_choice".into(), choice);
        }
        body.insert("tools".into(), Value::Array(tools));
    }

    if let Some(schema) = &request.output_schema {
        options::output_config(&mut body).insert("format".into(), json!({"type": "json_schema", "schema": schema}));
    }
    if let Some(ttl) = config.cache.automatic {
        body.insert("cache_control".into(), ttl.to_json());
    }

    let merged = options::merge(&config.options, &request.options);
    let mut beta_list = config.betas.clone();
    beta_list.extend(options::apply(&mut body, merged).map_err(Error::InvalidRequest)?);
    if model != config.model {
        drop_fallbacks_through(&mut body, &model);
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    beta_list.extend(implied_betas(&body).into_iter().map(str::to_owned));

    let mut wire = WireRequest { model, body, betas: Vec::new(), resume: false };
    for beta in beta_list {
        wire.add_beta(&beta);
    }
    Ok(wire)
}

/// One tool definition: a provider spec verbatim, or name, description and schema.
fn tool_to_wire(tool: &ToolDef) -> Value {
    if let Some(spec) = &tool.provider_spec {
        return spec.clone();
    }
    let mut out = json!({"name": tool.name, "description": tool.description, "input_schema": tool.input_schema});
    if tool.strict {
        out["strict"] = json!(true);
    }
    out
}

fn tool_choice(request: &ModelRequest) -> Option<Value> {
    let mut choice = match &request.tool_choice {
        None if !request.disable_parallel_tool_use => return None,
        None | Some(ToolChoice::Auto) => json!({"type": "auto"}),
        Some(ToolChoice::Any) => json!({"type": "any"}),
        Some(ToolChoice::Tool { name }) => json!({"type": "tool", "name": name}),
        // `none` takes no other field.
        Some(ToolChoice::None) => return Some(json!({"type": "none"})),
    };
    if request.disable_parallel_tool_use {
        choice["disable_parallel_tool_use"] = json!(true);
    }
    Some(choice)
}

/// The conversation as the API takes it: consecutive messages of one role
/// merged into one turn (a second `pause_turn` resume appends to the paused
/// assistant turn), empty assistant text dropped, and assistant turns after a
/// mid-output server fallback echoed as the spec requires.
pub(crate) fn messages_to_wire(messages: &[Message]) -> Vec<Value> {
    let mut out: Vec<(Role, Vec<Value>)> = Vec::new();
    for message in messages {
        let mut blocks: Vec<Value> = match message.role {
            Role::User => message.content.iter().map(block_to_wire).collect(),
            Role::Assistant => echo_fallback_turn(&message.content),
        };
        match out.last_mut() {
            Some((role, content)) if *role == message.role => content.append(&mut blocks),
            _ => out.push((message.role, blocks)),
        }
    }
    out.into_iter()
        .filter(|(_, content)| !content.is_empty())
        .map(|(role, content)| {
            let role = match role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            json!({"role": role, "content": content})
        })
        .collect()
}

/// An assistant turn's blocks. Before the last `fallback` block, model-internal
/// blocks of the model that declined (thinking, tool calls, unpaired server
/// tool calls, unknown types) are omitted; text, paired server tool blocks
/// and everything after the boundary echo normally.
fn echo_fallback_turn(content: &[ContentBlock]) -> Vec<Value> {
    let wire: Vec<Value> = content
        .iter()
        .filter(|block| !matches!(block, ContentBlock::Text { text, .. } if text.is_empty()))
        .map(block_to_wire)
        .collect();
    let Some(boundary) = wire.iter().rposition(|block| block_type(block) == "fallback") else {
        return wire;
    };
    let result_ids: HashSet<&str> = wire[..boundary]
        .iter()
        .filter(|block| block_type(block).ends_with("_tool_result"))
        .filter_map(|block| block.get("tool_use_id").and_then(Value::as_str))
        .collect();
    let mut kept: Vec<Value> = wire[..boundary]
        .iter()
        .filter(|block| match block_type(block) {
            "text" | "fallback" => true,
            "server_tool_use" | "mcp_tool_use" => {
                block.get("id").and_then(Value::as_str).is_some_and(|id| result_ids.contains(id))
            }
            kind => kind.ends_with("_tool_result"),
        })
        .cloned()
        .collect();
    kept.extend(wire[boundary..].iter().cloned());
    kept
}

/// Puts a breakpoint on the last block of the last message that can carry one.
fn mark_last_cacheable(messages: &mut [Value], cache_control: Value) {
    let Some(content) = messages.last_mut().and_then(|message| message.get_mut("content")) else { return };
    let Some(blocks) = content.as_array_mut() else { return };
    // Thinking blocks cannot carry cache_control.
    if let Some(block) = blocks.iter_mut().rev().find(|block| {
        !matches!(block_type(block), "thinking" | "redacted_thinking") && block.get("cache_control").is_none()
    }) {
        block["cache_control"] = cache_control;
    }
}

/// After a fallback pinned the run to `model`, the server-side chain starts
/// after that model (a model cannot fall back to itself).
fn drop_fallbacks_through(body: &mut Map<String, Value>, model: &str) {
    let Some(Value::Array(entries)) = body.get_mut("fallbacks") else { return };
    if let Some(position) = entries.iter().position(|entry| entry.get("model").and_then(Value::as_str) == Some(model)) {
        entries.drain(..=position);
    }
    if entries.is_empty() {
        body.remove("fallbacks");
    }
}

/// Beta headers the body needs: server fallbacks, compaction, task budgets, files.
fn implied_betas(body: &Map<String, Value>) -> Vec<&'static str> {
    let mut out = Vec::new();
    if body.contains_key("fallbacks") {
        out.push(betas::SERVER_SIDE_FALLBACK);
    }
    let edits = body.get("context_management").and_then(|cm| cm.get("edits")).and_then(Value::as_array);
    if edits.is_some_and(|edits| edits.iter().any(|edit| block_type(edit).starts_with("compact_"))) {
        out.push(betas::COMPACTION);
    }
    if body.get("output_config").and_then(|config| config.get("task_budget")).is_some() {
        out.push(betas::TASK_BUDGETS);
    }
    let uses_files = body.get("messages").and_then(Value::as_array).is_some_and(|messages| {
        messages.iter().any(|message| message.get("content").is_some_and(contains_file_source))
    });
    if uses_files {
        out.push(betas::FILES_API);
    }
    out
}

fn contains_file_source(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(contains_file_source),
        Value::Object(fields) => {
            fields.get("source").is_some_and(|source| block_type(source) == "file")
                || fields.get("content").is_some_and(contains_file_source)
        }
        _ => false,
    }
}

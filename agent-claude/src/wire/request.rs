//! The Messages API request body, built from a `ModelRequest` and the client's default settings.
//!
//! Pure: no IO. Schemas for structured output and strict tools go through the
//! normalizer; the conversation through [`messages`](super::messages).

use agent_core::{ModelRequest, ToolChoice, ToolDef};
use serde_json::{Map, Value, json};

use crate::betas;
use crate::catalog;
use crate::error::{Error, Result};
use crate::options;
use crate::schema;
use crate::settings::PromptCache;
use crate::state::Container;
use crate::system::SystemMessages;
use crate::wire::content::block_type;
use crate::wire::messages;

/// Default `max_tokens` of a whole response (keeps it under HTTP timeouts).
const DEFAULT_MAX_TOKENS: u32 = 16_000;
/// Default `max_tokens` of a stream (timeouts are no concern there).
const DEFAULT_STREAM_MAX_TOKENS: u32 = 64_000;

/// The builder's settings that shape every request body.
#[derive(Clone, Debug, Default)]
pub(crate) struct RequestDefaults {
    /// The model requests go to unless they name one.
    pub(crate) model: String,
    /// `max_tokens` when a request sets none.
    pub(crate) max_tokens: Option<u32>,
    /// Beta ids sent with every request.
    pub(crate) betas: Vec<String>,
    /// Default request options (see [`crate::OPTION_KEYS`]).
    pub(crate) options: Map<String, Value>,
    /// Server tool definitions sent with every request.
    pub(crate) server_tools: Vec<Value>,
    /// Where prompt-cache breakpoints go.
    pub(crate) cache: PromptCache,
}

/// A request ready to send: the body and the `anthropic-beta` values.
#[derive(Clone, Debug)]
pub(crate) struct WireRequest {
    /// The model the request goes to.
    pub(crate) model: String,
    /// The JSON body.
    pub(crate) body: Map<String, Value>,
    /// Beta feature ids, deduplicated, in order.
    pub(crate) betas: Vec<String>,
    /// The trailing assistant turn is one the API paused, being resumed
    /// ([`ModelRequest::resume`]).
    pub(crate) resume: bool,
    /// The trailing assistant turn is a fallback-credit prefill claim.
    pub(crate) prefill_claim: bool,
    /// Some message went out as `role: "system"` (the model may refuse it).
    pub(crate) system_messages: bool,
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

/// Builds the body for `request` (streamed or not), sending system markers as `system`.
///
/// # Errors
///
/// [`Error::InvalidRequest`] for unknown option keys, malformed option values,
/// and schemas the API cannot take (recursive, maps, untyped values).
pub(crate) fn build(
    defaults: &RequestDefaults,
    request: &ModelRequest,
    stream: bool,
    system: SystemMessages,
) -> Result<WireRequest> {
    options::check_keys(&request.options).map_err(Error::InvalidRequest)?;
    let model = request.model.clone().unwrap_or_else(|| defaults.model.clone());
    let caps = catalog::lookup(&model);
    let mut body = Map::new();
    body.insert("model".into(), json!(model));

    let max_tokens = request.max_tokens.or(defaults.max_tokens).unwrap_or_else(|| {
        let default = if stream { DEFAULT_STREAM_MAX_TOKENS } else { DEFAULT_MAX_TOKENS };
        caps.map_or(default, |caps| default.min(caps.max_output_tokens))
    });
    body.insert("max_tokens".into(), json!(max_tokens));

    // An empty system prompt would be an empty text block, which the API rejects.
    if let Some(instructions) = request.instructions.as_ref().filter(|text| !text.trim().is_empty()) {
        let mut block = json!({"type": "text", "text": instructions});
        if let Some(ttl) = defaults.cache.system {
            block["cache_control"] = ttl.to_json();
        }
        body.insert("system".into(), json!([block]));
    }

    let system = match caps {
        Some(caps) if !caps.mid_conversation_system => SystemMessages::Reminder,
        _ => system,
    };
    let (mut wire_messages, sent_system) = messages::to_wire(&request.messages, system);
    if let Some(ttl) = defaults.cache.conversation {
        messages::mark_last_cacheable(&mut wire_messages, ttl.to_json());
    }
    body.insert("messages".into(), Value::Array(wire_messages));

    let mut tools: Vec<Value> = defaults.server_tools.clone();
    for tool in request.tools.iter() {
        tools.push(tool_to_wire(tool)?);
    }
    if let (Some(ttl), Some(last)) = (defaults.cache.tools, tools.last_mut()) {
        last["cache_control"] = ttl.to_json();
    }
    if !tools.is_empty() {
        if let Some(choice) = tool_choice(request) {
            body.insert("tool_choice".into(), choice);
        }
        body.insert("tools".into(), Value::Array(tools));
    }

    if let Some(schema) = &request.output_schema {
        let normalized = schema::normalize(schema)
            .map_err(|err| Error::InvalidRequest(format!("the output schema cannot be sent: {err}")))?;
        options::output_config(&mut body).insert("format".into(), json!({"type": "json_schema", "schema": normalized}));
    }
    if let Some(ttl) = defaults.cache.automatic {
        body.insert("cache_control".into(), ttl.to_json());
    }

    let merged = options::merge(&defaults.options, &request.options);
    let mut beta_list = defaults.betas.clone();
    beta_list.extend(options::apply(&mut body, merged).map_err(Error::InvalidRequest)?);
    if !body.contains_key("container")
        && uses_code_execution(&body)
        && let Some(container) = Container::latest(&request.messages)
    {
        body.insert("container".into(), json!(container.id));
    }
    if model != defaults.model {
        drop_fallbacks_through(&mut body, &model);
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    beta_list.extend(implied_betas(&body).into_iter().map(str::to_owned));
    if sent_system {
        beta_list.push(betas::MID_CONVERSATION_SYSTEM.to_owned());
    }

    let mut wire = WireRequest {
        model,
        body,
        betas: Vec::new(),
        resume: request.resume,
        prefill_claim: false,
        system_messages: sent_system,
    };
    for beta in beta_list {
        wire.add_beta(&beta);
    }
    Ok(wire)
}

/// One tool definition: a provider spec verbatim, or name, description and
/// schema (normalized for strict tools, whose schema the API enforces).
fn tool_to_wire(tool: &ToolDef) -> Result<Value> {
    if let Some(spec) = &tool.provider_spec {
        return Ok(spec.clone());
    }
    if !tool.strict {
        return Ok(json!({"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}));
    }
    let schema = schema::normalize(&tool.input_schema).map_err(|err| {
        Error::InvalidRequest(format!("the input schema of strict tool `{}` cannot be sent: {err}", tool.name))
    })?;
    Ok(json!({"name": tool.name, "description": tool.description, "input_schema": schema, "strict": true}))
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

/// Whether the request offers code execution, whose container the API can reuse.
fn uses_code_execution(body: &Map<String, Value>) -> bool {
    body.get("tools")
        .and_then(Value::as_array)
        .is_some_and(|tools| tools.iter().any(|tool| block_type(tool).starts_with("code_execution")))
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

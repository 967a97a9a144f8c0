//! Content blocks: `agent_core::ContentBlock` to Messages API JSON and back.
//!
//! Blocks the client does not know travel verbatim both ways
//! (`ContentBlock::Other`), so compaction blocks, fallback markers and future
//! block types are sent back exactly as received.

use agent_core::{ContentBlock, MediaSource, ServerToolResult, ToolResultContent};
use serde_json::{Map, Value, json};

/// One core block as the API expects it in a request.
pub(crate) fn block_to_wire(block: &ContentBlock) -> Value {
    match block {
        ContentBlock::Text { text, citations } => {
            let mut out = json!({"type": "text", "text": text});
            if !citations.is_empty() {
                out["citations"] = Value::Array(citations.clone());
            }
            out
        }
        ContentBlock::Image { source } => json!({"type": "image", "source": source_to_wire(source)}),
        ContentBlock::Document { source, title, context, citations } => {
            let mut out = json!({"type": "document", "source": source_to_wire(source)});
            if let Some(title) = title {
                out["title"] = json!(title);
            }
            if let Some(context) = context {
                out["context"] = json!(context);
            }
            if let Some(citations) = citations {
                out["citations"] = citations.clone();
            }
            out
        }
        ContentBlock::ToolUse { id, name, input } => {
            json!({"type": "tool_use", "id": id, "name": name, "input": input})
        }
        ContentBlock::ToolResult { tool_call_id, content, is_error } => {
            let content = match content {
                ToolResultContent::Text(text) => json!(text),
                // The API takes text or blocks: JSON results go as their serialized text.
                ToolResultContent::Json(value) => json!(value.to_string()),
                ToolResultContent::Blocks(blocks) => Value::Array(blocks.iter().map(block_to_wire).collect()),
            };
            let mut out = json!({"type": "tool_result", "tool_use_id": tool_call_id, "content": content});
            if *is_error {
                out["is_error"] = json!(true);
            }
            out
        }
        ContentBlock::Thinking { thinking, signature } => {
            json!({"type": "thinking", "thinking": thinking, "signature": signature})
        }
        ContentBlock::RedactedThinking { data } => json!({"type": "redacted_thinking", "data": data}),
        ContentBlock::ServerToolUse { id, name, input } => {
            json!({"type": "server_tool_use", "id": id, "name": name, "input": input})
        }
        ContentBlock::ServerToolResult(result) => {
            let mut out = Map::new();
            out.insert("type".into(), json!(result.kind));
            out.insert("tool_use_id".into(), json!(result.tool_call_id));
            out.insert("content".into(), result.content.clone());
            for (key, value) in &result.extra {
                out.entry(key.clone()).or_insert_with(|| value.clone());
            }
            Value::Object(out)
        }
        ContentBlock::Other(value) => value.clone(),
    }
}

fn source_to_wire(source: &MediaSource) -> Value {
    match source {
        MediaSource::Base64 { media_type, data } => json!({"type": "base64", "media_type": media_type, "data": data}),
        MediaSource::Url { url } => json!({"type": "url", "url": url}),
        MediaSource::Text { media_type, data } => json!({"type": "text", "media_type": media_type, "data": data}),
        MediaSource::File { file_id } => json!({"type": "file", "file_id": file_id}),
    }
}

/// The `type` of a wire block, or `""`.
pub(crate) fn block_type(block: &Value) -> &str {
    block.get("type").and_then(Value::as_str).unwrap_or("")
}

/// Whether a wire block may carry `cache_control`, per the API reference:
/// text (not blank), image, document, tool call and tool result blocks.
/// Thinking, server tool blocks and blank text may not.
pub(crate) fn cacheable(block: &Value) -> bool {
    match block_type(block) {
        "text" => block.get("text").and_then(Value::as_str).is_some_and(|text| !text.trim().is_empty()),
        "image" | "document" | "tool_use" | "tool_result" => true,
        _ => false,
    }
}

fn string_field(block: &Value, field: &str) -> Option<String> {
    block.get(field).and_then(Value::as_str).map(str::to_owned)
}

/// One response block as a core block; unknown or malformed blocks stay verbatim.
pub(crate) fn block_from_wire(block: Value) -> ContentBlock {
    let converted = match block_type(&block) {
        "text" => string_field(&block, "text").map(|text| ContentBlock::Text {
            text,
            citations: block.get("citations").and_then(Value::as_array).cloned().unwrap_or_default(),
        }),
        "thinking" => match (string_field(&block, "thinking"), string_field(&block, "signature")) {
            (Some(thinking), Some(signature)) => Some(ContentBlock::Thinking { thinking, signature }),
            _ => None,
        },
        "redacted_thinking" => string_field(&block, "data").map(|data| ContentBlock::RedactedThinking { data }),
        "tool_use" => match (string_field(&block, "id"), string_field(&block, "name")) {
            (Some(id), Some(name)) => Some(ContentBlock::ToolUse {
                id,
                name,
                input: block.get("input").cloned().unwrap_or_else(|| json!({})),
            }),
            _ => None,
        },
        "server_tool_use" => match (string_field(&block, "id"), string_field(&block, "name")) {
            (Some(id), Some(name)) => Some(ContentBlock::ServerToolUse {
                id,
                name,
                input: block.get("input").cloned().unwrap_or_else(|| json!({})),
            }),
            _ => None,
        },
        kind if kind.ends_with("_tool_result") && kind != "tool_result" => server_tool_result(&block),
        _ => None,
    };
    converted.unwrap_or(ContentBlock::Other(block))
}

fn server_tool_result(block: &Value) -> Option<ContentBlock> {
    let Value::Object(fields) = block else { return None };
    let kind = string_field(block, "type")?;
    let tool_use_id = string_field(block, "tool_use_id")?;
    let content = fields.get("content").cloned().unwrap_or(Value::Null);
    let extra = fields
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "type" | "tool_use_id" | "content"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Some(ContentBlock::ServerToolResult(ServerToolResult { kind, tool_call_id: tool_use_id, content, extra }))
}

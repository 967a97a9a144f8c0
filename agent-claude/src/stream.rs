//! The stream accumulator: Messages API stream events in, `ModelEvent`s and the final response out.
//!
//! Text, thinking, signature and citation deltas are appended to their
//! blocks; tool arguments arrive as `input_json_delta` fragments and are
//! parsed when the block stops (malformed JSON becomes a `ToolInputError`, not
//! a failure). Blocks of unknown types are kept verbatim, their deltas merged
//! field by field. An event whose data has no `type` takes the SSE event
//! name; one with neither is skipped, as are unknown event types.

use agent_core::{ModelEvent, ToolInputError};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::sse::{SseDecoder, SseEvent};
use crate::wire::content::block_type;
use crate::wire::response::{Decoded, WireError, WireMessage, WireUsage, stop_reason};

/// One event of the stream, by its `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamEvent {
    MessageStart {
        message: WireMessage,
    },
    ContentBlockStart {
        index: usize,
        content_block: Value,
    },
    ContentBlockDelta {
        index: usize,
        delta: Map<String, Value>,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDelta,
        #[serde(default)]
        usage: Option<WireUsage>,
        #[serde(default)]
        context_management: Option<Value>,
    },
    MessageStop,
    Ping,
    Error {
        #[serde(default)]
        error: WireError,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Default, Deserialize)]
struct MessageDelta {
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    stop_sequence: Option<String>,
    #[serde(default)]
    stop_details: Option<Value>,
    #[serde(default)]
    container: Option<Value>,
}

/// A block being received.
#[derive(Debug)]
struct OpenBlock {
    block: Value,
    /// The `input_json_delta` fragments of a tool call, when this is one.
    partial_json: Option<String>,
}

/// Accumulates one streamed message.
#[derive(Debug, Default)]
pub(crate) struct Accumulator {
    message: WireMessage,
    blocks: Vec<Option<OpenBlock>>,
    tool_input_errors: Vec<ToolInputError>,
    request_id: Option<String>,
    complete: bool,
}

impl Accumulator {
    /// An accumulator for the response carrying `request_id`.
    pub(crate) fn new(request_id: Option<String>) -> Self {
        Self { request_id, ..Self::default() }
    }

    /// Whether `message_stop` arrived.
    pub(crate) fn is_complete(&self) -> bool {
        self.complete
    }

    /// Whether any content block started.
    pub(crate) fn has_content(&self) -> bool {
        !self.blocks.is_empty()
    }

    /// Handles one decoded SSE event, appending the `ModelEvent`s it yields.
    ///
    /// # Errors
    ///
    /// [`Error::Stream`] for an `error` event; [`Error::Decode`] for data that
    /// is not a stream event.
    pub(crate) fn handle(&mut self, event: &SseEvent, out: &mut Vec<ModelEvent>) -> Result<()> {
        let decode_error = |err: serde_json::Error| Error::Decode {
            message: format!("stream event `{}`: {err}", event.event),
            request_id: self.request_id.clone(),
        };
        let mut data: Value = serde_json::from_str(&event.data).map_err(decode_error)?;
        let Value::Object(fields) = &mut data else {
            tracing::warn!(event = %event.event, "stream event data is not an object; skipped");
            return Ok(());
        };
        if !fields.get("type").is_some_and(Value::is_string) {
            if event.event.is_empty() || event.event == "message" {
                tracing::warn!("stream event without a type; skipped");
                return Ok(());
            }
            fields.insert("type".into(), json!(event.event));
        }
        let parsed: StreamEvent = serde_json::from_value(data).map_err(decode_error)?;
        match parsed {
            StreamEvent::MessageStart { message } => {
                self.blocks = message
                    .content
                    .iter()
                    .map(|block| Some(OpenBlock { block: block.clone(), partial_json: None }))
                    .collect();
                self.message = message;
            }
            StreamEvent::ContentBlockStart { index, content_block } => self.start_block(index, content_block, out),
            StreamEvent::ContentBlockDelta { index, delta } => self.delta(index, delta, out),
            StreamEvent::ContentBlockStop { index } => {
                self.stop_block(index);
                out.push(ModelEvent::BlockStop { index });
            }
            StreamEvent::MessageDelta { delta, usage, context_management } => {
                if delta.container.is_some() {
                    self.message.container = delta.container;
                }
                if context_management.is_some() {
                    self.message.context_management = context_management;
                }
                if let Some(usage) = usage {
                    self.message.usage.update(usage);
                    out.push(ModelEvent::Usage(self.message.usage.to_core()));
                }
                if delta.stop_reason.is_some() {
                    self.message.stop_reason = delta.stop_reason;
                    self.message.stop_sequence = delta.stop_sequence;
                    self.message.stop_details = delta.stop_details;
                    let reason = stop_reason(
                        self.message.stop_reason.as_deref(),
                        self.message.stop_sequence.clone(),
                        self.message.stop_details.as_ref(),
                    );
                    out.push(ModelEvent::StopReason(reason));
                }
            }
            StreamEvent::MessageStop => self.complete = true,
            StreamEvent::Ping | StreamEvent::Unknown => {}
            StreamEvent::Error { error } => {
                return Err(Error::Stream {
                    message: error.message.unwrap_or_else(|| "error event without a message".into()),
                    error_type: error.kind,
                    request_id: self.request_id.clone(),
                });
            }
        }
        Ok(())
    }

    fn start_block(&mut self, index: usize, block: Value, out: &mut Vec<ModelEvent>) {
        let kind = block_type(&block);
        let partial_json = matches!(kind, "tool_use" | "server_tool_use" | "mcp_tool_use").then(String::new);
        match kind {
            "tool_use" => out.push(ModelEvent::ToolCallStart {
                index,
                id: text_of(&block, "id").to_owned(),
                name: text_of(&block, "name").to_owned(),
            }),
            "text" if !text_of(&block, "text").is_empty() => {
                out.push(ModelEvent::TextDelta { index, text: text_of(&block, "text").to_owned() });
            }
            _ => {}
        }
        if self.blocks.len() <= index {
            self.blocks.resize_with(index + 1, || None);
        }
        self.blocks[index] = Some(OpenBlock { block, partial_json });
    }

    fn delta(&mut self, index: usize, mut delta: Map<String, Value>, out: &mut Vec<ModelEvent>) {
        let Some(Some(open)) = self.blocks.get_mut(index) else {
            tracing::warn!(index, "delta for a block that never started; ignored");
            return;
        };
        let kind = delta.remove("type").and_then(|kind| kind.as_str().map(str::to_owned)).unwrap_or_default();
        match kind.as_str() {
            "text_delta" => {
                let text = take_string(&mut delta, "text");
                append(&mut open.block, "text", &text);
                out.push(ModelEvent::TextDelta { index, text });
            }
            "thinking_delta" => {
                let thinking = take_string(&mut delta, "thinking");
                append(&mut open.block, "thinking", &thinking);
                out.push(ModelEvent::ThinkingDelta { index, thinking });
            }
            "signature_delta" => append(&mut open.block, "signature", &take_string(&mut delta, "signature")),
            "input_json_delta" => {
                let fragment = take_string(&mut delta, "partial_json");
                if block_type(&open.block) == "tool_use" {
                    out.push(ModelEvent::ToolCallDelta { index, partial_json: fragment.clone() });
                }
                open.partial_json.get_or_insert_with(String::new).push_str(&fragment);
            }
            "citations_delta" => {
                if let (Some(citation), Value::Object(fields)) = (delta.remove("citation"), &mut open.block) {
                    match fields.entry("citations").or_insert_with(|| json!([])) {
                        Value::Array(citations) => citations.push(citation),
                        other => *other = json!([citation]),
                    }
                }
            }
            // Unknown deltas (compaction and future types): merge field by field.
            _ => {
                if let Value::Object(fields) = &mut open.block {
                    for (key, value) in delta {
                        match (fields.get_mut(&key), value) {
                            (Some(Value::String(existing)), Value::String(more)) => existing.push_str(&more),
                            (Some(Value::Array(existing)), Value::Array(more)) => existing.extend(more),
                            (_, value) => {
                                fields.insert(key, value);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Parses a finished tool call's arguments.
    fn stop_block(&mut self, index: usize) {
        let Some(Some(open)) = self.blocks.get_mut(index) else { return };
        let Some(raw) = open.partial_json.take() else { return };
        if raw.trim().is_empty() {
            // No fragments: the input from `content_block_start` stands (an empty object).
            if open.block.get("input").is_none_or(|input| !input.is_object()) {
                open.block["input"] = json!({});
            }
            return;
        }
        match serde_json::from_str::<Value>(&raw) {
            Ok(input) => open.block["input"] = input,
            Err(err) => {
                open.block["input"] = json!({});
                if block_type(&open.block) == "tool_use" {
                    self.tool_input_errors.push(ToolInputError {
                        tool_call_id: text_of(&open.block, "id").to_owned(),
                        raw,
                        message: format!("the tool arguments are not valid JSON: {err}"),
                    });
                }
            }
        }
    }

    /// The whole message. Blocks still open (a cut at `max_tokens`) are
    /// finished as they are.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] for a tool call without an id or name.
    pub(crate) fn finish(mut self) -> Result<Decoded> {
        for index in 0..self.blocks.len() {
            self.stop_block(index);
        }
        let mut message = std::mem::take(&mut self.message);
        message.content = self.blocks.into_iter().flatten().map(|open| open.block).collect();
        message.into_decoded(self.tool_input_errors, self.request_id)
    }
}

/// Decodes a whole recorded stream (for benchmarks and tests): the number of
/// SSE events and the final message.
pub(crate) fn decode_recorded(bytes: &[u8], chunk_size: usize) -> Result<(usize, Decoded)> {
    let mut decoder = SseDecoder::new();
    let mut accumulator = Accumulator::new(None);
    let mut sse_events = Vec::new();
    let mut events = Vec::new();
    let mut count = 0;
    for chunk in bytes.chunks(chunk_size.max(1)) {
        decoder
            .push(chunk, &mut sse_events)
            .map_err(|err| Error::Decode { message: err.to_string(), request_id: None })?;
        count += sse_events.len();
        for sse in sse_events.drain(..) {
            accumulator.handle(&sse, &mut events)?;
        }
        events.clear();
    }
    Ok((count, accumulator.finish()?))
}

fn text_of<'a>(block: &'a Value, field: &str) -> &'a str {
    block.get(field).and_then(Value::as_str).unwrap_or("")
}

fn take_string(delta: &mut Map<String, Value>, field: &str) -> String {
    match delta.remove(field) {
        Some(Value::String(text)) => text,
        _ => String::new(),
    }
}

fn append(block: &mut Value, field: &str, text: &str) {
    let Value::Object(fields) = block else { return };
    match fields.get_mut(field) {
        Some(Value::String(existing)) => existing.push_str(text),
        _ => {
            fields.insert(field.to_owned(), Value::String(text.to_owned()));
        }
    }
}

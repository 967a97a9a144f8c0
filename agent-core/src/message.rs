//! Conversation messages: roles, content blocks, token usage and stop reasons.
//!
//! These types are persisted by session stores, so their serialized form is a
//! compatibility boundary: fields are only ever added, never renamed, and the
//! format carries [`MESSAGE_FORMAT_VERSION`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Version of the serialized message format written by this crate.
///
/// Stores write it next to persisted messages; readers accept any version up to
/// this one (changes are additive).
pub const MESSAGE_FORMAT_VERSION: u32 = 2;

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user, or tool results sent on the user's behalf.
    User,
    /// The model.
    Assistant,
}

/// One message of a conversation: a role and its content blocks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who wrote the message.
    pub role: Role,
    /// The content, in order.
    pub content: Vec<ContentBlock>,
}

impl Message {
    /// A user message holding one text block.
    pub fn user(text: impl Into<String>) -> Self {
        Self { role: Role::User, content: vec![ContentBlock::text(text)] }
    }

    /// An assistant message holding one text block.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self { role: Role::Assistant, content: vec![ContentBlock::text(text)] }
    }

    /// A message with the given role and blocks.
    pub fn new(role: Role, content: Vec<ContentBlock>) -> Self {
        Self { role, content }
    }

    /// The concatenated text of all text blocks.
    pub fn text(&self) -> String {
        blocks_text(&self.content)
    }

    /// The tool calls in this message, in order.
    pub fn tool_calls(&self) -> impl Iterator<Item = ToolCall<'_>> {
        self.content.iter().filter_map(|block| match block {
            ContentBlock::ToolUse { id, name, input } => Some(ToolCall { id, name, input }),
            _ => None,
        })
    }
}

/// The concatenated text of the text blocks among `blocks`.
pub(crate) fn blocks_text(blocks: &[ContentBlock]) -> String {
    let mut out = String::new();
    for block in blocks {
        if let ContentBlock::Text { text, .. } = block {
            out.push_str(text);
        }
    }
    out
}

/// A borrowed view of one `tool_use` block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ToolCall<'a> {
    /// The id the result must refer to.
    pub id: &'a str,
    /// The tool's name.
    pub name: &'a str,
    /// The arguments, as sent by the model.
    pub input: &'a Value,
}

/// One block of message content.
///
/// Blocks this crate does not know are kept verbatim in [`ContentBlock::Other`]
/// so they can be stored and sent back unchanged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    /// Plain text, with citations when the model cited documents.
    Text {
        /// The text.
        text: String,
        /// Citations, in the provider's shape.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        citations: Vec<Value>,
    },
    /// An image input.
    Image {
        /// Where the image bytes come from.
        source: MediaSource,
    },
    /// A document input (PDF or plain text).
    Document {
        /// Where the document comes from.
        source: MediaSource,
        /// A title shown to the model.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// Extra context about the document.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context: Option<String>,
        /// Citation settings, e.g. `{"enabled": true}`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        citations: Option<Value>,
    },
    /// A call of a client-side tool by the model.
    ToolUse {
        /// Id the result refers to.
        id: String,
        /// Tool name.
        name: String,
        /// Arguments (a JSON object).
        input: Value,
    },
    /// The result of a tool call.
    ToolResult {
        /// The id of the `ToolUse` block this answers (stored and sent as
        /// `tool_use_id`).
        #[serde(rename = "tool_use_id")]
        tool_call_id: String,
        /// The result.
        content: ToolResultContent,
        /// Whether the call failed.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
    },
    /// The model's visible reasoning, with the signature that must be sent back.
    Thinking {
        /// The reasoning text (may be empty when the display is omitted).
        thinking: String,
        /// Opaque signature.
        signature: String,
    },
    /// Reasoning the provider encrypted.
    RedactedThinking {
        /// Opaque data.
        data: String,
    },
    /// A call of a server-side tool (web search, code execution, ...).
    ServerToolUse {
        /// Id of the call.
        id: String,
        /// Tool name.
        name: String,
        /// Arguments.
        input: Value,
    },
    /// The result of a server-side tool; `kind` is its wire type, such as
    /// `web_search_tool_result`.
    #[serde(untagged)]
    ServerToolResult(ServerToolResult),
    /// Any block this crate does not know, kept verbatim.
    #[serde(untagged)]
    Other(Value),
}

impl ContentBlock {
    /// A text block without citations.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text { text: text.into(), citations: Vec::new() }
    }

    /// A tool result block.
    pub fn tool_result(tool_call_id: impl Into<String>, content: ToolResultContent, is_error: bool) -> Self {
        Self::ToolResult { tool_call_id: tool_call_id.into(), content, is_error }
    }
}

/// A server-side tool result block, such as `web_search_tool_result`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerToolResult {
    /// The wire type of the block; always ends in `_tool_result`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The id of the `ServerToolUse` block this answers (stored and sent as
    /// `tool_use_id`).
    #[serde(rename = "tool_use_id")]
    pub tool_call_id: String,
    /// The result, in the provider's shape.
    pub content: Value,
    /// Any further fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The source of an image or document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MediaSource {
    /// Inline base64 data.
    Base64 {
        /// MIME type, e.g. `image/png` or `application/pdf`.
        media_type: String,
        /// Base64-encoded bytes.
        data: String,
    },
    /// A URL the provider fetches.
    Url {
        /// The URL.
        url: String,
    },
    /// Inline plain text (documents only).
    Text {
        /// MIME type, normally `text/plain`.
        media_type: String,
        /// The text.
        data: String,
    },
    /// A file uploaded to the provider beforehand.
    File {
        /// Provider file id.
        file_id: String,
    },
}

/// The content of a tool result.
///
/// Persisted with an explicit type tag (`{"type": "text", "text": ..}`,
/// `{"type": "json", "value": ..}`, `{"type": "blocks", "blocks": [..]}`),
/// so a JSON array or string result keeps its type across a store round
/// trip. The untagged form of message format version 1 is still read.
#[derive(Clone, Debug, PartialEq)]
pub enum ToolResultContent {
    /// Plain text.
    Text(String),
    /// Content blocks (text, images, documents).
    Blocks(Vec<ContentBlock>),
    /// A JSON value; providers that take only text send it serialized.
    Json(Value),
}

impl Serialize for ToolResultContent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2))?;
        match self {
            Self::Text(text) => {
                map.serialize_entry("type", "text")?;
                map.serialize_entry("text", text)?;
            }
            Self::Json(value) => {
                map.serialize_entry("type", "json")?;
                map.serialize_entry("value", value)?;
            }
            Self::Blocks(blocks) => {
                map.serialize_entry("type", "blocks")?;
                map.serialize_entry("blocks", blocks)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ToolResultContent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        if let Value::Object(map) = &value
            && map.len() == 2
            && let Some(Value::String(tag)) = map.get("type")
        {
            match (tag.as_str(), map.get("text"), map.get("value"), map.get("blocks")) {
                ("text", Some(Value::String(text)), _, _) => return Ok(Self::Text(text.clone())),
                ("json", _, Some(inner), _) => return Ok(Self::Json(inner.clone())),
                ("blocks", _, _, Some(blocks @ Value::Array(_))) => {
                    return serde_json::from_value(blocks.clone()).map(Self::Blocks).map_err(serde::de::Error::custom);
                }
                _ => {}
            }
        }
        Ok(Self::from_untagged(value))
    }
}

impl ToolResultContent {
    /// Reads the untagged form of message format version 1: a string is
    /// text, an array of typed objects is blocks, anything else JSON.
    fn from_untagged(value: Value) -> Self {
        match value {
            Value::String(text) => Self::Text(text),
            Value::Array(items) if !items.is_empty() && items.iter().all(|item| item.get("type").is_some()) => {
                match serde_json::from_value(Value::Array(items.clone())) {
                    Ok(blocks) => Self::Blocks(blocks),
                    Err(_) => Self::Json(Value::Array(items)),
                }
            }
            other => Self::Json(other),
        }
    }

    /// The content as text: text as is, JSON serialized, blocks' text joined.
    pub fn to_text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Json(value) => value.to_string(),
            Self::Blocks(blocks) => blocks_text(blocks),
        }
    }
}

impl From<String> for ToolResultContent {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for ToolResultContent {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

/// Token usage of one model call, or summed over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens not read from or written to the cache.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens written to the prompt cache.
    #[serde(default)]
    pub cache_creation_input_tokens: u64,
    /// Input tokens read from the prompt cache.
    #[serde(default)]
    pub cache_read_input_tokens: u64,
}

impl Usage {
    /// All input tokens: uncached, cache writes and cache reads.
    pub fn total_input_tokens(&self) -> u64 {
        self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens
    }
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Self) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_creation_input_tokens += other.cache_creation_input_tokens;
        self.cache_read_input_tokens += other.cache_read_input_tokens;
    }
}

impl std::ops::Add for Usage {
    type Output = Self;
    fn add(mut self, other: Self) -> Self {
        self += other;
        self
    }
}

/// Why the model stopped.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StopReason {
    /// The model finished its turn.
    #[default]
    EndTurn,
    /// The model wants tool results.
    ToolUse,
    /// The output hit the `max_tokens` limit.
    MaxTokens,
    /// A stop sequence matched.
    StopSequence {
        /// The sequence that matched.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sequence: Option<String>,
    },
    /// The API paused a long turn; send the conversation back to resume it.
    PauseTurn,
    /// The model or a safety classifier declined the request.
    Refusal {
        /// Structured details; may be absent even on a refusal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        details: Option<StopDetails>,
    },
    /// The context window filled up.
    ModelContextWindowExceeded,
    /// A stop reason this crate does not know.
    Unknown {
        /// The provider's value.
        value: String,
    },
}

/// Structured details of a refusal (`stop_details`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StopDetails {
    /// Policy category (`cyber`, `bio`, `reasoning_extraction`), or none.
    #[serde(default)]
    pub category: Option<String>,
    /// Human-readable explanation, when given.
    #[serde(default)]
    pub explanation: Option<String>,
    /// Every other field (fallback credit token, recommended model, ...), verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A list of messages with the format version, as stores persist it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionedMessages {
    /// The format version the messages were written with.
    pub version: u32,
    /// The messages.
    pub messages: Vec<Message>,
}

impl VersionedMessages {
    /// Wraps messages in the current format version.
    pub fn current(messages: Vec<Message>) -> Self {
        Self { version: MESSAGE_FORMAT_VERSION, messages }
    }
}

//! The `Model` trait: one request to a language model, whole or streamed.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::message::{ContentBlock, Message, StopReason, Usage};
use crate::tool::ToolDef;

/// A language model the agent loop can call.
///
/// Implementations translate a [`ModelRequest`] to their wire format and back.
/// `stream` has a default that calls `request` and replays the response as
/// events, so a model that cannot stream only implements `request`.
///
/// # Example
///
/// ```
/// use agent_core::{Agent, ContentBlock, Model, ModelError, ModelRequest, ModelResponse};
///
/// /// Answers every request with the user's last words, reversed.
/// struct Mirror;
///
/// #[async_trait::async_trait]
/// impl Model for Mirror {
///     fn id(&self) -> &str {
///         "mirror-1"
///     }
///
///     fn provider(&self) -> &str {
///         "local"
///     }
///
///     async fn request(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
///         let text = request.messages.last().map(|message| message.text()).unwrap_or_default();
///         let content = vec![ContentBlock::text(text.chars().rev().collect::<String>())];
///         Ok(ModelResponse { model: self.id().into(), content, ..ModelResponse::default() })
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let agent = Agent::builder(Mirror).build()?;
/// let output = agent.run("stressed").await?;
/// assert_eq!((output.content.as_str(), output.model.as_str()), ("desserts", "mirror-1"));
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
#[async_trait]
pub trait Model: Send + Sync + 'static {
    /// The model id, such as `claude-opus-4-8`.
    fn id(&self) -> &str;

    /// The provider's name, such as `anthropic`.
    fn provider(&self) -> &str;

    /// The model's prices, when known; usage limits on cost need them.
    fn pricing(&self) -> Option<ModelPricing> {
        None
    }

    /// Sends one request and waits for the whole response.
    ///
    /// # Errors
    ///
    /// A [`ModelError`] when the request cannot be sent, the provider answers
    /// with an error, or the response cannot be decoded.
    async fn request(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError>;

    /// Sends one request and streams the response.
    ///
    /// The stream ends with [`ModelEvent::Completed`] carrying the whole
    /// response; an `Err` item ends it early.
    ///
    /// # Errors
    ///
    /// As for [`Model::request`], either before the stream starts or as an item.
    async fn stream(&self, request: &ModelRequest) -> Result<ModelEventStream, ModelError> {
        let response = self.request(request).await?;
        Ok(Box::pin(futures::stream::iter(response_events(response).into_iter().map(Ok))))
    }
}

/// A model's prices in US dollars per million tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelPricing {
    /// Uncached input tokens.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
    /// Input tokens written to the cache.
    pub cache_write: f64,
    /// Input tokens read from the cache.
    pub cache_read: f64,
}

impl ModelPricing {
    /// The cost of `usage` in US dollars.
    pub fn cost_usd(&self, usage: &Usage) -> f64 {
        (usage.input_tokens as f64 * self.input
            + usage.output_tokens as f64 * self.output
            + usage.cache_creation_input_tokens as f64 * self.cache_write
            + usage.cache_read_input_tokens as f64 * self.cache_read)
            / 1_000_000.0
    }
}

/// A stream of [`ModelEvent`]s.
pub type ModelEventStream = BoxStream<'static, Result<ModelEvent, ModelError>>;

/// Replays a whole response as the events a streaming model would have sent.
pub fn response_events(response: ModelResponse) -> Vec<ModelEvent> {
    let mut events = Vec::with_capacity(response.content.len() * 2 + 3);
    for (index, block) in response.content.iter().enumerate() {
        match block {
            ContentBlock::Text { text, .. } => events.push(ModelEvent::TextDelta { index, text: text.clone() }),
            ContentBlock::Thinking { thinking, .. } => {
                events.push(ModelEvent::ThinkingDelta { index, thinking: thinking.clone() })
            }
            ContentBlock::ToolUse { id, name, input } => {
                events.push(ModelEvent::ToolCallStart { index, id: id.clone(), name: name.clone() });
                events.push(ModelEvent::ToolCallDelta { index, partial_json: input.to_string() });
            }
            _ => {}
        }
        events.push(ModelEvent::BlockStop { index });
    }
    events.push(ModelEvent::Usage(response.usage));
    events.push(ModelEvent::StopReason(response.stop_reason.clone()));
    events.push(ModelEvent::Completed(response));
    events
}

/// Anything an agent accepts as its model: a model value or a shared `Arc`.
pub trait IntoModel {
    /// Converts into the shared form agents hold.
    fn into_model(self) -> Arc<dyn Model>;
}

impl<M: Model> IntoModel for M {
    fn into_model(self) -> Arc<dyn Model> {
        Arc::new(self)
    }
}

impl<M: Model + ?Sized> IntoModel for Arc<M> {
    fn into_model(self) -> Arc<dyn Model> {
        Arc::new(SharedModel(self))
    }
}

/// Adapts an `Arc<M>` (possibly unsized) to `Arc<dyn Model>`.
struct SharedModel<M: ?Sized>(Arc<M>);

#[async_trait]
impl<M: Model + ?Sized> Model for SharedModel<M> {
    fn id(&self) -> &str {
        self.0.id()
    }
    fn provider(&self) -> &str {
        self.0.provider()
    }
    fn pricing(&self) -> Option<ModelPricing> {
        self.0.pricing()
    }
    async fn request(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        self.0.request(request).await
    }
    async fn stream(&self, request: &ModelRequest) -> Result<ModelEventStream, ModelError> {
        self.0.stream(request).await
    }
}

/// One request to a model.
#[derive(Clone, Debug, Default)]
pub struct ModelRequest {
    /// Overrides the model id for this request. The loop sets it after a
    /// provider fell back to another model, so the rest of the run stays on the
    /// model that accepted.
    pub model: Option<String>,
    /// The system prompt.
    pub instructions: Option<String>,
    /// The conversation, oldest first.
    pub messages: Vec<Message>,
    /// The tools the model may call.
    pub tools: Arc<[Arc<ToolDef>]>,
    /// How the model must pick tools.
    pub tool_choice: Option<ToolChoice>,
    /// Forbid more than one tool call per turn.
    pub disable_parallel_tool_use: bool,
    /// Upper bound on output tokens; the provider picks a default when unset.
    pub max_tokens: Option<u32>,
    /// A JSON schema the final answer must follow (structured output).
    pub output_schema: Option<Value>,
    /// Provider-specific settings, passed through as given (for Claude, e.g.
    /// `temperature`, `thinking`, `metadata`).
    pub options: Map<String, Value>,
    /// The request resumes a turn the provider paused (`pause_turn`): the
    /// trailing assistant message is that paused turn, sent back unchanged so
    /// the provider continues it. The loop sets it; providers whose rules
    /// refuse a trailing assistant message (prefill) let this one through.
    pub resume: bool,
}

/// How the model must pick tools.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must call some tool.
    Any,
    /// The model must call this tool.
    Tool {
        /// The tool's name.
        name: String,
    },
    /// The model must not call tools.
    None,
}

/// A whole model response.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelResponse {
    /// The provider's message id.
    #[serde(default)]
    pub id: Option<String>,
    /// The provider's id of the HTTP request that produced this response
    /// (Claude's `request-id` header), for support requests and logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The model that answered (may differ from the one asked, after a fallback).
    #[serde(default)]
    pub model: String,
    /// The content blocks.
    pub content: Vec<ContentBlock>,
    /// Why the model stopped.
    pub stop_reason: StopReason,
    /// Token usage of this call.
    pub usage: Usage,
    /// Set when a provider-side fallback chain answered on another model than
    /// the one asked; the loop sends later turns of the run to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_model: Option<String>,
    /// Tool calls whose arguments were not valid JSON. Their `ToolUse` block
    /// holds an empty object; the loop answers them with a retryable error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_input_errors: Vec<ToolInputError>,
}

/// A tool call whose arguments could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInputError {
    /// The id of the `ToolUse` block.
    pub tool_call_id: String,
    /// The raw argument text the model sent.
    pub raw: String,
    /// The parser's message.
    pub message: String,
}

/// One event of a streamed model response.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelEvent {
    /// Text was appended to block `index`.
    TextDelta {
        /// Block index.
        index: usize,
        /// The new text.
        text: String,
    },
    /// Reasoning text was appended to block `index`.
    ThinkingDelta {
        /// Block index.
        index: usize,
        /// The new reasoning text.
        thinking: String,
    },
    /// A tool call started at block `index`.
    ToolCallStart {
        /// Block index.
        index: usize,
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
    },
    /// A fragment of a tool call's JSON arguments.
    ToolCallDelta {
        /// Block index.
        index: usize,
        /// The fragment.
        partial_json: String,
    },
    /// Block `index` is complete.
    BlockStop {
        /// Block index.
        index: usize,
    },
    /// Usage so far.
    Usage(Usage),
    /// Why the model stopped.
    StopReason(StopReason),
    /// The provider switched to the fallback model `model` (after a refusal)
    /// within this stream. Output streamed before it belongs to the declined
    /// attempt and is not part of the response; the fallback model's events
    /// follow, and [`ModelEvent::Completed`] carries its answer.
    Fallback {
        /// The model that continues the stream.
        model: String,
    },
    /// The whole response; always the last event of a successful stream.
    Completed(ModelResponse),
}

/// What went wrong talking to a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ModelErrorKind {
    /// The request was rejected before it was sent (a rule of the API).
    InvalidRequest,
    /// Credentials missing or rejected.
    Authentication,
    /// The provider returned an HTTP error.
    Api,
    /// Rate limited.
    RateLimited,
    /// The provider is overloaded.
    Overloaded,
    /// Connecting or sending failed.
    Connection,
    /// The request timed out.
    Timeout,
    /// The response could not be decoded.
    Decode,
    /// The stream broke off or carried an error event.
    Stream,
    /// Anything else.
    Other,
}

/// An error from a model provider, keeping what the caller needs to react.
///
/// Its text is the message, followed by ` (request id ...)` when the
/// provider gave a request id the message does not already name.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}{}", self.request_id_note())]
pub struct ModelError {
    /// The kind of failure.
    pub kind: ModelErrorKind,
    /// Human-readable message.
    pub message: String,
    /// HTTP status, when there was a response.
    pub status: Option<u16>,
    /// The API's error type, such as `overloaded_error`.
    pub error_type: Option<String>,
    /// The provider's request id.
    pub request_id: Option<String>,
    /// How long the provider asked us to wait.
    pub retry_after: Option<Duration>,
    /// Whether retrying the same request may succeed.
    pub retryable: bool,
}

impl ModelError {
    /// ` (request id ...)`, unless there is none or the message has it.
    fn request_id_note(&self) -> String {
        match &self.request_id {
            Some(id) if !self.message.contains(id.as_str()) => format!(" (request id {id})"),
            _ => String::new(),
        }
    }

    /// An error of the given kind with a message and nothing else.
    pub fn new(kind: ModelErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            status: None,
            error_type: None,
            request_id: None,
            retry_after: None,
            retryable: false,
        }
    }
}

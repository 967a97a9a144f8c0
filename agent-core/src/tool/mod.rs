//! Tools: what the model can call, and how a call is answered.

pub(crate) mod constraints;
mod function;
pub(crate) mod schema;
mod toolkit;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::RunContext;
use crate::message::{ContentBlock, ToolResultContent};

pub use function::FnTool;
pub use toolkit::{IntoToolkit, Toolkit};

/// A tool the model can call.
///
/// Most tools are written with [`#[tool]`](macro@crate::tool) on a plain function;
/// [`FnTool`] builds one from a closure. Implement the trait by hand for full
/// control.
///
/// `D` is the agent's dependency type, reached through [`RunContext::deps`].
/// A tool that needs no dependencies implements `Tool<D>` for every `D`.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
///
/// use agent_core::testing::{ScriptedModel, Turn};
/// use agent_core::{Agent, RunContext, Tool, ToolDef, ToolError, ToolOutput};
/// use serde_json::{Value, json};
///
/// /// Reads a counter from the agent's dependencies.
/// struct Counter;
///
/// #[async_trait::async_trait]
/// impl Tool<u64> for Counter {
///     fn def(&self) -> Arc<ToolDef> {
///         Arc::new(ToolDef::new("counter", "The current count.", json!({"type": "object", "properties": {}})))
///     }
///
///     async fn call(&self, ctx: &RunContext<u64>, _input: Value) -> Result<ToolOutput, ToolError> {
///         Ok(ToolOutput::text(ctx.deps().to_string()))
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let model = ScriptedModel::new([Turn::tool_call("c1", "counter", json!({})), Turn::text("The count is 41.")]);
/// let agent = Agent::with_deps(model, 41_u64).tool(Counter).build()?;
/// let output = agent.run("Count?").await?;
/// assert_eq!(output.tools[0].result.as_deref(), Some("41"));
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
#[async_trait]
pub trait Tool<D = ()>: Send + Sync + 'static {
    /// The definition sent to the model, computed once per tool.
    fn def(&self) -> Arc<ToolDef>;

    /// Runs the tool on the model's arguments.
    ///
    /// # Errors
    ///
    /// [`ToolError::Retry`] sends the message back to the model as an
    /// `is_error` result (counted against the retry budget);
    /// [`ToolError::Fatal`] stops the run.
    async fn call(&self, ctx: &RunContext<D>, input: Value) -> Result<ToolOutput, ToolError>;
}

/// A shared tool is a tool: builders take `Arc`s as they take values.
#[async_trait]
impl<D: Send + Sync + 'static, T: Tool<D> + ?Sized> Tool<D> for Arc<T> {
    fn def(&self) -> Arc<ToolDef> {
        (**self).def()
    }

    async fn call(&self, ctx: &RunContext<D>, input: Value) -> Result<ToolOutput, ToolError> {
        (**self).call(ctx, input).await
    }
}

/// The definition of a tool: what the model sees, and how the loop runs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolDef {
    /// The name the model calls the tool by.
    pub name: String,
    /// What the tool does, for the model.
    pub description: String,
    /// JSON schema of the arguments; the root is an object schema.
    pub input_schema: Value,
    /// Ask the provider to guarantee arguments match the schema (Claude strict tool use).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strict: bool,
    /// The run pauses for the user's approval before each call.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requires_confirmation: bool,
    /// The run pauses and the caller executes the tool and supplies the result.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external_execution: bool,
    /// Time limit for one call; the agent's default applies when unset.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "duration_millis")]
    pub timeout: Option<Duration>,
    /// Identical calls within one run reuse the first result.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cache_results: bool,
    /// The run ends after a successful call of this tool, with the tool's
    /// result as the answer (the model is not called again).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stop_after_call: bool,
    /// A provider-defined tool (such as Claude's `{"type": "memory_20250818",
    /// "name": "memory"}`): providers send this instead of name, description
    /// and schema. The loop still runs the tool client-side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_spec: Option<Value>,
}

impl ToolDef {
    /// A definition with the given name, description and argument schema, and
    /// default settings.
    pub fn new(name: impl Into<String>, description: impl Into<String>, input_schema: Value) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema,
            strict: false,
            requires_confirmation: false,
            external_execution: false,
            timeout: None,
            cache_results: false,
            stop_after_call: false,
            provider_spec: None,
        }
    }

    /// Sets [`ToolDef::strict`].
    #[must_use]
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Sets [`ToolDef::requires_confirmation`].
    #[must_use]
    pub fn requires_confirmation(mut self, yes: bool) -> Self {
        self.requires_confirmation = yes;
        self
    }

    /// Sets [`ToolDef::external_execution`].
    #[must_use]
    pub fn external_execution(mut self, yes: bool) -> Self {
        self.external_execution = yes;
        self
    }

    /// Sets [`ToolDef::timeout`].
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets [`ToolDef::stop_after_call`].
    #[must_use]
    pub fn stop_after_call(mut self, yes: bool) -> Self {
        self.stop_after_call = yes;
        self
    }

    /// Sets [`ToolDef::cache_results`].
    #[must_use]
    pub fn cache_results(mut self, yes: bool) -> Self {
        self.cache_results = yes;
        self
    }
}

mod duration_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &Option<Duration>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => serializer.serialize_some(&(duration.as_millis() as u64)),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(deserializer)?.map(Duration::from_millis))
    }
}

/// What a tool returns on success.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolOutput {
    /// The result content sent back to the model.
    pub content: ToolResultContent,
}

impl ToolOutput {
    /// A text result.
    pub fn text(text: impl Into<String>) -> Self {
        Self { content: ToolResultContent::Text(text.into()) }
    }

    /// A JSON result.
    pub fn json(value: Value) -> Self {
        Self { content: ToolResultContent::Json(value) }
    }

    /// A result made of content blocks (text, images, documents).
    pub fn blocks(blocks: Vec<ContentBlock>) -> Self {
        Self { content: ToolResultContent::Blocks(blocks) }
    }

    /// Converts any serializable value: strings become text, everything else JSON.
    ///
    /// # Errors
    ///
    /// A fatal [`ToolError`] when the value cannot be serialized.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, ToolError> {
        match serde_json::to_value(value) {
            Ok(Value::String(text)) => Ok(Self::text(text)),
            Ok(value) => Ok(Self::json(value)),
            Err(err) => Err(ToolError::fatal(format!("tool output could not be serialized: {err}"))),
        }
    }
}

/// Why a tool call failed.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The model should try again: the message goes back as an `is_error`
    /// result and counts against the tool's retry budget.
    #[error("{0}")]
    Retry(String),
    /// The run cannot go on: it stops with
    /// [`Error::ToolFailed`](crate::Error::ToolFailed), whose source is this
    /// error. Build it with [`ToolError::fatal`] from a message or
    /// [`ToolError::fatal_error`] from your own error.
    #[error("{0}")]
    Fatal(crate::error::BoxError),
    /// The tool cannot finish without the user (a team member waiting for a
    /// confirmation, for example): the run pauses with this call pending
    /// ([`PendingKind::Deferred`](crate::PendingKind::Deferred)), carrying
    /// the payload the tool needs to resume.
    #[error("the tool paused the run")]
    Pause(serde_json::Value),
}

/// Fatal errors compare by their message.
impl PartialEq for ToolError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Retry(a), Self::Retry(b)) => a == b,
            (Self::Fatal(a), Self::Fatal(b)) => a.to_string() == b.to_string(),
            (Self::Pause(a), Self::Pause(b)) => a == b,
            _ => false,
        }
    }
}

impl ToolError {
    /// A retryable error.
    pub fn retry(message: impl Into<String>) -> Self {
        Self::Retry(message.into())
    }

    /// A fatal error with a message.
    pub fn fatal(message: impl Into<String>) -> Self {
        Self::Fatal(message.into().into())
    }

    /// A fatal error that keeps your error as the run error's source, so
    /// callers can downcast to it.
    pub fn fatal_error(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Fatal(Box::new(error))
    }

    /// The error for arguments that do not match the tool's parameters.
    pub fn invalid_arguments(err: impl std::fmt::Display) -> Self {
        Self::Retry(format!("invalid arguments: {err}. Fix the arguments and call the tool again."))
    }
}

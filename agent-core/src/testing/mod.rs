//! Models for testing agents offline (feature `testing`).
//!
//! - [`TestModel`] calls every tool once with arguments that match its schema,
//!   then answers (with schema-valid JSON when structured output is asked).
//! - [`FunctionModel`] answers with a closure you write.
//! - [`ScriptedModel`] plays a list of responses in order and reports calls
//!   that were not expected or expected calls that never came.

mod function;
mod sample;
mod scripted;
mod test_model;

pub use function::FunctionModel;
pub use sample::sample_value;
pub use scripted::{ScriptedModel, Turn};
pub use test_model::TestModel;

use serde_json::Value;

use crate::message::{ContentBlock, StopReason, Usage};
use crate::model::ModelResponse;

/// A response holding one text block, stopping with `end_turn`.
pub fn text_response(text: impl Into<String>) -> ModelResponse {
    ModelResponse {
        id: None,
        model: String::new(),
        content: vec![ContentBlock::text(text)],
        stop_reason: StopReason::EndTurn,
        usage: Usage { input_tokens: 10, output_tokens: 5, ..Usage::default() },
        fallback_model: None,
        tool_input_errors: Vec::new(),
        request_id: None,
    }
}

/// A response calling tools, stopping with `tool_use`. Each call is
/// `(id, name, arguments)`.
pub fn tool_calls_response<'a>(calls: impl IntoIterator<Item = (&'a str, &'a str, Value)>) -> ModelResponse {
    ModelResponse {
        content: calls
            .into_iter()
            .map(|(id, name, input)| ContentBlock::ToolUse { id: id.to_owned(), name: name.to_owned(), input })
            .collect(),
        stop_reason: StopReason::ToolUse,
        ..text_response("")
    }
}

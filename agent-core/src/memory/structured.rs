//! One structured-output request to a model and the parse of its JSON answer.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::message::{ContentBlock, Message};
use crate::model::{Model, ModelRequest};
use crate::tool::schema::schema_for;

/// Sends `instructions` and `messages` with `T`'s schema as the output format
/// and parses the answer's final text as `T`.
///
/// # Errors
///
/// [`Error::Model`] when the call fails; [`Error::OutputValidation`] when the
/// answer is not JSON of the expected shape.
pub(crate) async fn ask<T: DeserializeOwned + JsonSchema>(
    model: &dyn Model,
    instructions: String,
    messages: Vec<Message>,
) -> Result<T> {
    let request = ModelRequest {
        instructions: Some(instructions),
        messages,
        output_schema: Some(schema_for::<T>()),
        ..ModelRequest::default()
    };
    let response = model.request(&request).await?;
    let text = response
        .content
        .iter()
        .rev()
        .find_map(|block| match block {
            ContentBlock::Text { text, .. } if !text.trim().is_empty() => Some(text.as_str()),
            _ => None,
        })
        .unwrap_or_default();
    parse_json(text)
}

/// Parses a JSON answer, tolerating a Markdown code fence around it.
pub(super) fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T> {
    crate::agent::structured::parse_answer(text).map_err(|err| Error::OutputValidation {
        attempts: 1,
        message: format!("the model's answer is not the JSON asked for: {err}"),
        partial: Box::default(),
    })
}

/// Renders messages as a plain transcript for a model to read.
pub(super) fn transcript(messages: &[Message]) -> String {
    let mut out = String::new();
    for message in messages {
        let text = message.text();
        if text.trim().is_empty() {
            continue;
        }
        let role = match message.role {
            crate::message::Role::User => "user",
            crate::message::Role::Assistant => "assistant",
        };
        out.push_str(role);
        out.push_str(": ");
        out.push_str(text.trim());
        out.push('\n');
    }
    out
}

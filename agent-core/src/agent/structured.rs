//! Typed structured output: a schema for the model and a check of its answer.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::tool::schema::schema_for;

/// Checks an answer's text, returning the reason when it is wrong.
pub(crate) type Validate = dyn Fn(&str) -> Result<(), String> + Send + Sync;

/// The schema sent to the model and the check of its answer.
pub(crate) struct Structured {
    pub(crate) schema: Value,
    pub(crate) validate: Box<Validate>,
}

impl Structured {
    /// `T`'s full schema, and a check that the answer parses as `T` and keeps
    /// every constraint of the schema (ranges, lengths, integer formats) —
    /// providers may send a reduced schema, so the model's answer is only
    /// guaranteed to match that one.
    pub(crate) fn of<T: DeserializeOwned + JsonSchema>() -> Self {
        let schema = schema_for::<T>();
        let full = schema.clone();
        Self {
            schema,
            validate: Box::new(move |text| {
                let value: Value = parse_answer(text).map_err(|err| err.to_string())?;
                crate::tool::constraints::check(&full, &value)?;
                T::deserialize(&value).map(drop).map_err(|err| err.to_string())
            }),
        }
    }
}

/// Parses a JSON answer, tolerating a Markdown code fence around it.
pub(crate) fn parse_answer<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    let trimmed = text.trim();
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.strip_suffix("```"))
        .map_or(trimmed, str::trim);
    serde_json::from_str(unfenced)
}

/// Parses a run's content: text is parsed as a JSON answer, other JSON
/// converted directly.
pub(crate) fn parse_content<T: DeserializeOwned>(content: &Value) -> Result<T, String> {
    match content {
        Value::String(text) => parse_answer(text),
        other => T::deserialize(other),
    }
    .map_err(|err| err.to_string())
}

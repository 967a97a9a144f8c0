//! Typed structured output: a schema for the model and a parse of its answer.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Agent, RunInput, RunOptions};
use crate::error::{Error, Result};
use crate::output::TypedRunOutput;
use crate::tool::schema::schema_for;

/// Checks an answer's text, returning the parser's message when it is wrong.
pub(crate) type Validate = dyn Fn(&str) -> Result<(), String> + Send + Sync;

/// The schema sent to the model and the check of its answer.
pub(crate) struct Structured {
    pub(crate) schema: Value,
    pub(crate) validate: Box<Validate>,
}

impl Structured {
    pub(crate) fn of<T: DeserializeOwned + JsonSchema>() -> Self {
        Self {
            schema: schema_for::<T>(),
            validate: Box::new(|text| parse_answer::<T>(text).map(drop).map_err(|err| err.to_string())),
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

impl<D: Send + Sync + 'static> Agent<D> {
    /// Runs the agent and parses its answer into `T`.
    ///
    /// The model is given `T`'s JSON schema as the output format; an answer
    /// that does not parse is sent back with the parser's message, up to
    /// `max_output_retries` times.
    ///
    /// # Errors
    ///
    /// As for [`Agent::run`]; [`Error::OutputValidation`] when no answer
    /// parsed; [`Error::Continue`] when the run paused (use
    /// [`Agent::run_with`] for tools that need confirmation).
    pub async fn run_typed<T: DeserializeOwned + JsonSchema>(
        &self,
        input: impl Into<RunInput>,
    ) -> Result<TypedRunOutput<T>> {
        self.run_typed_with(input, RunOptions::new()).await
    }

    /// [`Agent::run_typed`] with per-run options.
    ///
    /// # Errors
    ///
    /// As for [`Agent::run_typed`].
    pub async fn run_typed_with<T: DeserializeOwned + JsonSchema>(
        &self,
        input: impl Into<RunInput>,
        options: RunOptions<D>,
    ) -> Result<TypedRunOutput<T>> {
        let structured = Structured::of::<T>();
        let run = self.start(input.into(), options, None, Some(&structured)).await?;
        if run.is_paused() {
            return Err(Error::Continue("the run paused for tool decisions; typed runs cannot pause".into()));
        }
        let output = parse_answer::<T>(&run.content)
            .map_err(|err| Error::OutputValidation { attempts: 1, message: err.to_string() })?;
        Ok(TypedRunOutput { output, run })
    }
}

//! `TestModel`: calls every tool with schema-valid arguments, then answers.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::{sample_value, text_response, tool_calls_response};
use crate::message::{ContentBlock, Role};
use crate::model::{Model, ModelError, ModelRequest, ModelResponse};

/// A model that, on the first turn, calls every tool once with arguments
/// generated from its schema, and then answers with the tool results as JSON
/// (or with its fixed text, or with a sample of the output schema when the
/// run asks for structured output).
#[derive(Debug, Default)]
pub struct TestModel {
    only_tools: Option<Vec<String>>,
    answer: Option<String>,
    calls: AtomicUsize,
}

impl TestModel {
    /// A model that calls every tool.
    pub fn new() -> Self {
        Self::default()
    }

    /// Call only these tools (in this order).
    #[must_use]
    pub fn call_tools<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.only_tools = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Answer with this text instead of the tool results.
    #[must_use]
    pub fn answer(mut self, text: impl Into<String>) -> Self {
        self.answer = Some(text.into());
        self
    }

    /// How many requests the model has answered.
    pub fn requests(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl Model for TestModel {
    fn id(&self) -> &str {
        "test"
    }

    fn provider(&self) -> &str {
        "test"
    }

    async fn request(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        let last = request.messages.last();
        let answering_tools = last.is_some_and(|message| {
            message.role == Role::User
                && message.content.iter().any(|block| matches!(block, ContentBlock::ToolResult { .. }))
        });
        if !answering_tools && !request.tools.is_empty() {
            let wanted: Vec<_> = request
                .tools
                .iter()
                .filter(|def| self.only_tools.as_ref().is_none_or(|names| names.contains(&def.name)))
                .collect();
            if !wanted.is_empty() {
                let ids: Vec<String> = (0..wanted.len()).map(|i| format!("call_{call}_{i}")).collect();
                return Ok(tool_calls_response(
                    wanted
                        .iter()
                        .zip(&ids)
                        .map(|(def, id)| (id.as_str(), def.name.as_str(), sample_value(&def.input_schema))),
                ));
            }
        }
        if let Some(schema) = &request.output_schema {
            return Ok(text_response(sample_value(schema).to_string()));
        }
        if let Some(answer) = &self.answer {
            return Ok(text_response(answer.clone()));
        }
        let mut results = Map::new();
        if let Some(message) = last.filter(|_| answering_tools) {
            let assistant = request.messages.iter().rev().nth(1);
            for block in &message.content {
                if let ContentBlock::ToolResult { tool_call_id, content, .. } = block {
                    let name = assistant
                        .and_then(|m| m.tool_calls().find(|call| call.id == tool_call_id).map(|call| call.name))
                        .unwrap_or(tool_call_id);
                    results.insert(name.to_owned(), Value::String(content.to_text()));
                }
            }
        }
        Ok(text_response(if results.is_empty() { "success".to_owned() } else { Value::Object(results).to_string() }))
    }
}

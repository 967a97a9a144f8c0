//! `SessionSummarizer`: a model-written summary of a session, refreshed as it grows.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;

use super::structured::{ask, transcript};
use crate::error::Result;
use crate::message::Message;
use crate::model::Model;
use crate::session::{SessionSummary, unix_now};

const DEFAULT_INSTRUCTIONS: &str = "You summarize conversations between a user and an assistant. \
Write a concise summary of what was discussed, decided and still open, keeping facts the \
assistant needs to continue the conversation without the full transcript. List the topics \
discussed as short lowercase phrases. Answer with JSON only.";

/// The answer the summarizing model gives.
#[derive(Debug, Deserialize, JsonSchema)]
struct SummaryAnswer {
    /// The summary of the conversation so far.
    summary: String,
    /// Topics discussed, as short lowercase phrases.
    #[serde(default)]
    topics: Vec<String>,
}

/// Writes session summaries with a model.
///
/// The agent refreshes the summary after runs and, when configured, sends it
/// in place of old history.
///
/// # Example
///
/// ```
/// use agent_core::memory::SessionSummarizer;
/// use agent_core::testing::{FunctionModel, text_response};
/// use agent_core::Message;
///
/// # tokio_test_block_on(async {
/// let model = FunctionModel::new(|_| Ok(text_response(r#"{"summary": "Talked about tea.", "topics": ["tea"]}"#)));
/// let summarizer = SessionSummarizer::new(std::sync::Arc::new(model));
/// let summary = summarizer.summarize(None, &[Message::user("I like green tea")]).await?;
/// assert_eq!(summary.topics, ["tea"]);
/// # Ok::<_, agent_core::Error>(())
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone)]
pub struct SessionSummarizer {
    model: Arc<dyn Model>,
    instructions: String,
}

impl std::fmt::Debug for SessionSummarizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSummarizer").field("model", &self.model.id()).finish_non_exhaustive()
    }
}

impl SessionSummarizer {
    /// A summarizer using `model`.
    pub fn new(model: Arc<dyn Model>) -> Self {
        Self { model, instructions: DEFAULT_INSTRUCTIONS.to_owned() }
    }

    /// Replaces the instructions given to the model.
    #[must_use]
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = instructions.into();
        self
    }

    /// The model it uses.
    pub fn model(&self) -> &Arc<dyn Model> {
        &self.model
    }

    /// A summary of the session: the previous summary (if any) extended with
    /// `messages`, the messages added since it was written.
    ///
    /// # Errors
    ///
    /// [`Error::Model`](crate::Error::Model) when the model call fails;
    /// [`Error::OutputValidation`](crate::Error::OutputValidation) when the
    /// answer is not the JSON asked for.
    pub async fn summarize(&self, previous: Option<&SessionSummary>, messages: &[Message]) -> Result<SessionSummary> {
        let mut prompt = String::new();
        if let Some(previous) = previous {
            prompt.push_str("The summary of the conversation so far:\n<summary>\n");
            prompt.push_str(&previous.summary);
            prompt.push_str("\n</summary>\n\nUpdate it with the messages since then:\n");
        } else {
            prompt.push_str("Summarize this conversation:\n");
        }
        prompt.push_str("<conversation>\n");
        prompt.push_str(&transcript(messages));
        prompt.push_str("</conversation>");
        let answer: SummaryAnswer = ask(&*self.model, self.instructions.clone(), vec![Message::user(prompt)]).await?;
        Ok(SessionSummary { summary: answer.summary, topics: answer.topics, updated_at: unix_now() })
    }
}

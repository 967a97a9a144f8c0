//! The demo brain as an offline `Model`: core requests in, core responses out, no network.

use agent_core::testing::FunctionModel;
use agent_core::{ContentBlock, Message, ModelRequest, ModelResponse, Role, StopReason, Usage};

use super::brain::{Answer, Conversation, LastTurn, ToolOutcome, decide};

/// The model id the offline brain reports.
pub const OFFLINE_MODEL_ID: &str = "demo-brain";

/// A model answering every request with [`decide`].
///
/// # Example
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use agent_core::{Message, Model, ModelRequest};
///
/// let model = examples::demo::offline_model();
/// let request = ModelRequest { messages: vec![Message::user("Hello")], ..Default::default() };
/// assert_eq!(model.request(&request).await?.content, vec![agent_core::ContentBlock::text("You said: Hello")]);
/// # Ok::<_, agent_core::ModelError>(()) }).unwrap();
/// ```
pub fn offline_model() -> FunctionModel {
    FunctionModel::new(|request| Ok(respond(request))).with_id(OFFLINE_MODEL_ID)
}

/// The brain's answer to `request` as a core response.
pub fn respond(request: &ModelRequest) -> ModelResponse {
    let conversation = conversation(request);
    let (content, stop_reason) = match decide(&conversation) {
        Answer::Text(text) => (vec![ContentBlock::text(text)], StopReason::EndTurn),
        Answer::Call { note, id, name, input } => {
            (vec![ContentBlock::text(note), ContentBlock::ToolUse { id, name, input }], StopReason::ToolUse)
        }
    };
    let input_tokens = request.messages.iter().map(|message| message.text().len() / 4 + 1).sum::<usize>() as u64;
    let output_tokens = content.len() as u64 * 8;
    ModelResponse {
        model: OFFLINE_MODEL_ID.to_owned(),
        content,
        stop_reason,
        usage: Usage { input_tokens, output_tokens, ..Usage::default() },
        ..ModelResponse::default()
    }
}

/// What the brain sees of a core request.
fn conversation(request: &ModelRequest) -> Conversation {
    Conversation {
        system: request.instructions.clone().unwrap_or_default(),
        tools: request.tools.iter().map(|tool| tool.name.clone()).collect(),
        last: request
            .messages
            .iter()
            .rev()
            .find(|message| message.role == Role::User)
            .map(last_turn)
            .unwrap_or_default(),
        messages: request.messages.len(),
        output_schema: request.output_schema.clone(),
    }
}

fn last_turn(message: &Message) -> LastTurn {
    let results: Vec<ToolOutcome> = message
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::ToolResult { content, is_error, .. } => {
                Some(ToolOutcome { text: content.to_text(), is_error: *is_error })
            }
            _ => None,
        })
        .collect();
    if results.is_empty() { LastTurn::Prompt(message.text()) } else { LastTurn::ToolResults(results) }
}

//! Quickstart: an agent with one tool. Runs on Claude when ANTHROPIC_API_KEY
//! is set, on an offline model otherwise.
//!
//! ```text
//! cargo run --example quickstart -- "What's the weather in Lisbon?"
//! ```

use std::sync::Arc;

use agent_core::testing::{FunctionModel, text_response, tool_calls_response};
use agent_core::{Agent, ContentBlock, Model, Role, tool};

/// Get the current weather in a city.
///
/// # Arguments
///
/// * `city` - The city's name, such as "Paris".
#[tool]
async fn get_weather(city: String) -> String {
    // A real tool would call a weather API here.
    let temperature = 12 + city.len() % 15;
    format!("{city}: {temperature}°C, light wind, no rain")
}

/// Offline stand-in for Claude: calls `get_weather` for the last capitalized
/// word of the question, then answers from the tool's result.
fn offline_model() -> Arc<dyn Model> {
    Arc::new(FunctionModel::new(|request| {
        let last = request.messages.last().map(|m| (m.role, m.content.clone()));
        match last {
            Some((Role::User, content)) if content.iter().any(|b| matches!(b, ContentBlock::ToolResult { .. })) => {
                let result = content.iter().find_map(|b| match b {
                    ContentBlock::ToolResult { content, .. } => Some(content.to_text()),
                    _ => None,
                });
                Ok(text_response(format!("Here is the weather: {}", result.unwrap_or_default())))
            }
            _ => {
                let question = request.messages.last().map(|m| m.text()).unwrap_or_default();
                let city = question
                    .split(|c: char| !c.is_alphabetic())
                    .rfind(|word| word.chars().next().is_some_and(char::is_uppercase))
                    .unwrap_or("Paris")
                    .to_owned();
                Ok(tool_calls_response([("call_1", "get_weather", serde_json::json!({ "city": city }))]))
            }
        }
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let prompt = std::env::args().nth(1).unwrap_or_else(|| "What's the weather in Paris?".to_owned());
    let model = examples::claude_or_offline(offline_model)?;
    let agent = Agent::builder(model)
        .instructions("You are a concise assistant. Use tools to answer questions about the weather.")
        .tool(GetWeather)
        .build()?;
    let output = agent.run(prompt).await?;
    println!("{}", output.content);
    if output.is_truncated() {
        eprintln!("warning: the answer was cut off at the output token limit; raise it with .max_tokens(..)");
    }
    eprintln!(
        "[{} model turns, {} tool calls, {} input + {} output tokens, model {}]",
        output.metrics.turns,
        output.tools.len(),
        output.usage.input_tokens,
        output.usage.output_tokens,
        output.model
    );
    Ok(())
}

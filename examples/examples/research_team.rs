//! A team that researches and writes: a coordinator delegates research to one
//! member and writing to another, then hands back the article. Runs on Claude
//! when ANTHROPIC_API_KEY is set, on offline models otherwise.
//!
//! ```text
//! cargo run --example research_team -- "Why is the sky blue?"
//! ```

use std::sync::Arc;

use agent_core::testing::{FunctionModel, text_response, tool_calls_response};
use agent_core::{Agent, ContentBlock, Model, RunEventKind, Team, TeamMode, tool};
use futures::StreamExt;

/// Look up notes on a topic in the team's library.
///
/// # Arguments
///
/// * `topic` - What to look up.
#[tool]
fn search_notes(topic: String) -> Vec<String> {
    vec![
        format!("{topic}: Rayleigh scattering makes short wavelengths scatter more."),
        format!("{topic}: The effect scales with the inverse fourth power of the wavelength."),
    ]
}

fn offline_leader() -> Arc<dyn Model> {
    Arc::new(FunctionModel::new(|request| {
        let delegated =
            request.messages.iter().filter(|m| m.content.iter().any(|b| matches!(b, ContentBlock::ToolResult { .. })));
        match delegated.count() {
            0 => Ok(tool_calls_response([(
                "d1",
                "delegate_task_to_member",
                serde_json::json!({"member_id": "researcher", "task": request.messages[0].text()}),
            )])),
            1 => {
                let notes = request.messages.last().map(|m| m.content.clone()).unwrap_or_default();
                let notes = notes.iter().map(|b| match b {
                    ContentBlock::ToolResult { content, .. } => content.to_text(),
                    _ => String::new(),
                });
                Ok(tool_calls_response([(
                    "d2",
                    "delegate_task_to_member",
                    serde_json::json!({"member_id": "writer", "task": format!("Write it up: {}", notes.collect::<String>())}),
                )]))
            }
            _ => Ok(text_response(
                request
                    .messages
                    .last()
                    .map(|m| m.content.clone())
                    .unwrap_or_default()
                    .iter()
                    .map(|b| match b {
                        ContentBlock::ToolResult { content, .. } => content.to_text(),
                        _ => String::new(),
                    })
                    .collect::<String>(),
            )),
        }
    }))
}

fn offline_member(answer: fn(&str) -> String) -> Arc<dyn Model> {
    Arc::new(FunctionModel::new(move |request| {
        Ok(text_response(answer(&request.messages.last().map(|m| m.text()).unwrap_or_default())))
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let topic = std::env::args().nth(1).unwrap_or_else(|| "Why is the sky blue?".to_owned());
    let researcher = Agent::builder(examples::claude_or_offline(|| {
        offline_member(|task| format!("Notes on '{task}': sunlight scatters off air molecules; blue scatters most."))
    })?)
    .id("researcher")
    .description("Finds facts with the search_notes tool and reports them as short notes.")
    .instructions("Research the task with search_notes and answer with short factual notes.")
    .tool(SearchNotes)
    .build()?;
    let writer = Agent::builder(examples::claude_or_offline(|| {
        offline_member(|task| format!("ARTICLE\n\n{}", task.trim_start_matches("Write it up: ")))
    })?)
    .id("writer")
    .description("Turns notes into a short, clear article.")
    .instructions("Write a short article (under 150 words) from the notes you are given.")
    .build()?;
    let team = Team::builder(examples::claude_or_offline(offline_leader)?)
        .id("research-team")
        .mode(TeamMode::Coordinate)
        .instructions("First have the researcher gather notes, then have the writer write the article from them. Reply with the article.")
        .member(researcher)
        .member(writer)
        .build()?;

    let mut stream = team.run(topic).stream();
    while let Some(event) = stream.next().await {
        match &event.kind {
            RunEventKind::ToolCallStarted { tool } => {
                eprintln!("[{}] delegates: {}", event.name(), tool.tool_args)
            }
            RunEventKind::RunCompleted { .. } => {
                eprintln!(
                    "[{}] {} finished",
                    event.name(),
                    event.agent_id.as_deref().or(event.team_id.as_deref()).unwrap_or("?")
                )
            }
            _ => {}
        }
    }
    let output = stream.output().ok_or_else(|| anyhow::anyhow!("the run ended without output"))??;
    println!("{}", output.content);
    Ok(())
}

//! A content pipeline workflow: outline, draft sections in parallel, review in
//! a loop until the reviewer approves, then format. Agents run on Claude when
//! ANTHROPIC_API_KEY is set, on offline models otherwise.
//!
//! ```text
//! cargo run --example content_pipeline -- "Rust error handling"
//! ```

use std::sync::Arc;

use agent_core::testing::{FunctionModel, text_response};
use agent_core::{Agent, Model, Step, StepOutput, Workflow};
use futures::StreamExt;

fn offline(reply: fn(&str) -> String) -> Arc<dyn Model> {
    Arc::new(FunctionModel::new(move |request| {
        Ok(text_response(reply(&request.messages.last().map(|m| m.text()).unwrap_or_default())))
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let topic = std::env::args().nth(1).unwrap_or_else(|| "Rust error handling".to_owned());
    let writer = |focus: &'static str, fallback: fn(&str) -> String| -> anyhow::Result<Agent> {
        Ok(Agent::builder(examples::claude_or_offline(|| offline(fallback))?)
            .id(format!("{focus}-writer"))
            .instructions(format!("Write one short paragraph about the {focus} of the topic you are given."))
            .build()?)
    };
    let reviewer = Agent::builder(examples::claude_or_offline(|| offline(|_| "APPROVED".to_owned()))?)
        .id("reviewer")
        .instructions("Review the draft. Reply APPROVED if it is clear and correct, otherwise list fixes.")
        .build()?;

    let workflow = Workflow::builder("content-pipeline")
        .step(Step::function("outline", |input| async move {
            Ok(StepOutput::new(format!("Topic: {}", input.previous_text())))
        }))
        .step(Step::parallel(
            "draft",
            vec![
                Step::run("basics", writer("basics", |t| format!("Basics of {t}: use Result and the ? operator."))?),
                Step::run("pitfalls", writer("pitfalls", |t| format!("Pitfalls of {t}: avoid unwrap on input."))?),
            ],
        ))
        .step(Step::function("assemble", |input| async move {
            let draft = input.previous().cloned().unwrap_or_default();
            let text =
                ["basics", "pitfalls"].iter().filter_map(|k| draft[*k].as_str()).collect::<Vec<_>>().join("\n\n");
            Ok(StepOutput::new(text))
        }))
        .step(Step::repeat(
            "review",
            vec![Step::run("check", reviewer)],
            |outputs| outputs.last().and_then(|o| o.content.as_str()).is_some_and(|text| text.contains("APPROVED")),
            3,
        ))
        .step(Step::function("format", |input| async move {
            let body = input.output("assemble").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            Ok(StepOutput::new(format!("# {}\n\n{body}\n", input.input().as_str().unwrap_or_default())))
        }))
        .build()?;

    let mut stream = workflow.run(topic).stream();
    while let Some(event) = stream.next().await {
        if let Some(step) = &event.step_name {
            eprintln!("[{}] {step}", event.name());
        }
    }
    let output = stream.output().ok_or_else(|| anyhow::anyhow!("the run ended without output"))??;
    println!("{}", output.content.as_str().unwrap_or_default());
    Ok(())
}

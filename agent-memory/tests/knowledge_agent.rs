//! Agents using a knowledge base: agentic retrieval through `search_knowledge`
//! and automatic context, with the test models.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use agent_core::knowledge::{Knowledge, SearchQuery};
use agent_core::support::retrieve_context;
use agent_core::testing::{ScriptedModel, TestModel, Turn};
use agent_core::{Agent, ContentBlock, Message};
use agent_memory::knowledge::{ContentInput, KnowledgeBase, SqliteKnowledge};
use serde_json::json;

async fn knowledge() -> KnowledgeBase {
    let store = SqliteKnowledge::open_in_memory().await.unwrap();
    let kb = KnowledgeBase::builder(store).embedder(agent_core::knowledge::HashEmbedder::new(64)).build();
    for (name, text, team) in [
        ("refunds.md", "# Refunds\n\nRefunds reach the original card within five business days.", "billing"),
        ("shipping.md", "# Shipping\n\nParcels leave the Lisbon warehouse every weekday.", "logistics"),
    ] {
        kb.add_and_wait(ContentInput::text(name, text).meta("team", team)).await.unwrap();
    }
    kb
}

fn tool_results(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .flat_map(|message| &message.content)
        .filter_map(|block| match block {
            ContentBlock::ToolResult { content, .. } => Some(format!("{content:?}")),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_model_searches_with_filters_and_cites_the_source() {
    let kb = knowledge().await;
    let model = ScriptedModel::new([
        Turn::tool_call(
            "call-1",
            "search_knowledge",
            json!({"query": "how long do refunds take", "top_k": 2, "filters": {"team": "billing"}}),
        )
        .expect(|request| {
            let tool = request.tools.iter().find(|tool| tool.name == "search_knowledge").ok_or("no knowledge tool")?;
            let properties = &tool.input_schema["properties"];
            if properties.get("query").is_none()
                || properties.get("filters").is_none()
                || properties.get("top_k").is_none()
            {
                return Err(format!("unexpected schema {}", tool.input_schema));
            }
            match &request.instructions {
                Some(text) if text.contains("search_knowledge") && text.contains("cite") => Ok(()),
                other => Err(format!("instructions do not explain the tool: {other:?}")),
            }
        }),
        Turn::text("Refunds take five business days [1] (refunds.md).").expect(|request| {
            let results = tool_results(&request.messages);
            match results.as_slice() {
                [result]
                    if result.contains("[1] refunds.md › Refunds (chunk 0)")
                        && result.contains("five business days")
                        && !result.contains("shipping.md") =>
                {
                    Ok(())
                }
                other => Err(format!("unexpected tool results: {other:?}")),
            }
        }),
    ]);
    let agent = Agent::builder(model.clone()).knowledge(Arc::new(kb)).build().unwrap();
    let output = agent.run("How long do refunds take?").await.unwrap();
    assert_eq!(output.content, "Refunds take five business days [1] (refunds.md).");
    model.assert_complete();
}

#[tokio::test]
async fn a_bad_search_goes_back_to_the_model_as_a_retry() {
    let kb = knowledge().await;
    let model = ScriptedModel::new([
        Turn::tool_call("call-1", "search_knowledge", json!({"query": "refunds", "filters": {"team": {"nested": 1}}})),
        Turn::text("Let me answer without filters.").expect(|request| {
            let results = tool_results(&request.messages);
            if results.iter().any(|result| result.contains("filter `team` must be")) {
                Ok(())
            } else {
                Err(format!("expected the filter error, got {results:?}"))
            }
        }),
    ]);
    let agent = Agent::builder(model.clone()).knowledge(Arc::new(kb)).build().unwrap();
    agent.run("refunds?").await.unwrap();
    model.assert_complete();
}

#[tokio::test]
async fn test_model_calls_the_tool_with_schema_valid_arguments() {
    let kb = knowledge().await;
    let agent = Agent::builder(TestModel::new()).knowledge(Arc::new(kb)).build().unwrap();
    let output = agent.run("anything").await.unwrap();
    assert_eq!(output.status, agent_core::RunStatus::Completed);
    assert_eq!(tool_results(&output.messages).len(), 1);
}

#[tokio::test]
async fn automatic_context_puts_the_top_results_before_the_model() {
    let kb = Arc::new(knowledge().await);
    let model = ScriptedModel::new([Turn::text("From Lisbon [1].").expect(|request| match &request.instructions {
        Some(text)
            if text.contains("Answer briefly.")
                && text.contains("<knowledge>")
                && text.contains("[1] shipping.md › Shipping (chunk 0)")
                && text.contains("Lisbon warehouse")
                && !text.contains("refunds.md") =>
        {
            Ok(())
        }
        other => Err(format!("no knowledge context in {other:?}")),
    })]);
    let agent =
        Agent::builder(model.clone()).instructions("Answer briefly.").knowledge_context(kb.clone(), 1).build().unwrap();
    assert_eq!(agent.run("Where do parcels leave from?").await.unwrap().content, "From Lisbon [1].");
    model.assert_complete();
}

#[tokio::test]
async fn the_context_section_helper_matches_what_agents_add() {
    let kb = knowledge().await;
    let section = retrieve_context(&kb, &SearchQuery::new("Where do parcels leave from?").top_k(1)).await.unwrap();
    assert!(section.starts_with("<knowledge>") && section.contains("[1] shipping.md"), "{section}");
    assert_eq!(kb.search(&SearchQuery::new("parcels")).await.unwrap()[0].name, "shipping.md");
}

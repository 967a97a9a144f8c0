//! Agents with user memories and session summaries, through the test models.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use agent_core::memory::{InMemoryMemoryStore, MemoryManager, MemoryQuery, MemoryStore, SessionSummarizer, UserMemory};
use agent_core::testing::{FunctionModel, ScriptedModel, Turn, text_response};
use agent_core::{Agent, InMemoryStore, SessionStore};
use futures::StreamExt;

#[tokio::test]
async fn relevant_memories_go_into_the_prompt_and_new_facts_are_extracted() {
    let memories = Arc::new(InMemoryMemoryStore::new());
    memories.upsert_memory(&UserMemory::new("ada", "Ada drinks green tea").with_topics(["tea"])).await.unwrap();
    let extractor = FunctionModel::new(|request| {
        let conversation = request.messages.iter().map(|m| m.text()).collect::<String>();
        assert!(conversation.contains("I moved to Lisbon"), "{conversation}");
        Ok(text_response(r#"{"operations": [{"op": "add", "memory": "Ada lives in Lisbon", "topics": ["home"]}]}"#))
    });
    let manager = MemoryManager::new(Arc::new(extractor), memories.clone());
    let model = ScriptedModel::new([Turn::text("Noted!").expect(|request| {
        let prompt = request.instructions.as_deref().unwrap_or_default();
        if prompt.starts_with("Be kind.") && prompt.contains("Ada drinks green tea") {
            Ok(())
        } else {
            Err(prompt.to_owned())
        }
    })]);
    let agent = Agent::builder(model.clone()).instructions("Be kind.").memory(manager).build().unwrap();
    let mut stream = agent.run("I moved to Lisbon, I still love tea").user("ada").stream();
    let mut names = Vec::new();
    while let Some(event) = stream.next().await {
        names.push(event.name());
    }
    assert!(names.contains(&"MemoryUpdateStarted") && names.contains(&"MemoryUpdateCompleted"), "{names:?}");
    model.assert_complete();
    let stored = memories.list_memories(&MemoryQuery::user("ada")).await.unwrap();
    let mut texts: Vec<&str> = stored.items.iter().map(|m| m.memory.as_str()).collect();
    texts.sort_unstable();
    assert_eq!(texts, ["Ada drinks green tea", "Ada lives in Lisbon"]);
}

#[tokio::test]
async fn a_failing_memory_model_does_not_fail_the_run() {
    let manager = MemoryManager::new(
        Arc::new(FunctionModel::new(|_| Ok(text_response("not json")))),
        Arc::new(InMemoryMemoryStore::new()),
    );
    let agent = Agent::builder(ScriptedModel::new([Turn::text("hi")])).memory(manager).build().unwrap();
    let output = agent.run("hello").user("u").await.unwrap();
    assert_eq!(output.content, "hi");
}

#[tokio::test]
async fn session_summaries_are_refreshed_and_can_stand_in_for_history() {
    let store = Arc::new(InMemoryStore::new());
    let summarizer = SessionSummarizer::new(Arc::new(FunctionModel::new(|request| {
        let turns = request.messages.iter().map(|m| m.text()).collect::<Vec<_>>().join(" | ");
        Ok(text_response(format!(r#"{{"summary": "summary of: {}", "topics": ["t"]}}"#, turns.len())))
    })));
    let model = ScriptedModel::new([
        Turn::text("first answer"),
        Turn::text("second answer").expect(|request| {
            let prompt = request.instructions.as_deref().unwrap_or_default();
            if prompt.contains("Summary of the conversation so far:\nsummary of:") && request.messages.len() == 1 {
                Ok(())
            } else {
                Err(format!("{prompt:?} with {} messages", request.messages.len()))
            }
        }),
    ]);
    let agent = Agent::builder(model.clone())
        .store(store.clone())
        .session_summaries(summarizer)
        .summary_in_context(true)
        .history_runs(Some(0))
        .build()
        .unwrap();
    agent.run("first question").session("s").await.unwrap();
    let first = store.session("s").await.unwrap().unwrap().summary.unwrap();
    assert_eq!(first.topics, ["t"]);
    agent.run("second question").session("s").await.unwrap();
    model.assert_complete();
    let second = store.session("s").await.unwrap().unwrap().summary.unwrap();
    assert_ne!(first.summary, second.summary);
}

struct Handbook;

#[async_trait::async_trait]
impl agent_core::knowledge::Knowledge for Handbook {
    async fn search(
        &self,
        query: &agent_core::knowledge::SearchQuery,
    ) -> Result<Vec<agent_core::knowledge::SearchHit>, agent_core::knowledge::KnowledgeError> {
        let mut hit = agent_core::knowledge::SearchHit::new("c1", "doc1", "handbook.md", "Refunds take 5 days.");
        hit.source = "docs/handbook.md".into();
        Ok(if query.text.contains("refund") { vec![hit] } else { Vec::new() })
    }
}

#[tokio::test]
async fn knowledge_context_puts_sourced_results_into_the_prompt() {
    let model = ScriptedModel::new([Turn::text("5 days.").expect(|request| {
        let prompt = request.instructions.as_deref().unwrap_or_default();
        if prompt.contains("Refunds take 5 days.") && prompt.contains("docs/handbook.md") {
            Ok(())
        } else {
            Err(prompt.to_owned())
        }
    })]);
    let agent = Agent::builder(model.clone()).knowledge_context(Arc::new(Handbook), 3).build().unwrap();
    agent.run("how long does a refund take?").await.unwrap();
    model.assert_complete();

    let agentic = Agent::builder(ScriptedModel::new([])).knowledge(Arc::new(Handbook)).build().unwrap();
    assert!(agentic.tool_defs().iter().any(|def| def.name == "search_knowledge"));
}

//! The demo set on both of the brain's paths: the offline model, and the real Claude client against the strict fake Messages API.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;

use agent_claude::fake::FakeApi;
use agent_core::memory::{MemoryManager, MemoryQuery, UserMemory};
use agent_core::{Agent, Model, RunEventKind, RunStatus, Team, ToolDecision, Workflow};
use examples::demo::{self, Demo};
use futures::StreamExt;

/// The demo on the offline brain, and on Claude through the fake (kept alive by the returned handle).
async fn both() -> Vec<(&'static str, Demo, Option<FakeApi>)> {
    let offline =
        demo::build(|_| Arc::new(demo::offline_model()), demo::open_store(None).await.unwrap()).await.unwrap();
    let fake = demo::messages_api::start_fake("127.0.0.1:0").await.unwrap();
    let claude: Arc<dyn Model> = Arc::new(fake.builder().model("claude-sonnet-4-5").build().unwrap());
    let online = demo::build(move |_| claude.clone(), demo::open_store(None).await.unwrap()).await.unwrap();
    vec![("offline", offline, None), ("claude on the fake", online, Some(fake))]
}

fn agent<'a>(demo: &'a Demo, id: &str) -> &'a Agent {
    demo.agents.iter().find(|agent| agent.id() == Some(id)).unwrap()
}

fn workflow<'a>(demo: &'a Demo, id: &str) -> &'a Workflow {
    demo.workflows.iter().find(|workflow| workflow.id() == id).unwrap()
}

fn team(demo: &Demo) -> &Team {
    &demo.teams[0]
}

/// No request reached the fake that it refused.
fn no_rejections(fake: &Option<FakeApi>) {
    if let Some(fake) = fake {
        let refused: Vec<_> = fake.requests().into_iter().filter_map(|request| request.rejection).collect();
        assert!(refused.is_empty(), "{refused:?}");
        assert!(!fake.requests().is_empty());
    }
}

#[tokio::test]
async fn agents_call_their_tools_and_answer_from_the_results() {
    for (path, demo, fake) in both().await {
        let output =
            agent(&demo, "weather-agent").run("What's the weather in Lisbon?").session("s-weather").await.unwrap();
        assert_eq!(output.content, "Result: It is sunny and 21C in Lisbon.", "{path}");
        assert_eq!(output.tools[0].tool_args, serde_json::json!({"city": "Lisbon"}), "{path}");

        let mut stream = agent(&demo, "writer-agent").run("What do the docs say about approvals?").stream();
        let mut kinds = Vec::new();
        while let Some(event) = stream.next().await {
            kinds.push(event.kind);
        }
        let output = stream.output().unwrap().unwrap();
        assert!(output.content.contains("Approvals"), "{path}: {}", output.content);
        assert_eq!(output.tools[0].tool_name, "search_knowledge", "{path}");
        assert!(matches!(kinds.first(), Some(RunEventKind::RunStarted { .. })), "{path}: {kinds:?}");
        assert!(kinds.iter().any(|kind| matches!(kind, RunEventKind::ToolCallCompleted { .. })), "{path}");
        assert!(matches!(kinds.last(), Some(RunEventKind::RunCompleted { .. })), "{path}: {kinds:?}");
        no_rejections(&fake);
    }
}

#[tokio::test]
async fn a_deletion_pauses_until_it_is_approved_or_rejected() {
    for (path, demo, fake) in both().await {
        let approval = agent(&demo, "approval-agent");
        for (approve, expected) in
            [(true, "Result: Deleted Paris from the saved cities."), (false, "That was not done: ")]
        {
            let session = format!("s-delete-{approve}");
            let paused = approval.run("Delete Paris").session(session.as_str()).await.unwrap();
            assert_eq!(paused.status, RunStatus::Paused, "{path}");
            let call = paused.pending_tool_calls().remove(0);
            assert_eq!((call.tool_name.as_str(), call.tool_args["city"].as_str()), ("delete_city", Some("Paris")));
            let decision = if approve {
                ToolDecision::approve(&call.tool_call_id)
            } else {
                ToolDecision::reject(&call.tool_call_id, "not today")
            };
            let from = (session.as_str(), paused.run_id.as_str());
            let done = approval.continue_run(from, vec![decision]).await.unwrap();
            assert_eq!(done.run_id, paused.run_id, "{path}");
            assert_eq!(done.status, RunStatus::Completed, "{path}");
            assert!(done.content.starts_with(expected), "{path}: {}", done.content);
        }
        no_rejections(&fake);
    }
}

#[tokio::test]
async fn the_team_delegates_and_pauses_with_its_member() {
    for (path, demo, fake) in both().await {
        let output = team(&demo).run("Weather in Rome?").session("s-team").await.unwrap();
        assert_eq!(output.content, "Result: Result: It is sunny and 21C in Rome.", "{path}");
        assert_eq!(output.tools[0].tool_args["member_id"], "weather-agent", "{path}");

        let paused = team(&demo).run("Delete Rome").session("s-team-delete").await.unwrap();
        assert_eq!(paused.status, RunStatus::Paused, "{path}");
        let call = paused.pending_tool_calls().remove(0);
        assert_eq!(call.tool_name, "delete_city", "{path}");
        let from = ("s-team-delete", paused.run_id.as_str());
        let done = team(&demo).continue_run(from, vec![ToolDecision::approve(&call.tool_call_id)]).await.unwrap();
        assert_eq!(done.status, RunStatus::Completed, "{path}");
        assert!(done.content.contains("Deleted Rome"), "{path}: {}", done.content);
        no_rejections(&fake);
    }
}

#[tokio::test]
async fn workflows_research_then_write_and_pause_at_the_approval_step() {
    for (path, demo, fake) in both().await {
        let output = workflow(&demo, "demo-workflow").run("Weather in Oslo?").session("s-flow").await.unwrap();
        assert_eq!(output.status, RunStatus::Completed, "{path}");
        assert_eq!(output.step_outputs.len(), 2, "{path}");
        let text = output.content.as_str().unwrap_or_default().to_owned();
        assert!(text.contains("It is sunny and 21C in Oslo."), "{path}: {text}");

        let flow = workflow(&demo, "approval-workflow");
        let paused = flow.run("Delete Oslo").session("s-flow-delete").await.unwrap();
        assert_eq!(paused.status, RunStatus::Paused, "{path}");
        let call = paused.pending_tool_calls().remove(0);
        let from = ("s-flow-delete", paused.run_id.as_str());
        let done = flow.continue_run(from, vec![ToolDecision::reject(&call.tool_call_id, "no")]).await.unwrap();
        assert_eq!(done.status, RunStatus::Completed, "{path}");
        assert!(done.content.as_str().unwrap_or_default().contains("not done"), "{path}: {:?}", done.content);
        no_rejections(&fake);
    }
}

#[tokio::test]
async fn the_memory_optimizer_merges_duplicate_memories() {
    for (path, demo, fake) in both().await {
        let memories = [("User likes tea.", "drink"), ("user likes TEA", "food"), ("User lives in Oslo.", "home")];
        for (memory, topic) in memories {
            demo.memories.upsert_memory(&UserMemory::new("u-opt", memory).with_topics([topic])).await.unwrap();
        }
        let manager = MemoryManager::new(demo.memory_model.clone(), demo.memories.clone());
        let outcome = manager.optimize("u-opt").await.unwrap();
        assert_eq!((outcome.memories_before, outcome.memories_after), (3, 2), "{path}");
        assert!(outcome.tokens_saved > 0, "{path}: {outcome:?}");
        let mut stored = demo.memories.list_memories(&MemoryQuery::user("u-opt")).await.unwrap().items;
        stored.sort_by_key(|memory| memory.memory.to_lowercase());
        let merged: Vec<(String, Vec<String>)> = stored
            .into_iter()
            .map(|mut memory| {
                memory.topics.sort();
                (memory.memory.to_lowercase(), memory.topics)
            })
            .collect();
        assert_eq!(merged[0].1, ["drink", "food"], "{path}: {merged:?}");
        assert_eq!(merged[1], ("user lives in oslo.".to_owned(), vec!["home".to_owned()]), "{path}");
        no_rejections(&fake);
    }
}

#[tokio::test]
async fn the_demo_server_serves_its_docs_on_the_knowledge_routes() {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let demo = demo::build(|_| Arc::new(demo::offline_model()), demo::open_store(None).await.unwrap()).await.unwrap();
    let os = demo.os_builder().build().unwrap();
    let request = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    let response = os.router().oneshot(request("/knowledge/content?sort_by=name&sort_order=asc")).await.unwrap();
    let body: serde_json::Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let names: Vec<&str> = body["data"].as_array().unwrap().iter().map(|item| item["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["approvals.md", "sessions.md", "weather.md"]);
    let response = os.router().oneshot(request("/config")).await.unwrap();
    let config: serde_json::Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(config["knowledge"]["knowledge_instances"][0]["id"], "demo-docs");
}

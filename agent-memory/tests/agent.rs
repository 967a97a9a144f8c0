//! Agents on a `SqliteStore`: history across runs and store reopenings,
//! session state, paused runs continued after reopening, memory tools.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use agent_core::memory::{MemoryManager, MemoryQuery, MemoryStore};
use agent_core::testing::{FunctionModel, ScriptedModel, Turn, text_response};
use agent_core::{Agent, FnTool, Message, RunStatus, SessionStore, ToolDecision, ToolDef, ToolOutput};
use agent_memory::SqliteStore;
use serde_json::json;

/// A model that answers with the texts of the user messages it was sent,
/// and records every request's messages.
fn echo_model(seen: Arc<Mutex<Vec<Vec<Message>>>>) -> FunctionModel {
    FunctionModel::new(move |request| {
        seen.lock().unwrap().push(request.messages.clone());
        let texts: Vec<String> = request
            .messages
            .iter()
            .filter(|message| message.role == agent_core::Role::User)
            .map(Message::text)
            .collect();
        Ok(text_response(texts.join(" | ")))
    })
}

async fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path).await.unwrap()
}

#[tokio::test]
async fn history_is_kept_across_runs_and_reopened_stores() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.db");
    let seen = Arc::new(Mutex::new(Vec::new()));

    let store = open(&path).await;
    let agent = Agent::builder(echo_model(Arc::clone(&seen))).id("echo").store(store.clone()).build().unwrap();
    agent.run("my name is Ana").session("chat-1").user("ana").await.unwrap();
    let second = agent.run("what is my name?").session("chat-1").user("ana").await.unwrap();
    assert_eq!(second.content, "my name is Ana | what is my name?");
    store.close().await;
    drop(agent);

    // A new process: a new store on the same file, a new agent.
    let reopened = open(&path).await;
    let agent = Agent::builder(echo_model(Arc::clone(&seen))).id("echo").store(reopened.clone()).build().unwrap();
    let third = agent.run("and now?").session("chat-1").user("ana").await.unwrap();
    assert_eq!(third.content, "my name is Ana | what is my name? | and now?");

    let runs = reopened.runs("chat-1", None).await.unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().all(|run| run.status == RunStatus::Completed && run.messages.len() == 2));
    let session = reopened.session("chat-1").await.unwrap().unwrap();
    assert_eq!((session.component_id.as_deref(), session.user_id.as_deref()), (Some("echo"), Some("ana")));
}

#[tokio::test]
async fn history_runs_limits_what_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("agent.db")).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let agent = Agent::builder(echo_model(Arc::clone(&seen))).store(store).history_runs(Some(1)).build().unwrap();
    for input in ["one", "two", "three"] {
        agent.run(input).session("limited").await.unwrap();
    }
    let last_request = seen.lock().unwrap().last().cloned().unwrap();
    let texts: Vec<String> = last_request.iter().map(Message::text).collect();
    assert_eq!(texts, ["two", "one | two", "three"], "only the last run's exchange, then the input");
}

#[tokio::test]
async fn session_state_persists_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.db");
    let counter = FnTool::raw(
        ToolDef::new("count", "Counts calls.", json!({"type": "object", "properties": {}, "required": []})),
        |ctx: agent_core::RunContext<()>, _input| async move {
            let mut state = ctx.session_state();
            let next = state.get("count").and_then(serde_json::Value::as_i64).unwrap_or(0) + 1;
            state.insert("count".into(), json!(next));
            Ok(ToolOutput::text(next.to_string()))
        },
    );
    let model = ScriptedModel::new([
        Turn::tool_call("c1", "count", json!({})),
        Turn::text("counted"),
        Turn::tool_call("c2", "count", json!({})),
        Turn::text("counted again"),
    ]);
    let store = open(&path).await;
    let agent = Agent::builder(model.clone()).store(store.clone()).tool(counter).build().unwrap();
    agent.run("count").session("stateful").await.unwrap();
    store.close().await;
    let reopened = open(&path).await;
    let agent = Agent::builder(model.clone())
        .store(reopened.clone())
        .tool(FnTool::raw(
            ToolDef::new("count", "Counts calls.", json!({"type": "object", "properties": {}, "required": []})),
            |ctx: agent_core::RunContext<()>, _input| async move {
                let mut state = ctx.session_state();
                let next = state.get("count").and_then(serde_json::Value::as_i64).unwrap_or(0) + 1;
                state.insert("count".into(), json!(next));
                Ok(ToolOutput::text(next.to_string()))
            },
        ))
        .build()
        .unwrap();
    agent.run("count").session("stateful").await.unwrap();
    model.assert_complete();
    let session = reopened.session("stateful").await.unwrap().unwrap();
    assert_eq!(session.state.get("count"), Some(&json!(2)));
}

fn confirmed_tool(calls: Arc<Mutex<u32>>) -> FnTool {
    FnTool::raw(
        ToolDef::new(
            "delete_account",
            "Deletes the account.",
            json!({"type": "object", "properties": {}, "required": []}),
        )
        .requires_confirmation(true),
        move |_ctx, _input| {
            let calls = Arc::clone(&calls);
            async move {
                *calls.lock().unwrap() += 1;
                Ok(ToolOutput::text("account deleted"))
            }
        },
    )
}

#[tokio::test]
async fn paused_run_continues_after_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.db");
    let calls = Arc::new(Mutex::new(0));

    let first_model = ScriptedModel::new([Turn::tool_call("call-1", "delete_account", json!({}))]);
    let store = open(&path).await;
    let agent = Agent::builder(first_model.clone())
        .store(store.clone())
        .tool(confirmed_tool(Arc::clone(&calls)))
        .build()
        .unwrap();
    let paused = agent.run("delete my account").session("hitl").await.unwrap();
    assert!(paused.is_paused());
    first_model.assert_complete();
    assert_eq!(store.run("hitl", &paused.run_id).await.unwrap().unwrap().status, RunStatus::Paused);
    store.close().await;
    drop(agent);

    // Another process picks the run up from the database.
    let second_model = ScriptedModel::new([Turn::text("Your account is deleted.")]);
    let reopened = open(&path).await;
    let agent = Agent::builder(second_model.clone())
        .store(reopened.clone())
        .tool(confirmed_tool(Arc::clone(&calls)))
        .build()
        .unwrap();
    let done =
        agent.continue_run(("hitl", paused.run_id.as_str()), vec![ToolDecision::approve("call-1")]).await.unwrap();
    assert_eq!((done.status, done.content.as_str()), (RunStatus::Completed, "Your account is deleted."));
    assert_eq!(*calls.lock().unwrap(), 1);
    second_model.assert_complete();

    let runs = reopened.runs("hitl", None).await.unwrap();
    assert_eq!(runs.len(), 1, "the paused record was replaced, not duplicated");
    assert_eq!((runs[0].status, runs[0].paused.is_none()), (RunStatus::Completed, true));
    assert_eq!(runs[0].messages.len(), 4, "input, tool call, tool result, answer");
}

#[tokio::test]
async fn failed_run_leaves_history_valid() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("agent.db")).await;
    let model = ScriptedModel::new([
        Turn::text("first answer"),
        Turn::error(agent_core::ModelError::new(agent_core::ModelErrorKind::Overloaded, "overloaded")),
        Turn::text("third answer").expect(|request| {
            let texts: Vec<String> = request.messages.iter().map(Message::text).collect();
            // The failed run may leave its input, never a dangling tool call.
            if texts.starts_with(&["first".to_owned(), "first answer".to_owned()])
                && texts.ends_with(&["third".to_owned()])
            {
                Ok(())
            } else {
                Err(format!("unexpected history {texts:?}"))
            }
        }),
    ]);
    let agent = Agent::builder(model.clone()).store(store.clone()).build().unwrap();
    agent.run("first").session("flaky").await.unwrap();
    assert!(agent.run("second").session("flaky").await.is_err());
    agent.run("third").session("flaky").await.unwrap();
    model.assert_complete();
    let statuses: Vec<RunStatus> = store.runs("flaky", None).await.unwrap().iter().map(|run| run.status).collect();
    assert_eq!(statuses, [RunStatus::Completed, RunStatus::Error, RunStatus::Completed]);
}

#[tokio::test]
async fn agent_manages_memories_with_the_memory_tools() {
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let tool_model = ScriptedModel::new([]);
    let manager = MemoryManager::new(Arc::new(tool_model), Arc::clone(&store) as Arc<dyn MemoryStore>);
    let model = ScriptedModel::new([
        Turn::tool_call("m1", "add_memory", json!({"memory": "Ana likes green tea.", "topics": ["drinks"]})),
        Turn::text("Noted."),
    ]);
    let agent = Agent::builder(model.clone()).toolkit(manager.tools()).build().unwrap();
    agent.run("I like green tea").user("ana").await.unwrap();
    model.assert_complete();
    let saved = store.list_memories(&MemoryQuery::user("ana")).await.unwrap().items;
    assert_eq!(saved.len(), 1);
    assert_eq!(
        (saved[0].memory.as_str(), saved[0].topics.as_slice()),
        ("Ana likes green tea.", &["drinks".to_owned()][..])
    );

    // Search, then update by id, in a second run.
    let memory_id = saved[0].memory_id.clone();
    let model = ScriptedModel::new([
        Turn::tool_call("s1", "search_memories", json!({"query": "tea"})).expect(|request| {
            let tools: Vec<&str> = request.tools.iter().map(|tool| tool.name.as_str()).collect();
            if tools == ["add_memory", "update_memory", "delete_memory", "search_memories"] {
                Ok(())
            } else {
                Err(format!("tools {tools:?}"))
            }
        }),
        Turn::tool_call("u1", "update_memory", json!({"memory_id": memory_id, "memory": "Ana prefers black tea."})),
        Turn::text("Updated."),
    ]);
    let agent = Agent::builder(model.clone()).toolkit(manager.tools()).build().unwrap();
    agent.run("actually black tea").user("ana").await.unwrap();
    model.assert_complete();
    let requests = model.requests();
    let search_result = requests[1].messages.last().unwrap();
    assert!(format!("{search_result:?}").contains(&memory_id), "search results carry the ids");
    let updated = store.memory(&memory_id).await.unwrap().unwrap();
    assert_eq!((updated.memory.as_str(), updated.topics.len()), ("Ana prefers black tea.", 1));
}

#[tokio::test]
async fn memory_tools_refuse_other_users_memories() {
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let bob = agent_core::memory::UserMemory::new("bob", "Bob's secret.");
    store.upsert_memory(&bob).await.unwrap();
    let manager = MemoryManager::new(Arc::new(ScriptedModel::new([])), Arc::clone(&store) as Arc<dyn MemoryStore>);
    let model = ScriptedModel::new([
        Turn::tool_call("d1", "delete_memory", json!({"memory_id": bob.memory_id})),
        Turn::text("I could not."),
    ]);
    let agent = Agent::builder(model.clone()).toolkit(manager.tools()).build().unwrap();
    agent.run("delete it").user("ana").await.unwrap();
    model.assert_complete();
    assert!(store.memory(&bob.memory_id).await.unwrap().is_some(), "bob's memory is untouched");
    let result = format!("{:?}", model.requests()[1].messages.last().unwrap());
    assert!(result.contains("no memory"), "{result}");
}

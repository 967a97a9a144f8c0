//! `MemoryManager` and `SessionSummarizer` with scripted models, on a SQLite store.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use agent_core::memory::{MemoryManager, MemoryQuery, MemoryStore, SessionSummarizer, UserMemory};
use agent_core::testing::{FunctionModel, text_response};
use agent_core::{Error, Message, ModelRequest, SessionSummary};
use agent_memory::SqliteStore;
use serde_json::json;

/// A model answering with `answer` and recording the requests.
fn answering(answer: String, requests: Arc<Mutex<Vec<ModelRequest>>>) -> Arc<FunctionModel> {
    Arc::new(FunctionModel::new(move |request| {
        requests.lock().unwrap().push(request.clone());
        Ok(text_response(answer.clone()))
    }))
}

async fn store() -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open_in_memory().await.unwrap())
}

async fn manager_with(
    answer: serde_json::Value,
    store: &Arc<SqliteStore>,
) -> (MemoryManager, Arc<Mutex<Vec<ModelRequest>>>) {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let model = answering(answer.to_string(), Arc::clone(&requests));
    (MemoryManager::new(model, Arc::clone(store) as Arc<dyn MemoryStore>), requests)
}

fn conversation() -> Vec<Message> {
    vec![Message::user("I'm Ana, I work as a nurse and I stopped drinking coffee."), Message::assistant("Noted, Ana!")]
}

#[tokio::test]
async fn extraction_adds_updates_deletes_and_deduplicates() {
    let store = store().await;
    let mut coffee = UserMemory::new("ana", "Ana likes coffee.");
    coffee.topics = vec!["drinks".into()];
    let job = UserMemory::new("ana", "Ana is a student.");
    let tea = UserMemory::new("ana", "Ana likes green tea.");
    let bob = UserMemory::new("bob", "Bob likes coffee.");
    for memory in [&coffee, &job, &tea, &bob] {
        store.upsert_memory(memory).await.unwrap();
    }
    let answer = json!({"operations": [
        {"op": "add", "memory": "Ana's name is Ana.", "topics": ["identity"]},
        {"op": "add", "memory": "  ana likes GREEN tea  ", "topics": []},
        {"op": "add", "memory": "Ana's name is Ana", "topics": []},
        {"op": "add", "memory": "   ", "topics": []},
        {"op": "update", "id": job.memory_id, "memory": "Ana works as a nurse.", "topics": ["work"]},
        {"op": "delete", "id": coffee.memory_id},
        {"op": "delete", "id": bob.memory_id},
        {"op": "update", "id": "no-such-id", "memory": "x", "topics": []}
    ]});
    let (manager, requests) = manager_with(answer, &store).await;
    let update = manager.update_from_messages("ana", Some("agent-a"), &conversation()).await.unwrap();

    assert_eq!(update.added.len(), 1);
    assert_eq!(update.added[0].memory, "Ana's name is Ana.");
    assert_eq!(update.added[0].agent_id.as_deref(), Some("agent-a"));
    assert_eq!(update.added[0].input.as_deref(), Some(conversation()[0].text().as_str()));
    assert_eq!(update.updated.len(), 1);
    assert_eq!(
        (update.updated[0].memory.as_str(), update.updated[0].topics.as_slice()),
        ("Ana works as a nurse.", &["work".to_owned()][..])
    );
    assert_eq!(update.deleted, [coffee.memory_id.clone()]);
    assert_eq!(update.skipped, 5, "two duplicates, one empty, another user's id, an unknown id");

    let mut texts: Vec<String> =
        store.list_memories(&MemoryQuery::user("ana")).await.unwrap().items.into_iter().map(|m| m.memory).collect();
    texts.sort();
    assert_eq!(texts, ["Ana likes green tea.", "Ana works as a nurse.", "Ana's name is Ana."]);
    assert!(store.memory(&bob.memory_id).await.unwrap().is_some(), "another user's memory is never touched");

    let request = requests.lock().unwrap()[0].clone();
    let schema = request.output_schema.expect("the operations schema is sent as the output format");
    assert!(schema.to_string().contains("\"operations\""), "{schema}");
    let prompt = request.messages[0].text();
    assert!(prompt.contains(&job.memory_id) && prompt.contains("stopped drinking coffee"), "{prompt}");
}

#[tokio::test]
async fn malformed_model_json_is_a_typed_error() {
    let store = store().await;
    let requests = Arc::new(Mutex::new(Vec::new()));
    let manager =
        MemoryManager::new(answering("not json {".into(), requests), Arc::clone(&store) as Arc<dyn MemoryStore>);
    let err = manager.update_from_messages("ana", None, &conversation()).await.unwrap_err();
    assert!(matches!(err, Error::OutputValidation { .. }), "{err}");

    let (manager, _) = manager_with(json!({"operations": [{"op": "explode"}]}), &store).await;
    let err = manager.update_from_messages("ana", None, &conversation()).await.unwrap_err();
    assert!(matches!(err, Error::OutputValidation { .. }), "{err}");
    assert_eq!(store.list_memories(&MemoryQuery::default()).await.unwrap().total, 0);
}

#[tokio::test]
async fn fenced_json_is_accepted_and_empty_conversations_ask_nothing() {
    let store = store().await;
    let requests = Arc::new(Mutex::new(Vec::new()));
    let fenced = "```json\n{\"operations\": [{\"op\": \"add\", \"memory\": \"Ana is a nurse.\"}]}\n```".to_owned();
    let manager =
        MemoryManager::new(answering(fenced, Arc::clone(&requests)), Arc::clone(&store) as Arc<dyn MemoryStore>);
    assert_eq!(manager.update_from_messages("ana", None, &conversation()).await.unwrap().added.len(), 1);
    assert!(manager.update_from_messages("ana", None, &[]).await.unwrap().is_empty());
    assert_eq!(requests.lock().unwrap().len(), 1, "no model call without a conversation");
}

#[tokio::test]
async fn relevant_memories_rank_by_shared_words_then_recency() {
    let store = store().await;
    let rows = [
        ("m1", "Ana likes green tea.", vec!["drinks"], 1),
        ("m2", "Ana works as a nurse.", vec!["work"], 2),
        ("m3", "Ana has a cat named Miso.", vec!["pets"], 3),
        ("m4", "Bob likes tea.", vec!["drinks"], 4),
    ];
    for (id, text, topics, updated_at) in rows {
        let mut memory = UserMemory::new(if id == "m4" { "bob" } else { "ana" }, text).with_topics(topics);
        memory.memory_id = id.into();
        memory.updated_at = updated_at;
        store.upsert_memory(&memory).await.unwrap();
    }
    let (manager, requests) = manager_with(json!({}), &store).await;
    let ids = |memories: Vec<UserMemory>| memories.into_iter().map(|m| m.memory_id).collect::<Vec<_>>();
    assert_eq!(ids(manager.relevant("ana", "What TEA should I drink?", 2).await.unwrap()), ["m1", "m3"]);
    assert_eq!(ids(manager.relevant("ana", "my work shift", 10).await.unwrap()), ["m2", "m3", "m1"]);
    assert_eq!(ids(manager.relevant("ana", "", 2).await.unwrap()), ["m3", "m2"], "newest first without a query");
    assert!(manager.relevant("ana", "tea", 0).await.unwrap().is_empty());
    assert!(requests.lock().unwrap().is_empty(), "recall does not call the model");

    let section = MemoryManager::prompt_section(&manager.relevant("ana", "tea", 1).await.unwrap());
    assert!(section.contains("- Ana likes green tea.\n"), "{section}");
    assert_eq!(MemoryManager::prompt_section(&[]), "");
}

#[tokio::test]
async fn optimize_replaces_a_users_memories() {
    let store = store().await;
    for text in ["Ana likes tea.", "Ana likes green tea.", "Ana is a nurse.", "Ana works night shifts as a nurse."] {
        store.upsert_memory(&UserMemory::new("ana", text)).await.unwrap();
    }
    store.upsert_memory(&UserMemory::new("bob", "Bob likes coffee.")).await.unwrap();
    let answer = json!({"memories": [
        {"memory": "Ana likes green tea.", "topics": ["drinks"]},
        {"memory": "Ana is a nurse on night shifts.", "topics": ["work"]}
    ]});
    // A dry run reports the same outcome and changes nothing.
    let (manager, _) = manager_with(answer.clone(), &store).await;
    let preview = manager.optimize_dry_run("ana").await.unwrap();
    assert_eq!((preview.memories_before, preview.memories_after), (4, 2));
    assert_eq!(store.list_memories(&MemoryQuery::user("ana")).await.unwrap().total, 4, "a dry run writes nothing");

    let (manager, requests) = manager_with(answer, &store).await;
    let outcome = manager.optimize("ana").await.unwrap();
    assert_eq!((outcome.memories_before, outcome.memories_after), (4, 2));
    assert!(outcome.tokens_after < outcome.tokens_before);
    assert_eq!(outcome.tokens_saved, outcome.tokens_before - outcome.tokens_after);
    assert!(outcome.reduction_percentage > 0.0 && outcome.reduction_percentage < 100.0);
    let stored = store.list_memories(&MemoryQuery::user("ana")).await.unwrap();
    assert_eq!(stored.total, 2);
    assert!(stored.items.iter().all(|memory| outcome.memories.contains(memory)));
    assert_eq!(store.list_memories(&MemoryQuery::user("bob")).await.unwrap().total, 1);
    assert!(requests.lock().unwrap()[0].output_schema.is_some());

    // One memory: nothing to merge, no model call.
    let (manager, requests) = manager_with(json!({}), &store).await;
    assert_eq!(manager.optimize("bob").await.unwrap().memories_after, 1);
    assert!(requests.lock().unwrap().is_empty());
}

#[tokio::test]
async fn optimize_refuses_to_delete_everything() {
    let store = store().await;
    for text in ["Ana likes tea.", "Ana is a nurse."] {
        store.upsert_memory(&UserMemory::new("ana", text)).await.unwrap();
    }
    let (manager, _) = manager_with(json!({"memories": []}), &store).await;
    let err = manager.optimize("ana").await.unwrap_err();
    assert!(matches!(err, Error::OutputValidation { .. }), "{err}");
    assert_eq!(store.list_memories(&MemoryQuery::user("ana")).await.unwrap().total, 2, "nothing was deleted");
}

#[tokio::test]
async fn summaries_extend_the_previous_one() {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let answer = json!({"summary": "Ana is a nurse who switched to tea.", "topics": ["work", "drinks"]});
    let summarizer = SessionSummarizer::new(answering(answer.to_string(), Arc::clone(&requests)));
    let previous = SessionSummary { summary: "Ana introduced herself.".into(), topics: vec![], updated_at: 1 };
    let summary = summarizer.summarize(Some(&previous), &conversation()).await.unwrap();
    assert_eq!(summary.summary, "Ana is a nurse who switched to tea.");
    assert_eq!(summary.topics, ["work", "drinks"]);
    assert!(summary.updated_at > previous.updated_at);

    let request = requests.lock().unwrap()[0].clone();
    let prompt = request.messages[0].text();
    assert!(prompt.contains("Ana introduced herself.") && prompt.contains("stopped drinking coffee"), "{prompt}");
    assert!(request.output_schema.unwrap().to_string().contains("\"summary\""));
}

#[tokio::test]
async fn malformed_summary_is_a_typed_error() {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let summarizer = SessionSummarizer::new(answering(json!({"topics": []}).to_string(), requests));
    let err = summarizer.summarize(None, &conversation()).await.unwrap_err();
    assert!(matches!(err, Error::OutputValidation { .. }), "{err}");
}

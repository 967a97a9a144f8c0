//! Persistent session: an agent that remembers across process restarts,
//! keeping its session in SQLite and facts about the user as memories.
//! Runs on Claude when ANTHROPIC_API_KEY is set, on an offline model otherwise.
//!
//! ```text
//! cargo run --example persistent_session -- "Hi, my name is Ana"
//! cargo run --example persistent_session -- "What is my name?"
//! cargo run --example persistent_session -- --new-session "Do you remember my name?"
//! ```
//!
//! The database is `agents-rs-persistent-session.db` in the temporary
//! directory, or the file named by `AGENT_DB`.

use std::sync::Arc;

use agent_core::memory::{MemoryManager, MemoryQuery, MemoryStore};
use agent_core::testing::{FunctionModel, text_response};
use agent_core::{Agent, Model, ModelRequest, Role, SessionStore};
use agent_memory::SqliteStore;

const USER_ID: &str = "demo-user";

/// The name in "my name is X", if the text says it.
fn name_in(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let start = lower.find("name is ")? + "name is ".len();
    let name: String = text[start..].chars().take_while(|c| c.is_alphabetic()).collect();
    (!name.is_empty()).then_some(name)
}

/// Offline stand-in for Claude. Asked for memory operations (a structured
/// answer), it records a name it finds; otherwise it answers from the
/// conversation and the memories in its instructions.
fn offline_model() -> Arc<dyn Model> {
    Arc::new(FunctionModel::new(|request: &ModelRequest| {
        let prompt = request.messages.iter().map(|message| message.text()).collect::<Vec<_>>().join("\n");
        if request.output_schema.is_some() {
            let operations = match name_in(&prompt) {
                Some(name) if !prompt.contains(&format!("User's name is {name}.")) => serde_json::json!([
                    {"op": "add", "memory": format!("User's name is {name}."), "topics": ["identity"]}
                ]),
                _ => serde_json::json!([]),
            };
            return Ok(text_response(serde_json::json!({ "operations": operations }).to_string()));
        }
        let question = request.messages.last().map(|message| message.text()).unwrap_or_default();
        let earlier = request.messages.iter().filter(|message| message.role == Role::User).count().saturating_sub(1);
        let known = name_in(&prompt).or_else(|| request.instructions.as_deref().and_then(name_in));
        let answer = match (name_in(&question), known) {
            (Some(name), _) => format!("Nice to meet you, {name}! I will remember that."),
            (None, Some(name)) => format!("Your name is {name}."),
            (None, None) => "I don't know your name yet. Tell me!".to_owned(),
        };
        Ok(text_response(format!("{answer} (I see {earlier} earlier messages of yours in this session.)")))
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let new_session = args.first().is_some_and(|arg| arg == "--new-session");
    if new_session {
        args.remove(0);
    }
    let prompt = args.first().cloned().unwrap_or_else(|| "Hi, my name is Ana".to_owned());
    let path = std::env::var("AGENT_DB")
        .map(Into::into)
        .unwrap_or_else(|_| std::env::temp_dir().join("agents-rs-persistent-session.db"));
    let session_id = if new_session {
        format!("session-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs())
    } else {
        "demo-session".to_owned()
    };

    // One SQLite file keeps sessions, runs and memories; it is migrated on open.
    let store = Arc::new(SqliteStore::open(&path).await?);
    let model = examples::claude_or_offline(offline_model)?;
    let memories = MemoryManager::new(Arc::clone(&model), Arc::clone(&store) as Arc<dyn MemoryStore>);

    // Facts remembered about the user in earlier sessions go into the system prompt.
    let relevant = memories.relevant(USER_ID, &prompt, 10).await?;
    let instructions =
        format!("You are a friendly, concise assistant.\n\n{}", MemoryManager::prompt_section(&relevant));
    let agent = Agent::builder(Arc::clone(&model))
        .id("persistent-assistant")
        .instructions(instructions)
        .store(Arc::clone(&store))
        .history_runs(Some(10))
        .build()?;

    let output = agent.run(prompt.as_str()).session(&session_id).user(USER_ID).await?;
    println!("user: {prompt}\nassistant: {}", output.content);

    // After the run, the model decides what is worth remembering about the user.
    let update = memories.update_from_messages(USER_ID, agent.id(), &output.messages).await?;
    for memory in &update.added {
        println!("[remembered: {}]", memory.memory);
    }

    let runs = store.runs(&session_id, None).await?;
    let remembered = store.list_memories(&MemoryQuery::user(USER_ID)).await?.total;
    println!(
        "[session `{session_id}` has {} runs; {remembered} memories about {USER_ID}; database {}]",
        runs.len(),
        path.display()
    );
    store.close().await;
    Ok(())
}

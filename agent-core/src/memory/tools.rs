//! Agentic memory: tools the model calls to add, update, delete and search
//! the current user's memories.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::manager::MemoryManager;
use super::store::UserMemory;
use crate::context::RunContext;
use crate::session::{StoreError, unix_now};
use crate::tool::{FnTool, ToolError, Toolkit};

const TOOLKIT_INSTRUCTIONS: &str = "You can remember facts about the user across conversations \
with the memory tools. When the user shares something worth remembering (their name, \
preferences, plans, people and things they care about), call `add_memory`; when a remembered \
fact changes, call `update_memory`; when the user asks you to forget something, call \
`delete_memory`. Use `search_memories` to recall what you know. Never store secrets.";

/// Arguments of `add_memory`.
#[derive(Deserialize, JsonSchema)]
struct AddMemory {
    /// The fact to remember, as one sentence in the third person ("User likes coffee.").
    memory: String,
    /// One to three short lowercase topics, such as "preferences".
    #[serde(default)]
    topics: Vec<String>,
}

/// Arguments of `update_memory`.
#[derive(Deserialize, JsonSchema)]
struct UpdateMemory {
    /// The id of the memory, from `search_memories`.
    memory_id: String,
    /// The new text of the memory.
    memory: String,
    /// New topics; the old ones are kept when empty.
    #[serde(default)]
    topics: Vec<String>,
}

/// Arguments of `delete_memory`.
#[derive(Deserialize, JsonSchema)]
struct DeleteMemory {
    /// The id of the memory, from `search_memories`.
    memory_id: String,
}

/// Arguments of `search_memories`.
#[derive(Deserialize, JsonSchema)]
struct SearchMemories {
    /// What to look for; empty for the most recent memories.
    #[serde(default)]
    query: String,
    /// How many memories to return (default 10).
    #[serde(default)]
    limit: Option<usize>,
}

impl MemoryManager {
    /// Tools for agentic memory: `add_memory`, `update_memory`,
    /// `delete_memory` and `search_memories`, acting on the memories of the
    /// run's user ([`RunContext::user_id`]), with instructions for the model.
    ///
    /// A call in a run without a user id, or naming another user's memory, is
    /// answered with a retryable error; a store failure stops the run.
    pub fn tools<D: Send + Sync + 'static>(&self) -> Toolkit<D> {
        let add = self.clone();
        let update = self.clone();
        let delete = self.clone();
        let search = self.clone();
        Toolkit::new("memory")
            .instructions(TOOLKIT_INSTRUCTIONS)
            .tool(FnTool::new(
                "add_memory",
                "Remembers a fact about the user for future conversations.",
                move |ctx: RunContext<D>, args: AddMemory| {
                    let manager = add.clone();
                    async move {
                        let user_id = user_of(&ctx)?;
                        let text = args.memory.trim();
                        if text.is_empty() {
                            return Err(ToolError::retry("the memory is empty; give the fact to remember"));
                        }
                        let mut memory = UserMemory::new(user_id, text).with_topics(args.topics);
                        memory.agent_id = ctx.agent_id().map(str::to_owned);
                        manager.store().upsert_memory(&memory).await.map_err(store_failed)?;
                        Ok(json!({"memory_id": memory.memory_id, "status": "added"}))
                    }
                },
            ))
            .tool(FnTool::new(
                "update_memory",
                "Rewrites a remembered fact about the user.",
                move |ctx: RunContext<D>, args: UpdateMemory| {
                    let manager = update.clone();
                    async move {
                        let user_id = user_of(&ctx)?;
                        let mut memory = owned_memory(&manager, user_id, &args.memory_id).await?;
                        memory.memory = args.memory.trim().to_owned();
                        if !args.topics.is_empty() {
                            memory.topics = args.topics;
                        }
                        memory.updated_at = unix_now();
                        manager.store().upsert_memory(&memory).await.map_err(store_failed)?;
                        Ok(json!({"memory_id": memory.memory_id, "status": "updated"}))
                    }
                },
            ))
            .tool(FnTool::new(
                "delete_memory",
                "Forgets a remembered fact about the user.",
                move |ctx: RunContext<D>, args: DeleteMemory| {
                    let manager = delete.clone();
                    async move {
                        let user_id = user_of(&ctx)?;
                        let memory = owned_memory(&manager, user_id, &args.memory_id).await?;
                        manager.store().delete_memory(&memory.memory_id).await.map_err(store_failed)?;
                        Ok(json!({"memory_id": memory.memory_id, "status": "deleted"}))
                    }
                },
            ))
            .tool(FnTool::new(
                "search_memories",
                "Finds remembered facts about the user, most relevant first, with their ids.",
                move |ctx: RunContext<D>, args: SearchMemories| {
                    let manager = search.clone();
                    async move {
                        let user_id = user_of(&ctx)?;
                        let limit = args.limit.unwrap_or(10).clamp(1, 100);
                        let found = manager.relevant(user_id, &args.query, limit).await.map_err(|err| match err {
                            crate::Error::Store(err) => store_failed(err),
                            other => ToolError::fatal(other.to_string()),
                        })?;
                        let rows: Vec<_> = found
                            .iter()
                            .map(|m| json!({"memory_id": m.memory_id, "memory": m.memory, "topics": m.topics}))
                            .collect();
                        Ok(json!({"memories": rows}))
                    }
                },
            ))
    }
}

fn user_of<D>(ctx: &RunContext<D>) -> Result<&str, ToolError> {
    ctx.user_id().ok_or_else(|| {
        ToolError::retry("this run has no user id, so no memories can be kept; answer without the memory tools")
    })
}

async fn owned_memory(manager: &MemoryManager, user_id: &str, memory_id: &str) -> Result<UserMemory, ToolError> {
    match manager.store().memory(memory_id).await.map_err(store_failed)? {
        Some(memory) if memory.user_id.as_deref() == Some(user_id) => Ok(memory),
        _ => Err(ToolError::retry(format!(
            "there is no memory `{memory_id}` for this user; call `search_memories` for the ids"
        ))),
    }
}

fn store_failed(err: StoreError) -> ToolError {
    ToolError::fatal(format!("the memory store failed: {err}"))
}

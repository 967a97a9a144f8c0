//! `MemoryManager`: model-driven extraction, recall and optimization of user memories.

use std::collections::HashSet;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::store::{MemoryQuery, MemoryStore, UserMemory};
use super::structured::{ask, transcript};
use crate::error::{Error, Result};
use crate::message::{Message, Role};
use crate::model::Model;
use crate::session::unix_now;

const EXTRACT_INSTRUCTIONS: &str = "You maintain a list of memories about a user: short, \
self-contained facts worth remembering across conversations (name, preferences, work, plans, \
people and things they care about). Read the conversation and decide which memories to add, \
update or delete. Add only facts about the user that are new; update a memory when the \
conversation changes or refines it; delete memories the user retracted or that are now wrong. \
Never duplicate an existing memory. Write each memory as one sentence in the third person \
(\"User likes coffee.\"), with one to three short lowercase topics. Return no operations when \
there is nothing worth remembering. Answer with JSON only.";

const OPTIMIZE_INSTRUCTIONS: &str = "You maintain a list of memories about a user. Rewrite the \
list as fewer, shorter memories: merge memories about the same subject, drop duplicates and \
facts contradicted by newer ones, keep every distinct fact. Give each memory one to five short \
lowercase topics. Answer with JSON only.";

/// How many of a user's memories extraction and recall look at.
const MEMORY_WINDOW: u32 = 1_000;

/// What the extracting model may do to one memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum OperationKind {
    /// Record a new memory (`memory` and `topics` set).
    Add,
    /// Rewrite the memory with id `id` (`memory` and `topics` set).
    Update,
    /// Forget the memory with id `id`.
    Delete,
}

/// One operation the extracting model asks for.
#[derive(Debug, Deserialize, JsonSchema)]
struct Operation {
    /// What to do.
    op: OperationKind,
    /// The id of the memory to update or delete; null for `add`.
    #[serde(default)]
    id: Option<String>,
    /// The memory text for `add` and `update`; null for `delete`.
    #[serde(default)]
    memory: Option<String>,
    /// Topics for `add` and `update`.
    #[serde(default)]
    topics: Vec<String>,
}

/// The extracting model's answer.
#[derive(Debug, Deserialize, JsonSchema)]
struct Operations {
    /// The operations, applied in order.
    operations: Vec<Operation>,
}

/// One memory in the optimizing model's answer.
#[derive(Debug, Deserialize, JsonSchema)]
struct OptimizedMemory {
    /// The memory text.
    memory: String,
    /// Its topics.
    #[serde(default)]
    topics: Vec<String>,
}

/// The optimizing model's answer.
#[derive(Debug, Deserialize, JsonSchema)]
struct Optimized {
    /// The new list of memories, replacing the old one.
    memories: Vec<OptimizedMemory>,
}

/// What [`MemoryManager::update_from_messages`] changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryUpdate {
    /// Memories recorded.
    pub added: Vec<UserMemory>,
    /// Memories rewritten, as they are now.
    pub updated: Vec<UserMemory>,
    /// Ids of memories forgotten.
    pub deleted: Vec<String>,
    /// Operations not applied: duplicates, unknown ids, empty text.
    pub skipped: usize,
}

impl MemoryUpdate {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.updated.is_empty() && self.deleted.is_empty()
    }
}

/// What [`MemoryManager::optimize`] did, in the shape of the AgentOS
/// `optimize-memories` response.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OptimizeOutcome {
    /// The user's memories now.
    pub memories: Vec<UserMemory>,
    /// How many memories there were.
    pub memories_before: usize,
    /// How many there are now.
    pub memories_after: usize,
    /// Estimated tokens of the memories before.
    pub tokens_before: usize,
    /// Estimated tokens after.
    pub tokens_after: usize,
    /// `tokens_before - tokens_after` (zero if they grew).
    pub tokens_saved: usize,
    /// `tokens_saved` as a percentage of `tokens_before`.
    pub reduction_percentage: f64,
}

/// Extracts, recalls and optimizes user memories with a model and a
/// [`MemoryStore`].
///
/// An agent given a manager puts [`MemoryManager::relevant`] memories into
/// its system prompt (with [`MemoryManager::prompt_section`]) and, after each
/// run, calls [`MemoryManager::update_from_messages`]; or it gives the model
/// [`MemoryManager::tools`] to manage memories itself. Cloning is cheap.
#[derive(Clone)]
pub struct MemoryManager {
    model: Arc<dyn Model>,
    store: Arc<dyn MemoryStore>,
    instructions: String,
}

impl std::fmt::Debug for MemoryManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryManager").field("model", &self.model.id()).finish_non_exhaustive()
    }
}

impl MemoryManager {
    /// A manager asking `model` and keeping memories in `store`.
    pub fn new(model: Arc<dyn Model>, store: Arc<dyn MemoryStore>) -> Self {
        Self { model, store, instructions: EXTRACT_INSTRUCTIONS.to_owned() }
    }

    /// Replaces the instructions for extraction (what is worth remembering).
    #[must_use]
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = instructions.into();
        self
    }

    /// The store memories are kept in.
    pub fn store(&self) -> &Arc<dyn MemoryStore> {
        &self.store
    }

    /// The model it asks.
    pub fn model(&self) -> &Arc<dyn Model> {
        &self.model
    }

    /// The user's memories, most recently updated first (up to 1,000).
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store fails.
    pub async fn memories(&self, user_id: &str) -> Result<Vec<UserMemory>> {
        let query = MemoryQuery { limit: Some(MEMORY_WINDOW), ..MemoryQuery::user(user_id) };
        Ok(self.store.list_memories(&query).await?.items)
    }

    /// Asks the model what to remember from `messages` (a run's messages) and
    /// applies its add, update and delete operations to the user's memories.
    ///
    /// Operations on ids that are not the user's, empty memories and
    /// duplicates of existing memories (compared ignoring case, spacing and
    /// final punctuation) are skipped.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when the model call fails,
    /// [`Error::OutputValidation`] when its answer is not the JSON asked for,
    /// [`Error::Store`] when the store fails (operations before the failure
    /// stay applied).
    pub async fn update_from_messages(
        &self,
        user_id: &str,
        agent_id: Option<&str>,
        messages: &[Message],
    ) -> Result<MemoryUpdate> {
        let conversation = transcript(messages);
        if conversation.trim().is_empty() {
            return Ok(MemoryUpdate::default());
        }
        let existing = self.memories(user_id).await?;
        let mut prompt = String::from("Existing memories (id: memory [topics]):\n");
        if existing.is_empty() {
            prompt.push_str("(none)\n");
        }
        for memory in &existing {
            prompt.push_str(&format!("{}: {} [{}]\n", memory.memory_id, memory.memory, memory.topics.join(", ")));
        }
        prompt.push_str("\n<conversation>\n");
        prompt.push_str(&conversation);
        prompt.push_str("</conversation>");
        let answer: Operations = ask(&*self.model, self.instructions.clone(), vec![Message::user(prompt)]).await?;

        let input = messages.iter().find(|message| message.role == Role::User).map(Message::text);
        let mut known: HashSet<String> = existing.iter().map(|memory| normalize(&memory.memory)).collect();
        let mut update = MemoryUpdate::default();
        for operation in answer.operations {
            let owned = |id: &Option<String>| {
                id.as_ref().and_then(|id| existing.iter().find(|memory| &memory.memory_id == id)).cloned()
            };
            let text = operation.memory.as_deref().map(str::trim).filter(|text| !text.is_empty());
            match operation.op {
                OperationKind::Add => {
                    let Some(text) = text.filter(|text| known.insert(normalize(text))) else {
                        update.skipped += 1;
                        continue;
                    };
                    let mut memory = UserMemory::new(user_id, text).with_topics(operation.topics);
                    memory.agent_id = agent_id.map(str::to_owned);
                    memory.input = input.clone();
                    self.store.upsert_memory(&memory).await?;
                    update.added.push(memory);
                }
                OperationKind::Update => {
                    let (Some(mut memory), Some(text)) = (owned(&operation.id), text) else {
                        update.skipped += 1;
                        continue;
                    };
                    known.insert(normalize(text));
                    memory.memory = text.to_owned();
                    if !operation.topics.is_empty() {
                        memory.topics = operation.topics;
                    }
                    memory.updated_at = unix_now();
                    self.store.upsert_memory(&memory).await?;
                    update.updated.push(memory);
                }
                OperationKind::Delete => {
                    let Some(memory) = owned(&operation.id) else {
                        update.skipped += 1;
                        continue;
                    };
                    if self.store.delete_memory(&memory.memory_id).await? {
                        update.deleted.push(memory.memory_id);
                    }
                }
            }
        }
        Ok(update)
    }

    /// The user's memories most relevant to `query`, at most `limit`.
    ///
    /// Memories sharing more words with the query (in text or topics) come
    /// first; the rest are filled in newest first, since facts about the user
    /// are often useful whatever the question.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store fails.
    pub async fn relevant(&self, user_id: &str, query: &str, limit: usize) -> Result<Vec<UserMemory>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let memories = self.memories(user_id).await?;
        let query_words: HashSet<String> = words(query).collect();
        let mut scored: Vec<(usize, usize, UserMemory)> = memories
            .into_iter()
            .enumerate()
            .map(|(recency, memory)| {
                let haystack: HashSet<String> =
                    words(&memory.memory).chain(memory.topics.iter().flat_map(|topic| words(topic))).collect();
                (query_words.intersection(&haystack).count(), recency, memory)
            })
            .collect();
        // Higher score first; among equals, the store's order (newest first).
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        Ok(scored.into_iter().take(limit).map(|(_, _, memory)| memory).collect())
    }

    /// The system-prompt section listing `memories`; empty when there are none.
    pub fn prompt_section(memories: &[UserMemory]) -> String {
        if memories.is_empty() {
            return String::new();
        }
        let mut section =
            String::from("You have access to memories from previous interactions with the user:\n<memories>\n");
        for memory in memories {
            section.push_str("- ");
            section.push_str(memory.memory.trim());
            section.push('\n');
        }
        section.push_str(
            "</memories>\nThis information is from previous interactions and may be outdated; \
             prefer what the user says in this conversation.",
        );
        section
    }

    /// Merges and trims the user's memories with the model, replacing them in
    /// one transaction. Nothing is asked when the user has fewer than two.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when the model call fails,
    /// [`Error::OutputValidation`] when its answer is not the JSON asked for
    /// or would delete every memory, [`Error::Store`] when the store fails
    /// (the memories are unchanged then).
    pub async fn optimize(&self, user_id: &str) -> Result<OptimizeOutcome> {
        let (outcome, asked) = self.plan_optimize(user_id).await?;
        if asked {
            self.store.replace_user_memories(user_id, &outcome.memories).await?;
        }
        Ok(outcome)
    }

    /// What [`optimize`](Self::optimize) would leave, without writing it: a
    /// dry run. The returned memories have new ids; nothing in the store changes.
    ///
    /// # Errors
    ///
    /// As for [`optimize`](Self::optimize), but never a write failure.
    pub async fn optimize_dry_run(&self, user_id: &str) -> Result<OptimizeOutcome> {
        Ok(self.plan_optimize(user_id).await?.0)
    }

    /// The optimized memories, and whether the model was asked (the store
    /// needs writing).
    async fn plan_optimize(&self, user_id: &str) -> Result<(OptimizeOutcome, bool)> {
        let before = self.store.list_memories(&MemoryQuery::user(user_id)).await?.items;
        let tokens_before = before.iter().map(|memory| estimate_tokens(&memory.memory)).sum();
        if before.len() < 2 {
            let outcome = OptimizeOutcome {
                memories_before: before.len(),
                memories_after: before.len(),
                tokens_before,
                tokens_after: tokens_before,
                memories: before,
                ..OptimizeOutcome::default()
            };
            return Ok((outcome, false));
        }
        let mut prompt = String::from("The memories, newest first:\n");
        for memory in &before {
            prompt.push_str(&format!("- {} [{}]\n", memory.memory, memory.topics.join(", ")));
        }
        let answer: Optimized =
            ask(&*self.model, OPTIMIZE_INSTRUCTIONS.to_owned(), vec![Message::user(prompt)]).await?;
        let after: Vec<UserMemory> = answer
            .memories
            .into_iter()
            .filter(|optimized| !optimized.memory.trim().is_empty())
            .map(|optimized| UserMemory::new(user_id, optimized.memory.trim()).with_topics(optimized.topics))
            .collect();
        if after.is_empty() {
            return Err(Error::OutputValidation {
                attempts: 1,
                message: format!("the model merged {} memories into none; refusing to delete them all", before.len()),
                partial: Box::default(),
            });
        }
        let tokens_after: usize = after.iter().map(|memory| estimate_tokens(&memory.memory)).sum();
        let tokens_saved = tokens_before.saturating_sub(tokens_after);
        let outcome = OptimizeOutcome {
            memories_before: before.len(),
            memories_after: after.len(),
            tokens_before,
            tokens_after,
            tokens_saved,
            reduction_percentage: if tokens_before == 0 {
                0.0
            } else {
                tokens_saved as f64 * 100.0 / tokens_before as f64
            },
            memories: after,
        };
        Ok((outcome, true))
    }
}

/// The text compared when deduplicating: lowercase, single spaces, no final
/// punctuation.
fn normalize(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    joined.trim_end_matches(['.', '!', '?', ';', ',']).to_owned()
}

/// Lowercase words of three letters or more.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|word| word.chars().count() >= 3).map(str::to_lowercase)
}

/// A rough token count: about four bytes per token.
fn estimate_tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}

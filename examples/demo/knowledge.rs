//! The demo's knowledge base: a few Markdown documents in SQLite, embedded offline.

use agent_core::knowledge::HashEmbedder;
use agent_memory::knowledge::{ContentInput, KnowledgeBase, SqliteKnowledge};

/// The documents of the demo knowledge base: `(name, Markdown text)`.
pub const DOCS: [(&str, &str); 3] = [
    (
        "weather.md",
        "# Weather\n\nThe weather agent answers questions about the weather in a city with its \
         `get_weather` tool. Ask it \"What's the weather in Lisbon?\".",
    ),
    (
        "approvals.md",
        "# Approvals\n\nDeleting a city needs the user's approval: the run pauses with the pending call, \
         and continues once the user approves or rejects it. A rejected call is not run.",
    ),
    (
        "sessions.md",
        "# Sessions\n\nRuns with the same session id share their conversation. Sessions are stored in \
         SQLite by default, or in Postgres when several servers share them.",
    ),
];

/// A knowledge base named `demo-docs` holding [`DOCS`], in an in-memory
/// SQLite store with a hashing embedder (no network), every document
/// indexed before it returns.
///
/// # Errors
///
/// When the store cannot be opened or a document cannot be indexed.
pub async fn docs() -> anyhow::Result<KnowledgeBase> {
    let store = SqliteKnowledge::open_in_memory().await?;
    let knowledge = KnowledgeBase::builder(store).name("demo-docs").embedder(HashEmbedder::new(256)).build();
    for (name, text) in DOCS {
        knowledge.add_and_wait(ContentInput::text(name, text)).await?;
    }
    Ok(knowledge)
}

//! Knowledge folder: index a folder of Markdown into a SQLite knowledge base
//! and answer questions about it, citing the files. Runs on Claude when
//! ANTHROPIC_API_KEY is set, on an offline model otherwise; embeds with an
//! OpenAI-compatible endpoint when EMBEDDINGS_BASE_URL is set, with an
//! offline hashing embedder otherwise.
//!
//! ```text
//! cargo run --example knowledge_folder -- ./docs "How do I configure retries?"
//! cargo run --example knowledge_folder            # a built-in sample folder
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agent_core::knowledge::HashEmbedder;
use agent_core::testing::{FunctionModel, text_response, tool_calls_response};
use agent_core::{Agent, ContentBlock, Model, Role};
use agent_memory::knowledge::{ContentInput, ContentStatus, HttpEmbedder, KnowledgeBase, SqliteKnowledge};

const SAMPLE: [(&str, &str); 3] = [
    (
        "retries.md",
        "# Retries\n\nFailed model calls are retried up to 3 times with exponential backoff.\n\n\
         ## Configuring\n\nSet `max_retries` on the client; a `retry-after` header always wins.",
    ),
    (
        "sessions.md",
        "# Sessions\n\nSessions keep the conversation between runs. Store them in SQLite by default, \
         or in Postgres when several servers share them.",
    ),
    ("tools.md", "# Tools\n\nAnnotate a function with `#[tool]`; its doc comment becomes the tool description."),
];

/// Every `.md` file under `dir`, sorted.
fn markdown_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("md")) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Offline stand-in for Claude: searches the knowledge base for the question,
/// then answers with the best passage and its citation.
fn offline_model() -> Arc<dyn Model> {
    Arc::new(FunctionModel::new(|request| {
        let last = request.messages.last().map(|m| (m.role, m.content.clone()));
        match last {
            Some((Role::User, content)) if content.iter().any(|b| matches!(b, ContentBlock::ToolResult { .. })) => {
                let result = content
                    .iter()
                    .find_map(|b| match b {
                        ContentBlock::ToolResult { content, .. } => Some(content.to_text()),
                        _ => None,
                    })
                    .unwrap_or_default();
                // The tool's answer: a header line, then "[1] citation" and the passage, then "[2] ...".
                let mut lines = result.lines().skip_while(|line| !line.starts_with("[1] "));
                let citation = lines.next().map(|line| line.trim_start_matches("[1] ").to_owned());
                let passage: Vec<&str> = lines
                    .take_while(|line| !line.starts_with("[2] "))
                    .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
                    .collect();
                let answer = match citation {
                    Some(citation) => format!("{} [1]\n\n[1] {citation}", passage.join(" ")),
                    None => "I found nothing about that in the documents.".to_owned(),
                };
                Ok(text_response(answer))
            }
            _ => {
                let question = request.messages.last().map(|m| m.text()).unwrap_or_default();
                let arguments = serde_json::json!({ "query": question, "top_k": 3 });
                Ok(tool_calls_response([("call_1", "search_knowledge", arguments)]))
            }
        }
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let folder = args.next();
    let question = args.next().unwrap_or_else(|| "How do I configure retries?".to_owned());
    let sample_dir = std::env::temp_dir().join(format!("knowledge-folder-{}", std::process::id()));
    let folder = match folder {
        Some(folder) => PathBuf::from(folder),
        None => {
            std::fs::create_dir_all(&sample_dir)?;
            for (name, text) in SAMPLE {
                std::fs::write(sample_dir.join(name), text)?;
            }
            sample_dir.clone()
        }
    };

    let store = SqliteKnowledge::open_in_memory().await?;
    let builder = KnowledgeBase::builder(store).name("docs");
    let knowledge = if std::env::var("EMBEDDINGS_BASE_URL").is_ok_and(|url| !url.is_empty()) {
        builder.embedder(HttpEmbedder::from_env()?).build()
    } else {
        builder.embedder(HashEmbedder::new(256)).build()
    };
    for path in markdown_files(&folder)? {
        let relative = path.strip_prefix(&folder).unwrap_or(&path).display().to_string();
        knowledge.add(ContentInput::file(&path).name(relative)).await?;
    }
    knowledge.wait_idle().await;
    let items = knowledge.list(&Default::default()).await?;
    for item in &items.items {
        match item.status {
            ContentStatus::Completed => eprintln!("[indexed {}]", item.name),
            _ => eprintln!("[skipped {}: {}]", item.name, item.status_message),
        }
    }

    let model = examples::claude_or_offline(offline_model)?;
    let agent = Agent::builder(model)
        .instructions("You answer questions about the user's documents, briefly, citing the files you used.")
        .knowledge(Arc::new(knowledge))
        .build()?;
    let output = agent.run(question).await?;
    println!("{}", output.content);
    std::fs::remove_dir_all(&sample_dir).ok();
    Ok(())
}

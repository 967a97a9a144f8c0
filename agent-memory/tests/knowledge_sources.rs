//! Sources: browsing a local folder in the AgentOS listing shape and adding its files.

#![allow(clippy::unwrap_used)]

use agent_core::knowledge::KnowledgeError;
use agent_memory::knowledge::{ContentStatus, KnowledgeBase, Source, SqliteKnowledge};
use serde_json::json;

#[tokio::test]
async fn a_folder_source_lists_levels_pages_files_and_adds_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("docs/2024")).unwrap();
    std::fs::create_dir_all(dir.path().join("docs/empty")).unwrap();
    std::fs::write(dir.path().join("docs/a.md"), "# A\n\nAlpha text.").unwrap();
    std::fs::write(dir.path().join("docs/b.csv"), "k,v\nx,1\n").unwrap();
    std::fs::write(dir.path().join("docs/2024/c.txt"), "Gamma.").unwrap();
    let store = SqliteKnowledge::open_in_memory().await.unwrap();
    let kb = KnowledgeBase::builder(store).source(Source::folder("company", "Company Documents", dir.path())).build();

    let sources = serde_json::to_value(kb.sources()).unwrap();
    assert_eq!(sources, json!([{"id": "company", "name": "Company Documents", "type": "local", "prefix": ""}]));

    let root = kb.source_files("company", None, 1, 100).await.unwrap();
    assert_eq!(root.folders.iter().map(|f| f.prefix.as_str()).collect::<Vec<_>>(), ["docs/"]);
    assert!(root.files.is_empty());

    let docs = kb.source_files("company", Some("docs"), 1, 1).await.unwrap();
    assert_eq!(docs.prefix, "docs/");
    let folders: Vec<(&str, bool)> = docs.folders.iter().map(|f| (f.name.as_str(), f.is_empty)).collect();
    assert_eq!(folders, [("2024", false), ("empty", true)]);
    assert_eq!((docs.meta.total_count, docs.meta.total_pages, docs.files.len()), (2, 2, 1));
    assert_eq!((docs.files[0].key.as_str(), docs.files[0].content_type.as_str()), ("docs/a.md", "text/markdown"));
    let json = serde_json::to_value(&docs).unwrap();
    assert!(json["files"][0]["last_modified"].as_str().is_some_and(|t| t.ends_with('Z')), "{json}");
    assert_eq!(json["meta"], json!({"page": 1, "limit": 1, "total_pages": 2, "total_count": 2}));

    let item = kb.add_from_source("company", "docs/a.md", serde_json::Map::new()).await.unwrap();
    let item = kb.wait(&item.id).await.unwrap();
    assert_eq!((item.status, item.name.as_str()), (ContentStatus::Completed, "docs/a.md"));
    assert_eq!(item.metadata["source_id"], "company");

    let outside = kb.source_files("company", Some("../"), 1, 10).await.unwrap_err();
    assert!(matches!(outside, KnowledgeError::Invalid(_)), "{outside}");
    let escape = kb.add_from_source("company", "../secret.txt", serde_json::Map::new()).await.unwrap_err();
    assert!(matches!(escape, KnowledgeError::Invalid(_)), "{escape}");
    let unknown = kb.source_files("nope", None, 1, 10).await.unwrap_err();
    assert!(unknown.to_string().contains("source `nope` not found"), "{unknown}");
}

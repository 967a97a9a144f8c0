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

/// A folder with a document, for the checks below.
fn folder() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("docs");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("a.md"), "# A\n\nAlpha text.").unwrap();
    (dir, root)
}

async fn kb_over(root: &std::path::Path, max_bytes: usize) -> KnowledgeBase {
    let store = SqliteKnowledge::open_in_memory().await.unwrap();
    KnowledgeBase::builder(store).max_bytes(max_bytes).source(Source::folder("docs", "Docs", root)).build()
}

/// Adds a file of the source, bounded so a regression that blocks fails instead of hanging.
async fn add_key(kb: &KnowledgeBase, key: &str) -> Result<agent_memory::knowledge::Content, KnowledgeError> {
    let added = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let item = kb.add_from_source("docs", key, serde_json::Map::new()).await?;
        kb.wait(&item.id).await
    });
    added.await.expect("adding the file returns")
}

#[tokio::test]
async fn max_bytes_applies_to_files() {
    let (_dir, root) = folder();
    std::fs::write(root.join("big.txt"), "x".repeat(100)).unwrap();
    let kb = kb_over(&root, 50).await;
    let big = add_key(&kb, "big.txt").await.unwrap();
    assert_eq!(big.status, ContentStatus::Failed);
    assert!(big.status_message.contains("larger than the 50 byte limit"), "{}", big.status_message);
    assert_eq!(add_key(&kb, "a.md").await.unwrap().status, ContentStatus::Completed, "small files still pass");
    let direct = kb.add_and_wait(agent_memory::knowledge::ContentInput::file(root.join("big.txt"))).await.unwrap();
    assert_eq!(direct.status, ContentStatus::Failed, "files added directly too");
}

#[cfg(unix)]
#[tokio::test]
async fn files_that_are_not_regular_are_refused() {
    let (_dir, root) = folder();
    let made = std::process::Command::new("mkfifo").arg(root.join("pipe.txt")).status().unwrap();
    assert!(made.success(), "mkfifo");
    std::fs::create_dir(root.join("sub")).unwrap();
    let kb = kb_over(&root, 1 << 20).await;
    for key in ["pipe.txt", "sub"] {
        let item = add_key(&kb, key).await.unwrap();
        assert_eq!(item.status, ContentStatus::Failed, "{key}");
        assert!(item.status_message.contains("not a regular file"), "{key}: {}", item.status_message);
    }
}

#[cfg(unix)]
#[tokio::test]
async fn symbolic_links_out_of_the_folder_are_refused() {
    use agent_core::knowledge::{Knowledge, SearchMode, SearchQuery};

    let (dir, root) = folder();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "The launch code is swordfish.").unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("secret.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(root.join("a.md"), root.join("alias.md")).unwrap();
    let kb = kb_over(&root, 1 << 20).await;

    for key in ["secret.txt", "elsewhere/secret.txt"] {
        let err = add_key(&kb, key).await.unwrap_err();
        assert!(matches!(err, KnowledgeError::Invalid(_)) && err.to_string().contains("symbolic link"), "{key}: {err}");
    }
    let err = kb.source_files("docs", Some("elsewhere/"), 1, 10).await.unwrap_err();
    assert!(matches!(err, KnowledgeError::Invalid(_)), "a linked folder outside is not listed: {err}");
    let hits = kb.search(&SearchQuery::new("launch code swordfish").mode(SearchMode::Lexical)).await.unwrap();
    assert!(hits.is_empty(), "the secret was not indexed: {hits:?}");
    assert_eq!(add_key(&kb, "alias.md").await.unwrap().status, ContentStatus::Completed, "links inside are fine");
}

#[cfg(unix)]
#[tokio::test]
async fn names_that_are_not_utf8_can_be_listed_and_added() {
    use std::os::unix::ffi::OsStrExt;

    let (_dir, root) = folder();
    let latin1 = std::ffi::OsStr::from_bytes(b"caf\xe9 100%.txt");
    std::fs::write(root.join(latin1), "Coffee notes.").unwrap();
    let kb = kb_over(&root, 1 << 20).await;
    let listing = kb.source_files("docs", None, 1, 10).await.unwrap();
    let keys: Vec<&str> = listing.files.iter().map(|file| file.key.as_str()).collect();
    assert_eq!(keys, ["a.md", "caf%E9 100%25.txt"], "lossless keys");
    assert_eq!(listing.files[1].name, "caf\u{fffd} 100%.txt", "names are for display");
    let item = add_key(&kb, "caf%E9 100%25.txt").await.unwrap();
    assert_eq!(item.status, ContentStatus::Completed, "{}", item.status_message);
    let bad = add_key(&kb, "caf%E").await.unwrap_err();
    assert!(matches!(bad, KnowledgeError::Invalid(_)), "{bad}");
}

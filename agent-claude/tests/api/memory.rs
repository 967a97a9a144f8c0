//! The memory tool handler: its commands, and paths that try to escape its directory.

use std::sync::Arc;

use agent_claude::MemoryTool;
use agent_core::{RunContext, Tool, ToolError};
use serde_json::json;

fn tool() -> (tempfile::TempDir, MemoryTool) {
    let dir = tempfile::tempdir().unwrap();
    let memory = MemoryTool::new(dir.path().join("store")).unwrap();
    (dir, memory)
}

#[tokio::test]
async fn commands_create_view_edit_insert_rename_delete() {
    let (_dir, memory) = tool();
    let run = |input: serde_json::Value| memory.execute(input);
    assert!(
        run(json!({"command": "create", "path": "/memories/prefs/lang.md", "file_text": "TypeScript\nTabs\n"}))
            .await
            .is_ok()
    );
    let listing = run(json!({"command": "view", "path": "/memories"})).await.unwrap();
    assert!(listing.contains("/memories/prefs/lang.md"), "{listing}");
    run(json!({"command": "str_replace", "path": "/memories/prefs/lang.md", "old_str": "Tabs", "new_str": "Spaces"}))
        .await
        .unwrap();
    run(json!({"command": "insert", "path": "/memories/prefs/lang.md", "insert_line": 1, "insert_text": "Rust\n"}))
        .await
        .unwrap();
    let view = run(json!({"command": "view", "path": "/memories/prefs/lang.md"})).await.unwrap();
    assert!(view.ends_with("     1\tTypeScript\n     2\tRust\n     3\tSpaces"), "{view}");
    let ranged =
        run(json!({"command": "view", "path": "/memories/prefs/lang.md", "view_range": [2, 2]})).await.unwrap();
    assert!(ranged.ends_with("     2\tRust"), "{ranged}");
    run(json!({"command": "rename", "old_path": "/memories/prefs/lang.md", "new_path": "/memories/lang.md"}))
        .await
        .unwrap();
    assert!(memory.root().join("lang.md").exists());
    run(json!({"command": "delete", "path": "/memories/lang.md"})).await.unwrap();
    assert!(!memory.root().join("lang.md").exists());
}

#[tokio::test]
async fn mistakes_are_retryable_errors_for_the_model() {
    let (_dir, memory) = tool();
    memory.execute(json!({"command": "create", "path": "/memories/a.md", "file_text": "x x"})).await.unwrap();
    let cases = [
        json!({"command": "view", "path": "/memories/missing.md"}),
        json!({"command": "create", "path": "/memories/a.md", "file_text": "again"}),
        json!({"command": "str_replace", "path": "/memories/a.md", "old_str": "x", "new_str": "y"}),
        json!({"command": "str_replace", "path": "/memories/a.md", "old_str": "z", "new_str": "y"}),
        json!({"command": "insert", "path": "/memories/a.md", "insert_line": 9, "insert_text": "y"}),
        json!({"command": "delete", "path": "/memories"}),
        json!({"command": "undo_edit", "path": "/memories/a.md"}),
        json!({"command": "create", "path": "/memories/b.md"}),
    ];
    for input in cases {
        let err = memory.execute(input.clone()).await.unwrap_err();
        assert!(matches!(err, ToolError::Retry(_)), "{input}: {err:?}");
    }
}

#[tokio::test]
async fn paths_escaping_the_directory_are_refused() {
    let (dir, memory) = tool();
    std::fs::write(dir.path().join("secret.txt"), "top secret").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path(), memory.root().join("link")).unwrap();
    let escapes = [
        "/memories/../secret.txt",
        "/memories/notes/../../secret.txt",
        "/etc/passwd",
        "secret.txt",
        "/memoriesX/a.md",
        "/memories/link/secret.txt",
    ];
    for path in escapes {
        let err = memory.execute(json!({"command": "view", "path": path})).await.unwrap_err();
        assert!(matches!(err, ToolError::Retry(_)), "{path}");
        let err = memory.execute(json!({"command": "create", "path": path, "file_text": "pwned"})).await.unwrap_err();
        assert!(matches!(err, ToolError::Retry(_)), "{path}");
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("secret.txt")).unwrap(), "top secret");
    let err = memory
        .execute(json!({"command": "rename", "old_path": "/memories/x", "new_path": "/memories/../../x"}))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Retry(_)));
}

#[tokio::test]
async fn it_is_a_tool_for_any_deps_with_the_provider_spec() {
    let (_dir, memory) = tool();
    let def = Tool::<()>::def(&memory);
    assert_eq!(def.provider_spec, Some(json!({"type": "memory_20250818", "name": "memory"})));
    assert_eq!(def.name, "memory");
    let ctx = RunContext::new(Arc::new(42u8));
    let output = Tool::<Arc<u8>>::call(&memory, &ctx, json!({"command": "view", "path": "/memories"})).await.unwrap();
    assert!(output.content.to_text().contains("/memories"));
}

//! Keeps the tree tidy: every Rust file says what it is for, and no
//! placeholder or debugging macro is left behind.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_dir() {
            if !matches!(name, "target" | ".git" | "ui" | "fixtures") && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn workspace_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    rust_files(root, &mut files);
    assert!(files.len() > 20, "found only {} files under {}", files.len(), root.display());
    files
}

#[test]
fn every_rust_file_starts_with_a_doc_line() {
    let missing: Vec<String> = workspace_files()
        .into_iter()
        .filter(|path| !std::fs::read_to_string(path).unwrap().trim_start().starts_with("//!"))
        .map(|path| path.display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a `//!` line saying what they are for: {missing:#?}");
}

#[test]
fn no_placeholders_or_debug_macros() {
    let banned = [concat!("to", "do!("), concat!("unimpl", "emented!("), concat!("db", "g!(")];
    let mut found = Vec::new();
    for path in workspace_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        for (number, line) in text.lines().enumerate() {
            if banned.iter().any(|macro_call| line.contains(macro_call)) {
                found.push(format!("{}:{}: {}", path.display(), number + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "placeholders left behind: {found:#?}");
}

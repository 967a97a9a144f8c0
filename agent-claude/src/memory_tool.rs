//! A client-side handler for Claude's memory tool (`memory_20250818`) over one directory.
//!
//! The model sees a virtual `/memories` directory; every path it sends is
//! resolved inside the handler's directory, and any path that could escape it
//! (`..`, other absolute paths, symbolic links) is refused.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use agent_core::{RunContext, Tool, ToolDef, ToolError, ToolOutput};
use serde_json::{Value, json};

/// The virtual root the model addresses.
const ROOT: &str = "/memories";

/// Claude's memory tool, stored in a directory.
///
/// Its [`ToolDef::provider_spec`] is `{"type": "memory_20250818", "name":
/// "memory"}`, which the Claude client sends instead of a schema. Commands:
/// `view`, `create`, `str_replace`, `insert`, `delete`, `rename`. Mistakes
/// (a missing file, a non-unique `old_str`, a path outside `/memories`) go
/// back to the model as retryable errors.
///
/// # Example
///
/// ```
/// # tokio_test_block_on(async {
/// use agent_claude::MemoryTool;
///
/// let dir = std::env::temp_dir().join(format!("memory-doc-{}", std::process::id()));
/// let memory = MemoryTool::new(&dir)?;
/// memory.execute(serde_json::json!({"command": "create", "path": "/memories/notes.md", "file_text": "tea\n"})).await?;
/// let view = memory.execute(serde_json::json!({"command": "view", "path": "/memories/notes.md"})).await?;
/// assert!(view.contains("1\ttea"));
/// assert!(memory.execute(serde_json::json!({"command": "view", "path": "/memories/../etc"})).await.is_err());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MemoryTool {
    root: PathBuf,
    def: Arc<ToolDef>,
}

impl MemoryTool {
    /// A memory tool storing its files in `dir` (created when missing).
    ///
    /// # Errors
    ///
    /// The I/O error when the directory cannot be created or resolved.
    pub fn new(dir: impl AsRef<Path>) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir.as_ref())?;
        let root = dir.as_ref().canonicalize()?;
        let mut def = ToolDef::new(
            "memory",
            "Store and retrieve information across conversations in the /memories directory.",
            json!({"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}),
        );
        def.provider_spec = Some(json!({"type": "memory_20250818", "name": "memory"}));
        Ok(Self { root, def: Arc::new(def) })
    }

    /// The directory the files live in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Runs one command, as the model sent it; returns the text for the model.
    ///
    /// # Errors
    ///
    /// A retryable [`ToolError`] for unknown commands, missing arguments,
    /// refused paths and failed file operations.
    pub async fn execute(&self, input: Value) -> Result<String, ToolError> {
        let command = text(&input, "command")?;
        match command {
            "view" => self.view(&input).await,
            "create" => {
                let (virtual_path, path) = self.resolve(text(&input, "path")?)?;
                if path == self.root {
                    return Err(ToolError::retry("cannot create /memories itself"));
                }
                if tokio::fs::try_exists(&path).await.unwrap_or(false) {
                    return Err(ToolError::retry(format!("{virtual_path} already exists")));
                }
                if let Some(parent) = path.parent() {
                    tokio::fs::create_dir_all(parent).await.map_err(|err| io_error(&virtual_path, &err))?;
                }
                tokio::fs::write(&path, text(&input, "file_text")?)
                    .await
                    .map_err(|err| io_error(&virtual_path, &err))?;
                Ok(format!("File created successfully at: {virtual_path}"))
            }
            "str_replace" => {
                let (virtual_path, path) = self.resolve(text(&input, "path")?)?;
                let (old, new) = (text(&input, "old_str")?, text(&input, "new_str").unwrap_or(""));
                let content = read(&path, &virtual_path).await?;
                match content.matches(old).count() {
                    0 => Err(ToolError::retry(format!(
                        "no replacement was performed: `old_str` did not appear verbatim in {virtual_path}"
                    ))),
                    1 => {
                        let updated = content.replacen(old, new, 1);
                        tokio::fs::write(&path, updated).await.map_err(|err| io_error(&virtual_path, &err))?;
                        Ok("The memory file has been edited.".to_owned())
                    }
                    count => Err(ToolError::retry(format!(
                        "no replacement was performed: `old_str` appears {count} times in {virtual_path}; make it unique"
                    ))),
                }
            }
            "insert" => {
                let (virtual_path, path) = self.resolve(text(&input, "path")?)?;
                let line = input.get("insert_line").and_then(Value::as_u64).ok_or_else(|| missing("insert_line"))?;
                let insert = text(&input, "insert_text")?;
                let content = read(&path, &virtual_path).await?;
                let mut lines: Vec<&str> = content.lines().collect();
                let line = usize::try_from(line).unwrap_or(usize::MAX);
                if line > lines.len() {
                    return Err(ToolError::retry(format!(
                        "`insert_line` {line} is past the end of {virtual_path} ({} lines)",
                        lines.len()
                    )));
                }
                let inserted = insert.strip_suffix('\n').unwrap_or(insert);
                lines.insert(line, inserted);
                let mut updated = lines.join("\n");
                updated.push('\n');
                tokio::fs::write(&path, updated).await.map_err(|err| io_error(&virtual_path, &err))?;
                Ok(format!("The file {virtual_path} has been edited."))
            }
            "delete" => {
                let (virtual_path, path) = self.resolve(text(&input, "path")?)?;
                if path == self.root {
                    return Err(ToolError::retry("cannot delete /memories itself"));
                }
                let metadata = tokio::fs::metadata(&path).await.map_err(|err| io_error(&virtual_path, &err))?;
                let removed = if metadata.is_dir() {
                    tokio::fs::remove_dir_all(&path).await
                } else {
                    tokio::fs::remove_file(&path).await
                };
                removed.map_err(|err| io_error(&virtual_path, &err))?;
                Ok(format!("Successfully deleted {virtual_path}"))
            }
            "rename" => {
                let (old_virtual, old_path) = self.resolve(text(&input, "old_path")?)?;
                let (new_virtual, new_path) = self.resolve(text(&input, "new_path")?)?;
                if old_path == self.root || new_path == self.root {
                    return Err(ToolError::retry("cannot rename /memories itself"));
                }
                if tokio::fs::try_exists(&new_path).await.unwrap_or(false) {
                    return Err(ToolError::retry(format!("{new_virtual} already exists")));
                }
                if let Some(parent) = new_path.parent() {
                    tokio::fs::create_dir_all(parent).await.map_err(|err| io_error(&new_virtual, &err))?;
                }
                tokio::fs::rename(&old_path, &new_path).await.map_err(|err| io_error(&old_virtual, &err))?;
                Ok(format!("Successfully renamed {old_virtual} to {new_virtual}"))
            }
            other => Err(ToolError::retry(format!(
                "unknown memory command `{other}`; use view, create, str_replace, insert, delete or rename"
            ))),
        }
    }

    async fn view(&self, input: &Value) -> Result<String, ToolError> {
        let (virtual_path, path) = self.resolve(text(input, "path")?)?;
        let metadata = tokio::fs::metadata(&path).await.map_err(|err| io_error(&virtual_path, &err))?;
        if metadata.is_dir() {
            let mut lines = Vec::new();
            list(&path, &virtual_path, 2, &mut lines).await.map_err(|err| io_error(&virtual_path, &err))?;
            lines.sort();
            return Ok(format!(
                "Here are the files and directories up to 2 levels deep in {virtual_path}, excluding hidden items:\n{}",
                lines.join("\n")
            ));
        }
        let content = read(&path, &virtual_path).await?;
        let all: Vec<&str> = content.lines().collect();
        let (start, end) = match input.get("view_range").and_then(Value::as_array) {
            Some(range) if range.len() == 2 => {
                let start = range[0].as_i64().unwrap_or(1).max(1) as usize;
                let end = match range[1].as_i64() {
                    Some(end) if end >= 0 => (end as usize).min(all.len()),
                    _ => all.len(),
                };
                (start, end)
            }
            _ => (1, all.len()),
        };
        let numbered: Vec<String> = all
            .iter()
            .enumerate()
            .skip(start - 1)
            .take(end.saturating_sub(start - 1))
            .map(|(index, line)| format!("{:6}\t{line}", index + 1))
            .collect();
        Ok(format!("Here's the content of {virtual_path} with line numbers:\n{}", numbered.join("\n")))
    }

    /// Maps a `/memories/...` path into the directory, refusing escapes.
    fn resolve(&self, requested: &str) -> Result<(String, PathBuf), ToolError> {
        let refuse =
            || ToolError::retry(format!("path `{requested}` is outside /memories; use paths like /memories/notes.md"));
        let rest = requested.strip_prefix(ROOT).ok_or_else(refuse)?;
        if !(rest.is_empty() || rest.starts_with('/')) || rest.contains('\\') || rest.contains('\0') {
            return Err(refuse());
        }
        let mut path = self.root.clone();
        for component in Path::new(rest.trim_start_matches('/')).components() {
            match component {
                Component::Normal(part) => {
                    path.push(part);
                    // A symlink anywhere on the way could point outside the directory.
                    if std::fs::symlink_metadata(&path).is_ok_and(|meta| meta.file_type().is_symlink()) {
                        return Err(ToolError::retry(format!("path `{requested}` goes through a symbolic link")));
                    }
                }
                Component::CurDir => {}
                _ => return Err(refuse()),
            }
        }
        let virtual_path = format!("{ROOT}{}", rest.trim_end_matches('/'));
        Ok((virtual_path, path))
    }
}

fn text<'a>(input: &'a Value, field: &str) -> Result<&'a str, ToolError> {
    input.get(field).and_then(Value::as_str).ok_or_else(|| missing(field))
}

fn missing(field: &str) -> ToolError {
    ToolError::retry(format!("the memory command needs a `{field}` argument"))
}

fn io_error(path: &str, err: &std::io::Error) -> ToolError {
    match err.kind() {
        std::io::ErrorKind::NotFound => ToolError::retry(format!("{path} does not exist")),
        _ => ToolError::retry(format!("{path}: {err}")),
    }
}

async fn read(path: &Path, virtual_path: &str) -> Result<String, ToolError> {
    tokio::fs::read_to_string(path).await.map_err(|err| io_error(virtual_path, &err))
}

/// Lists `dir` `depth` levels deep as `size\tpath` lines, skipping hidden entries.
async fn list(dir: &Path, virtual_dir: &str, depth: u32, out: &mut Vec<String>) -> std::io::Result<()> {
    let mut stack = vec![(dir.to_path_buf(), virtual_dir.to_owned(), depth)];
    while let Some((dir, virtual_dir, depth)) = stack.pop() {
        let mut entries = tokio::fs::read_dir(&dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let metadata = entry.metadata().await?;
            let virtual_path = format!("{virtual_dir}/{name}");
            out.push(format!("{}\t{virtual_path}", metadata.len()));
            if metadata.is_dir() && depth > 1 && !entry.file_type().await?.is_symlink() {
                stack.push((entry.path(), virtual_path, depth - 1));
            }
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl<D: Send + Sync + 'static> Tool<D> for MemoryTool {
    fn def(&self) -> Arc<ToolDef> {
        self.def.clone()
    }

    async fn call(&self, _ctx: &RunContext<D>, input: Value) -> Result<ToolOutput, ToolError> {
        self.execute(input).await.map(ToolOutput::text)
    }
}

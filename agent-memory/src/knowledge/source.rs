//! Content sources: folders content can be browsed and added from, in the
//! shape of the AgentOS `/knowledge/{id}/sources` endpoints.

use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};

use agent_core::knowledge::KnowledgeError;
use serde::{Deserialize, Serialize};

use super::content::rfc3339;
use super::reader::ReaderKind;

/// A place content is added from. Only local folders (`type` `local`) are
/// built in; keys are paths relative to the folder, with `/` separators, and
/// `%` and bytes of file names that are not UTF-8 written `%XX` (so every
/// listed file can be added by its key). Nothing outside the folder is
/// listed or read, through `..` or through symbolic links.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Unique id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The kind of source (`local`).
    #[serde(rename = "type")]
    pub source_type: String,
    /// The key prefix listings start at (`documents/`), empty for the root.
    pub prefix: String,
    /// The folder on disk (not serialized: clients see keys only).
    #[serde(skip)]
    pub root: PathBuf,
}

impl Source {
    /// A local folder source.
    pub fn folder(id: impl Into<String>, name: impl Into<String>, root: impl Into<PathBuf>) -> Self {
        Self { id: id.into(), name: name.into(), source_type: "local".into(), prefix: String::new(), root: root.into() }
    }

    /// Sets the default prefix.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The path of a key inside the folder, by the key's text alone (see
    /// [`resolve`](Self::resolve) for a check against the file system).
    ///
    /// # Errors
    ///
    /// [`KnowledgeError::Invalid`] for a key that leaves the folder (`..`,
    /// absolute paths) or a bad `%XX` escape.
    pub fn path_of(&self, key: &str) -> Result<PathBuf, KnowledgeError> {
        let decoded = decode_key(key.trim_start_matches('/'))
            .ok_or_else(|| KnowledgeError::Invalid(format!("key `{key}` has a bad `%` escape")))?;
        let relative = Path::new(&decoded);
        if relative.components().any(|part| !matches!(part, Component::Normal(_) | Component::CurDir)) {
            return Err(KnowledgeError::Invalid(format!("key `{key}` is outside source `{}`", self.id)));
        }
        Ok(self.root.join(relative))
    }

    /// The path of a key inside the folder, with symbolic links followed:
    /// refused when it ends up outside the folder. A path that does not
    /// exist is returned as [`path_of`](Self::path_of) gives it (reading it
    /// then fails). Blocking: run it off the async runtime.
    ///
    /// # Errors
    ///
    /// As for [`path_of`](Self::path_of), and [`KnowledgeError::Invalid`]
    /// for a key whose path leaves the folder through a symbolic link.
    pub fn resolve(&self, key: &str) -> Result<PathBuf, KnowledgeError> {
        let path = self.path_of(key)?;
        let Ok(real) = path.canonicalize() else { return Ok(path) };
        let root = self.root.canonicalize().map_err(|err| {
            KnowledgeError::Read(format!("cannot open source `{}` at `{}`: {err}", self.id, self.root.display()))
        })?;
        if !real.starts_with(&root) {
            return Err(KnowledgeError::Invalid(format!(
                "key `{key}` leads outside source `{}` (through a symbolic link)",
                self.id
            )));
        }
        Ok(real)
    }
}

/// A file name as a key part: `%` and bytes that are not UTF-8 as `%XX`.
fn encode_name(name: &OsStr) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(name);
    #[cfg(not(unix))]
    let lossy = name.to_string_lossy();
    #[cfg(not(unix))]
    let bytes = lossy.as_bytes();
    let mut key = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '%' {
                key.push_str("%25");
            } else {
                key.push(c);
            }
        }
        for byte in chunk.invalid() {
            key.push_str(&format!("%{byte:02X}"));
        }
    }
    key
}

/// The inverse of [`encode_name`] over a whole key; `None` for a `%` not
/// followed by two hex digits.
fn decode_key(key: &str) -> Option<OsString> {
    if !key.contains('%') {
        return Some(OsString::from(key));
    }
    let mut bytes = Vec::with_capacity(key.len());
    let mut rest = key.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    #[cfg(unix)]
    return Some(std::os::unix::ffi::OsStringExt::from_vec(bytes));
    #[cfg(not(unix))]
    return String::from_utf8(bytes).ok().map(OsString::from);
}

/// A folder in a [`SourceFiles`] listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFolder {
    /// The folder's key prefix (`reports/2024/`).
    pub prefix: String,
    /// Its name (`2024`).
    pub name: String,
    /// Whether it has no entries.
    pub is_empty: bool,
}

/// A file in a [`SourceFiles`] listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// The key to add it by (`reports/annual-summary.pdf`).
    pub key: String,
    /// The file name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, unix seconds (RFC 3339 in JSON).
    #[serde(with = "rfc3339")]
    pub last_modified: i64,
    /// Media type guessed from the extension.
    pub content_type: String,
}

/// Paging of a listing, as the AgentOS API reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageMeta {
    /// 1-based page.
    pub page: u32,
    /// Page size.
    pub limit: u32,
    /// Pages in all.
    pub total_pages: u64,
    /// Entries in all.
    pub total_count: u64,
}

/// One level of a source, like an S3 listing with a `/` delimiter: the
/// folders and files directly under `prefix`, files paged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFiles {
    /// The source's id.
    pub source_id: String,
    /// The source's name.
    pub source_name: String,
    /// The prefix listed.
    pub prefix: String,
    /// Sub-folders, sorted by name.
    pub folders: Vec<SourceFolder>,
    /// Files, sorted by name, one page of them.
    pub files: Vec<SourceFile>,
    /// Paging of `files`.
    pub meta: PageMeta,
}

/// Lists one level of a source (blocking: run it off the async runtime).
pub(crate) fn list(
    source: &Source,
    prefix: Option<&str>,
    page: u32,
    limit: u32,
) -> Result<SourceFiles, KnowledgeError> {
    let prefix = prefix.unwrap_or(&source.prefix).trim_start_matches('/').to_owned();
    let prefix = if prefix.is_empty() || prefix.ends_with('/') { prefix } else { format!("{prefix}/") };
    let dir = source.resolve(&prefix)?;
    let entries = std::fs::read_dir(&dir)
        .map_err(|err| KnowledgeError::Read(format!("cannot list `{prefix}` in source `{}`: {err}", source.id)))?;
    let (mut folders, mut files) = (Vec::new(), Vec::new());
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let key = format!("{prefix}{}", encode_name(&entry.file_name()));
        // Not followed: a symbolic link is neither a folder nor a file here.
        let Ok(metadata) = entry.metadata() else { continue };
        if metadata.is_dir() {
            let is_empty = std::fs::read_dir(entry.path()).map_or(true, |mut it| it.next().is_none());
            folders.push(SourceFolder { prefix: format!("{key}/"), name, is_empty });
        } else if metadata.is_file() {
            let last_modified = metadata
                .modified()
                .ok()
                .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |elapsed| elapsed.as_secs() as i64);
            let content_type =
                ReaderKind::for_name(&name).map_or("application/octet-stream", ReaderKind::media_type).to_owned();
            files.push(SourceFile { key, name, size: metadata.len(), last_modified, content_type });
        }
    }
    folders.sort_by(|a, b| a.name.cmp(&b.name));
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let (page, limit) = (page.max(1), limit.max(1));
    let total_count = files.len() as u64;
    let files = files.into_iter().skip((page as usize - 1) * limit as usize).take(limit as usize).collect();
    let meta = PageMeta { page, limit, total_pages: total_count.div_ceil(u64::from(limit)), total_count };
    Ok(SourceFiles { source_id: source.id.clone(), source_name: source.name.clone(), prefix, folders, files, meta })
}

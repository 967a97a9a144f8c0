//! Content sources: folders content can be browsed and added from, in the
//! shape of the AgentOS `/knowledge/{id}/sources` endpoints.

use std::path::{Component, Path, PathBuf};

use agent_core::knowledge::KnowledgeError;
use serde::{Deserialize, Serialize};

use super::content::rfc3339;
use super::reader::ReaderKind;

/// A place content is added from. Only local folders (`type` `local`) are
/// built in; keys are paths relative to the folder, with `/` separators.
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

    /// The path of a key inside the folder.
    ///
    /// # Errors
    ///
    /// [`KnowledgeError::Invalid`] for a key that leaves the folder (`..`, absolute paths).
    pub fn path_of(&self, key: &str) -> Result<PathBuf, KnowledgeError> {
        let relative = Path::new(key.trim_start_matches('/'));
        if relative.components().any(|part| !matches!(part, Component::Normal(_) | Component::CurDir)) {
            return Err(KnowledgeError::Invalid(format!("key `{key}` is outside source `{}`", self.id)));
        }
        Ok(self.root.join(relative))
    }
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
    let dir = source.path_of(&prefix)?;
    let entries = std::fs::read_dir(&dir)
        .map_err(|err| KnowledgeError::Read(format!("cannot list `{prefix}` in source `{}`: {err}", source.id)))?;
    let (mut folders, mut files) = (Vec::new(), Vec::new());
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(metadata) = entry.metadata() else { continue };
        if metadata.is_dir() {
            let is_empty = std::fs::read_dir(entry.path()).map_or(true, |mut it| it.next().is_none());
            folders.push(SourceFolder { prefix: format!("{prefix}{name}/"), name, is_empty });
        } else if metadata.is_file() {
            let last_modified = metadata
                .modified()
                .ok()
                .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |elapsed| elapsed.as_secs() as i64);
            let content_type =
                ReaderKind::for_name(&name).map_or("application/octet-stream", ReaderKind::media_type).to_owned();
            files.push(SourceFile {
                key: format!("{prefix}{name}"),
                name,
                size: metadata.len(),
                last_modified,
                content_type,
            });
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

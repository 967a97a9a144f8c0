//! Content items: what was added to a knowledge base, its status, and the
//! inputs, patches and list queries that act on it.

use agent_core::SortOrder;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::chunker::Chunking;
use super::reader::ReaderKind;

/// Where a content item is in its ingestion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentStatus {
    /// Being read, chunked, embedded and indexed; its new chunks are not searchable yet.
    #[default]
    Processing,
    /// Indexed: its chunks are searchable.
    Completed,
    /// Ingestion failed; `status_message` says why. No chunk of this attempt is searchable.
    Failed,
}

impl ContentStatus {
    /// The lowercase name used in the API and the databases.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    /// Parses the lowercase name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "processing" => Some(Self::Processing),
            "completed" => Some(Self::Completed),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// A content item of a knowledge base, in the shape of the AgentOS
/// `/knowledge/content` endpoints (`type`, `size` as a string, RFC 3339 times).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Content {
    /// Unique id.
    pub id: String,
    /// Display name: the file name, the URL, or the name given.
    pub name: String,
    /// What the content is about.
    #[serde(default)]
    pub description: String,
    /// Metadata copied onto every chunk, for filters.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// The media type (`text/markdown`, `application/pdf`, ...).
    #[serde(rename = "type", default)]
    pub content_type: String,
    /// Size of the raw content in bytes.
    #[serde(with = "size_string", default)]
    pub size: u64,
    /// How many times the content was read through the API.
    #[serde(default)]
    pub access_count: u64,
    /// Ingestion status.
    #[serde(default)]
    pub status: ContentStatus,
    /// Why ingestion failed; empty otherwise.
    #[serde(default)]
    pub status_message: String,
    /// Where it came from (a path, a URL, or `text`), carried by search hits for citations.
    #[serde(default)]
    pub source: String,
    /// The reader that parsed it (`text`, `markdown`, `html`, `pdf`, `csv`, `json`).
    #[serde(default)]
    pub reader: String,
    /// SHA-256 of the raw content (of the URL for remote content): adding
    /// identical content again returns this item instead of a new one.
    #[serde(default)]
    pub content_hash: String,
    /// Creation time, unix seconds (RFC 3339 in JSON).
    #[serde(with = "rfc3339", default)]
    pub created_at: i64,
    /// Last update time, unix seconds (RFC 3339 in JSON).
    #[serde(with = "rfc3339", default)]
    pub updated_at: i64,
}

/// The body of the AgentOS content status endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentStatusReport {
    /// The status.
    pub status: ContentStatus,
    /// Why it failed; empty otherwise.
    pub status_message: String,
}

/// What to add to a knowledge base.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ContentBody {
    /// Text given directly (read as plain text, or Markdown when the name ends in `.md`).
    Text(String),
    /// Raw bytes, such as an upload; the reader is chosen from the name and media type.
    Bytes(Vec<u8>),
    /// A file on disk, read when ingestion runs.
    File(std::path::PathBuf),
    /// A remote document fetched over HTTP(S) when ingestion runs.
    Url(String),
}

/// A content item to add: its body plus name, description and metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct ContentInput {
    /// The content.
    pub body: ContentBody,
    /// Name; defaults to the file name or URL.
    pub name: Option<String>,
    /// Description.
    pub description: String,
    /// Metadata for filters.
    pub metadata: Map<String, Value>,
    /// Media type, when known (an upload's `Content-Type`); guessed from the name otherwise.
    pub content_type: Option<String>,
    /// The reader to parse it with, whatever its name and media type say.
    pub reader: Option<ReaderKind>,
    /// How to chunk this item, instead of the knowledge base's chunking.
    pub chunking: Option<Chunking>,
}

impl ContentInput {
    /// Text content with a name.
    pub fn text(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self::new(ContentBody::Text(text.into())).name(name)
    }

    /// Raw bytes with a name (the name's extension picks the reader).
    pub fn bytes(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self::new(ContentBody::Bytes(bytes.into())).name(name)
    }

    /// A file on disk, named after its file name.
    pub fn file(path: impl Into<std::path::PathBuf>) -> Self {
        Self::new(ContentBody::File(path.into()))
    }

    /// A remote document, named after its URL.
    pub fn url(url: impl Into<String>) -> Self {
        Self::new(ContentBody::Url(url.into()))
    }

    fn new(body: ContentBody) -> Self {
        Self {
            body,
            name: None,
            description: String::new(),
            metadata: Map::new(),
            content_type: None,
            reader: None,
            chunking: None,
        }
    }

    /// Sets the name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Adds one metadata entry.
    #[must_use]
    pub fn meta(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Replaces the metadata.
    #[must_use]
    pub fn metadata(mut self, metadata: Map<String, Value>) -> Self {
        self.metadata = metadata;
        self
    }

    /// Sets the media type.
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Reads the content with this reader (an upload's `reader_id`).
    #[must_use]
    pub fn reader(mut self, reader: ReaderKind) -> Self {
        self.reader = Some(reader);
        self
    }

    /// Chunks the content this way (an upload's `chunker`, `chunk_size`, `chunk_overlap`).
    #[must_use]
    pub fn chunking(mut self, chunking: Chunking) -> Self {
        self.chunking = Some(chunking);
        self
    }
}

/// Changes to a content item's name, description or metadata (the AgentOS
/// `PATCH /knowledge/content/{id}`); unset fields are kept. Its chunks'
/// metadata follows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentPatch {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New metadata, replacing the old.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

/// What content items are sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentSort {
    /// Creation time.
    #[default]
    CreatedAt,
    /// Last update time.
    UpdatedAt,
    /// Name.
    Name,
}

impl ContentSort {
    pub(crate) fn column(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::Name => "name",
        }
    }
}

/// Paging and sorting for content lists.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentQuery {
    /// Page size; all items when unset.
    pub limit: Option<u32>,
    /// 1-based page number.
    pub page: Option<u32>,
    /// Sort key.
    pub sort_by: ContentSort,
    /// Sort direction.
    pub sort_order: SortOrder,
}

/// `size` is a string in the AgentOS API; either form is accepted.
mod size_string {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(size: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&size.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(text) if text.is_empty() => Ok(0),
            serde_json::Value::String(text) => text.parse().map_err(D::Error::custom),
            serde_json::Value::Number(number) => number.as_u64().ok_or_else(|| D::Error::custom("size is not a u64")),
            serde_json::Value::Null => Ok(0),
            other => Err(D::Error::custom(format!("size must be a string or a number, not {other}"))),
        }
    }
}

/// Unix seconds as RFC 3339 UTC (`2025-09-08T15:22:53Z`), the AgentOS time format.
pub(crate) mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(seconds: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(*seconds))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(text) => parse(&text).ok_or_else(|| D::Error::custom("not an RFC 3339 time")),
            serde_json::Value::Number(number) => number.as_i64().ok_or_else(|| D::Error::custom("not unix seconds")),
            _ => Err(D::Error::custom("a time must be an RFC 3339 string or unix seconds")),
        }
    }

    pub(crate) use agent_core::support::rfc3339::{format, parse};
}

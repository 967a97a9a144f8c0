//! `KnowledgeConfig`: readers, chunkers, search types and filters, in the
//! shape of the AgentOS `/knowledge/config` endpoint.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::chunker::{Chunking, DEFAULT_CHUNK_SIZE};
use super::reader::ReaderKind;

/// What a knowledge base can read, chunk and search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeConfig {
    /// Readers by id.
    pub readers: BTreeMap<String, ReaderInfo>,
    /// Reader ids by extension (`.md`), media type or input kind (`file`, `url`, `text`).
    #[serde(rename = "readersForType")]
    pub readers_for_type: BTreeMap<String, Vec<String>>,
    /// Chunkers by key.
    pub chunkers: BTreeMap<String, ChunkerInfo>,
    /// The stores searched, with their search types (`keyword`, `vector`, `hybrid`).
    pub vector_dbs: Vec<VectorDbInfo>,
    /// Metadata keys results can be filtered on.
    pub filters: Vec<String>,
}

/// A reader in [`KnowledgeConfig`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderInfo {
    /// Id (`markdown`).
    pub id: String,
    /// Display name (`MarkdownReader`).
    pub name: String,
    /// What it reads.
    pub description: String,
    /// Keys of the chunkers that suit it, preferred first.
    pub chunkers: Vec<String>,
}

/// A chunker in [`KnowledgeConfig`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkerInfo {
    /// Key (`MarkdownChunker`).
    pub key: String,
    /// Display name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its settings (`chunk_size`, `chunk_overlap`).
    pub metadata: Map<String, Value>,
}

/// A searchable store in [`KnowledgeConfig`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VectorDbInfo {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// `keyword`, plus `vector` and `hybrid` with an embedder.
    pub search_types: Vec<String>,
}

const CHUNKERS: [(&str, &str); 3] = [
    ("FixedSizeChunker", "Chunking strategy that splits text into fixed-size chunks with optional overlap"),
    ("RecursiveChunker", "Chunking strategy that recursively splits text at paragraphs, sentences and words"),
    (
        "MarkdownChunker",
        "Chunking strategy that splits Markdown at headings, then blocks, recording each chunk's section",
    ),
];

impl KnowledgeConfig {
    /// The config of a knowledge base named `name`.
    pub(crate) fn describe(name: &str, chunking: Option<Chunking>, has_embedder: bool, filters: Vec<String>) -> Self {
        let readers = ReaderKind::ALL
            .into_iter()
            .filter(|reader| reader.is_enabled())
            .map(|reader| {
                let preferred = chunking.unwrap_or_else(|| Chunking::for_reader(reader)).key();
                let mut chunkers = vec![preferred.to_owned()];
                chunkers.extend(CHUNKERS.iter().map(|(key, _)| key.to_string()).filter(|key| key != preferred));
                let info = ReaderInfo {
                    id: reader.id().into(),
                    name: reader.display_name().into(),
                    description: format!("Reads {} files", reader.id()),
                    chunkers,
                };
                (reader.id().to_owned(), info)
            })
            .collect();
        let mut readers_for_type: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for reader in ReaderKind::ALL.into_iter().filter(|reader| reader.is_enabled()) {
            for extension in reader.extensions() {
                readers_for_type.entry(format!(".{extension}")).or_default().push(reader.id().into());
            }
            readers_for_type.entry(reader.media_type().into()).or_default().push(reader.id().into());
        }
        let all: Vec<String> =
            ReaderKind::ALL.iter().filter(|reader| reader.is_enabled()).map(|reader| reader.id().to_owned()).collect();
        readers_for_type.insert("file".into(), all.clone());
        readers_for_type.insert("url".into(), all);
        readers_for_type.insert("text".into(), vec!["text".into(), "markdown".into()]);
        let (size, overlap) = match chunking {
            Some(Chunking::FixedSize { size, overlap } | Chunking::Recursive { size, overlap })
            | Some(Chunking::Markdown { size, overlap }) => (size, overlap),
            None => (DEFAULT_CHUNK_SIZE, 0),
        };
        let chunkers = CHUNKERS
            .iter()
            .map(|(key, description)| {
                let metadata = json!({"chunk_size": size, "chunk_overlap": overlap});
                let info = ChunkerInfo {
                    key: (*key).into(),
                    name: (*key).into(),
                    description: (*description).into(),
                    metadata: metadata.as_object().cloned().unwrap_or_default(),
                };
                ((*key).to_owned(), info)
            })
            .collect();
        let mut search_types = vec!["keyword".to_owned()];
        if has_embedder {
            search_types.extend(["vector".to_owned(), "hybrid".to_owned()]);
        }
        let vector_dbs = vec![VectorDbInfo {
            id: name.into(),
            name: name.into(),
            description: format!("Knowledge base `{name}`"),
            search_types,
        }];
        Self { readers, readers_for_type, chunkers, vector_dbs, filters }
    }
}

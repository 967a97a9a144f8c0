//! Readers: raw content (text, Markdown, HTML, PDF, CSV, JSON) to plain text.

use std::fmt::Write as _;

use agent_core::knowledge::KnowledgeError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// HTML is rendered this wide; wide enough that paragraphs are not wrapped.
#[cfg(feature = "html")]
const HTML_WIDTH: usize = 10_000;

/// The kinds of content a knowledge base reads.
///
/// HTML and PDF need the crate's `html` and `pdf` features; without them
/// such content fails to read with a message naming the feature
/// ([`ReaderKind::is_enabled`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReaderKind {
    /// Plain UTF-8 text.
    Text,
    /// Markdown (kept as is; chunked by headings).
    Markdown,
    /// HTML, rendered to text with `html2text` (feature `html`).
    Html,
    /// PDF, text extracted page by page with `pdf-extract` (feature `pdf`).
    Pdf,
    /// CSV, one `column: value` line per row, with the `csv` crate.
    Csv,
    /// JSON, one `path: value` line per leaf; array elements separated by blank lines.
    Json,
}

/// Text read from content, with where its pages start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Document {
    /// The text.
    pub text: String,
    /// Byte offsets in `text` where each page starts (PDF only; empty otherwise).
    pub page_starts: Vec<usize>,
}

impl ReaderKind {
    /// Every reader.
    pub const ALL: [Self; 6] = [Self::Text, Self::Markdown, Self::Html, Self::Pdf, Self::Csv, Self::Json];

    /// Whether this build can read the kind: HTML and PDF need the `html`
    /// and `pdf` features, the others are always there.
    pub fn is_enabled(self) -> bool {
        match self {
            Self::Html => cfg!(feature = "html"),
            Self::Pdf => cfg!(feature = "pdf"),
            Self::Text | Self::Markdown | Self::Csv | Self::Json => true,
        }
    }

    /// The reader's id in the AgentOS config (`text`, `markdown`, ...).
    pub fn id(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Markdown => "markdown",
            Self::Html => "html",
            Self::Pdf => "pdf",
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }

    /// The reader's display name in the AgentOS config (`TextReader`, ...).
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Text => "TextReader",
            Self::Markdown => "MarkdownReader",
            Self::Html => "HtmlReader",
            Self::Pdf => "PdfReader",
            Self::Csv => "CsvReader",
            Self::Json => "JsonReader",
        }
    }

    /// The media type of the content this reader reads.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Text => "text/plain",
            Self::Markdown => "text/markdown",
            Self::Html => "text/html",
            Self::Pdf => "application/pdf",
            Self::Csv => "text/csv",
            Self::Json => "application/json",
        }
    }

    /// The file extensions this reader is chosen for.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Text => &["txt", "text", "log", "rst"],
            Self::Markdown => &["md", "markdown", "mdx"],
            Self::Html => &["html", "htm", "xhtml"],
            Self::Pdf => &["pdf"],
            Self::Csv => &["csv"],
            Self::Json => &["json"],
        }
    }

    /// The reader for a media type (parameters such as `; charset=utf-8` are ignored).
    pub fn for_media_type(media_type: &str) -> Option<Self> {
        let essence = media_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|kind| kind.media_type() == essence).or(match essence.as_str() {
            "text/x-markdown" => Some(Self::Markdown),
            "application/xhtml+xml" => Some(Self::Html),
            "application/csv" => Some(Self::Csv),
            _ => None,
        })
    }

    /// The reader for a file name or URL path, by extension.
    pub fn for_name(name: &str) -> Option<Self> {
        let path = name.split(['?', '#']).next().unwrap_or_default();
        let file = path.rsplit('/').next().unwrap_or_default();
        let (_, extension) = file.rsplit_once('.')?;
        let extension = extension.to_ascii_lowercase();
        Self::ALL.into_iter().find(|kind| kind.extensions().contains(&extension.as_str()))
    }

    /// Picks a reader from the media type, then the name.
    ///
    /// # Errors
    ///
    /// [`KnowledgeError::Unsupported`] when neither names a supported type.
    pub fn detect(name: &str, media_type: Option<&str>) -> Result<Self, KnowledgeError> {
        media_type
            .and_then(Self::for_media_type)
            .or_else(|| Self::for_name(name))
            .ok_or_else(|| KnowledgeError::Unsupported(media_type.map_or_else(|| name.to_owned(), str::to_owned)))
    }

    /// Reads raw content into text. CPU-bound (PDFs especially): run it off
    /// the async runtime.
    ///
    /// # Errors
    ///
    /// [`KnowledgeError::Read`] when the content cannot be parsed (a PDF
    /// that makes the parser panic included) or its reader is not in this
    /// build (HTML or PDF without the feature), [`KnowledgeError::Empty`]
    /// when it holds no text.
    pub fn read(self, bytes: &[u8]) -> Result<Document, KnowledgeError> {
        let document = match self {
            Self::Text | Self::Markdown => Document { text: utf8(bytes)?.to_owned(), page_starts: Vec::new() },
            Self::Html => Document { text: read_html(bytes)?, page_starts: Vec::new() },
            Self::Pdf => read_pdf(bytes)?,
            Self::Csv => Document { text: read_csv(bytes)?, page_starts: Vec::new() },
            Self::Json => Document { text: read_json(bytes)?, page_starts: Vec::new() },
        };
        if document.text.trim().is_empty() {
            return Err(KnowledgeError::Empty);
        }
        Ok(document)
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, KnowledgeError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|err| KnowledgeError::Read(format!("the content is not UTF-8 text ({err})")))?;
    if text.contains('\0') {
        return Err(KnowledgeError::Read("the content is binary, not text".into()));
    }
    Ok(text)
}

#[cfg(feature = "html")]
fn read_html(bytes: &[u8]) -> Result<String, KnowledgeError> {
    html2text::config::plain_no_decorate()
        .string_from_read(bytes, HTML_WIDTH)
        .map_err(|err| KnowledgeError::Read(format!("invalid HTML: {err}")))
}

#[cfg(not(feature = "html"))]
fn read_html(_bytes: &[u8]) -> Result<String, KnowledgeError> {
    Err(not_in_build("HTML", "html"))
}

#[cfg(not(feature = "pdf"))]
fn read_pdf(_bytes: &[u8]) -> Result<Document, KnowledgeError> {
    Err(not_in_build("PDF", "pdf"))
}

/// The error for content whose reader is behind a feature this build lacks.
#[cfg(not(all(feature = "html", feature = "pdf")))]
fn not_in_build(what: &str, feature: &str) -> KnowledgeError {
    KnowledgeError::Read(format!(
        "this build cannot read {what}: enable the `{feature}` feature of agent-memory \
         (`agent-memory = {{ ..., features = [\"{feature}\"] }}`)"
    ))
}

#[cfg(feature = "pdf")]
fn read_pdf(bytes: &[u8]) -> Result<Document, KnowledgeError> {
    // pdf-extract panics on some malformed files; a bad upload must fail, not crash.
    let pages = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem_by_pages(bytes))
        .map_err(|_| KnowledgeError::Read("the PDF parser failed on this file".into()))?
        .map_err(|err| KnowledgeError::Read(format!("invalid PDF: {err}")))?;
    let mut document = Document::default();
    for page in pages {
        if !document.text.is_empty() {
            document.text.push_str("\n\n");
        }
        document.page_starts.push(document.text.len());
        document.text.push_str(page.trim());
    }
    Ok(document)
}

fn read_csv(bytes: &[u8]) -> Result<String, KnowledgeError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader.headers().map_err(|err| KnowledgeError::Read(format!("invalid CSV: {err}")))?.clone();
    let mut text = String::new();
    for record in reader.records() {
        let record = record.map_err(|err| KnowledgeError::Read(format!("invalid CSV: {err}")))?;
        let fields: Vec<String> = record
            .iter()
            .enumerate()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(index, value)| match headers.get(index).filter(|header| !header.is_empty()) {
                Some(header) => format!("{header}: {}", value.trim()),
                None => value.trim().to_owned(),
            })
            .collect();
        if !fields.is_empty() {
            text.push_str(&fields.join(", "));
            text.push('\n');
        }
    }
    Ok(text)
}

fn read_json(bytes: &[u8]) -> Result<String, KnowledgeError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|err| KnowledgeError::Read(format!("invalid JSON: {err}")))?;
    let mut text = String::new();
    match &value {
        Value::Array(items) => {
            for item in items {
                flatten(&mut text, "", item);
                text.push('\n');
            }
        }
        other => flatten(&mut text, "", other),
    }
    Ok(text)
}

/// Writes one `path: value` line per leaf.
fn flatten(out: &mut String, path: &str, value: &Value) {
    let child = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
    match value {
        Value::Object(map) => map.iter().for_each(|(key, value)| flatten(out, &child(key), value)),
        Value::Array(items) => {
            items.iter().enumerate().for_each(|(i, value)| flatten(out, &child(&i.to_string()), value))
        }
        Value::Null => {}
        Value::String(text) if path.is_empty() => {
            let _ = writeln!(out, "{text}");
        }
        Value::String(text) => {
            let _ = writeln!(out, "{path}: {text}");
        }
        other if path.is_empty() => {
            let _ = writeln!(out, "{other}");
        }
        other => {
            let _ = writeln!(out, "{path}: {other}");
        }
    }
}

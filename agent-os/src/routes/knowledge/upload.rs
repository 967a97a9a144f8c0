//! Adding content: a file, text or URL (`POST /knowledge/content`) or a file of a content source (`/knowledge/remote-content`), each with its own reader and chunking, ingested in the background.

use std::sync::Arc;

use agent_memory::KnowledgeBase;
use agent_memory::knowledge::{Chunking, ContentInput, DEFAULT_CHUNK_SIZE, ReaderKind};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{Answer, answer, content_json, from_query, knowledge_error};
use crate::error::ApiError;
use crate::form::{Fields, Upload};
use crate::os::Shared;

/// The fields an upload form may carry.
const UPLOAD_FIELDS: &[&str] = &[
    "name",
    "description",
    "url",
    "metadata",
    "file",
    "text_content",
    "reader_id",
    "chunker",
    "chunk_size",
    "chunk_overlap",
];

/// The fields a remote-content form may carry.
const REMOTE_FIELDS: &[&str] = &[
    "config_id",
    "path",
    "source_params",
    "name",
    "description",
    "metadata",
    "reader_id",
    "chunker",
    "chunk_size",
    "chunk_overlap",
];

const CHUNKERS: &[&str] = &["FixedSizeChunker", "RecursiveChunker", "MarkdownChunker"];

/// Refuses fields (and file parts) a form may not carry, rather than dropping them.
pub(super) fn refuse_unknown(form: &Fields, allowed: &[&str]) -> Result<(), ApiError> {
    let names = form.names().into_iter().chain(form.uploads.iter().map(|upload| upload.field.as_str()));
    for name in names {
        if !allowed.contains(&name) {
            return Err(ApiError::bad_request(format!("the form field `{name}` is not supported by this server")));
        }
    }
    Ok(())
}

/// The reader a `reader_id` names: `markdown`, `MarkdownReader`, `markdown-reader`...
pub(super) fn reader(reader_id: &str) -> Result<ReaderKind, ApiError> {
    let key = reader_id.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    let key = key.strip_suffix("reader").map_or(key.as_str(), |rest| rest.trim_end_matches('_'));
    ReaderKind::ALL.into_iter().find(|reader| reader.id() == key).ok_or_else(|| {
        let known: Vec<&str> = ReaderKind::ALL.iter().map(|reader| reader.id()).collect();
        ApiError::bad_request(format!("Invalid reader_id: {reader_id}; readers: {}", known.join(", ")))
    })
}

/// The reader and chunking a form asks for. Without a `chunker`, a
/// `chunk_size` or `chunk_overlap` applies to the reader's usual chunker.
fn plan(form: &Fields) -> Result<(Option<ReaderKind>, Option<Chunking>), ApiError> {
    let reader = form.text("reader_id").map(reader).transpose()?;
    let chunker = form.choice("chunker", CHUNKERS)?;
    let size = form.text("chunk_size").map(|_| form.int("chunk_size", 1, 0)).transpose()?;
    let overlap = form.text("chunk_overlap").map(|_| form.int("chunk_overlap", 0, 0)).transpose()?;
    if chunker.is_none() && size.is_none() && overlap.is_none() {
        return Ok((reader, None));
    }
    let size = usize::try_from(size.unwrap_or(DEFAULT_CHUNK_SIZE as i64)).unwrap_or(usize::MAX);
    let overlap = usize::try_from(overlap.unwrap_or(0)).unwrap_or(usize::MAX);
    if overlap >= size {
        return Err(ApiError::bad_request(format!(
            "chunk_overlap ({overlap}) must be smaller than chunk_size ({size})"
        )));
    }
    let chunking = match chunker {
        Some("FixedSizeChunker") => Chunking::fixed_size(size, overlap),
        Some("MarkdownChunker") => Chunking::markdown(size, overlap),
        Some(_) => Chunking::recursive(size, overlap),
        None if reader == Some(ReaderKind::Markdown) => Chunking::markdown(size, overlap),
        None => Chunking::recursive(size, overlap),
    };
    Ok((reader, Some(chunking)))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the content is larger than the {limit} byte limit"))
}

/// The one URL of a `url` field: a URL, or a JSON list holding one.
fn single_url(url: &str) -> Result<String, ApiError> {
    let url = url.trim();
    let url = if url.starts_with('[') {
        let urls: Vec<String> =
            serde_json::from_str(url).map_err(|_| ApiError::bad_request("url must be a URL or a JSON list of URLs"))?;
        match <[String; 1]>::try_from(urls) {
            Ok([url]) => url,
            Err(_) => return Err(ApiError::bad_request("add one URL per upload")),
        }
    } else {
        url.to_owned()
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ApiError::bad_request(format!("`{url}` is not an http(s) URL")));
    }
    Ok(url)
}

/// A file part: its reader must be known now (a file type with no reader is a 415).
fn file_input(upload: Upload, reader: Option<ReaderKind>) -> Result<ContentInput, ApiError> {
    let filename = upload.filename.filter(|name| !name.is_empty()).unwrap_or_else(|| "upload".into());
    let media_type = upload.content_type.filter(|media| !media.is_empty() && media != "application/octet-stream");
    let reader = match reader {
        Some(reader) => reader,
        None => ReaderKind::detect(&filename, media_type.as_deref()).map_err(knowledge_error)?,
    };
    let input = ContentInput::bytes(filename, upload.bytes).reader(reader);
    Ok(match media_type {
        Some(media_type) => input.content_type(media_type),
        None => input,
    })
}

/// The name, description and metadata of a form, on an input.
fn described(mut input: ContentInput, form: &Fields) -> Result<ContentInput, ApiError> {
    if let Some(name) = form.text("name") {
        input = input.name(name);
    }
    if let Some(description) = form.text("description") {
        input = input.description(description);
    }
    if let Some(metadata) = form.json_object("metadata")? {
        input = input.metadata(metadata);
    }
    Ok(input)
}

fn planned(mut input: ContentInput, reader: Option<ReaderKind>, chunking: Option<Chunking>) -> ContentInput {
    if let Some(reader) = reader {
        input = input.reader(reader);
    }
    if let Some(chunking) = chunking {
        input = input.chunking(chunking);
    }
    input
}

async fn accepted(knowledge: &KnowledgeBase, input: ContentInput) -> Answer {
    let content = knowledge.add(input).await.map_err(knowledge_error)?;
    Ok((StatusCode::ACCEPTED, Json(content_json(&content))).into_response())
}

pub(super) async fn upload(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    form: Result<Fields, ApiError>,
) -> Response {
    answer(upload_content(&shared, query.as_deref(), form).await)
}

async fn upload_content(shared: &Shared, query: Option<&str>, form: Result<Fields, ApiError>) -> Answer {
    let query = Fields::from_query(query)?;
    let knowledge = from_query(shared, &query)?;
    let mut form = form?;
    refuse_unknown(&form, UPLOAD_FIELDS)?;
    let (reader, chunking) = plan(&form)?;
    let mut uploads = std::mem::take(&mut form.uploads).into_iter();
    let file = uploads.next();
    let text = form.text("text_content");
    let url = form.text("url");
    let given = usize::from(file.is_some()) + usize::from(text.is_some()) + usize::from(url.is_some());
    if given != 1 || uploads.next().is_some() {
        return Err(ApiError::bad_request("give exactly one of: a file, text_content or url"));
    }
    let limit = knowledge.max_bytes();
    let input = if let Some(file) = file {
        if file.bytes.len() > limit {
            return Err(too_large(limit));
        }
        file_input(file, reader)?
    } else if let Some(text) = text {
        if text.len() > limit {
            return Err(too_large(limit));
        }
        ContentInput::text("text", text)
    } else {
        ContentInput::url(single_url(url.unwrap_or_default())?)
    };
    let input = described(planned(input, reader, chunking), &form)?;
    accepted(knowledge, input).await
}

pub(super) async fn remote(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    form: Result<Fields, ApiError>,
) -> Response {
    answer(remote_content(&shared, query.as_deref(), form).await)
}

async fn remote_content(shared: &Shared, query: Option<&str>, form: Result<Fields, ApiError>) -> Answer {
    let query = Fields::from_query(query)?;
    let knowledge = from_query(shared, &query)?;
    let form = form?;
    refuse_unknown(&form, REMOTE_FIELDS)?;
    let config_id = form.required("config_id")?.to_owned();
    let key = form.required("path")?.to_owned();
    let (reader, chunking) = plan(&form)?;
    let source = knowledge
        .sources()
        .iter()
        .find(|source| source.id == config_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("Content source not found: {config_id}")))?;
    if key.is_empty() || key.ends_with('/') {
        return Err(ApiError::bad_request("path must name a file of the source (folders are added file by file)"));
    }
    let resolved_key = key.clone();
    let path =
        tokio::task::spawn_blocking(move || source.resolve(&resolved_key).map(|path| path.is_file().then_some(path)))
            .await
            .map_err(|err| ApiError::internal(&err))?
            .map_err(knowledge_error)?
            .ok_or_else(|| ApiError::not_found(format!("File `{key}` not found in source `{config_id}`")))?;
    let input = ContentInput::file(path).name(key.trim_start_matches('/'));
    let mut input = described(planned(input, reader, chunking), &form)?;
    input.metadata.insert("source_id".into(), Value::String(config_id));
    accepted(knowledge, input).await
}

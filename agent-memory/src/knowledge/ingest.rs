//! The ingestion pipeline: fetch → read → chunk → embed → commit, ending
//! every failure as the content item's `failed` status.

use std::io::Read;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use agent_core::knowledge::KnowledgeError;
use agent_core::support::unix_now;
use futures::FutureExt;
use sha2::{Digest, Sha256};

use super::base::Inner;
use super::chunker::Chunking;
use super::content::{Content, ContentBody, ContentInput, ContentStatus};
use super::reader::ReaderKind;
use super::store::{KnowledgeStore, StoredChunk};

/// How often an item being ingested shows it is alive (its `updated_at`).
const HEARTBEAT: Duration = Duration::from_secs(20);

/// An item `processing` without a heartbeat for this long was left by a
/// process that stopped.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(90);

/// The status message of an item whose ingestion was interrupted.
pub(crate) const INTERRUPTED: &str =
    "ingestion was interrupted (the process stopped before it finished); add the content again";

/// Releases the item's waiters however its ingestion task ends: finished,
/// panicked, or dropped with its runtime.
struct Finished {
    inner: Arc<Inner>,
    id: String,
}

impl Drop for Finished {
    fn drop(&mut self) {
        self.inner.finish(&self.id);
    }
}

/// The text of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

/// Fails the items left `processing` without a heartbeat for [`STALE_AFTER`]
/// (their process stopped), removing any chunks of theirs; returns how many.
pub(crate) async fn recover_interrupted(store: &dyn KnowledgeStore) -> Result<u64, KnowledgeError> {
    let cutoff = unix_now() - STALE_AFTER.as_secs() as i64;
    let mut recovered = 0;
    for content in store.stale_processing(cutoff).await? {
        let failed = Content {
            status: ContentStatus::Failed,
            status_message: INTERRUPTED.to_owned(),
            updated_at: unix_now(),
            ..content
        };
        if store.commit_chunks(&failed, &[]).await? {
            recovered += 1;
        }
    }
    if recovered > 0 {
        tracing::warn!(recovered, "knowledge items left processing by a stopped process were marked failed");
    }
    Ok(recovered)
}

/// What ingestion reads: bytes in hand, or a URL to fetch.
pub(crate) enum Raw {
    Bytes(Vec<u8>),
    Url(String),
}

/// Runs the pipeline for one item and records its outcome; never fails,
/// and a panic in it (an embedder's, a store's) fails the item.
/// How one item is read and chunked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    /// Content of no known type is read as text (text given directly).
    pub(crate) text_default: bool,
    /// The reader asked for, whatever the name and media type say.
    pub(crate) reader: Option<ReaderKind>,
    /// The chunking asked for, instead of the knowledge base's.
    pub(crate) chunking: Option<Chunking>,
}

pub(crate) async fn run(inner: Arc<Inner>, content: Content, raw: Raw, plan: Plan) {
    let id = content.id.clone();
    let _finished = Finished { inner: Arc::clone(&inner), id: id.clone() };
    let ingest = async {
        // Never closed: the semaphore lives as long as `inner`.
        let _slot = inner.ingest_slots.acquire().await.ok();
        AssertUnwindSafe(index(&inner, content.clone(), raw, plan)).catch_unwind().await.unwrap_or_else(|panic| {
            Err(KnowledgeError::Read(format!("ingestion panicked: {}", panic_message(&*panic))))
        })
    };
    let outcome = tokio::select! {
        outcome = ingest => outcome,
        never = heartbeat(&inner, &id) => match never {},
    };
    let result = match outcome {
        Ok(()) => Ok(()),
        Err(err) => {
            tracing::warn!(content_id = %id, error = %err, "knowledge ingestion failed");
            let failed = Content {
                status: ContentStatus::Failed,
                status_message: err.to_string(),
                updated_at: unix_now(),
                ..content
            };
            // No chunk of a failed item is searchable: commit none.
            inner.store.commit_chunks(&failed, &[]).await.map(|_| ())
        }
    };
    if let Err(err) = result {
        tracing::error!(content_id = %id, error = %err, "could not record the knowledge ingestion outcome");
    }
}

/// Shows, while the item is ingested, that a live process works on it.
async fn heartbeat(inner: &Inner, id: &str) -> std::convert::Infallible {
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        if let Err(err) = inner.store.touch_processing(id, unix_now()).await {
            tracing::warn!(content_id = %id, error = %err, "could not record a knowledge ingestion heartbeat");
        }
    }
}

async fn index(inner: &Inner, mut content: Content, raw: Raw, plan: Plan) -> Result<(), KnowledgeError> {
    let bytes = match raw {
        Raw::Bytes(bytes) => bytes,
        Raw::Url(url) => {
            let (bytes, media_type) = fetch(inner, &url).await?;
            if content.content_type.is_empty() {
                content.content_type = media_type.unwrap_or_default();
            }
            content.size = bytes.len() as u64;
            bytes
        }
    };
    let media_type = Some(content.content_type.as_str()).filter(|media_type| !media_type.is_empty());
    let detected = match plan.reader {
        Some(reader) => Ok(reader),
        None => ReaderKind::detect(&content.source, media_type).or_else(|_| ReaderKind::detect(&content.name, None)),
    };
    let reader = match detected {
        Ok(reader) => reader,
        Err(_) if plan.text_default => ReaderKind::Text,
        Err(err) => return Err(err),
    };
    content.reader = reader.id().to_owned();
    if content.content_type.is_empty() {
        content.content_type = reader.media_type().to_owned();
    }
    let chunking = plan.chunking.or(inner.chunking).unwrap_or_else(|| Chunking::for_reader(reader));
    let chunks = tokio::task::spawn_blocking(move || chunking.chunk(&reader.read(&bytes)?))
        .await
        .map_err(|err| KnowledgeError::Read(format!("the reader stopped unexpectedly: {err}")))??;
    if chunks.is_empty() {
        return Err(KnowledgeError::Empty);
    }
    let embeddings = match &inner.embedder {
        Some(embedder) => {
            let texts: Vec<String> = chunks.iter().map(|chunk| chunk.text.clone()).collect();
            let mut vectors = Vec::with_capacity(texts.len());
            for batch in texts.chunks(inner.embed_batch_size) {
                let embedding = AssertUnwindSafe(embedder.embed(batch)).catch_unwind();
                let embedded = tokio::time::timeout(inner.embed_timeout, embedding)
                    .await
                    .map_err(|_| KnowledgeError::Timeout(inner.embed_timeout))?
                    .map_err(|panic| {
                        KnowledgeError::Embedder(format!("the embedder panicked: {}", panic_message(&*panic)))
                    })??;
                if embedded.len() != batch.len() || embedded.iter().any(|v| v.len() != embedder.dimensions()) {
                    return Err(KnowledgeError::Embedder(format!(
                        "the embedder returned {} vectors for {} texts, or vectors of the wrong length (want {})",
                        embedded.len(),
                        batch.len(),
                        embedder.dimensions()
                    )));
                }
                vectors.extend(embedded.into_iter().map(Some));
            }
            vectors
        }
        None => vec![None; chunks.len()],
    };
    let stored: Vec<StoredChunk> = chunks
        .into_iter()
        .zip(embeddings)
        .map(|(chunk, embedding)| StoredChunk {
            id: format!("{}:{}", content.id, chunk.index),
            index: chunk.index,
            text: chunk.text,
            metadata: chunk.metadata,
            embedding,
        })
        .collect();
    content.status = ContentStatus::Completed;
    content.status_message = String::new();
    content.updated_at = unix_now();
    if !inner.store.commit_chunks(&content, &stored).await? {
        tracing::debug!(content_id = %content.id, "content deleted during ingestion; its chunks were dropped");
    }
    Ok(())
}

/// Downloads a URL, up to the size limit; returns the body and its media type.
async fn fetch(inner: &Inner, url: &str) -> Result<(Vec<u8>, Option<String>), KnowledgeError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(KnowledgeError::Read(format!("`{url}` is not an http(s) URL")));
    }
    let request = inner.http.get(url).timeout(inner.fetch_timeout);
    let mut response = request.send().await.map_err(|err| fetch_error(inner, url, &err))?;
    if !response.status().is_success() {
        return Err(KnowledgeError::Read(format!("{url} answered HTTP {}", response.status().as_u16())));
    }
    let media_type =
        response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let mut body = Vec::new();
    while let Some(piece) = response.chunk().await.map_err(|err| fetch_error(inner, url, &err))? {
        if body.len() + piece.len() > inner.max_bytes {
            return Err(KnowledgeError::Read(format!("{url} is larger than the {} byte limit", inner.max_bytes)));
        }
        body.extend_from_slice(&piece);
    }
    Ok((body, media_type))
}

fn fetch_error(inner: &Inner, url: &str, err: &reqwest::Error) -> KnowledgeError {
    if err.is_timeout() {
        KnowledgeError::Read(format!("fetching {url} timed out after {:?}", inner.fetch_timeout))
    } else {
        KnowledgeError::Read(format!("could not fetch {url}: {err}"))
    }
}

/// A content item ready for the store, and what ingestion will read.
pub(crate) struct Prepared {
    pub(crate) content: Content,
    pub(crate) raw: Result<Raw, KnowledgeError>,
    pub(crate) plan: Plan,
}

/// Reads a regular file of at most `max_bytes` (blocking: run it off the runtime).
fn read_file(path: &Path, max_bytes: usize) -> Result<Vec<u8>, KnowledgeError> {
    let source = path.display();
    let cannot = |err: std::io::Error| KnowledgeError::Read(format!("cannot read `{source}`: {err}"));
    // Checked before opening: opening a FIFO for reading blocks until a writer comes.
    let metadata = std::fs::metadata(path).map_err(cannot)?;
    if !metadata.is_file() {
        return Err(KnowledgeError::Read(format!("`{source}` is not a regular file")));
    }
    let too_large = || KnowledgeError::Read(format!("`{source}` is larger than the {max_bytes} byte limit"));
    if metadata.len() > max_bytes as u64 {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    if !file.metadata().map_err(cannot)?.is_file() {
        return Err(KnowledgeError::Read(format!("`{source}` is not a regular file")));
    }
    // The file may grow between the check and the read: read one byte past the limit at most.
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(max_bytes as u64 + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() > max_bytes {
        return Err(too_large());
    }
    Ok(bytes)
}

pub(crate) async fn prepare(input: ContentInput, max_bytes: usize) -> Prepared {
    let now = unix_now();
    let (name, source, raw, hash_input, text_default) = match input.body {
        ContentBody::Text(text) => {
            let name = input.name.unwrap_or_else(|| "text".into());
            (name.clone(), name, within(text.into_bytes(), max_bytes), None, true)
        }
        ContentBody::Bytes(bytes) => {
            let name = input.name.unwrap_or_else(|| "upload".into());
            (name.clone(), name, within(bytes, max_bytes), None, false)
        }
        ContentBody::File(path) => {
            let source = path.display().to_string();
            let name = input.name.or_else(|| path.file_name().map(|n| n.to_string_lossy().into_owned()));
            let read = tokio::task::spawn_blocking(move || read_file(&path, max_bytes)).await;
            let bytes = read.unwrap_or_else(|err| Err(KnowledgeError::Read(format!("cannot read `{source}`: {err}"))));
            let hash_input = bytes.is_err().then(|| format!("unreadable file:{source}"));
            (name.unwrap_or_else(|| source.clone()), source, bytes, hash_input, false)
        }
        ContentBody::Url(url) => (
            input.name.unwrap_or_else(|| url.clone()),
            url.clone(),
            Err(KnowledgeError::Empty),
            Some(format!("url:{url}")),
            false,
        ),
    };
    let is_url = hash_input.as_deref().is_some_and(|h| h.starts_with("url:"));
    let hash = match (&hash_input, &raw) {
        (Some(text), _) => hex(&Sha256::digest(text.as_bytes())),
        (None, Ok(bytes)) => hex(&Sha256::digest(bytes)),
        (None, Err(_)) => hex(&Sha256::digest(source.as_bytes())),
    };
    let content = Content {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        description: input.description,
        metadata: input.metadata,
        content_type: input.content_type.unwrap_or_default(),
        size: raw.as_ref().map_or(0, |bytes| bytes.len() as u64),
        source: source.clone(),
        content_hash: hash,
        status: ContentStatus::Processing,
        created_at: now,
        updated_at: now,
        ..Content::default()
    };
    let raw = if is_url { Ok(Raw::Url(source)) } else { raw.map(Raw::Bytes) };
    Prepared { content, raw, plan: Plan { text_default, reader: input.reader, chunking: input.chunking } }
}

/// Content given in hand, refused when larger than `max_bytes`.
fn within(bytes: Vec<u8>, max_bytes: usize) -> Result<Vec<u8>, KnowledgeError> {
    if bytes.len() > max_bytes {
        return Err(KnowledgeError::Read(format!(
            "the content ({} bytes) is larger than the {max_bytes} byte limit",
            bytes.len()
        )));
    }
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

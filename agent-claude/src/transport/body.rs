//! Response bodies within limits: whole bodies and error bodies by size, stream chunks by size and time.

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::time::Instant;

use crate::error::{Error, Result};

/// The most of an error body the client reads (the API's are small JSON objects).
const ERROR_BODY_LIMIT: usize = 64 * 1024;

fn too_large(what: &'static str, limit: usize, request_id: Option<&str>) -> Error {
    Error::ResponseTooLarge { what, limit, request_id: request_id.map(str::to_owned) }
}

/// Reads a whole body of at most `limit` bytes.
///
/// # Errors
///
/// [`Error::ResponseTooLarge`] as soon as the body (or its declared length)
/// passes the limit; [`Error::Connection`] when reading fails.
pub(crate) async fn read_whole(
    mut response: reqwest::Response,
    limit: usize,
    request_id: Option<&str>,
) -> Result<Bytes> {
    if response.content_length().is_some_and(|length| length > limit as u64) {
        return Err(too_large("a response body", limit, request_id));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(|err| Error::connection(&err).with_request_id(request_id))? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(too_large("a response body", limit, request_id));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Reads the start of an error body: at most 64 KiB, the rest left unread.
pub(crate) async fn read_error_body(mut response: reqwest::Response) -> String {
    let mut body = BytesMut::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = ERROR_BODY_LIMIT - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= ERROR_BODY_LIMIT {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// The byte chunks of an open stream, with its limits: the first chunk
/// (already read within the first-byte timeout), then the rest, each within
/// the idle timeout and the total deadline, all within the size limit.
pub(crate) struct ByteSource {
    pub(crate) first: Option<Bytes>,
    pub(crate) rest: BoxStream<'static, reqwest::Result<Bytes>>,
    pub(crate) received: usize,
    pub(crate) limit: usize,
    pub(crate) idle: std::time::Duration,
    pub(crate) deadline: Option<Instant>,
    pub(crate) request_id: Option<String>,
}

impl ByteSource {
    /// The next chunk; `None` at the end of the body.
    ///
    /// # Errors
    ///
    /// A timeout ([`Error::Connection`] with `timeout`) when the stream is
    /// silent for the idle time or passes the deadline; [`Error::Connection`]
    /// when the connection breaks; [`Error::ResponseTooLarge`] past the limit.
    /// Each carries the response's `request-id`.
    pub(crate) async fn next(&mut self) -> Option<Result<Bytes>> {
        let chunk = match self.first.take() {
            Some(first) => first,
            None => {
                let idle_until = Instant::now() + self.idle;
                let (until, is_deadline) = match self.deadline {
                    Some(deadline) if deadline <= idle_until => (deadline, true),
                    _ => (idle_until, false),
                };
                match tokio::time::timeout_at(until, self.rest.next()).await {
                    Ok(None) => return None,
                    Ok(Some(Ok(chunk))) => chunk,
                    Ok(Some(Err(err))) => return Some(Err(Error::connection(&err).with_request_id(self.id()))),
                    Err(_) => {
                        let message = if is_deadline {
                            "the stream did not finish within the request's total timeout".to_owned()
                        } else {
                            format!("the stream was silent for {} s", self.idle.as_secs_f64())
                        };
                        return Some(Err(Error::timed_out(message, self.request_id.clone())));
                    }
                }
            }
        };
        self.received = self.received.saturating_add(chunk.len());
        if self.received > self.limit {
            return Some(Err(too_large("a stream", self.limit, self.id())));
        }
        Some(Ok(chunk))
    }

    fn id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

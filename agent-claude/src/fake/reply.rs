//! Scripted answers of the fake Messages API: JSON bodies, event streams, API errors, and faults.

use std::time::Duration;

use serde_json::{Value, json};

use super::message_stream::message_events;

/// One scripted answer of the [`FakeApi`](super::FakeApi).
///
/// Whole bodies: [`json`](Self::json), [`message`](Self::message),
/// [`text`](Self::text), [`error`](Self::error). Streams: [`sse`](Self::sse),
/// [`events`](Self::events), [`text_stream`](Self::text_stream), which
/// [`cut`](Self::cut) or [`stall`](Self::stall) can break. Faults:
/// [`hang`](Self::hang), [`pings`](Self::pings), [`oversized`](Self::oversized).
#[derive(Clone, Debug)]
#[must_use]
pub struct Reply {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: ReplyBody,
}

#[derive(Clone, Debug)]
pub(super) enum ReplyBody {
    Whole(String),
    /// Chunks of a stream, then how it ends.
    Stream {
        chunks: Vec<Vec<u8>>,
        end: StreamEnd,
    },
    /// Accept the request and never answer.
    Hang,
    /// `message_start`, then a `ping` event every `every`, forever.
    Pings {
        every: Duration,
    },
    /// A body of `bytes` bytes, sent in chunks without a length.
    Oversized {
        bytes: usize,
        stream: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StreamEnd {
    /// The body ends.
    Finish,
    /// The connection breaks.
    Cut,
    /// The body stays open and silent.
    Stall,
}

impl Reply {
    /// A JSON body with a status (and `request-id: req_fake`).
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self { status, headers: vec![("request-id".into(), "req_fake".into())], body: ReplyBody::Whole(body.into()) }
    }

    /// A 200 message body.
    pub fn message(message: Value) -> Self {
        Self::json(200, message.to_string())
    }

    /// A Messages API `message` served whole (`stream: false`) or as the
    /// event stream the API sends for it (`stream: true`): `message_start`,
    /// each block's `content_block_start`, deltas (text in a few
    /// `text_delta`s, a tool call's input in `input_json_delta`s) and
    /// `content_block_stop`, then `message_delta` with the stop reason and
    /// usage, and `message_stop`.
    ///
    /// A [responder](super::FakeOptions::with_responder) honours the request's
    /// `"stream": true` with it.
    ///
    /// # Example
    ///
    /// ```
    /// use agent_claude::fake::Reply;
    /// use serde_json::json;
    ///
    /// let message = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-opus-4-8",
    ///     "content": [{"type": "text", "text": "Paris."}], "stop_reason": "end_turn", "stop_sequence": null,
    ///     "usage": {"input_tokens": 10, "output_tokens": 2}});
    /// let whole = Reply::from_message(message.clone(), false);
    /// let streamed = Reply::from_message(message, true);
    /// # let _ = (whole, streamed);
    /// ```
    pub fn from_message(message: Value, stream: bool) -> Self {
        if stream { Self::events(message_events(&message)) } else { Self::message(message) }
    }

    /// A 200 message with one text block, `end_turn`, on `claude-opus-4-8`.
    ///
    /// # Example
    ///
    /// ```
    /// let reply = agent_claude::fake::Reply::text("Paris.");
    /// # let _ = reply;
    /// ```
    pub fn text(text: &str) -> Self {
        Self::message(json!({
            "id": "msg_fake", "type": "message", "role": "assistant", "model": "claude-opus-4-8",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 10, "output_tokens": 5}
        }))
    }

    /// An API error: `{"type": "error", "error": {"type", "message"}}`.
    pub fn error(status: u16, error_type: &str, message: &str) -> Self {
        Self::json(
            status,
            json!({"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_fake"})
                .to_string(),
        )
    }

    /// A 200 stream of raw SSE `text`, sent in pieces of `chunk` bytes.
    pub fn sse(text: &str, chunk: usize) -> Self {
        let chunks = text.as_bytes().chunks(chunk.max(1)).map(<[u8]>::to_vec).collect();
        Self {
            status: 200,
            headers: vec![
                ("request-id".into(), "req_stream".into()),
                ("content-type".into(), "text/event-stream".into()),
            ],
            body: ReplyBody::Stream { chunks, end: StreamEnd::Finish },
        }
    }

    /// A 200 stream of these events, each named after its `type`.
    pub fn events(events: impl IntoIterator<Item = Value>) -> Self {
        let mut text = String::new();
        for event in events {
            let name = event.get("type").and_then(Value::as_str).unwrap_or("message").to_owned();
            text.push_str(&format!("event: {name}\ndata: {event}\n\n"));
        }
        Self::sse(&text, 64)
    }

    /// A 200 stream of a whole text answer: `message_start`, one text block
    /// in two deltas, `end_turn`, `message_stop`.
    pub fn text_stream(text: &str) -> Self {
        let split = text.char_indices().nth(text.chars().count() / 2).map_or(text.len(), |(index, _)| index);
        let (first, second) = text.split_at(split);
        Self::events([
            json!({"type": "message_start", "message": {"id": "msg_fake_stream", "type": "message", "role": "assistant",
                "model": "claude-opus-4-8", "content": [], "stop_reason": null, "usage": {"input_tokens": 10, "output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": first}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": second}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 5}}),
            json!({"type": "message_stop"}),
        ])
    }

    /// Accepts the request and never answers: no status, no headers.
    pub fn hang() -> Self {
        Self { status: 200, headers: Vec::new(), body: ReplyBody::Hang }
    }

    /// A stream that sends `message_start` and then only `ping` events, one every `every`, forever.
    pub fn pings(every: Duration) -> Self {
        Self { body: ReplyBody::Pings { every }, ..Self::sse("", 1) }
    }

    /// A 200 body of `bytes` bytes with no length header; `stream` sends it as an event stream.
    pub fn oversized(bytes: usize, stream: bool) -> Self {
        let base = if stream { Self::sse("", 1) } else { Self::json(200, "") };
        Self { body: ReplyBody::Oversized { bytes, stream }, ..base }
    }

    /// The connection breaks after the stream's chunks.
    pub fn cut(self) -> Self {
        self.ending(StreamEnd::Cut)
    }

    /// The stream stays open and silent after its chunks.
    pub fn stall(self) -> Self {
        self.ending(StreamEnd::Stall)
    }

    fn ending(mut self, how: StreamEnd) -> Self {
        if let ReplyBody::Stream { end, .. } = &mut self.body {
            *end = how;
        }
        self
    }

    /// Adds a response header (a second `request-id` replaces the default).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if name.eq_ignore_ascii_case("request-id") {
            self.headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case("request-id"));
        }
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The content of a whole `pause_turn` message, which the fake accepts back as a resume.
    pub(super) fn paused_content(&self) -> Option<Vec<Value>> {
        let ReplyBody::Whole(text) = &self.body else { return None };
        let message: Value = serde_json::from_str(text).ok()?;
        (message.get("stop_reason").and_then(Value::as_str) == Some("pause_turn"))
            .then(|| message.get("content").and_then(Value::as_array).cloned())
            .flatten()
    }
}

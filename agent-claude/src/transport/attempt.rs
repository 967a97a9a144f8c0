//! Streamed responses: one attempt's bytes through the SSE decoder and the accumulator, and the retry of a stream that fails before any content.

use std::collections::VecDeque;

use agent_core::ModelEvent;

use crate::error::{Error, Result};
use crate::sse::{SseDecoder, SseError, SseEvent};
use crate::stream::Accumulator;
use crate::transport::body::ByteSource;
use crate::transport::retry::Budget;
use crate::transport::{Call, Transport};
use crate::wire::response::Decoded;

/// What a stream yields: events while it runs, then the whole message.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one `Done` per stream; boxing buys nothing
pub(crate) enum Item {
    /// A delta or progress event.
    Event(ModelEvent),
    /// `message_stop` arrived: the accumulated message.
    Done(Decoded),
}

/// One streamed response being decoded.
pub(crate) struct Attempt {
    bytes: ByteSource,
    decoder: SseDecoder,
    event_limit: usize,
    accumulator: Option<Accumulator>,
    pending: VecDeque<ModelEvent>,
    sse_events: Vec<SseEvent>,
    finished: bool,
}

impl Attempt {
    /// Decodes `bytes`; one SSE event may hold at most `event_limit` bytes.
    pub(crate) fn new(bytes: ByteSource, event_limit: usize) -> Self {
        Self {
            accumulator: Some(Accumulator::new(bytes.request_id.clone())),
            bytes,
            decoder: SseDecoder::with_limit(event_limit),
            event_limit,
            pending: VecDeque::new(),
            sse_events: Vec::new(),
            finished: false,
        }
    }

    /// The `request-id` of the response.
    pub(crate) fn request_id(&self) -> Option<&str> {
        self.bytes.request_id.as_deref()
    }

    /// Whether a content block started (or the message is complete).
    fn started_content(&self) -> bool {
        self.accumulator.as_ref().is_none_or(Accumulator::has_content)
    }

    /// The next item; `None` after `Done` or an error.
    ///
    /// A stream that ends before `message_stop` is an [`Error::Stream`]: its
    /// partial output is never mistaken for a result.
    pub(crate) async fn next(&mut self) -> Option<Result<Item>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(Item::Event(event)));
            }
            if self.finished {
                return None;
            }
            if self.accumulator.as_ref().is_some_and(Accumulator::is_complete) {
                self.finished = true;
                let accumulator = self.accumulator.take()?;
                return Some(accumulator.finish().map(Item::Done));
            }
            let chunk = match self.bytes.next().await {
                Some(Ok(chunk)) => chunk,
                Some(Err(err)) => return self.fail(err),
                None => {
                    let message = "the stream ended before `message_stop`; its partial output was discarded";
                    return self.fail(Error::Stream {
                        error_type: None,
                        message: message.into(),
                        request_id: self.request_id().map(str::to_owned),
                    });
                }
            };
            if let Err(err) = self.feed(&chunk) {
                return self.fail(err);
            }
        }
    }

    fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        let request_id = self.bytes.request_id.clone();
        self.decoder.push(chunk, &mut self.sse_events).map_err(|err| match err {
            SseError::TooLarge { .. } => {
                Error::ResponseTooLarge { what: "one stream event", limit: self.event_limit, request_id }
            }
            SseError::InvalidUtf8 => Error::Decode { message: err.to_string(), request_id },
        })?;
        let Some(accumulator) = self.accumulator.as_mut() else { return Ok(()) };
        let mut events = Vec::new();
        for sse in self.sse_events.drain(..) {
            if accumulator.is_complete() {
                break; // anything after message_stop is ignored
            }
            accumulator.handle(&sse, &mut events)?;
        }
        self.pending.extend(events);
        Ok(())
    }

    fn fail(&mut self, err: Error) -> Option<Result<Item>> {
        self.finished = true;
        self.pending.clear();
        Some(Err(err))
    }
}

/// A stream over retries: an attempt that fails retryably before any content
/// (an `overloaded_error` event right after `message_start`, a cut or a
/// silence before the first content block) is opened again, like a 529,
/// within the request's retry budget. Once content started, a failure ends
/// the stream: its output cannot be taken back.
pub(crate) struct Streamed {
    transport: Transport,
    call: Call,
    budget: Budget,
    attempt: Attempt,
    delivered: bool,
}

impl Streamed {
    pub(crate) fn new(transport: Transport, call: Call, budget: Budget, attempt: Attempt) -> Self {
        Self { transport, call, budget, attempt, delivered: false }
    }

    /// The next item, reopening the stream when it failed before any content.
    pub(crate) async fn next(&mut self) -> Option<Result<Item>> {
        loop {
            match self.attempt.next().await {
                Some(Err(err)) if !self.delivered && !self.attempt.started_content() => {
                    let Some(delay) = self.transport.retry().verdict(&self.budget, &err) else {
                        return Some(Err(err));
                    };
                    tracing::debug!(error = %err, ?delay, "stream failed before any content; opening it again");
                    self.transport.retry().wait(delay).await;
                    self.budget.retries += 1;
                    match self.transport.open(&self.call, &mut self.budget).await {
                        Ok(attempt) => self.attempt = attempt,
                        Err(err) => return Some(Err(err)),
                    }
                }
                Some(Ok(Item::Event(event))) => {
                    self.delivered = true;
                    return Some(Ok(Item::Event(event)));
                }
                other => return other,
            }
        }
    }
}

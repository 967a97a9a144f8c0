//! One streamed attempt: response bytes through the SSE decoder and the accumulator.

use std::collections::VecDeque;

use agent_core::ModelEvent;
use futures::StreamExt;

use crate::client::ByteStream;
use crate::error::{Error, Result};
use crate::sse::{SseDecoder, SseEvent};
use crate::stream::Accumulator;
use crate::wire::response::Decoded;

/// What an attempt yields: events while it runs, then the whole message.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one `Done` per stream; boxing buys nothing
pub(crate) enum Item {
    /// A delta or progress event.
    Event(ModelEvent),
    /// `message_stop` arrived: the accumulated message.
    Done(Decoded),
}

/// A streamed response being decoded.
pub(crate) struct Attempt {
    bytes: ByteStream,
    decoder: SseDecoder,
    accumulator: Option<Accumulator>,
    pending: VecDeque<ModelEvent>,
    sse_events: Vec<SseEvent>,
    request_id: Option<String>,
    finished: bool,
}

impl Attempt {
    /// Decodes `bytes`, the body of the response carrying `request_id`.
    pub(crate) fn new(request_id: Option<String>, bytes: ByteStream) -> Self {
        Self {
            bytes,
            decoder: SseDecoder::new(),
            accumulator: Some(Accumulator::new(request_id.clone())),
            pending: VecDeque::new(),
            sse_events: Vec::new(),
            request_id,
            finished: false,
        }
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
                return Some(Ok(Item::Done(accumulator.finish())));
            }
            let chunk = match self.bytes.next().await {
                Some(Ok(chunk)) => chunk,
                Some(Err(err)) => return self.fail(err),
                None => {
                    let message = "the stream ended before `message_stop`; its partial output was discarded";
                    return self.fail(Error::Stream {
                        error_type: None,
                        message: message.into(),
                        request_id: self.request_id.clone(),
                    });
                }
            };
            if let Err(err) = self.feed(&chunk) {
                return self.fail(err);
            }
        }
    }

    fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        self.decoder
            .push(chunk, &mut self.sse_events)
            .map_err(|err| Error::Decode { message: err.to_string(), request_id: self.request_id.clone() })?;
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

/// Decodes a whole recorded stream (for benchmarks and tests): the number of
/// SSE events and the final message.
pub(crate) fn decode_recorded(bytes: &[u8], chunk_size: usize) -> Result<(usize, Decoded)> {
    let mut decoder = SseDecoder::new();
    let mut accumulator = Accumulator::new(None);
    let mut sse_events = Vec::new();
    let mut events = Vec::new();
    let mut count = 0;
    for chunk in bytes.chunks(chunk_size.max(1)) {
        decoder
            .push(chunk, &mut sse_events)
            .map_err(|err| Error::Decode { message: err.to_string(), request_id: None })?;
        count += sse_events.len();
        for sse in sse_events.drain(..) {
            accumulator.handle(&sse, &mut events)?;
        }
        events.clear();
    }
    Ok((count, accumulator.finish()))
}

//! An incremental Server-Sent Events decoder: bytes in, `event`/`data` pairs out.
//!
//! Input may be split at any byte (inside a line, a CRLF pair or a UTF-8
//! sequence). Lines end in LF, CR or CRLF; `:` lines are comments; several
//! `data:` lines join with newlines; an event is dispatched at a blank line.
//! An event left unterminated when the stream ends is dropped, as the SSE
//! specification requires.

/// One decoded event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; `message` when the event named none.
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// The stream could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// A line is not UTF-8.
    #[error("server-sent event line is not valid UTF-8")]
    InvalidUtf8,
    /// One line or event is longer than the decoder's limit.
    #[error("a server-sent event is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// The decoder state between chunks.
#[derive(Debug)]
pub struct SseDecoder {
    /// Bytes of the current, unterminated line.
    buf: Vec<u8>,
    /// The previous chunk ended in CR: a leading LF belongs to it.
    skip_lf: bool,
    event: String,
    data: String,
    has_data: bool,
    /// The most bytes one line or event may hold.
    limit: usize,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    /// A decoder at the start of a stream, without a size limit.
    pub fn new() -> Self {
        Self::with_limit(usize::MAX)
    }

    /// A decoder that fails when one line or event exceeds `limit` bytes,
    /// so a stream without event boundaries cannot grow its buffers unbounded.
    pub fn with_limit(limit: usize) -> Self {
        Self { buf: Vec::new(), skip_lf: false, event: String::new(), data: String::new(), has_data: false, limit }
    }

    /// Decodes a chunk, appending completed events to `out`.
    ///
    /// # Errors
    ///
    /// [`SseError`] when a line is not UTF-8 or a line or event is over the
    /// limit; the decoder should then be dropped.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if self.skip_lf && !chunk.is_empty() {
            self.skip_lf = false;
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
        }
        if self.buf.is_empty() {
            // Fast path: decode lines straight from the chunk, copy only the tail.
            let rest = self.lines(chunk, out)?;
            return self.keep(rest);
        }
        let Some(end) = find_terminator(chunk) else {
            return self.keep(chunk);
        };
        // Complete the buffered line with the chunk's first line, then go on from the chunk.
        self.buf.extend_from_slice(&chunk[..end]);
        let line = std::mem::take(&mut self.buf);
        self.line(&line, out)?;
        self.buf = line;
        self.buf.clear();
        let next = self.after_terminator(chunk, end);
        let rest = self.lines(&chunk[next..], out)?;
        self.keep(rest)
    }

    /// Buffers the start of an unterminated line, within the limit.
    fn keep(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        if self.buf.len().saturating_add(bytes.len()) > self.limit {
            return Err(SseError::TooLarge { limit: self.limit });
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Decodes every complete line of `bytes`; returns the unterminated tail.
    fn lines<'a>(&mut self, bytes: &'a [u8], out: &mut Vec<SseEvent>) -> Result<&'a [u8], SseError> {
        let mut pos = 0;
        while let Some(offset) = find_terminator(&bytes[pos..]) {
            let end = pos + offset;
            self.line(&bytes[pos..end], out)?;
            pos = self.after_terminator(bytes, end);
        }
        Ok(&bytes[pos..])
    }

    /// The index after the terminator at `end`; notes a CR that may pair with
    /// an LF in the next chunk.
    fn after_terminator(&mut self, bytes: &[u8], end: usize) -> usize {
        if bytes[end] == b'\r' {
            match bytes.get(end + 1) {
                Some(b'\n') => end + 2,
                Some(_) => end + 1,
                None => {
                    self.skip_lf = true;
                    end + 1
                }
            }
        } else {
            end + 1
        }
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if line.is_empty() {
            if self.has_data {
                let mut data = std::mem::take(&mut self.data);
                data.pop(); // the newline after the last data line
                let event = std::mem::take(&mut self.event);
                out.push(SseEvent { event: if event.is_empty() { "message".to_owned() } else { event }, data });
            } else {
                self.event.clear();
            }
            self.has_data = false;
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(()); // comment
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::InvalidUtf8)?;
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => {
                self.event.clear();
                self.event.push_str(value);
            }
            "data" => {
                if self.data.len().saturating_add(value.len()) >= self.limit {
                    return Err(SseError::TooLarge { limit: self.limit });
                }
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            _ => {} // `id`, `retry` and unknown fields mean nothing to this API
        }
        Ok(())
    }

    /// Whether a partial line or event is pending (the stream was cut mid-event).
    pub fn has_pending(&self) -> bool {
        !self.buf.is_empty() || self.has_data
    }
}

fn find_terminator(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&byte| byte == b'\n' || byte == b'\r')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    fn decode_chunks(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.push(chunk, &mut out).unwrap();
        }
        out
    }

    fn event(event: &str, data: &str) -> SseEvent {
        SseEvent { event: event.into(), data: data.into() }
    }

    #[test]
    fn crlf_comments_multiline_data_and_default_event_name() {
        let input = b": keep-alive\r\nevent: ping\r\ndata: {}\r\n\r\ndata: a\ndata: b\n\nevent: x\rdata: y\r\r";
        assert_eq!(decode_chunks(&[input]), vec![event("ping", "{}"), event("message", "a\nb"), event("x", "y")]);
    }

    #[test]
    fn cr_at_chunk_end_pairs_with_lf_in_next_chunk() {
        let events = decode_chunks(&[b"data: 1\r", b"\n\r", b"\ndata: 2\n\n"]);
        assert_eq!(events, vec![event("message", "1"), event("message", "2")]);
    }

    #[test]
    fn event_without_data_is_not_dispatched_and_unterminated_event_is_pending() {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        decoder.push(b"event: lonely\n\ndata: cut", &mut out).unwrap();
        assert!(out.is_empty());
        assert!(decoder.has_pending());
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.push(b"data: \xff\n\n", &mut Vec::new()), Err(SseError::InvalidUtf8));
    }

    #[test]
    fn lines_and_events_over_the_limit_are_errors() {
        let mut decoder = SseDecoder::with_limit(16);
        let mut out = Vec::new();
        decoder.push(b"data: 0123456789\n\n", &mut out).unwrap();
        assert_eq!(out.len(), 1);
        // A line that never ends, fed in small pieces.
        let mut endless = SseDecoder::with_limit(16);
        let fed: Vec<_> = (0..10).map(|_| endless.push(b"data: xxx", &mut out)).collect();
        assert!(fed.contains(&Err(SseError::TooLarge { limit: 16 })), "{fed:?}");
        // Many short data lines of one event.
        let mut many = SseDecoder::with_limit(16);
        assert_eq!(
            many.push(b"data: 123456\ndata: 123456\ndata: 123\n", &mut out),
            Err(SseError::TooLarge { limit: 16 })
        );
    }

    proptest! {
        #[test]
        fn any_split_points_give_the_same_events(
            cuts in proptest::collection::vec(0usize..400, 0..12),
            crlf in any::<bool>(),
        ) {
            let mut text = String::from(
                ": comment\nevent: message_start\ndata: {\"type\":\"message_start\"}\n\n\
                 event: content_block_delta\ndata: {\"text\":\"h\u{e9}llo \u{1f600}\"}\n\n\
                 event: ping\ndata: {\"type\": \"ping\"}\n\ndata: line1\ndata: line2\n\n",
            );
            if crlf {
                text = text.replace('\n', "\r\n");
            }
            let bytes = text.as_bytes();
            let whole = decode_chunks(&[bytes]);
            let mut points: Vec<usize> = cuts.into_iter().map(|cut| cut % (bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut start = 0;
            for point in points {
                chunks.push(&bytes[start..point]);
                start = point;
            }
            chunks.push(&bytes[start..]);
            prop_assert_eq!(whole.len(), 4);
            prop_assert_eq!(decode_chunks(&chunks), whole);
        }
    }
}

//! The writer side of the trace layer: a task draining the bounded channel into the store in batches, and a handle to flush it and read its counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use agent_core::trace::{Trace, TraceStore};
use tokio::sync::{mpsc, oneshot};

/// What the layer sends the writer.
pub(super) enum Message {
    /// A finished trace.
    Trace(Box<Trace>),
    /// Answer once everything sent before is written.
    Flush(oneshot::Sender<()>),
}

/// Counters the layer and the writer share.
#[derive(Debug, Default)]
pub(super) struct Stats {
    /// Spans not stored because the channel was full or closed, or a trace was over its span limit.
    pub(super) dropped: AtomicU64,
    /// Spans the store refused (the write failed).
    pub(super) failed: AtomicU64,
    /// Spans stored.
    pub(super) written: AtomicU64,
}

/// The task that stores the traces a [`TraceLayer`](super::TraceLayer)
/// collects. Spawn [`TraceWriter::run`]; it ends when the layer (the
/// subscriber holding it) is dropped and every trace sent is written.
#[must_use = "traces are stored only while the writer runs"]
pub struct TraceWriter {
    receiver: mpsc::Receiver<Message>,
    store: Arc<dyn TraceStore>,
    batch: usize,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for TraceWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceWriter").field("batch", &self.batch).finish_non_exhaustive()
    }
}

impl TraceWriter {
    pub(super) fn new(
        receiver: mpsc::Receiver<Message>,
        store: Arc<dyn TraceStore>,
        batch: usize,
        stats: Arc<Stats>,
    ) -> Self {
        Self { receiver, store, batch, stats }
    }

    /// Stores traces as they come, up to the batch size per write, until the
    /// layer is gone. A failed write is logged and its spans counted
    /// ([`TraceHandle::failed_spans`]); so are drops, when they happen.
    pub async fn run(mut self) {
        let mut traces = Vec::with_capacity(self.batch);
        let mut flushes = Vec::new();
        let mut reported_drops = 0;
        while let Some(message) = self.receiver.recv().await {
            let mut next = Some(message);
            while let Some(message) = next.take() {
                match message {
                    Message::Trace(trace) => traces.push(*trace),
                    Message::Flush(done) => flushes.push(done),
                }
                if traces.len() < self.batch {
                    next = self.receiver.try_recv().ok();
                }
            }
            self.write(&mut traces).await;
            let dropped = self.stats.dropped.load(Ordering::Relaxed);
            if dropped > reported_drops {
                tracing::warn!(
                    spans = dropped - reported_drops,
                    "trace spans were dropped: the trace writer fell behind (raise the layer's capacity)"
                );
                reported_drops = dropped;
            }
            for done in flushes.drain(..) {
                let _ = done.send(());
            }
        }
    }

    async fn write(&self, traces: &mut Vec<Trace>) {
        if traces.is_empty() {
            return;
        }
        let spans: u64 = traces.iter().map(|trace| trace.spans.len() as u64).sum();
        match self.store.insert_traces(traces).await {
            Ok(()) => {
                self.stats.written.fetch_add(spans, Ordering::Relaxed);
            }
            Err(error) => {
                self.stats.failed.fetch_add(spans, Ordering::Relaxed);
                tracing::warn!(%error, traces = traces.len(), "could not store traces; they are lost");
            }
        }
        traces.clear();
    }
}

/// Flushes a [`TraceLayer`](super::TraceLayer)'s writer and reads its
/// counters. It does not keep the writer alive.
#[derive(Clone, Debug)]
pub struct TraceHandle {
    sender: mpsc::WeakSender<Message>,
    stats: Arc<Stats>,
}

impl TraceHandle {
    pub(super) fn new(sender: mpsc::WeakSender<Message>, stats: Arc<Stats>) -> Self {
        Self { sender, stats }
    }

    /// Waits until every trace finished before the call is stored (or its
    /// write failed). Returns at once when the layer is gone; waits for ever
    /// when the writer was never run.
    pub async fn flush(&self) {
        let Some(sender) = self.sender.upgrade() else { return };
        let (done, stored) = oneshot::channel();
        if sender.send(Message::Flush(done)).await.is_err() {
            return;
        }
        drop(sender);
        let _ = stored.await;
    }

    /// Spans dropped so far: the writer fell behind, or a trace went over its span limit.
    pub fn dropped_spans(&self) -> u64 {
        self.stats.dropped.load(Ordering::Relaxed)
    }

    /// Spans whose write failed so far.
    pub fn failed_spans(&self) -> u64 {
        self.stats.failed.load(Ordering::Relaxed)
    }

    /// Spans stored so far.
    pub fn written_spans(&self) -> u64 {
        self.stats.written.load(Ordering::Relaxed)
    }
}

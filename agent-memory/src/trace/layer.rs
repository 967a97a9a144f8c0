//! `TraceLayer`: a `tracing-subscriber` layer that collects the loop's spans per trace and hands each finished trace to the writer, never waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use agent_core::trace::{SpanKind, SpanRecord, SpanStatus, TARGET, Trace, TraceStore};
use tokio::sync::mpsc;
use tracing::Subscriber;
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::fields::{Fields, Recorder};
use super::writer::{Message, Stats, TraceHandle, TraceWriter};

/// A [`Layer`] that stores the traces the loop emits (see
/// [`agent_core::trace`]) through a [`TraceStore`].
///
/// It collects the spans of a trace (a run and everything inside it) as
/// they close, and when the root closes it hands the whole trace to a
/// bounded channel, which a [`TraceWriter`] drains into the store in
/// batches. The loop never waits for the store: when the channel is full
/// the trace is dropped and its spans counted
/// ([`TraceHandle::dropped_spans`]). Spans other than the loop's (other
/// targets) pass through untouched, for the other layers.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
///
/// use agent_core::Agent;
/// use agent_core::testing::TestModel;
/// use agent_core::trace::{InMemoryTraceStore, TraceQuery, TraceStore};
/// use agent_memory::TraceLayer;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = Arc::new(InMemoryTraceStore::new());
/// let (layer, writer) = TraceLayer::new(store.clone());
/// let handle = layer.handle();
/// tokio::spawn(writer.run());
/// let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
///
/// let agent = Agent::builder(TestModel::new().answer("Sunny.")).id("weather").name("Weather").build()?;
/// agent.run("Weather in Paris?").await?;
/// handle.flush().await;
///
/// let traces = store.traces(&TraceQuery::new()).await?;
/// assert_eq!(traces.items[0].name, "Weather.run");
/// assert_eq!(traces.items[0].total_spans, 2); // the run and its model call
/// # Ok::<_, Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub struct TraceLayer {
    sender: mpsc::Sender<Message>,
    stats: Arc<Stats>,
    ids: Ids,
    /// Orders spans by creation (their start order, ties included).
    created: AtomicU64,
    max_spans: usize,
    max_text: usize,
}

impl std::fmt::Debug for TraceLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceLayer").field("max_spans", &self.max_spans).finish_non_exhaustive()
    }
}

/// Builds a [`TraceLayer`] and its [`TraceWriter`].
#[must_use]
pub struct TraceLayerBuilder {
    store: Arc<dyn TraceStore>,
    capacity: usize,
    batch: usize,
    max_spans: usize,
    max_text: usize,
}

impl std::fmt::Debug for TraceLayerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceLayerBuilder")
            .field("capacity", &self.capacity)
            .field("batch", &self.batch)
            .field("max_spans", &self.max_spans)
            .field("max_text", &self.max_text)
            .finish_non_exhaustive()
    }
}

impl TraceLayerBuilder {
    /// How many finished traces may wait for the writer (default 1024);
    /// more are dropped.
    pub fn capacity(mut self, traces: usize) -> Self {
        self.capacity = traces.max(1);
        self
    }

    /// At most how many traces the writer stores in one write (default 64).
    pub fn batch(mut self, traces: usize) -> Self {
        self.batch = traces.max(1);
        self
    }

    /// At most how many spans one trace keeps, its root included (default
    /// 10,000); spans closing after that are dropped and counted.
    pub fn max_spans_per_trace(mut self, spans: usize) -> Self {
        self.max_spans = spans.max(1);
        self
    }

    /// Text fields (inputs, outputs, errors) longer than this many bytes are
    /// cut (default 64 KiB).
    pub fn max_text(mut self, bytes: usize) -> Self {
        self.max_text = bytes.max(1);
        self
    }

    /// The layer, and the writer to spawn (`tokio::spawn(writer.run())`).
    pub fn build(self) -> (TraceLayer, TraceWriter) {
        let (sender, receiver) = mpsc::channel(self.capacity);
        let stats = Arc::new(Stats::default());
        let layer = TraceLayer {
            sender,
            stats: Arc::clone(&stats),
            ids: Ids::new(),
            created: AtomicU64::new(0),
            max_spans: self.max_spans,
            max_text: self.max_text,
        };
        (layer, TraceWriter::new(receiver, self.store, self.batch, stats))
    }
}

impl TraceLayer {
    /// A layer storing into `store` with the default settings, and its writer.
    pub fn new(store: Arc<dyn TraceStore>) -> (Self, TraceWriter) {
        Self::builder(store).build()
    }

    /// A builder for a layer storing into `store`.
    pub fn builder(store: Arc<dyn TraceStore>) -> TraceLayerBuilder {
        TraceLayerBuilder { store, capacity: 1024, batch: 64, max_spans: 10_000, max_text: 64 * 1024 }
    }

    /// A layer storing into `store`, its writer spawned on the current Tokio runtime.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime (as `tokio::spawn` does).
    pub fn spawn(store: Arc<dyn TraceStore>) -> Self {
        let (layer, writer) = Self::new(store);
        tokio::spawn(writer.run());
        layer
    }

    /// A handle to flush the writer and read its counters.
    pub fn handle(&self) -> TraceHandle {
        TraceHandle::new(self.sender.downgrade(), Arc::clone(&self.stats))
    }

    fn now_micros() -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| i64::try_from(since.as_micros()).unwrap_or(0))
    }
}

/// A span of the loop, open.
struct Open {
    span_id: u64,
    trace_id: u128,
    parent_span_id: Option<u64>,
    /// The trace's root, when this is not it.
    root: Option<Id>,
    kind: SpanKind,
    created: u64,
    start_time: i64,
    started: Instant,
    fields: Fields,
    /// The root's: the trace's finished spans, with their creation order.
    finished: Vec<(u64, SpanRecord)>,
    /// The root's: spans over the limit.
    overflow: u64,
}

impl Open {
    fn record(self, trace_id: &str) -> (u64, SpanRecord, Vec<(u64, SpanRecord)>, u64) {
        let Fields { name, status, status_message, duration_ms, input, output, attributes } = self.fields;
        let measured = i64::try_from(self.started.elapsed().as_micros()).unwrap_or(i64::MAX);
        let duration = duration_ms
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .map_or(measured, |ms| (ms * 1000.0).round().min(i64::MAX as f64) as i64);
        let status = status.unwrap_or_default();
        let record = SpanRecord {
            trace_id: trace_id.to_owned(),
            span_id: format!("{:016x}", self.span_id),
            parent_span_id: self.parent_span_id.map(|id| format!("{id:016x}")),
            name: name.unwrap_or_else(|| self.kind.span_name().to_owned()),
            kind: self.kind,
            status,
            status_message: if status == SpanStatus::Error { status_message } else { None },
            start_time: self.start_time,
            end_time: self.start_time.saturating_add(duration),
            input,
            output,
            attributes,
        };
        (self.created, record, self.finished, self.overflow)
    }
}

impl<S> Layer<S> for TraceLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let metadata = attrs.metadata();
        if metadata.target() != TARGET {
            return;
        }
        let (Some(kind), Some(span)) = (SpanKind::from_span_name(metadata.name()), ctx.span(id)) else { return };
        // The nearest span of the loop above this one (others may sit between).
        let parent = span.scope().skip(1).find_map(|ancestor| {
            let extensions = ancestor.extensions();
            let open = extensions.get::<Open>()?;
            Some((open.span_id, open.trace_id, open.root.clone().unwrap_or_else(|| ancestor.id())))
        });
        let (trace_id, parent_span_id, root) = match parent {
            Some((parent_id, trace_id, root)) => (trace_id, Some(parent_id), Some(root)),
            None => (self.ids.trace(), None, None),
        };
        let mut fields = Fields::default();
        attrs.record(&mut Recorder { fields: &mut fields, max_text: self.max_text });
        span.extensions_mut().insert(Open {
            span_id: self.ids.span(),
            trace_id,
            parent_span_id,
            root,
            kind,
            created: self.created.fetch_add(1, Ordering::Relaxed),
            start_time: Self::now_micros(),
            started: Instant::now(),
            fields,
            finished: Vec::new(),
            overflow: 0,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(open) = extensions.get_mut::<Open>() {
            values.record(&mut Recorder { fields: &mut open.fields, max_text: self.max_text });
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(open) = span.extensions_mut().remove::<Open>() else { return };
        let trace_id = format!("{:032x}", open.trace_id);
        let root = open.root.clone();
        let (created, record, mut finished, overflow) = open.record(&trace_id);
        if let Some(root) = root {
            // A child closes before its root (the root stays open while it has children).
            let Some(root) = ctx.span(&root) else { return };
            let mut extensions = root.extensions_mut();
            if let Some(root) = extensions.get_mut::<Open>() {
                // The root itself counts too.
                if root.finished.len() + 1 < self.max_spans {
                    root.finished.push((created, record));
                } else {
                    root.overflow += 1;
                }
            }
            return;
        }
        finished.push((created, record));
        finished.sort_by_key(|(created, _)| *created);
        let spans: Vec<SpanRecord> = finished.into_iter().map(|(_, record)| record).collect();
        let count = spans.len() as u64;
        self.stats.dropped.fetch_add(overflow, Ordering::Relaxed);
        let Some(trace) = Trace::from_spans(spans) else { return };
        if self.sender.try_send(Message::Trace(Box::new(trace))).is_err() {
            self.stats.dropped.fetch_add(count, Ordering::Relaxed);
        }
    }
}

/// Span and trace ids: unique within the process (a counter through a
/// bijective mix), unlikely to collide across processes (a random seed), and
/// no system call per span.
struct Ids {
    seed: u64,
    counter: AtomicU64,
}

impl Ids {
    fn new() -> Self {
        let seed = uuid::Uuid::new_v4().as_u64_pair().0;
        Self { seed, counter: AtomicU64::new(0) }
    }

    fn next(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        mix(self.seed.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
    }

    fn span(&self) -> u64 {
        self.next()
    }

    fn trace(&self) -> u128 {
        (u128::from(self.next()) << 64) | u128::from(self.next())
    }
}

/// SplitMix64's finalizer, a bijection of `u64`.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

//! Framework overhead: building an agent, one loop turn, the cost of tracing it (off, spans on, spans stored), and 10,000 runs in flight.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use std::sync::Arc;

use agent_core::trace::{SessionTraceStats, SpanRecord, Trace, TraceQuery, TraceStore, TraceSummary};
use agent_core::{
    Agent, ContentBlock, FnTool, Model, ModelError, ModelRequest, ModelResponse, Page, StopReason, StoreError, ToolDef,
    ToolOutput, Usage,
};
use async_trait::async_trait;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

/// Counts live heap bytes, to report memory per agent and per in-flight run.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates to the system allocator; only adds counting.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn noop_tool() -> FnTool {
    FnTool::<()>::raw(
        ToolDef::new("noop", "Does nothing.", json!({"type": "object", "properties": {}})),
        |_, _| async { Ok(ToolOutput::text("ok")) },
    )
}

/// Answers with a tool call for `turns - 1` turns, then with text. Keeps no
/// state but the turn count in the conversation, so it costs almost nothing.
struct TurnsModel {
    turns: usize,
    delay: Option<Duration>,
}

#[async_trait]
impl Model for TurnsModel {
    fn id(&self) -> &str {
        "bench"
    }
    fn provider(&self) -> &str {
        "bench"
    }
    async fn request(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        let turn = request.messages.len() / 2;
        let content = if turn + 1 < self.turns {
            vec![ContentBlock::ToolUse { id: "c".into(), name: "noop".into(), input: json!({}) }]
        } else {
            vec![ContentBlock::text("done")]
        };
        let stop_reason = if turn + 1 < self.turns { StopReason::ToolUse } else { StopReason::EndTurn };
        Ok(ModelResponse { content, stop_reason, usage: Usage::default(), ..ModelResponse::default() })
    }
}

fn build_agent(c: &mut Criterion) {
    let model: std::sync::Arc<dyn Model> = std::sync::Arc::new(TurnsModel { turns: 1, delay: None });
    let tool: std::sync::Arc<dyn agent_core::Tool> = std::sync::Arc::new(noop_tool());
    c.bench_function("build agent with one tool", |b| {
        b.iter(|| Agent::builder(model.clone()).instructions("You help.").tool(tool.clone()).build().map(drop))
    });
    let before = LIVE.load(Ordering::Relaxed);
    let agents: Vec<_> =
        (0..1000).map(|_| Agent::builder(model.clone()).instructions("You help.").tool(tool.clone()).build()).collect();
    let per_agent = (LIVE.load(Ordering::Relaxed) - before) as f64 / 1000.0;
    println!("heap per agent with one tool: {per_agent:.0} bytes (including the Vec slot of 1000 agents)");
    drop(agents);
}

fn loop_turn(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut group = c.benchmark_group("loop");
    for turns in [1usize, 11] {
        let agent = Agent::builder(TurnsModel { turns, delay: None }).tool(noop_tool()).build().expect("agent");
        group.bench_function(format!("run with {turns} model turns"), |b| {
            b.to_async(&runtime).iter(|| async { agent.run("go").await.expect("run") })
        });
    }
    group.finish();
}

/// A trace store that keeps nothing: the layer's own cost, without a database's.
struct DiscardTraces;

#[async_trait]
impl TraceStore for DiscardTraces {
    async fn insert_traces(&self, _: &[Trace]) -> Result<(), StoreError> {
        Ok(())
    }
    async fn traces(&self, _: &TraceQuery) -> Result<Page<TraceSummary>, StoreError> {
        Ok(Page::default())
    }
    async fn trace(&self, _: &str) -> Result<Option<Trace>, StoreError> {
        Ok(None)
    }
    async fn span(&self, _: &str, _: &str) -> Result<Option<SpanRecord>, StoreError> {
        Ok(None)
    }
    async fn trace_session_stats(&self, _: &TraceQuery) -> Result<Page<SessionTraceStats>, StoreError> {
        Ok(Page::default())
    }
}

/// The loop with tracing off (no subscriber), with spans on but nothing
/// reading them (a bare registry), and with the trace layer storing every
/// trace: into a store that keeps nothing (the layer's and the writer's own
/// cost), then into SQLite. The writer shares the loop's thread: each run
/// yields once so it gets its turn (every variant yields alike), and what it
/// costs is counted.
fn traced_loop(c: &mut Criterion) {
    use tracing_subscriber::layer::SubscriberExt;

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let agent = Agent::builder(TurnsModel { turns: 11, delay: None }).tool(noop_tool()).build().expect("agent");
    let mut group = c.benchmark_group("loop tracing");
    let mut run = |name: &str| {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let output = agent.run("go").await.expect("run");
                tokio::task::yield_now().await;
                output
            })
        });
    };
    run("11 turns, tracing off");
    {
        let _registry = tracing::subscriber::set_default(tracing_subscriber::registry());
        run("11 turns, spans on, no layer");
    }
    let dir = std::env::temp_dir().join(format!("agent-bench-traces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let sqlite: Arc<dyn TraceStore> =
        Arc::new(runtime.block_on(agent_memory::SqliteStore::open(dir.join("traces.db"))).expect("store"));
    for (name, store) in [
        ("11 turns, TraceLayer, store keeps nothing", Arc::new(DiscardTraces) as Arc<dyn TraceStore>),
        ("11 turns, TraceLayer into SQLite", sqlite.clone()),
    ] {
        let (layer, writer) = agent_memory::TraceLayer::new(store);
        let handle = layer.handle();
        runtime.spawn(writer.run());
        {
            let _stored = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
            run(name);
        }
        runtime.block_on(handle.flush());
        println!(
            "{name}: {} spans written, {} dropped (the writer fell behind), {} failed",
            handle.written_spans(),
            handle.dropped_spans(),
            handle.failed_spans()
        );
    }
    // What the SQLite writer keeps up with: batches of 64 traces of 22 spans.
    let trace = runtime.block_on(sqlite.search_traces(&TraceQuery::new().page(1, 1))).expect("read").items;
    if let Some(trace) = trace.into_iter().next() {
        let batches = 20;
        let started = Instant::now();
        for batch in 0..batches {
            let traces: Vec<Trace> = (0..64)
                .map(|index| {
                    let mut copy = trace.clone();
                    let id = format!("bench-{batch}-{index}");
                    copy.summary.trace_id.clone_from(&id);
                    copy.spans.iter_mut().for_each(|span| span.trace_id.clone_from(&id));
                    copy
                })
                .collect();
            runtime.block_on(sqlite.insert_traces(&traces)).expect("insert");
        }
        let spans = (batches * 64 * trace.spans.len()) as f64;
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "SQLite trace writes: {:.0} spans/s ({:.0} traces of {} spans per second)",
            spans / elapsed,
            (batches * 64) as f64 / elapsed,
            trace.spans.len()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn many_runs_in_flight(c: &mut Criterion) {
    const RUNS: usize = 10_000;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let agent = Agent::builder(TurnsModel { turns: 2, delay: Some(Duration::from_millis(50)) })
        .tool(noop_tool())
        .build()
        .expect("agent");
    // One measured pass for memory: all runs are parked on the model's timer.
    runtime.block_on(async {
        let before = LIVE.load(Ordering::Relaxed);
        let started = Instant::now();
        let handles: Vec<_> = (0..RUNS)
            .map(|_| {
                let agent = agent.clone();
                tokio::spawn(async move { agent.run("go").await.map(drop) })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let in_flight = LIVE.load(Ordering::Relaxed).saturating_sub(before);
        for handle in handles {
            handle.await.expect("join").expect("run");
        }
        println!(
            "{RUNS} runs in flight: {:.0} bytes per run, all done in {:?} (two 50 ms model turns each)",
            in_flight as f64 / RUNS as f64,
            started.elapsed()
        );
    });
    let mut group = c.benchmark_group("concurrency");
    group.sample_size(10);
    group.bench_function("10k runs, two 50ms model turns each", |b| {
        b.to_async(&runtime).iter(|| async {
            let handles: Vec<_> = (0..RUNS)
                .map(|_| {
                    let agent = agent.clone();
                    tokio::spawn(async move { agent.run("go").await.map(drop) })
                })
                .collect();
            for handle in handles {
                handle.await.expect("join").expect("run");
            }
        })
    });
    group.finish();
}

criterion_group!(benches, build_agent, loop_turn, traced_loop, many_runs_in_flight);
criterion_main!(benches);

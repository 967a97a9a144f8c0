//! Framework overhead: building an agent, one loop turn, and 10,000 runs in flight.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use agent_core::{
    Agent, ContentBlock, FnTool, Model, ModelError, ModelRequest, ModelResponse, StopReason, ToolDef, ToolOutput, Usage,
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

criterion_group!(benches, build_agent, loop_turn, many_runs_in_flight);
criterion_main!(benches);

//! Throughput of the SSE decoder and stream accumulator over a long recorded stream (MB/s and events/s).

use std::hint::black_box;

use agent_claude::__bench::{SseDecoder, decode_stream};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// A recorded-style stream: a thinking block, then `deltas` text deltas, a
/// tool call in fragments, pings, and the closing events.
fn recorded_stream(deltas: usize) -> (String, usize) {
    let mut out = String::new();
    let mut events = 0;
    let mut push = |out: &mut String, name: &str, data: &str| {
        out.push_str("event: ");
        out.push_str(name);
        out.push_str("\ndata: ");
        out.push_str(data);
        out.push_str("\n\n");
        events += 1;
    };
    push(
        &mut out,
        "message_start",
        r#"{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":"claude-opus-4-8","content":[],"stop_reason":null,"usage":{"input_tokens":2048,"output_tokens":1}}}"#,
    );
    push(
        &mut out,
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
    );
    push(
        &mut out,
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me work through this carefully."}}"#,
    );
    push(
        &mut out,
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}"#,
    );
    push(&mut out, "content_block_stop", r#"{"type":"content_block_stop","index":0}"#);
    push(
        &mut out,
        "content_block_start",
        r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
    );
    for i in 0..deltas {
        if i % 500 == 0 {
            push(&mut out, "ping", r#"{"type": "ping"}"#);
        }
        push(
            &mut out,
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"The quick brown fox jumps over the lazy dog, twice. "}}"#,
        );
    }
    push(&mut out, "content_block_stop", r#"{"type":"content_block_stop","index":1}"#);
    push(
        &mut out,
        "content_block_start",
        r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_bench","name":"write_file","input":{}}}"#,
    );
    for _ in 0..50 {
        push(
            &mut out,
            "content_block_delta",
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"k\": \"v\"}"}}"#,
        );
    }
    push(&mut out, "content_block_stop", r#"{"type":"content_block_stop","index":2}"#);
    push(
        &mut out,
        "message_delta",
        r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":20000}}"#,
    );
    push(&mut out, "message_stop", r#"{"type":"message_stop"}"#);
    (out, events)
}

fn bench(c: &mut Criterion) {
    let (stream, events) = recorded_stream(20_000);
    let bytes = stream.as_bytes();

    let mut group = c.benchmark_group("sse_decode_bytes");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    for chunk in [64usize, 1024, 16 * 1024] {
        group.bench_function(format!("decoder_only/chunk_{chunk}"), |b| {
            b.iter(|| {
                let mut decoder = SseDecoder::new();
                let mut out = Vec::with_capacity(256);
                let mut count = 0;
                for piece in bytes.chunks(chunk) {
                    decoder.push(piece, &mut out).expect("valid stream");
                    count += out.len();
                    out.clear();
                }
                black_box(count)
            });
        });
        group.bench_function(format!("decoder_and_accumulator/chunk_{chunk}"), |b| {
            b.iter(|| black_box(decode_stream(black_box(bytes), chunk).expect("valid stream")));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("sse_decode_events");
    group.throughput(Throughput::Elements(events as u64));
    group.bench_function("decoder_and_accumulator/chunk_1024", |b| {
        b.iter(|| black_box(decode_stream(black_box(bytes), 1024).expect("valid stream")));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

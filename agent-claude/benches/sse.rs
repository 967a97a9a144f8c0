//! Benchmark of the SSE decoder and stream accumulator (placeholder, filled below).
fn main() {}

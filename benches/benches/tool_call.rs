//! The cost of calling a `#[tool]` through its generated `Tool` impl (argument
//! parsing, dispatch, result conversion) against calling the function directly.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use agent_core::{RunContext, Tool, ToolError, ToolOutput, tool};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

/// Gets the weather forecast for a city.
///
/// # Arguments
///
/// * `city` - City name.
/// * `days` - How many days ahead; today when absent.
#[tool]
fn forecast(city: String, days: Option<u32>) -> String {
    format!("Sunny in {city} for {} days", days.unwrap_or(1))
}

/// Polls a future that never waits (the tool does no IO) to completion.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the tool call waited"),
    }
}

fn tool_call(c: &mut Criterion) {
    let ctx = RunContext::new(());
    let input = json!({"city": "Paris", "days": 3});
    let mut group = c.benchmark_group("tool_call");

    group.bench_function("direct", |b| {
        b.iter_batched(
            || ("Paris".to_owned(), Some(3)),
            |(city, days)| ToolOutput::text(forecast(black_box(city), black_box(days))),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("generated", |b| {
        b.iter_batched(
            || input.clone(),
            |input: Value| -> Result<ToolOutput, ToolError> {
                ready(Tool::<()>::call(&Forecast, &ctx, black_box(input)))
            },
            BatchSize::SmallInput,
        );
    });
    group.bench_function("generated_bad_arguments", |b| {
        let bad = json!({"city": 5});
        b.iter_batched(
            || bad.clone(),
            |input: Value| ready(Tool::<()>::call(&Forecast, &ctx, black_box(input))),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("def", |b| b.iter(|| Tool::<()>::def(black_box(&Forecast))));
    group.finish();
}

criterion_group!(benches, tool_call);
criterion_main!(benches);

//! Faults: dead and silent servers, ping-only streams, absurd retry hints, oversized bodies, and the request ids errors keep.
//!
//! Time limits are set to fractions of a second here, so the real waits on
//! the loopback sockets stay short and bounded.

use std::time::Duration;

use agent_core::{Model, ModelError, ModelErrorKind, ModelEvent};
use futures::StreamExt;
use serde_json::json;

use crate::ask;
use crate::support::{FakeApi, Reply, fixture, json_fixture, sse_fixture};

/// Every item of a stream, or the error that opening it gave.
async fn collect(claude: &agent_claude::Claude) -> Result<Vec<Result<ModelEvent, ModelError>>, ModelError> {
    Ok(claude.stream(&ask("hi")).await?.collect().await)
}

fn last_error(items: &[Result<ModelEvent, ModelError>]) -> ModelError {
    match items.last() {
        Some(Err(err)) => err.clone(),
        other => panic!("the stream did not fail: {other:?}"),
    }
}

#[tokio::test]
async fn a_server_that_never_answers_a_stream_fails_at_the_first_byte_timeout() {
    let fake = FakeApi::start([Reply::hang(), Reply::hang(), Reply::hang()]).await;
    let claude = fake.builder().first_byte_timeout(Duration::from_millis(150)).build().unwrap();
    let err = collect(&claude).await.unwrap_err();
    assert_eq!(err.kind, ModelErrorKind::Timeout, "{err:?}");
    assert!(err.message.contains("first-byte timeout"), "{}", err.message);
    assert_eq!(fake.requests().len(), 3, "timeouts are retried while the request timeout lasts");
}

#[tokio::test]
async fn a_timed_out_whole_request_is_not_retried_past_its_timeout() {
    let fake = FakeApi::start([Reply::hang(), Reply::hang()]).await;
    let claude = fake.builder().timeout(Duration::from_millis(150)).build().unwrap();
    let err = claude.request(&ask("hi")).await.unwrap_err();
    assert_eq!(err.kind, ModelErrorKind::Timeout);
    assert_eq!(fake.requests().len(), 1, "the attempt used the whole timeout; no retry");
    assert!(fake.slept().is_empty());
}

#[tokio::test]
async fn a_ping_only_stream_ends_at_the_total_timeout() {
    let fake = FakeApi::start([Reply::pings(Duration::from_millis(10))]).await;
    let claude = fake
        .builder()
        .stream_idle_timeout(Duration::from_millis(100))
        .total_timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let items = collect(&claude).await.unwrap();
    let err = last_error(&items);
    assert_eq!(err.kind, ModelErrorKind::Timeout);
    assert!(err.message.contains("total timeout"), "pings kept the idle timer alive: {}", err.message);
    assert_eq!(err.request_id.as_deref(), Some("req_stream"));
}

#[tokio::test]
async fn a_stream_that_goes_silent_after_content_fails_with_its_request_id() {
    let text = fixture("stream_text.sse");
    let partial = &text[..text.find("event: content_block_stop").unwrap()];
    let fake = FakeApi::start([Reply::sse(partial, 50).stall()]).await;
    let claude = fake.builder().stream_idle_timeout(Duration::from_millis(150)).build().unwrap();
    let items = collect(&claude).await.unwrap();
    assert!(matches!(items[0], Ok(ModelEvent::TextDelta { .. })));
    let err = last_error(&items);
    assert_eq!(err.kind, ModelErrorKind::Timeout);
    assert!(err.message.contains("silent"), "{}", err.message);
    assert_eq!(err.request_id.as_deref(), Some("req_stream"));
    assert_eq!(fake.requests().len(), 1, "content was delivered: no retry");
}

#[tokio::test]
async fn a_connection_cut_mid_stream_keeps_the_request_id() {
    let text = fixture("stream_text.sse");
    let partial = &text[..text.find("event: content_block_stop").unwrap()];
    let fake = FakeApi::start([Reply::sse(partial, 9).cut()]).await;
    let err = last_error(&collect(&fake.client("claude-opus-4-8")).await.unwrap());
    assert_eq!(err.request_id.as_deref(), Some("req_stream"), "{err:?}");
}

#[tokio::test]
async fn retry_hints_too_large_for_a_duration_do_not_panic_and_end_the_request() {
    for (name, value) in [("retry-after", "1e20"), ("retry-after-ms", "1e300"), ("retry-after", "3600")] {
        let fake =
            FakeApi::start([json_fixture(429, "error_rate_limit.json").header(name, value), Reply::text("no")]).await;
        let err = fake.client("claude-opus-4-8").request(&ask("hi")).await.unwrap_err();
        assert_eq!(err.kind, ModelErrorKind::RateLimited, "{name}: {value}");
        assert!(err.retry_after.is_some_and(|wait| wait >= Duration::from_secs(3600)), "{name}: {err:?}");
        assert!(err.message.contains("the server asks to wait"), "{}", err.message);
        assert_eq!(fake.requests().len(), 1, "no hammering retry in place of the hint");
        assert!(fake.slept().is_empty());
    }
}

#[tokio::test]
async fn an_overload_before_any_content_is_retried_like_a_529() {
    let early_overload = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",",
        "\"role\":\"assistant\",\"model\":\"claude-opus-4-8\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n",
        "event: ping\ndata: {\"type\": \"ping\"}\n\n",
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
    );
    let fake = FakeApi::start([Reply::sse(early_overload, 16), sse_fixture("stream_text.sse")]).await;
    let items = collect(&fake.client("claude-opus-4-8")).await.unwrap();
    assert!(matches!(items.last(), Some(Ok(ModelEvent::Completed(_)))), "{items:?}");
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(fake.slept().len(), 1);
}

#[tokio::test]
async fn oversized_bodies_and_events_are_typed_errors_not_memory() {
    let fake = FakeApi::start([Reply::oversized(200 * 1024 * 1024, false)]).await;
    let claude = fake.builder().max_response_bytes(1024 * 1024).build().unwrap();
    let err = claude.request(&ask("hi")).await.unwrap_err();
    assert_eq!(err.kind, ModelErrorKind::Decode);
    assert!(err.message.contains("1048576-byte limit for a response body"), "{}", err.message);
    assert_eq!(err.request_id.as_deref(), Some("req_fake"));
    assert!(!err.retryable);

    let fake = FakeApi::start([Reply::oversized(200 * 1024 * 1024, true)]).await;
    let claude = fake.builder().max_response_bytes(1024 * 1024).build().unwrap();
    let err = last_error(&collect(&claude).await.unwrap());
    assert!(err.message.contains("limit for a stream"), "{}", err.message);

    let huge_event = format!(
        "event: content_block_delta\ndata: {}\n\n",
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x".repeat(5000)}})
    );
    let fake = FakeApi::start([Reply::sse(&huge_event, 100)]).await;
    let claude = fake.builder().max_event_bytes(1024).build().unwrap();
    let err = collect(&claude).await.map(|items| last_error(&items)).unwrap_or_else(|err| err);
    assert!(err.message.contains("1024-byte limit for one stream event"), "{}", err.message);

    let declared = Reply::json(200, format!("{{\"pad\": \"{}\"}}", "x".repeat(4096)));
    let fake = FakeApi::start([declared]).await;
    let claude = fake.builder().max_response_bytes(1024).build().unwrap();
    let err = claude.request(&ask("hi")).await.unwrap_err();
    assert!(err.message.contains("limit for a response body"), "a declared length over the limit: {}", err.message);
}

#[tokio::test]
async fn successful_responses_carry_their_request_id() {
    let fake = FakeApi::start([
        json_fixture(200, "message_text.json").header("request-id", "req_whole"),
        sse_fixture("stream_text.sse"),
    ])
    .await;
    let claude = fake.client("claude-opus-4-8");
    assert_eq!(claude.request(&ask("hi")).await.unwrap().request_id.as_deref(), Some("req_whole"));
    let items = collect(&claude).await.unwrap();
    let Some(Ok(ModelEvent::Completed(response))) = items.last() else { panic!("{items:?}") };
    assert_eq!(response.request_id.as_deref(), Some("req_stream"));
}

//! Retries: which statuses are retried, backoff and server hints, and the typed error that remains.

use std::time::Duration;

use agent_core::{Model, ModelErrorKind};

use crate::ask;
use crate::support::{FakeApi, Reply, json_fixture};

fn within(delay: Duration, full_millis: u64) -> bool {
    let full = Duration::from_millis(full_millis);
    delay <= full && delay >= full.mul_f64(0.75)
}

#[tokio::test]
async fn overload_is_retried_with_exponential_backoff_and_jitter() {
    let fake = FakeApi::start(vec![
        json_fixture(529, "error_overloaded.json"),
        json_fixture(529, "error_overloaded.json"),
        json_fixture(200, "message_text.json"),
    ])
    .await;
    let response = fake.client("claude-opus-4-8").request(&ask("hi")).await.unwrap();
    assert_eq!(response.stop_reason, agent_core::StopReason::EndTurn);
    assert_eq!(fake.requests().len(), 3);
    let slept = fake.slept();
    assert_eq!(slept.len(), 2);
    assert!(within(slept[0], 500) && within(slept[1], 1000), "{slept:?}");
}

#[tokio::test]
async fn retry_after_and_retry_after_ms_are_honoured() {
    let fake = FakeApi::start(vec![
        json_fixture(429, "error_rate_limit.json").header("retry-after", "3"),
        json_fixture(503, "error_overloaded.json").header("retry-after-ms", "250").header("retry-after", "9"),
        json_fixture(200, "message_text.json"),
    ])
    .await;
    fake.client("claude-opus-4-8").request(&ask("hi")).await.unwrap();
    assert_eq!(fake.slept(), vec![Duration::from_secs(3), Duration::from_millis(250)]);
}

#[tokio::test]
async fn gives_up_after_max_retries_with_a_typed_error() {
    let fake = FakeApi::start(
        (0..3)
            .map(|_| {
                Reply::json(500, r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#)
            })
            .collect::<Vec<_>>(),
    )
    .await;
    let err = fake.client("claude-opus-4-8").request(&ask("hi")).await.unwrap_err();
    assert_eq!(fake.requests().len(), 3, "one try and the default two retries");
    assert_eq!(err.kind, ModelErrorKind::Api);
    assert_eq!(err.status, Some(500));
    assert_eq!(err.error_type.as_deref(), Some("api_error"));
    assert_eq!(err.request_id.as_deref(), Some("req_fake"));
    assert!(err.retryable);
    assert!(err.message.contains("Internal server error"), "{}", err.message);
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    let cases = [
        (400, "error_invalid_request.json", ModelErrorKind::InvalidRequest),
        (401, "error_authentication.json", ModelErrorKind::Authentication),
        (403, "error_authentication.json", ModelErrorKind::Authentication),
        (404, "error_invalid_request.json", ModelErrorKind::InvalidRequest),
        (413, "error_invalid_request.json", ModelErrorKind::InvalidRequest),
    ];
    for (status, body, kind) in cases {
        // Even a server asking for a retry does not get one on these codes.
        let fake = FakeApi::start(vec![json_fixture(status, body).header("x-should-retry", "true")]).await;
        let err = fake.client("claude-opus-4-8").request(&ask("hi")).await.unwrap_err();
        assert_eq!(fake.requests().len(), 1, "status {status}");
        assert_eq!(err.status, Some(status));
        assert!(!err.retryable);
        if status != 404 {
            assert_eq!(err.kind, kind, "status {status}");
        }
    }
}

#[tokio::test]
async fn request_id_comes_from_the_header_and_the_body_error_is_kept() {
    let fake = FakeApi::start(vec![json_fixture(400, "error_invalid_request.json")]).await;
    let err = fake.client("claude-opus-4-8").request(&ask("hi")).await.unwrap_err();
    assert_eq!(err.request_id.as_deref(), Some("req_fake"));
    assert_eq!(err.error_type.as_deref(), Some("invalid_request_error"));
    assert!(err.message.contains("roles must alternate"), "{}", err.message);
}

#[tokio::test]
async fn timeout_and_conflict_statuses_are_retried() {
    let fake =
        FakeApi::start(vec![Reply::json(408, "{}"), Reply::json(409, "{}"), json_fixture(200, "message_text.json")])
            .await;
    fake.client("claude-opus-4-8").request(&ask("hi")).await.unwrap();
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn x_should_retry_overrides_the_status() {
    let fake = FakeApi::start(vec![
        json_fixture(529, "error_overloaded.json").header("x-should-retry", "false"),
        Reply::json(422, "{}").header("x-should-retry", "true"),
        json_fixture(200, "message_text.json"),
    ])
    .await;
    let claude = fake.client("claude-opus-4-8");
    let err = claude.request(&ask("hi")).await.unwrap_err();
    assert_eq!(err.kind, ModelErrorKind::Overloaded);
    assert_eq!(fake.requests().len(), 1);
    claude.request(&ask("hi")).await.unwrap();
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn connection_errors_are_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let fake = FakeApi::start(vec![]).await;
    let claude = fake.builder().base_url(url).max_retries(3).build().unwrap();
    let err = claude.request(&ask("hi")).await.unwrap_err();
    assert_eq!(err.kind, ModelErrorKind::Connection);
    assert!(err.retryable);
    assert_eq!(fake.slept().len(), 3);
}

#[tokio::test]
async fn max_retries_is_configurable() {
    let fake = FakeApi::start(vec![json_fixture(529, "error_overloaded.json")]).await;
    let claude = fake.builder().max_retries(0).build().unwrap();
    let err = claude.request(&ask("hi")).await.unwrap_err();
    assert_eq!(err.kind, ModelErrorKind::Overloaded);
    assert_eq!(err.request_id.as_deref(), Some("req_fake"));
    assert!(fake.slept().is_empty());
}

#[tokio::test]
async fn a_billing_error_is_not_an_authentication_error() {
    let fake = FakeApi::start(vec![Reply::error(403, "billing_error", "Your credit balance is too low")]).await;
    let err = fake.client("claude-opus-4-8").request(&ask("hi")).await.unwrap_err();
    assert_eq!(err.kind, ModelErrorKind::Api);
    assert_eq!(err.error_type.as_deref(), Some("billing_error"));
    assert!(!err.retryable);
    let fake = FakeApi::start(vec![Reply::error(403, "permission_error", "no access")]).await;
    assert_eq!(
        fake.client("claude-opus-4-8").request(&ask("hi")).await.unwrap_err().kind,
        ModelErrorKind::Authentication
    );
}

//! A failed model call as the user of an agent sees it: each cause once, and
//! the request id the API gave.

use agent_core::Agent;

use crate::support::{FakeApi, json_fixture};

/// The error's text and the texts of its sources, in order.
fn chain(error: &agent_core::Error) -> Vec<String> {
    let mut texts = vec![error.to_string()];
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        texts.push(cause.to_string());
        source = cause.source();
    }
    texts
}

/// Fails when a text of the chain holds the next one (printed twice by `{:#}` or anyhow).
fn assert_each_cause_once(error: &agent_core::Error) {
    for pair in chain(error).windows(2) {
        assert!(!pair[0].contains(&pair[1]), "{pair:?} repeats its source");
    }
}

#[tokio::test]
async fn an_api_error_reports_its_request_id_once() {
    let fake = FakeApi::start([json_fixture(529, "error_overloaded.json").header("request-id", "req_011abc")]).await;
    let agent = Agent::builder(fake.builder().max_retries(0).build().unwrap()).build().unwrap();
    let error = agent.run("hi").await.unwrap_err();
    let report = error.report();
    assert_eq!(report.matches("req_011abc").count(), 1, "{report}");
    assert!(report.starts_with("Claude API error 529 (overloaded_error): Overloaded"), "{report}");
    assert_each_cause_once(&error);
    let agent_core::Error::Model(model_error) = &error else { panic!("{error:?}") };
    assert_eq!(model_error.request_id.as_deref(), Some("req_011abc"));
}

#[tokio::test]
async fn a_stream_error_reports_its_request_id_once() {
    let fake =
        FakeApi::start([json_fixture(400, "error_invalid_request.json").header("request-id", "req_011def")]).await;
    let agent = Agent::builder(fake.builder().max_retries(0).build().unwrap()).build().unwrap();
    let mut events = agent.run("hi").stream();
    while futures::StreamExt::next(&mut events).await.is_some() {}
    let error = events.finish().await.unwrap_err();
    let agent_core::Error::Model(model_error) = &error else { panic!("{error:?}") };
    let id = model_error.request_id.clone().expect("the response's request id");
    assert_eq!(error.report().matches(id.as_str()).count(), 1, "{}", error.report());
    assert_each_cause_once(&error);
}

#[tokio::test]
async fn a_refused_connection_names_its_cause_once() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let claude = agent_claude::Claude::builder()
        .api_key("sk-ant-test")
        .base_url(format!("http://127.0.0.1:{port}"))
        .env_lookup(|_| None)
        .max_retries(0)
        .build()
        .unwrap();
    let error = Agent::builder(claude).build().unwrap().run("hi").await.unwrap_err();
    let report = error.report();
    assert!(report.starts_with("could not reach the Claude API"), "{report}");
    assert_eq!(report.matches("Connection refused").count(), 1, "{report}");
    assert!(!report.contains("request id"), "no response, no request id: {report}");
    assert_each_cause_once(&error);
}

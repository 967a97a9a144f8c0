//! Refusals, server-side `fallbacks`, and the client-side fallback chain with fallback credit.

use agent_core::{ContentBlock, Message, Model, ModelEvent, ModelRequest, Role, StopReason, Usage};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::ask;
use crate::support::{FakeApi, Reply, json_fixture, sse_fixture};

#[tokio::test]
async fn a_refusal_is_typed_with_its_details_and_partial_output_is_discarded() {
    let fake = FakeApi::start(vec![json_fixture(200, "message_refusal.json")]).await;
    let response = fake.client("claude-fable-5").request(&ask("synthesis route")).await.unwrap();
    assert!(response.content.is_empty(), "{:?}", response.content);
    let StopReason::Refusal { details: Some(details) } = response.stop_reason else { panic!() };
    assert_eq!(details.category.as_deref(), Some("bio"));
    assert_eq!(details.explanation.as_deref(), Some("This request touches research biology."));
    assert_eq!(response.fallback_model, None);
    assert_eq!(fake.requests().len(), 1, "no fallback configured, no retry");
}

#[tokio::test]
async fn a_refusal_with_null_details_is_still_a_refusal() {
    let body = json!({"id": "m", "type": "message", "role": "assistant", "model": "claude-fable-5", "content": [],
        "stop_reason": "refusal", "stop_details": null, "usage": {"input_tokens": 0, "output_tokens": 0}});
    let fake = FakeApi::start(vec![Reply::json(200, body.to_string())]).await;
    let response = fake.client("claude-fable-5").request(&ask("x")).await.unwrap();
    assert_eq!(response.stop_reason, StopReason::Refusal { details: None });
}

#[tokio::test]
async fn server_side_fallbacks_send_the_exact_beta_and_pin_the_serving_model() {
    let fake =
        FakeApi::start(vec![json_fixture(200, "message_server_fallback.json"), json_fixture(200, "message_text.json")])
            .await;
    let claude = fake.builder().model("claude-fable-5").server_fallbacks(["claude-opus-4-8"]).build().unwrap();
    let mut request = ask("scan this binary");
    let response = claude.request(&request).await.unwrap();
    assert_eq!(response.fallback_model.as_deref(), Some("claude-opus-4-8"));
    assert_eq!(response.model, "claude-opus-4-8");
    assert!(matches!(&response.content[0], ContentBlock::Other(block) if block["type"] == "fallback"));
    let first = &fake.requests()[0];
    assert_eq!(first.header("anthropic-beta"), "server-side-fallback-2026-06-01");
    assert_eq!(first.body["fallbacks"], json!([{"model": "claude-opus-4-8"}]));

    // The loop's next turn: pinned to the serving model, with the assistant turn echoed.
    request.model = response.fallback_model.clone();
    request.messages.push(Message::new(Role::Assistant, response.content));
    request.messages.push(Message::user("and now?"));
    claude.request(&request).await.unwrap();
    let second = &fake.requests()[1];
    assert_eq!(second.body["model"], "claude-opus-4-8");
    assert!(second.body.get("fallbacks").is_none(), "a model does not fall back to itself");
    assert_eq!(second.header("anthropic-beta"), "");
    assert_eq!(second.body["messages"][1]["content"][0]["type"], "fallback");
}

#[tokio::test]
async fn blocks_before_a_mid_output_fallback_are_echoed_as_the_spec_requires() {
    let fake = FakeApi::start(vec![json_fixture(200, "message_text.json")]).await;
    let claude = fake.client("claude-opus-4-8");
    let assistant = vec![
        ContentBlock::Thinking { thinking: String::new(), signature: "s".into() },
        ContentBlock::text("partial "),
        ContentBlock::ToolUse { id: "toolu_x".into(), name: "t".into(), input: json!({}) },
        ContentBlock::ServerToolUse { id: "srv_unpaired".into(), name: "web_search".into(), input: json!({}) },
        ContentBlock::Other(
            json!({"type": "fallback", "from": {"model": "claude-fable-5"}, "to": {"model": "claude-opus-4-8"}}),
        ),
        ContentBlock::Thinking { thinking: String::new(), signature: "after".into() },
        ContentBlock::text("rest"),
    ];
    let request = ModelRequest {
        messages: vec![Message::user("q"), Message::new(Role::Assistant, assistant), Message::user("more")],
        ..Default::default()
    };
    claude.request(&request).await.unwrap();
    let echoed: Vec<Value> = fake.only_request().body["messages"][1]["content"].as_array().unwrap().clone();
    let types: Vec<&str> = echoed.iter().map(|block| block["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["text", "fallback", "thinking", "text"]);
}

#[tokio::test]
async fn the_client_chain_retries_on_the_next_model_and_pins_it() {
    let fake = FakeApi::start(vec![
        json_fixture(200, "message_refusal.json"),
        json_fixture(200, "message_fallback_answer.json"),
    ])
    .await;
    let claude = fake.builder().model("claude-fable-5").fallback_models(["claude-opus-4-8"]).build().unwrap();
    let response = claude.request(&ask("q")).await.unwrap();
    assert_eq!(response.fallback_model.as_deref(), Some("claude-opus-4-8"));
    assert_eq!(response.content, vec![ContentBlock::text(" check the logs.")]);
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let mut expected = requests[0].body.clone();
    expected["model"] = json!("claude-opus-4-8");
    assert_eq!(requests[1].body, expected, "the conversation is re-sent as-is");
    assert_eq!(requests[1].header("anthropic-beta"), "", "no credit header unless enabled");

    // Pinned: the loop's next turn names the fallback model and is sent there directly.
    let fake = FakeApi::start(vec![json_fixture(200, "message_text.json")]).await;
    let claude = fake.builder().model("claude-fable-5").fallback_models(["claude-opus-4-8"]).build().unwrap();
    let pinned = ModelRequest { model: response.fallback_model, ..ask("next") };
    claude.request(&pinned).await.unwrap();
    assert_eq!(fake.only_request().body["model"], "claude-opus-4-8");
}

#[tokio::test]
async fn fallback_credit_echoes_the_token_and_the_prefill_claim() {
    let fake = FakeApi::start(vec![
        json_fixture(200, "message_refusal_credit.json"),
        json_fixture(200, "message_fallback_answer.json"),
    ])
    .await;
    let claude = fake
        .builder()
        .model("claude-fable-5")
        .fallback_models(["claude-opus-4-8"])
        .fallback_credit(true)
        .build()
        .unwrap();
    let response = claude.request(&ask("debug my exploit mitigation")).await.unwrap();

    let requests = fake.requests();
    assert_eq!(requests[0].header("anthropic-beta"), "fallback-credit-2026-06-01");
    assert_eq!(requests[1].header("anthropic-beta"), "fallback-credit-2026-06-01");
    let retry = &requests[1].body;
    assert_eq!(retry["model"], "claude-opus-4-8");
    assert_eq!(retry["fallback_credit_token"], "fct_abc123");
    assert_eq!(
        retry["messages"][1],
        json!({"role": "assistant", "content": [
            {"type": "thinking", "thinking": "", "signature": "sig-f"},
            {"type": "text", "text": "Step one is to"}
        ]}),
        "unpaired tool_use omitted, trailing whitespace stripped"
    );
    assert_eq!(response.fallback_model.as_deref(), Some("claude-opus-4-8"));
    assert_eq!(
        response.content,
        vec![
            ContentBlock::Thinking { thinking: String::new(), signature: "sig-f".into() },
            ContentBlock::text("Step one is to check the logs."),
        ],
        "the fallback model continued the claimed prefill"
    );
}

#[tokio::test]
async fn credit_retries_fall_back_on_400s() {
    let fake = FakeApi::start(vec![
        json_fixture(200, "message_refusal_credit.json"),
        json_fixture(400, "error_invalid_request.json"),
        json_fixture(400, "error_credit_token.json"),
        json_fixture(200, "message_fallback_answer.json"),
    ])
    .await;
    let claude = fake
        .builder()
        .model("claude-fable-5")
        .fallback_models(["claude-opus-4-8"])
        .fallback_credit(true)
        .build()
        .unwrap();
    let response = claude.request(&ask("q")).await.unwrap();
    assert_eq!(response.content, vec![ContentBlock::text(" check the logs.")]);
    let bodies: Vec<Value> = fake.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies.len(), 4);
    assert_eq!(bodies[1]["messages"].as_array().unwrap().len(), 2, "first: with the prefill claim");
    assert_eq!(bodies[2]["messages"].as_array().unwrap().len(), 1, "then: the unchanged body with the token");
    assert_eq!(bodies[2]["fallback_credit_token"], "fct_abc123");
    assert!(bodies[3].get("fallback_credit_token").is_none(), "then: without the token (credit forfeited)");
}

#[tokio::test]
async fn when_the_whole_chain_refuses_the_refusal_is_returned() {
    let fake =
        FakeApi::start(vec![json_fixture(200, "message_refusal.json"), json_fixture(200, "message_refusal.json")])
            .await;
    let claude = fake.builder().model("claude-fable-5").fallback_models(["claude-opus-4-8"]).build().unwrap();
    let response = claude.request(&ask("q")).await.unwrap();
    assert!(matches!(response.stop_reason, StopReason::Refusal { .. }));
    assert!(response.content.is_empty());
    assert_eq!(response.fallback_model, None);
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn a_streamed_refusal_continues_on_the_fallback_model_in_the_same_stream() {
    let fake = FakeApi::start(vec![sse_fixture("stream_refusal.sse"), sse_fixture("stream_fallback_answer.sse")]).await;
    let claude = fake.builder().model("claude-fable-5").fallback_models(["claude-opus-4-8"]).build().unwrap();
    let items: Vec<_> = claude.stream(&ask("q")).await.unwrap().collect().await;
    let events: Vec<ModelEvent> = items.into_iter().map(Result::unwrap).collect();
    let texts: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            ModelEvent::TextDelta { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["Step one: ", "A safe answer."]);
    let Some(ModelEvent::Completed(response)) = events.last() else { panic!("{events:?}") };
    assert_eq!(response.content, vec![ContentBlock::text("A safe answer.")]);
    assert_eq!(response.fallback_model.as_deref(), Some("claude-opus-4-8"));
    assert_eq!(fake.requests()[1].body["model"], "claude-opus-4-8");
    assert_eq!(fake.requests()[1].body["stream"], true);
}

#[tokio::test]
async fn the_usage_of_refused_attempts_counts() {
    let fake = FakeApi::start(vec![
        json_fixture(200, "message_refusal_credit.json"),
        json_fixture(200, "message_fallback_answer.json"),
    ])
    .await;
    let claude = fake.builder().model("claude-fable-5").fallback_models(["claude-opus-4-8"]).build().unwrap();
    let response = claude.request(&ask("q")).await.unwrap();
    let expected =
        Usage { input_tokens: 33, output_tokens: 9, cache_creation_input_tokens: 0, cache_read_input_tokens: 30 };
    assert_eq!(response.usage, expected, "the refusal's 30/5 plus the answer's 3/4 (30 cached)");

    // The whole chain refused: both attempts count.
    let fake = FakeApi::start(vec![
        json_fixture(200, "message_refusal_credit.json"),
        json_fixture(200, "message_refusal_credit.json"),
    ])
    .await;
    let claude = fake.builder().model("claude-fable-5").fallback_models(["claude-opus-4-8"]).build().unwrap();
    assert_eq!(
        claude.request(&ask("q")).await.unwrap().usage,
        Usage { input_tokens: 60, output_tokens: 10, ..Usage::default() }
    );
}

#[tokio::test]
async fn server_side_fallback_usage_sums_the_attempts() {
    let body = json!({"id": "m", "type": "message", "role": "assistant", "model": "claude-opus-4-8",
        "content": [{"type": "fallback", "from": {"model": "claude-fable-5"}, "to": {"model": "claude-opus-4-8"}},
                    {"type": "text", "text": "Answer."}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "output_tokens": 4, "iterations": [
            {"type": "message", "model": "claude-fable-5", "input_tokens": 12, "output_tokens": 3},
            {"type": "fallback_message", "model": "claude-opus-4-8", "input_tokens": 10, "output_tokens": 4}]}});
    let fake = FakeApi::start(vec![Reply::message(body)]).await;
    let claude = fake.builder().model("claude-fable-5").server_fallbacks(["claude-opus-4-8"]).build().unwrap();
    let response = claude.request(&ask("q")).await.unwrap();
    assert_eq!(response.usage, Usage { input_tokens: 22, output_tokens: 7, ..Usage::default() });
}

#[tokio::test]
async fn a_stream_marks_the_switch_and_counts_the_refused_usage() {
    let fake = FakeApi::start(vec![
        sse_fixture("stream_refusal.sse").header("request-id", "req_refused"),
        sse_fixture("stream_fallback_answer.sse").header("request-id", "req_accepted"),
    ])
    .await;
    let claude = fake.builder().model("claude-fable-5").fallback_models(["claude-opus-4-8"]).build().unwrap();
    let events: Vec<ModelEvent> = claude.stream(&ask("q")).await.unwrap().map(Result::unwrap).collect().await;
    let switch = events.iter().position(|event| *event == ModelEvent::Fallback { model: "claude-opus-4-8".into() });
    let answer =
        events.iter().position(|event| matches!(event, ModelEvent::TextDelta { text, .. } if text == "A safe answer."));
    let refused =
        events.iter().position(|event| matches!(event, ModelEvent::TextDelta { text, .. } if text == "Step one: "));
    assert!(refused < switch && switch < answer, "declined output, then the switch, then the fallback's: {events:?}");
    let Some(ModelEvent::Completed(response)) = events.last() else { panic!("{events:?}") };
    assert_eq!((response.usage.input_tokens, response.usage.output_tokens), (10, 7), "5/3 refused + 5/4 accepted");
    assert_eq!(response.request_id.as_deref(), Some("req_accepted"));
    let usages: Vec<&Usage> = events
        .iter()
        .filter_map(|event| match event {
            ModelEvent::Usage(usage) => Some(usage),
            _ => None,
        })
        .collect();
    assert_eq!(
        usages.last().map(|usage| usage.output_tokens),
        Some(7),
        "usage events after the switch include the refusal"
    );
}

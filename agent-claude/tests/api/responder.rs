//! The fake's responder: the real client against a fake that answers by itself, whole and streamed, through a tool round trip.

use agent_core::{Agent, ContentBlock, Model, ModelEvent, RunEventKind, tool};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::ask;
use crate::support::{FakeApi, FakeOptions, Reply};

/// A Messages API message on `model` with these content blocks.
fn message(model: &Value, content: Value, stop_reason: &str) -> Value {
    json!({"id": "msg_responder", "type": "message", "role": "assistant", "model": model, "content": content,
        "stop_reason": stop_reason, "stop_sequence": null, "usage": {"input_tokens": 20, "output_tokens": 9}})
}

/// Calls `get_weather` for Paris on a fresh question; once the last message
/// holds its result, answers with it. Streams when the request asks.
fn weather_responder(body: &Value) -> Reply {
    let stream = body["stream"] == json!(true);
    let last = body["messages"].as_array().and_then(|messages| messages.last()).cloned().unwrap_or_default();
    let result = last["content"]
        .as_array()
        .and_then(|blocks| blocks.iter().find(|block| block["type"] == "tool_result"))
        .map(|block| block["content"].clone());
    let reply = match result {
        Some(content) => {
            let text = match &content {
                Value::String(text) => text.clone(),
                blocks => blocks[0]["text"].as_str().unwrap_or("").to_owned(),
            };
            message(&body["model"], json!([{"type": "text", "text": format!("Result: {text}")}]), "end_turn")
        }
        None => message(
            &body["model"],
            json!([{"type": "text", "text": "Let me check."},
                   {"type": "tool_use", "id": "toolu_weather_1", "name": "get_weather", "input": {"city": "Paris"}}]),
            "tool_use",
        ),
    };
    Reply::from_message(reply, stream)
}

/// Get the weather in a city.
///
/// # Arguments
///
/// * `city` - The city.
#[tool]
fn get_weather(city: String) -> String {
    format!("It is sunny and 21C in {city}.")
}

#[tokio::test]
async fn the_responder_answers_once_the_script_is_empty_whole_and_streamed() {
    let options = FakeOptions::default().with_responder(|body| {
        let text = format!("Echo, {} messages.", body["messages"].as_array().map_or(0, Vec::len));
        Reply::from_message(
            message(&body["model"], json!([{"type": "text", "text": text}]), "end_turn"),
            body["stream"] == json!(true),
        )
    });
    let fake = FakeApi::start_with(options, [Reply::text("Scripted first.")]).await;
    let claude = fake.client("claude-opus-4-8");
    assert_eq!(claude.request(&ask("a")).await.unwrap().content, vec![ContentBlock::text("Scripted first.")]);
    assert_eq!(claude.request(&ask("b")).await.unwrap().content, vec![ContentBlock::text("Echo, 1 messages.")]);

    let events: Vec<ModelEvent> = claude.stream(&ask("c")).await.unwrap().map(Result::unwrap).collect().await;
    let deltas: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            ModelEvent::TextDelta { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(deltas.len() > 1, "the text comes in several deltas: {deltas:?}");
    assert_eq!(deltas.concat(), "Echo, 1 messages.");
    let Some(ModelEvent::Completed(response)) = events.last() else { panic!("{events:?}") };
    assert_eq!(response.content, vec![ContentBlock::text("Echo, 1 messages.")]);
    assert_eq!(response.usage.input_tokens, 20);
    assert_eq!(response.usage.output_tokens, 9);
    assert_eq!(fake.requests()[2].body["stream"], json!(true));
}

#[tokio::test]
async fn strict_checks_run_before_the_responder() {
    let options = FakeOptions::default().with_responder(|_| panic!("the responder must not see a refused request"));
    let fake = FakeApi::start_with(options, []).await;
    let orphan = json!({"model": "claude-opus-4-8", "max_tokens": 100,
        "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t9", "content": "x"}]}]});
    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", fake.url()))
        .header("x-api-key", "k")
        .header("anthropic-version", "2023-06-01")
        .json(&orphan)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("unexpected `tool_use_id`"), "{body}");
}

#[tokio::test]
async fn a_tool_round_trip_through_the_real_client_whole_and_streamed() {
    for streamed in [false, true] {
        let fake = FakeApi::start_with(FakeOptions::default().with_responder(weather_responder), []).await;
        let agent = Agent::builder(fake.client("claude-opus-4-8")).tool(GetWeather).build().unwrap();
        let output = if streamed {
            let mut stream = agent.run("Weather in Paris?").stream();
            let mut kinds = Vec::new();
            while let Some(event) = stream.next().await {
                kinds.push(event.kind);
            }
            let started = kinds.iter().position(|kind| matches!(kind, RunEventKind::ToolCallStarted { .. }));
            let completed = kinds.iter().position(|kind| matches!(kind, RunEventKind::ToolCallCompleted { .. }));
            assert!(started.is_some() && started < completed, "{kinds:?}");
            let text: String = kinds
                .iter()
                .filter_map(|kind| match kind {
                    RunEventKind::RunContent { content } => Some(content.as_str()),
                    _ => None,
                })
                .collect();
            assert!(text.ends_with("Result: It is sunny and 21C in Paris."), "{text}");
            stream.output().unwrap().unwrap()
        } else {
            agent.run("Weather in Paris?").await.unwrap()
        };
        assert_eq!(output.content, "Result: It is sunny and 21C in Paris.", "streamed: {streamed}");
        assert_eq!(output.tools.len(), 1);
        assert_eq!(output.tools[0].tool_name, "get_weather");
        assert_eq!(output.tools[0].tool_args, json!({"city": "Paris"}));
        assert_eq!(output.tools[0].result.as_deref(), Some("It is sunny and 21C in Paris."));

        let requests = fake.requests();
        assert_eq!(requests.len(), 2, "streamed: {streamed}");
        assert!(requests.iter().all(|request| request.rejection.is_none()), "{requests:#?}");
        assert!(requests.iter().all(|request| request.body["stream"].as_bool().unwrap_or(false) == streamed));
        let answered = &requests[1].body["messages"][2]["content"][0];
        assert_eq!(answered["type"], "tool_result");
        assert_eq!(answered["tool_use_id"], "toolu_weather_1");
        assert_eq!(requests[1].body["messages"][1]["content"][1]["input"], json!({"city": "Paris"}));
    }
}

//! Streamed messages: deltas, every block type, tool arguments, mid-stream errors and cuts.

use agent_core::{ContentBlock, Model, ModelError, ModelErrorKind, ModelEvent, ModelResponse, StopReason, Usage};
use futures::StreamExt;
use serde_json::json;

use crate::ask;
use crate::support::{FakeApi, Reply, fixture, json_fixture, sse_fixture};

/// Every item of a stream.
async fn collect(
    claude: &agent_claude::Claude,
    request: &agent_core::ModelRequest,
) -> Vec<Result<ModelEvent, ModelError>> {
    let stream = claude.stream(request).await.unwrap();
    stream.collect().await
}

fn completed(items: &[Result<ModelEvent, ModelError>]) -> ModelResponse {
    match items.last() {
        Some(Ok(ModelEvent::Completed(response))) => response.clone(),
        other => panic!("stream did not complete: {other:?}"),
    }
}

#[tokio::test]
async fn text_stream_split_anywhere_yields_the_same_deltas_and_response() {
    let text = fixture("stream_text.sse");
    let crlf = text.replace('\n', "\r\n");
    for (body, chunk) in [(&text, 1), (&text, 7), (&text, 100_000), (&crlf, 1), (&crlf, 13)] {
        let fake = FakeApi::start(vec![Reply::sse(body, chunk)]).await;
        let claude = fake.client("claude-opus-4-8");
        let items = collect(&claude, &ask("greet")).await;
        let events: Vec<ModelEvent> = items.into_iter().map(Result::unwrap).collect();
        let usage = Usage {
            input_tokens: 25,
            output_tokens: 12,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 2048,
        };
        assert_eq!(events[0], ModelEvent::TextDelta { index: 0, text: "Héllo".into() });
        assert_eq!(events[1], ModelEvent::TextDelta { index: 0, text: ", wörld 🌍".into() });
        assert_eq!(events[2], ModelEvent::BlockStop { index: 0 });
        assert_eq!(events[3], ModelEvent::Usage(usage));
        assert_eq!(events[4], ModelEvent::StopReason(StopReason::EndTurn));
        let ModelEvent::Completed(response) = &events[5] else { panic!("{:?}", events[5]) };
        assert_eq!(events.len(), 6, "chunk size {chunk}");
        assert_eq!(response.content, vec![ContentBlock::text("Héllo, wörld 🌍")]);
        assert_eq!(response.usage, usage);
        assert_eq!(response.id.as_deref(), Some("msg_01Stream"));

        let sent = fake.only_request();
        assert_eq!(sent.body["stream"], json!(true));
        assert_eq!(sent.body["max_tokens"], json!(64000), "streams default to a larger max_tokens");
    }
}

#[tokio::test]
async fn every_streamed_block_type_is_accumulated() {
    let fake = FakeApi::start(vec![sse_fixture("stream_blocks.sse")]).await;
    let claude = fake.client("claude-opus-4-8");
    let items = collect(&claude, &ask("weather")).await;
    let events: Vec<ModelEvent> = items.iter().map(|item| item.clone().unwrap()).collect();
    assert!(events.contains(&ModelEvent::ThinkingDelta { index: 0, thinking: "Let me ".into() }));
    assert!(events.contains(&ModelEvent::ToolCallStart {
        index: 5,
        id: "toolu_01".into(),
        name: "get_weather".into()
    }));
    assert!(events.contains(&ModelEvent::ToolCallDelta { index: 5, partial_json: "{\"city\": \"Pa".into() }));
    assert!(
        !events.iter().any(|event| matches!(event, ModelEvent::ToolCallStart { index: 1, .. })),
        "server tool calls are not client tool calls"
    );

    let response = completed(&items);
    assert_eq!(response.stop_reason, StopReason::ToolUse);
    assert!(response.tool_input_errors.is_empty());
    let content = response.content;
    assert_eq!(
        content[0],
        ContentBlock::Thinking { thinking: "Let me think.".into(), signature: "EqQBCgIYAhIM".into() }
    );
    assert_eq!(
        content[1],
        ContentBlock::ServerToolUse {
            id: "srvtoolu_1".into(),
            name: "web_search".into(),
            input: json!({"query": "rust"})
        }
    );
    assert!(matches!(&content[2], ContentBlock::ServerToolResult(result) if result.kind == "web_search_tool_result"));
    let ContentBlock::Text { text, citations } = &content[3] else { panic!("{:?}", content[3]) };
    assert_eq!(text, "Rust is fast.");
    assert_eq!(citations[0]["cited_text"], "fast");
    assert_eq!(
        content[4],
        ContentBlock::Other(json!({"type": "compaction", "content": "Summary part one; part two."}))
    );
    assert_eq!(
        content[5],
        ContentBlock::ToolUse {
            id: "toolu_01".into(),
            name: "get_weather".into(),
            input: json!({"city": "Paris", "days": 3})
        }
    );
    assert_eq!(content[6], ContentBlock::ToolUse { id: "toolu_02".into(), name: "get_time".into(), input: json!({}) });
}

#[tokio::test]
async fn malformed_tool_arguments_become_a_retryable_tool_input_error() {
    let fake = FakeApi::start(vec![sse_fixture("stream_bad_json.sse")]).await;
    let items = collect(&fake.client("claude-opus-4-8"), &ask("weather")).await;
    let response = completed(&items);
    assert_eq!(
        response.content,
        vec![ContentBlock::ToolUse { id: "toolu_bad".into(), name: "get_weather".into(), input: json!({}) }]
    );
    let error = &response.tool_input_errors[0];
    assert_eq!(error.tool_call_id, "toolu_bad");
    assert_eq!(error.raw, "{\"city\": \"Paris\",,}");
    assert!(error.message.contains("not valid JSON"), "{}", error.message);
}

#[tokio::test]
async fn a_tool_call_cut_by_max_tokens_is_kept_not_dropped() {
    let fake = FakeApi::start(vec![sse_fixture("stream_max_tokens_tool.sse")]).await;
    let items = collect(&fake.client("claude-opus-4-8"), &ask("write")).await;
    let response = completed(&items);
    assert_eq!(response.stop_reason, StopReason::MaxTokens);
    assert!(matches!(&response.content[0], ContentBlock::ToolUse { id, .. } if id == "toolu_cut"));
    assert_eq!(response.tool_input_errors[0].tool_call_id, "toolu_cut");
}

#[tokio::test]
async fn an_error_event_mid_stream_is_a_typed_error_and_no_result() {
    let fake = FakeApi::start(vec![sse_fixture("stream_error.sse")]).await;
    let items = collect(&fake.client("claude-opus-4-8"), &ask("hi")).await;
    assert!(matches!(&items[0], Ok(ModelEvent::TextDelta { .. })));
    let Some(Err(error)) = items.last() else { panic!("{items:?}") };
    assert_eq!(error.kind, ModelErrorKind::Overloaded);
    assert_eq!(error.error_type.as_deref(), Some("overloaded_error"));
    assert_eq!(error.request_id.as_deref(), Some("req_stream"));
    assert!(error.retryable);
    assert!(!items.iter().any(|item| matches!(item, Ok(ModelEvent::Completed(_)))));
}

#[tokio::test]
async fn a_stream_ending_before_message_stop_is_an_error() {
    let fake = FakeApi::start(vec![sse_fixture("stream_cut.sse")]).await;
    let claude = fake.client("claude-opus-4-8");
    // The body ends mid-event.
    let items = collect(&claude, &ask("hi")).await;
    let Some(Err(error)) = items.last() else { panic!("{items:?}") };
    assert_eq!(error.kind, ModelErrorKind::Stream);
    assert!(error.retryable);
    assert!(!items.iter().any(|item| matches!(item, Ok(ModelEvent::Completed(_)))));
}

#[tokio::test]
async fn a_connection_cut_mid_stream_is_a_connection_error() {
    let partial = fixture("stream_text.sse");
    let partial = &partial[..partial.find("event: content_block_stop").unwrap()];
    let fake = FakeApi::start(vec![Reply::sse(partial, 9).cut()]).await;
    let items = collect(&fake.client("claude-opus-4-8"), &ask("hi")).await;
    let Some(Err(error)) = items.last() else { panic!("{items:?}") };
    assert!(matches!(error.kind, ModelErrorKind::Connection | ModelErrorKind::Stream), "{error:?}");
    assert!(error.retryable);
}

#[tokio::test]
async fn a_refused_stream_completes_with_the_refusal_and_no_partial_output() {
    let fake = FakeApi::start(vec![sse_fixture("stream_refusal.sse")]).await;
    let items = collect(&fake.client("claude-fable-5"), &ask("hi")).await;
    let response = completed(&items);
    assert!(response.content.is_empty(), "partial output discarded: {:?}", response.content);
    let StopReason::Refusal { details: Some(details) } = &response.stop_reason else {
        panic!("{:?}", response.stop_reason)
    };
    assert_eq!(details.category.as_deref(), Some("cyber"));
    assert_eq!(details.explanation, None);
}

#[tokio::test]
async fn stream_open_is_retried_on_overload() {
    let fake = FakeApi::start(vec![json_fixture(529, "error_overloaded.json"), sse_fixture("stream_text.sse")]).await;
    let items = collect(&fake.client("claude-opus-4-8"), &ask("hi")).await;
    assert_eq!(completed(&items).content, vec![ContentBlock::text("Héllo, wörld 🌍")]);
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(fake.slept().len(), 1);
}

#[tokio::test]
async fn an_event_without_a_type_does_not_abort_the_stream() {
    let text = fixture("stream_text.sse");
    let position = text.find("event: content_block_start").unwrap();
    let odd = format!(
        "{}data: {{\"note\": \"no type\"}}\n\nevent: content_block_delta\ndata: {{\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"!\"}}}}\n\n{}",
        &text[..position],
        &text[position..]
    );
    // The typeless delta names itself by its SSE event; it arrives before its block starts and is ignored.
    let fake = FakeApi::start(vec![Reply::sse(&odd, 11)]).await;
    let items = collect(&fake.client("claude-opus-4-8"), &ask("hi")).await;
    assert_eq!(completed(&items).content, vec![ContentBlock::text("Héllo, wörld 🌍")]);
}

#[tokio::test]
async fn a_tool_call_without_an_id_is_a_typed_error_not_an_empty_answer() {
    let body = json!({"id": "m", "type": "message", "role": "assistant", "model": "claude-opus-4-8",
        "content": [{"type": "tool_use", "name": "get_weather", "input": {}}], "stop_reason": "tool_use",
        "usage": {"input_tokens": 1, "output_tokens": 1}});
    let fake = FakeApi::start(vec![Reply::message(body)]).await;
    let err = fake.client("claude-opus-4-8").request(&ask("weather")).await.unwrap_err();
    assert_eq!(err.kind, ModelErrorKind::Decode);
    assert!(err.message.contains("no `id`"), "{}", err.message);
    assert_eq!(err.request_id.as_deref(), Some("req_fake"));

    let stream = Reply::events([
        json!({"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "model": "claude-opus-4-8",
            "content": [], "usage": {"input_tokens": 1, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "", "name": "get_weather", "input": {}}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 3}}),
        json!({"type": "message_stop"}),
    ]);
    let fake = FakeApi::start(vec![stream]).await;
    let items = collect(&fake.client("claude-opus-4-8"), &ask("weather")).await;
    let Some(Err(err)) = items.last() else { panic!("{items:?}") };
    assert_eq!(err.kind, ModelErrorKind::Decode);
}

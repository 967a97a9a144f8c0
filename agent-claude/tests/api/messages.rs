//! Whole (non-streaming) messages: headers, request bodies, block conversion both ways, stop reasons.

use std::sync::Arc;

use agent_claude::{CacheTtl, Claude};
use agent_core::{
    ContentBlock, MediaSource, Message, Model, ModelRequest, Role, StopDetails, StopReason, ToolChoice, ToolDef,
    ToolResultContent, Usage,
};
use serde_json::{Value, json};

use crate::ask;
use crate::support::{FakeApi, Reply, fixture, json_fixture};

#[tokio::test]
async fn sends_required_headers_and_parses_a_text_answer() {
    let fake = FakeApi::start(vec![json_fixture(200, "message_text.json")]).await;
    let claude = fake.builder().build().unwrap();
    let response = claude.request(&ask("What is the capital of France?")).await.unwrap();

    assert_eq!(response.content, vec![ContentBlock::text("Paris is the capital of France.")]);
    assert_eq!(response.stop_reason, StopReason::EndTurn);
    assert_eq!(response.id.as_deref(), Some("msg_01Text"));
    assert_eq!(response.model, "claude-opus-4-8");
    assert_eq!(response.fallback_model, None);
    assert_eq!(
        response.usage,
        Usage { input_tokens: 12, output_tokens: 9, cache_creation_input_tokens: 2048, cache_read_input_tokens: 4096 }
    );

    let sent = fake.only_request();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), "sk-ant-fake");
    assert_eq!(sent.header("anthropic-version"), "2023-06-01");
    assert_eq!(sent.header("content-type"), "application/json");
    assert_eq!(sent.header("authorization"), "");
    assert_eq!(sent.header("anthropic-beta"), "", "no beta feature was used");
    assert_eq!(
        sent.body,
        json!({
            "model": "claude-opus-4-8",
            "max_tokens": 16000,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "What is the capital of France?"}]}]
        })
    );
}

#[tokio::test]
async fn every_block_type_is_parsed_and_sent_back_verbatim() {
    let fake =
        FakeApi::start(vec![json_fixture(200, "message_all_blocks.json"), json_fixture(200, "message_text.json")])
            .await;
    let claude = fake.client("claude-opus-4-8");
    let first = claude.request(&ask("weather and news")).await.unwrap();

    assert_eq!(first.stop_reason, StopReason::ToolUse);
    let content = &first.content;
    assert_eq!(content.len(), 7);
    assert_eq!(content[0], ContentBlock::Thinking { thinking: String::new(), signature: "sig-empty".into() });
    assert_eq!(content[1], ContentBlock::RedactedThinking { data: "ENCRYPTED".into() });
    assert_eq!(
        content[2],
        ContentBlock::ServerToolUse {
            id: "srvtoolu_1".into(),
            name: "web_search".into(),
            input: json!({"query": "rust sse"})
        }
    );
    let ContentBlock::ServerToolResult(result) = &content[3] else { panic!("{:?}", content[3]) };
    assert_eq!((result.kind.as_str(), result.tool_call_id.as_str()), ("web_search_tool_result", "srvtoolu_1"));
    assert_eq!(result.extra.get("caller"), Some(&json!({"type": "direct"})));
    let ContentBlock::Text { text, citations } = &content[4] else { panic!("{:?}", content[4]) };
    assert_eq!((text.as_str(), citations.len()), ("Rust has SSE crates.", 1));
    assert_eq!(content[5], ContentBlock::Other(json!({"type": "compaction", "content": "Summary of earlier turns."})));
    assert_eq!(
        content[6],
        ContentBlock::ToolUse { id: "toolu_1".into(), name: "get_weather".into(), input: json!({"city": "Paris"}) }
    );

    // The next turn sends the assistant content back exactly as received.
    let mut request = ask("weather and news");
    request.messages.push(Message::new(Role::Assistant, first.content.clone()));
    request.messages.push(Message::new(
        Role::User,
        vec![ContentBlock::tool_result("toolu_1", ToolResultContent::Json(json!({"temp_c": 21})), false)],
    ));
    claude.request(&request).await.unwrap();
    let sent = &fake.requests()[1].body;
    let original: Value = serde_json::from_str(&fixture("message_all_blocks.json")).unwrap();
    assert_eq!(sent["messages"][1]["content"], original["content"]);
    assert_eq!(
        sent["messages"][2]["content"],
        json!([{"type": "tool_result", "tool_use_id": "toolu_1", "content": "{\"temp_c\":21}"}]),
        "JSON tool results are sent as serialized text"
    );
}

#[tokio::test]
async fn stop_reasons_map_to_core() {
    let cases: Vec<(Value, StopReason)> = vec![
        (json!("end_turn"), StopReason::EndTurn),
        (json!("tool_use"), StopReason::ToolUse),
        (json!("max_tokens"), StopReason::MaxTokens),
        (json!("stop_sequence"), StopReason::StopSequence { sequence: Some("###".into()) }),
        (json!("pause_turn"), StopReason::PauseTurn),
        (
            json!("refusal"),
            StopReason::Refusal {
                details: Some(StopDetails { category: Some("cyber".into()), explanation: None, ..Default::default() }),
            },
        ),
        (json!("model_context_window_exceeded"), StopReason::ModelContextWindowExceeded),
        (json!("a_future_reason"), StopReason::Unknown { value: "a_future_reason".into() }),
    ];
    let replies: Vec<Reply> = cases
        .iter()
        .map(|(reason, _)| {
            let sequence = if reason == "stop_sequence" { json!("###") } else { Value::Null };
            let details =
                if reason == "refusal" { json!({"category": "cyber", "explanation": null}) } else { Value::Null };
            Reply::json(
                200,
                json!({"id": "m", "type": "message", "role": "assistant", "model": "claude-opus-4-8",
                       "content": [], "stop_reason": reason, "stop_sequence": sequence, "stop_details": details,
                       "usage": {"input_tokens": 1, "output_tokens": 1}})
                .to_string(),
            )
        })
        .collect();
    let fake = FakeApi::start(replies).await;
    let claude = fake.client("claude-opus-4-8");
    for (wire, expected) in cases {
        let response = claude.request(&ask("hi")).await.unwrap();
        assert_eq!(response.stop_reason, expected, "stop_reason {wire}");
    }
}

#[tokio::test]
async fn request_body_carries_system_tools_choice_schema_media_and_options() {
    let fake = FakeApi::start(vec![json_fixture(200, "message_text.json")]).await;
    let claude =
        fake.builder().server_tool(json!({"type": "web_search_20260209", "name": "web_search"})).build().unwrap();
    let weather =
        ToolDef::new("get_weather", "Weather for a city.", json!({"type": "object", "properties": {}})).strict(true);
    let mut memory = ToolDef::new("memory", "ignored", json!({}));
    memory.provider_spec = Some(json!({"type": "memory_20250818", "name": "memory"}));
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false});
    let request = ModelRequest {
        instructions: Some("Be brief.".into()),
        messages: vec![Message::new(
            Role::User,
            vec![
                ContentBlock::Image {
                    source: MediaSource::Base64 { media_type: "image/png".into(), data: "iVBOR".into() },
                },
                ContentBlock::Document {
                    source: MediaSource::Url { url: "https://example.invalid/a.pdf".into() },
                    title: Some("A".into()),
                    context: None,
                    citations: None,
                },
                ContentBlock::text("Which city?"),
            ],
        )],
        tools: Arc::from(vec![Arc::new(weather), Arc::new(memory)]),
        tool_choice: Some(ToolChoice::Tool { name: "get_weather".into() }),
        disable_parallel_tool_use: true,
        max_tokens: Some(1024),
        output_schema: Some(schema.clone()),
        options: json!({
            "effort": "xhigh",
            "thinking": {"type": "adaptive", "display": "summarized"},
            "metadata": {"user_id": "u-1"},
            "stop_sequences": ["###"]
        })
        .as_object()
        .unwrap()
        .clone(),
        ..Default::default()
    };
    claude.request(&request).await.unwrap();
    assert_eq!(
        fake.only_request().body,
        json!({
            "model": "claude-opus-4-8",
            "max_tokens": 1024,
            "system": [{"type": "text", "text": "Be brief."}],
            "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}},
                {"type": "document", "source": {"type": "url", "url": "https://example.invalid/a.pdf"}, "title": "A"},
                {"type": "text", "text": "Which city?"}
            ]}],
            "tools": [
                {"type": "web_search_20260209", "name": "web_search"},
                {"name": "get_weather", "description": "Weather for a city.", "input_schema": {"type": "object", "properties": {}, "additionalProperties": false}, "strict": true},
                {"type": "memory_20250818", "name": "memory"}
            ],
            "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": true},
            "output_config": {"format": {"type": "json_schema", "schema": schema}, "effort": "xhigh"},
            "thinking": {"type": "adaptive", "display": "summarized"},
            "metadata": {"user_id": "u-1"},
            "stop_sequences": ["###"]
        })
    );
}

#[tokio::test]
async fn tool_choice_variants_and_no_choice_without_tools() {
    let replies: Vec<Reply> = (0..4).map(|_| json_fixture(200, "message_text.json")).collect();
    let fake = FakeApi::start(replies).await;
    let claude = fake.client("claude-opus-4-8");
    let tools: Arc<[Arc<ToolDef>]> = Arc::from(vec![Arc::new(ToolDef::new("t", "d", json!({"type": "object"})))]);
    for choice in [ToolChoice::Auto, ToolChoice::Any, ToolChoice::None] {
        let request = ModelRequest { tools: tools.clone(), tool_choice: Some(choice), ..ask("x") };
        claude.request(&request).await.unwrap();
    }
    let request = ModelRequest { tool_choice: Some(ToolChoice::Any), ..ask("no tools") };
    claude.request(&request).await.unwrap();
    let sent: Vec<Value> =
        fake.requests().iter().map(|r| r.body.get("tool_choice").cloned().unwrap_or(Value::Null)).collect();
    assert_eq!(sent, vec![json!({"type": "auto"}), json!({"type": "any"}), json!({"type": "none"}), Value::Null]);
}

#[tokio::test]
async fn prompt_cache_breakpoints_automatic_and_explicit_with_ttl() {
    let fake = FakeApi::start(vec![json_fixture(200, "message_text.json")]).await;
    let claude = fake
        .builder()
        .auto_cache(CacheTtl::OneHour)
        .cache_system(CacheTtl::FiveMinutes)
        .cache_tools(CacheTtl::OneHour)
        .cache_conversation(CacheTtl::FiveMinutes)
        .build()
        .unwrap();
    let request = ModelRequest {
        instructions: Some("stable".into()),
        tools: Arc::from(vec![Arc::new(ToolDef::new("t", "d", json!({"type": "object"})))]),
        ..ask("question")
    };
    let response = claude.request(&request).await.unwrap();
    assert_eq!(response.usage.cache_read_input_tokens, 4096);
    let body = fake.only_request().body;
    assert_eq!(body["cache_control"], json!({"type": "ephemeral", "ttl": "1h"}));
    assert_eq!(body["system"][0]["cache_control"], json!({"type": "ephemeral"}));
    assert_eq!(body["tools"][0]["cache_control"], json!({"type": "ephemeral", "ttl": "1h"}));
    assert_eq!(body["messages"][0]["content"][0]["cache_control"], json!({"type": "ephemeral"}));
}

#[tokio::test]
async fn request_model_override_options_over_builder_and_composed_betas() {
    let fake = FakeApi::start(vec![json_fixture(200, "message_text.json")]).await;
    let claude = fake
        .builder()
        .beta("files-api-2025-04-14")
        .effort(agent_claude::Effort::Low)
        .option("metadata", json!({"user_id": "builder"}))
        .build()
        .unwrap();
    let request = ModelRequest {
        model: Some("claude-sonnet-4-6".into()),
        options: json!({"metadata": {"user_id": "request"}, "betas": ["custom-beta-1"], "context_management": {"edits": [{"type": "compact_20260112"}]}})
            .as_object()
            .unwrap()
            .clone(),
        ..ask("hi")
    };
    claude.request(&request).await.unwrap();
    let sent = fake.only_request();
    assert_eq!(sent.body["model"], "claude-sonnet-4-6");
    assert_eq!(sent.body["metadata"], json!({"user_id": "request"}));
    assert_eq!(sent.body["output_config"], json!({"effort": "low"}));
    assert_eq!(sent.header("anthropic-beta"), "files-api-2025-04-14,custom-beta-1,compact-2026-01-12");
}

#[tokio::test]
async fn consecutive_same_role_messages_merge_into_one_turn() {
    let fake = FakeApi::start(vec![json_fixture(200, "message_text.json")]).await;
    let claude = fake.client("claude-opus-4-8");
    let request = ModelRequest {
        messages: vec![Message::user("one"), Message::user("two"), Message::assistant("a"), Message::user("three")],
        ..Default::default()
    };
    claude.request(&request).await.unwrap();
    let messages = fake.only_request().body["messages"].clone();
    assert_eq!(messages.as_array().unwrap().len(), 3);
    assert_eq!(messages[0]["content"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn unknown_option_is_rejected_before_sending() {
    let fake = FakeApi::start(vec![]).await;
    let claude: Claude = fake.client("claude-opus-4-8");
    let request = ModelRequest { options: json!({"temprature": 0.5}).as_object().unwrap().clone(), ..ask("hi") };
    let err = claude.request(&request).await.unwrap_err();
    assert_eq!(err.kind, agent_core::ModelErrorKind::InvalidRequest);
    assert!(err.message.contains("unknown option `temprature`"), "{}", err.message);
    assert!(fake.requests().is_empty());
}

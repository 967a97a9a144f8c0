//! The persisted message format: a round trip per variant and a snapshot of
//! the wire shape, so changes to it are deliberate.
#![allow(clippy::unwrap_used)]

use agent_core::support::VersionedMessages;
use agent_core::{
    ContentBlock, MediaSource, Message, Role, ServerToolResult, StopDetails, StopReason, ToolResultContent, Usage,
};
use expect_test::expect;
use serde_json::json;

fn every_block() -> Vec<ContentBlock> {
    vec![
        ContentBlock::text("hello"),
        ContentBlock::Text {
            text: "cited".into(),
            citations: vec![json!({"type": "char_location", "cited_text": "x"})],
        },
        ContentBlock::Image { source: MediaSource::Base64 { media_type: "image/png".into(), data: "iVBOR".into() } },
        ContentBlock::Document {
            source: MediaSource::Text { media_type: "text/plain".into(), data: "doc".into() },
            title: Some("Doc".into()),
            context: None,
            citations: Some(json!({"enabled": true})),
        },
        ContentBlock::Document {
            source: MediaSource::File { file_id: "file_1".into() },
            title: None,
            context: None,
            citations: None,
        },
        ContentBlock::ToolUse { id: "t1".into(), name: "get_weather".into(), input: json!({"city": "Paris"}) },
        ContentBlock::tool_result("t1", ToolResultContent::Text("Sunny".into()), false),
        ContentBlock::tool_result("t2", ToolResultContent::Json(json!({"temp": 21})), false),
        ContentBlock::tool_result("t3", ToolResultContent::Blocks(vec![ContentBlock::text("chart")]), true),
        ContentBlock::Thinking { thinking: "hmm".into(), signature: "sig".into() },
        ContentBlock::RedactedThinking { data: "opaque".into() },
        ContentBlock::ServerToolUse { id: "s1".into(), name: "web_search".into(), input: json!({"query": "rust"}) },
        ContentBlock::ServerToolResult(ServerToolResult {
            kind: "web_search_tool_result".into(),
            tool_call_id: "s1".into(),
            content: json!([{"type": "web_search_result", "url": "https://example.com"}]),
            extra: Default::default(),
        }),
        ContentBlock::Other(json!({"type": "compaction", "content": "summary so far"})),
    ]
}

#[test]
fn every_block_round_trips() {
    for block in every_block() {
        let text = serde_json::to_string(&block).unwrap();
        let back: ContentBlock = serde_json::from_str(&text).unwrap();
        assert_eq!(back, block, "{text}");
    }
}

#[test]
fn unknown_blocks_are_kept_verbatim() {
    let raw = json!({"type": "container_upload", "file_id": "f", "nested": {"a": [1, 2]}});
    let block: ContentBlock = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(block, ContentBlock::Other(raw.clone()));
    assert_eq!(serde_json::to_value(&block).unwrap(), raw);
}

#[test]
fn the_persisted_format_is_stable() {
    let messages = VersionedMessages::current(vec![
        Message::user("What's the weather?"),
        Message::new(
            Role::Assistant,
            vec![
                ContentBlock::Thinking { thinking: "check".into(), signature: "sig".into() },
                ContentBlock::ToolUse { id: "t1".into(), name: "get_weather".into(), input: json!({"city": "Paris"}) },
            ],
        ),
        Message::new(Role::User, vec![ContentBlock::tool_result("t1", "Sunny".into(), false)]),
    ]);
    expect![[r#"{"version":2,"messages":[{"role":"user","content":[{"type":"text","text":"What's the weather?"}]},{"role":"assistant","content":[{"type":"thinking","thinking":"check","signature":"sig"},{"type":"tool_use","id":"t1","name":"get_weather","input":{"city":"Paris"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":{"type":"text","text":"Sunny"}}]}]}"#]]
    .assert_eq(&serde_json::to_string(&messages).unwrap());
}

#[test]
fn stop_reasons_round_trip() {
    for reason in [
        StopReason::EndTurn,
        StopReason::ToolUse,
        StopReason::MaxTokens,
        StopReason::StopSequence { sequence: Some("END".into()) },
        StopReason::PauseTurn,
        StopReason::Refusal { details: None },
        StopReason::Refusal {
            details: Some(StopDetails {
                category: Some("bio".into()),
                explanation: None,
                extra: [("fallback_credit_token".to_owned(), json!("tok"))].into_iter().collect(),
            }),
        },
        StopReason::ModelContextWindowExceeded,
        StopReason::Unknown { value: "new_reason".into() },
    ] {
        let text = serde_json::to_string(&reason).unwrap();
        assert_eq!(serde_json::from_str::<StopReason>(&text).unwrap(), reason, "{text}");
    }
}

#[test]
fn usage_adds_up() {
    let a = Usage { input_tokens: 1, output_tokens: 2, cache_creation_input_tokens: 3, cache_read_input_tokens: 4 };
    let total = a + a;
    assert_eq!(total.total_input_tokens(), 16);
    assert_eq!(total.output_tokens, 4);
}

/// Every tool result shape keeps its type through the persisted format.
#[test]
fn tool_results_keep_their_type_through_a_round_trip() {
    let shapes = [
        ToolResultContent::Text("sunny".into()),
        ToolResultContent::Json(json!(21.5)),
        ToolResultContent::Json(json!(null)),
        ToolResultContent::Json(json!(["Paris", "Lisbon"])),
        ToolResultContent::Json(json!("a JSON string")),
        ToolResultContent::Json(json!({"city": {"name": "Paris", "tags": [1, 2]}})),
        ToolResultContent::Blocks(vec![ContentBlock::text("chart"), ContentBlock::text("legend")]),
    ];
    for shape in shapes {
        let messages = vec![Message::new(Role::User, vec![ContentBlock::tool_result("t1", shape.clone(), false)])];
        let stored = serde_json::to_string(&VersionedMessages::current(messages.clone())).unwrap();
        let loaded: VersionedMessages = serde_json::from_str(&stored).unwrap();
        assert_eq!(loaded.messages, messages, "{stored}");
    }
}

/// Version 1 wrote tool results untagged; they still read as what they were.
#[test]
fn version_1_tool_results_are_still_read() {
    let read = |content: serde_json::Value| -> ToolResultContent {
        let stored = json!({"version": 1, "messages": [{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": content}
        ]}]});
        let loaded: VersionedMessages = serde_json::from_value(stored).unwrap();
        match &loaded.messages[0].content[0] {
            ContentBlock::ToolResult { content, .. } => content.clone(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(read(json!("Sunny")), ToolResultContent::Text("Sunny".into()));
    assert_eq!(read(json!({"temp": 21})), ToolResultContent::Json(json!({"temp": 21})));
    assert_eq!(read(json!(["Paris", "Lisbon"])), ToolResultContent::Json(json!(["Paris", "Lisbon"])));
    assert_eq!(
        read(json!([{"type": "text", "text": "chart"}])),
        ToolResultContent::Blocks(vec![ContentBlock::text("chart")])
    );
}

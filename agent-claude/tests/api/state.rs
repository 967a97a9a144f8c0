//! Server-side state and operator messages: containers reused across turns, context management kept, mid-conversation system messages.

use agent_claude::{Container, context_management, system_message};
use agent_core::{ContentBlock, Message, Model, ModelEvent, ModelRequest, Role};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::ask;
use crate::support::{FakeApi, FakeOptions, Reply};

fn code_execution(claude: agent_claude::ClaudeBuilder) -> agent_claude::Claude {
    claude.server_tool(json!({"type": "code_execution_20260120", "name": "code_execution"})).build().unwrap()
}

fn with_container(id: &str, expires_at: &str) -> Reply {
    Reply::message(json!({
        "id": "msg_c", "type": "message", "role": "assistant", "model": "claude-opus-4-8",
        "content": [{"type": "text", "text": "Installed tabulate."}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 5, "output_tokens": 5},
        "container": {"id": id, "expires_at": expires_at},
        "context_management": {"applied_edits": [{"type": "clear_tool_uses_20250919", "cleared_tool_uses": 2}]}
    }))
}

#[tokio::test]
async fn the_container_of_a_response_is_sent_back_on_the_next_turn() {
    let fake = FakeApi::start([with_container("container_01", "2999-01-01T00:00:00Z"), Reply::text("Table.")]).await;
    let claude = code_execution(fake.builder());
    let mut request = ask("Install tabulate and create data.json");
    let first = claude.request(&request).await.unwrap();
    let container = Container::of(&first).unwrap();
    assert_eq!(
        (container.id.as_str(), container.expires_at.as_deref()),
        ("container_01", Some("2999-01-01T00:00:00Z"))
    );
    assert_eq!(context_management(&first).unwrap()["applied_edits"][0]["cleared_tool_uses"], 2);

    request.messages.push(Message::new(Role::Assistant, first.content));
    request.messages.push(Message::user("Read data.json as a table"));
    claude.request(&request).await.unwrap();
    let second = &fake.requests()[1];
    assert_eq!(second.rejection, None);
    assert_eq!(second.body["container"], "container_01");
    assert_eq!(
        second.body["messages"][1]["content"],
        json!([{"type": "text", "text": "Installed tabulate."}]),
        "the state markers stay out of the messages"
    );
}

#[tokio::test]
async fn an_expired_container_is_not_sent_and_an_explicit_one_wins() {
    let fake = FakeApi::start([Reply::text("a"), Reply::text("b")]).await;
    let claude = code_execution(fake.builder());
    let expired =
        ContentBlock::Other(json!({"type": "claude_container", "id": "old", "expires_at": "2020-01-01T00:00:00Z"}));
    let mut request = ask("q");
    request.messages.push(Message::new(Role::Assistant, vec![ContentBlock::text("x"), expired]));
    request.messages.push(Message::user("again"));
    claude.request(&request).await.unwrap();
    assert_eq!(fake.requests()[0].body.get("container"), None);
    // A turn holding nothing but state sends nothing: the user turns around it merge.
    let only_state = ModelRequest {
        messages: vec![
            Message::user("a"),
            Message::new(Role::Assistant, vec![ContentBlock::Other(json!({"type": "claude_container", "id": "c"}))]),
            Message::user("b"),
        ],
        ..Default::default()
    };
    fake.push(Reply::text("merged"));
    claude.request(&only_state).await.unwrap();
    let merged = fake.requests().pop().unwrap();
    assert_eq!(merged.rejection, None);
    assert_eq!(merged.body["messages"].as_array().unwrap().len(), 1);
    request.options.insert("container".into(), json!("mine"));
    claude.request(&request).await.unwrap();
    assert_eq!(fake.requests().pop().unwrap().body["container"], "mine");
}

#[tokio::test]
async fn a_streamed_container_arrives_with_the_message_delta() {
    let events = [
        json!({"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "model": "claude-opus-4-8",
            "content": [], "usage": {"input_tokens": 1, "output_tokens": 1}, "container": null}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Done."}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "container": {"id": "container_s", "expires_at": "2999-01-01T00:00:00Z"}},
            "usage": {"output_tokens": 2}}),
        json!({"type": "message_stop"}),
    ];
    let fake = FakeApi::start([Reply::events(events)]).await;
    let stream = code_execution(fake.builder()).stream(&ask("run")).await.unwrap();
    let items: Vec<_> = stream.collect().await;
    let Some(Ok(ModelEvent::Completed(response))) = items.last() else { panic!("{items:?}") };
    assert_eq!(Container::of(response).map(|container| container.id).as_deref(), Some("container_s"));
}

#[tokio::test]
async fn system_messages_go_out_with_the_beta_where_the_model_takes_them() {
    let fake = FakeApi::start([Reply::text("ok")]).await;
    let request = ModelRequest {
        messages: vec![Message::user("Summarize the report."), system_message("Terse mode: under 40 words.")],
        ..Default::default()
    };
    fake.client("claude-opus-4-8").request(&request).await.unwrap();
    let sent = fake.only_request();
    assert_eq!(sent.rejection, None);
    assert_eq!(sent.header("anthropic-beta"), "mid-conversation-system-2026-04-07");
    assert_eq!(
        sent.body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Summarize the report."}]},
            {"role": "system", "content": "Terse mode: under 40 words."}
        ])
    );
}

#[tokio::test]
async fn models_without_system_messages_get_the_reminder_fallback() {
    let reminder = json!({"type": "text", "text": "<system-reminder>\nTerse.\n</system-reminder>"});
    // A model the catalog lists without support: the fallback form directly.
    let fake = FakeApi::start([Reply::text("ok")]).await;
    let request = ModelRequest { messages: vec![Message::user("Hi"), system_message("Terse.")], ..Default::default() };
    fake.client("claude-haiku-4-5").request(&request).await.unwrap();
    let sent = fake.only_request();
    assert_eq!(sent.header("anthropic-beta"), "");
    assert_eq!(sent.body["messages"], json!([{"role": "user", "content": [{"type": "text", "text": "Hi"}, reminder]}]));

    // A model the catalog does not know: tried, refused with the API's 400, sent again as a reminder.
    for streamed in [false, true] {
        let options = FakeOptions::without_system_messages(["my-gateway-model"]);
        let answer = if streamed { Reply::text_stream("ok") } else { Reply::text("ok") };
        let fake = FakeApi::start_with(options, [answer]).await;
        let claude = fake.client("my-gateway-model");
        if streamed {
            let items: Vec<_> = claude.stream(&request).await.unwrap().collect().await;
            assert!(matches!(items.last(), Some(Ok(ModelEvent::Completed(_)))), "{items:?}");
        } else {
            claude.request(&request).await.unwrap();
        }
        let requests = fake.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].rejection.as_deref(), Some("role 'system' is not supported on this model"));
        assert_eq!(requests[1].rejection, None);
        assert_eq!(requests[1].body["messages"][0]["content"][1], reminder);
        assert_eq!(requests[1].header("anthropic-beta"), "");
    }
}

#[tokio::test]
async fn a_system_message_that_cannot_follow_its_turn_becomes_a_reminder() {
    let fake = FakeApi::start([Reply::text("ok")]).await;
    let request = ModelRequest {
        messages: vec![Message::user("Hi"), Message::assistant("Hello."), system_message("Be formal.")],
        ..Default::default()
    };
    fake.client("claude-opus-4-8").request(&request).await.unwrap();
    let sent = fake.only_request();
    assert_eq!(sent.rejection, None);
    let messages: &Vec<Value> = sent.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[2]["role"], "user", "a system message may not follow a plain assistant turn");
    assert!(messages[2]["content"][0]["text"].as_str().unwrap().starts_with("<system-reminder>"));
}

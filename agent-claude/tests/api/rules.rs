//! Pre-send rules: requests the API would reject never leave, and the accepted exceptions do.

use agent_core::{ContentBlock, Message, Model, ModelErrorKind, ModelRequest, Role, StopReason};
use serde_json::{Value, json};

use crate::ask;
use crate::support::{FakeApi, Reply, json_fixture};

fn with_options(options: Value) -> ModelRequest {
    ModelRequest { options: options.as_object().unwrap().clone(), ..ask("hi") }
}

/// Sends `request` to a fake answering once; returns the rejection message, or
/// `None` when the request was sent.
async fn outcome(model: &str, request: &ModelRequest) -> Option<String> {
    let fake = FakeApi::start(vec![json_fixture(200, "message_text.json")]).await;
    let result = fake.client(model).request(request).await;
    match result {
        Ok(_) => {
            assert_eq!(fake.requests().len(), 1);
            None
        }
        Err(err) => {
            assert_eq!(err.kind, ModelErrorKind::InvalidRequest, "{err:?}");
            assert!(!err.retryable);
            assert!(fake.requests().is_empty(), "a rejected request must not be sent");
            Some(err.message)
        }
    }
}

fn prefilled() -> ModelRequest {
    ModelRequest { messages: vec![Message::user("JSON please"), Message::assistant("{")], ..Default::default() }
}

#[tokio::test]
async fn assistant_prefill_is_rejected_on_the_4_6_family_and_fable() {
    for model in [
        "claude-opus-4-8",
        "claude-opus-4-7",
        "claude-opus-4-6",
        "claude-sonnet-4-6",
        "claude-fable-5",
        "claude-mythos-5",
    ] {
        let message = outcome(model, &prefilled()).await.unwrap_or_else(|| panic!("{model} accepted a prefill"));
        assert!(message.contains("does not accept assistant prefill"), "{message}");
    }
    for model in ["claude-haiku-4-5", "claude-sonnet-4-5", "my-gateway-model"] {
        assert_eq!(outcome(model, &prefilled()).await, None, "{model}");
    }
}

#[tokio::test]
async fn a_pause_turn_resume_is_accepted_and_sent_without_a_continue_message() {
    let text_only_pause = json!({"id": "m2", "type": "message", "role": "assistant", "model": "claude-opus-4-8",
        "content": [{"type": "text", "text": "Still working"}], "stop_reason": "pause_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1}});
    let fake = FakeApi::start(vec![
        json_fixture(200, "message_pause_turn.json"),
        Reply::json(200, text_only_pause.to_string()),
        json_fixture(200, "message_text.json"),
    ])
    .await;
    let claude = fake.client("claude-opus-4-8");
    let mut request = ask("latest news");
    let paused = claude.request(&request).await.unwrap();
    assert_eq!(paused.stop_reason, StopReason::PauseTurn);
    // Resume as the agent loop does: the paused content as the trailing assistant turn, `resume` set.
    request.messages.push(Message::new(Role::Assistant, paused.content.clone()));
    request.resume = true;
    let paused_again = claude.request(&request).await.unwrap();
    assert_eq!(paused_again.stop_reason, StopReason::PauseTurn);
    // A second pause in a row: a text-only paused turn, resumed by a different client
    // (nothing is remembered between requests).
    request.messages.push(Message::new(Role::Assistant, paused_again.content.clone()));
    fake.client("claude-opus-4-8").request(&request).await.unwrap();

    let requests = fake.requests();
    assert!(requests.iter().all(|request| request.rejection.is_none()), "{requests:#?}");
    let resumed = &requests[1].body["messages"];
    assert_eq!(resumed.as_array().unwrap().len(), 2, "no extra \"Continue\" user message");
    assert_eq!(resumed[1]["role"], "assistant");
    assert_eq!(
        resumed[1]["content"],
        json!([{"type": "text", "text": "Searching."}, {"type": "server_tool_use", "id": "srvtoolu_9", "name": "web_search", "input": {"query": "news"}}])
    );
    let resumed_twice = &requests[2].body["messages"];
    assert_eq!(resumed_twice.as_array().unwrap().len(), 2, "consecutive assistant turns merge");
    assert_eq!(resumed_twice[1]["content"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_trailing_assistant_turn_is_a_prefill_unless_the_request_resumes() {
    let mut request = ask("hi");
    request.messages.push(Message::new(Role::Assistant, vec![ContentBlock::text("Still working")]));
    let message = outcome("claude-opus-4-8", &request).await.expect("a prefill without `resume` is refused");
    assert!(message.contains("does not accept assistant prefill") && message.contains("resume"), "{message}");
    // More concurrent pauses than any memory could hold: each resume says so itself.
    let pause = |turn: usize| {
        Reply::message(json!({"id": format!("m{turn}"), "type": "message", "role": "assistant",
            "model": "claude-opus-4-8", "content": [{"type": "text", "text": format!("paused turn {turn}")}],
            "stop_reason": "pause_turn", "usage": {"input_tokens": 1, "output_tokens": 1}}))
    };
    let fake = FakeApi::start((0..70).map(pause).chain((0..70).map(|_| Reply::text("done")))).await;
    let claude = fake.client("claude-opus-4-8");
    let mut paused = Vec::new();
    for turn in 0..70 {
        paused.push(claude.request(&ask(&format!("task {turn}"))).await.unwrap().content);
    }
    for (turn, content) in paused.into_iter().enumerate() {
        let mut resumed = ask(&format!("task {turn}"));
        resumed.messages.push(Message::new(Role::Assistant, content));
        resumed.resume = true;
        let response = claude.request(&resumed).await.unwrap_or_else(|err| panic!("resume {turn}: {err}"));
        assert_eq!(response.stop_reason, StopReason::EndTurn);
    }
    assert_eq!(fake.requests().len(), 140);
}

#[tokio::test]
async fn sampling_parameters_are_rejected_where_removed() {
    for model in ["claude-opus-4-8", "claude-opus-4-7", "claude-fable-5"] {
        for key in ["temperature", "top_p", "top_k"] {
            let message = outcome(model, &with_options(json!({key: 0.5}))).await.unwrap();
            assert!(message.contains(&format!("does not accept `{key}`")), "{message}");
        }
    }
    assert_eq!(outcome("claude-sonnet-4-6", &with_options(json!({"temperature": 0.5}))).await, None);
    let both = outcome("claude-sonnet-4-6", &with_options(json!({"temperature": 0.5, "top_p": 0.9}))).await.unwrap();
    assert!(both.contains("not both"), "{both}");
    let range = outcome("claude-haiku-4-5", &with_options(json!({"temperature": 1.5}))).await.unwrap();
    assert!(range.contains("between 0.0 and 1.0"), "{range}");
}

#[tokio::test]
async fn a_builder_setting_is_checked_like_a_request_option() {
    let fake = FakeApi::start(vec![]).await;
    let claude = fake.builder().model("claude-opus-4-8").temperature(0.2).build().unwrap();
    let err = claude.request(&ask("hi")).await.unwrap_err();
    assert!(err.message.contains("`temperature`"), "{}", err.message);
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn thinking_rules_follow_each_model() {
    let budget = |n: u64| with_options(json!({"thinking": {"type": "enabled", "budget_tokens": n}}));
    for model in ["claude-opus-4-8", "claude-opus-4-7", "claude-fable-5"] {
        let message = outcome(model, &budget(4096)).await.unwrap();
        assert!(message.contains("budget_tokens"), "{message}");
    }
    assert_eq!(outcome("claude-opus-4-6", &budget(4096)).await, None, "still functional on 4.6 (deprecated)");
    assert!(outcome("claude-sonnet-4-5", &budget(20_000)).await.unwrap().contains("less than `max_tokens`"));
    assert!(outcome("claude-sonnet-4-5", &budget(512)).await.unwrap().contains("at least 1024"));

    let disabled = with_options(json!({"thinking": {"type": "disabled"}}));
    let message = outcome("claude-fable-5", &disabled).await.unwrap();
    assert!(message.contains("omit the `thinking` parameter"), "{message}");
    assert_eq!(outcome("claude-opus-4-8", &disabled).await, None);

    let adaptive = with_options(json!({"thinking": {"type": "adaptive", "display": "summarized"}}));
    assert_eq!(outcome("claude-fable-5", &adaptive).await, None);
    assert!(outcome("claude-haiku-4-5", &adaptive).await.unwrap().contains("adaptive"));
    let bad_display = with_options(json!({"thinking": {"type": "adaptive", "display": "full"}}));
    assert!(outcome("claude-opus-4-8", &bad_display).await.is_some());
}

#[tokio::test]
async fn effort_levels_follow_each_model() {
    let effort = |level: &str| with_options(json!({"effort": level}));
    assert_eq!(outcome("claude-opus-4-8", &effort("xhigh")).await, None);
    assert_eq!(outcome("claude-fable-5", &effort("max")).await, None);
    assert!(outcome("claude-opus-4-6", &effort("xhigh")).await.unwrap().contains("does not accept effort `xhigh`"));
    assert!(outcome("claude-haiku-4-5", &effort("low")).await.unwrap().contains("does not accept `effort`"));
    assert!(outcome("claude-opus-4-8", &effort("extreme")).await.unwrap().contains("unknown effort"));
}

#[tokio::test]
async fn max_tokens_and_cache_breakpoints_are_bounded() {
    let too_long = ModelRequest { max_tokens: Some(200_000), ..ask("hi") };
    assert!(outcome("claude-opus-4-8", &too_long).await.unwrap().contains("exceeds"));
    assert_eq!(outcome("claude-opus-4-8", &ModelRequest { max_tokens: Some(128_000), ..ask("hi") }).await, None);

    let marked =
        |text: &str| ContentBlock::Other(json!({"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}));
    let request = ModelRequest {
        messages: vec![Message::new(Role::User, vec![marked("a"), marked("b"), marked("c"), marked("d"), marked("e")])],
        ..Default::default()
    };
    assert!(outcome("claude-opus-4-8", &request).await.unwrap().contains("at most 4"));
}

#[tokio::test]
async fn conversation_shape_and_structured_output_rules() {
    assert!(outcome("claude-opus-4-8", &ModelRequest::default()).await.unwrap().contains("empty"));
    let starts_with_assistant =
        ModelRequest { messages: vec![Message::assistant("hi"), Message::user("x")], ..Default::default() };
    assert!(outcome("claude-opus-4-8", &starts_with_assistant).await.unwrap().contains("first message"));

    let cited = ModelRequest {
        messages: vec![Message::new(
            Role::User,
            vec![ContentBlock::Document {
                source: agent_core::MediaSource::Text { media_type: "text/plain".into(), data: "doc".into() },
                title: None,
                context: None,
                citations: Some(json!({"enabled": true})),
            }],
        )],
        output_schema: Some(json!({"type": "object"})),
        ..Default::default()
    };
    assert!(outcome("claude-opus-4-8", &cited).await.unwrap().contains("citations"));
}

#[tokio::test]
async fn unknown_models_pass_through_unchecked() {
    let mut request =
        with_options(json!({"temperature": 0.3, "top_k": 5, "thinking": {"type": "enabled", "budget_tokens": 2048}}));
    request.messages.push(Message::assistant("{"));
    assert_eq!(outcome("claude-next-9", &request).await, None);
}

#[tokio::test]
async fn an_empty_prompt_is_refused_before_sending() {
    for text in ["", "  \n"] {
        let message = outcome("claude-opus-4-8", &ask(text)).await.expect("an empty prompt is not sent");
        assert!(message.contains("the prompt is empty"), "{message}");
    }
    let blank_turn = ModelRequest {
        messages: vec![Message::user(" "), Message::assistant("a"), Message::user("b")],
        ..Default::default()
    };
    assert!(outcome("claude-haiku-4-5", &blank_turn).await.unwrap().contains("message 0 has an empty text block"));
    let blank_instructions = ModelRequest { instructions: Some("  ".into()), ..ask("hi") };
    assert_eq!(outcome("claude-opus-4-8", &blank_instructions).await, None, "a blank system prompt is left out");
}

#[tokio::test]
async fn cache_pre_warming_rules() {
    let warm = |options: Value| ModelRequest { max_tokens: Some(0), ..with_options(options) };
    assert_eq!(outcome("claude-opus-4-8", &warm(json!({}))).await, None, "max_tokens 0 alone pre-warms");
    let schema = ModelRequest { output_schema: Some(json!({"type": "object", "properties": {}})), ..warm(json!({})) };
    assert!(outcome("claude-opus-4-8", &schema).await.unwrap().contains("structured output"));
    let tool = std::sync::Arc::new(agent_core::ToolDef::new("t", "d", json!({"type": "object"})));
    for choice in [agent_core::ToolChoice::Any, agent_core::ToolChoice::Tool { name: "t".into() }] {
        let forced = ModelRequest {
            tools: std::sync::Arc::from(vec![tool.clone()]),
            tool_choice: Some(choice),
            ..warm(json!({}))
        };
        assert!(outcome("claude-opus-4-8", &forced).await.unwrap().contains("force a tool call"));
    }
    let thinking = warm(json!({"thinking": {"type": "enabled", "budget_tokens": 2048}}));
    assert!(outcome("my-gateway-model", &thinking).await.unwrap().contains("budget_tokens"));
}

#[tokio::test]
async fn task_budgets_have_a_minimum() {
    let budget =
        |total: u64| with_options(json!({"output_config": {"task_budget": {"type": "tokens", "total": total}}}));
    assert!(outcome("claude-opus-4-8", &budget(10_000)).await.unwrap().contains("at least 20000"));
    assert_eq!(outcome("claude-opus-4-8", &budget(20_000)).await, None);
}

#[tokio::test]
async fn cache_breakpoints_go_only_on_blocks_that_take_them() {
    // Resuming a pause: the turn ends in a server tool call, which takes no breakpoint.
    let fake = FakeApi::start(vec![json_fixture(200, "message_text.json")]).await;
    let claude = fake.builder().cache_conversation(agent_claude::CacheTtl::FiveMinutes).build().unwrap();
    let paused: Value = serde_json::from_str(&crate::support::fixture("message_pause_turn.json")).unwrap();
    let content: Vec<ContentBlock> = serde_json::from_value(json!([
        {"type": "text", "text": "Searching."},
        {"type": "server_tool_use", "id": "srvtoolu_9", "name": "web_search", "input": {"query": "news"}}
    ]))
    .unwrap();
    assert_eq!(paused["content"][1]["type"], "server_tool_use");
    let request = ModelRequest {
        messages: vec![Message::user("news"), Message::new(Role::Assistant, content)],
        resume: true,
        ..Default::default()
    };
    claude.request(&request).await.unwrap();
    let sent = fake.only_request();
    assert_eq!(sent.rejection, None, "the fake accepts the resume and the breakpoint");
    let turn = &sent.body["messages"][1]["content"];
    assert_eq!(turn[0]["cache_control"], json!({"type": "ephemeral"}), "on the text before the server tool call");
    assert!(turn[1].get("cache_control").is_none());

    // A breakpoint a caller put on a thinking block is refused before sending.
    let marked = ContentBlock::Other(
        json!({"type": "thinking", "thinking": "", "signature": "s", "cache_control": {"type": "ephemeral"}}),
    );
    let request = ModelRequest {
        messages: vec![Message::user("a"), Message::new(Role::Assistant, vec![marked]), Message::user("b")],
        ..Default::default()
    };
    assert!(
        outcome("claude-opus-4-8", &request).await.unwrap().contains("a `thinking` block cannot carry `cache_control`")
    );
}

#[tokio::test]
async fn count_tokens_requests_pass_the_same_rules() {
    let fake = FakeApi::start(vec![json_fixture(200, "count_tokens.json")]).await;
    let claude = fake.client("claude-opus-4-8");
    let err = claude.count_tokens(&prefilled()).await.unwrap_err();
    assert!(err.to_string().contains("does not accept assistant prefill"), "{err}");
    assert!(claude.count_tokens(&ask("")).await.unwrap_err().to_string().contains("the prompt is empty"));
    let schema = ModelRequest {
        output_schema: Some(json!({"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}})),
        ..ask("n")
    };
    claude.count_tokens(&schema).await.unwrap();
    let sent = fake.only_request();
    assert_eq!(sent.rejection, None);
    assert_eq!(sent.body["output_config"]["format"]["schema"]["additionalProperties"], false);
}

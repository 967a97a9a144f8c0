//! The fake Messages API itself: each of its rules rejects what the API rejects, with the API's error body, and lets valid requests through.

use serde_json::{Value, json};

use crate::support::{FakeApi, Reply};

/// POSTs `body` to `path` with the usual headers plus `betas`; returns the
/// status and the error message ("" for a success).
async fn post(fake: &FakeApi, path: &str, betas: &str, body: Value) -> (u16, String) {
    let mut request = crate::support::raw_http()
        .post(format!("{}{path}", fake.url()))
        .header("x-api-key", "k")
        .header("anthropic-version", "2023-06-01")
        .json(&body);
    if !betas.is_empty() {
        request = request.header("anthropic-beta", betas);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["error"]["message"].as_str().unwrap_or("").to_owned())
}

fn base() -> Value {
    json!({"model": "claude-opus-4-8", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]})
}

fn with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut body = base();
    edit(&mut body);
    body
}

/// Asserts the fake rejects `body` with a message containing `expected`.
async fn rejects(betas: &str, body: Value, expected: &str) {
    let fake = FakeApi::start([Reply::text("unused")]).await;
    let (status, message) = post(&fake, "/v1/messages", betas, body.clone()).await;
    assert_eq!(status, 400, "{body}");
    assert!(message.contains(expected), "{body}: {message}");
    assert_eq!(fake.remaining(), 1);
    assert_eq!(fake.requests()[0].rejection.as_deref(), Some(message.as_str()));
}

#[tokio::test]
async fn valid_requests_get_the_scripted_reply() {
    let fake = FakeApi::start([Reply::text("a"), Reply::text("b"), Reply::json(200, "{\"input_tokens\": 3}")]).await;
    assert_eq!(post(&fake, "/v1/messages", "", base()).await, (200, String::new()));
    let conversation = json!({"model": "claude-opus-4-8", "max_tokens": 100, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "weather?", "cache_control": {"type": "ephemeral"}}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "w", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "sunny"}]},
        {"role": "system", "content": "Terse."}
    ]});
    assert_eq!(post(&fake, "/v1/messages", "mid-conversation-system-2026-04-07", conversation).await.0, 200);
    let count = json!({"model": "claude-opus-4-8", "messages": [{"role": "user", "content": "count"}]});
    assert_eq!(post(&fake, "/v1/messages/count_tokens", "", count).await.0, 200);
}

#[tokio::test]
async fn headers_and_credentials() {
    let fake = FakeApi::start([]).await;
    let bare = crate::support::raw_http().post(format!("{}/v1/messages", fake.url())).json(&base());
    let response = bare.header("x-api-key", "k").send().await.unwrap();
    assert_eq!(response.status(), 400, "anthropic-version is required");
    let both = crate::support::raw_http()
        .post(format!("{}/v1/messages", fake.url()))
        .header("anthropic-version", "2023-06-01")
        .header("x-api-key", "k")
        .header("authorization", "Bearer t")
        .json(&base());
    let response = both.send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "authentication_error");
}

#[tokio::test]
async fn conversation_rules() {
    rejects("", with(|b| b["messages"] = json!([])), "at least one message").await;
    rejects("", with(|b| b["messages"][0]["role"] = json!("assistant")), "first message").await;
    rejects(
        "",
        with(|b| b["messages"] = json!([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])),
        "roles must alternate",
    )
    .await;
    rejects("", with(|b| b["messages"][0]["content"] = json!([{"type": "text", "text": " "}])), "non-whitespace text")
        .await;
    rejects(
        "",
        with(|b| b["messages"][0]["content"] = json!([{"type": "claude_container", "id": "c"}])),
        "Input tag 'claude_container'",
    )
    .await;
    let prefill =
        with(|b| b["messages"] = json!([{"role": "user", "content": "a"}, {"role": "assistant", "content": "{"}]));
    rejects("", prefill, "does not support assistant message prefill").await;
    let spaced = with(|b| {
        b["model"] = json!("claude-haiku-4-5");
        b["messages"] = json!([{"role": "user", "content": "a"}, {"role": "assistant", "content": [{"type": "text", "text": "{ "}]}]);
    });
    rejects("", spaced, "trailing whitespace").await;
    let unanswered = with(|b| {
        b["messages"] = json!([{"role": "user", "content": "a"}, {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "w", "input": {}}]},
            {"role": "user", "content": "what?"}]);
    });
    rejects("", unanswered, "`tool_use` ids were found without `tool_result` blocks").await;
    let orphan =
        with(|b| b["messages"][0]["content"] = json!([{"type": "tool_result", "tool_use_id": "t9", "content": "x"}]));
    rejects("", orphan, "unexpected `tool_use_id`").await;
}

#[tokio::test]
async fn system_message_rules() {
    let system = |model: &str| {
        let mut body = with(|b| {
            b["messages"] = json!([{"role": "user", "content": "a"}, {"role": "system", "content": "Terse."}])
        });
        body["model"] = json!(model);
        body
    };
    rejects("", system("claude-opus-4-8"), "requires the `mid-conversation-system-2026-04-07` beta").await;
    rejects(
        "mid-conversation-system-2026-04-07",
        system("claude-haiku-4-5"),
        "role 'system' is not supported on this model",
    )
    .await;
    let first = with(|b| b["messages"] = json!([{"role": "system", "content": "x"}, {"role": "user", "content": "a"}]));
    rejects("mid-conversation-system-2026-04-07", first, "first message").await;
}

#[tokio::test]
async fn parameter_rules() {
    rejects("", with(|b| b["temperature"] = json!(0.5)), "temperature: this parameter is not supported").await;
    rejects("", with(|b| b["thinking"] = json!({"type": "enabled", "budget_tokens": 2048})), "thinking.type").await;
    rejects("", with(|b| b["max_tokens"] = json!(500_000)), "maximum allowed number of output tokens").await;
    rejects(
        "",
        with(|b| {
            b["max_tokens"] = json!(0);
            b["stream"] = json!(true);
        }),
        "max_tokens: 0 cannot be combined",
    )
    .await;
    let budget = |total: u64| with(|b| b["output_config"] = json!({"task_budget": {"type": "tokens", "total": total}}));
    rejects("", budget(30_000), "requires the `task-budgets-2026-03-13` beta").await;
    rejects("task-budgets-2026-03-13", budget(1_000), "greater than or equal to 20000").await;
    rejects("", with(|b| b["fallbacks"] = json!([{"model": "claude-opus-4-8"}])), "server-side-fallback-2026-06-01")
        .await;
    rejects("", with(|b| b["fallback_credit_token"] = json!("fct")), "fallback-credit-2026-06-01").await;
}

#[tokio::test]
async fn cache_and_schema_rules() {
    let thinking = with(|b| {
        b["messages"] = json!([{"role": "user", "content": "a"},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "", "signature": "s", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "b"}]},
            {"role": "user", "content": "c"}]);
    });
    rejects("", thinking, "cache_control cannot be set on a `thinking` block").await;
    let marked = json!({"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}});
    rejects(
        "",
        with(|b| b["messages"][0]["content"] = json!([marked, marked, marked, marked, marked])),
        "A maximum of 4 blocks",
    )
    .await;
    let strict = with(|b| {
        b["tools"] = json!([{"name": "t", "description": "d", "strict": true, "input_schema": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "additionalProperties": false}}]);
    });
    rejects(
        "",
        strict,
        "tools.0.custom.input_schema: /properties/n: for \"integer\" schemas, property 'minimum' is not supported",
    )
    .await;
    let loose = with(
        |b| b["tools"] = json!([{"name": "t", "description": "d", "input_schema": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}}]),
    );
    let fake = FakeApi::start([Reply::text("ok")]).await;
    assert_eq!(post(&fake, "/v1/messages", "", loose).await.0, 200, "a non-strict tool schema is not restricted");
}

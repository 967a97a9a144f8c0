//! Token counting and the models endpoint.

use agent_core::{Model, ModelRequest};
use serde_json::json;

use crate::ask;
use crate::support::{FakeApi, json_fixture};

#[tokio::test]
async fn count_tokens_sends_the_prompt_without_generation_settings() {
    let fake = FakeApi::start(vec![json_fixture(200, "count_tokens.json")]).await;
    let claude = fake.builder().model("claude-fable-5").max_tokens(999).build().unwrap();
    let request = ModelRequest { instructions: Some("sys".into()), ..ask("count me") };
    let count = claude.count_tokens(&request).await.unwrap();
    assert_eq!(count.input_tokens, 1432);
    assert_eq!(count.input_tokens_prior_tokenizer, Some(1101));
    let sent = fake.only_request();
    assert_eq!(sent.path, "/v1/messages/count_tokens");
    assert_eq!(
        sent.body,
        json!({
            "model": "claude-fable-5",
            "system": [{"type": "text", "text": "sys"}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "count me"}]}]
        })
    );
}

#[tokio::test]
async fn model_info_and_list_models_read_live_capabilities() {
    let fake = FakeApi::start(vec![
        json_fixture(200, "model_opus.json"),
        json_fixture(200, "models_page1.json"),
        json_fixture(200, "models_page2.json"),
    ])
    .await;
    let claude = fake.client("claude-opus-4-8");
    let info = claude.model_info(claude.id()).await.unwrap();
    assert_eq!(info.max_input_tokens, Some(1_000_000));
    assert_eq!(info.max_tokens, Some(128_000));
    assert!(info.supports(&["thinking", "types", "adaptive"]));
    assert!(!info.supports(&["thinking", "types", "enabled"]));
    assert!(info.supports(&["effort", "xhigh"]));

    let models = claude.list_models().await.unwrap();
    let ids: Vec<&str> = models.iter().map(|model| model.id.as_str()).collect();
    assert_eq!(ids, ["claude-fable-5", "claude-haiku-4-5"]);
    let paths: Vec<String> = fake.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/v1/models/claude-opus-4-8", "/v1/models?limit=100", "/v1/models?limit=100&after_id=claude-fable-5"]
    );
    assert!(fake.requests().iter().all(|r| r.header("anthropic-version") == "2023-06-01"));
}

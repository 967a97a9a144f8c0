//! Structured-output and strict-tool schemas on the wire: snapshots of what realistic Rust types become, and what cannot be sent.

#![allow(dead_code)] // the types exist for their schemas

use std::collections::HashMap;
use std::sync::Arc;

use agent_core::support::schema_for;
use agent_core::{Model, ModelErrorKind, ModelRequest, ToolDef};
use expect_test::{Expect, expect};
use schemars::JsonSchema;
use serde_json::Value;

use crate::ask;
use crate::support::{FakeApi, Reply};

/// Every integer and float width.
#[derive(JsonSchema)]
pub struct Numbers {
    small: u8,
    medium: u16,
    count: u32,
    big: u64,
    index: usize,
    delta: i8,
    offset: i16,
    level: i32,
    stamp: i64,
    ratio: f32,
    score: f64,
}

/// A person, as a memory-extraction answer might describe one.
#[derive(JsonSchema)]
pub struct Profile {
    /// Full name.
    #[schemars(length(min = 1, max = 80))]
    name: String,
    /// A nickname, when known.
    nickname: Option<String>,
    age: Option<u8>,
    #[schemars(email)]
    email: String,
    home: Address,
    tags: Vec<String>,
    #[schemars(length(min = 2))]
    scores: Vec<u32>,
    #[schemars(range(min = 1, max = 5))]
    rating: u8,
}

/// A postal address.
#[derive(JsonSchema)]
pub struct Address {
    street: String,
    city: String,
    postcode: Option<String>,
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Plain {
    Low,
    High,
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Documented {
    /// Add a memory.
    Add,
    /// Forget a memory.
    Delete,
}

#[derive(JsonSchema)]
pub enum Shape {
    Circle { radius: f64 },
    Square(u32),
    Empty,
}

#[derive(JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Click { x: i32, y: i32 },
    Key { code: u16 },
}

#[derive(JsonSchema)]
pub struct Choices {
    plain: Plain,
    documented: Documented,
    shapes: Vec<Shape>,
    event: Option<Event>,
}

#[derive(JsonSchema)]
pub struct WithMap {
    counts: HashMap<String, u32>,
}

#[derive(JsonSchema)]
pub struct Tree {
    label: String,
    children: Vec<Tree>,
}

/// Sends `schema` as the output schema and returns what went on the wire
/// (the fake has checked it against the API's rules).
pub async fn wire_output_schema(schema: Value) -> Value {
    let fake = FakeApi::start([Reply::text("{}")]).await;
    let request = ModelRequest { output_schema: Some(schema), ..ask("answer") };
    fake.client("claude-opus-4-8").request(&request).await.unwrap();
    let sent = fake.only_request();
    assert_eq!(sent.rejection, None);
    sent.body["output_config"]["format"]["schema"].clone()
}

pub async fn check_output(schema: Value, expected: Expect) {
    let wire = wire_output_schema(schema).await;
    expected.assert_eq(&serde_json::to_string_pretty(&wire).unwrap());
}

/// The error a schema gets before sending (nothing reaches the fake).
async fn refused(schema: Value) -> String {
    let fake = FakeApi::start([Reply::text("{}")]).await;
    let request = ModelRequest { output_schema: Some(schema), ..ask("answer") };
    let err = fake.client("claude-opus-4-8").request(&request).await.unwrap_err();
    assert_eq!(err.kind, ModelErrorKind::InvalidRequest);
    assert!(fake.requests().is_empty(), "a schema the API cannot take is not sent");
    err.message
}

#[tokio::test]
async fn a_strict_tool_schema_is_normalized_and_a_plain_one_sent_as_is() {
    let fake = FakeApi::start([Reply::text("ok")]).await;
    let strict = ToolDef::new("save_profile", "Saves a profile.", schema_for::<Address>()).strict(true);
    let loose = ToolDef::new("count", "Counts.", schema_for::<Numbers>());
    let request = ModelRequest { tools: Arc::from(vec![Arc::new(strict), Arc::new(loose)]), ..ask("save") };
    fake.client("claude-opus-4-8").request(&request).await.unwrap();
    let sent = fake.only_request();
    assert_eq!(sent.rejection, None);
    expect![[r#"
        {
          "additionalProperties": false,
          "description": "A postal address.",
          "properties": {
            "city": {
              "type": "string"
            },
            "postcode": {
              "anyOf": [
                {
                  "type": "string"
                },
                {
                  "type": "null"
                }
              ]
            },
            "street": {
              "type": "string"
            }
          },
          "required": [
            "street",
            "city"
          ],
          "type": "object"
        }"#]]
    .assert_eq(&serde_json::to_string_pretty(&sent.body["tools"][0]["input_schema"]).unwrap());
    assert_eq!(sent.body["tools"][1]["input_schema"], schema_for::<Numbers>(), "non-strict tools keep their schema");
}

#[tokio::test]
async fn maps_recursive_types_and_untyped_values_are_refused_before_sending() {
    expect!["request rejected before sending: the output schema cannot be sent: /properties/counts: objects with free-form keys (maps) are not supported: the API requires `additionalProperties: false` on every object, which would force them empty; use a list of key/value objects instead"].assert_eq(&refused(schema_for::<WithMap>()).await);
    expect![[r##"request rejected before sending: the output schema cannot be sent: /: the schema refers to itself (`$ref: "#"`); the API does not support recursive schemas"##]].assert_eq(&refused(schema_for::<Tree>()).await);
    expect!["request rejected before sending: the output schema cannot be sent: /: a schema without `type`, `enum`, `const` or `anyOf` is not supported; give it a concrete type"].assert_eq(&refused(schema_for::<serde_json::Value>()).await);
    let fake = FakeApi::start([]).await;
    let tool = ToolDef::new("tree", "Walks a tree.", schema_for::<Tree>()).strict(true);
    let request = ModelRequest { tools: Arc::from(vec![Arc::new(tool)]), ..ask("walk") };
    let err = fake.client("claude-opus-4-8").request(&request).await.unwrap_err();
    assert!(err.message.contains("strict tool `tree`") && err.message.contains("recursive"), "{}", err.message);
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn the_fake_answers_a_schema_the_api_rejects_with_its_400() {
    let fake = FakeApi::start([Reply::text("unused")]).await;
    let raw = serde_json::json!({
        "model": "claude-opus-4-8", "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
        "output_config": {"format": {"type": "json_schema", "schema": schema_for::<Numbers>()}}
    });
    let response = crate::support::raw_http()
        .post(format!("{}/v1/messages", fake.url()))
        .header("x-api-key", "k")
        .header("anthropic-version", "2023-06-01")
        .json(&raw)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("output_config.format.schema: "), "{message}");
    assert!(message.contains("'additionalProperties' must be explicitly set to false"), "{message}");
    assert_eq!(fake.remaining(), 1, "a rejected request does not use a scripted reply");
}

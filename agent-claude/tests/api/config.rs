//! Client construction: credentials and endpoint from the environment, explicit settings winning.

use agent_claude::{Claude, Error};
use agent_core::Model;

use crate::ask;
use crate::support::{FakeApi, json_fixture};

fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    move |name| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
}

#[test]
fn missing_credentials_is_a_clear_error_at_construction() {
    let err = Claude::builder().env_lookup(|_| None).build().unwrap_err();
    assert!(matches!(err, Error::MissingCredentials));
    assert!(err.to_string().contains("ANTHROPIC_API_KEY"), "{err}");
    let err = Claude::builder().env_lookup(env(&[("ANTHROPIC_API_KEY", "  ")])).build().unwrap_err();
    assert!(matches!(err, Error::MissingCredentials), "blank values do not count");
}

#[test]
fn bad_settings_are_config_errors() {
    let bad_url = Claude::builder().api_key("k").base_url("api.anthropic.com").build().unwrap_err();
    assert!(matches!(bad_url, Error::Config(_)), "{bad_url}");
    let bad_option = Claude::builder().api_key("k").option("temprature", 1.into()).build().unwrap_err();
    assert!(bad_option.to_string().contains("unknown option"), "{bad_option}");
    let both = Claude::builder().api_key("k").auth_token("t").build().unwrap_err();
    assert!(matches!(both, Error::Config(_)));
}

#[test]
fn default_model_is_opus_4_8() {
    let claude = Claude::builder().api_key("k").env_lookup(|_| None).build().unwrap();
    assert_eq!(claude.id(), "claude-opus-4-8");
    assert_eq!(claude.provider(), "anthropic");
    assert!(claude.capabilities().is_some_and(|caps| caps.context_window == 1_000_000));
}

#[tokio::test]
async fn key_and_base_url_come_from_the_environment() {
    let fake = FakeApi::start(vec![json_fixture(200, "message_text.json")]).await;
    let url: &'static str = Box::leak(fake.url().to_owned().into_boxed_str());
    let pairs: &'static [(&'static str, &'static str)] = Box::leak(Box::new([
        ("ANTHROPIC_API_KEY", "sk-env"),
        ("ANTHROPIC_AUTH_TOKEN", "tok-env"),
        ("ANTHROPIC_BASE_URL", url),
    ]));
    let claude = Claude::builder().env_lookup(env(pairs)).build().unwrap();
    claude.request(&ask("hi")).await.unwrap();
    let sent = fake.only_request();
    assert_eq!(sent.header("x-api-key"), "sk-env");
    assert_eq!(sent.header("authorization"), "", "never both credentials");
}

#[tokio::test]
async fn auth_token_is_sent_as_a_bearer_and_explicit_settings_win() {
    let fake = FakeApi::start(vec![json_fixture(200, "message_text.json")]).await;
    let pairs: &'static [(&'static str, &'static str)] =
        &[("ANTHROPIC_API_KEY", "sk-env"), ("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")];
    let claude = Claude::builder().auth_token("oauth-1").base_url(fake.url()).env_lookup(env(pairs)).build().unwrap();
    claude.request(&ask("hi")).await.unwrap();
    let sent = fake.only_request();
    assert_eq!(sent.header("authorization"), "Bearer oauth-1");
    assert_eq!(sent.header("x-api-key"), "");
}

#[tokio::test]
async fn extra_headers_are_sent() {
    let fake = FakeApi::start(vec![json_fixture(200, "message_text.json")]).await;
    let claude = fake.builder().header("x-trace", "t-1").build().unwrap();
    claude.request(&ask("hi")).await.unwrap();
    assert_eq!(fake.only_request().header("x-trace"), "t-1");
}

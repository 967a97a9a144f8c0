//! Knowledge routes: content uploaded (text, URL-encoded; files, multipart), ingested in the background, listed, read, updated, deleted and searched as the AgentOS client expects, on SQLite and on Postgres when `AGENT_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;
mod content;
mod errors;
mod sources;

use std::sync::Arc;

use agent_core::knowledge::HashEmbedder;
use agent_memory::KnowledgeBase;
use agent_memory::knowledge::{KnowledgeStore, PostgresKnowledge, SqliteKnowledge};
use agent_os::AgentOs;
use axum::body::Body;
use axum::http::Request;
use common::{Answer, send};
use serde_json::Value;

pub(crate) async fn sqlite() -> Arc<dyn KnowledgeStore> {
    Arc::new(SqliteKnowledge::open_in_memory().await.unwrap())
}

/// A Postgres store with its own tables, emptied; `None` (after one printed
/// line) when `AGENT_TEST_POSTGRES_URL` is not set.
pub(crate) async fn postgres(prefix: &str) -> Option<Arc<dyn KnowledgeStore>> {
    let Some(url) = std::env::var("AGENT_TEST_POSTGRES_URL").ok().filter(|url| !url.is_empty()) else {
        assert!(
            std::env::var("AGENT_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "AGENT_TEST_REQUIRE_POSTGRES=1 but AGENT_TEST_POSTGRES_URL is not set"
        );
        println!("skipped on Postgres: AGENT_TEST_POSTGRES_URL is not set");
        return None;
    };
    let pool = agent_memory::sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(&url).await.unwrap();
    let store: Arc<dyn KnowledgeStore> = Arc::new(PostgresKnowledge::with_pool(pool, prefix).await.unwrap());
    KnowledgeBase::builder_shared(store.clone()).build().delete_all().await.unwrap();
    Some(store)
}

pub(crate) fn base(store: Arc<dyn KnowledgeStore>, name: &str) -> KnowledgeBase {
    KnowledgeBase::builder_shared(store).name(name).embedder(HashEmbedder::new(256)).build()
}

pub(crate) fn server(knowledge: &KnowledgeBase) -> AgentOs {
    AgentOs::builder().knowledge(knowledge.clone()).build().unwrap()
}

pub(crate) async fn json_request(os: &AgentOs, method: &str, path: &str, body: Value) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    send(os, request).await
}

/// A multipart form as httpx sends one: text parts, then the `file` part.
pub(crate) async fn multipart(os: &AgentOs, path: &str, fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> Answer {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--BOUNDARY\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
        );
    }
    let (filename, content_type, bytes) = file;
    body.extend(
        format!(
            "--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend(b"\r\n--BOUNDARY--\r\n");
    let request = Request::post(path)
        .header("content-type", "multipart/form-data; boundary=BOUNDARY")
        .body(Body::from(body))
        .unwrap();
    send(os, request).await
}

pub(crate) async fn delete(os: &AgentOs, path: &str) -> Answer {
    send(os, Request::delete(path).body(Body::empty()).unwrap()).await
}

pub(crate) async fn patch(os: &AgentOs, path: &str, fields: &[(&str, &str)]) -> Answer {
    let request = Request::patch(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
        .unwrap();
    send(os, request).await
}

pub(crate) fn id_of(answer: &Answer) -> String {
    answer.json()["id"].as_str().unwrap().to_owned()
}

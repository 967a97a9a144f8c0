//! Two servers on one database (SQLite file; Postgres when `AGENT_TEST_POSTGRES_URL` is set): a run paused on one continues on the other.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use agent_core::{Agent, SessionStore};
use agent_os::AgentOs;
use axum::http::StatusCode;
use common::form;
use serde_json::json;

fn server(store: Arc<dyn SessionStore>) -> AgentOs {
    let approver = Agent::builder(common::brain(Some(("delete_city", json!({"city": "Rome"})))))
        .id("approver")
        .tool(common::delete_tool())
        .store(store.clone())
        .build()
        .unwrap();
    AgentOs::builder().agent(approver).store(store).build().unwrap()
}

async fn paused_here_continued_there(first: AgentOs, second: AgentOs) {
    let session_id = uuid::Uuid::new_v4().to_string();
    let paused = form(
        &first,
        "/agents/approver/runs",
        &[("message", "Delete Rome"), ("stream", "false"), ("session_id", &session_id)],
    )
    .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    let paused = paused.json();
    assert_eq!(paused["status"], "PAUSED");
    let run_id = paused["run_id"].as_str().unwrap();
    let mut tools = paused["tools"].clone();
    tools[0]["confirmed"] = json!(true);
    let path = format!("/agents/approver/runs/{run_id}/continue");
    let done =
        form(&second, &path, &[("tools", &tools.to_string()), ("session_id", &session_id), ("stream", "false")]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.json()["status"], "COMPLETED");
    assert_eq!(done.json()["content"], "Result: deleted Rome");
    // The first server sees it finished: continuing there is a conflict.
    let again =
        form(&first, &path, &[("tools", &tools.to_string()), ("session_id", &session_id), ("stream", "false")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
}

#[tokio::test]
async fn sqlite_two_servers_one_file() {
    let dir = std::env::temp_dir().join(format!("agent-os-shared-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("agentos.db");
    let first: Arc<dyn SessionStore> = Arc::new(agent_memory::SqliteStore::open(&path).await.unwrap());
    let second: Arc<dyn SessionStore> = Arc::new(agent_memory::SqliteStore::open(&path).await.unwrap());
    paused_here_continued_there(server(first), server(second)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn postgres_two_servers_one_database() {
    let Some(url) = std::env::var("AGENT_TEST_POSTGRES_URL").ok().filter(|url| !url.is_empty()) else {
        assert!(
            std::env::var("AGENT_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "AGENT_TEST_REQUIRE_POSTGRES=1 but AGENT_TEST_POSTGRES_URL is not set"
        );
        eprintln!("skipped: AGENT_TEST_POSTGRES_URL is not set");
        return;
    };
    let first: Arc<dyn SessionStore> = Arc::new(agent_memory::PostgresStore::connect(&url).await.unwrap());
    let second: Arc<dyn SessionStore> = Arc::new(agent_memory::PostgresStore::connect(&url).await.unwrap());
    paused_here_continued_there(server(first), server(second)).await;
}

//! SQL stores behind the server (SQLite file; Postgres when `AGENT_TEST_POSTGRES_URL` is set): a run paused on one server continues on another, and the session, memory and eval routes read and write the database.
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

/// The session and memory routes on a SQL store: a run's session listed and
/// read with its history, memories created, filtered by every topic, counted
/// and scoped to their user.
async fn data_routes_on(sessions: Arc<dyn SessionStore>, memories: Arc<dyn agent_core::memory::MemoryStore>) {
    let weather = Agent::builder(common::brain(Some(("get_weather", json!({"city": "Kyiv"})))))
        .id("weather")
        .tool(common::weather_tool())
        .store(sessions.clone())
        .build()
        .unwrap();
    let os = AgentOs::builder().agent(weather).store(sessions).memory_store(memories).build().unwrap();
    let session_id = uuid::Uuid::new_v4().to_string();
    let user = format!("user-{session_id}");
    let run = form(
        &os,
        "/agents/weather/runs",
        &[("message", "Weather in Kyiv?"), ("stream", "false"), ("session_id", &session_id), ("user_id", &user)],
    )
    .await;
    assert_eq!(run.json()["status"], "COMPLETED");
    let listed = common::get(&os, &format!("/sessions?user_id={user}&type=agent")).await.json();
    assert_eq!(listed["meta"]["total_count"], 1);
    assert_eq!(listed["data"][0]["session_name"], "Weather in Kyiv?");
    let detail = common::get(&os, &format!("/sessions/{session_id}")).await.json();
    assert_eq!(detail["chat_history"].as_array().unwrap().len(), 4);
    let runs = common::get(&os, &format!("/sessions/{session_id}/runs")).await.json();
    assert_eq!(runs[0]["model"], "brain-1");

    for (memory, topics) in [("Likes tea.", json!(["food", "drink"])), ("Likes bread.", json!(["food"]))] {
        let body = json!({"memory": memory, "user_id": user, "topics": topics}).to_string();
        let request = axum::http::Request::post("/memories")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .unwrap();
        assert_eq!(common::send(&os, request).await.status, StatusCode::OK);
    }
    let both = common::get(&os, &format!("/memories?user_id={user}&topics=food&topics=drink")).await.json();
    assert_eq!(both["meta"]["total_count"], 1, "{both}");
    let stats = common::get(&os, &format!("/user_memory_stats?user_id={user}")).await.json();
    assert_eq!(stats["data"][0]["total_memories"], 2);
    let other = common::get(&os, "/memories?user_id=someone-else").await.json();
    assert_eq!(other["meta"]["total_count"], 0);
}

#[tokio::test]
async fn sqlite_data_routes() {
    let dir = std::env::temp_dir().join(format!("agent-os-data-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(agent_memory::SqliteStore::open(dir.join("data.db")).await.unwrap());
    data_routes_on(store.clone(), store).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn postgres_data_routes() {
    let Some(url) = std::env::var("AGENT_TEST_POSTGRES_URL").ok().filter(|url| !url.is_empty()) else {
        assert!(
            std::env::var("AGENT_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "AGENT_TEST_REQUIRE_POSTGRES=1 but AGENT_TEST_POSTGRES_URL is not set"
        );
        eprintln!("skipped: AGENT_TEST_POSTGRES_URL is not set");
        return;
    };
    let store = Arc::new(agent_memory::PostgresStore::connect(&url).await.unwrap());
    data_routes_on(store.clone(), store).await;
}

/// The eval routes on a SQL store: an eval run stored, found with the
/// client's filters, renamed and deleted.
async fn eval_routes_on(evals: Arc<dyn agent_core::eval::EvalStore>) {
    let agent_id = format!("weather-{}", uuid::Uuid::new_v4());
    let weather = Agent::builder(common::brain(Some(("get_weather", json!({"city": "Kyiv"})))))
        .id(agent_id.clone())
        .tool(common::weather_tool())
        .build()
        .unwrap();
    let os = AgentOs::builder().agent(weather).eval_store(evals).build().unwrap();
    let send_json = |method: &str, path: String, body: serde_json::Value| {
        let request = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .unwrap();
        common::send(&os, request)
    };
    let body = json!({"agent_id": agent_id, "eval_type": "reliability", "input": "Weather in Kyiv?",
                      "expected_tool_calls": ["get_weather"], "expected_tool_call_arguments": {"get_weather": {"city": "Kyiv"}}});
    let run = send_json("POST", "/eval-runs".into(), body).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text);
    let run = run.json();
    assert_eq!(run["eval_data"]["eval_status"], "PASSED");
    assert_eq!(run["eval_data"]["passed_argument_checks"][0]["tool_name"], "get_weather");
    let id = run["id"].as_str().unwrap().to_owned();
    let listed =
        common::get(&os, &format!("/eval-runs?agent_id={agent_id}&type=agent&eval_types=reliability%2Caccuracy"))
            .await
            .json();
    assert_eq!(
        (listed["meta"]["total_count"].as_u64(), listed["data"][0]["id"].as_str()),
        (Some(1), Some(id.as_str()))
    );
    let renamed = send_json("PATCH", format!("/eval-runs/{id}"), json!({"name": "kyiv"})).await.json();
    assert_eq!(renamed["name"], "kyiv");
    assert_eq!(common::get(&os, &format!("/eval-runs/{id}")).await.json(), renamed);
    let deleted = send_json("DELETE", "/eval-runs".into(), json!({"eval_run_ids": [id]})).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(common::get(&os, &format!("/eval-runs/{id}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sqlite_eval_routes() {
    let dir = std::env::temp_dir().join(format!("agent-os-evals-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(agent_memory::SqliteStore::open(dir.join("evals.db")).await.unwrap());
    eval_routes_on(store).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn postgres_eval_routes() {
    let Some(url) = std::env::var("AGENT_TEST_POSTGRES_URL").ok().filter(|url| !url.is_empty()) else {
        assert!(
            std::env::var("AGENT_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "AGENT_TEST_REQUIRE_POSTGRES=1 but AGENT_TEST_POSTGRES_URL is not set"
        );
        eprintln!("skipped: AGENT_TEST_POSTGRES_URL is not set");
        return;
    };
    // A schema of its own, dropped after: the shared database's default
    // schema is left at the version other builds expect.
    let schema = format!("agent_os_evals_{}", uuid::Uuid::new_v4().simple());
    let options = agent_memory::PostgresOptions::new(&url).unwrap().schema(&schema).unwrap();
    let store = Arc::new(agent_memory::PostgresStore::connect_with(options).await.unwrap());
    eval_routes_on(store.clone()).await;
    store.close().await;
    let pool = agent_memory::sqlx::PgPool::connect(&url).await.unwrap();
    let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    agent_memory::sqlx::query(agent_memory::sqlx::AssertSqlSafe(drop)).execute(&pool).await.unwrap();
    pool.close().await;
}

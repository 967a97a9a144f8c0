//! Metrics and database routes: daily aggregates from the runs, refreshes (sync and background), migrations.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use agent_core::SessionStore;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{form, get, send};
use serde_json::json;

async fn post(os: &agent_os::AgentOs, path: &str, body: Option<serde_json::Value>) -> common::Answer {
    let builder = Request::post(path);
    let request = match body {
        Some(body) => builder.header("content-type", "application/json").body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    };
    send(os, request.unwrap()).await
}

#[tokio::test]
async fn metrics_count_the_days_runs_and_refresh_on_demand() {
    let dir = std::env::temp_dir().join(format!("agent-os-metrics-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(agent_memory::SqliteStore::open(dir.join("m.db")).await.unwrap());
    let weather = agent_core::Agent::builder(common::brain(Some(("get_weather", json!({"city": "Paris"})))))
        .id("weather")
        .tool(common::weather_tool())
        .store(store.clone())
        .build()
        .unwrap();
    let sessions: Arc<dyn SessionStore> = store.clone();
    let os = agent_os::AgentOs::builder().agent(weather).store(sessions).build().unwrap();
    for (session, user) in [("s1", "ana"), ("s1", "ana"), ("s2", "bob")] {
        let answer = form(
            &os,
            "/agents/weather/runs",
            &[("message", "Weather?"), ("stream", "false"), ("session_id", session), ("user_id", user)],
        )
        .await;
        assert_eq!(answer.json()["status"], "COMPLETED");
    }
    let today = &agent_core::support::rfc3339::format(agent_core::support::unix_now())[..10];
    let answer = get(&os, &format!("/metrics?starting_date={today}&ending_date={today}")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let day = answer.json()["metrics"][0].clone();
    assert_eq!(day["id"], format!("{today}_daily"));
    assert_eq!(day["date"], format!("{today}T00:00:00Z"));
    assert_eq!(
        (day["agent_runs_count"].as_u64(), day["agent_sessions_count"].as_u64(), day["users_count"].as_u64()),
        (Some(3), Some(2), Some(2))
    );
    assert_eq!(day["team_runs_count"], 0);
    assert!(day["token_metrics"]["input_tokens"].as_u64().unwrap() > 0);
    assert_eq!(day["model_metrics"], json!([{"model_id": "brain-1", "model_provider": "test", "count": 3}]));
    assert_eq!(get(&os, "/metrics?starting_date=2000-01-01&ending_date=2000-01-02").await.json()["metrics"], json!([]));
    assert_eq!(get(&os, "/metrics").await.json()["metrics"].as_array().unwrap().len(), 1);
    for bad in
        ["/metrics?starting_date=yesterday", "/metrics?ending_date=2025-13-45", "/metrics?starting_date=2025-1-1"]
    {
        assert_eq!(get(&os, bad).await.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    assert_eq!(get(&os, "/metrics/refresh/status").await.json()["status"], "idle");
    let refreshed = post(&os, "/metrics/refresh", None).await;
    assert_eq!(refreshed.status, StatusCode::OK);
    assert_eq!(refreshed.json()[0]["agent_runs_count"], 3);
    let status = get(&os, "/metrics/refresh/status").await.json();
    assert_eq!(status["status"], "completed");
    assert!(status["finished_at"].as_str().unwrap().ends_with('Z'));
    let background = post(&os, "/metrics/refresh?background=true", None).await;
    assert_eq!(background.status, StatusCode::ACCEPTED);
    assert!(background.json()["status"].is_string());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn databases_migrate_by_id_or_all() {
    let (os, _) = common::os();
    let one = post(&os, "/databases/agent-os-db/migrate", Some(json!({"target_version": null}))).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.json()["message"], "Database migrated successfully to latest version");
    let all = post(&os, "/databases/all/migrate", None).await;
    assert_eq!(all.json()["message"], "All databases migrated successfully to latest version");
    assert_eq!(post(&os, "/databases/nope/migrate", None).await.status, StatusCode::NOT_FOUND);
    let pinned = post(&os, "/databases/agent-os-db/migrate", Some(json!({"target_version": "2.5.0"}))).await;
    assert_eq!(pinned.status, StatusCode::BAD_REQUEST);
    let none = agent_os::AgentOs::builder().build().unwrap();
    assert_eq!(get(&none, "/metrics").await.status, StatusCode::SERVICE_UNAVAILABLE);
}

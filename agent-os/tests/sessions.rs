//! Session routes: created, listed, read with their runs, renamed, updated and deleted as the AgentOS client expects.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{form, get, os, send};
use serde_json::{Value, json};

async fn json_request(os: &agent_os::AgentOs, method: &str, path: &str, body: Value) -> common::Answer {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    send(os, request).await
}

#[tokio::test]
async fn sessions_of_runs_are_listed_read_and_their_runs_shown() {
    let (os, _) = os();
    for (session, message) in [("s-a", "Weather in Paris?"), ("s-b", "Weather in Rome?")] {
        let answer = form(
            &os,
            "/agents/weather/runs",
            &[("message", message), ("stream", "false"), ("session_id", session), ("user_id", "u1")],
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    form(
        &os,
        "/agents/weather/runs",
        &[("message", "And tomorrow?"), ("stream", "false"), ("session_id", "s-a"), ("user_id", "u1")],
    )
    .await;

    let listed = get(
        &os,
        "/sessions?type=agent&limit=1&page=1&sort_by=session_name&sort_order=asc&user_id=u1&component_id=weather",
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let listed = listed.json();
    assert_eq!(
        listed["meta"],
        json!({"page": 1, "limit": 1, "total_pages": 2, "total_count": 2, "search_time_ms": 0.0})
    );
    assert_eq!(listed["data"][0]["session_id"], "s-a");
    assert_eq!(listed["data"][0]["session_name"], "Weather in Paris?");
    assert_eq!(listed["data"][0]["session_type"], "agent");
    assert_eq!(listed["data"][0]["agent_id"], "weather");
    assert!(listed["data"][0]["total_tokens"].as_u64().unwrap() > 0);
    assert_eq!(listed["data"][0]["session_data"]["session_metrics"]["runs"], 2);
    let by_name = get(&os, "/sessions?session_name=rome").await.json();
    assert_eq!(by_name["meta"]["total_count"], 1);

    let detail = get(&os, "/sessions/s-a").await.json();
    assert_eq!(detail["agent_session_id"], "s-a");
    assert_eq!(detail["session_name"], "Weather in Paris?");
    assert_eq!(detail["user_id"], "u1");
    let roles: Vec<&str> =
        detail["chat_history"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "tool", "assistant", "user", "assistant", "tool", "assistant"]);
    assert!(detail["created_at"].as_str().unwrap().ends_with('Z'));

    let runs = get(&os, "/sessions/s-a/runs?status=COMPLETED&status=ERROR").await.json();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["status"], "COMPLETED");
    assert_eq!(runs[0]["run_input"], "Weather in Paris?");
    assert_eq!(runs[0]["agent_id"], "weather");
    assert_eq!(runs[0]["model"], "brain-1");
    assert_eq!(runs[0]["tools"][0]["result"], "It is sunny in Paris.");
    let run_id = runs[1]["run_id"].as_str().unwrap();
    let one = get(&os, &format!("/sessions/s-a/runs/{run_id}")).await.json();
    assert_eq!(one["run_input"], "And tomorrow?");
    assert_eq!(get(&os, "/sessions/s-a/runs?status=DONE").await.status, StatusCode::BAD_REQUEST, "an unknown status");
    let none = get(&os, "/sessions/s-a/runs?status=paused").await.json();
    assert_eq!(none, json!([]));
    let later = get(&os, "/sessions/s-a/runs?created_after=4102444800").await.json();
    assert_eq!(later, json!([]));
    let previews = get(&os, "/sessions/s-a/run-previews").await.json();
    assert_eq!(previews[0]["content_preview"], "Result: It is sunny in Paris.");

    // Scoped: another user's or another type's session reads as missing.
    assert_eq!(get(&os, "/sessions/s-a?user_id=u2").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&os, "/sessions/s-a?type=team").await.status, StatusCode::NOT_FOUND);
    let missing = get(&os, "/sessions/nope").await;
    assert_eq!(missing.json(), json!({"detail": "Session with id 'nope' not found"}));
    assert_eq!(get(&os, &format!("/sessions/s-a/runs/{}", "nope")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sessions_are_created_renamed_updated_and_deleted() {
    let (os, _) = os();
    let body = json!({"session_id": "s1", "session_name": "n", "session_state": {"a": 1}, "metadata": {"m": 1}, "user_id": "u1", "agent_id": "weather", "team_id": null, "workflow_id": null});
    let created = json_request(&os, "POST", "/sessions?type=agent", body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let created = created.json();
    assert_eq!((created["agent_session_id"].as_str(), created["session_name"].as_str()), (Some("s1"), Some("n")));
    assert_eq!(created["metadata"], json!({"m": 1}));
    assert_eq!(json_request(&os, "POST", "/sessions?type=agent", body).await.status, StatusCode::CONFLICT);
    let team = json_request(&os, "POST", "/sessions?type=team", json!({"session_id": null, "team_id": "crew"})).await;
    assert_eq!(team.status, StatusCode::CREATED);
    assert_eq!(team.json()["session_name"], "");
    assert_eq!(team.json()["session_id"].as_str().map(str::len), Some(36));
    let unknown = json_request(&os, "POST", "/sessions?type=workflow", json!({"workflow_id": "nope"})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let renamed = json_request(&os, "POST", "/sessions/s1/rename", json!({"session_name": "new name"})).await.json();
    assert_eq!(renamed["session_name"], "new name");
    let updated = json_request(
        &os,
        "PATCH",
        "/sessions/s1",
        json!({"session_name": "x", "session_state": {"k": 2}, "metadata": {"m": 2}, "summary": {"summary": "s"}}),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    let updated = updated.json();
    assert_eq!(updated["session_state"], json!({"k": 2}));
    assert_eq!(updated["metadata"], json!({"m": 2}));
    assert_eq!(updated["session_summary"]["summary"], "s");
    // A run on the session sees the state set over HTTP.
    let output =
        form(&os, "/agents/weather/runs", &[("message", "hi"), ("stream", "false"), ("session_id", "s1")]).await.json();
    assert_eq!(output["status"], "COMPLETED");
    assert_eq!(get(&os, "/sessions/s1").await.json()["session_name"], "x", "a name given is kept");

    let deleted = send(&os, Request::delete("/sessions/s1?user_id=u1").body(Body::empty()).unwrap()).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(get(&os, "/sessions/s1").await.status, StatusCode::NOT_FOUND);
    let team_id = team.json()["session_id"].as_str().unwrap().to_owned();
    let bulk =
        json_request(&os, "DELETE", "/sessions", json!({"session_ids": [team_id, "nope"], "session_types": ["team"]}))
            .await;
    assert_eq!(bulk.status, StatusCode::NO_CONTENT);
    assert_eq!(get(&os, &format!("/sessions/{team_id}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_session_requests_are_422s_or_400s() {
    let (os, _) = os();
    for path in [
        "/sessions?type=bogus",
        "/sessions?limit=abc",
        "/sessions?limit=0",
        "/sessions?sort_by=size",
        "/sessions?sort_order=up",
    ] {
        let answer = get(&os, path).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", answer.text);
        assert!(answer.json()["detail"][0]["loc"][0] == "query", "{path}");
    }
    let malformed = send(
        &os,
        Request::post("/sessions").header("content-type", "application/json").body(Body::from("{bad")).unwrap(),
    )
    .await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(malformed.json()["detail"][0]["type"], "json_invalid");
    let wrong = json_request(&os, "POST", "/sessions", json!({"session_state": [1]})).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let rename = json_request(&os, "POST", "/sessions/x/rename", json!({})).await;
    assert_eq!(rename.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(rename.json()["detail"][0]["loc"], json!(["body", "session_name"]));
    let empty = json_request(&os, "DELETE", "/sessions", json!({"session_ids": []})).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nodb = agent_os::AgentOs::builder().build().unwrap();
    assert_eq!(get(&nodb, "/sessions").await.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(get(&os, "/sessions?db_id=other").await.status, StatusCode::NOT_FOUND);
}

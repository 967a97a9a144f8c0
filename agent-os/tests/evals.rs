//! Eval routes: evals run on served agents, teams and workflows and stored; listed with the client's filters, read, renamed and deleted; bad requests are typed 4xx answers.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use agent_core::testing::{FunctionModel, text_response};
use agent_core::{InMemoryStore, Model};
use agent_os::AgentOs;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{get, send};
use serde_json::{Value, json};

/// A judge scoring every answer 8 (accuracy) or 9 (criteria), or passing it.
fn judge() -> Arc<dyn Model> {
    Arc::new(
        FunctionModel::new(|request| {
            let instructions = request.instructions.as_deref().unwrap_or_default();
            let verdict = if instructions.contains("expected answer") {
                json!({"accuracy_score": 8, "accuracy_reason": "Close to the expected answer."})
            } else if instructions.contains("whole number from 1 to 10") {
                json!({"score": 9, "reason": "Meets the criteria."})
            } else {
                json!({"passed": true, "reason": "Meets the criteria."})
            };
            Ok(text_response(verdict.to_string()))
        })
        .with_id("judge-1"),
    )
}

fn os() -> AgentOs {
    let store = Arc::new(InMemoryStore::new());
    common::builder(&store)
        .models(|provider, id| match (provider, id) {
            ("test", "brain-1" | "judge-1") => Ok(judge()),
            _ => Err(format!("unknown model `{provider}:{id}`")),
        })
        .build()
        .unwrap()
}

async fn json_request(os: &AgentOs, method: &str, path: &str, body: Value) -> common::Answer {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    send(os, request).await
}

async fn run_eval(os: &AgentOs, body: Value) -> Value {
    let answer = json_request(os, "POST", "/eval-runs", body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json()
}

/// What the client sends for `run_eval(eval_type="reliability", ...)` (AGENTOS.md §9), on `weather`.
fn client_reliability() -> Value {
    json!({"agent_id": "weather", "eval_type": "reliability", "input": "What is the weather in Paris?",
           "num_iterations": 1, "scoring_strategy": "binary", "threshold": 7, "warmup_runs": 0,
           "expected_tool_calls": ["get_weather"], "allow_additional_tool_calls": false})
}

#[tokio::test]
async fn an_eval_run_is_stored_listed_read_renamed_and_deleted() {
    let os = os();
    let run = run_eval(&os, client_reliability()).await;
    println!("run_eval: {run}");
    assert_eq!((run["eval_type"].as_str(), run["agent_id"].as_str()), (Some("reliability"), Some("weather")));
    assert_eq!((run["model_id"].as_str(), run["model_provider"].as_str()), (Some("brain-1"), Some("test")));
    assert_eq!(run["evaluated_component_name"], "Weather Agent");
    assert_eq!(run["eval_data"]["eval_status"], "PASSED");
    assert_eq!(run["eval_data"]["passed_tool_calls"], json!(["get_weather"]));
    assert_eq!(run["eval_data"]["failed_tool_calls"], json!([]));
    assert!(run["eval_data"]["run_id"].is_string());
    assert_eq!(run["eval_input"]["expected_tool_calls"], json!(["get_weather"]));
    assert_eq!(run["eval_input"]["allow_additional_tool_calls"], false);
    assert!(run["created_at"].as_str().unwrap().ends_with('Z'));
    let id = run["id"].as_str().unwrap().to_owned();

    let one = get(&os, &format!("/eval-runs/{id}")).await;
    println!("get_eval_run: {}", one.text);
    assert_eq!(one.json(), run);

    let second = run_eval(&os, json!({"eval_type": "performance", "input": "hi", "team_id": "crew"})).await;
    let listed = get(
        &os,
        "/eval-runs?limit=20&page=1&sort_by=created_at&sort_order=desc&agent_id=weather&type=agent&eval_types=reliability%2Caccuracy",
    )
    .await;
    println!("list_eval_runs: {}", listed.text);
    let listed = listed.json();
    assert_eq!(
        listed["meta"],
        json!({"page": 1, "limit": 20, "total_pages": 1, "total_count": 1, "search_time_ms": 0.0})
    );
    assert_eq!(listed["data"][0]["id"], id.as_str());
    let teams = get(&os, "/eval-runs?type=team").await.json();
    assert_eq!(teams["data"][0]["id"], second["id"]);
    assert_eq!(get(&os, "/eval-runs?eval_types=accuracy").await.json()["meta"]["total_count"], 0);
    assert_eq!(
        get(&os, "/eval-runs?model_id=brain-1&limit=1&page=2").await.json()["data"].as_array().unwrap().len(),
        1
    );

    let renamed = json_request(&os, "PATCH", &format!("/eval-runs/{id}"), json!({"name": "renamed"})).await;
    println!("update_eval_run: {}", renamed.text);
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(renamed.json()["name"], "renamed");
    let by_name = get(&os, "/eval-runs?sort_by=name&sort_order=asc").await.json();
    assert_eq!(by_name["data"][1]["name"], "renamed", "the unnamed one sorts first");

    let deleted = json_request(&os, "DELETE", "/eval-runs", json!({"eval_run_ids": [id, "unknown"]})).await;
    println!("delete_eval_runs: {} {:?}", deleted.status, deleted.text);
    assert_eq!((deleted.status, deleted.text.as_str()), (StatusCode::NO_CONTENT, ""));
    assert_eq!(get(&os, &format!("/eval-runs/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&os, "/eval-runs").await.json()["meta"]["total_count"], 1);
}

#[tokio::test]
async fn evals_run_on_teams_and_workflows_with_a_judge_model() {
    let os = os();
    let team = run_eval(
        &os,
        json!({"eval_type": "reliability", "input": "hi", "team_id": "crew",
               "expected_tool_calls": ["delegate_task_to_member"]}),
    )
    .await;
    assert_eq!((team["team_id"].as_str(), team["agent_id"].as_str()), (Some("crew"), None));
    assert_eq!(team["eval_data"]["eval_status"], "FAILED", "the crew's leader answers without delegating");
    assert_eq!(team["eval_data"]["missing_tool_calls"], json!(["delegate_task_to_member"]));

    let accuracy = run_eval(
        &os,
        json!({"eval_type": "accuracy", "input": "Say hi", "agent_id": "echo", "expected_output": "hi",
               "num_iterations": 2, "additional_guidelines": "Be lenient.", "name": "greeting"}),
    )
    .await;
    println!("run_eval(accuracy): {accuracy}");
    let data = &accuracy["eval_data"];
    assert_eq!((data["eval_status"].as_str(), data["avg_score"].as_f64()), (Some("PASSED"), Some(8.0)));
    assert_eq!(data["results"].as_array().unwrap().len(), 2);
    assert_eq!(data["results"][0]["reason"], "Close to the expected answer.");
    assert_eq!(data["results"][0]["output"], "You said: Say hi");
    assert_eq!(
        (accuracy["name"].as_str(), accuracy["eval_input"]["judge_model"].as_str()),
        (Some("greeting"), Some("judge-1"))
    );

    let judged = run_eval(
        &os,
        json!({"eval_type": "agent_as_judge", "input": "Write a line", "workflow_id": "flow",
               "criteria": "It is one line", "scoring_strategy": "numeric", "threshold": 7,
               "model_id": "judge-1", "model_provider": "test"}),
    )
    .await;
    assert_eq!((judged["workflow_id"].as_str(), judged["model_id"].as_str()), (Some("flow"), None));
    assert_eq!(
        (judged["eval_data"]["eval_status"].as_str(), judged["eval_data"]["avg_score"].as_f64()),
        (Some("PASSED"), Some(9.0))
    );
    let binary =
        run_eval(&os, json!({"eval_type": "agent_as_judge", "input": "Hi", "agent_id": "echo", "criteria": "Polite"}))
            .await;
    assert_eq!(binary["eval_data"]["results"][0]["passed"], true);

    let performance = run_eval(
        &os,
        json!({"eval_type": "performance", "input": "hi", "agent_id": "echo", "num_iterations": 3, "warmup_runs": 1}),
    )
    .await;
    println!("run_eval(performance): {performance}");
    let data = &performance["eval_data"];
    assert_eq!((data["eval_status"].as_str(), data["run_times"].as_array().map(Vec::len)), (Some("PASSED"), Some(3)));
    assert_eq!((data["avg_memory_usage"].clone(), data["avg_turns"].as_f64()), (Value::Null, Some(1.0)));
    assert_eq!(get(&os, "/eval-runs").await.json()["meta"]["total_count"], 5);
}

#[tokio::test]
async fn bad_eval_requests_are_typed_4xx_never_500() {
    let os = os();
    let with = |changes: Value| {
        let mut body = client_reliability();
        for (key, value) in changes.as_object().unwrap() {
            if value.is_null() {
                body.as_object_mut().unwrap().remove(key);
            } else {
                body[key] = value.clone();
            }
        }
        body
    };
    let cases = [
        (with(json!({"team_id": "crew"})), 400, "Only one of agent_id or team_id must be provided"),
        (with(json!({"agent_id": null})), 400, "One of agent_id or team_id must be provided"),
        (with(json!({"agent_id": "nope"})), 404, "Agent with id 'nope' not found"),
        (with(json!({"agent_id": null, "team_id": "nope"})), 404, "Team with id 'nope' not found"),
        (
            with(json!({"expected_tool_calls": null})),
            400,
            "expected_tool_calls is required for reliability evaluations",
        ),
        (with(json!({"expected_tool_calls": []})), 400, "expected_tool_calls is required for reliability evaluations"),
        (with(json!({"eval_type": "accuracy"})), 400, "expected_output is required for accuracy evaluation"),
        (with(json!({"eval_type": "agent_as_judge"})), 400, "criteria is required for agent as judge evaluations"),
        (with(json!({"model_id": "gpt-4o", "model_provider": "openai"})), 400, ""),
    ];
    for (body, status, detail) in cases {
        let answer = json_request(&os, "POST", "/eval-runs", body.clone()).await;
        assert_eq!(answer.status.as_u16(), status, "{body}: {}", answer.text);
        if !detail.is_empty() {
            assert_eq!(answer.json()["detail"], detail, "{body}");
        }
    }
    let invalid = [
        with(json!({"eval_type": "vibes"})),
        with(json!({"input": null})),
        with(json!({"num_iterations": 0})),
        with(json!({"num_iterations": 1000})),
        with(json!({"warmup_runs": -1})),
        with(json!({"threshold": 11})),
        with(json!({"scoring_strategy": "fuzzy"})),
        with(json!({"expected_tool_calls": "get_weather"})),
        with(json!({"expected_tool_call_arguments": {"get_weather": "Paris"}})),
        with(json!({"expected_tool_call_arguments": {"get_weather": [{"city": "Paris"}, 3]}})),
    ];
    for body in invalid {
        let answer = json_request(&os, "POST", "/eval-runs", body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", answer.text);
        assert!(answer.json()["detail"].is_array(), "{}", answer.text);
    }
    let malformed =
        Request::post("/eval-runs").header("content-type", "application/json").body(Body::from("{bad")).unwrap();
    assert_eq!(send(&os, malformed).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    for path in [
        "/eval-runs?eval_types=reliability%2Cvibes",
        "/eval-runs?type=robot",
        "/eval-runs?sort_by=size",
        "/eval-runs?sort_order=up",
        "/eval-runs?limit=abc",
        "/eval-runs?limit=0",
    ] {
        assert_eq!(get(&os, path).await.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
    }
    let missing = get(&os, "/eval-runs/nope").await;
    assert_eq!(
        (missing.status, missing.json()),
        (StatusCode::NOT_FOUND, json!({"detail": "Eval run with id 'nope' not found"}))
    );
    assert_eq!(json_request(&os, "PATCH", "/eval-runs/nope", json!({"name": "x"})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(json_request(&os, "PATCH", "/eval-runs/nope", json!({})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_request(&os, "DELETE", "/eval-runs", json!({"ids": []})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(get(&os, "/eval-runs").await.json()["meta"]["total_count"], 0, "nothing was stored");
}

#[tokio::test]
async fn judge_models_come_from_the_resolver_and_their_failures_are_502s() {
    let store = Arc::new(InMemoryStore::new());
    let unresolved = common::builder(&store).build().unwrap();
    let accuracy = json!({"eval_type": "accuracy", "input": "hi", "agent_id": "echo", "expected_output": "hi"});
    let answer = json_request(&unresolved, "POST", "/eval-runs", accuracy.clone()).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "no resolver, no judge: {}", answer.text);
    let no_model = json!({"eval_type": "agent_as_judge", "input": "hi", "workflow_id": "flow", "criteria": "short"});
    let answer = json_request(&os(), "POST", "/eval-runs", no_model).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "a workflow has no model to judge with: {}", answer.text);

    let rambling = common::builder(&store)
        .models(|_, _| Ok(Arc::new(FunctionModel::new(|_| Ok(text_response("Looks good to me!")))) as Arc<dyn Model>))
        .build()
        .unwrap();
    let answer = json_request(&rambling, "POST", "/eval-runs", accuracy).await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.text);
    assert!(answer.json()["detail"].as_str().unwrap().contains("judge"));
    assert_eq!(get(&rambling, "/eval-runs").await.json()["meta"]["total_count"], 0);
}

#[tokio::test]
async fn without_an_eval_store_the_eval_routes_are_503s_and_config_shows_evals_with_one() {
    let bare = AgentOs::builder().build().unwrap();
    assert_eq!(get(&bare, "/eval-runs").await.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(get(&bare, "/eval-runs/e1").await.status, StatusCode::SERVICE_UNAVAILABLE);
    let answer = json_request(&bare, "POST", "/eval-runs", client_reliability()).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(get(&bare, "/config").await.json().get("evals").is_none());
    let config = get(&os(), "/config").await.json();
    assert_eq!(config["evals"]["dbs"][0]["tables"], json!(["eval_runs"]));
}

//! Trace routes: a served run's trace as the list, the tree, one span, session stats and searches return it; filters, paging and bad inputs; no trace store.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use agent_core::InMemoryStore;
use agent_core::trace::{InMemoryTraceStore, TraceStore};
use agent_memory::TraceLayer;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Answer, form, get, send};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;

async fn search(os: &agent_os::AgentOs, body: &str) -> Answer {
    let request =
        Request::post("/traces/search").header("content-type", "application/json").body(Body::from(body.to_owned()));
    send(os, request.unwrap()).await
}

/// The test set with a trace store, the layer writing to it installed on
/// this thread (the runs' tasks run on it too: a current-thread runtime),
/// and one weather run (a tool call between two model turns) traced.
async fn traced_os() -> (agent_os::AgentOs, String, tracing::subscriber::DefaultGuard) {
    let traces: Arc<dyn TraceStore> = Arc::new(InMemoryTraceStore::new());
    let (layer, writer) = TraceLayer::new(traces.clone());
    let handle = layer.handle();
    tokio::spawn(writer.run());
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let store = Arc::new(InMemoryStore::new());
    let os = common::builder(&store).trace_store(traces).build().unwrap();
    let fields = [("message", "Weather in Paris?"), ("stream", "false"), ("session_id", "s1"), ("user_id", "ana")];
    let run = form(&os, "/agents/weather/runs", &fields).await.json();
    assert_eq!(run["status"], "COMPLETED");
    handle.flush().await;
    (os, run["run_id"].as_str().unwrap().to_owned(), guard)
}

fn assert_time(value: &Value) {
    let text = value.as_str().unwrap_or_else(|| panic!("a time: {value}"));
    assert!(agent_core::trace::parse_time_micros(text).is_some(), "{text}");
}

#[tokio::test]
async fn a_served_run_is_listed_and_read_back_as_its_span_tree() {
    let (os, run_id, _guard) = traced_os().await;
    let list = get(&os, "/traces?page=1&limit=20").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let list = list.json();
    assert_eq!(list["meta"]["total_count"], 1);
    let summary = &list["data"][0];
    for (field, expected) in [
        ("name", "Weather Agent.run"),
        ("status", "OK"),
        ("input", "Weather in Paris?"),
        ("session_id", "s1"),
        ("user_id", "ana"),
        ("agent_id", "weather"),
    ] {
        assert_eq!(summary[field], expected, "{field}: {summary}");
    }
    assert_eq!(
        (summary["run_id"].as_str(), summary["total_spans"].as_u64(), summary["error_count"].as_u64()),
        (Some(run_id.as_str()), Some(4), Some(0))
    );
    assert!(summary["duration"].as_str().unwrap().ends_with('s'), "{summary}");
    for field in ["start_time", "end_time", "created_at"] {
        assert_time(&summary[field]);
    }
    assert!(summary.get("team_id").is_none(), "absent fields are left out: {summary}");

    let trace_id = summary["trace_id"].as_str().unwrap();
    let detail = get(&os, &format!("/traces/{trace_id}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    let detail = detail.json();
    // The figure for the report: a quickstart-like run as the endpoint returns it.
    println!("GET /traces/{{id}}:\n{}", serde_json::to_string_pretty(&detail).unwrap());
    assert_eq!(detail["output"], "Result: It is sunny in Paris.");
    let root = &detail["tree"][0];
    assert_eq!((root["type"].as_str(), root["name"].as_str()), (Some("AGENT"), Some("Weather Agent.run")));
    assert!(root.get("input").is_none(), "the root's input is the trace's");
    let kinds: Vec<&str> =
        root["spans"].as_array().unwrap().iter().map(|node| node["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["LLM", "TOOL", "LLM"]);
    let tool = &root["spans"][1];
    assert_eq!((tool["name"].as_str(), tool["status"].as_str()), (Some("get_weather"), Some("OK")));
    assert_eq!(
        (tool["input"].as_str(), tool["output"].as_str()),
        (Some(r#"{"city":"Paris"}"#), Some("It is sunny in Paris."))
    );
    assert_eq!(tool["metadata"]["tool_name"], "get_weather");
    assert_eq!(root["spans"][0]["metadata"]["model"], "brain-1");
    for node in [root, tool] {
        assert_time(&node["start_time"]);
        assert_time(&node["end_time"]);
        assert!(node["duration"].as_str().unwrap().ends_with('s'));
    }

    let span = get(&os, &format!("/traces/{trace_id}?span_id={}", tool["id"].as_str().unwrap())).await;
    assert_eq!(span.status, StatusCode::OK);
    assert_eq!(span.json()["name"], "get_weather");
    assert!(span.json().get("spans").is_none());
    assert_eq!(get(&os, &format!("/traces/{trace_id}?span_id=nope")).await.json(), json!({"detail": "Span not found"}));
    let unknown = get(&os, "/traces/nope").await;
    assert_eq!((unknown.status, unknown.json()), (StatusCode::NOT_FOUND, json!({"detail": "Trace not found"})));
}

#[tokio::test]
async fn the_list_filters_and_pages() {
    let (os, run_id, _guard) = traced_os().await;
    let count = |answer: Answer| {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer.json()["meta"]["total_count"].as_u64().unwrap()
    };
    for (query, expected) in [
        (format!("run_id={run_id}"), 1),
        ("agent_id=weather&status=OK".into(), 1),
        ("agent_id=echo".into(), 0),
        ("team_id=crew".into(), 0),
        ("status=ERROR".into(), 0),
        ("session_id=s1&user_id=ana".into(), 1),
        ("start_time=2025-01-01T00%3A00%3A00Z".into(), 1),
        ("end_time=2025-01-01T00%3A00%3A00%2B05%3A30".into(), 0),
        ("db_id=agent-os-db".into(), 1),
    ] {
        assert_eq!(count(get(&os, &format!("/traces?{query}")).await), expected, "{query}");
    }
    let second = get(&os, "/traces?limit=1&page=2").await.json();
    assert_eq!((second["data"].as_array().unwrap().len(), second["meta"]["total_pages"].as_u64()), (0, Some(1)));
    assert_eq!(get(&os, "/traces?start_time=yesterday").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(get(&os, "/traces?limit=abc").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(get(&os, "/traces?limit=0").await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let stats = get(&os, "/trace_session_stats?page=1&limit=20&agent_id=weather").await.json();
    assert_eq!(stats["meta"]["total_count"], 1);
    let session = &stats["data"][0];
    assert_eq!((session["session_id"].as_str(), session["total_traces"].as_u64()), (Some("s1"), Some(1)));
    assert_eq!((session["user_id"].as_str(), session["agent_id"].as_str()), (Some("ana"), Some("weather")));
    assert_time(&session["first_trace_at"]);
    assert_time(&session["last_trace_at"]);
    assert_eq!(count(get(&os, "/trace_session_stats?user_id=bob").await), 0);
    assert_eq!(get(&os, "/trace_session_stats?end_time=soon").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn search_groups_by_run_or_session_and_refuses_bad_filters() {
    let (os, _, _guard) = traced_os().await;
    let by_run =
        search(&os, r#"{"filter":{"op":"EQ","key":"status","value":"OK"},"group_by":"run","page":1,"limit":20}"#).await;
    assert_eq!(by_run.status, StatusCode::OK, "{}", by_run.text);
    let by_run = by_run.json();
    assert_eq!(by_run["meta"]["total_count"], 1);
    assert_eq!(by_run["data"][0]["tree"][0]["spans"].as_array().unwrap().len(), 3);
    let by_session = search(&os, r#"{"filter":null,"group_by":"session","page":1,"limit":20}"#).await.json();
    assert_eq!(
        (by_session["data"][0]["session_id"].as_str(), by_session["data"][0]["total_traces"].as_u64()),
        (Some("s1"), Some(1))
    );
    let nested = r#"{"filter":{"op":"AND","conditions":[{"op":"CONTAINS","key":"agent_id","value":"WEA"},
        {"op":"NOT","condition":{"op":"IN","key":"user_id","values":["bob"]}},
        {"op":"GTE","key":"duration_ms","value":0}]}}"#;
    assert_eq!(search(&os, nested).await.json()["meta"]["total_count"], 1);
    assert_eq!(
        search(&os, r#"{"filter":{"op":"STARTSWITH","key":"name","value":"Echo"}}"#).await.json()["data"],
        json!([])
    );
    assert_eq!(search(&os, "").await.json()["meta"]["total_count"], 1, "an empty body searches everything");

    for bad in [
        r#"{"filter":{"op":"LIKE","key":"status","value":"OK"}}"#,
        r#"{"filter":{"op":"EQ","key":"colour","value":"red"}}"#,
        r#"{"filter":{"op":"EQ","key":"status"}}"#,
        r#"{"filter":{"op":"AND","conditions":[]}}"#,
        r#"{"filter":{"op":"GT","key":"start_time","value":"noon"}}"#,
        r#"{"filter":"status = OK"}"#,
    ] {
        let answer = search(&os, bad).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}: {}", answer.text);
        assert!(answer.json()["detail"].as_str().unwrap().starts_with("Invalid filter expression"), "{}", answer.text);
    }
    for bad in
        [r#"{"group_by":"user"}"#, r#"{"limit":101}"#, r#"{"limit":0}"#, r#"{"page":0}"#, r#"{"page":"one"}"#, "{bad"]
    {
        assert_eq!(search(&os, bad).await.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

#[tokio::test]
async fn without_a_trace_store_the_lists_are_empty() {
    let (os, _) = common::os();
    let empty = json!({"data": [], "meta": {"page": 1, "limit": 20, "total_pages": 0, "total_count": 0, "search_time_ms": 0.0}});
    assert_eq!(get(&os, "/traces").await.json(), empty);
    assert_eq!(get(&os, "/trace_session_stats").await.json(), empty);
    assert_eq!(search(&os, r#"{"group_by":"session"}"#).await.json(), empty);
    assert_eq!(get(&os, "/traces/t1").await.status, StatusCode::NOT_FOUND);
    assert_eq!(search(&os, r#"{"filter":{"op":"NOPE"}}"#).await.status, StatusCode::BAD_REQUEST);
    let schema = get(&os, "/traces/filter-schema").await.json();
    assert!(schema["fields"].as_array().unwrap().iter().any(|field| field["key"] == "duration_ms"));
}

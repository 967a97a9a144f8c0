//! Memory routes: created, listed (filters, paging, sorting), read, updated and deleted, scoped to their user; topics, stats and optimize with a dry run.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use agent_core::memory::{InMemoryMemoryStore, MemoryQuery, MemoryStore};
use agent_core::testing::{FunctionModel, text_response};
use agent_core::{InMemoryStore, Model};
use agent_os::AgentOs;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{get, send};
use serde_json::{Value, json};

fn optimizer() -> Arc<dyn Model> {
    Arc::new(FunctionModel::new(|_| {
        Ok(text_response(json!({"memories": [{"memory": "Ana loves green tea.", "topics": ["drinks"]}]}).to_string()))
    }))
}

fn os() -> (AgentOs, Arc<InMemoryMemoryStore>) {
    let memories = Arc::new(InMemoryMemoryStore::new());
    let store = Arc::new(InMemoryStore::new());
    let os = common::builder(&store)
        .memory_store(memories.clone())
        .models(|provider, id| match provider {
            "anthropic" if id.starts_with("claude") => Ok(optimizer()),
            _ => Err(format!("unknown provider `{provider}`")),
        })
        .build()
        .unwrap();
    (os, memories)
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

async fn create(os: &AgentOs, user: &str, memory: &str, topics: &[&str]) -> String {
    let answer =
        json_request(os, "POST", "/memories", json!({"memory": memory, "user_id": user, "topics": topics})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json()["memory_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn memories_are_created_listed_read_updated_and_deleted() {
    let (os, store) = os();
    let tea = create(&os, "u1", "User likes tea.", &["food", "drink"]).await;
    create(&os, "u1", "User is a nurse.", &["work"]).await;
    create(&os, "u2", "Other likes coffee.", &["drink"]).await;

    let one = get(&os, &format!("/memories/{tea}?user_id=u1")).await.json();
    assert_eq!(one["memory"], "User likes tea.");
    assert_eq!(one["topics"], json!(["food", "drink"]));
    assert!(one["updated_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        get(&os, &format!("/memories/{tea}?user_id=u2")).await.status,
        StatusCode::NOT_FOUND,
        "scoped to its user"
    );
    let missing = get(&os, "/memories/nope").await;
    assert_eq!(missing.json(), json!({"detail": "Memory with ID nope not found"}));

    let page = get(&os, "/memories?limit=5&page=1&sort_by=created_at&sort_order=asc&user_id=u1&topics=food&topics=drink&search_content=TEA").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let page = page.json();
    assert_eq!(page["meta"]["total_count"], 1);
    assert_eq!(page["data"][0]["memory_id"], tea);
    let all = get(&os, "/memories?limit=2&page=2&sort_by=memory&sort_order=asc").await.json();
    assert_eq!(all["meta"], json!({"page": 2, "limit": 2, "total_pages": 2, "total_count": 3, "search_time_ms": 0.0}));
    assert_eq!(all["data"][0]["memory"], "User likes tea.");
    let drinks = get(&os, "/memories?topics=drink").await.json();
    assert_eq!(drinks["meta"]["total_count"], 2);

    let updated = json_request(
        &os,
        "PATCH",
        &format!("/memories/{tea}"),
        json!({"memory": "User loves tea.", "user_id": "u1", "topics": ["food"]}),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.json()["topics"], json!(["food"]));
    let stolen =
        json_request(&os, "PATCH", &format!("/memories/{tea}"), json!({"memory": "mine", "user_id": "u2"})).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND, "another user cannot update it");

    assert_eq!(get(&os, "/memory_topics?user_id=u1").await.json(), json!(["food", "work"]));
    let stats = get(&os, "/user_memory_stats?limit=10&page=1").await.json();
    assert_eq!(stats["meta"]["total_count"], 2);
    let ana = get(&os, "/user_memory_stats?user_id=u1&limit=10&page=1").await.json();
    assert_eq!(ana["data"][0]["user_id"], "u1");
    assert_eq!(ana["data"][0]["total_memories"], 2);

    let other = send(&os, Request::delete(format!("/memories/{tea}?user_id=u2")).body(Body::empty()).unwrap()).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let deleted = send(&os, Request::delete(format!("/memories/{tea}?user_id=u1")).body(Body::empty()).unwrap()).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let ids: Vec<String> =
        store.list_memories(&MemoryQuery::default()).await.unwrap().items.into_iter().map(|m| m.memory_id).collect();
    let bulk = json_request(&os, "DELETE", "/memories", json!({"memory_ids": ids, "user_id": "u1"})).await;
    assert_eq!(bulk.status, StatusCode::NO_CONTENT);
    let left = store.list_memories(&MemoryQuery::default()).await.unwrap();
    assert_eq!(left.total, 1, "only u1's memories were deleted");
    assert_eq!(left.items[0].user_id.as_deref(), Some("u2"));
}

#[tokio::test]
async fn optimize_reports_a_dry_run_without_writing_and_applies_otherwise() {
    let (os, store) = os();
    create(&os, "u1", "User likes tea.", &["drink"]).await;
    create(&os, "u1", "User likes green tea.", &["drink"]).await;
    let dry = json_request(
        &os,
        "POST",
        "/optimize-memories",
        json!({"user_id": "u1", "model": "anthropic:claude-sonnet-4-5", "apply": false}),
    )
    .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    let dry = dry.json();
    assert_eq!((dry["memories_before"].as_u64(), dry["memories_after"].as_u64()), (Some(2), Some(1)));
    assert!(dry["reduction_percentage"].as_f64().unwrap() > 0.0);
    assert_eq!(
        store.list_memories(&MemoryQuery::user("u1")).await.unwrap().total,
        2,
        "a dry run leaves the store unchanged"
    );
    let applied = json_request(
        &os,
        "POST",
        "/optimize-memories",
        json!({"user_id": "u1", "model": "anthropic:claude-sonnet-4-5"}),
    )
    .await
    .json();
    assert_eq!(applied["memories"][0]["memory"], "Ana loves green tea.");
    assert_eq!(store.list_memories(&MemoryQuery::user("u1")).await.unwrap().total, 1);

    let nobody =
        json_request(&os, "POST", "/optimize-memories", json!({"user_id": "nobody", "model": "anthropic:claude-x"}))
            .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    for model in ["gpt-4", "openai:gpt-4", ":"] {
        let answer = json_request(&os, "POST", "/optimize-memories", json!({"user_id": "u1", "model": model})).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{model}: {}", answer.text);
    }
    let no_model = json_request(&os, "POST", "/optimize-memories", json!({"user_id": "u1"})).await;
    assert_eq!(no_model.status, StatusCode::BAD_REQUEST, "no model given and none configured");
}

#[tokio::test]
async fn bad_memory_requests_are_4xx() {
    let (os, _) = os();
    let no_user = json_request(&os, "POST", "/memories", json!({"memory": "x"})).await;
    assert_eq!(no_user.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_user.json()["detail"], "User ID is required");
    let no_memory = json_request(&os, "POST", "/memories", json!({"user_id": "u1"})).await;
    assert_eq!(no_memory.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_memory.json()["detail"][0]["loc"], json!(["body", "memory"]));
    let wrong_type =
        json_request(&os, "POST", "/memories", json!({"memory": "x", "user_id": "u1", "topics": "food"})).await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    for path in ["/memories?limit=abc", "/memories?page=-1", "/memories?sort_by=size", "/user_memory_stats?limit=0"] {
        assert_eq!(get(&os, path).await.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
    }
    let none = AgentOs::builder().build().unwrap();
    assert_eq!(get(&none, "/memories").await.status, StatusCode::SERVICE_UNAVAILABLE);
}

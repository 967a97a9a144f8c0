//! The content round trip, search modes and background ingestion.

use std::sync::Arc;

use agent_core::knowledge::{Embedder, HashEmbedder, KnowledgeError};
use agent_memory::KnowledgeBase;
use agent_memory::knowledge::KnowledgeStore;
use async_trait::async_trait;
use axum::http::StatusCode;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::common::{form, get};
use crate::{base, delete, id_of, json_request, multipart, patch, postgres, server, sqlite};

/// The client's whole content round trip, against one store.
async fn content_round_trip(store: Arc<dyn KnowledgeStore>) {
    let knowledge = base(store, "docs");
    let os = server(&knowledge);
    let text = "hello world. ".repeat(20);
    let uploaded = form(
        &os,
        "/knowledge/content",
        &[
            ("name", "doc"),
            ("description", "d"),
            ("metadata", r#"{"a": 1}"#),
            ("text_content", &text),
            ("reader_id", "text"),
            ("chunker", "FixedSizeChunker"),
            ("chunk_size", "100"),
            ("chunk_overlap", "10"),
        ],
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::ACCEPTED, "{}", uploaded.text);
    let body = uploaded.json();
    assert_eq!((body["name"].as_str(), body["description"].as_str()), (Some("doc"), Some("d")));
    assert_eq!(body["metadata"], json!({"a": 1}));
    assert_eq!(body["size"], json!(text.len().to_string()));
    assert!(["processing", "completed"].contains(&body["status"].as_str().unwrap()), "{body}");
    let text_id = id_of(&uploaded);

    let file =
        multipart(&os, "/knowledge/content", &[("name", "guide")], ("guide.md", "text/markdown", b"# Title\nbody\n"))
            .await;
    assert_eq!(file.status, StatusCode::ACCEPTED, "{}", file.text);
    let file_id = id_of(&file);
    knowledge.wait_idle().await;

    let status = get(&os, &format!("/knowledge/content/{text_id}/status")).await.json();
    assert_eq!(status, json!({"id": text_id, "status": "completed", "status_message": ""}));
    // The upload's own chunking: 260 characters in windows of 100 every 90.
    assert_eq!(knowledge.store().chunk_count(Some(&text_id)).await.unwrap(), 3);
    let one = get(&os, &format!("/knowledge/content/{file_id}")).await.json();
    assert_eq!(
        (one["name"].as_str(), one["type"].as_str(), one["size"].as_str()),
        (Some("guide"), Some("text/markdown"), Some("13"))
    );
    assert!(one["created_at"].as_str().unwrap().ends_with('Z'));

    let listed = get(&os, "/knowledge/content?limit=1&page=1&sort_by=name&sort_order=asc").await.json();
    assert_eq!(listed["data"][0]["name"], "doc");
    assert_eq!(
        listed["meta"],
        json!({"page": 1, "limit": 1, "total_pages": 2, "total_count": 2, "search_time_ms": 0.0})
    );
    let second = get(&os, "/knowledge/content?limit=1&page=2&sort_by=name&sort_order=asc").await.json();
    assert_eq!(second["data"][0]["name"], "guide");

    let updated = patch(
        &os,
        &format!("/knowledge/content/{text_id}"),
        &[("name", "n"), ("description", "d2"), ("metadata", r#"{"a": 2}"#), ("reader_id", "text")],
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!((updated.json()["name"].as_str(), updated.json()["metadata"]["a"].as_i64()), (Some("n"), Some(2)));

    let found = json_request(
        &os,
        "POST",
        "/knowledge/search",
        json!({"query": "hello world", "max_results": 3, "filters": {"a": 2}, "search_type": "hybrid", "vector_db_ids": ["docs"], "meta": {"limit": 2, "page": 1}}),
    )
    .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    let found = found.json();
    assert_eq!(found["meta"]["total_count"], 3);
    assert_eq!(found["meta"]["total_pages"], 2);
    assert_eq!(found["data"].as_array().unwrap().len(), 2);
    assert_eq!(found["data"][0]["content_id"], json!(text_id));
    assert_eq!(found["data"][0]["name"], "n");
    assert_eq!(found["data"][0]["meta_data"]["a"], 2);
    assert!(found["data"][0]["content"].as_str().unwrap().contains("hello"));

    let deleted = delete(&os, &format!("/knowledge/content/{text_id}")).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.json()["id"], json!(text_id));
    for path in [format!("/knowledge/content/{text_id}"), format!("/knowledge/content/{text_id}/status")] {
        let missing = get(&os, &path).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(missing.json(), json!({"detail": format!("Content not found: {text_id}")}));
    }
    assert_eq!(delete(&os, &format!("/knowledge/content/{text_id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(patch(&os, "/knowledge/content/nope", &[("name", "x")]).await.status, StatusCode::NOT_FOUND);

    let all = delete(&os, "/knowledge/content").await;
    assert_eq!((all.status, all.json()), (StatusCode::OK, json!("success")));
    assert_eq!(get(&os, "/knowledge/content").await.json()["meta"]["total_count"], 0);
}

#[tokio::test]
async fn content_round_trip_on_sqlite() {
    content_round_trip(sqlite().await).await;
}

#[tokio::test]
async fn content_round_trip_on_postgres() {
    if let Some(store) = postgres("agent_os_kb_round_trip").await {
        content_round_trip(store).await;
    }
}

/// Search modes, filters and paging, against one store.
async fn search_modes(store: Arc<dyn KnowledgeStore>) {
    let knowledge = base(store, "docs");
    let os = server(&knowledge);
    for (name, text, topic) in [
        ("hours.md", "# Hours\nWe open at nine and close at five.", "hours"),
        ("pets.md", "# Pets\nDogs are welcome on the terrace.", "pets"),
    ] {
        let metadata = json!({"topic": topic}).to_string();
        let answer =
            form(&os, "/knowledge/content", &[("name", name), ("text_content", text), ("metadata", &metadata)]).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
    }
    knowledge.wait_idle().await;
    for search_type in ["keyword", "vector", "hybrid"] {
        let answer = json_request(
            &os,
            "POST",
            "/knowledge/search",
            json!({"query": "when do you open and close", "search_type": search_type, "max_results": 1}),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{search_type}: {}", answer.text);
        assert_eq!(answer.json()["data"][0]["name"], "hours.md", "{search_type}");
    }
    let filtered = json_request(
        &os,
        "POST",
        "/knowledge/search",
        json!({"query": "open terrace dogs", "filters": {"topic": "pets"}}),
    )
    .await
    .json();
    let names: Vec<&str> =
        filtered["data"].as_array().unwrap().iter().map(|hit| hit["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["pets.md"]);
    let beyond =
        json_request(&os, "POST", "/knowledge/search", json!({"query": "open", "meta": {"limit": 5, "page": 9}}))
            .await
            .json();
    assert_eq!(beyond["data"], json!([]));
    assert_eq!(beyond["meta"]["page"], 9);

    for (body, status) in [
        (json!({"query": "x", "search_type": "fuzzy"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"query": "x", "max_results": 0}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"query": "x", "max_results": 5000}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"query": "x", "meta": {"limit": 0}}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"query": "x", "filters": [1]}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"max_results": 3}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"query": "  "}), StatusCode::BAD_REQUEST),
        (json!({"query": "x", "filters": {"topic": {"nested": 1}}}), StatusCode::BAD_REQUEST),
        (json!({"query": "x", "vector_db_ids": ["v1"]}), StatusCode::BAD_REQUEST),
        (json!({"query": "x", "knowledge_id": "nope"}), StatusCode::NOT_FOUND),
    ] {
        let answer = json_request(&os, "POST", "/knowledge/search", body.clone()).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.text);
        assert!(answer.json()["detail"].is_string() || answer.json()["detail"].is_array());
    }
}

#[tokio::test]
async fn search_modes_on_sqlite() {
    search_modes(sqlite().await).await;
}

#[tokio::test]
async fn search_modes_on_postgres() {
    if let Some(store) = postgres("agent_os_kb_search").await {
        search_modes(store).await;
    }
}

#[tokio::test]
async fn vector_search_without_an_embedder_is_a_400_and_keyword_search_works() {
    let knowledge = KnowledgeBase::builder_shared(sqlite().await).build();
    let os = server(&knowledge);
    form(&os, "/knowledge/content", &[("text_content", "Lisbon is sunny.")]).await;
    knowledge.wait_idle().await;
    let vector =
        json_request(&os, "POST", "/knowledge/search", json!({"query": "sunny", "search_type": "vector"})).await;
    assert_eq!(vector.status, StatusCode::BAD_REQUEST, "{}", vector.text);
    let keyword =
        json_request(&os, "POST", "/knowledge/search", json!({"query": "sunny", "search_type": "keyword"})).await;
    assert_eq!(keyword.json()["data"][0]["content"], "Lisbon is sunny.");
    let config = get(&os, "/knowledge/config").await.json();
    assert_eq!(config["vector_dbs"][0]["search_types"], json!(["keyword"]));
}

/// An embedder that waits for a permit per call, so a test holds ingestion `processing`.
struct Gated {
    inner: HashEmbedder,
    gate: Arc<Semaphore>,
}

#[async_trait]
impl Embedder for Gated {
    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, KnowledgeError> {
        let _permit = self.gate.acquire().await.map_err(|_| KnowledgeError::Embedder("gate closed".into()))?;
        self.inner.embed(texts).await
    }
}

#[tokio::test]
async fn ingestion_runs_in_the_background_and_its_status_is_polled() {
    let gate = Arc::new(Semaphore::new(0));
    let embedder = Gated { inner: HashEmbedder::new(32), gate: gate.clone() };
    let knowledge = KnowledgeBase::builder_shared(sqlite().await).embedder(embedder).build();
    let os = server(&knowledge);
    let uploaded = form(&os, "/knowledge/content", &[("name", "notes.txt"), ("text_content", "Slow to embed.")]).await;
    assert_eq!(uploaded.status, StatusCode::ACCEPTED);
    assert_eq!(uploaded.json()["status"], "processing");
    let id = id_of(&uploaded);
    let status = get(&os, &format!("/knowledge/content/{id}/status")).await.json();
    assert_eq!(status["status"], "processing");
    gate.add_permits(1);
    knowledge.wait(&id).await.unwrap();
    assert_eq!(get(&os, &format!("/knowledge/content/{id}/status")).await.json()["status"], "completed");

    // Content that cannot be read fails in the background, with the reason.
    let broken = multipart(&os, "/knowledge/content", &[], ("data.json", "application/json", b"{not json")).await;
    assert_eq!(broken.status, StatusCode::ACCEPTED, "{}", broken.text);
    let broken_id = id_of(&broken);
    knowledge.wait(&broken_id).await.unwrap();
    let status = get(&os, &format!("/knowledge/content/{broken_id}/status")).await.json();
    assert_eq!(status["status"], "failed");
    assert!(status["status_message"].as_str().unwrap().contains("invalid JSON"), "{status}");
}

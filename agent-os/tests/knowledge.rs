//! Knowledge routes: content uploaded (text, URL-encoded; files, multipart), ingested in the background, listed, read, updated, deleted and searched as the AgentOS client expects, on SQLite and on Postgres when `AGENT_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use agent_core::knowledge::{Embedder, HashEmbedder, KnowledgeError};
use agent_memory::KnowledgeBase;
use agent_memory::knowledge::{KnowledgeStore, PostgresKnowledge, Source, SqliteKnowledge};
use agent_os::AgentOs;
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Answer, form, get, send};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

async fn sqlite() -> Arc<dyn KnowledgeStore> {
    Arc::new(SqliteKnowledge::open_in_memory().await.unwrap())
}

/// A Postgres store with its own tables, emptied; `None` (after one printed
/// line) when `AGENT_TEST_POSTGRES_URL` is not set.
async fn postgres(prefix: &str) -> Option<Arc<dyn KnowledgeStore>> {
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

fn base(store: Arc<dyn KnowledgeStore>, name: &str) -> KnowledgeBase {
    KnowledgeBase::builder_shared(store).name(name).embedder(HashEmbedder::new(256)).build()
}

fn server(knowledge: &KnowledgeBase) -> AgentOs {
    AgentOs::builder().knowledge(knowledge.clone()).build().unwrap()
}

async fn json_request(os: &AgentOs, method: &str, path: &str, body: Value) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    send(os, request).await
}

/// A multipart form as httpx sends one: text parts, then the `file` part.
async fn multipart(os: &AgentOs, path: &str, fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> Answer {
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

async fn delete(os: &AgentOs, path: &str) -> Answer {
    send(os, Request::delete(path).body(Body::empty()).unwrap()).await
}

async fn patch(os: &AgentOs, path: &str, fields: &[(&str, &str)]) -> Answer {
    let request = Request::patch(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
        .unwrap();
    send(os, request).await
}

fn id_of(answer: &Answer) -> String {
    answer.json()["id"].as_str().unwrap().to_owned()
}

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

#[tokio::test]
async fn bad_uploads_are_4xx_naming_the_problem() {
    let knowledge = KnowledgeBase::builder_shared(sqlite().await).max_bytes(64).build();
    let os = AgentOs::builder().knowledge(knowledge.clone()).body_limit(4096).build().unwrap();
    let big = "x".repeat(100);
    for (fields, status) in [
        (vec![("name", "nothing")], StatusCode::BAD_REQUEST),
        (vec![("text_content", "a"), ("url", "https://example.invalid/a.md")], StatusCode::BAD_REQUEST),
        (vec![("text_content", "a"), ("reader_id", "docx")], StatusCode::BAD_REQUEST),
        (vec![("text_content", "a"), ("chunker", "AgenticChunker")], StatusCode::UNPROCESSABLE_ENTITY),
        (vec![("text_content", "a"), ("chunk_size", "abc")], StatusCode::UNPROCESSABLE_ENTITY),
        (vec![("text_content", "a"), ("chunk_size", "0")], StatusCode::UNPROCESSABLE_ENTITY),
        (vec![("text_content", "a"), ("chunk_size", "10"), ("chunk_overlap", "10")], StatusCode::BAD_REQUEST),
        (vec![("text_content", "a"), ("metadata", "{bad")], StatusCode::BAD_REQUEST),
        (vec![("text_content", "a"), ("metadata", "[1]")], StatusCode::BAD_REQUEST),
        (vec![("text_content", "a"), ("stream", "true")], StatusCode::BAD_REQUEST),
        (vec![("url", "ftp://example.invalid/a.md")], StatusCode::BAD_REQUEST),
        (vec![("url", r#"["https://a.invalid/x", "https://b.invalid/y"]"#)], StatusCode::BAD_REQUEST),
        (vec![("text_content", big.as_str())], StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        let answer = form(&os, "/knowledge/content", &fields).await;
        assert_eq!(answer.status, status, "{fields:?}: {}", answer.text);
        assert!(!answer.json()["detail"].is_null(), "{fields:?}");
    }
    let image = multipart(&os, "/knowledge/content", &[], ("photo.png", "image/png", b"\x89PNG")).await;
    assert_eq!(image.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", image.text);
    let unknown = multipart(&os, "/knowledge/content", &[], ("blob", "application/octet-stream", b"abc")).await;
    assert_eq!(unknown.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", unknown.text);
    let large = multipart(&os, "/knowledge/content", &[], ("big.txt", "text/plain", big.as_bytes())).await;
    assert_eq!(large.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", large.text);
    let huge = multipart(&os, "/knowledge/content", &[], ("huge.txt", "text/plain", "y".repeat(8192).as_bytes())).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", huge.text);
    // An octet-stream upload is read by its file name; an explicit reader wins over both.
    let named = multipart(&os, "/knowledge/content", &[], ("notes.md", "application/octet-stream", b"# Notes")).await;
    assert_eq!(named.status, StatusCode::ACCEPTED, "{}", named.text);
    let forced = multipart(
        &os,
        "/knowledge/content",
        &[("reader_id", "TextReader")],
        ("x.bin", "application/octet-stream", b"plain"),
    )
    .await;
    assert_eq!(forced.status, StatusCode::ACCEPTED, "{}", forced.text);
    knowledge.wait_idle().await;
    assert_eq!(get(&os, &format!("/knowledge/content/{}/status", id_of(&forced))).await.json()["status"], "completed");

    let plain = send(
        &os,
        Request::post("/knowledge/content").header("content-type", "text/plain").body(Body::from("hi")).unwrap(),
    )
    .await;
    assert_eq!(plain.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    for path in [
        "/knowledge/content?limit=0",
        "/knowledge/content?page=x",
        "/knowledge/content?sort_by=size",
        "/knowledge/content?sort_order=up",
    ] {
        let answer = get(&os, path).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", answer.text);
    }
    let bad_reader = patch(&os, &format!("/knowledge/content/{}", id_of(&named)), &[("reader_id", "nope")]).await;
    assert_eq!(bad_reader.status, StatusCode::BAD_REQUEST);
    let bad_metadata = patch(&os, &format!("/knowledge/content/{}", id_of(&named)), &[("metadata", "{")]).await;
    assert_eq!(bad_metadata.json(), json!({"detail": "Invalid JSON format for metadata"}));
    let malformed = send(
        &os,
        Request::post("/knowledge/search").header("content-type", "application/json").body(Body::from("{bad")).unwrap(),
    )
    .await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn sources_are_listed_browsed_and_added_from() {
    let root = std::env::temp_dir().join(format!("agent-os-sources-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(root.join("reports/2024")).unwrap();
    std::fs::write(root.join("reports/summary.md"), "# Summary\nRevenue grew.").unwrap();
    std::fs::write(root.join("readme.txt"), "Read me.").unwrap();
    let knowledge = KnowledgeBase::builder_shared(sqlite().await)
        .name("company")
        .source(Source::folder("company-docs", "Company Documents", &root).prefix("reports/"))
        .build();
    let os = server(&knowledge);

    let sources = get(&os, "/knowledge/company/sources").await.json();
    assert_eq!(
        sources,
        json!([{"id": "company-docs", "name": "Company Documents", "type": "local", "prefix": "reports/", "metadata": {}}])
    );
    let listing = get(&os, "/knowledge/company/sources/company-docs/files").await;
    assert_eq!(listing.status, StatusCode::OK, "{}", listing.text);
    let listing = listing.json();
    assert_eq!(listing["prefix"], "reports/");
    assert_eq!(listing["folders"], json!([{"prefix": "reports/2024/", "name": "2024", "is_empty": true}]));
    assert_eq!(listing["files"][0]["key"], "reports/summary.md");
    assert_eq!(listing["files"][0]["content_type"], "text/markdown");
    assert_eq!(listing["meta"], json!({"page": 1, "limit": 100, "total_pages": 1, "total_count": 1}));
    let root_listing = get(&os, "/knowledge/company/sources/company-docs/files?prefix=&limit=1&page=1").await.json();
    assert_eq!(root_listing["files"][0]["key"], "readme.txt");

    let added = form(
        &os,
        "/knowledge/remote-content?knowledge_id=company",
        &[
            ("config_id", "company-docs"),
            ("path", "reports/summary.md"),
            ("description", "Q1"),
            ("metadata", r#"{"team": "finance"}"#),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::ACCEPTED, "{}", added.text);
    assert_eq!(added.json()["name"], "reports/summary.md");
    assert_eq!(added.json()["metadata"], json!({"team": "finance", "source_id": "company-docs"}));
    knowledge.wait_idle().await;
    assert_eq!(get(&os, &format!("/knowledge/content/{}/status", id_of(&added))).await.json()["status"], "completed");
    let config = get(&os, "/knowledge/config").await.json();
    assert_eq!(config["remote_content_sources"][0]["id"], "company-docs");
    assert!(config["filters"].as_array().unwrap().contains(&json!("team")), "{}", config["filters"]);

    for (path, status) in [
        ("/knowledge/nope/sources", StatusCode::NOT_FOUND),
        ("/knowledge/company/sources/nope/files", StatusCode::NOT_FOUND),
        ("/knowledge/company/sources/company-docs/files?prefix=missing/", StatusCode::NOT_FOUND),
        ("/knowledge/company/sources/company-docs/files?prefix=../", StatusCode::BAD_REQUEST),
        ("/knowledge/company/sources/company-docs/files?limit=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("/knowledge/company/sources/company-docs/files?limit=1001", StatusCode::UNPROCESSABLE_ENTITY),
        ("/knowledge/company/sources/company-docs/files?page=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("/knowledge/company/sources/company-docs/files?delimiter=%7C", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let answer = get(&os, path).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.text);
    }
    for (fields, status) in [
        (vec![("config_id", "nope"), ("path", "readme.txt")], StatusCode::NOT_FOUND),
        (vec![("config_id", "company-docs"), ("path", "missing.md")], StatusCode::NOT_FOUND),
        (vec![("config_id", "company-docs"), ("path", "../etc/passwd")], StatusCode::BAD_REQUEST),
        (vec![("config_id", "company-docs"), ("path", "reports/")], StatusCode::BAD_REQUEST),
        (vec![("config_id", "company-docs")], StatusCode::UNPROCESSABLE_ENTITY),
        (vec![("path", "readme.txt")], StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let answer = form(&os, "/knowledge/remote-content", &fields).await;
        assert_eq!(answer.status, status, "{fields:?}: {}", answer.text);
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test]
async fn knowledge_bases_are_addressed_by_id_and_shown_in_the_config() {
    let alpha = base(sqlite().await, "alpha");
    let beta = base(sqlite().await, "beta");
    let os = AgentOs::builder().knowledge(alpha.clone()).knowledge(beta.clone()).build().unwrap();
    let uploaded = form(&os, "/knowledge/content?knowledge_id=beta", &[("text_content", "Only in beta.")]).await;
    assert_eq!(uploaded.status, StatusCode::ACCEPTED);
    beta.wait_idle().await;
    assert_eq!(get(&os, "/knowledge/content").await.json()["meta"]["total_count"], 0, "the first is the default");
    assert_eq!(get(&os, "/knowledge/content?knowledge_id=beta").await.json()["meta"]["total_count"], 1);
    assert_eq!(get(&os, "/knowledge/content?db_id=beta").await.json()["meta"]["total_count"], 1);
    let id = id_of(&uploaded);
    assert_eq!(get(&os, &format!("/knowledge/content/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&os, &format!("/knowledge/content/{id}?knowledge_id=beta")).await.status, StatusCode::OK);
    let found =
        json_request(&os, "POST", "/knowledge/search", json!({"query": "beta", "knowledge_id": "beta"})).await.json();
    assert_eq!(found["data"][0]["content"], "Only in beta.");
    let missing = get(&os, "/knowledge/content?knowledge_id=gamma").await;
    assert_eq!(missing.json(), json!({"detail": "Knowledge base 'gamma' not found"}));
    assert_eq!(get(&os, "/knowledge/config?db_id=gamma").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&os, "/knowledge/config?db_id=beta").await.json()["vector_dbs"][0]["id"], "beta");

    let config = get(&os, "/config").await.json();
    let instances = &config["knowledge"]["knowledge_instances"];
    assert_eq!(
        instances[1],
        json!({"id": "beta", "name": "beta", "db_id": "beta", "table": "agent_knowledge_content"})
    );
    assert_eq!(config["knowledge"]["dbs"][0]["db_id"], "alpha");

    let twice = AgentOs::builder().knowledge(alpha.clone()).knowledge(alpha).build();
    assert!(twice.unwrap_err().to_string().contains("alpha"));
}

#[tokio::test]
async fn without_knowledge_every_knowledge_route_is_a_503() {
    let os = AgentOs::builder().build().unwrap();
    let document = get(&os, "/openapi.json").await.json();
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap().iter().filter(|(path, _)| path.starts_with("/knowledge"))
    {
        for method in item.as_object().unwrap().keys() {
            let concrete =
                path.replace("{content_id}", "c1").replace("{knowledge_id}", "k").replace("{source_id}", "s");
            let request =
                Request::builder().method(method.to_uppercase().as_str()).uri(&concrete).body(Body::empty()).unwrap();
            let answer = send(&os, request).await;
            assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{method} {path}");
            assert!(
                answer.json()["detail"]
                    .as_str()
                    .unwrap()
                    .starts_with("No knowledge base is available on this AgentOS.")
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 12);
    assert!(get(&os, "/config").await.json().get("knowledge").is_none());
}

#[tokio::test]
async fn no_malformed_knowledge_request_gets_a_500() {
    let knowledge = base(sqlite().await, "docs");
    let os = server(&knowledge);
    let document = get(&os, "/openapi.json").await.json();
    let bodies: [(&str, &[u8]); 7] = [
        ("application/x-www-form-urlencoded", b"text_content=%ZZ"),
        ("application/x-www-form-urlencoded", b"=&&==&text_content"),
        ("application/x-www-form-urlencoded", &[0xff, 0xfe, 0x00, 0x3d]),
        ("multipart/form-data", b"--x\r\n"),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n\xff\xfe\r\n--x--\r\n",
        ),
        ("application/json", b"{\"query\": 3, \"meta\": []}"),
        ("text/plain", b"name=hi"),
    ];
    for (path, item) in document["paths"].as_object().unwrap().iter().filter(|(path, _)| path.starts_with("/knowledge"))
    {
        for method in item.as_object().unwrap().keys() {
            for id in ["docs", "%00", "..%2F..", "a%20b"] {
                let concrete =
                    path.replace("{content_id}", id).replace("{knowledge_id}", id).replace("{source_id}", id);
                for (content_type, body) in &bodies {
                    let request = Request::builder()
                        .method(method.to_uppercase().as_str())
                        .uri(&concrete)
                        .header("content-type", *content_type)
                        .body(Body::from(body.to_vec()))
                        .unwrap();
                    let answer = send(&os, request).await;
                    assert!(
                        answer.status.as_u16() < 500,
                        "{method} {concrete} {content_type}: {} {}",
                        answer.status,
                        answer.text
                    );
                    assert!(
                        answer.json().is_object() || answer.json().is_array() || answer.json().is_string(),
                        "{method} {concrete}"
                    );
                }
            }
        }
    }
    knowledge.wait_idle().await;
}

//! Content sources, and several knowledge bases on one server.

use agent_memory::KnowledgeBase;
use agent_memory::knowledge::Source;
use agent_os::AgentOs;
use axum::http::StatusCode;
use serde_json::json;

use crate::common::{form, get};
use crate::{base, id_of, json_request, server, sqlite};

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

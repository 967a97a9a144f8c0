//! Bad requests: every malformed upload, query or body is a 4xx naming the problem, and no knowledge base is a 503.

use agent_memory::KnowledgeBase;
use agent_os::AgentOs;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;

use crate::common::{form, get, send};
use crate::{base, id_of, multipart, patch, server, sqlite};

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

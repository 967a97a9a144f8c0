//! The HTTP embedder and remote content against a loopback fake server.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_core::knowledge::{Embedder, Knowledge, KnowledgeError, SearchMode, SearchQuery};
use agent_memory::knowledge::{
    ContentInput, ContentStatus, HttpEmbedder, HttpEmbedderConfig, KnowledgeBase, SqliteKnowledge,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request the fake received.
#[derive(Clone, Debug)]
struct Recorded {
    path: String,
    headers: Vec<(String, String)>,
    body: Value,
}

/// What the fake answers: status, content type and body; `None` never answers.
type Handler = dyn Fn(&Recorded) -> Option<(u16, &'static str, Vec<u8>)> + Send + Sync;

struct Fake {
    base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

async fn fake(handler: impl Fn(&Recorded) -> Option<(u16, &'static str, Vec<u8>)> + Send + Sync + 'static) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let handler: Arc<Handler> = Arc::new(handler);
    let recorded = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, Arc::clone(&handler), Arc::clone(&recorded)));
        }
    });
    Fake { base, requests }
}

async fn serve(mut stream: TcpStream, handler: Arc<Handler>, requests: Arc<Mutex<Vec<Recorded>>>) {
    let mut buffer = Vec::new();
    let mut piece = [0u8; 4096];
    let head_end = loop {
        let read = stream.read(&mut piece).await.unwrap_or(0);
        if read == 0 {
            return;
        }
        buffer.extend_from_slice(&piece[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines.next().unwrap_or_default().split(' ').nth(1).unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> =
        lines.filter_map(|line| line.split_once(": ").map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))).collect();
    let length: usize = headers.iter().find(|(k, _)| k == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
    while buffer.len() < head_end + length {
        let read = stream.read(&mut piece).await.unwrap_or(0);
        if read == 0 {
            return;
        }
        buffer.extend_from_slice(&piece[..read]);
    }
    let body = serde_json::from_slice(&buffer[head_end..head_end + length]).unwrap_or(Value::Null);
    let request = Recorded { path, headers, body };
    requests.lock().unwrap().push(request.clone());
    let Some((status, content_type, body)) = handler(&request) else {
        std::future::pending::<()>().await;
        return;
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(&body).await;
}

/// A deterministic fake embedding of 3 dimensions.
fn fake_vector(text: &str) -> Vec<f32> {
    vec![text.len() as f32, text.matches('a').count() as f32, 1.0]
}

/// Answers `/v1/embeddings` like OpenAI, items in reverse order (clients must sort by index).
fn embeddings(request: &Recorded) -> Option<(u16, &'static str, Vec<u8>)> {
    let inputs = request.body["input"].as_array().cloned().unwrap_or_default();
    let mut data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| json!({"object": "embedding", "index": index, "embedding": fake_vector(text.as_str().unwrap())}))
        .collect();
    data.reverse();
    Some((200, "application/json", json!({"object": "list", "data": data, "model": "fake"}).to_string().into_bytes()))
}

fn config(base: &str) -> HttpEmbedderConfig {
    let mut config = HttpEmbedderConfig::new(format!("{base}/v1"), "fake-embed");
    config.api_key = Some("test-key".into());
    config.dimensions = 3;
    config.batch_size = 2;
    config.timeout = Duration::from_secs(5);
    config
}

#[tokio::test]
async fn embedder_batches_authenticates_and_keeps_order() {
    let server = fake(embeddings).await;
    let embedder = HttpEmbedder::new(config(&server.base)).unwrap();
    let texts: Vec<String> = ["a", "bb", "cac", "dddd", "aaaaa"].map(String::from).to_vec();
    let vectors = embedder.embed(&texts).await.unwrap();
    assert_eq!(vectors, texts.iter().map(|t| fake_vector(t)).collect::<Vec<_>>());
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 3, "5 texts in batches of 2");
    for request in &requests {
        assert_eq!(request.path, "/v1/embeddings");
        assert!(request.headers.contains(&("authorization".into(), "Bearer test-key".into())));
        assert_eq!(request.body["model"], "fake-embed");
        assert_eq!(request.body["encoding_format"], "float");
        assert!(request.body.get("dimensions").is_none());
    }
    assert_eq!(requests[2].body["input"], json!(["aaaaa"]));
}

#[tokio::test]
async fn embedder_errors_keep_status_and_body() {
    let server = fake(|_| Some((429, "application/json", br#"{"error": {"message": "slow down"}}"#.to_vec()))).await;
    let err = HttpEmbedder::new(config(&server.base)).unwrap().embed(&["x".into()]).await.unwrap_err();
    assert!(matches!(&err, KnowledgeError::Embedder(m) if m.contains("HTTP 429") && m.contains("slow down")), "{err}");

    let server =
        fake(|_| Some((200, "application/json", br#"{"data": [{"index": 0, "embedding": [1.0]}]}"#.to_vec()))).await;
    let err = HttpEmbedder::new(config(&server.base)).unwrap().embed(&["x".into()]).await.unwrap_err();
    assert!(err.to_string().contains("expected 3-dimension embeddings, got 1"), "{err}");

    let server = fake(|_| Some((200, "application/json", b"not json".to_vec()))).await;
    let err = HttpEmbedder::new(config(&server.base)).unwrap().embed(&["x".into()]).await.unwrap_err();
    assert!(err.to_string().contains("malformed embeddings response"), "{err}");
}

#[tokio::test]
async fn embedder_timeouts_are_typed() {
    let server = fake(|_| None).await;
    let mut config = config(&server.base);
    config.timeout = Duration::from_millis(100);
    let err = HttpEmbedder::new(config).unwrap().embed(&["x".into()]).await.unwrap_err();
    assert!(matches!(err, KnowledgeError::Timeout(limit) if limit == Duration::from_millis(100)), "{err}");
}

#[tokio::test]
async fn knowledge_base_with_http_embedder_indexes_and_fails_cleanly() {
    let server = fake(embeddings).await;
    let store = SqliteKnowledge::open_in_memory().await.unwrap();
    let kb = KnowledgeBase::builder(store).embedder(HttpEmbedder::new(config(&server.base)).unwrap()).build();
    let item = kb.add_and_wait(ContentInput::text("a.txt", "banana bandana")).await.unwrap();
    assert_eq!(item.status, ContentStatus::Completed);
    let hits = kb.search(&SearchQuery::new("banana bandana").mode(SearchMode::Vector)).await.unwrap();
    assert_eq!(hits[0].content_id, item.id);

    let broken = fake(|_| Some((500, "text/plain", b"boom".to_vec()))).await;
    let store = SqliteKnowledge::open_in_memory().await.unwrap();
    let kb = KnowledgeBase::builder(store).embedder(HttpEmbedder::new(config(&broken.base)).unwrap()).build();
    let failed = kb.add_and_wait(ContentInput::text("b.txt", "text")).await.unwrap();
    assert_eq!(failed.status, ContentStatus::Failed);
    assert!(
        failed.status_message.contains("HTTP 500") && failed.status_message.contains("boom"),
        "{}",
        failed.status_message
    );
}

#[tokio::test]
async fn remote_content_is_fetched_read_by_type_and_deduplicated() {
    let server = fake(|request| match request.path.as_str() {
        "/docs/faq" => Some((200, "text/markdown; charset=utf-8", b"# FAQ\n\nParking is free on Sundays.".to_vec())),
        "/docs/page.html" => Some((200, "text/html", b"<p>Museums open at ten.</p>".to_vec())),
        _ => Some((404, "text/plain", b"missing".to_vec())),
    })
    .await;
    let kb = KnowledgeBase::builder(SqliteKnowledge::open_in_memory().await.unwrap()).build();
    let url = format!("{}/docs/faq", server.base);
    let item = kb.add(ContentInput::url(&url).description("FAQ page").meta("source", "web")).await.unwrap();
    assert_eq!((item.status, item.name.as_str()), (ContentStatus::Processing, url.as_str()));
    let item = kb.wait(&item.id).await.unwrap();
    assert_eq!(item.status, ContentStatus::Completed, "{}", item.status_message);
    assert_eq!((item.reader.as_str(), item.size), ("markdown", 34));
    assert_eq!(item.content_type, "text/markdown; charset=utf-8");
    let hits = kb.search(&SearchQuery::new("parking").mode(SearchMode::Lexical)).await.unwrap();
    assert_eq!((hits[0].source.as_str(), hits[0].metadata["section"].as_str()), (url.as_str(), Some("FAQ")));
    assert_eq!(kb.add(ContentInput::url(&url)).await.unwrap().id, item.id, "same URL, same item");

    let html = kb.add_and_wait(ContentInput::url(format!("{}/docs/page.html", server.base))).await.unwrap();
    assert_eq!((html.status, html.reader.as_str()), (ContentStatus::Completed, "html"));
    let missing = kb.add_and_wait(ContentInput::url(format!("{}/nope.md", server.base))).await.unwrap();
    assert_eq!(missing.status, ContentStatus::Failed);
    assert!(missing.status_message.contains("HTTP 404"), "{}", missing.status_message);
    let bad = kb.add_and_wait(ContentInput::url("ftp://example.invalid/file.txt")).await.unwrap();
    assert!(bad.status_message.contains("not an http(s) URL"), "{}", bad.status_message);
}

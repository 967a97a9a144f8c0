//! A fake Messages API on loopback, scripted with fixture replies, recording every request it receives.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_claude::{Claude, ClaudeBuilder};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

/// The path of a fixture file.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("fixture {path}: {err}"))
}

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: ReplyBody,
}

#[derive(Clone, Debug)]
enum ReplyBody {
    Whole(String),
    /// Chunks of a stream; `cut` aborts the connection after them.
    Stream {
        chunks: Vec<Vec<u8>>,
        cut: bool,
    },
}

impl Reply {
    /// A JSON body with a status.
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self { status, headers: vec![("request-id".into(), "req_fake".into())], body: ReplyBody::Whole(body.into()) }
    }

    /// A fixture JSON body with a status.
    pub fn fixture(status: u16, name: &str) -> Self {
        Self::json(status, fixture(name))
    }

    /// A 200 stream of `text`, sent in pieces of `chunk` bytes.
    pub fn sse(text: &str, chunk: usize) -> Self {
        let chunks = text.as_bytes().chunks(chunk.max(1)).map(<[u8]>::to_vec).collect();
        Self {
            status: 200,
            headers: vec![
                ("request-id".into(), "req_stream".into()),
                ("content-type".into(), "text/event-stream".into()),
            ],
            body: ReplyBody::Stream { chunks, cut: false },
        }
    }

    /// A 200 stream from a fixture, in 7-byte pieces.
    pub fn sse_fixture(name: &str) -> Self {
        Self::sse(&fixture(name), 7)
    }

    /// The connection drops after the body.
    pub fn cut(mut self) -> Self {
        if let ReplyBody::Stream { cut, .. } = &mut self.body {
            *cut = true;
        }
        self
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A request the fake received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Recorded {
    /// A header's value, or "".
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or("")
    }
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
}

/// The fake server and the delays the client slept between retries.
pub struct FakeApi {
    pub url: String,
    shared: Arc<Shared>,
    pub sleeps: Arc<Mutex<Vec<Duration>>>,
}

impl FakeApi {
    /// Starts a server answering with `replies` in order.
    pub async fn start(replies: Vec<Reply>) -> Self {
        let shared = Arc::new(Shared { script: Mutex::new(replies.into()), requests: Mutex::default() });
        let router = axum::Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, shared, sleeps: Arc::default() }
    }

    /// A builder pointed at the fake, with a test key, no environment, and a
    /// retry sleeper that records its delays instead of waiting.
    pub fn builder(&self) -> ClaudeBuilder {
        let sleeps = self.sleeps.clone();
        Claude::builder().api_key("sk-test").base_url(&self.url).env_lookup(|_| None).retry_sleep(Arc::new(
            move |delay| {
                sleeps.lock().unwrap().push(delay);
                Box::pin(async {})
            },
        ))
    }

    /// A client on `model`.
    pub fn client(&self, model: &str) -> Claude {
        self.builder().model(model).build().unwrap()
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The one request received; panics on any other count.
    pub fn only_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "expected exactly one request, got {requests:#?}");
        requests.into_iter().next().unwrap()
    }

    /// The delays slept between retries.
    pub fn slept(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap_or(Value::Null) };
    let path = uri.path_and_query().map(|pq| pq.as_str().to_owned()).unwrap_or_default();
    shared.requests.lock().unwrap().push(Recorded { method, path, headers, body });
    let reply = shared.script.lock().unwrap().pop_front().unwrap_or_else(|| {
        Reply::json(
            400,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"fake: no scripted reply"}}"#,
        )
    });
    let mut response = Response::builder().status(StatusCode::from_u16(reply.status).unwrap());
    for (name, value) in &reply.headers {
        response = response.header(name, value);
    }
    let body = match reply.body {
        ReplyBody::Whole(text) => Body::from(text),
        ReplyBody::Stream { chunks, cut } => {
            let mut items: Vec<Result<Bytes, std::io::Error>> =
                chunks.into_iter().map(|c| Ok(Bytes::from(c))).collect();
            if cut {
                items.push(Err(std::io::Error::other("connection cut")));
            }
            Body::from_stream(futures::stream::iter(items))
        }
    };
    response.body(body).unwrap()
}

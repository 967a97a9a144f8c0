//! The fake's HTTP server: records each request, checks it by the API's rules, and answers with the next scripted reply (or the responder's).

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use futures::StreamExt;
use serde_json::{Value, json};

use super::reply::{ReplyBody, StreamEnd};
use super::{Recorded, Reply, Shared, lock, rules};

/// The largest request body the fake reads (the API's own limit is larger; tests send less).
const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// Serves until the task is aborted.
pub(super) async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let router =
        axum::Router::new().fallback(handle).layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES)).with_state(shared);
    if let Err(err) = axum::serve(listener, router).await {
        tracing::warn!(error = %err, "the fake Messages API stopped");
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map(|pq| pq.as_str().to_owned()).unwrap_or_default();
    let json = if body.is_empty() { Ok(Value::Null) } else { serde_json::from_slice(&body) };
    let (body, verdict) = match json {
        Err(err) => (Value::Null, Err(rules::Rejection::invalid(format!("the request body is not valid JSON: {err}")))),
        Ok(body) => {
            let paused = lock(&shared.paused).clone();
            let context = rules::Context { options: &shared.options, paused: &paused };
            let verdict = rules::check(&context, &method, uri.path(), &headers, &body);
            (body, verdict)
        }
    };
    let rejection = verdict.as_ref().err().map(|rejection| rejection.message.clone());
    lock(&shared.requests).push(Recorded { method, path, headers, body: body.clone(), rejection });
    if let Err(rejection) = verdict {
        return error_response(rejection.status, rejection.error_type, &rejection.message);
    }
    let scripted = lock(&shared.script).pop_front();
    let reply = match (scripted, &shared.options.responder) {
        (Some(reply), _) => reply,
        (None, Some(responder)) => responder(&body),
        (None, None) => return error_response(400, "invalid_request_error", "fake: no scripted reply left"),
    };
    if let Some(content) = reply.paused_content() {
        lock(&shared.paused).push(content);
    }
    respond(reply).await
}

fn error_response(status: u16, error_type: &str, message: &str) -> Response {
    let body =
        json!({"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_fake_rejected"});
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    headers.insert("content-type", axum::http::HeaderValue::from_static("application/json"));
    headers.insert("request-id", axum::http::HeaderValue::from_static("req_fake_rejected"));
    response
}

async fn respond(reply: Reply) -> Response {
    let Reply { status, headers, body } = reply;
    let body = match body {
        ReplyBody::Hang => std::future::pending().await,
        ReplyBody::Whole(text) => Body::from(text),
        ReplyBody::Stream { chunks, end } => stream_body(chunks, end),
        ReplyBody::Pings { every } => pings(every),
        ReplyBody::Oversized { bytes, stream } => oversized(bytes, stream),
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) =
            (axum::http::HeaderName::from_bytes(name.as_bytes()), axum::http::HeaderValue::from_str(&value))
        {
            response.headers_mut().append(name, value);
        }
    }
    response
}

fn stream_body(chunks: Vec<Vec<u8>>, end: StreamEnd) -> Body {
    let items = futures::stream::iter(chunks.into_iter().map(|chunk| Ok::<_, std::io::Error>(Bytes::from(chunk))));
    match end {
        StreamEnd::Finish => Body::from_stream(items),
        StreamEnd::Cut => Body::from_stream(
            items.chain(futures::stream::once(async { Err(std::io::Error::other("connection cut")) })),
        ),
        StreamEnd::Stall => Body::from_stream(items.chain(futures::stream::pending())),
    }
}

fn pings(every: Duration) -> Body {
    let start = json!({"type": "message_start", "message": {"id": "msg_pings", "type": "message", "role": "assistant",
        "model": "claude-opus-4-8", "content": [], "stop_reason": null, "usage": {"input_tokens": 1, "output_tokens": 1}}});
    let first = futures::stream::once(async move {
        Ok::<_, std::io::Error>(Bytes::from(format!("event: message_start\ndata: {start}\n\n")))
    });
    let pings = futures::stream::unfold((), move |()| async move {
        tokio::time::sleep(every).await;
        Some((Ok(Bytes::from_static(b"event: ping\ndata: {\"type\": \"ping\"}\n\n")), ()))
    });
    Body::from_stream(first.chain(pings))
}

/// `bytes` bytes without a length: a message body whose text never ends, or
/// a stream of small valid text deltas that goes on past any sane size.
fn oversized(bytes: usize, stream: bool) -> Body {
    const CHUNK: usize = 64 * 1024;
    let (head, unit): (Vec<u8>, Vec<u8>) = if stream {
        let start = json!({"type": "message_start", "message": {"id": "msg_big", "type": "message", "role": "assistant",
            "model": "claude-opus-4-8", "content": [], "stop_reason": null, "usage": {"input_tokens": 1, "output_tokens": 1}}});
        let head = format!(
            "event: message_start\ndata: {start}\n\nevent: content_block_start\ndata: \
             {{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{{\"type\":\"text\",\"text\":\"\"}}}}\n\n"
        );
        let delta = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\
                     \"delta\":{\"type\":\"text_delta\",\"text\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}\n\n";
        (head.into_bytes(), delta.as_bytes().to_vec())
    } else {
        (b"{\"id\":\"msg_big\",\"content\":[{\"type\":\"text\",\"text\":\"".to_vec(), b"x".to_vec())
    };
    let filler: Vec<u8> = unit.iter().copied().cycle().take((CHUNK / unit.len()).max(1) * unit.len()).collect();
    let chunks = bytes.div_ceil(filler.len()).max(1);
    let body = futures::stream::iter(0..chunks).map(move |index| {
        let chunk = if index == 0 { head.clone() } else { filler.clone() };
        Ok::<_, std::io::Error>(Bytes::from(chunk))
    });
    Body::from_stream(body)
}

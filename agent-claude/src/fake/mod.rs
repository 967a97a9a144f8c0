//! A fake Messages API on loopback, as strict as the API reference, for testing agents through the real client without a key.
//!
//! [`FakeApi`] answers with scripted [`Reply`]s in order (then, when the
//! script is empty, with its [responder](FakeOptions::with_responder) if it
//! has one), records every request it receives, and first checks each
//! request the way the API does:
//! a request the API would reject gets the API's `400 invalid_request_error`
//! (or `401 authentication_error`) body instead of the next reply, so a test
//! fails where production would. The checks cover headers and
//! credentials, the conversation (roles, prefill, `pause_turn` resumes, tool
//! call pairing, blank text, mid-conversation system messages), cache
//! breakpoints, structured-output and strict-tool schemas, model parameters
//! by the catalog, pre-warming, task budgets, and the beta headers features need.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use agent_claude::fake::{FakeApi, Reply};
//! use agent_core::{Message, Model, ModelRequest};
//!
//! let fake = FakeApi::start([Reply::text("Paris.")]).await;
//! let claude = fake.client("claude-opus-4-8");
//! let request = ModelRequest { messages: vec![Message::user("Capital of France?")], ..Default::default() };
//! let response = claude.request(&request).await?;
//! assert_eq!(response.content, vec![agent_core::ContentBlock::text("Paris.")]);
//! assert_eq!(fake.only_request().body["messages"][0]["content"][0]["text"], "Capital of France?");
//!
//! // A request the API would reject gets its 400; the scripted reply stays unused.
//! let fake = FakeApi::start([Reply::text("unused")]).await;
//! let result = agent_core::ContentBlock::tool_result("toolu_none", agent_core::ToolResultContent::Text("21°C".into()), false);
//! let orphan = ModelRequest { messages: vec![Message::new(agent_core::Role::User, vec![result])], ..Default::default() };
//! let err = fake.client("claude-opus-4-8").request(&orphan).await.unwrap_err();
//! assert_eq!(err.status, Some(400));
//! assert!(err.message.contains("unexpected `tool_use_id`"), "{}", err.message);
//! assert_eq!(fake.remaining(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

mod message_stream;
mod params;
mod reply;
mod rules;
mod server;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::{HeaderMap, Method};
use serde_json::Value;

use crate::{Claude, ClaudeBuilder};

pub use reply::Reply;

/// Answers a request the script has no reply left for: called with the
/// request's JSON body, after the fake's checks accepted it.
pub type Responder = Arc<dyn Fn(&Value) -> Reply + Send + Sync>;

/// Settings of a [`FakeApi`] beyond its script.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct FakeOptions {
    /// Models that answer `role: "system"` messages with the API's 400, in
    /// addition to the catalog's models without support.
    pub models_without_system_messages: Vec<String>,
    /// Answers requests once the script is empty; without one, such a request
    /// gets a 400 saying no scripted reply is left.
    pub responder: Option<Responder>,
}

impl FakeOptions {
    /// Options where `models` reject mid-conversation system messages.
    pub fn without_system_messages(models: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { models_without_system_messages: models.into_iter().map(Into::into).collect(), responder: None }
    }

    /// Answers every request the script does not with `responder`, which
    /// gets the request body (the strict checks still run first: a request
    /// the API would refuse gets the API's error, not the responder's
    /// answer). [`Reply::from_message`] serves a message whole or streamed,
    /// as the request's `"stream"` asks.
    ///
    /// # Example
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use agent_claude::fake::{FakeApi, FakeOptions, Reply};
    /// use agent_core::{Message, Model, ModelRequest};
    /// use serde_json::json;
    ///
    /// let echo = FakeOptions::default().with_responder(|body| {
    ///     let asked = body["messages"][0]["content"][0]["text"].as_str().unwrap_or("?");
    ///     let message = json!({"id": "msg_echo", "type": "message", "role": "assistant", "model": body["model"],
    ///         "content": [{"type": "text", "text": format!("You said: {asked}")}],
    ///         "stop_reason": "end_turn", "stop_sequence": null, "usage": {"input_tokens": 5, "output_tokens": 3}});
    ///     Reply::from_message(message, body["stream"] == json!(true))
    /// });
    /// let fake = FakeApi::start_with(echo, []).await;
    /// let request = ModelRequest { messages: vec![Message::user("hello")], ..Default::default() };
    /// let response = fake.client("claude-opus-4-8").request(&request).await?;
    /// assert_eq!(response.content, vec![agent_core::ContentBlock::text("You said: hello")]);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    #[must_use]
    pub fn with_responder(mut self, responder: impl Fn(&Value) -> Reply + Send + Sync + 'static) -> Self {
        self.responder = Some(Arc::new(responder));
        self
    }
}

impl std::fmt::Debug for FakeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeOptions")
            .field("models_without_system_messages", &self.models_without_system_messages)
            .field("responder", &self.responder.as_ref().map(|_| "Fn(&Value) -> Reply"))
            .finish()
    }
}

/// A request the fake received.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Recorded {
    /// The HTTP method.
    pub method: Method,
    /// The path and query, such as `/v1/messages`.
    pub path: String,
    /// The request headers.
    pub headers: HeaderMap,
    /// The JSON body (`null` when there was none or it was not JSON).
    pub body: Value,
    /// The fake's own rejection of the request (the 400's message), when it rejected it.
    pub rejection: Option<String>,
}

impl Recorded {
    /// A header's value, or `""`.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or("")
    }
}

/// What the server task and the handle share.
#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) options: FakeOptions,
    pub(crate) script: Mutex<VecDeque<Reply>>,
    pub(crate) requests: Mutex<Vec<Recorded>>,
    /// The content of `pause_turn` messages served, accepted back as resumes.
    pub(crate) paused: Mutex<Vec<Vec<Value>>>,
}

/// Locks a mutex, recovering the data if a panicking test poisoned it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The fake server; it stops when dropped.
pub struct FakeApi {
    url: String,
    shared: Arc<Shared>,
    sleeps: Arc<Mutex<Vec<Duration>>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApi").field("url", &self.url).finish_non_exhaustive()
    }
}

impl FakeApi {
    /// Starts a server on a free loopback port answering with `replies` in order.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound (a test environment problem).
    pub async fn start(replies: impl IntoIterator<Item = Reply>) -> Self {
        Self::start_with(FakeOptions::default(), replies).await
    }

    /// Starts a server with `options`.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound (a test environment problem).
    pub async fn start_with(options: FakeOptions, replies: impl IntoIterator<Item = Reply>) -> Self {
        match Self::start_on("127.0.0.1:0", options, replies).await {
            Ok(fake) => fake,
            Err(err) => panic!("the fake Messages API cannot bind a loopback port: {err}"),
        }
    }

    /// Starts a server on `address` (such as `127.0.0.1:8090`, or port 0 for
    /// a free one), for a standalone fake that other processes call.
    ///
    /// # Errors
    ///
    /// When `address` cannot be bound (it is in use, say) or has no local address.
    pub async fn start_on(
        address: impl tokio::net::ToSocketAddrs,
        options: FakeOptions,
        replies: impl IntoIterator<Item = Reply>,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            options,
            script: Mutex::new(replies.into_iter().collect()),
            requests: Mutex::default(),
            paused: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind(address).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(server::serve(listener, shared.clone()));
        Ok(Self { url, shared, sleeps: Arc::default(), task })
    }

    /// The base URL, such as `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A client builder pointed at the fake, with a test key, no
    /// environment, and a retry sleeper that records its delays instead of
    /// waiting (see [`slept`](Self::slept)).
    pub fn builder(&self) -> ClaudeBuilder {
        let sleeps = self.sleeps.clone();
        Claude::builder().api_key("sk-ant-fake").base_url(&self.url).env_lookup(|_| None).retry_sleep(Arc::new(
            move |delay| {
                lock(&sleeps).push(delay);
                Box::pin(async {})
            },
        ))
    }

    /// A client on `model`.
    ///
    /// # Panics
    ///
    /// Never for a valid model id: the builder's settings are fixed.
    pub fn client(&self, model: &str) -> Claude {
        match self.builder().model(model).build() {
            Ok(claude) => claude,
            Err(err) => panic!("the fake's client does not build: {err}"),
        }
    }

    /// Adds a reply to the end of the script.
    pub fn push(&self, reply: Reply) {
        lock(&self.shared.script).push_back(reply);
    }

    /// How many scripted replies are still unused.
    pub fn remaining(&self) -> usize {
        lock(&self.shared.script).len()
    }

    /// Every request received so far, in order (rejected ones included).
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    /// The one request received.
    ///
    /// # Panics
    ///
    /// When the fake received no request or more than one.
    pub fn only_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "expected exactly one request, got {requests:#?}");
        requests.into_iter().next().unwrap_or_else(|| unreachable!("one request checked above"))
    }

    /// The delays the client slept between retries (with [`builder`](Self::builder)'s sleeper).
    pub fn slept(&self) -> Vec<Duration> {
        lock(&self.sleeps).clone()
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

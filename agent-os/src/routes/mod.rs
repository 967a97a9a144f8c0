//! The route table: every route once, with the summary the OpenAPI document shows, and the router built from it with its layers.

mod a2a;
mod discovery;
mod evals;
mod knowledge;
mod memories;
mod metrics;
mod page;
mod runs;
mod session_wire;
mod sessions;
mod trace_wire;
mod traces;

use std::sync::Arc;

use agent_core::SessionType;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::trace::TraceLayer;

pub(crate) use metrics::RefreshState;

use crate::error::ApiError;
use crate::os::Shared;

/// What a route's body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// No body.
    None,
    /// A run form: URL-encoded or multipart.
    RunForm,
    /// A continue form: URL-encoded or multipart.
    ContinueForm,
    /// A JSON object.
    Json,
    /// A form (URL-encoded or multipart) of these fields: name, type, description.
    Form { fields: &'static [(&'static str, &'static str, &'static str)], required: &'static [&'static str] },
}

/// One route: its method, path, documentation and handler.
pub(crate) struct Route {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) tag: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) body: Body,
    /// Answers `text/event-stream` when the form asks to stream.
    pub(crate) streams: bool,
    pub(crate) handler: MethodRouter<Arc<Shared>>,
}

fn route(
    method: Method,
    path: impl Into<String>,
    tag: &'static str,
    summary: &'static str,
    handler: MethodRouter<Arc<Shared>>,
) -> Route {
    Route { method, path: path.into(), tag, summary, body: Body::None, streams: false, handler }
}

/// Every route of the API.
pub(crate) fn table() -> Vec<Route> {
    let mut routes = vec![
        route(Method::GET, "/", "Core", "The OS's name and where its documents are", get(discovery::root)),
        route(Method::GET, "/health", "Core", "Liveness; public even with a security key", get(discovery::health)),
        route(
            Method::GET,
            "/config",
            "Core",
            "The OS's configuration: components, databases, models",
            get(discovery::config),
        ),
        route(Method::GET, "/models", "Core", "The models the served components use", get(discovery::models)),
        route(Method::GET, "/openapi.json", "Core", "This document", get(discovery::openapi)),
    ];
    for (kind, plural, tag) in [
        (SessionType::Agent, "agents", "Agents"),
        (SessionType::Team, "teams", "Teams"),
        (SessionType::Workflow, "workflows", "Workflows"),
    ] {
        let one = format!("/{plural}/{{id}}");
        let run = format!("{one}/runs/{{run_id}}");
        routes.push(route(
            Method::GET,
            format!("/{plural}"),
            tag,
            list_summary(kind),
            get(move |state| discovery::list(state, kind)),
        ));
        routes.push(route(
            Method::GET,
            one.clone(),
            tag,
            one_summary(kind),
            get(move |state, path| discovery::one(state, path, kind)),
        ));
        let mut start = route(
            Method::POST,
            format!("{one}/runs"),
            tag,
            "Start a run (stream=true: SSE)",
            post(move |state, path, form| runs::start(state, path, form, kind)),
        );
        start.body = Body::RunForm;
        start.streams = true;
        routes.push(start);
        routes.push(route(
            Method::GET,
            run.clone(),
            tag,
            "A stored run: its status and output",
            get(move |state, path| runs::status(state, path, kind)),
        ));
        let mut resume = route(
            Method::POST,
            format!("{run}/continue"),
            tag,
            "Continue a paused run with decisions on its pending tool calls",
            post(move |state, path, form| runs::continue_run(state, path, form, kind)),
        );
        resume.body = Body::ContinueForm;
        resume.streams = true;
        routes.push(resume);
        routes.push(route(
            Method::POST,
            format!("{run}/cancel"),
            tag,
            "Cancel a run in flight, on this process or another sharing the database",
            post(move |state, path| runs::cancel(state, path, kind)),
        ));
    }
    routes.extend(session_routes());
    routes.extend(memory_routes());
    routes.extend(eval_routes());
    routes.extend(metrics_routes());
    routes.extend(a2a_routes());
    routes.extend(knowledge::routes());
    routes.extend(trace_routes());
    routes
}

fn with_json(mut route: Route) -> Route {
    route.body = Body::Json;
    route
}

fn session_routes() -> Vec<Route> {
    vec![
        with_json(route(
            Method::POST,
            "/sessions",
            "Sessions",
            "Create a session (?type=agent|team|workflow)",
            post(sessions::create),
        )),
        route(Method::GET, "/sessions", "Sessions", "Sessions, filtered, sorted and paged", get(sessions::list)),
        with_json(route(
            Method::DELETE,
            "/sessions",
            "Sessions",
            "Delete several sessions",
            delete(sessions::delete_many),
        )),
        route(
            Method::GET,
            "/sessions/{session_id}",
            "Sessions",
            "One session with its chat history",
            get(sessions::one),
        ),
        with_json(route(
            Method::PATCH,
            "/sessions/{session_id}",
            "Sessions",
            "Update a session's name, state, metadata or summary",
            patch(sessions::update),
        )),
        route(
            Method::DELETE,
            "/sessions/{session_id}",
            "Sessions",
            "Delete a session and its runs",
            delete(sessions::delete),
        ),
        with_json(route(
            Method::POST,
            "/sessions/{session_id}/rename",
            "Sessions",
            "Rename a session",
            post(sessions::rename),
        )),
        route(Method::GET, "/sessions/{session_id}/runs", "Sessions", "A session's runs", get(sessions::runs)),
        route(
            Method::GET,
            "/sessions/{session_id}/run-previews",
            "Sessions",
            "Previews of a session's runs",
            get(sessions::previews),
        ),
        route(
            Method::GET,
            "/sessions/{session_id}/runs/{run_id}",
            "Sessions",
            "One run of a session",
            get(sessions::run),
        ),
    ]
}

fn a2a_routes() -> Vec<Route> {
    let mut routes = Vec::new();
    for (kind, plural) in
        [(SessionType::Agent, "agents"), (SessionType::Team, "teams"), (SessionType::Workflow, "workflows")]
    {
        let base = format!("/a2a/{plural}/{{id}}");
        routes.push(route(
            Method::GET,
            format!("{base}/.well-known/agent-card.json"),
            "A2A",
            "The A2A agent card",
            get(move |state, path, headers| a2a::card(state, path, headers, kind)),
        ));
        for (path, summary) in [
            ("message:send", "A2A JSON-RPC: message/send (also message/stream, tasks/get, tasks/cancel)"),
            ("message:stream", "A2A JSON-RPC: message/stream as SSE (also the other methods)"),
        ] {
            let mut rpc = route(
                Method::POST,
                format!("{base}/v1/{path}"),
                "A2A",
                summary,
                post(move |state, path, body| a2a::rpc(state, path, body, kind)),
            );
            rpc.body = Body::Json;
            rpc.streams = true;
            routes.push(rpc);
        }
    }
    for path in ["/a2a/message/send", "/a2a/message/stream"] {
        let mut rpc = route(
            Method::POST,
            path,
            "A2A",
            "A2A JSON-RPC for the agent named in message.metadata.agentId",
            post(a2a::rpc_any),
        );
        rpc.body = Body::Json;
        rpc.streams = true;
        routes.push(rpc);
    }
    routes
}

fn metrics_routes() -> Vec<Route> {
    vec![
        route(
            Method::GET,
            "/metrics",
            "Metrics",
            "Daily usage aggregates (starting_date, ending_date)",
            get(metrics::metrics),
        ),
        route(
            Method::POST,
            "/metrics/refresh",
            "Metrics",
            "Recompute the aggregates (background=true: 202 at once)",
            post(metrics::refresh),
        ),
        route(
            Method::GET,
            "/metrics/refresh/status",
            "Metrics",
            "The last refresh's status",
            get(metrics::refresh_status),
        ),
        with_json(route(
            Method::POST,
            "/databases/{db_id}/migrate",
            "Database",
            "Migrate a database to the newest schema ('all': every one)",
            post(metrics::migrate),
        )),
    ]
}

fn trace_routes() -> Vec<Route> {
    vec![
        route(
            Method::GET,
            "/traces",
            "Traces",
            "Traces, newest first (run, session, user, agent, team, workflow, status, time range; paging)",
            get(traces::list),
        ),
        route(
            Method::GET,
            "/traces/filter-schema",
            "Traces",
            "The fields and operators a trace search filters on",
            get(traces::filter_schema),
        ),
        route(
            Method::GET,
            "/traces/{trace_id}",
            "Traces",
            "One trace with its span tree (span_id: that span only)",
            get(traces::one),
        ),
        route(
            Method::GET,
            "/trace_session_stats",
            "Traces",
            "Trace counts and times per session",
            get(traces::session_stats),
        ),
        with_json(route(
            Method::POST,
            "/traces/search",
            "Traces",
            "Traces matching a filter expression (group_by run: whole traces; session: per-session stats)",
            post(traces::search),
        )),
    ]
}

fn memory_routes() -> Vec<Route> {
    vec![
        with_json(route(Method::POST, "/memories", "Memory", "Create a user memory", post(memories::create))),
        route(Method::GET, "/memories", "Memory", "User memories, filtered, sorted and paged", get(memories::list)),
        with_json(route(
            Method::DELETE,
            "/memories",
            "Memory",
            "Delete several memories",
            delete(memories::delete_many),
        )),
        route(Method::GET, "/memories/{memory_id}", "Memory", "One memory", get(memories::one)),
        with_json(route(Method::PATCH, "/memories/{memory_id}", "Memory", "Update a memory", patch(memories::update))),
        route(Method::DELETE, "/memories/{memory_id}", "Memory", "Delete a memory", delete(memories::delete)),
        route(Method::GET, "/memory_topics", "Memory", "The topics in use", get(memories::topics)),
        route(Method::GET, "/user_memory_stats", "Memory", "Memory counts per user", get(memories::stats)),
        with_json(route(
            Method::POST,
            "/optimize-memories",
            "Memory",
            "Merge a user's memories with a model (apply=false: a dry run)",
            post(memories::optimize),
        )),
    ]
}

fn eval_routes() -> Vec<Route> {
    vec![
        with_json(route(
            Method::POST,
            "/eval-runs",
            "Evals",
            "Run an eval (reliability, accuracy, agent_as_judge, performance) on a served agent, team or workflow, and store it",
            post(evals::run),
        )),
        route(Method::GET, "/eval-runs", "Evals", "Eval runs, filtered, sorted and paged", get(evals::list)),
        with_json(route(Method::DELETE, "/eval-runs", "Evals", "Delete several eval runs", delete(evals::delete_many))),
        route(Method::GET, "/eval-runs/{eval_run_id}", "Evals", "One eval run", get(evals::one)),
        with_json(route(
            Method::PATCH,
            "/eval-runs/{eval_run_id}",
            "Evals",
            "Rename an eval run",
            patch(evals::update),
        )),
    ]
}

fn list_summary(kind: SessionType) -> &'static str {
    match kind {
        SessionType::Agent => "The served agents",
        SessionType::Team => "The served teams",
        SessionType::Workflow => "The served workflows",
    }
}

fn one_summary(kind: SessionType) -> &'static str {
    match kind {
        SessionType::Agent => "One agent: model, tools, settings",
        SessionType::Team => "One team: model, tools, members",
        SessionType::Workflow => "One workflow: its steps",
    }
}

/// The router with every route and its layers: security key, body limit,
/// CORS, request tracing, caught panics, JSON 404 and 405.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut router = Router::new();
    for route in table() {
        router = router.route(&route.path, route.handler);
    }
    let mut router = router
        .fallback(|| async { ApiError::not_found("Not Found") })
        .method_not_allowed_fallback(|| async { ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed") })
        .layer(axum::middleware::from_fn_with_state(shared.clone(), crate::auth::require_key))
        .layer(DefaultBodyLimit::max(shared.body_limit));
    if let Some(origins) = &shared.cors_origins {
        router = router.layer(cors(origins));
    }
    router.layer(TraceLayer::new_for_http()).layer(CatchPanicLayer::custom(panic_response)).with_state(shared)
}

fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new().allow_methods(Any).allow_headers(Any);
    if origins.iter().any(|origin| origin == "*") {
        return layer.allow_origin(Any);
    }
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()).collect();
    layer.allow_origin(AllowOrigin::list(origins))
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a handler panicked");
    ApiError::internal(&format!("handler panicked: {message}")).into_response()
}

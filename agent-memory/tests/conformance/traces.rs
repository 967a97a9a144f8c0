//! The trace store checks: round trips, replacement, order and paging, filter expressions (every backend agreeing with the reference evaluation in `agent-core`), whole-trace search and session stats.

use std::sync::Arc;

use agent_core::StoreError;
use agent_core::trace::{
    SessionTraceStats, SpanKind, SpanRecord, SpanStatus, Trace, TraceField, TraceFilter, TraceQuery, TraceStore,
};
use serde_json::{Value, json};

/// A trace store of one backend, fresh for one test.
pub struct TraceStores {
    pub store: Arc<dyn TraceStore>,
    /// Keeps the backend's resources (a temporary directory, a schema) alive.
    pub guard: Option<Box<dyn std::any::Any + Send + Sync>>,
}

/// One `#[tokio::test]` per trace check, on fresh stores from `$make` (an
/// async fn returning `Option<TraceStores>`; `None` skips the test).
#[macro_export]
macro_rules! trace_backend_tests {
    ($make:path) => {
        $crate::trace_tests!($make;
            trace_roundtrip,
            trace_reinsert_replaces,
            trace_list_is_newest_first_and_paged,
            trace_filters_agree_with_the_reference,
            trace_search_returns_whole_traces,
            trace_session_stats_group_by_session,
            trace_misfit_filters_are_refused,
            trace_text_is_kept,
        );
    };
}

/// One `#[tokio::test]` per named trace check.
#[macro_export]
macro_rules! trace_tests {
    ($make:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some(stores) = $make().await else { return };
                conformance::traces::$check(&stores).await;
            }
        )*
    };
}

const SECOND: i64 = 1_000_000;

fn attributes(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().cloned().unwrap()
}

/// The spans of a run: the root with `root_attributes`, a model call, a tool call.
fn spans(trace_id: &str, kind: SpanKind, name: &str, status: SpanStatus, start: i64, root: Value) -> Vec<SpanRecord> {
    let span = |id: &str, parent: Option<&str>, kind: SpanKind, offset: i64, attributes: Value| SpanRecord {
        trace_id: trace_id.into(),
        span_id: format!("{trace_id}-{id}"),
        parent_span_id: parent.map(|parent| format!("{trace_id}-{parent}")),
        name: if parent.is_none() { name.to_owned() } else { id.to_owned() },
        kind,
        status: if parent.is_none() { status } else { SpanStatus::Ok },
        status_message: (parent.is_none() && status == SpanStatus::Error).then(|| "it broke".to_owned()),
        start_time: start + offset,
        end_time: start + offset + 1500 * 1000,
        input: Some(format!("input of {id}")),
        output: Some(format!("output of {id}")),
        attributes: self::attributes(attributes),
    };
    vec![
        span("root", None, kind, 0, root),
        span("llm", Some("root"), SpanKind::Llm, 10, json!({"model": "m1", "input_tokens": 12, "output_tokens": 3})),
        span("tool", Some("root"), SpanKind::Tool, 20, json!({"tool_name": "get_weather", "is_error": false})),
    ]
}

fn trace(trace_id: &str, kind: SpanKind, name: &str, status: SpanStatus, start_seconds: i64, root: Value) -> Trace {
    Trace::from_spans(spans(trace_id, kind, name, status, start_seconds * SECOND, root)).unwrap()
}

/// Traces with every field set or missing, names in and out of ASCII, equal start times.
fn dataset() -> Vec<Trace> {
    let agent = |id: &str, session: Option<&str>, user: Option<&str>| json!({"run_id": format!("run-{id}"), "agent_id": id, "session_id": session, "user_id": user});
    let mut traces = vec![
        trace(
            "t1",
            SpanKind::Agent,
            "Weather Agent.run",
            SpanStatus::Ok,
            1000,
            agent("weather", Some("s1"), Some("ana")),
        ),
        trace(
            "t2",
            SpanKind::Agent,
            "WEATHERMAN.run",
            SpanStatus::Error,
            2000,
            agent("WEATHERMAN", Some("s1"), Some("ana")),
        ),
        trace(
            "t3",
            SpanKind::Team,
            "crew.run",
            SpanStatus::Ok,
            3000,
            json!({"team_id": "crew", "session_id": "s2", "user_id": "bob", "run_id": "run-t3"}),
        ),
        trace(
            "t4",
            SpanKind::Workflow,
            "flow.run",
            SpanStatus::Ok,
            4000,
            json!({"workflow_id": "flow", "run_id": "run-t4"}),
        ),
        trace("t5", SpanKind::Agent, "Échec.run", SpanStatus::Ok, 5000, agent("échec", Some("s3"), Some("carl"))),
        trace(
            "t6",
            SpanKind::Agent,
            "weather.run",
            SpanStatus::Unset,
            6000,
            agent("weather", Some("s3"), Some("carl")),
        ),
        trace("t7", SpanKind::Agent, "weather.run", SpanStatus::Ok, 6000, agent("weather", Some("s4"), None)),
    ];
    // A quick run: 10 ms.
    let quick = &mut traces[2].summary;
    quick.end_time = quick.start_time + 10_000;
    quick.duration_ms = 10;
    traces
}

/// The ids of the reference answer: matching traces, newest first.
fn reference(traces: &[Trace], filter: &TraceFilter) -> Vec<String> {
    let mut found: Vec<_> =
        traces.iter().map(|trace| &trace.summary).filter(|summary| filter.matches(summary)).collect();
    found.sort_by(|a, b| (b.start_time, &b.trace_id).cmp(&(a.start_time, &a.trace_id)));
    found.into_iter().map(|summary| summary.trace_id.clone()).collect()
}

async fn ids(store: &dyn TraceStore, query: &TraceQuery) -> Vec<String> {
    store.traces(query).await.unwrap().items.into_iter().map(|summary| summary.trace_id).collect()
}

pub async fn trace_roundtrip(stores: &TraceStores) {
    let store = &*stores.store;
    let original = trace(
        "rt",
        SpanKind::Agent,
        "Weather Agent.run",
        SpanStatus::Ok,
        100,
        json!({"run_id": "r1", "agent_id": "weather", "nested": {"list": [1, 2.5, true, null]}}),
    );
    store.insert_traces(std::slice::from_ref(&original)).await.unwrap();
    let read = store.trace("rt").await.unwrap().expect("stored");
    assert_eq!(read, original);
    assert_eq!(read.summary.total_spans, 3);
    assert_eq!(read.tree()[0].children.len(), 2);
    let span = store.span("rt", "rt-llm").await.unwrap().expect("the model call");
    assert_eq!((span.kind, span.attributes["input_tokens"].as_i64()), (SpanKind::Llm, Some(12)));
    assert!(store.span("rt", "other-llm").await.unwrap().is_none());
    assert!(store.span("nope", "rt-llm").await.unwrap().is_none());
    assert!(store.trace("nope").await.unwrap().is_none());
    store.insert_traces(&[]).await.unwrap();
}

pub async fn trace_reinsert_replaces(stores: &TraceStores) {
    let store = &*stores.store;
    let first = trace("same", SpanKind::Agent, "a.run", SpanStatus::Ok, 100, json!({"agent_id": "a"}));
    store.insert_traces(&[first]).await.unwrap();
    let mut second = trace("same", SpanKind::Agent, "b.run", SpanStatus::Error, 200, json!({"agent_id": "b"}));
    second.spans.truncate(2);
    second = Trace::from_spans(second.spans).unwrap();
    store.insert_traces(std::slice::from_ref(&second)).await.unwrap();
    assert_eq!(store.trace("same").await.unwrap(), Some(second));
    assert_eq!(store.traces(&TraceQuery::new()).await.unwrap().total, 1);
    assert!(store.span("same", "same-tool").await.unwrap().is_none(), "the old spans went with the old trace");
}

pub async fn trace_list_is_newest_first_and_paged(stores: &TraceStores) {
    let store = &*stores.store;
    let traces = dataset();
    // Two batches, as the writer sends them.
    store.insert_traces(&traces[..3]).await.unwrap();
    store.insert_traces(&traces[3..]).await.unwrap();
    let all = ids(store, &TraceQuery::new()).await;
    assert_eq!(all, ["t7", "t6", "t5", "t4", "t3", "t2", "t1"]);
    let page = store.traces(&TraceQuery::new().page(2, 3)).await.unwrap();
    let page_ids: Vec<&str> = page.items.iter().map(|summary| summary.trace_id.as_str()).collect();
    assert_eq!((page_ids, page.total, page.total_pages()), (vec!["t4", "t3", "t2"], 7, 3));
    let last = store.traces(&TraceQuery::new().page(4, 3)).await.unwrap();
    assert_eq!((last.items.len(), last.total), (0, 7));
    let quick = &store.traces(&TraceQuery::new().page(5, 1)).await.unwrap().items[0];
    assert_eq!((quick.trace_id.as_str(), quick.duration_ms, quick.team_id.as_deref()), ("t3", 10, Some("crew")));
    assert_eq!((quick.input.as_deref(), quick.output.as_deref()), (Some("input of root"), Some("output of root")));
    let failed = &store.traces(&TraceQuery::new().page(6, 1)).await.unwrap().items[0];
    assert_eq!(
        (failed.status, failed.error.as_deref(), failed.output.as_deref()),
        (SpanStatus::Error, Some("it broke"), None)
    );
}

pub async fn trace_filters_agree_with_the_reference(stores: &TraceStores) {
    let store = &*stores.store;
    let traces = dataset();
    store.insert_traces(&traces).await.unwrap();
    let eq_team = json!({"op": "EQ", "key": "team_id", "value": "crew"});
    let filters = [
        json!({"op": "EQ", "key": "status", "value": "OK"}),
        json!({"op": "NEQ", "key": "status", "value": "OK"}),
        json!({"op": "IN", "key": "status", "values": ["OK", "ERROR"]}),
        json!({"op": "IN", "key": "status", "values": []}),
        json!({"op": "EQ", "key": "agent_id", "value": "weather"}),
        json!({"op": "NEQ", "key": "team_id", "value": "crew"}),
        json!({"op": "NOT", "condition": eq_team.clone()}),
        json!({"op": "OR", "conditions": [eq_team.clone(), {"op": "EQ", "key": "session_id", "value": "s1"}]}),
        json!({"op": "NOT", "condition": {"op": "AND", "conditions": [
            {"op": "EQ", "key": "agent_id", "value": "weather"}, {"op": "EQ", "key": "status", "value": "OK"}]}}),
        json!({"op": "CONTAINS", "key": "agent_id", "value": "Weather"}),
        json!({"op": "CONTAINS", "key": "name", "value": "ÉCHEC"}),
        json!({"op": "CONTAINS", "key": "name", "value": "échec"}),
        json!({"op": "CONTAINS", "key": "name", "value": ""}),
        json!({"op": "CONTAINS", "key": "name", "value": "%"}),
        json!({"op": "STARTSWITH", "key": "name", "value": "weather"}),
        json!({"op": "STARTSWITH", "key": "user_id", "value": "A"}),
        json!({"op": "GT", "key": "name", "value": "Weather"}),
        json!({"op": "LT", "key": "agent_id", "value": "weather"}),
        json!({"op": "GT", "key": "duration_ms", "value": 100}),
        json!({"op": "LTE", "key": "duration_ms", "value": 10}),
        json!({"op": "GTE", "key": "start_time", "value": "1970-01-01T01:06:40Z"}),
        json!({"op": "LT", "key": "start_time", "value": 3000}),
        json!({"op": "LTE", "key": "end_time", "value": "1970-01-01T01:50:01.5+00:00"}),
        json!({"op": "GT", "key": "created_at", "value": "1970-01-01T02:30:00+01:00"}),
        json!({"op": "IN", "key": "trace_id", "values": ["t1", "t7", "zz"]}),
        json!({"op": "EQ", "key": "run_id", "value": "run-t4"}),
        json!({"op": "EQ", "key": "workflow_id", "value": "flow"}),
        json!({"op": "NEQ", "key": "user_id", "value": "ana"}),
    ];
    // The reference itself, on a few: ASCII case is ignored, other case is not; a missing field matches no test.
    let reference_of = |json: Value| reference(&traces, &TraceFilter::from_json(&json).unwrap());
    assert_eq!(
        reference_of(json!({"op": "CONTAINS", "key": "agent_id", "value": "Weather"})),
        ["t7", "t6", "t2", "t1"]
    );
    assert_eq!(reference_of(json!({"op": "CONTAINS", "key": "name", "value": "ÉCHEC"})), ["t5"]);
    assert!(reference_of(json!({"op": "CONTAINS", "key": "name", "value": "échec"})).is_empty());
    assert!(reference_of(json!({"op": "NOT", "condition": eq_team.clone()})).is_empty());
    for json in filters {
        let filter = TraceFilter::from_json(&json).unwrap();
        let expected = reference(&traces, &filter);
        assert_eq!(ids(store, &TraceQuery::new().filter(filter)).await, expected, "{json}");
    }
    // Named filters and an expression, AND-ed, as the list route builds them.
    let query = TraceQuery::new()
        .filter(TraceFilter::eq(TraceField::UserId, "ana"))
        .filter(TraceFilter::from_json(&json!({"op": "EQ", "key": "status", "value": "ERROR"})).unwrap());
    assert_eq!(ids(store, &query).await, ["t2"]);
}

pub async fn trace_search_returns_whole_traces(stores: &TraceStores) {
    let store = &*stores.store;
    let traces = dataset();
    store.insert_traces(&traces).await.unwrap();
    let query = TraceQuery::new().filter(TraceFilter::eq(TraceField::AgentId, "weather")).page(1, 2);
    let found = store.search_traces(&query).await.unwrap();
    assert_eq!((found.total, found.items.len()), (3, 2));
    assert_eq!(found.items[0], traces[6]);
    assert_eq!(found.items[1], traces[5]);
    let none = store.search_traces(&TraceQuery::new().filter(TraceFilter::eq(TraceField::AgentId, "x"))).await.unwrap();
    assert_eq!((none.total, none.items.len()), (0, 0));
}

pub async fn trace_session_stats_group_by_session(stores: &TraceStores) {
    let store = &*stores.store;
    store.insert_traces(&dataset()).await.unwrap();
    let stats = store.trace_session_stats(&TraceQuery::new()).await.unwrap();
    let sessions: Vec<&str> = stats.items.iter().map(|stats| stats.session_id.as_str()).collect();
    // s3 and s4 were last traced at the same time: the greater id first.
    assert_eq!((sessions, stats.total), (vec!["s4", "s3", "s2", "s1"], 4));
    let s1 = stats.items.iter().find(|stats| stats.session_id == "s1").unwrap();
    assert_eq!(
        s1,
        &SessionTraceStats {
            session_id: "s1".into(),
            user_id: Some("ana".into()),
            // The greatest by byte order: lower case sorts after upper case.
            agent_id: Some("weather".into()),
            team_id: None,
            workflow_id: None,
            total_traces: 2,
            first_trace_at: 1000 * SECOND,
            last_trace_at: 2000 * SECOND,
        }
    );
    let s2 = stats.items.iter().find(|stats| stats.session_id == "s2").unwrap();
    assert_eq!((s2.team_id.as_deref(), s2.agent_id.as_deref(), s2.total_traces), (Some("crew"), None, 1));
    let ana = TraceQuery::new().filter(TraceFilter::eq(TraceField::UserId, "ana"));
    let only = store.trace_session_stats(&ana).await.unwrap();
    assert_eq!((only.items.len(), only.total, only.items[0].session_id.as_str()), (1, 1, "s1"));
    let second = store.trace_session_stats(&TraceQuery::new().page(2, 1)).await.unwrap();
    assert_eq!((second.items[0].session_id.as_str(), second.total), ("s3", 4));
}

pub async fn trace_misfit_filters_are_refused(stores: &TraceStores) {
    let store = &*stores.store;
    let misfits = [
        TraceFilter::eq(TraceField::StartTime, "soon"),
        TraceFilter::eq(TraceField::AgentId, 3),
        TraceFilter::Contains { field: TraceField::DurationMs, text: "1".into() },
        TraceFilter::Not(Box::new(TraceFilter::In { field: TraceField::Status, values: vec![7.into()] })),
    ];
    for filter in misfits {
        let query = TraceQuery::new().filter(filter.clone());
        assert!(matches!(store.traces(&query).await, Err(StoreError::Invalid(_))), "{filter:?}");
        assert!(matches!(store.trace_session_stats(&query).await, Err(StoreError::Invalid(_))), "{filter:?}");
    }
}

pub async fn trace_text_is_kept(stores: &TraceStores) {
    let store = &*stores.store;
    let mut spans = spans("text", SpanKind::Tool, "💥 tool", SpanStatus::Error, 0, json!({"note": "naïve ✓"}));
    spans[1].output = Some("a\u{0}b".into());
    let trace = Trace::from_spans(spans).unwrap();
    store.insert_traces(std::slice::from_ref(&trace)).await.unwrap();
    let read = store.trace("text").await.unwrap().unwrap();
    assert_eq!((read.summary.name.as_str(), read.spans[0].attribute("note")), ("💥 tool", Some("naïve ✓")));
    // NUL is kept, or replaced where the backend cannot hold it; never a failed write.
    let output = read.spans[1].output.as_deref().unwrap();
    assert!(output == "a\u{0}b" || output == "a\u{fffd}b", "{output:?}");
}

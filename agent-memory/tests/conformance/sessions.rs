//! Conformance checks for `SessionStore`: sessions, runs, lists, paused runs, concurrency.

use std::sync::Arc;

use agent_core::{
    ContentBlock, MediaSource, Message, PausedRun, PendingKind, PendingToolCall, Role, RunRecord, RunStatus, Session,
    SessionQuery, SessionSort, SessionStore, SessionSummary, SessionType, SortOrder, ToolResultContent, Usage,
};
use serde_json::json;

use super::Stores;

/// A session with every field set.
pub fn full_session(session_id: &str) -> Session {
    let mut state = serde_json::Map::new();
    state.insert("cart".into(), json!(["apples", {"qty": 2}]));
    state.insert("unicode".into(), json!("grüße 🌍 \"quoted\""));
    Session {
        session_id: session_id.into(),
        session_type: SessionType::Team,
        component_id: Some("support-team".into()),
        user_id: Some("ana".into()),
        session_name: Some("Order help".into()),
        state,
        summary: Some(SessionSummary {
            summary: "Ana asked about an order.".into(),
            topics: vec!["orders".into()],
            updated_at: 1_700_000_100,
        }),
        metrics: json!({"input_tokens": 134, "output_tokens": 26, "total_tokens": 160}),
        metadata: serde_json::Map::from_iter([("tier".to_owned(), json!("gold")), ("ids".to_owned(), json!([1, 2]))]),
        created_at: 1_700_000_000,
        updated_at: 1_700_000_200,
    }
}

/// Messages using every kind of content block.
pub fn rich_messages(tag: &str) -> Vec<Message> {
    vec![
        Message::new(
            Role::User,
            vec![
                ContentBlock::text(format!("question {tag}")),
                ContentBlock::Image { source: MediaSource::Url { url: "https://example.invalid/cat.png".into() } },
            ],
        ),
        Message::new(
            Role::Assistant,
            vec![
                ContentBlock::Thinking { thinking: "let me look".into(), signature: "sig".into() },
                ContentBlock::ToolUse { id: format!("call-{tag}"), name: "lookup".into(), input: json!({"q": tag}) },
            ],
        ),
        Message::new(
            Role::User,
            vec![ContentBlock::tool_result(
                format!("call-{tag}"),
                ToolResultContent::Json(json!({"found": true})),
                false,
            )],
        ),
        Message::new(Role::Assistant, vec![ContentBlock::Other(json!({"type": "future_block", "x": 1}))]),
        Message::assistant(format!("answer {tag}")),
    ]
}

/// A completed run with every field set.
pub fn full_run(session_id: &str, run_id: &str) -> RunRecord {
    RunRecord {
        run_id: run_id.into(),
        session_id: session_id.into(),
        parent_run_id: Some("parent-1".into()),
        component_id: Some("support-team".into()),
        user_id: Some("ana".into()),
        status: RunStatus::Completed,
        input: format!("input of {run_id}"),
        output: Some(format!("answer {run_id}")),
        messages: rich_messages(run_id),
        events: vec![json!({"event": "RunStarted"}), json!({"event": "RunCompleted"})],
        metrics: json!({"duration": 1.5, "input_tokens": 82}),
        paused: None,
        error: None,
        model: Some("claude-opus-4-8".into()),
        model_provider: Some("anthropic".into()),
        metadata: serde_json::Map::from_iter([("source".to_owned(), json!("web"))]),
        created_at: 1_700_000_300,
        updated_at: 1_700_000_301,
    }
}

/// A paused run waiting for a confirmation.
pub fn paused_run(session_id: &str, run_id: &str) -> RunRecord {
    let messages = vec![
        Message::user("delete my account"),
        Message::new(
            Role::Assistant,
            vec![ContentBlock::ToolUse { id: "call-1".into(), name: "delete_account".into(), input: json!({}) }],
        ),
    ];
    // A paused run is opaque to users; stores see it as its serialized form.
    let paused: PausedRun = serde_json::from_value(json!({
        "run_id": run_id,
        "session_id": session_id,
        "user_id": "ana",
        "input": "delete my account",
        "history": [Message::user("earlier"), Message::assistant("earlier answer")],
        "messages": messages.clone(),
        "resolved": [ContentBlock::tool_result("call-0", ToolResultContent::Text("done".into()), false)],
        "pending": [PendingToolCall {
            tool_call_id: "call-1".into(),
            tool_name: "delete_account".into(),
            tool_args: json!({}),
            kind: PendingKind::Confirmation,
            payload: Some(json!({"why": "irreversible"})),
        }],
        "counters": {"turns": 1, "continuations": 0, "tool_calls": 1, "retries": {}, "output_retries": 0, "usage": Usage::default()},
        "created_at": 1_700_000_400,
    }))
    .unwrap();
    RunRecord {
        run_id: run_id.into(),
        session_id: session_id.into(),
        status: RunStatus::Paused,
        input: "delete my account".into(),
        messages,
        metrics: json!(null),
        paused: Some(paused),
        created_at: 1_700_000_400,
        updated_at: 1_700_000_400,
        ..RunRecord::default()
    }
}

/// Records a run the way an agent does: started as running (creating the
/// session when it is new), then saved as it ended.
pub async fn record_run(store: &dyn SessionStore, session: &Session, run: &RunRecord) {
    let started = RunRecord { status: RunStatus::Running, output: None, paused: None, error: None, ..run.clone() };
    store.start_run(session, &started).await.unwrap();
    store.save_run(session, run).await.unwrap();
}

fn ids(sessions: &[Session]) -> Vec<&str> {
    sessions.iter().map(|session| session.session_id.as_str()).collect()
}

pub async fn session_roundtrip(stores: &Stores) {
    let store = &*stores.sessions;
    let session = full_session("s-1");
    store.upsert_session(&session).await.unwrap();
    assert_eq!(store.session("s-1").await.unwrap(), Some(session.clone()));
    assert_eq!(store.session("missing").await.unwrap(), None);

    let mut renamed = session.clone();
    renamed.session_name = Some("Renamed".into());
    renamed.summary = None;
    renamed.state.clear();
    renamed.updated_at += 10;
    store.upsert_session(&renamed).await.unwrap();
    assert_eq!(store.session("s-1").await.unwrap(), Some(renamed));

    let bare = Session::new("s-bare", SessionType::Agent);
    store.upsert_session(&bare).await.unwrap();
    assert_eq!(store.session("s-bare").await.unwrap(), Some(bare));
}

pub async fn upsert_session_keeps_runs(stores: &Stores) {
    let store = &*stores.sessions;
    let session = full_session("s-keep");
    record_run(store, &session, &full_run("s-keep", "r-1")).await;
    store.upsert_session(&Session { session_name: Some("new name".into()), ..session }).await.unwrap();
    assert_eq!(store.runs("s-keep", None).await.unwrap().len(), 1);
}

pub async fn delete_session_removes_runs(stores: &Stores) {
    let store = &*stores.sessions;
    let session = full_session("s-del");
    record_run(store, &session, &full_run("s-del", "r-1")).await;
    record_run(store, &full_session("s-other"), &full_run("s-other", "r-1")).await;
    assert!(store.delete_session("s-del").await.unwrap());
    assert!(!store.delete_session("s-del").await.unwrap());
    assert_eq!(store.session("s-del").await.unwrap(), None);
    assert!(store.runs("s-del", None).await.unwrap().is_empty());
    assert_eq!(store.run("s-del", "r-1").await.unwrap(), None);
    assert_eq!(store.runs("s-other", None).await.unwrap().len(), 1, "other sessions keep their runs");
}

/// Six sessions: two per type, two users, named for sorting.
async fn seed_sessions(stores: &Stores) {
    let rows = [
        ("a1", SessionType::Agent, "agent-x", "ana", Some("Banana bread"), 10, 60),
        ("a2", SessionType::Agent, "agent-y", "bob", Some("apple pie"), 20, 50),
        ("t1", SessionType::Team, "team-x", "ana", Some("Cherry tart"), 30, 40),
        ("t2", SessionType::Team, "team-x", "bob", None, 40, 30),
        ("w1", SessionType::Workflow, "flow-x", "ana", Some("100% juice_box"), 50, 20),
        ("w2", SessionType::Workflow, "flow-x", "bob", Some("Date loaf"), 60, 10),
    ];
    for (id, session_type, component, user, name, created_at, updated_at) in rows {
        let session = Session {
            session_id: id.into(),
            session_type,
            component_id: Some(component.into()),
            user_id: Some(user.into()),
            session_name: name.map(Into::into),
            created_at,
            updated_at,
            ..Session::default()
        };
        stores.sessions.upsert_session(&session).await.unwrap();
    }
}

pub async fn list_sessions_filters(stores: &Stores) {
    seed_sessions(stores).await;
    let store = &*stores.sessions;
    let list = |query: SessionQuery| async move { store.list_sessions(&query).await.unwrap() };

    let all = list(SessionQuery::default()).await;
    assert_eq!(all.total, 6);
    assert_eq!(ids(&all.items), ["a1", "a2", "t1", "t2", "w1", "w2"], "default: updated_at descending");

    let teams = list(SessionQuery { session_type: Some(SessionType::Team), ..SessionQuery::default() }).await;
    assert_eq!((ids(&teams.items), teams.total), (vec!["t1", "t2"], 2));

    let component = list(SessionQuery { component_id: Some("flow-x".into()), ..SessionQuery::default() }).await;
    assert_eq!(ids(&component.items), ["w1", "w2"]);

    let user = list(SessionQuery { user_id: Some("ana".into()), ..SessionQuery::default() }).await;
    assert_eq!(ids(&user.items), ["a1", "t1", "w1"]);

    let combined = list(SessionQuery {
        session_type: Some(SessionType::Workflow),
        user_id: Some("bob".into()),
        ..SessionQuery::default()
    })
    .await;
    assert_eq!((ids(&combined.items), combined.total), (vec!["w2"], 1));

    let name = list(SessionQuery { session_name: Some("BREAD".into()), ..SessionQuery::default() }).await;
    assert_eq!(ids(&name.items), ["a1"], "name search is case-insensitive");
    let literal = list(SessionQuery { session_name: Some("0% juice_".into()), ..SessionQuery::default() }).await;
    assert_eq!(ids(&literal.items), ["w1"], "% and _ match literally");
    let wildcard = list(SessionQuery { session_name: Some("%".into()), ..SessionQuery::default() }).await;
    assert_eq!(ids(&wildcard.items), ["w1"]);

    let none = list(SessionQuery { user_id: Some("nobody".into()), ..SessionQuery::default() }).await;
    assert_eq!((none.items.len(), none.total, none.total_pages()), (0, 0, 0));
}

pub async fn list_sessions_sorts_and_pages(stores: &Stores) {
    seed_sessions(stores).await;
    let store = &*stores.sessions;
    let sorted = |sort_by, sort_order| async move {
        let query = SessionQuery { sort_by, sort_order, ..SessionQuery::default() };
        ids(&store.list_sessions(&query).await.unwrap().items).into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(sorted(SessionSort::CreatedAt, SortOrder::Asc).await, ["a1", "a2", "t1", "t2", "w1", "w2"]);
    assert_eq!(sorted(SessionSort::CreatedAt, SortOrder::Desc).await, ["w2", "w1", "t2", "t1", "a2", "a1"]);
    assert_eq!(sorted(SessionSort::UpdatedAt, SortOrder::Asc).await, ["w2", "w1", "t2", "t1", "a2", "a1"]);
    // Byte order: no name first, then digits, upper case, lower case.
    assert_eq!(sorted(SessionSort::SessionName, SortOrder::Asc).await, ["t2", "w1", "a1", "t1", "w2", "a2"]);
    assert_eq!(sorted(SessionSort::SessionName, SortOrder::Desc).await, ["a2", "w2", "t1", "a1", "w1", "t2"]);

    let page = |limit, page| async move {
        let query = SessionQuery {
            limit: Some(limit),
            page: Some(page),
            sort_by: SessionSort::CreatedAt,
            sort_order: SortOrder::Asc,
            ..SessionQuery::default()
        };
        store.list_sessions(&query).await.unwrap()
    };
    let first = page(4, 1).await;
    assert_eq!(
        (ids(&first.items), first.total, first.page, first.total_pages()),
        (vec!["a1", "a2", "t1", "t2"], 6, 1, 2)
    );
    let second = page(4, 2).await;
    assert_eq!((ids(&second.items), second.total, second.page), (vec!["w1", "w2"], 6, 2));
    let beyond = page(4, 3).await;
    assert_eq!((beyond.items.len(), beyond.total), (0, 6));
    let zero = page(4, 0).await;
    assert_eq!((ids(&zero.items), zero.page), (vec!["a1", "a2", "t1", "t2"], 1), "page 0 is page 1");
}

pub async fn save_run_roundtrip(stores: &Stores) {
    let store = &*stores.sessions;
    let session = full_session("s-run");
    let mut failed = full_run("s-run", "r-2");
    failed.status = RunStatus::Error;
    failed.output = None;
    failed.error = Some("model error: overloaded".into());
    record_run(store, &session, &full_run("s-run", "r-1")).await;
    record_run(store, &session, &failed).await;

    assert_eq!(store.run("s-run", "r-1").await.unwrap(), Some(full_run("s-run", "r-1")));
    assert_eq!(store.run("s-run", "r-2").await.unwrap(), Some(failed.clone()));
    assert_eq!(store.run("s-run", "missing").await.unwrap(), None);
    assert_eq!(store.run("other-session", "r-1").await.unwrap(), None);
    assert_eq!(store.session("s-run").await.unwrap(), Some(session));

    let runs = store.runs("s-run", None).await.unwrap();
    assert_eq!(runs, vec![full_run("s-run", "r-1"), failed]);
    assert!(store.runs("missing", None).await.unwrap().is_empty());
}

pub async fn save_run_updates_session(stores: &Stores) {
    let store = &*stores.sessions;
    let mut session = Session::new("s-state", SessionType::Agent);
    record_run(store, &session, &full_run("s-state", "r-1")).await;
    session.state.insert("counter".into(), json!(2));
    session.summary = Some(SessionSummary { summary: "two runs".into(), topics: vec![], updated_at: 5 });
    session.updated_at += 1;
    record_run(store, &session, &full_run("s-state", "r-2")).await;
    assert_eq!(store.session("s-state").await.unwrap(), Some(session));
}

pub async fn runs_keep_first_save_order(stores: &Stores) {
    let store = &*stores.sessions;
    let session = full_session("s-order");
    for run_id in ["r-c", "r-a", "r-b", "r-d"] {
        record_run(store, &session, &full_run("s-order", run_id)).await;
    }
    // Replacing a run keeps its place.
    let mut replaced = full_run("s-order", "r-a");
    replaced.output = Some("second version".into());
    store.save_run(&session, &replaced).await.unwrap();
    let order = |runs: Vec<RunRecord>| runs.into_iter().map(|run| run.run_id).collect::<Vec<_>>();
    assert_eq!(order(store.runs("s-order", None).await.unwrap()), ["r-c", "r-a", "r-b", "r-d"]);
    assert_eq!(order(store.runs("s-order", Some(2)).await.unwrap()), ["r-b", "r-d"]);
    assert_eq!(order(store.runs("s-order", Some(10)).await.unwrap()), ["r-c", "r-a", "r-b", "r-d"]);
    assert!(store.runs("s-order", Some(0)).await.unwrap().is_empty());
    assert_eq!(store.run("s-order", "r-a").await.unwrap().unwrap().output.as_deref(), Some("second version"));
}

pub async fn paused_run_roundtrip(stores: &Stores) {
    let store = &*stores.sessions;
    let session = full_session("s-paused");
    let paused = paused_run("s-paused", "r-paused");
    record_run(store, &session, &paused).await;
    let loaded = store.run("s-paused", "r-paused").await.unwrap().unwrap();
    assert_eq!(loaded, paused);
    assert_eq!(loaded.paused.unwrap().pending()[0].kind, PendingKind::Confirmation);

    // Continuing replaces the paused record with the finished one.
    let mut finished = paused.clone();
    finished.status = RunStatus::Completed;
    finished.paused = None;
    finished.output = Some("deleted".into());
    finished.messages.push(Message::assistant("deleted"));
    store.save_run(&session, &finished).await.unwrap();
    assert_eq!(store.runs("s-paused", None).await.unwrap(), vec![finished]);
}

/// 50 tasks append runs to one session at once: every run and message is kept.
pub async fn concurrent_runs_keep_every_message(stores: &Stores) {
    save_concurrently(&[Arc::clone(&stores.sessions)], "s-concurrent", 50).await;
    let runs = stores.sessions.runs("s-concurrent", None).await.unwrap();
    assert_concurrent_runs(&runs, 50);
}

/// Saves `count` runs to one session from as many tasks, spread over `stores`.
pub async fn save_concurrently(stores: &[Arc<dyn SessionStore>], session_id: &str, count: usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..count {
        let store = Arc::clone(&stores[index % stores.len()]);
        let session_id = session_id.to_owned();
        tasks.spawn(async move {
            let mut session = Session::new(session_id.clone(), SessionType::Agent);
            session.state.insert("last_writer".into(), json!(index));
            let run = RunRecord {
                run_id: format!("run-{index:03}"),
                session_id: session_id.clone(),
                status: RunStatus::Completed,
                input: format!("message {index}"),
                messages: vec![Message::user(format!("message {index}")), Message::assistant(format!("reply {index}"))],
                ..RunRecord::default()
            };
            session.updated_at = index as i64;
            record_run(&*store, &session, &run).await;
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.unwrap();
    }
}

pub fn assert_concurrent_runs(runs: &[RunRecord], count: usize) {
    assert_eq!(runs.len(), count, "every run is kept");
    let mut inputs: Vec<String> = runs.iter().flat_map(|run| run.messages.iter().map(Message::text)).collect();
    inputs.sort();
    let mut expected: Vec<String> =
        (0..count).flat_map(|index| [format!("message {index}"), format!("reply {index}")]).collect();
    expected.sort();
    assert_eq!(inputs, expected, "every message is kept");
}

//! Conformance checks for runs across processes: `start_run`, what
//! `save_run` owns, session leases and the lease-serialized counter, and
//! claiming paused runs.

use std::sync::Arc;
use std::time::Duration;

use agent_core::{RunRecord, RunStatus, Session, SessionStore, SessionType, StoreError};
use serde_json::json;

use super::Stores;
use super::sessions::{full_run, full_session, paused_run, record_run};

/// A run that has just started.
pub fn running(session_id: &str, run_id: &str) -> RunRecord {
    RunRecord {
        run_id: run_id.into(),
        session_id: session_id.into(),
        status: RunStatus::Running,
        input: format!("input of {run_id}"),
        created_at: 1_700_000_500,
        updated_at: 1_700_000_500,
        ..RunRecord::default()
    }
}

fn assert_session_not_found(err: StoreError, id: &str) {
    match err {
        StoreError::NotFound { what, id: found } => assert_eq!((what, found.as_str()), ("session", id)),
        other => panic!("expected the session `{id}` not to be found, got {other:?}"),
    }
}

pub async fn start_run_creates_only_missing_sessions(stores: &Stores) {
    let store = &*stores.sessions;
    let session = full_session("s-start");
    store.start_run(&session, &running("s-start", "r-1")).await.unwrap();
    assert_eq!(store.session("s-start").await.unwrap(), Some(session.clone()), "created as given");
    assert_eq!(store.run("s-start", "r-1").await.unwrap(), Some(running("s-start", "r-1")), "visible as running");

    // A second run starting on the session leaves it as it is.
    let mut other = Session::new("s-start", SessionType::Agent);
    other.session_name = Some("another name".into());
    other.state.insert("clobbered".into(), json!(true));
    store.start_run(&other, &running("s-start", "r-2")).await.unwrap();
    assert_eq!(store.session("s-start").await.unwrap(), Some(session));

    let finished = full_run("s-start", "r-3");
    let err = store.start_run(&full_session("s-start"), &finished).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "a run starts as running: {err}");
    let err = store.start_run(&full_session("s-other"), &running("s-start", "r-4")).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "a run of another session: {err}");
    assert_eq!(store.session("s-other").await.unwrap(), None, "nothing written");
    assert_eq!(store.runs("s-start", None).await.unwrap().len(), 2);
}

pub async fn save_run_writes_only_what_the_run_owns(stores: &Stores) {
    let store = &*stores.sessions;
    let mut loaded = Session::new("s-owned", SessionType::Agent);
    loaded.session_name = Some("first name".into());
    store.start_run(&loaded, &running("s-owned", "r-1")).await.unwrap();

    // Meanwhile someone renames the session and sets its owner.
    let mut renamed = store.session("s-owned").await.unwrap().unwrap();
    renamed.session_name = Some("renamed during the run".into());
    renamed.user_id = Some("ana".into());
    renamed.metadata.insert("kept".into(), json!(true));
    store.upsert_session(&renamed).await.unwrap();

    // The run ends with the session as it loaded it, plus its own changes.
    loaded.state.insert("counter".into(), json!(1));
    loaded.summary = Some(agent_core::SessionSummary { summary: "one run".into(), topics: vec![], updated_at: 9 });
    loaded.user_id = Some("bob".into());
    loaded.component_id = Some("agent-x".into());
    loaded.metrics = json!({"input_tokens": 82, "runs": 1});
    loaded.updated_at += 5;
    store.save_run(&loaded, &full_run("s-owned", "r-1")).await.unwrap();

    let stored = store.session("s-owned").await.unwrap().unwrap();
    assert_eq!(stored.session_name.as_deref(), Some("renamed during the run"), "a rename survives");
    assert_eq!(stored.user_id.as_deref(), Some("ana"), "an owner already set is kept");
    assert_eq!(stored.component_id.as_deref(), Some("agent-x"), "an unset component is filled");
    assert_eq!(stored.metadata.get("kept"), Some(&json!(true)), "metadata set during the run is kept");
    assert_eq!(stored.metrics, json!({"input_tokens": 82, "runs": 1}), "the run's caller sums the metrics");
    assert_eq!((stored.state, stored.summary, stored.updated_at), (loaded.state, loaded.summary, loaded.updated_at));
    assert_eq!(store.run("s-owned", "r-1").await.unwrap(), Some(full_run("s-owned", "r-1")));
}

pub async fn save_run_names_an_unnamed_session(stores: &Stores) {
    let store = &*stores.sessions;
    let mut session = Session::new("s-unnamed", SessionType::Agent);
    store.start_run(&session, &running("s-unnamed", "r-1")).await.unwrap();
    session.session_name = Some("Weather in Paris?".into());
    store.save_run(&session, &full_run("s-unnamed", "r-1")).await.unwrap();
    let stored = store.session("s-unnamed").await.unwrap().unwrap();
    assert_eq!(stored.session_name.as_deref(), Some("Weather in Paris?"));
    let run = store.run("s-unnamed", "r-1").await.unwrap().unwrap();
    assert_eq!((run.model.as_deref(), run.model_provider.as_deref()), (Some("claude-opus-4-8"), Some("anthropic")));
    assert_eq!(run.metadata.get("source"), Some(&json!("web")));
}

pub async fn save_run_never_recreates_a_deleted_session(stores: &Stores) {
    let store = &*stores.sessions;
    let session = full_session("s-gone");
    store.start_run(&session, &running("s-gone", "r-1")).await.unwrap();
    assert!(store.delete_session("s-gone").await.unwrap());
    assert_session_not_found(store.save_run(&session, &full_run("s-gone", "r-1")).await.unwrap_err(), "s-gone");
    assert_eq!(store.session("s-gone").await.unwrap(), None, "not created again");
    assert!(store.runs("s-gone", None).await.unwrap().is_empty(), "the run is not written");
    assert_eq!(store.find_run("r-1").await.unwrap(), None);
    // A session that never existed is not created either.
    let never = Session::new("s-never", SessionType::Agent);
    assert_session_not_found(store.save_run(&never, &full_run("s-never", "r-1")).await.unwrap_err(), "s-never");
    assert_eq!(store.session("s-never").await.unwrap(), None);
}

pub async fn leases_have_one_holder_at_a_time(stores: &Stores) {
    let store = &*stores.sessions;
    let minute = Duration::from_secs(60);
    assert!(store.acquire_lease("s-lease", "a", minute).await.unwrap(), "a free lease is taken");
    assert!(store.acquire_lease("s-lease", "a", minute).await.unwrap(), "the holder renews it");
    assert!(!store.acquire_lease("s-lease", "b", minute).await.unwrap(), "another holder waits");
    assert!(store.acquire_lease("s-other", "b", minute).await.unwrap(), "leases are per session");
    assert!(!store.release_lease("s-lease", "b").await.unwrap(), "only the holder releases it");
    assert!(!store.acquire_lease("s-lease", "b", minute).await.unwrap());
    assert!(store.release_lease("s-lease", "a").await.unwrap());
    assert!(!store.release_lease("s-lease", "a").await.unwrap(), "released once");
    assert!(store.acquire_lease("s-lease", "b", Duration::ZERO).await.unwrap(), "a released lease is free");
    assert!(store.acquire_lease("s-lease", "a", minute).await.unwrap(), "an expired lease is free");
    assert!(!store.acquire_lease("s-lease", "b", minute).await.unwrap());
    assert!(store.acquire_lease("s-huge", "a", Duration::MAX).await.unwrap(), "a huge TTL is capped, not an error");
}

/// Takes the lease, retrying with a bounded exponential backoff (capped at
/// 250 ms: 99 waiters polling faster than that fill the pool and queue the
/// holder's own queries behind theirs).
async fn lease(store: &dyn SessionStore, session_id: &str, holder: &str) {
    let mut backoff = Duration::from_millis(2);
    for _ in 0..2_000 {
        if store.acquire_lease(session_id, holder, Duration::from_secs(60)).await.unwrap() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_millis(250));
    }
    panic!("{holder} never got the lease of {session_id}");
}

/// `count` tasks, spread over `stores`, each take the session's lease, read
/// its counter, add 1 and save: the counter ends at exactly `count`.
pub async fn count_under_the_lease(stores: &[Arc<dyn SessionStore>], session_id: &str, count: usize) {
    stores[0].upsert_session(&Session::new(session_id, SessionType::Agent)).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..count {
        let store = Arc::clone(&stores[index % stores.len()]);
        let session_id = session_id.to_owned();
        tasks.spawn(async move {
            let holder = format!("run-{index:03}");
            lease(&*store, &session_id, &holder).await;
            let mut session = store.session(&session_id).await.unwrap().unwrap();
            let counter = session.state.get("counter").and_then(serde_json::Value::as_u64).unwrap_or(0);
            session.state.insert("counter".into(), json!(counter + 1));
            let run = RunRecord { status: RunStatus::Completed, ..running(&session_id, &holder) };
            store.start_run(&session, &running(&session_id, &holder)).await.unwrap();
            store.save_run(&session, &run).await.unwrap();
            assert!(store.release_lease(&session_id, &holder).await.unwrap());
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.unwrap();
    }
    let session = stores[0].session(session_id).await.unwrap().unwrap();
    assert_eq!(session.state.get("counter"), Some(&json!(count)), "no update was lost");
    assert_eq!(stores[0].runs(session_id, None).await.unwrap().len(), count);
}

pub async fn hundred_runs_under_the_lease_count_to_100(stores: &Stores) {
    count_under_the_lease(&[Arc::clone(&stores.sessions)], "s-counter", 100).await;
}

pub async fn a_paused_run_is_claimed_once(stores: &Stores) {
    let store = &stores.sessions;
    let paused = paused_run("s-claim", "r-paused");
    record_run(&**store, &full_session("s-claim"), &paused).await;

    let (first, second) =
        tokio::join!(store.claim_paused_run("s-claim", "r-paused"), store.claim_paused_run("s-claim", "r-paused"));
    let claims: Vec<RunRecord> = [first.unwrap(), second.unwrap()].into_iter().flatten().collect();
    assert_eq!(claims.len(), 1, "exactly one claim wins");
    assert_eq!(claims[0].status, RunStatus::Running);
    assert_eq!(claims[0].paused, paused.paused, "the winner gets what the run needs to continue");
    assert_eq!(claims[0].messages, paused.messages);
    assert_eq!(store.run("s-claim", "r-paused").await.unwrap().unwrap().status, RunStatus::Running);
    assert_eq!(store.claim_paused_run("s-claim", "r-paused").await.unwrap(), None, "not paused any more");

    record_run(&**store, &full_session("s-claim"), &full_run("s-claim", "r-done")).await;
    assert_eq!(store.claim_paused_run("s-claim", "r-done").await.unwrap(), None, "a finished run");
    match store.claim_paused_run("s-claim", "r-missing").await.unwrap_err() {
        StoreError::NotFound { what: "run", id } => assert_eq!(id, "r-missing"),
        other => panic!("expected the run not to be found, got {other:?}"),
    }
}

/// Many concurrent claims, spread over `stores`: exactly one wins.
pub async fn claim_concurrently(stores: &[Arc<dyn SessionStore>], claims: usize) {
    record_run(&*stores[0], &full_session("s-race"), &paused_run("s-race", "r-race")).await;
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..claims {
        let store = Arc::clone(&stores[index % stores.len()]);
        tasks.spawn(async move { store.claim_paused_run("s-race", "r-race").await.unwrap().is_some() });
    }
    let mut won = 0;
    while let Some(joined) = tasks.join_next().await {
        won += usize::from(joined.unwrap());
    }
    assert_eq!(won, 1, "{claims} concurrent claims, one winner");
}

pub async fn concurrent_claims_have_one_winner(stores: &Stores) {
    claim_concurrently(&[Arc::clone(&stores.sessions)], 20).await;
}

/// The loop on the store: 100 concurrent agent runs on one session, each
/// adding 1 to a session-state counter through a tool, end at exactly 100 —
/// the session lease makes them take turns, across store instances too.
pub async fn hundred_agent_runs_on_one_session_count_to_100(stores: &Stores) {
    use agent_core::testing::TestModel;
    use agent_core::{Agent, FnTool, ToolDef, ToolOutput};

    let bump = FnTool::<()>::raw(ToolDef::new("bump", "Adds one.", json!({"type": "object"})), |ctx, _| async move {
        let mut state = ctx.session_state();
        let next = state.get("n").and_then(serde_json::Value::as_u64).unwrap_or(0) + 1;
        state.insert("n".into(), json!(next));
        Ok(ToolOutput::text(next.to_string()))
    });
    let agent = Agent::builder(TestModel::new().call_tools(["bump"]))
        .tool(bump)
        .store(Arc::clone(&stores.sessions))
        .history_runs(Some(0))
        .build()
        .unwrap();
    let runs = (0..100).map(|_| {
        let agent = agent.clone();
        tokio::spawn(
            async move { agent.run("bump").session("counted").wait_for_session(Duration::from_secs(120)).await },
        )
    });
    for run in futures::future::join_all(runs).await {
        run.unwrap().unwrap();
    }
    let session = stores.sessions.session("counted").await.unwrap().unwrap();
    assert_eq!(session.state.get("n"), Some(&json!(100)));
    assert_eq!(stores.sessions.runs("counted", None).await.unwrap().len(), 100);
}

/// A turn whose first call fails fatally still answers every call, in call
/// order, in the stored run, so the next run on the session is valid.
pub async fn a_failed_turn_is_stored_with_every_call_answered(stores: &Stores) {
    use agent_core::testing::{ScriptedModel, Turn, tool_calls_response};
    use agent_core::{Agent, ContentBlock, FnTool, ToolDef, ToolError};

    let explode = FnTool::<()>::raw(ToolDef::new("explode", "Fails.", json!({"type": "object"})), |_, _| async {
        Err(ToolError::fatal("boom"))
    });
    let wait = FnTool::<()>::raw(ToolDef::new("wait", "Needs approval.", json!({"type": "object"})), |_, _| async {
        Ok(agent_core::ToolOutput::text("ran"))
    })
    .with_def(|def| def.requires_confirmation(true));
    let model = ScriptedModel::new([Turn::respond(tool_calls_response([
        ("c1", "explode", json!({})),
        ("c2", "wait", json!({})),
        ("c3", "missing", json!({})),
    ]))]);
    let agent = Agent::builder(model).tool(explode).tool(wait).store(Arc::clone(&stores.sessions)).build().unwrap();
    assert!(agent.run("go").session("failing").await.is_err());
    let runs = stores.sessions.runs("failing", None).await.unwrap();
    assert_eq!(runs[0].status, RunStatus::Error);
    let results: Vec<&str> = runs[0].messages[2]
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::ToolResult { tool_call_id, .. } => Some(tool_call_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(results, ["c1", "c2", "c3"]);
}

/// Tool results keep their type (string, number, null, array, nested
/// object, blocks) through the store.
pub async fn tool_results_keep_their_type(stores: &Stores) {
    use agent_core::{ContentBlock, Message, Role, ToolResultContent};

    let shapes = [
        ToolResultContent::Text("sunny".into()),
        ToolResultContent::Json(json!(21)),
        ToolResultContent::Json(json!(null)),
        ToolResultContent::Json(json!(["Paris", "Lisbon"])),
        ToolResultContent::Json(json!({"city": {"name": "Paris", "tags": [1, 2]}})),
        ToolResultContent::Blocks(vec![ContentBlock::text("chart")]),
    ];
    let results: Vec<ContentBlock> = shapes
        .iter()
        .enumerate()
        .map(|(index, shape)| ContentBlock::tool_result(format!("c{index}"), shape.clone(), false))
        .collect();
    let session = Session::new("typed", SessionType::Agent);
    let mut run = running("typed", "r1");
    stores.sessions.start_run(&session, &run).await.unwrap();
    run.status = RunStatus::Completed;
    run.messages = vec![Message::user("go"), Message::new(Role::User, results.clone())];
    stores.sessions.save_run(&session, &run).await.unwrap();
    let loaded = stores.sessions.run("typed", "r1").await.unwrap().unwrap();
    assert_eq!(loaded.messages[1].content, results);
}

/// Input the store cannot hold (Postgres: NUL) is refused before the model
/// is called, and nothing is stored; stores that hold it run as usual.
pub async fn unstorable_input_is_refused_before_the_model_is_called(stores: &Stores) {
    use agent_core::testing::TestModel;
    use agent_core::{Agent, Error};

    let model = Arc::new(TestModel::new().answer("ok"));
    let agent = Agent::builder(Arc::clone(&model)).store(Arc::clone(&stores.sessions)).build().unwrap();
    let refuses = stores.sessions.check_storable("input", "a\0b").is_err();
    let result = agent.run("a\0b").session("nul").await;
    if refuses {
        assert!(matches!(result, Err(Error::Store(StoreError::Invalid(_)))), "{result:?}");
        assert_eq!(model.requests(), 0, "the model was never called");
        assert!(stores.sessions.session("nul").await.unwrap().is_none());
    } else {
        assert_eq!(result.unwrap().content, "ok");
    }
}

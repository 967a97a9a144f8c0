//! Conformance checks for runs seen from another process: finding a run by
//! id, cancel requests and `wait_cancel`, runs abandoned by a dead process,
//! and input the store cannot hold.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_core::{
    ABANDONED_RUN_ERROR, ContentBlock, Message, Role, RunRecord, RunStatus, SessionStore, StoreError, ToolResultContent,
};
use serde_json::json;

use super::Stores;
use super::runs::running;
use super::sessions::{full_run, full_session, record_run};

/// The longest a test waits for a cancel to land (a bound, not a timing assertion).
const LANDING_BOUND: Duration = Duration::from_secs(30);

pub async fn find_run_by_id_alone(stores: &Stores) {
    let store = &*stores.sessions;
    record_run(store, &full_session("s-a"), &full_run("s-a", "r-unique")).await;
    record_run(store, &full_session("s-a"), &full_run("s-a", "r-shared")).await;
    record_run(store, &full_session("s-b"), &full_run("s-b", "r-shared")).await;
    assert_eq!(store.find_run("r-unique").await.unwrap(), Some(full_run("s-a", "r-unique")));
    assert_eq!(store.find_run("r-missing").await.unwrap(), None);
    let err = store.find_run("r-shared").await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "an ambiguous id is an error, not a guess: {err}");
}

pub async fn cancel_requests_reach_running_runs(stores: &Stores) {
    let store = &*stores.sessions;
    store.start_run(&full_session("s-cancel"), &running("s-cancel", "r-run")).await.unwrap();
    record_run(store, &full_session("s-cancel"), &full_run("s-cancel", "r-done")).await;
    assert!(!store.request_cancel("r-missing").await.unwrap(), "no such run");
    assert!(!store.request_cancel("r-done").await.unwrap(), "a finished run is not cancelled");
    assert!(store.request_cancel("r-run").await.unwrap());
    // Requested before the wait started: resolves at once.
    tokio::time::timeout(LANDING_BOUND, store.wait_cancel("r-run")).await.expect("the cancel landed").unwrap();
    match store.wait_cancel("r-missing").await.unwrap_err() {
        StoreError::NotFound { what: "run", id } => assert_eq!(id, "r-missing"),
        other => panic!("expected the run not to be found, got {other:?}"),
    }
    // Starting the run again is a new attempt: the old request is forgotten.
    store.start_run(&full_session("s-cancel"), &running("s-cancel", "r-run")).await.unwrap();
    let pending = tokio::time::timeout(Duration::from_millis(300), store.wait_cancel("r-run")).await;
    assert!(pending.is_err(), "no request for the new attempt yet");
}

/// A run started through `owner` waits for a cancel requested through
/// `canceller` (another store instance stands for another process); returns
/// how long the cancel took to land.
pub async fn cancel_lands_across(owner: Arc<dyn SessionStore>, canceller: Arc<dyn SessionStore>) -> Duration {
    owner.start_run(&full_session("s-remote"), &running("s-remote", "r-remote")).await.unwrap();
    let waiter = tokio::spawn(async move { owner.wait_cancel("r-remote").await.map(|()| Instant::now()) });
    // A request made before the wait starts is caught too; this bounded real
    // wait lets the waiter settle (on Postgres: listen on its socket) so the
    // figure measured is the steady state's.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = Instant::now();
    assert!(canceller.request_cancel("r-remote").await.unwrap());
    let landed = tokio::time::timeout(LANDING_BOUND, waiter).await.expect("the cancel landed").unwrap().unwrap();
    landed.saturating_duration_since(asked)
}

pub async fn a_cancel_wakes_a_waiting_run(stores: &Stores) {
    let took = cancel_lands_across(Arc::clone(&stores.sessions), Arc::clone(&stores.sessions)).await;
    println!("cancel landed in {took:?} (same store instance)");
}

/// Messages of a run that stopped mid-turn: two calls, one answered.
fn interrupted_messages() -> Vec<Message> {
    let call = |id: &str| ContentBlock::ToolUse { id: id.into(), name: "lookup".into(), input: json!({}) };
    vec![
        Message::user("look both up"),
        Message::new(Role::Assistant, vec![call("c1"), call("c2")]),
        Message::new(Role::User, vec![ContentBlock::tool_result("c1", ToolResultContent::Text("found".into()), false)]),
        Message::new(Role::Assistant, vec![call("c3")]),
    ]
}

pub async fn abandoned_runs_fail_with_every_call_answered(stores: &Stores) {
    let store = &*stores.sessions;
    let dead = RunRecord { messages: interrupted_messages(), ..running("s-dead", "r-dead") };
    store.start_run(&full_session("s-dead"), &dead).await.unwrap();
    assert!(store.acquire_lease("s-dead", "dead process", Duration::ZERO).await.unwrap(), "a lease that expired");
    store.start_run(&full_session("s-unleased"), &running("s-unleased", "r-unleased")).await.unwrap();
    store.start_run(&full_session("s-alive"), &running("s-alive", "r-alive")).await.unwrap();
    assert!(store.acquire_lease("s-alive", "live process", Duration::from_secs(60)).await.unwrap());
    record_run(store, &full_session("s-dead"), &full_run("s-dead", "r-finished")).await;

    assert_eq!(store.fail_abandoned_runs().await.unwrap(), 2, "the expired and the unleased run");
    let failed = store.run("s-dead", "r-dead").await.unwrap().unwrap();
    assert_eq!((failed.status, failed.error.as_deref()), (RunStatus::Error, Some(ABANDONED_RUN_ERROR)));
    let results: Vec<(String, bool)> = failed
        .messages
        .iter()
        .flat_map(|message| &message.content)
        .filter_map(|block| match block {
            ContentBlock::ToolResult { tool_call_id, is_error, .. } => Some((tool_call_id.clone(), *is_error)),
            _ => None,
        })
        .collect();
    let expected = [("c1", false), ("c2", true), ("c3", true)].map(|(id, error)| (id.to_owned(), error));
    assert_eq!(results, expected, "every call has a result, the open ones an error");
    assert_eq!(failed.messages.len(), 5, "the last call got a reply message");
    assert_eq!(store.run("s-unleased", "r-unleased").await.unwrap().unwrap().status, RunStatus::Error);
    assert_eq!(store.run("s-alive", "r-alive").await.unwrap().unwrap().status, RunStatus::Running, "still leased");
    assert_eq!(store.run("s-dead", "r-finished").await.unwrap(), Some(full_run("s-dead", "r-finished")));
    assert_eq!(store.fail_abandoned_runs().await.unwrap(), 0, "nothing left to fail");
}

/// Whatever a store accepts it keeps; whatever it refuses is refused up
/// front with `Invalid`, and a run holding it is not written.
pub async fn unstorable_input_is_refused_up_front(stores: &Stores) {
    let store = &*stores.sessions;
    store.check_storable("the input", "grüße 🌍 \"quoted\" \\ \u{7f}").unwrap();
    store.check_storable_json("the state", &json!({"ok": ["text", 1, null, {"nested": true}]})).unwrap();

    let nul_text = "before\0after";
    let nul_json = json!({"key": ["fine", {"inner": "bad\u{0}"}]});
    let nul_key = json!({"bad\u{0}key": 1});
    let mut session = full_session("s-nul");
    session.state = nul_json.as_object().cloned().unwrap();
    let run = RunRecord { input: nul_text.into(), ..running("s-nul", "r-nul") };
    match (store.check_storable("the input", nul_text), store.check_storable_json("the state", &nul_json)) {
        (Ok(()), Ok(())) => {
            store.check_storable_json("the state", &nul_key).unwrap();
            store.start_run(&session, &run).await.unwrap();
            assert_eq!(store.run("s-nul", "r-nul").await.unwrap(), Some(run), "kept as given");
            assert_eq!(store.session("s-nul").await.unwrap().unwrap().state, session.state);
        }
        (Err(text_err), Err(json_err)) => {
            for err in [&text_err, &json_err] {
                assert!(matches!(err, StoreError::Invalid(_)), "{err}");
            }
            assert!(text_err.to_string().contains("the input") && text_err.to_string().contains("NUL"), "{text_err}");
            assert!(store.check_storable_json("the state", &nul_key).is_err(), "keys are checked too");
            let refused = store.start_run(&session, &run).await.unwrap_err();
            assert!(matches!(refused, StoreError::Invalid(_)), "refused before the database: {refused}");
            let clean = RunRecord { input: "fine".into(), ..run.clone() };
            let refused = store.start_run(&session, &clean).await.unwrap_err();
            assert!(refused.to_string().contains("session state"), "{refused}");
            assert_eq!(store.session("s-nul").await.unwrap(), None, "nothing written");
        }
        (text, json) => panic!("text and JSON checks disagree: {text:?} / {json:?}"),
    }
}

//! Conformance checks for the SQL backends: corrupt rows, schema versions,
//! several store instances on one database, reopening.

use std::sync::Arc;

use agent_core::SessionType;
use agent_core::eval::{EvalQuery, EvalType};
use agent_core::memory::MemoryQuery;
use agent_core::{SessionQuery, StoreError};

use super::Stores;
use super::cancel::cancel_lands_across;
use super::evals::eval_run;
use super::memories::memory;
use super::runs::{claim_concurrently, count_under_the_lease};
use super::sessions::{assert_concurrent_runs, full_run, full_session, paused_run, record_run, save_concurrently};

fn assert_corrupt(err: StoreError, what: &str, id: &str) {
    match err {
        StoreError::Corrupt { what: found_what, id: found_id, message } => {
            assert_eq!((found_what, found_id.as_str()), (what, id), "{message}");
            assert!(!message.is_empty());
        }
        other => panic!("expected a corrupt {what} `{id}`, got {other:?}"),
    }
}

pub async fn corrupt_session_rows(stores: &Stores) {
    let store = &*stores.sessions;
    for id in ["c-1", "c-2", "c-3"] {
        store.upsert_session(&full_session(id)).await.unwrap();
    }
    (stores.raw())("UPDATE agent_sessions SET session_type = 'spaceship' WHERE session_id = 'c-2'".into()).await;

    assert_corrupt(store.session("c-2").await.unwrap_err(), "session", "c-2");
    assert!(store.session("c-1").await.unwrap().is_some());
    let page = store.list_sessions(&SessionQuery::default()).await.unwrap();
    let ids: Vec<_> = page.items.iter().map(|session| session.session_id.as_str()).collect();
    assert_eq!(ids, ["c-3", "c-1"], "the corrupt row is skipped, the others are listed");
    assert_eq!(page.total, 3, "the total still counts it");
    assert!(store.delete_session("c-2").await.unwrap(), "a corrupt session can be deleted");
}

pub async fn corrupt_run_rows(stores: &Stores) {
    let store = &*stores.sessions;
    let session = full_session("c-runs");
    for run_id in ["r-1", "r-2", "r-3", "r-4"] {
        record_run(store, &session, &full_run("c-runs", run_id)).await;
    }
    let raw = stores.raw();
    raw("UPDATE agent_runs SET status = 'exploded' WHERE run_id = 'r-2'".into()).await;
    raw(r#"UPDATE agent_runs SET messages = '{"version": 1, "messages": [{"role": "alien"}]}' WHERE run_id = 'r-3'"#
        .into())
    .await;
    raw(r#"UPDATE agent_runs SET messages = '{"version": 999, "messages": []}' WHERE run_id = 'r-4'"#.into()).await;

    assert_corrupt(store.run("c-runs", "r-2").await.unwrap_err(), "run", "c-runs/r-2");
    assert_corrupt(store.run("c-runs", "r-3").await.unwrap_err(), "run", "c-runs/r-3");
    let newer = store.run("c-runs", "r-4").await.unwrap_err();
    assert!(newer.to_string().contains("version 999"), "{newer}");
    assert_corrupt(newer, "run", "c-runs/r-4");
    let runs = store.runs("c-runs", None).await.unwrap();
    assert_eq!(runs, vec![full_run("c-runs", "r-1")], "lists skip corrupt runs");
    assert_eq!(store.runs("c-runs", Some(2)).await.unwrap(), vec![], "the newest two are both corrupt");
}

pub async fn corrupt_memory_rows(stores: &Stores) {
    let store = &*stores.memories;
    for id in ["k-1", "k-2", "k-3"] {
        store.upsert_memory(&memory(id, "ana", "Ana likes tea.", &["drinks"], 1)).await.unwrap();
    }
    (stores.raw())(r#"UPDATE agent_memories SET topics = '{"not": "a list"}' WHERE memory_id = 'k-2'"#.into()).await;

    assert_corrupt(store.memory("k-2").await.unwrap_err(), "memory", "k-2");
    let page = store.list_memories(&MemoryQuery::user("ana")).await.unwrap();
    let ids: Vec<_> = page.items.iter().map(|memory| memory.memory_id.as_str()).collect();
    assert_eq!((ids, page.total), (vec!["k-3", "k-1"], 3));
    assert_eq!(store.memory_topics(Some("ana")).await.unwrap(), ["drinks"], "topic queries survive it");
    assert_eq!(store.user_memory_stats(None, None).await.unwrap().items[0].total_memories, 3);
}

pub async fn corrupt_eval_rows(stores: &Stores) {
    let store = &*stores.evals;
    for (id, created_at) in [("v-1", 1), ("v-2", 2), ("v-3", 3)] {
        store
            .create_eval_run(&eval_run(id, EvalType::Reliability, SessionType::Agent, "a1", created_at))
            .await
            .unwrap();
    }
    (stores.raw())("UPDATE agent_eval_runs SET eval_type = 'vibes' WHERE id = 'v-2'".into()).await;

    assert_corrupt(store.eval_run("v-2").await.unwrap_err(), "eval run", "v-2");
    let page = store.list_eval_runs(&EvalQuery::default()).await.unwrap();
    let ids: Vec<_> = page.items.iter().map(|run| run.id.as_str()).collect();
    assert_eq!((ids, page.total), (vec!["v-3", "v-1"], 3), "skipped in lists, still counted");
    assert_corrupt(store.rename_eval_run("v-2", "x").await.unwrap_err(), "eval run", "v-2");
    assert_eq!(store.delete_eval_runs(&["v-2".into()]).await.unwrap(), 1, "a corrupt run can be deleted");
}

pub async fn newer_schema_is_refused(stores: &Stores) {
    (stores.raw())(
        "INSERT INTO agent_schema_version (version, description, applied_at) VALUES (999, 'from the future', 0)".into(),
    )
    .await;
    match stores.reopen().await {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (999, agent_memory::SCHEMA_VERSION));
        }
        Err(other) => panic!("expected SchemaTooNew, got {other:?}"),
        Ok(_) => panic!("a store opened a schema newer than it knows"),
    }
}

/// Two store instances on one database, 25 writers each, on one session.
pub async fn two_instances_keep_every_run(stores: &Stores) {
    let second = stores.reopen().await.unwrap();
    save_concurrently(&[Arc::clone(&stores.sessions), Arc::clone(&second.sessions)], "s-two", 50).await;
    assert_concurrent_runs(&stores.sessions.runs("s-two", None).await.unwrap(), 50);
    assert_concurrent_runs(&second.sessions.runs("s-two", None).await.unwrap(), 50);
}

pub async fn paused_run_survives_reopen(stores: &Stores) {
    let paused = paused_run("s-reopen", "r-1");
    record_run(&*stores.sessions, &full_session("s-reopen"), &paused).await;
    let reopened = stores.reopen().await.unwrap();
    assert_eq!(reopened.sessions.run("s-reopen", "r-1").await.unwrap(), Some(paused));
}

/// The counter test with the tasks spread over two store instances, as two processes.
pub async fn two_instances_count_to_100_under_the_lease(stores: &Stores) {
    let second = stores.reopen().await.unwrap();
    count_under_the_lease(&[Arc::clone(&stores.sessions), Arc::clone(&second.sessions)], "s-two-counter", 100).await;
}

pub async fn two_instances_claim_a_paused_run_once(stores: &Stores) {
    let second = stores.reopen().await.unwrap();
    claim_concurrently(&[Arc::clone(&stores.sessions), Arc::clone(&second.sessions)], 20).await;
}

/// A cancel requested through one instance reaches a run waiting in another.
pub async fn a_cancel_lands_in_another_instance(stores: &Stores) {
    let second = stores.reopen().await.unwrap();
    let took = cancel_lands_across(Arc::clone(&stores.sessions), Arc::clone(&second.sessions)).await;
    println!("cancel landed in {took:?} (across store instances)");
}

//! Conformance checks for daily usage metrics: the same counts, tokens and models on every backend.

use agent_core::metrics::{DAY_SECONDS, DayRange, ModelCount};
use agent_core::{RunRecord, RunStatus, Session, SessionType};
use serde_json::json;

use super::Stores;
use super::sessions::record_run;

fn run(session: &str, id: &str, at: i64, user: &str, model: &str, tokens: u64) -> RunRecord {
    RunRecord {
        run_id: id.into(),
        session_id: session.into(),
        user_id: Some(user.into()),
        status: RunStatus::Completed,
        input: "hi".into(),
        metrics: json!({"input_tokens": tokens, "output_tokens": 1, "total_tokens": tokens + 1, "cache_read_tokens": 2}),
        model: Some(model.into()),
        model_provider: Some("anthropic".into()),
        created_at: at,
        updated_at: at,
        ..RunRecord::default()
    }
}

pub async fn daily_metrics_count_runs_sessions_users_tokens_and_models(stores: &Stores) {
    let store = &*stores.sessions;
    let day = 20_000 * DAY_SECONDS;
    let agent = Session::new("m-agent", SessionType::Agent);
    let team = Session::new("m-team", SessionType::Team);
    record_run(store, &agent, &run("m-agent", "r1", day + 10, "ana", "opus", 10)).await;
    record_run(store, &agent, &run("m-agent", "r2", day + 20, "bob", "sonnet", 5)).await;
    record_run(store, &team, &run("m-team", "r3", day + 30, "ana", "opus", 7)).await;
    let member = RunRecord { parent_run_id: Some("r3".into()), ..run("m-team", "m1", day + 31, "ana", "opus", 99) };
    record_run(store, &team, &member).await;
    let odd =
        RunRecord { metrics: json!({"input_tokens": "many"}), ..run("m-agent", "r6", day + 50, "ana", "opus", 0) };
    record_run(store, &agent, &odd).await;
    store
        .start_run(&agent, &RunRecord { status: RunStatus::Running, ..run("m-agent", "r4", day + 40, "cy", "opus", 1) })
        .await
        .unwrap();
    record_run(store, &agent, &run("m-agent", "r5", day + DAY_SECONDS + 5, "ana", "opus", 1)).await;

    let days = store.daily_metrics(DayRange::default()).await.unwrap();
    assert_eq!(days.len(), 2, "{days:?}");
    let first = &days[0];
    assert_eq!(first.day, day);
    assert_eq!((first.agent_runs, first.agent_sessions, first.team_runs, first.team_sessions), (3, 1, 1, 1));
    assert_eq!((first.workflow_runs, first.workflow_sessions, first.users), (0, 0, 2));
    assert_eq!(first.tokens.input_tokens, 22, "member and running runs are not counted; a non-number counts 0");
    assert_eq!(first.tokens.cache_read_tokens, 6);
    assert_eq!(
        first.models,
        [
            ModelCount { model_id: "opus".into(), model_provider: "anthropic".into(), count: 3 },
            ModelCount { model_id: "sonnet".into(), model_provider: "anthropic".into(), count: 1 },
        ]
    );
    let second = store.daily_metrics(DayRange { from: Some(day + DAY_SECONDS), to: None }).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].agent_runs, 1);
    let only_first = store.daily_metrics(DayRange { from: Some(day), to: Some(day) }).await.unwrap();
    assert_eq!(only_first.len(), 1);
    assert_eq!(only_first[0].day, day);
    assert!(store.daily_metrics(DayRange { from: Some(day + 2 * DAY_SECONDS), to: None }).await.unwrap().is_empty());
}

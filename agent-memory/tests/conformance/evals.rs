//! Conformance checks for `EvalStore`: eval runs kept whole, filtered as AgentOS filters them, sorted, paged, renamed and deleted.

use agent_core::eval::{EvalQuery, EvalRun, EvalSort, EvalType};
use agent_core::{SessionType, SortOrder, StoreError};
use serde_json::json;

use super::Stores;

/// An eval run of `kind` component `component`, with every field set.
pub fn eval_run(id: &str, eval_type: EvalType, kind: SessionType, component: &str, created_at: i64) -> EvalRun {
    let of = |wanted: SessionType| (kind == wanted).then(|| component.to_owned());
    EvalRun {
        id: id.into(),
        eval_type,
        name: Some(format!("eval {id}")),
        agent_id: of(SessionType::Agent),
        team_id: of(SessionType::Team),
        workflow_id: of(SessionType::Workflow),
        model_id: Some("claude-sonnet-4-5".into()),
        model_provider: Some("anthropic".into()),
        evaluated_component_name: Some(format!("The {component}")),
        eval_input: json!({"input": "Weather in Paris?", "expected_tool_calls": ["get_weather"], "threshold": null}),
        eval_data: json!({"eval_status": "PASSED", "passed_tool_calls": ["get_weather"], "scores": [7.5, 10]}),
        created_at,
        updated_at: created_at,
    }
}

fn ids(runs: &[EvalRun]) -> Vec<&str> {
    runs.iter().map(|run| run.id.as_str()).collect()
}

/// Six runs: agents `a1` and `a2`, team `t1`, workflow `w1`, two models.
async fn seed(stores: &Stores) {
    let mut rows = vec![
        eval_run("e1", EvalType::Reliability, SessionType::Agent, "a1", 10),
        eval_run("e2", EvalType::Accuracy, SessionType::Agent, "a1", 20),
        eval_run("e3", EvalType::Performance, SessionType::Agent, "a2", 30),
        eval_run("e4", EvalType::AgentAsJudge, SessionType::Team, "t1", 40),
        eval_run("e5", EvalType::Reliability, SessionType::Team, "t1", 50),
        eval_run("e6", EvalType::Performance, SessionType::Workflow, "w1", 60),
    ];
    rows[2].model_id = Some("other-model".into());
    rows[5].model_id = None;
    rows[5].model_provider = None;
    for row in rows {
        stores.evals.create_eval_run(&row).await.unwrap();
    }
}

pub async fn eval_run_roundtrip(stores: &Stores) {
    let store = &*stores.evals;
    let mut full = eval_run("e-1", EvalType::AgentAsJudge, SessionType::Agent, "agent-a", 7);
    full.name = Some("Nightly \"quoted\" grüße 🌍".into());
    full.eval_data = json!({"results": [{"reason": "Multi\nline", "score": 9, "passed": true}], "avg_score": 9.0});
    store.create_eval_run(&full).await.unwrap();
    assert_eq!(store.eval_run("e-1").await.unwrap(), Some(full.clone()));
    assert_eq!(store.eval_run("missing").await.unwrap(), None);

    let sparse = EvalRun {
        id: "e-2".into(),
        eval_type: EvalType::Performance,
        name: None,
        agent_id: None,
        team_id: None,
        workflow_id: None,
        model_id: None,
        model_provider: None,
        evaluated_component_name: None,
        eval_input: json!({}),
        eval_data: json!({}),
        created_at: 1,
        updated_at: 2,
    };
    store.create_eval_run(&sparse).await.unwrap();
    assert_eq!(store.eval_run("e-2").await.unwrap(), Some(sparse));

    let mut again = full.clone();
    again.name = Some("replaced?".into());
    match store.create_eval_run(&again).await {
        Err(StoreError::Invalid(message)) => assert!(message.contains("e-1"), "{message}"),
        other => panic!("a second run with an existing id must be refused, got {other:?}"),
    }
    assert_eq!(store.eval_run("e-1").await.unwrap(), Some(full), "the first is kept");
}

pub async fn list_eval_runs_filters(stores: &Stores) {
    seed(stores).await;
    let store = &*stores.evals;
    let list = |query: EvalQuery| async move {
        let page = store.list_eval_runs(&query).await.unwrap();
        (ids(&page.items).into_iter().map(str::to_owned).collect::<Vec<_>>(), page.total)
    };
    let q = EvalQuery::default;
    assert_eq!(list(q()).await, (vec!["e6", "e5", "e4", "e3", "e2", "e1"].into_iter().map(Into::into).collect(), 6));
    let agent = |id: &str| EvalQuery { agent_id: Some(id.into()), ..q() };
    assert_eq!(list(agent("a1")).await.0, ["e2", "e1"]);
    assert_eq!(list(agent("nobody")).await, (vec![], 0));
    assert_eq!(list(EvalQuery { team_id: Some("t1".into()), ..q() }).await.0, ["e5", "e4"]);
    assert_eq!(list(EvalQuery { workflow_id: Some("w1".into()), ..q() }).await.0, ["e6"]);
    assert_eq!(list(EvalQuery { model_id: Some("other-model".into()), ..q() }).await.0, ["e3"]);
    let component = |kind| EvalQuery { component: Some(kind), ..q() };
    assert_eq!(list(component(SessionType::Agent)).await.0, ["e3", "e2", "e1"]);
    assert_eq!(list(component(SessionType::Team)).await.0, ["e5", "e4"]);
    assert_eq!(list(component(SessionType::Workflow)).await.0, ["e6"]);
    let types = |types: &[EvalType]| EvalQuery { eval_types: types.to_vec(), ..q() };
    assert_eq!(list(types(&[EvalType::Reliability])).await.0, ["e5", "e1"]);
    assert_eq!(list(types(&[EvalType::Reliability, EvalType::Accuracy])).await.0, ["e5", "e2", "e1"]);
    let combined = EvalQuery {
        component: Some(SessionType::Agent),
        eval_types: vec![EvalType::Performance, EvalType::Reliability],
        model_id: Some("claude-sonnet-4-5".into()),
        ..q()
    };
    assert_eq!(list(combined).await, (vec!["e1".to_owned()], 1));
    let contradictory = EvalQuery { agent_id: Some("a1".into()), component: Some(SessionType::Team), ..q() };
    assert_eq!(list(contradictory).await, (vec![], 0));
}

pub async fn list_eval_runs_sorts_and_pages(stores: &Stores) {
    seed(stores).await;
    let store = &*stores.evals;
    let mut unnamed = eval_run("e7", EvalType::Accuracy, SessionType::Agent, "a3", 70);
    unnamed.name = None;
    store.create_eval_run(&unnamed).await.unwrap();
    let mut upper = eval_run("e8", EvalType::Accuracy, SessionType::Agent, "a3", 5);
    upper.name = Some("Zebra".into());
    upper.updated_at = 100;
    store.create_eval_run(&upper).await.unwrap();

    let sorted = |sort_by, sort_order| async move {
        let page = store.list_eval_runs(&EvalQuery { sort_by, sort_order, ..EvalQuery::default() }).await.unwrap();
        ids(&page.items).into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(sorted(EvalSort::CreatedAt, SortOrder::Asc).await, ["e8", "e1", "e2", "e3", "e4", "e5", "e6", "e7"]);
    assert_eq!(sorted(EvalSort::UpdatedAt, SortOrder::Desc).await[..2], ["e8", "e7"]);
    // No name sorts as an empty one; then byte order ("Z" before "e").
    assert_eq!(sorted(EvalSort::Name, SortOrder::Asc).await, ["e7", "e8", "e1", "e2", "e3", "e4", "e5", "e6"]);

    let page = |limit, page| EvalQuery { limit: Some(limit), page: Some(page), ..EvalQuery::default() };
    let second = store.list_eval_runs(&page(3, 2)).await.unwrap();
    assert_eq!((ids(&second.items), second.total, second.page), (vec!["e4", "e3", "e2"], 8, 2));
    assert_eq!(second.total_pages(), 3);
    let beyond = store.list_eval_runs(&page(3, 9)).await.unwrap();
    assert_eq!((beyond.items.len(), beyond.total), (0, 8));
    let filtered = EvalQuery { agent_id: Some("a1".into()), ..page(1, 2) };
    let filtered = store.list_eval_runs(&filtered).await.unwrap();
    assert_eq!((ids(&filtered.items), filtered.total), (vec!["e1"], 2));
}

pub async fn rename_eval_run(stores: &Stores) {
    seed(stores).await;
    let store = &*stores.evals;
    let renamed = store.rename_eval_run("e2", "Renamed — ünïcode").await.unwrap().unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Renamed — ünïcode"));
    assert!(renamed.updated_at > 20, "renaming updates updated_at");
    let mut expected = eval_run("e2", EvalType::Accuracy, SessionType::Agent, "a1", 20);
    expected.name = renamed.name.clone();
    expected.updated_at = renamed.updated_at;
    assert_eq!(renamed, expected, "nothing else changes");
    assert_eq!(store.eval_run("e2").await.unwrap(), Some(renamed));
    assert_eq!(store.rename_eval_run("missing", "x").await.unwrap(), None);
}

pub async fn delete_eval_runs(stores: &Stores) {
    seed(stores).await;
    let store = &*stores.evals;
    let deleted = store.delete_eval_runs(&["e1".into(), "e4".into(), "missing".into(), "e1".into()]).await.unwrap();
    assert_eq!(deleted, 2, "only runs that existed count");
    assert_eq!(store.delete_eval_runs(&[]).await.unwrap(), 0);
    let left = store.list_eval_runs(&EvalQuery::default()).await.unwrap();
    assert_eq!((ids(&left.items), left.total), (vec!["e6", "e5", "e3", "e2"], 4));
    assert_eq!(store.eval_run("e4").await.unwrap(), None);
}

pub async fn eval_runs_with_nul_are_kept_or_refused(stores: &Stores) {
    let store = &*stores.evals;
    let mut odd = eval_run("e-nul", EvalType::Accuracy, SessionType::Agent, "a1", 1);
    odd.eval_data = json!({"results": [{"output": "a\u{0}b"}]});
    match store.create_eval_run(&odd).await {
        Ok(()) => assert_eq!(store.eval_run("e-nul").await.unwrap(), Some(odd)),
        Err(StoreError::Invalid(message)) => {
            assert!(message.contains("NUL"), "{message}");
            assert_eq!(store.eval_run("e-nul").await.unwrap(), None);
        }
        Err(other) => panic!("expected the eval run kept or refused as invalid, got {other:?}"),
    }
}

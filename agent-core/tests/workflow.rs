//! Workflows: sequence, parallel, condition, loop, router, error policies,
//! early stop, cancellation, session state and events.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use agent_core::testing::{FunctionModel, TestModel, text_response};
use agent_core::{
    Agent, Error, InMemoryStore, OnError, RunInput, RunStatus, SessionStore, Step, StepOutput, Team, Workflow,
};
use futures::StreamExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

fn append(name: &'static str) -> Step {
    Step::function(name, move |input| async move { Ok(StepOutput::new(format!("{}>{name}", input.previous_text()))) })
}

#[tokio::test]
async fn steps_see_the_input_the_previous_output_and_named_outputs() {
    let workflow = Workflow::builder("w")
        .step(append("a"))
        .step(append("b"))
        .step(Step::function("c", |input| async move {
            Ok(StepOutput::new(json!({
                "input": input.input(),
                "previous": input.previous(),
                "a": input.output("a"),
            })))
        }))
        .build()
        .unwrap();
    let output = workflow.run("start").await.unwrap();
    assert_eq!(output.content, json!({"input": "start", "previous": "start>a>b", "a": "start>a"}));
    let names: Vec<&str> = output.step_outputs.iter().map(|o| o.step_name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(output.status, RunStatus::Completed);
}

#[tokio::test]
async fn agent_and_team_steps_take_the_previous_output_as_their_input() {
    let echo = Agent::builder(FunctionModel::new(|request| {
        Ok(text_response(format!("agent read: {}", request.messages.last().unwrap().text())))
    }))
    .id("echo")
    .build()
    .unwrap();
    let team = Team::builder(TestModel::new().answer("team summary"))
        .id("team")
        .member(Agent::builder(TestModel::new().answer("x")).id("m").build().unwrap())
        .build()
        .unwrap();
    let workflow = Workflow::builder("w")
        .step(append("draft"))
        .step(Step::run("review", echo))
        .step(Step::run("summarize", team))
        .build()
        .unwrap();
    let output = workflow.run("topic").await.unwrap();
    assert_eq!(output.step_outputs[1].content, "agent read: topic>draft");
    assert_eq!(output.content, "team summary");
    assert!(output.usage.output_tokens > 0);
}

#[tokio::test(start_paused = true)]
async fn parallel_steps_run_at_once_and_combine_their_outputs() {
    let sleeper = |name: &'static str, ms: u64| {
        Step::function(name, move |_| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(StepOutput::new(name))
        })
    };
    let workflow = Workflow::builder("w")
        .step(Step::parallel("fan_out", vec![sleeper("x", 300), sleeper("y", 200)]))
        .step(Step::function("join", |input| async move {
            Ok(StepOutput::new(json!([input.previous(), input.output("y")])))
        }))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let output = workflow.run(json!(null)).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_millis(300));
    assert_eq!(output.content, json!([{"x": "x", "y": "y"}, "y"]));
}

#[tokio::test]
async fn conditions_loops_and_routers_steer_the_flow() {
    let count = Arc::new(AtomicU32::new(0));
    let counter = count.clone();
    let workflow = Workflow::builder("w")
        .step(Step::condition("only_long", |input| input.previous_text().len() > 100, vec![append("never")]))
        .step(Step::repeat(
            "refine",
            vec![Step::function("pass", move |_| {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                async move { Ok(StepOutput::new(n)) }
            })],
            |outputs| outputs.last().is_some_and(|o| o.content == json!(3)),
            10,
        ))
        .step(Step::router(
            "pick",
            |input| if input.previous() == Some(&json!(3)) { vec!["odd".into()] } else { vec!["even".into()] },
            vec![append("odd"), append("even")],
        ))
        .build()
        .unwrap();
    let output = workflow.run("in").await.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert_eq!(output.content, "3>odd");
    assert!(!output.step_outputs.iter().any(|o| o.step_name == "never"));

    let bounded =
        Workflow::builder("w").step(Step::repeat("forever", vec![append("x")], |_| false, 4)).build().unwrap();
    assert_eq!(bounded.run("").await.unwrap().content, ">x>x>x>x");
}

#[tokio::test]
async fn error_policies_fail_skip_or_retry() {
    let attempts = Arc::new(AtomicU32::new(0));
    let counter = attempts.clone();
    let flaky = move || {
        let counter = counter.clone();
        Step::function("flaky", move |_| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move { if n < 2 { Err("not yet".into()) } else { Ok(StepOutput::new("finally")) } }
        })
    };
    let broken = || Step::function("broken", |_| async { Err::<StepOutput, _>("boom".into()) });

    let retried = Workflow::builder("w").step(flaky().on_error(OnError::Retry(2))).build().unwrap();
    assert_eq!(retried.run("").await.unwrap().content, "finally");
    assert_eq!(attempts.load(Ordering::SeqCst), 3);

    let skipped = Workflow::builder("w")
        .step(append("a"))
        .step(broken().on_error(OnError::Skip))
        .step(append("b"))
        .build()
        .unwrap();
    let output = skipped.run("in").await.unwrap();
    assert_eq!(output.content, "in>a>b");
    assert_eq!(output.step_outputs[1].content, json!(null));

    let failing = Workflow::builder("w").step(broken()).step(append("never")).build().unwrap();
    match failing.run("").await {
        Err(Error::StepFailed { step, source }) => {
            assert_eq!((step.as_str(), source.to_string().as_str()), ("broken", "boom"))
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn any_step_can_stop_the_workflow_early() {
    let workflow = Workflow::builder("w")
        .step(Step::function("gate", |_| async { Ok(StepOutput::stop("rejected")) }))
        .step(append("never"))
        .build()
        .unwrap();
    let output = workflow.run("").await.unwrap();
    assert_eq!(output.content, "rejected");
    assert_eq!(output.step_outputs.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn cancelling_stops_every_parallel_branch() {
    let finished = Arc::new(AtomicBool::new(false));
    let branch = |flag: Arc<AtomicBool>| {
        Step::function("slow", move |_| {
            let flag = flag.clone();
            async move {
                tokio::time::sleep(Duration::from_secs(60)).await;
                flag.store(true, Ordering::SeqCst);
                Ok(StepOutput::new("done"))
            }
        })
    };
    let workflow = Workflow::builder("w")
        .step(Step::parallel("both", vec![branch(finished.clone()), branch(finished.clone()).on_error(OnError::Skip)]))
        .build()
        .unwrap();
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        cancel.cancel();
    });
    let result = workflow.run("").cancel(token).await;
    assert!(matches!(result, Err(Error::Cancelled)));
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert!(!finished.load(Ordering::SeqCst));
}

#[tokio::test]
async fn session_state_is_shared_by_steps_and_persisted() {
    let store = Arc::new(InMemoryStore::new());
    let bump = || {
        Step::function("bump", |input| async move {
            let mut state = input.session_state();
            let visits = state.get("visits").and_then(|v| v.as_i64()).unwrap_or(0) + 1;
            state.insert("visits".into(), json!(visits));
            Ok(StepOutput::new(visits))
        })
    };
    let workflow = Workflow::builder("w").step(bump()).step(bump()).store(store.clone()).build().unwrap();
    workflow.run("").session("s").await.unwrap();
    let second = workflow.run("").session("s").await.unwrap();
    assert_eq!(second.content, 4);
    let session = store.session("s").await.unwrap().unwrap();
    assert_eq!(session.session_type, agent_core::SessionType::Workflow);
    assert_eq!(session.state["visits"], 4);
    assert_eq!(store.runs("s", None).await.unwrap().len(), 2);
}

#[tokio::test]
async fn workflow_streams_step_and_agent_events() {
    let writer = Agent::builder(TestModel::new().answer("text")).id("writer").build().unwrap();
    let workflow = Workflow::builder("pipeline")
        .step(Step::parallel("both", vec![append("a"), append("b")]))
        .step(Step::run("write", writer))
        .build()
        .unwrap();
    let mut stream = workflow.run("go").stream();
    let mut names = Vec::new();
    while let Some(event) = stream.next().await {
        assert_eq!(event.workflow_id.as_deref(), Some("pipeline"));
        names.push(format!("{}:{}", event.name(), event.step_name.as_deref().unwrap_or("-")));
    }
    assert_eq!(
        names,
        [
            "WorkflowStarted:-",
            "ParallelExecutionStarted:-",
            "StepStarted:a",
            "StepCompleted:a",
            "StepStarted:b",
            "StepCompleted:b",
            "ParallelExecutionCompleted:-",
            "StepStarted:write",
            "RunStarted:write",
            "RunContent:write",
            "RunContentCompleted:write",
            "RunCompleted:write",
            "StepCompleted:write",
            "WorkflowCompleted:-",
        ]
    );
    assert_eq!(stream.output().unwrap().unwrap().content, "text");
}

#[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
struct Article {
    title: String,
    words: u32,
}

#[tokio::test]
async fn typed_input_and_output() {
    let workflow = Workflow::builder("w")
        .step(Step::function("count", |input| async move {
            let article: Article = serde_json::from_value(input.input().clone())?;
            Ok(StepOutput::new(json!({"title": article.title.to_uppercase(), "words": article.words * 2})))
        }))
        .build()
        .unwrap();
    let input = RunInput::json(Article { title: "rust".into(), words: 2 }).unwrap();
    let output = workflow.run(input).typed::<Article>().await.unwrap();
    assert_eq!(output.content, Article { title: "RUST".into(), words: 4 });
    let bad = workflow.run(json!({"nope": true})).await.unwrap_err();
    assert!(bad.report().contains("missing field `title`"), "{}", bad.report());
}

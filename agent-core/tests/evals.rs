//! Evals on the test models: reliability (agents, teams, workflows, failed runs), accuracy and agent-as-judge with scripted judges, performance on a paused clock with a fake memory probe.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use agent_core::eval::{
    AccuracyEval, AgentAsJudgeEval, Eval, EvalStatus, EvalStore, EvalType, InMemoryEvalStore, MemoryProbe,
    PerformanceEval, ReliabilityEval, Scoring,
};
use agent_core::testing::{FunctionModel, ScriptedModel, Turn, text_response, tool_calls_response};
use agent_core::{
    Agent, ContentBlock, Error, FnTool, Model, ModelError, ModelErrorKind, ModelRequest, ModelResponse, SessionType,
    Step, StoreError, Team, ToolError, Workflow,
};
use serde_json::{Value, json};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct City {
    /// The city's name.
    city: String,
}

fn weather_tool() -> FnTool {
    FnTool::new("get_weather", "Weather in a city.", |_ctx, args: City| async move {
        Ok::<_, ToolError>(format!("Sunny in {}", args.city))
    })
}

/// Calls `get_weather` for Paris on a fresh prompt, then answers with the result.
fn weather_brain() -> FunctionModel {
    FunctionModel::new(|request: &ModelRequest| {
        let answered = request.messages.last().is_some_and(|message| {
            message.content.iter().any(|block| matches!(block, ContentBlock::ToolResult { .. }))
        });
        if answered {
            Ok(text_response("It is sunny in Paris."))
        } else {
            Ok(tool_calls_response([("c1", "get_weather", json!({"city": "Paris", "units": "C"}))]))
        }
    })
    .with_id("brain-1")
}

fn weather_agent() -> Agent {
    Agent::builder(weather_brain()).id("weather").name("Weather Agent").tool(weather_tool()).build().unwrap()
}

fn failing_model() -> FunctionModel {
    FunctionModel::new(|_| Err(ModelError::new(ModelErrorKind::Overloaded, "overloaded")))
}

#[tokio::test]
async fn reliability_passes_when_the_expected_calls_are_made_with_their_arguments() {
    let eval = ReliabilityEval::new("Weather in Paris?", ["get_weather"])
        .expect_arguments("get_weather", json!({"city": "Paris"}))
        .unwrap()
        .name("weather check");
    let result = eval.run(&weather_agent()).await.unwrap();
    assert_eq!(result.eval_status, EvalStatus::Passed);
    assert_eq!(result.passed_tool_calls, ["get_weather"]);
    assert_eq!(result.passed_argument_checks[0].actual_arguments, [json!({"city": "Paris", "units": "C"})]);
    assert!(result.run_id.is_some() && result.error.is_none());
    assert_eq!((result.subject.kind, result.subject.id.as_deref()), (SessionType::Agent, Some("weather")));

    let record = eval.record(&result);
    assert_eq!((record.eval_type, record.name.as_deref()), (EvalType::Reliability, Some("weather check")));
    assert_eq!((record.agent_id.as_deref(), record.team_id.as_deref()), (Some("weather"), None));
    assert_eq!((record.model_id.as_deref(), record.model_provider.as_deref()), (Some("brain-1"), Some("test")));
    assert_eq!(record.evaluated_component_name.as_deref(), Some("Weather Agent"));
    assert_eq!(record.eval_input["expected_tool_calls"], json!(["get_weather"]));
    assert_eq!(record.eval_data["eval_status"], "PASSED");
    assert_eq!(record.eval_data["run_id"], json!(result.run_id));
    assert_eq!(record.status(), Some(EvalStatus::Passed));
}

#[tokio::test]
async fn reliability_fails_on_missing_calls_and_on_additional_ones_unless_allowed() {
    let strict = ReliabilityEval::new("Weather in Paris?", ["search"]).run(&weather_agent()).await.unwrap();
    assert_eq!(strict.eval_status, EvalStatus::Failed);
    assert_eq!(strict.missing_tool_calls, ["search"]);
    assert_eq!(strict.additional_tool_calls, ["get_weather"]);
    assert_eq!(strict.failed_tool_calls, ["get_weather", "search"]);

    let lenient = ReliabilityEval::new("Weather in Paris?", ["get_weather", "search"])
        .allow_additional_tool_calls(true)
        .expect_arguments("get_weather", json!({"city": "Rome"}))
        .unwrap()
        .run(&weather_agent())
        .await
        .unwrap();
    assert_eq!((lenient.failed_tool_calls, lenient.eval_status), (vec!["search".to_owned()], EvalStatus::Failed));
    assert_eq!(lenient.failed_argument_checks[0].actual_arguments, [json!({"city": "Paris", "units": "C"})]);
}

#[tokio::test]
async fn reliability_counts_team_members_and_workflow_steps_calls() {
    let leader = ScriptedModel::new([
        Turn::respond(tool_calls_response([(
            "d1",
            "delegate_task_to_member",
            json!({"member_id": "weather", "task": "weather in Paris"}),
        )])),
        Turn::text("Sunny."),
    ]);
    let team = Team::builder(leader).id("crew").name("Crew").member(weather_agent()).build().unwrap();
    let result = ReliabilityEval::new("Weather?", ["delegate_task_to_member", "get_weather"]).run(&team).await.unwrap();
    assert_eq!(result.eval_status, EvalStatus::Passed, "{result:?}");
    assert_eq!(result.passed_tool_calls, ["get_weather", "delegate_task_to_member"], "in the order they finished");
    assert_eq!((result.subject.kind, result.subject.id.as_deref()), (SessionType::Team, Some("crew")));

    let workflow = Workflow::builder("flow").step(Step::run("forecast", weather_agent())).build().unwrap();
    let eval = ReliabilityEval::new("Weather?", ["get_weather"]);
    let result = eval.run(&workflow).await.unwrap();
    assert_eq!(result.eval_status, EvalStatus::Passed);
    let record = eval.record(&result);
    assert_eq!((record.workflow_id.as_deref(), record.model_id.as_deref()), (Some("flow"), None));
}

#[tokio::test]
async fn reliability_of_a_failed_run_fails_and_keeps_the_calls_made_before() {
    let model = ScriptedModel::new([
        Turn::tool_call("c1", "get_weather", json!({"city": "Paris"})),
        Turn::error(ModelError::new(ModelErrorKind::Overloaded, "overloaded")),
    ]);
    let agent = Agent::builder(model).id("flaky").tool(weather_tool()).build().unwrap();
    let result = ReliabilityEval::new("Weather?", ["get_weather"]).run(&agent).await.unwrap();
    assert_eq!(result.eval_status, EvalStatus::Failed);
    assert_eq!(result.passed_tool_calls, ["get_weather"]);
    assert!(result.error.as_deref().unwrap().contains("overloaded"), "{:?}", result.error);
    assert_eq!(result.run_id, None);
}

/// A judge answering with `respond(prompt)`, checking every request asks for JSON.
fn judge(respond: impl Fn(&str) -> Value + Send + Sync + 'static) -> (FunctionModel, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let model = FunctionModel::new(move |request: &ModelRequest| {
        counter.fetch_add(1, Ordering::Relaxed);
        assert!(request.output_schema.is_some(), "the judge is asked for structured output");
        let prompt = request.messages.last().map(|message| message.text()).unwrap_or_default();
        Ok(text_response(respond(&prompt).to_string()))
    })
    .with_id("judge-1");
    (model, calls)
}

/// An agent answering "Paris", then "Lyon", then "Paris", ...
fn alternating_agent() -> Agent {
    let turn = AtomicUsize::new(0);
    let model = FunctionModel::new(move |_| {
        let answer = if turn.fetch_add(1, Ordering::Relaxed).is_multiple_of(2) { "Paris" } else { "Lyon" };
        Ok(text_response(answer))
    });
    Agent::builder(model).id("geo").build().unwrap()
}

#[tokio::test]
async fn accuracy_averages_the_judges_scores_and_keeps_its_reasons() {
    let (judge, calls) = judge(|prompt| {
        assert!(prompt.contains("<expected_output>\nParis\n</expected_output>"), "{prompt}");
        if prompt.contains("<agent_output>\nParis\n") {
            json!({"accuracy_score": 10, "accuracy_reason": "The same city."})
        } else {
            json!({"accuracy_score": 4, "accuracy_reason": "Another city."})
        }
    });
    let judge: Arc<dyn Model> = Arc::new(judge);
    let eval = AccuracyEval::new(judge.clone(), "Capital of France?", "Paris")
        .num_iterations(2)
        .additional_guideline("Only the city matters.");
    let result = eval.run(&alternating_agent()).await.unwrap();
    assert_eq!(calls.load(Ordering::Relaxed), 2);
    assert_eq!(result.eval_status, EvalStatus::Passed, "an average of 7 reaches the default threshold");
    assert_eq!((result.avg_score, result.min_score, result.max_score), (Some(7.0), Some(4.0), Some(10.0)));
    assert!((result.std_dev_score.unwrap() - 18f64.sqrt()).abs() < 1e-9);
    let reasons: Vec<(&str, u8, &str)> =
        result.results.iter().map(|r| (r.output.as_str(), r.score, r.reason.as_str())).collect();
    assert_eq!(reasons, [("Paris", 10, "The same city."), ("Lyon", 4, "Another city.")]);
    let record = eval.record(&result);
    assert_eq!(record.eval_data["results"][1]["reason"], "Another city.");
    assert_eq!(record.eval_input["judge_model"], "judge-1");

    let strict = AccuracyEval::new(judge, "Capital of France?", "Paris").num_iterations(2).threshold(8);
    assert_eq!(strict.run(&alternating_agent()).await.unwrap().eval_status, EvalStatus::Failed);
}

#[tokio::test]
async fn accuracy_refuses_bad_judges_and_settings_and_counts_failed_runs() {
    let agent = alternating_agent();
    let (prose, _) = judge(|_| json!("I think it is fine."));
    let err = AccuracyEval::new(prose, "Q", "Paris").run(&agent).await.unwrap_err();
    assert!(matches!(err, Error::OutputValidation { .. }), "{err}");
    let (generous, _) = judge(|_| json!({"accuracy_score": 11, "accuracy_reason": "Amazing."}));
    let err = AccuracyEval::new(generous, "Q", "Paris").run(&agent).await.unwrap_err();
    assert!(err.to_string().contains("11"), "{err}");
    for eval in [
        AccuracyEval::new(failing_model(), "Q", "Paris").num_iterations(0),
        AccuracyEval::new(failing_model(), "Q", "Paris").threshold(11),
    ] {
        assert!(matches!(eval.run(&agent).await, Err(Error::InvalidInput(_))));
    }

    let (fair, calls) = judge(|_| json!({"accuracy_score": 9, "accuracy_reason": "Fine."}));
    let broken = Agent::builder(failing_model()).id("broken").build().unwrap();
    let result = AccuracyEval::new(fair, "Q", "Paris").num_iterations(2).run(&broken).await.unwrap();
    assert_eq!((result.eval_status, result.avg_score, calls.load(Ordering::Relaxed)), (EvalStatus::Failed, None, 0));
    assert_eq!(result.failed_iterations.iter().map(|failed| failed.iteration).collect::<Vec<_>>(), [1, 2]);
}

#[tokio::test]
async fn agent_as_judge_scores_against_criteria_with_a_threshold_or_pass_fail() {
    let criteria = "Names the capital of France";
    let (numeric, _) = judge(|prompt| {
        let score = if prompt.contains("<output>\nParis\n</output>") { 9 } else { 2 };
        json!({"score": score, "reason": format!("scored {score}")})
    });
    let numeric: Arc<dyn Model> = Arc::new(numeric);
    let eval = AgentAsJudgeEval::new(numeric.clone(), "Capital of France?", criteria)
        .scoring(Scoring::Numeric { threshold: 7 })
        .num_iterations(2);
    let result = eval.run(&alternating_agent()).await.unwrap();
    assert_eq!(result.eval_status, EvalStatus::Failed, "one answer of two scored below 7");
    assert_eq!((result.avg_score, result.pass_rate), (Some(5.5), 50.0));
    assert_eq!(
        result.results.iter().map(|judged| (judged.score, judged.passed)).collect::<Vec<_>>(),
        [(Some(9), true), (Some(2), false)]
    );
    assert_eq!(eval.record(&result).eval_input["scoring_strategy"], "numeric");

    let lenient = AgentAsJudgeEval::new(numeric, "Capital of France?", criteria)
        .scoring(Scoring::Numeric { threshold: 2 })
        .num_iterations(2);
    assert_eq!(lenient.run(&alternating_agent()).await.unwrap().eval_status, EvalStatus::Passed);

    let (binary, _) = judge(|_| json!({"passed": true, "reason": "It names Paris."}));
    let result = AgentAsJudgeEval::new(binary, "Capital of France?", criteria).run(&weather_agent()).await.unwrap();
    assert_eq!((result.eval_status, result.avg_score, result.results[0].score), (EvalStatus::Passed, None, None));
    assert_eq!(result.results[0].reason, "It names Paris.");

    let unscored = ScriptedModel::new([Turn::text(r#"{"passed": true, "reason": "ok"}"#).expect(|request| {
        let instructions = request.instructions.as_deref().unwrap_or_default();
        if instructions.contains("Names the capital of France") { Ok(()) } else { Err(instructions.to_owned()) }
    })]);
    let judged = AgentAsJudgeEval::new(unscored.clone(), "Q", criteria).judge_output("Q", "Paris").await.unwrap();
    assert!(judged.passed);
    unscored.assert_complete();
    assert!(matches!(
        AgentAsJudgeEval::new(failing_model(), "Q", " ").run(&weather_agent()).await,
        Err(Error::InvalidInput(_))
    ));
}

/// A model that takes `delay` and "allocates" `bytes` on `heap` while it answers.
struct SlowModel {
    delay: Duration,
    heap: Arc<FakeHeap>,
    bytes: u64,
    requests: AtomicUsize,
    fail: bool,
}

#[async_trait::async_trait]
impl Model for SlowModel {
    fn id(&self) -> &str {
        "slow-1"
    }

    fn provider(&self) -> &str {
        "test"
    }

    async fn request(&self, _request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.heap.grow(self.bytes);
        tokio::time::sleep(self.delay).await;
        self.heap.shrink(self.bytes);
        if self.fail {
            return Err(ModelError::new(ModelErrorKind::Overloaded, "overloaded"));
        }
        Ok(text_response("done"))
    }
}

/// A memory probe over counters the model moves.
#[derive(Default)]
struct FakeHeap {
    current: AtomicU64,
    peak: AtomicU64,
}

impl FakeHeap {
    fn grow(&self, bytes: u64) {
        let now = self.current.fetch_add(bytes, Ordering::SeqCst) + bytes;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }

    fn shrink(&self, bytes: u64) {
        self.current.fetch_sub(bytes, Ordering::SeqCst);
    }
}

impl MemoryProbe for FakeHeap {
    fn allocated(&self) -> u64 {
        self.current.load(Ordering::SeqCst)
    }

    fn peak(&self) -> u64 {
        self.peak.load(Ordering::SeqCst)
    }

    fn reset_peak(&self) {
        self.peak.store(self.current.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

fn slow(delay_ms: u64, mib: u64, fail: bool) -> (Arc<SlowModel>, Arc<FakeHeap>) {
    let heap = Arc::new(FakeHeap::default());
    let model = Arc::new(SlowModel {
        delay: Duration::from_millis(delay_ms),
        heap: heap.clone(),
        bytes: mib * 1024 * 1024,
        requests: AtomicUsize::new(0),
        fail,
    });
    (model, heap)
}

#[tokio::test(start_paused = true)]
async fn performance_times_runs_after_the_warmup_and_reports_their_counters() {
    let (model, _) = slow(250, 0, false);
    let agent = Agent::builder(model.clone()).id("slow").build().unwrap();
    let eval = PerformanceEval::new("Hi").num_iterations(3).warmup_runs(2);
    let result = eval.run(&agent).await.unwrap();
    assert_eq!(model.requests.load(Ordering::Relaxed), 5, "two warm-up runs, then three measured");
    assert_eq!(result.eval_status, EvalStatus::Passed);
    assert_eq!(result.run_times, [0.25, 0.25, 0.25], "on the paused clock, exactly the model's delay");
    assert_eq!(
        (result.avg_run_time, result.p95_run_time, result.std_dev_run_time),
        (Some(0.25), Some(0.25), Some(0.0))
    );
    assert_eq!((result.avg_turns, result.avg_input_tokens, result.avg_output_tokens), (1.0, 10.0, 5.0));
    assert!(result.memory_usages.is_empty() && result.avg_memory_usage.is_none());
    let record = eval.record(&result);
    assert_eq!((record.eval_type, record.model_id.as_deref()), (EvalType::Performance, Some("slow-1")));
    assert_eq!(record.eval_input["warmup_runs"], 2);

    let over = eval.clone().max_avg_run_time(Duration::from_millis(100)).run(&agent).await.unwrap();
    assert_eq!(over.eval_status, EvalStatus::Failed, "slower than the limit");
}

#[tokio::test(start_paused = true)]
async fn performance_measures_memory_with_a_probe_and_fails_on_failed_runs() {
    let (model, heap) = slow(10, 3, false);
    let agent = Agent::builder(model).id("hungry").build().unwrap();
    let eval = PerformanceEval::new("Hi").num_iterations(2).memory_probe(heap);
    let result = eval.run(&agent).await.unwrap();
    assert_eq!(result.memory_usages, [3.0, 3.0], "MiB at the peak of each run");
    assert_eq!((result.avg_memory_usage, result.median_memory_usage), (Some(3.0), Some(3.0)));
    let capped = eval.clone().max_avg_memory_usage(2.0).run(&agent).await.unwrap();
    assert_eq!(capped.eval_status, EvalStatus::Failed);
    let unmeasured = PerformanceEval::new("Hi").max_avg_memory_usage(2.0).run(&agent).await;
    assert!(matches!(unmeasured, Err(Error::InvalidInput(_))), "a memory limit needs a probe");

    let (broken, _) = slow(10, 0, true);
    let agent = Agent::builder(broken).id("broken").build().unwrap();
    let result = PerformanceEval::new("Hi").num_iterations(2).run(&agent).await.unwrap();
    assert_eq!((result.eval_status, result.failed_runs.len(), result.run_times.len()), (EvalStatus::Failed, 2, 2));
    assert_eq!(result.avg_turns, 0.0, "no run succeeded");
}

#[tokio::test]
async fn any_eval_runs_and_records_and_a_store_keeps_the_record() {
    let eval = Eval::from(ReliabilityEval::new("Weather?", ["get_weather"]).name("nightly"));
    assert_eq!(eval.eval_type(), EvalType::Reliability);
    let record = eval.run(&weather_agent()).await.unwrap();
    assert_eq!((record.name.as_deref(), record.status()), (Some("nightly"), Some(EvalStatus::Passed)));
    assert!(record.created_at > 0 && record.created_at == record.updated_at);

    let store = InMemoryEvalStore::new();
    store.create_eval_run(&record).await.unwrap();
    assert!(matches!(store.create_eval_run(&record).await, Err(StoreError::Invalid(_))), "ids are unique");
    assert_eq!(store.eval_run(&record.id).await.unwrap(), Some(record.clone()));
    let renamed = store.rename_eval_run(&record.id, "weekly").await.unwrap().unwrap();
    assert_eq!(renamed.name.as_deref(), Some("weekly"));
    assert_eq!(store.delete_eval_runs(&[record.id.clone(), "other".into()]).await.unwrap(), 1);
    assert_eq!(store.eval_run(&record.id).await.unwrap(), None);
}

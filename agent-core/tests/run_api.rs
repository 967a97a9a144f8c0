//! The one run API: requests, limits, partial outputs, sources, tool records,
//! introspection, and continuing agents, teams and workflows.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use agent_core::testing::{FunctionModel, ScriptedModel, TestModel, Turn, text_response, tool_calls_response};
use agent_core::{
    Agent, ContentBlock, Error, FnTool, InMemoryStore, Message, Model, ModelError, ModelPricing, ModelRequest,
    ModelResponse, RunEventKind, RunStatus, Runnable, SessionStore, SessionType, Step, StepKindName, StepOutput,
    StopReason, Team, TeamMode, ToolChoice, ToolDecision, ToolDef, ToolError, ToolOutput, UsageLimit, UsageLimits,
    Workflow,
};
use async_trait::async_trait;
use futures::StreamExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// A tool that counts its calls and answers `ok`.
fn counting_tool(name: &str, calls: &Arc<AtomicUsize>) -> FnTool<()> {
    let calls = Arc::clone(calls);
    FnTool::raw(ToolDef::new(name, "Counts.", json!({"type": "object"})), move |_, _| {
        calls.fetch_add(1, Ordering::SeqCst);
        async { Ok(ToolOutput::text("ok")) }
    })
}

/// A tool that needs the user's confirmation and counts its calls.
fn confirmed_tool(name: &str, calls: &Arc<AtomicUsize>) -> FnTool<()> {
    counting_tool(name, calls).with_def(|def| def.requires_confirmation(true))
}

/// Every tool call of a conversation has its result right after it.
fn assert_every_call_answered(messages: &[Message]) {
    for (index, message) in messages.iter().enumerate() {
        let calls: Vec<&str> = message.tool_calls().map(|call| call.id).collect();
        if calls.is_empty() {
            continue;
        }
        let answered: Vec<&str> = messages
            .get(index + 1)
            .map(|next| {
                next.content
                    .iter()
                    .filter_map(|block| match block {
                        ContentBlock::ToolResult { tool_call_id, .. } => Some(tool_call_id.as_str()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(answered, calls, "message {index}: calls answered in call order");
    }
}

#[tokio::test]
async fn the_turn_limit_is_checked_before_tools_run() {
    let calls = Arc::new(AtomicUsize::new(0));
    let model = FunctionModel::new(|request| {
        let id = format!("c{}", request.messages.len());
        Ok(tool_calls_response([(id.as_str(), "work", json!({}))]))
    });
    let agent = Agent::builder(model).tool(counting_tool("work", &calls)).max_turns(3).build().unwrap();
    let Err(Error::MaxTurns { limit: 3, partial }) = agent.run("go").await else { panic!("expected MaxTurns") };
    // Three model turns, but only the first two turns' tools ran: the third
    // turn's results could never have been sent.
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(partial.metrics.turns, 3);
    assert_eq!(partial.tools.len(), 2);
    assert_eq!(partial.status, RunStatus::Error);
    assert_every_call_answered(&partial.messages);
}

#[tokio::test]
async fn a_forced_tool_choice_applies_to_the_first_turn_only() {
    let choice = |expected: ToolChoice| {
        move |request: &ModelRequest| {
            if request.tool_choice.as_ref() == Some(&expected) {
                Ok(())
            } else {
                Err(format!("{:?}", request.tool_choice))
            }
        }
    };
    let model = ScriptedModel::new([
        Turn::tool_call("c1", "work", json!({})).expect(choice(ToolChoice::Any)),
        Turn::text("done").expect(choice(ToolChoice::Auto)),
    ]);
    let calls = Arc::new(AtomicUsize::new(0));
    let agent =
        Agent::builder(model.clone()).tool(counting_tool("work", &calls)).tool_choice(ToolChoice::Any).build().unwrap();
    assert_eq!(agent.run("go").await.unwrap().content, "done");
    model.assert_complete();
}

#[tokio::test]
async fn refusals_and_failed_validation_carry_the_partial_output() {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut refused = text_response("I won't");
    refused.stop_reason = StopReason::Refusal { details: None };
    let model = ScriptedModel::new([Turn::tool_call("c1", "work", json!({})), Turn::respond(refused)]);
    let agent = Agent::builder(model).tool(counting_tool("work", &calls)).build().unwrap();
    let Err(Error::Refused { partial, .. }) = agent.run("go").await else { panic!("expected a refusal") };
    assert_eq!(partial.tools.len(), 1);
    assert_eq!(partial.usage.input_tokens, 20);

    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Answer {
        value: u32,
    }
    let stubborn =
        Agent::builder(FunctionModel::new(|_| Ok(text_response("not json")))).max_output_retries(1).build().unwrap();
    let Err(Error::OutputValidation { attempts: 2, partial, .. }) = stubborn.run("go").typed::<Answer>().await else {
        panic!("expected a validation failure")
    };
    assert_eq!(partial.content, "not json");
    assert_eq!(partial.metrics.turns, 2);
}

#[derive(Debug, thiserror::Error)]
#[error("the account is frozen")]
struct Frozen {
    account: u32,
}

#[tokio::test]
async fn a_fatal_tool_error_keeps_the_original_error() {
    let tool = FnTool::<()>::raw(ToolDef::new("pay", "Pays.", json!({"type": "object"})), |_, _| async {
        Err(ToolError::fatal_error(Frozen { account: 7 }))
    });
    let agent =
        Agent::builder(ScriptedModel::new([Turn::tool_call("c1", "pay", json!({}))])).tool(tool).build().unwrap();
    let error = agent.run("pay").await.unwrap_err();
    let Error::ToolFailed { tool, source } = &error else { panic!("{error:?}") };
    assert_eq!(tool, "pay");
    assert_eq!(source.downcast_ref::<Frozen>().map(|frozen| frozen.account), Some(7));
    assert_eq!(error.to_string(), "tool `pay` failed");
    assert_eq!(error.report(), "tool `pay` failed: the account is frozen");
}

#[tokio::test]
async fn a_failed_turn_answers_every_call_in_order_and_the_session_stays_usable() {
    let calls = Arc::new(AtomicUsize::new(0));
    let fatal = FnTool::<()>::raw(ToolDef::new("explode", "Fails.", json!({"type": "object"})), |_, _| async {
        Err(ToolError::fatal("boom"))
    });
    let store = Arc::new(InMemoryStore::new());
    let first = ModelResponse {
        content: vec![
            ContentBlock::ToolUse { id: "c1".into(), name: "explode".into(), input: json!({}) },
            ContentBlock::ToolUse { id: "c2".into(), name: "confirm".into(), input: json!({}) },
            ContentBlock::ToolUse { id: "c3".into(), name: "missing".into(), input: json!({}) },
        ],
        stop_reason: StopReason::ToolUse,
        ..text_response("")
    };
    let model = ScriptedModel::new([
        Turn::respond(first),
        Turn::text("hello again").expect(|request| {
            let history = &request.messages;
            let results: Vec<&str> = history[2]
                .content
                .iter()
                .filter_map(|block| match block {
                    ContentBlock::ToolResult { tool_call_id, .. } => Some(tool_call_id.as_str()),
                    _ => None,
                })
                .collect();
            if results == ["c1", "c2", "c3"] { Ok(()) } else { Err(format!("{results:?}")) }
        }),
    ]);
    let agent = Agent::builder(model.clone())
        .tool(fatal)
        .tool(confirmed_tool("confirm", &calls))
        .store(Arc::clone(&store))
        .build()
        .unwrap();
    assert!(matches!(agent.run("go").session("s").await, Err(Error::ToolFailed { .. })));
    let runs = store.runs("s", None).await.unwrap();
    assert_every_call_answered(&runs[0].messages);
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the call waiting for confirmation never ran");
    assert_eq!(agent.run("hi").session("s").await.unwrap().content, "hello again");
    model.assert_complete();
}

#[tokio::test]
async fn outputs_list_every_tool_execution_and_say_when_an_answer_was_cut_off() {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut cut = text_response("The answer is");
    cut.stop_reason = StopReason::MaxTokens;
    let model = ScriptedModel::new([
        Turn::respond(tool_calls_response([("c1", "a", json!({"x": 1})), ("c2", "b", json!({}))])),
        Turn::respond(cut),
    ]);
    let agent =
        Agent::builder(model).tool(counting_tool("a", &calls)).tool(counting_tool("b", &calls)).build().unwrap();
    let output = agent.run("go").user("ada").await.unwrap();
    assert!(output.is_truncated());
    let tools: Vec<(&str, &str, Option<&str>)> =
        output.tools.iter().map(|t| (t.tool_call_id.as_str(), t.tool_name.as_str(), t.result.as_deref())).collect();
    assert_eq!(tools, [("c1", "a", Some("ok")), ("c2", "b", Some("ok"))]);
    assert_eq!(output.tools[0].tool_args, json!({"x": 1}));
    assert!(output.tools.iter().all(|tool| tool.metrics.contains_key("duration")));
    assert_eq!(output.user_id.as_deref(), Some("ada"));
    assert_eq!((output.model.as_str(), output.model_provider.as_str()), ("scripted", "test"));
    assert!(output.created_at > 0);
}

/// A test model with prices, so cost limits have something to count.
struct Priced(TestModel);

#[async_trait]
impl Model for Priced {
    fn id(&self) -> &str {
        "priced"
    }
    fn provider(&self) -> &str {
        "test"
    }
    fn pricing(&self) -> Option<ModelPricing> {
        // $1,000 per million tokens: the test model's 15-token turns cost $0.015.
        Some(ModelPricing { input: 1_000.0, output: 1_000.0, ..ModelPricing::default() })
    }
    async fn request(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        self.0.request(request).await
    }
}

#[tokio::test]
async fn usage_limits_end_runs_with_the_usage_so_far() {
    let calls = Arc::new(AtomicUsize::new(0));
    let model = FunctionModel::new(|request| {
        let (c, d) = (format!("c{}", request.messages.len()), format!("d{}", request.messages.len()));
        Ok(tool_calls_response([(c.as_str(), "work", json!({})), (d.as_str(), "work", json!({}))]))
    });
    let agent = Agent::builder(model).tool(counting_tool("work", &calls)).build().unwrap();
    let Err(Error::UsageLimitExceeded { limit, used, partial }) =
        agent.run("go").limits(UsageLimits::new().tool_calls(3)).await
    else {
        panic!("expected the tool-call limit")
    };
    assert_eq!((limit, used.tool_calls), (UsageLimit::ToolCalls(3), 4));
    assert_eq!(calls.load(Ordering::SeqCst), 2, "the second turn's calls did not run");
    assert_every_call_answered(&partial.messages);

    let agent = Agent::builder(Priced(TestModel::new().answer("a").call_tools(["work"])))
        .tool(counting_tool("work", &calls))
        .usage_limits(UsageLimits::new().cost_usd(0.02))
        .build()
        .unwrap();
    let Err(Error::UsageLimitExceeded { limit, used, .. }) = agent.run("go").await else { panic!("expected cost") };
    assert_eq!(limit, UsageLimit::CostUsd(0.02));
    assert!((used.cost_usd - 0.03).abs() < 1e-9, "{}", used.cost_usd);

    // The request's limits replace the builder's.
    assert!(agent.run("go").limits(UsageLimits::new().cost_usd(1.0)).await.is_ok());
}

#[tokio::test]
async fn a_team_shares_one_budget_with_its_members() {
    let member = Agent::builder(TestModel::new().answer("facts")).id("researcher").build().unwrap();
    let leader = ScriptedModel::new([
        Turn::respond(tool_calls_response([(
            "d1",
            "delegate_task_to_member",
            json!({"member_id": "researcher", "task": "find"}),
        )])),
        Turn::text("never sent"),
    ]);
    // Leader turn (15) + member turn (15) = 30 tokens > 20: the leader's next
    // turn is not made.
    let team = Team::builder(leader.clone())
        .id("team")
        .member(member)
        .usage_limits(UsageLimits::new().total_tokens(20))
        .build()
        .unwrap();
    let Err(Error::UsageLimitExceeded { limit, used, .. }) = team.run("go").await else { panic!("expected a limit") };
    assert_eq!(limit, UsageLimit::TotalTokens(20));
    assert_eq!(used.usage.input_tokens + used.usage.output_tokens, 30);
    assert_eq!(leader.requests().len(), 1);
}

#[tokio::test]
async fn the_leader_takes_every_agent_setting() {
    let leader = ScriptedModel::new([Turn::text("ok").expect(|request| {
        match (request.max_tokens, request.options.get("temperature")) {
            (Some(77), Some(value)) if value == &json!(0.5) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })]);
    let member = Agent::builder(TestModel::new()).id("m").build().unwrap();
    let team = Team::builder(leader.clone())
        .id("t")
        .member(member)
        .leader(|leader| leader.max_tokens(77).model_option("temperature", json!(0.5)))
        .build()
        .unwrap();
    team.run("go").await.unwrap();
    leader.assert_complete();
}

#[tokio::test]
async fn run_ids_are_known_before_the_run_and_honoured_everywhere() {
    let store = Arc::new(InMemoryStore::new());
    let agent = Agent::builder(TestModel::new()).id("a").store(Arc::clone(&store)).build().unwrap();
    assert_eq!(agent.run("x").run_id("run-a").await.unwrap().run_id, "run-a");

    let team = Team::builder(TestModel::new()).id("t").member(agent.clone()).store(Arc::clone(&store)).build().unwrap();
    let mut stream = team.run("x").run_id("run-t").session("st").stream();
    while let Some(event) = stream.next().await {
        if event.team_id.as_deref() == Some("t") && event.agent_id.is_none() {
            assert_eq!(&*event.run_id, "run-t", "{}", event.name());
        }
    }
    assert_eq!(stream.output().unwrap().unwrap().run_id, "run-t");
    assert!(store.run("st", "run-t").await.unwrap().is_some());

    let workflow = Workflow::builder("w")
        .step(Step::function("one", |_| async { Ok(StepOutput::new("done")) }))
        .store(Arc::clone(&store))
        .build()
        .unwrap();
    let output = workflow.run("x").run_id("run-w").session("sw").await.unwrap();
    assert_eq!(output.run_id, "run-w");
    assert_eq!(store.run("sw", "run-w").await.unwrap().unwrap().status, RunStatus::Completed);
}

#[tokio::test]
async fn a_session_without_a_store_is_an_error_not_lost_history() {
    // An agent, a team in each mode and a workflow: each fails before the
    // model is called, with an error that says to add a store.
    let model = Arc::new(TestModel::new());
    let agent = Agent::builder(Arc::clone(&model)).build().unwrap();
    let member = || Agent::builder(Arc::clone(&model)).id("m").build().unwrap();
    let coordinate = Team::builder(Arc::clone(&model)).id("coordinate").member(member()).build().unwrap();
    let broadcast =
        Team::builder(Arc::clone(&model)).id("broadcast").mode(TeamMode::Broadcast).member(member()).build().unwrap();
    let workflow = Workflow::builder("w").step(Step::run("step", member())).build().unwrap();
    let results = [
        ("the agent", agent.run("x").session("s1").await.map(drop)),
        ("team `coordinate`", coordinate.run("x").session("s1").await.map(drop)),
        ("team `broadcast`", broadcast.run("x").session("s1").await.map(drop)),
        ("workflow `w`", workflow.run("x").session("s1").await.map(drop)),
    ];
    for (expected, result) in results {
        let Err(error) = result else { panic!("{expected}: a run with a session and no store succeeded") };
        let Error::SessionWithoutStore { session_id, component } = &error else {
            panic!("{expected}: expected SessionWithoutStore, got {error:?}")
        };
        assert_eq!((session_id.as_str(), component.as_str()), ("s1", expected));
        assert!(error.to_string().contains("add one with `.store(..)`"), "{error}");
        assert_eq!(error.kind_name(), "SessionWithoutStore");
    }
    assert_eq!(model.requests(), 0, "no run reached the model");
}

#[tokio::test]
async fn servers_can_describe_what_they_serve() {
    let helper = Agent::builder(TestModel::new())
        .id("helper")
        .name("Helper")
        .description("Helps.")
        .instructions("Be brief.")
        .tool(counting_tool("work", &Arc::new(AtomicUsize::new(0))))
        .build()
        .unwrap();
    assert_eq!(helper.instructions(), ["Be brief."]);
    assert_eq!(helper.tool_defs()[0].name, "work");
    assert!(!helper.has_memory() && !helper.has_knowledge() && helper.store().is_none());

    let inner =
        Workflow::builder("inner").step(Step::function("f", |_| async { Ok(StepOutput::new(1)) })).build().unwrap();
    let team = Team::builder(TestModel::new())
        .id("crew")
        .name("Crew")
        .description("Does things.")
        .mode(TeamMode::Broadcast)
        .member(helper.clone())
        .member(inner.clone())
        .build()
        .unwrap();
    assert_eq!(
        (team.name(), team.description(), team.mode().as_str()),
        (Some("Crew"), Some("Does things."), "broadcast")
    );
    assert_eq!(team.model().id(), "test");
    let members: Vec<(&str, SessionType, Option<&str>)> =
        team.members().map(|member| (member.id, member.kind, member.name)).collect();
    assert_eq!(members, [("helper", SessionType::Agent, Some("Helper")), ("inner", SessionType::Workflow, None)]);

    let workflow = Workflow::builder("flow")
        .step(Step::run("ask", helper))
        .step(Step::parallel("both", vec![Step::run("crew", team), Step::run("inner", inner)]))
        .build()
        .unwrap();
    let steps: Vec<(&str, StepKindName)> = workflow.steps().iter().map(|step| (step.name(), step.kind())).collect();
    assert_eq!(steps, [("ask", StepKindName::Agent), ("both", StepKindName::Parallel)]);
    let children: Vec<&str> = workflow.steps()[1].children().iter().map(|step| step.kind().as_str()).collect();
    assert_eq!(children, ["team", "workflow"]);
    assert_eq!(Runnable::kind(&workflow), SessionType::Workflow);
}

#[tokio::test]
async fn members_and_steps_can_be_any_runnable() {
    let shout = Workflow::builder("shout")
        .description("Shouts.")
        .step(Step::function("upper", |input| async move { Ok(StepOutput::new(input.previous_text().to_uppercase())) }))
        .build()
        .unwrap();
    let leader = ScriptedModel::new([
        Turn::respond(tool_calls_response([(
            "d1",
            "delegate_task_to_member",
            json!({"member_id": "shout", "task": "hello"}),
        )])),
        Turn::text("It said HELLO."),
    ]);
    let team = Team::builder(leader.clone()).id("t").member(shout.clone()).build().unwrap();
    assert_eq!(team.run("go").await.unwrap().content, "It said HELLO.");
    let results = leader.requests()[1].messages[2].content.clone();
    assert!(matches!(&results[0], ContentBlock::ToolResult { content, .. } if content.to_text() == "HELLO"));

    let outer = Workflow::builder("outer")
        .step(Step::run("inner", shout))
        .step(Step::function(
            "exclaim",
            |input| async move { Ok(StepOutput::new(format!("{}!", input.previous_text()))) },
        ))
        .build()
        .unwrap();
    assert_eq!(outer.run("hi").await.unwrap().content, json!("HI!"));
}

#[tokio::test]
async fn a_paused_run_continues_streamed_with_options_from_its_paused_state() {
    let calls = Arc::new(AtomicUsize::new(0));
    let model = ScriptedModel::new([Turn::tool_call("c1", "wipe", json!({})), Turn::text("wiped")]);
    let agent = Agent::builder(model).tool(confirmed_tool("wipe", &calls)).build().unwrap();
    let output = agent.run("wipe it").user("ada").await.unwrap();
    assert!(output.is_paused());
    assert!(output.tools[0].requires_confirmation);
    let paused = output.paused.clone().unwrap();
    assert_eq!((paused.run_id(), paused.user_id()), (output.run_id.as_str(), Some("ada")));

    let token = CancellationToken::new();
    let mut stream = agent.continue_run(paused, vec![ToolDecision::approve("c1")]).cancel(token).stream();
    let mut names = Vec::new();
    while let Some(event) = stream.next().await {
        names.push(event.name());
    }
    let done = stream.output().unwrap().unwrap();
    assert_eq!(names.first(), Some(&"RunContinued"));
    assert_eq!(names.last(), Some(&"RunCompleted"));
    assert_eq!((done.run_id, done.content.as_str()), (output.run_id, "wiped"));
    assert_eq!(done.tools[0].confirmed, Some(true));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn typed_runs_stream_too() {
    #[derive(Debug, PartialEq, serde::Deserialize, schemars::JsonSchema)]
    struct Forecast {
        city: String,
    }
    let model = ScriptedModel::new([Turn::text(r#"{"city": "Rome"}"#)
        .expect(|request| if request.output_schema.is_some() { Ok(()) } else { Err("no schema".into()) })]);
    let agent = Agent::builder(model).build().unwrap();
    let mut stream = agent.run("forecast").typed::<Forecast>().stream();
    let mut saw_content = false;
    while let Some(event) = stream.next().await {
        saw_content |= matches!(event.kind, RunEventKind::RunContent { .. });
    }
    assert!(saw_content);
    assert_eq!(stream.output().unwrap().unwrap().content, Forecast { city: "Rome".into() });
}

#[tokio::test]
async fn a_workflow_whose_step_pauses_is_continued_from_the_store() {
    let calls = Arc::new(AtomicUsize::new(0));
    let store = Arc::new(InMemoryStore::new());
    let approver =
        Agent::builder(ScriptedModel::new([Turn::tool_call("c1", "deploy", json!({})), Turn::text("deployed")]))
            .id("deployer")
            .tool(confirmed_tool("deploy", &calls))
            .build()
            .unwrap();
    let workflow = Workflow::builder("release")
        .step(Step::function("build", |_| async { Ok(StepOutput::new("built v2")) }))
        .step(Step::sequence("ship", vec![Step::run("deploy", approver)]))
        .step(Step::function("announce", |input| async move {
            Ok(StepOutput::new(format!("announced: {}", input.previous_text())))
        }))
        .store(Arc::clone(&store))
        .build()
        .unwrap();
    let paused = workflow.run("go").session("s").await.unwrap();
    assert_eq!(paused.status, RunStatus::Paused);
    let pending = paused.pending_tool_calls();
    assert_eq!((pending.len(), pending[0].tool_call_id.as_str()), (1, "c1"));
    assert_eq!(store.run("s", &paused.run_id).await.unwrap().unwrap().status, RunStatus::Paused);
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    let done = workflow.continue_run(("s", paused.run_id.as_str()), vec![ToolDecision::approve("c1")]).await.unwrap();
    assert_eq!(done.content, json!("announced: deployed"));
    let steps: Vec<&str> = done.step_outputs.iter().map(|step| step.step_name.as_str()).collect();
    assert_eq!(steps, ["build", "deploy", "announce"]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(store.run("s", &paused.run_id).await.unwrap().unwrap().status, RunStatus::Completed);
}

#[tokio::test]
async fn a_step_that_pauses_inside_a_parallel_construct_fails_clearly() {
    let calls = Arc::new(AtomicUsize::new(0));
    let asker = Agent::builder(ScriptedModel::new([Turn::tool_call("c1", "deploy", json!({}))]))
        .id("asker")
        .tool(confirmed_tool("deploy", &calls))
        .build()
        .unwrap();
    let workflow = Workflow::builder("w").step(Step::parallel("both", vec![Step::run("ask", asker)])).build().unwrap();
    let Err(Error::StepFailed { step, source }) = workflow.run("go").await else { panic!("expected a failure") };
    assert_eq!(step, "ask");
    assert!(source.to_string().contains("inside a parallel, loop or router"), "{source}");
}

#[tokio::test]
async fn a_resumed_member_gets_the_teams_cancellation() {
    let calls = Arc::new(AtomicUsize::new(0));
    let ops = Agent::builder(ScriptedModel::new([Turn::tool_call("m1", "wipe", json!({}))]))
        .id("ops")
        .tool(confirmed_tool("wipe", &calls))
        .build()
        .unwrap();
    let leader = ScriptedModel::new([Turn::respond(tool_calls_response([(
        "d1",
        "delegate_task_to_member",
        json!({"member_id": "ops", "task": "wipe"}),
    )]))]);
    let team = Team::builder(leader).id("t").member(ops).build().unwrap();
    let paused = team.run("go").await.unwrap();
    assert!(paused.is_paused());
    let token = CancellationToken::new();
    token.cancel();
    let result = team.continue_run(&paused, vec![ToolDecision::approve("m1")]).cancel(token).await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 0, "a cancelled team's member does not run the approved tool");
}

#[tokio::test]
async fn workflow_inputs_and_outputs_are_json() {
    let workflow = Workflow::builder("w")
        .step(Step::function("double", |input| async move {
            let n = input.input()["n"].as_u64().unwrap_or_default();
            Ok(StepOutput::new(json!({"n": n * 2})))
        }))
        .build()
        .unwrap();
    let output = workflow.run(json!({"n": 21})).await.unwrap();
    assert_eq!(output.content, json!({"n": 42}));
    assert_eq!(output.workflow_id.as_deref(), Some("w"));
    assert_eq!(agent_core::RunContent::to_text(&output.content), r#"{"n":42}"#);
}

#[tokio::test]
async fn an_answer_outside_the_schema_constraints_is_a_validation_retry() {
    #[derive(Debug, PartialEq, serde::Deserialize, schemars::JsonSchema)]
    struct Rating {
        #[schemars(range(min = 1, max = 5))]
        stars: u8,
    }
    let model = ScriptedModel::new([
        Turn::text(r#"{"stars": 9}"#),
        Turn::text(r#"{"stars": 4}"#).expect(|request| {
            let retry = request.messages.last().map(Message::text).unwrap_or_default();
            if retry.contains("/stars") && retry.contains("maximum") { Ok(()) } else { Err(retry) }
        }),
    ]);
    let agent = Agent::builder(model.clone()).build().unwrap();
    assert_eq!(agent.run("rate it").typed::<Rating>().await.unwrap().content, Rating { stars: 4 });
    model.assert_complete();
}

/// A streaming model whose provider falls back to another model mid-stream.
struct FallingBack;

#[async_trait]
impl Model for FallingBack {
    fn id(&self) -> &str {
        "first"
    }
    fn provider(&self) -> &str {
        "test"
    }
    async fn request(&self, _request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        Ok(text_response("unused"))
    }
    async fn stream(&self, _request: &ModelRequest) -> Result<agent_core::ModelEventStream, ModelError> {
        let answer = ModelResponse { model: "second".into(), ..text_response("from second") };
        let events = [
            agent_core::ModelEvent::TextDelta { index: 0, text: "declined".into() },
            agent_core::ModelEvent::Fallback { model: "second".into() },
            agent_core::ModelEvent::TextDelta { index: 0, text: "from second".into() },
            agent_core::ModelEvent::Completed(answer),
        ];
        Ok(Box::pin(futures::stream::iter(events.into_iter().map(Ok))))
    }
}

#[tokio::test]
async fn a_stream_marks_the_switch_to_a_fallback_model() {
    let agent = Agent::builder(FallingBack).build().unwrap();
    let mut stream = agent.run("hi").stream();
    let mut seen = Vec::new();
    while let Some(event) = stream.next().await {
        match event.kind {
            RunEventKind::RunContent { content } => seen.push(content),
            RunEventKind::ModelRequestStarted { model, .. } => seen.push(format!("<switch to {model}>")),
            _ => {}
        }
    }
    assert_eq!(seen, ["declined", "<switch to second>", "from second"]);
    let output = stream.output().unwrap().unwrap();
    assert_eq!((output.content.as_str(), output.model.as_str()), ("from second", "second"));
}

#[tokio::test]
async fn a_broadcast_member_that_pauses_pauses_the_team_until_it_is_continued() {
    let calls = Arc::new(AtomicUsize::new(0));
    let ops = Agent::builder(ScriptedModel::new([Turn::tool_call("m1", "wipe", json!({})), Turn::text("wiped")]))
        .id("ops")
        .tool(confirmed_tool("wipe", &calls))
        .build()
        .unwrap();
    let writer = Agent::builder(TestModel::new().answer("written")).id("writer").build().unwrap();
    let leader = ScriptedModel::new([Turn::text("Both done.").expect(|request| {
        let prompt = request.instructions.as_deref().unwrap_or_default();
        if prompt.contains("wiped") && prompt.contains("written") { Ok(()) } else { Err(prompt.to_owned()) }
    })]);
    let store = Arc::new(InMemoryStore::new());
    let team = Team::builder(leader.clone())
        .id("crew")
        .mode(TeamMode::Broadcast)
        .member(ops)
        .member(writer)
        .store(Arc::clone(&store))
        .build()
        .unwrap();
    let paused = team.run("clean and write").session("s").await.unwrap();
    assert!(paused.is_paused());
    assert_eq!(paused.pending_tool_calls()[0].tool_call_id, "m1");
    assert_eq!(store.run("s", &paused.run_id).await.unwrap().unwrap().status, RunStatus::Paused);
    assert!(leader.requests().is_empty(), "the leader waits for every member");

    let done = team.continue_run(("s", paused.run_id.as_str()), vec![ToolDecision::approve("m1")]).await.unwrap();
    assert_eq!(done.content, "Both done.");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(store.run("s", &paused.run_id).await.unwrap().unwrap().status, RunStatus::Completed);
    leader.assert_complete();
}

//! The tool-runner loop through the test models: tools, errors, limits, metrics.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agent_core::testing::{FunctionModel, ScriptedModel, TestModel, Turn, text_response, tool_calls_response};
use agent_core::{
    Agent, ContentBlock, Error, FnTool, HookAction, Message, ModelError, ModelErrorKind, ModelResponse, Role,
    RunContext, StopDetails, StopReason, ToolDef, ToolError, ToolInputError, ToolOutput, ToolResultContent,
};
use serde_json::{Value, json};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct CityArgs {
    /// The city's name.
    city: String,
}

fn weather_tool() -> FnTool {
    FnTool::new("get_weather", "Current weather in a city.", |_ctx, args: CityArgs| async move {
        Ok::<_, ToolError>(format!("Sunny in {}", args.city))
    })
}

/// The tool results the model received in the request at `index`.
fn results_sent(model: &ScriptedModel, index: usize) -> Vec<(String, String, bool)> {
    let request = &model.requests()[index];
    let last = request.messages.last().unwrap();
    assert_eq!(last.role, Role::User);
    last.content
        .iter()
        .map(|block| match block {
            ContentBlock::ToolResult { tool_call_id, content, is_error } => {
                (tool_call_id.clone(), content.to_text(), *is_error)
            }
            other => panic!("expected tool results, got {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn test_model_calls_the_tool_with_schema_valid_arguments_then_answers() {
    let agent = Agent::builder(TestModel::new()).tool(weather_tool()).build().unwrap();
    let output = agent.run("weather?").await.unwrap();
    assert_eq!(output.content, r#"{"get_weather":"Sunny in a"}"#);
    // input, assistant tool call, tool result, final answer
    assert_eq!(output.messages.len(), 4);
    assert_eq!(output.metrics.tool_calls["get_weather"].calls, 1);
    assert_eq!(output.metrics.turns, 2);
    assert_eq!(output.usage.input_tokens, 20);
    assert_eq!(output.metrics.total_tokens, 30);
}

#[tokio::test]
async fn unknown_tool_gets_an_error_result_listing_the_available_tools() {
    let model = ScriptedModel::new([Turn::tool_call("c1", "get_wether", json!({"city": "Paris"})), Turn::text("ok")]);
    let agent = Agent::builder(model.clone()).tool(weather_tool()).build().unwrap();
    agent.run("hi").await.unwrap();
    let results = results_sent(&model, 1);
    assert_eq!(
        results,
        [("c1".into(), "unknown tool `get_wether`; the available tools are: get_weather".into(), true)]
    );
    model.assert_complete();
}

#[tokio::test]
async fn arguments_that_do_not_match_the_schema_are_retried_with_the_parser_message() {
    let model = ScriptedModel::new([
        Turn::tool_call("c1", "get_weather", json!({"town": "Paris"})),
        Turn::tool_call("c2", "get_weather", json!({"city": "Paris"})),
        Turn::text("Sunny."),
    ]);
    let agent = Agent::builder(model.clone()).tool(weather_tool()).build().unwrap();
    let output = agent.run("hi").await.unwrap();
    let first = &results_sent(&model, 1)[0];
    assert!(first.2);
    assert!(first.1.contains("missing field `city`"), "{}", first.1);
    assert_eq!(results_sent(&model, 2), [("c2".into(), "Sunny in Paris".into(), false)]);
    assert_eq!(output.metrics.tool_calls["get_weather"].errors, 1);
    model.assert_complete();
}

#[tokio::test]
async fn malformed_json_from_the_model_is_a_retry_not_a_crash() {
    let mut bad = tool_calls_response([("c1", "get_weather", json!({}))]);
    bad.tool_input_errors.push(ToolInputError {
        tool_call_id: "c1".into(),
        raw: "{\"city\": \"Par".into(),
        message: "EOF while parsing a string".into(),
    });
    let model = ScriptedModel::new([Turn::respond(bad), Turn::text("done")]);
    let agent = Agent::builder(model.clone()).tool(weather_tool()).build().unwrap();
    agent.run("hi").await.unwrap();
    let result = &results_sent(&model, 1)[0];
    assert!(result.2 && result.1.contains("EOF while parsing a string"), "{result:?}");
}

#[tokio::test]
async fn the_retry_budget_ends_the_run_with_a_typed_error() {
    let model = FunctionModel::new(|_| Ok(tool_calls_response([("c", "get_weather", json!({"town": 1}))])));
    let agent = Agent::builder(model).tool(weather_tool()).max_tool_retries(2).build().unwrap();
    match agent.run("hi").await {
        Err(Error::ToolRetriesExhausted { tool, retries: 3, last_error }) => {
            assert_eq!(tool, "get_weather");
            assert!(last_error.contains("missing field"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn tool_errors_become_error_results_and_fatal_errors_stop_the_run() {
    let flaky =
        FnTool::<()>::raw(ToolDef::new("flaky", "Fails.", json!({"type": "object"})), |_ctx, input| async move {
            if input.get("fatal").is_some() {
                Err(ToolError::fatal("disk on fire"))
            } else {
                Err(ToolError::retry("try later"))
            }
        });
    let model = ScriptedModel::new([
        Turn::tool_call("c1", "flaky", json!({})),
        Turn::tool_call("c2", "flaky", json!({"fatal": true})),
    ]);
    let agent = Agent::builder(model.clone()).tool(flaky).build().unwrap();
    let error = agent.run("hi").await.unwrap_err();
    assert!(
        matches!(&error, Error::ToolFailed { tool, source } if tool == "flaky" && source.to_string() == "disk on fire")
    );
    assert_eq!(results_sent(&model, 1), [("c1".into(), "try later".into(), true)]);
    model.assert_complete();
}

#[tokio::test]
async fn a_panicking_tool_is_reported_as_a_tool_error() {
    let boom = FnTool::<()>::raw(ToolDef::new("boom", "Panics.", json!({"type": "object"})), |_ctx, _input| async {
        if true {
            panic!("index out of bounds");
        }
        Ok(ToolOutput::text("unreachable"))
    });
    let model = ScriptedModel::new([Turn::tool_call("c1", "boom", json!({})), Turn::text("sorry")]);
    let agent = Agent::builder(model.clone()).tool(boom).build().unwrap();
    let output = agent.run("hi").await.unwrap();
    assert_eq!(output.content, "sorry");
    let result = &results_sent(&model, 1)[0];
    assert!(result.2 && result.1.contains("panicked: index out of bounds"), "{result:?}");
}

#[tokio::test(start_paused = true)]
async fn a_tool_over_its_timeout_gets_an_error_result() {
    let slow = FnTool::<()>::raw(ToolDef::new("slow", "Sleeps.", json!({"type": "object"})), |_ctx, _input| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(ToolOutput::text("late"))
    })
    .with_def(|def| def.timeout(Duration::from_secs(2)));
    let model = ScriptedModel::new([Turn::tool_call("c1", "slow", json!({})), Turn::text("gave up")]);
    let agent = Agent::builder(model.clone()).tool(slow).build().unwrap();
    agent.run("hi").await.unwrap();
    assert_eq!(results_sent(&model, 1), [("c1".into(), "tool `slow` timed out after 2.0s".into(), true)]);
}

#[tokio::test(start_paused = true)]
async fn tool_calls_of_one_turn_run_concurrently_and_answer_in_call_order() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (in_flight2, peak2) = (in_flight.clone(), peak.clone());
    let sleepy =
        FnTool::<()>::raw(ToolDef::new("sleepy", "Sleeps.", json!({"type": "object"})), move |_ctx, input: Value| {
            let (in_flight, peak) = (in_flight2.clone(), peak2.clone());
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                let ms = input["ms"].as_u64().unwrap();
                tokio::time::sleep(Duration::from_millis(ms)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok(ToolOutput::text(format!("slept {ms}")))
            }
        });
    let model = ScriptedModel::new([
        Turn::respond(tool_calls_response([
            ("a", "sleepy", json!({"ms": 300})),
            ("b", "sleepy", json!({"ms": 100})),
            ("c", "sleepy", json!({"ms": 200})),
        ])),
        Turn::text("done"),
    ]);
    let agent = Agent::builder(model.clone()).tool(sleepy).build().unwrap();
    let started = tokio::time::Instant::now();
    agent.run("hi").await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_millis(300));
    assert_eq!(peak.load(Ordering::SeqCst), 3);
    let ids: Vec<String> = results_sent(&model, 1).into_iter().map(|(id, text, _)| format!("{id}:{text}")).collect();
    assert_eq!(ids, ["a:slept 300", "b:slept 100", "c:slept 200"]);
}

#[tokio::test(start_paused = true)]
async fn tool_concurrency_of_one_runs_calls_one_after_another() {
    let sleepy = FnTool::<()>::raw(ToolDef::new("sleepy", "Sleeps.", json!({"type": "object"})), |_ctx, _| async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(ToolOutput::text("ok"))
    });
    let model = ScriptedModel::new([
        Turn::respond(tool_calls_response([("a", "sleepy", json!({})), ("b", "sleepy", json!({}))])),
        Turn::text("done"),
    ]);
    let agent = Agent::builder(model).tool(sleepy).tool_concurrency(1).build().unwrap();
    let started = tokio::time::Instant::now();
    agent.run("hi").await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_millis(200));
}

#[tokio::test]
async fn the_turn_limit_is_a_typed_error() {
    let model = FunctionModel::new(|_| Ok(tool_calls_response([("c", "get_weather", json!({"city": "Oslo"}))])));
    let agent = Agent::builder(model).tool(weather_tool()).max_turns(3).build().unwrap();
    assert!(matches!(agent.run("hi").await, Err(Error::MaxTurns { limit: 3, .. })));
}

#[tokio::test]
async fn the_tool_call_limit_is_a_typed_error() {
    let model = FunctionModel::new(|_| {
        Ok(tool_calls_response([
            ("a", "get_weather", json!({"city": "A"})),
            ("b", "get_weather", json!({"city": "B"})),
        ]))
    });
    let agent = Agent::builder(model).tool(weather_tool()).max_tool_calls(3).build().unwrap();
    assert!(matches!(agent.run("hi").await, Err(Error::ToolCallLimit { limit: 3 })));
}

#[tokio::test]
async fn a_model_error_mid_run_is_returned_with_its_details() {
    let mut overloaded = ModelError::new(ModelErrorKind::Overloaded, "overloaded");
    overloaded.status = Some(529);
    overloaded.request_id = Some("req_1".into());
    let model =
        ScriptedModel::new([Turn::tool_call("c1", "get_weather", json!({"city": "Rome"})), Turn::error(overloaded)]);
    let agent = Agent::builder(model).tool(weather_tool()).build().unwrap();
    match agent.run("hi").await {
        Err(Error::Model(error)) => {
            assert_eq!((error.status, error.request_id.as_deref()), (Some(529), Some("req_1")));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn pause_turn_is_resumed_without_an_extra_user_message() {
    let mut paused = text_response("searching...");
    paused.stop_reason = StopReason::PauseTurn;
    let model = ScriptedModel::new([
        Turn::respond(paused),
        Turn::text("found it").expect(|request| {
            let last = request.messages.last().ok_or("no messages")?;
            if last.role == Role::Assistant && last.text() == "searching..." {
                Ok(())
            } else {
                Err(format!("expected the paused assistant turn last, got {last:?}"))
            }
        }),
    ]);
    let agent = Agent::builder(model.clone()).build().unwrap();
    let output = agent.run("search").await.unwrap();
    assert_eq!(output.content, "found it");
    model.assert_complete();
}

#[tokio::test]
async fn pause_turn_stops_after_max_continuations() {
    let model = FunctionModel::new(|_| {
        let mut paused = text_response("still going");
        paused.stop_reason = StopReason::PauseTurn;
        Ok(paused)
    });
    let agent = Agent::builder(model).max_continuations(2).build().unwrap();
    assert!(matches!(agent.run("hi").await, Err(Error::PauseTurnLimit { limit: 2, .. })));
}

#[tokio::test]
async fn a_refusal_is_a_typed_outcome_and_partial_output_is_not_an_answer() {
    let mut refused = text_response("Here is how to");
    refused.stop_reason =
        StopReason::Refusal { details: Some(StopDetails { category: Some("cyber".into()), ..StopDetails::default() }) };
    let agent = Agent::builder(ScriptedModel::new([Turn::respond(refused)])).build().unwrap();
    match agent.run("hi").await {
        Err(Error::Refused { details: Some(details), .. }) => assert_eq!(details.category.as_deref(), Some("cyber")),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn max_tokens_in_the_middle_of_a_tool_call_is_an_error_not_a_call() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let tool = FnTool::<()>::raw(ToolDef::new("write", "Writes.", json!({"type": "object"})), move |_, _| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { Ok(ToolOutput::text("written")) }
    });
    let mut truncated = tool_calls_response([("c1", "write", json!({}))]);
    truncated.stop_reason = StopReason::MaxTokens;
    let agent = Agent::builder(ScriptedModel::new([Turn::respond(truncated)])).tool(tool).build().unwrap();
    assert!(matches!(agent.run("hi").await, Err(Error::TruncatedToolCall { tool }) if tool == "write"));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_fallback_model_keeps_the_rest_of_the_run() {
    let model = FunctionModel::new(|request| {
        if request.messages.len() == 1 {
            let mut response = tool_calls_response([("c1", "get_weather", json!({"city": "Oslo"}))]);
            response.fallback_model = Some("claude-opus-4-8".into());
            Ok(response)
        } else {
            Ok(text_response(format!("model override: {:?}", request.model)))
        }
    });
    let agent = Agent::builder(model).tool(weather_tool()).build().unwrap();
    let output = agent.run("hi").await.unwrap();
    assert_eq!(output.content, r#"model override: Some("claude-opus-4-8")"#);
}

#[tokio::test]
async fn hooks_can_reject_or_stop_calls_and_see_results() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let model = ScriptedModel::new([
        Turn::respond(tool_calls_response([
            ("a", "get_weather", json!({"city": "Paris"})),
            ("b", "get_weather", json!({"city": "Mordor"})),
        ])),
        Turn::tool_call("c", "get_weather", json!({"city": "Atlantis"})),
    ]);
    let agent = Agent::builder(model.clone())
        .tool(weather_tool())
        .pre_tool_hook(|_ctx, call| match call.input["city"].as_str() {
            Some("Mordor") => HookAction::Reject("one does not simply look up Mordor".into()),
            Some("Atlantis") => HookAction::Stop("Atlantis is off limits".into()),
            _ => HookAction::Continue,
        })
        .post_tool_hook(move |_ctx, call, result, is_error| {
            seen2.lock().unwrap().push(format!("{}:{}:{is_error}", call.id, result.to_text()));
        })
        .build()
        .unwrap();
    assert!(matches!(agent.run("hi").await, Err(Error::Hook(message)) if message == "Atlantis is off limits"));
    assert_eq!(*seen.lock().unwrap(), ["a:Sunny in Paris:false", "b:one does not simply look up Mordor:true"]);
}

#[tokio::test]
async fn cached_tools_run_once_per_identical_call() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let tool = FnTool::<()>::raw(ToolDef::new("lookup", "Looks up.", json!({"type": "object"})), move |_, _| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { Ok(ToolOutput::json(json!({"answer": 42}))) }
    })
    .with_def(|def| def.cache_results(true));
    let model = ScriptedModel::new([
        Turn::tool_call("a", "lookup", json!({"q": 1})),
        Turn::tool_call("b", "lookup", json!({"q": 1})),
        Turn::text("42"),
    ]);
    let agent = Agent::builder(model.clone()).tool(tool).build().unwrap();
    agent.run("hi").await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(results_sent(&model, 2), [("b".into(), r#"{"answer":42}"#.into(), false)]);
}

struct Deps {
    greeting: String,
}

#[tokio::test]
async fn dependencies_reach_tools_and_dynamic_instructions() {
    let tool = FnTool::<Deps>::raw(ToolDef::new("greet", "Greets.", json!({"type": "object"})), |ctx, _| async move {
        Ok(ToolOutput::text(format!("{} from {}", ctx.deps().greeting, ctx.tool_call_id().unwrap_or("?"))))
    });
    let model = ScriptedModel::new([
        Turn::tool_call("c1", "greet", json!({})).expect(|request| match request.instructions.as_deref() {
            Some("Be brief.\n\nThe user is user-7.") => Ok(()),
            other => Err(format!("instructions: {other:?}")),
        }),
        Turn::text("done"),
    ]);
    let agent = Agent::with_deps(model.clone(), Deps { greeting: "hello".into() })
        .instructions("Be brief.")
        .instructions_fn(|ctx: &RunContext<Deps>| format!("The user is {}.", ctx.user_id().unwrap_or("unknown")))
        .tool(tool)
        .build()
        .unwrap();
    agent.run("hi").user("user-7").await.unwrap();
    assert_eq!(results_sent(&model, 1), [("c1".into(), "hello from c1".into(), false)]);
    model.assert_complete();
}

#[tokio::test]
async fn two_tools_with_one_name_are_rejected_at_build() {
    let error = Agent::builder(TestModel::new()).tool(weather_tool()).tool(weather_tool()).build().unwrap_err();
    assert_eq!(error.to_string(), "invalid agent configuration: two tools are named `get_weather`");
    let bad = FnTool::<()>::raw(ToolDef::new("get weather", "x", json!({"type": "object"})), |_, _| async {
        Ok(ToolOutput::text(""))
    });
    assert!(matches!(Agent::builder(TestModel::new()).tool(bad).build(), Err(Error::Config(_))));
}

#[tokio::test]
async fn tool_results_can_be_json_or_blocks() {
    let rich = FnTool::<()>::raw(ToolDef::new("rich", "Rich.", json!({"type": "object"})), |_, _| async {
        Ok(ToolOutput::blocks(vec![ContentBlock::text("a chart")]))
    });
    let model = ScriptedModel::new([Turn::tool_call("c1", "rich", json!({})), Turn::text("ok")]);
    let agent = Agent::builder(model.clone()).tool(rich).build().unwrap();
    agent.run("hi").await.unwrap();
    let request = &model.requests()[1];
    assert_eq!(
        request.messages.last().unwrap().content,
        [ContentBlock::ToolResult {
            tool_call_id: "c1".into(),
            content: ToolResultContent::Blocks(vec![ContentBlock::text("a chart")]),
            is_error: false,
        }]
    );
}

#[tokio::test]
async fn empty_final_answers_are_not_added_to_history() {
    let empty = ModelResponse { content: vec![], ..text_response("") };
    let agent = Agent::builder(ScriptedModel::new([Turn::respond(empty)])).build().unwrap();
    let output = agent.run("hi").await.unwrap();
    assert_eq!(output.content, "");
    assert_eq!(output.messages, [Message::user("hi")]);
}

//! Runs across time: streaming, cancellation, human in the loop, sessions and
//! structured output.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use agent_core::testing::{FunctionModel, ScriptedModel, TestModel, Turn, text_response, tool_calls_response};
use agent_core::{
    Agent, ContentBlock, Error, FnTool, InMemoryStore, Message, PendingKind, Role, RunEventKind, RunStatus,
    SessionStore, ToolDecision, ToolDef, ToolError, ToolOutput,
};
use futures::StreamExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

fn delete_tool() -> FnTool {
    FnTool::<()>::raw(
        ToolDef::new("delete_file", "Deletes a file.", json!({"type": "object"})),
        |_, input| async move { Ok(ToolOutput::text(format!("deleted {}", input["path"].as_str().unwrap_or("?")))) },
    )
    .with_def(|def| def.requires_confirmation(true))
}

fn lookup_tool() -> FnTool {
    FnTool::<()>::raw(ToolDef::new("lookup", "Looks up.", json!({"type": "object"})), |_, _| async {
        Ok(ToolOutput::text("found"))
    })
}

fn last_results(model: &ScriptedModel) -> Vec<(String, String, bool)> {
    let requests = model.requests();
    requests
        .last()
        .unwrap()
        .messages
        .last()
        .unwrap()
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::ToolResult { tool_call_id, content, is_error } => {
                Some((tool_call_id.clone(), content.to_text(), *is_error))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn run_stream_yields_agentos_events_in_order() {
    let model = ScriptedModel::new([Turn::tool_call("c1", "lookup", json!({})), Turn::text("All done.")]);
    let agent = Agent::builder(model).id("helper").tool(lookup_tool()).build().unwrap();
    let mut stream = agent.run("go").stream();
    let mut names = Vec::new();
    while let Some(event) = stream.next().await {
        assert_eq!(event.agent_id.as_deref(), Some("helper"));
        names.push(event.name());
    }
    assert_eq!(
        names,
        ["RunStarted", "ToolCallStarted", "ToolCallCompleted", "RunContent", "RunContentCompleted", "RunCompleted"]
    );
    let output = stream.output().unwrap().unwrap();
    assert_eq!(output.content, "All done.");
    assert!(output.metrics.time_to_first_token.is_some());
}

#[tokio::test]
async fn run_events_serialize_as_agentos_does() {
    let agent = Agent::builder(ScriptedModel::new([Turn::text("Hi!")])).id("a1").build().unwrap();
    let events: Vec<_> = agent.run("hello").stream().collect().await;
    let content = serde_json::to_value(&events[1]).unwrap();
    assert_eq!(content["event"], "RunContent");
    assert_eq!(content["content"], "Hi!");
    assert_eq!(content["agent_id"], "a1");
    assert!(content["run_id"].is_string() && content["created_at"].is_i64());
    let completed = serde_json::to_value(events.last().unwrap()).unwrap();
    assert_eq!(completed["event"], "RunCompleted");
    assert_eq!(completed["metrics"]["input_tokens"], 10);
    let back: agent_core::RunEvent = serde_json::from_value(completed).unwrap();
    assert_eq!(&back, events.last().unwrap());
}

#[tokio::test]
async fn a_failed_streamed_run_ends_with_run_error() {
    let agent = Agent::builder(FunctionModel::new(|_| Ok(tool_calls_response([("c", "lookup", json!({}))]))))
        .tool(lookup_tool())
        .max_turns(1)
        .build()
        .unwrap();
    let mut stream = agent.run("go").stream();
    let mut last = None;
    while let Some(event) = stream.next().await {
        last = Some(event);
    }
    match last.unwrap().kind {
        RunEventKind::RunError { error_type, .. } => assert_eq!(error_type, "MaxTurns"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(stream.output(), Some(Err(Error::MaxTurns { limit: 1, .. }))));
}

#[tokio::test(start_paused = true)]
async fn dropping_the_stream_cancels_the_run() {
    let finished = Arc::new(AtomicBool::new(false));
    let flag = finished.clone();
    let slow = FnTool::<()>::raw(ToolDef::new("slow", "Slow.", json!({"type": "object"})), move |_, _| {
        let flag = flag.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(10)).await;
            flag.store(true, Ordering::SeqCst);
            Ok(ToolOutput::text("done"))
        }
    });
    let store = Arc::new(InMemoryStore::new());
    let model = ScriptedModel::new([Turn::tool_call("c1", "slow", json!({})), Turn::text("never")]);
    let agent = Agent::builder(model.clone()).tool(slow).store(store.clone()).build().unwrap();
    let mut stream = agent.run("go").session("s1").stream();
    while let Some(event) = stream.next().await {
        if event.name() == "ToolCallStarted" {
            break;
        }
    }
    drop(stream);
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(!finished.load(Ordering::SeqCst));
    assert_eq!(model.remaining(), 1);
    // Only the record the run wrote when it started remains: other processes
    // see it running until its lease expires and the store fails it.
    let runs = store.runs("s1", None).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].status, runs[0].messages.len()), (RunStatus::Running, 1));
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_run_is_a_typed_error_and_leaves_valid_history() {
    let slow = FnTool::<()>::raw(ToolDef::new("slow", "Slow.", json!({"type": "object"})), |_, _| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        Ok(ToolOutput::text("done"))
    });
    let store = Arc::new(InMemoryStore::new());
    let model = ScriptedModel::new([Turn::tool_call("c1", "slow", json!({}))]);
    let agent = Agent::builder(model).tool(slow).store(store.clone()).build().unwrap();
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        cancel.cancel();
    });
    let result = agent.run("go").session("s1").cancel(token).await;
    assert!(matches!(result, Err(Error::Cancelled)));
    let runs = store.runs("s1", None).await.unwrap();
    assert_eq!(runs[0].status, RunStatus::Cancelled);
    assert_every_tool_call_answered(&runs[0].messages);
}

fn assert_every_tool_call_answered(messages: &[Message]) {
    for (index, message) in messages.iter().enumerate() {
        for call in message.tool_calls() {
            let answered = messages.get(index + 1).is_some_and(|next| {
                next.content.iter().any(
                    |block| matches!(block, ContentBlock::ToolResult { tool_call_id, .. } if tool_call_id == call.id),
                )
            });
            assert!(answered, "tool call {} has no result in {messages:#?}", call.id);
        }
    }
}

#[tokio::test]
async fn a_failed_run_leaves_valid_history_in_the_store() {
    let store = Arc::new(InMemoryStore::new());
    let model = ScriptedModel::new([Turn::respond(tool_calls_response([
        ("a", "lookup", json!({})),
        ("b", "delete_file", json!({"path": "x"})),
    ]))]);
    let agent = Agent::builder(model)
        .tool(lookup_tool())
        .tool(FnTool::<()>::raw(ToolDef::new("delete_file", "x", json!({"type": "object"})), |_, _| async {
            Err(ToolError::fatal("permission denied"))
        }))
        .store(store.clone())
        .build()
        .unwrap();
    assert!(agent.run("go").session("s").await.is_err());
    let runs = store.runs("s", None).await.unwrap();
    assert_eq!(runs[0].status, RunStatus::Error);
    assert_eq!(runs[0].error.as_deref(), Some("tool `delete_file` failed: permission denied"));
    assert_every_tool_call_answered(&runs[0].messages);
}

#[tokio::test]
async fn a_tool_requiring_confirmation_pauses_and_continues_when_approved() {
    let model = ScriptedModel::new([
        Turn::respond(tool_calls_response([
            ("a", "lookup", json!({})),
            ("b", "delete_file", json!({"path": "/tmp/x"})),
        ])),
        Turn::text("Deleted."),
    ]);
    let agent = Agent::builder(model.clone()).tool(lookup_tool()).tool(delete_tool()).build().unwrap();
    let paused = agent.run("clean up").await.unwrap();
    assert!(paused.is_paused());
    let pending = paused.pending_tool_calls();
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].tool_name.as_str(), pending[0].kind), ("delete_file", PendingKind::Confirmation));

    let done = agent.continue_run(&paused, vec![ToolDecision::approve("b")]).await.unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.content, "Deleted.");
    assert_eq!(done.run_id, paused.run_id);
    assert_eq!(
        last_results(&model),
        [("a".into(), "found".into(), false), ("b".into(), "deleted /tmp/x".into(), false)]
    );
    model.assert_complete();
}

#[tokio::test]
async fn a_rejected_call_tells_the_model_why() {
    let model =
        ScriptedModel::new([Turn::tool_call("b", "delete_file", json!({"path": "/"})), Turn::text("OK, I won't.")]);
    let agent = Agent::builder(model.clone()).tool(delete_tool()).build().unwrap();
    let paused = agent.run("clean up").await.unwrap();
    let done = agent.continue_run(&paused, vec![ToolDecision::reject("b", "that is the root")]).await.unwrap();
    assert_eq!(done.content, "OK, I won't.");
    assert_eq!(last_results(&model), [("b".into(), "the user rejected this tool call: that is the root".into(), true)]);
}

#[tokio::test]
async fn an_external_tool_takes_its_result_from_the_caller() {
    let external = FnTool::<()>::raw(ToolDef::new("ask_human", "Asks.", json!({"type": "object"})), |_, _| async {
        Err(ToolError::fatal("must not run in process"))
    })
    .with_def(|def| def.external_execution(true));
    let model = ScriptedModel::new([
        Turn::tool_call("q", "ask_human", json!({"question": "color?"})),
        Turn::text("Blue it is."),
    ]);
    let agent = Agent::builder(model.clone()).tool(external).build().unwrap();
    let paused = agent.run("pick a color").await.unwrap();
    assert_eq!(paused.pending_tool_calls()[0].kind, PendingKind::ExternalExecution);
    let missing = agent.continue_run(&paused, vec![]).await.unwrap_err();
    assert_eq!(missing.to_string(), "cannot continue run: no decision for pending tool call `q` (ask_human)");
    let done = agent.continue_run(&paused, vec![ToolDecision::result("q", "blue")]).await.unwrap();
    assert_eq!(done.content, "Blue it is.");
    assert_eq!(last_results(&model), [("q".into(), "blue".into(), false)]);
}

#[tokio::test]
async fn a_paused_run_continues_from_the_store_and_streams_run_continued() {
    let store = Arc::new(InMemoryStore::new());
    let model = ScriptedModel::new([Turn::tool_call("b", "delete_file", json!({"path": "a"})), Turn::text("Done.")]);
    let agent = Agent::builder(model).tool(delete_tool()).store(store.clone()).build().unwrap();
    let paused = agent.run("clean").session("s1").await.unwrap();
    let stored = store.run("s1", &paused.run_id).await.unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Paused);

    let mut stream = agent.continue_run(("s1", paused.run_id.as_str()), vec![ToolDecision::approve("b")]).stream();
    let mut names = Vec::new();
    while let Some(event) = stream.next().await {
        names.push(event.name());
    }
    assert_eq!(names.first(), Some(&"RunContinued"));
    assert_eq!(names.last(), Some(&"RunCompleted"));
    let stored = store.run("s1", &paused.run_id).await.unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Completed);
    assert_eq!(stored.output.as_deref(), Some("Done."));
    assert_eq!(store.runs("s1", None).await.unwrap().len(), 1);
    assert_every_tool_call_answered(&stored.messages);
    let again = agent.continue_run(("s1", paused.run_id.as_str()), vec![]).await.unwrap_err();
    assert!(again.to_string().contains("is completed, not paused"), "{again}");
}

#[tokio::test]
async fn a_session_keeps_history_and_state_across_runs() {
    let store = Arc::new(InMemoryStore::new());
    let counter = FnTool::<()>::raw(ToolDef::new("count", "Counts.", json!({"type": "object"})), |ctx, _| async move {
        let mut state = ctx.session_state();
        let count = state.get("count").and_then(|v| v.as_i64()).unwrap_or(0) + 1;
        state.insert("count".into(), json!(count));
        Ok(ToolOutput::text(count.to_string()))
    });
    let model = ScriptedModel::new([
        Turn::tool_call("c1", "count", json!({})),
        Turn::text("My name is Ada, noted."),
        Turn::tool_call("c2", "count", json!({})).expect(|request| {
            let texts: Vec<String> = request.messages.iter().map(Message::text).collect();
            if request.messages.len() == 5 && texts[0] == "I am Ada" && texts[4] == "Who am I?" {
                Ok(())
            } else {
                Err(format!("history not loaded: {texts:?}"))
            }
        }),
        Turn::text("You are Ada."),
    ]);
    let agent = Agent::builder(model.clone()).tool(counter).store(store.clone()).build().unwrap();
    agent.run("I am Ada").session("s1").user("ada").await.unwrap();
    let second = agent.run("Who am I?").session("s1").user("ada").await.unwrap();
    assert_eq!(second.content, "You are Ada.");
    model.assert_complete();
    let session = store.session("s1").await.unwrap().unwrap();
    assert_eq!(session.state["count"], 2);
    assert_eq!(session.user_id.as_deref(), Some("ada"));
    assert_eq!(store.runs("s1", None).await.unwrap().len(), 2);
}

#[tokio::test]
async fn history_is_bounded_by_history_runs() {
    let store = Arc::new(InMemoryStore::new());
    let model = FunctionModel::new(|request| Ok(text_response(format!("{} messages", request.messages.len()))));
    let agent = Agent::builder(model).store(store).history_runs(Some(2)).build().unwrap();
    let mut last = String::new();
    for turn in 0..5 {
        last = agent.run(format!("turn {turn}")).session("s").await.unwrap().content;
    }
    assert_eq!(last, "5 messages");
}

#[derive(Debug, PartialEq, serde::Deserialize, schemars::JsonSchema)]
struct Forecast {
    /// City name.
    city: String,
    /// Degrees Celsius.
    temperature: i32,
}

#[tokio::test]
async fn typed_output_follows_the_schema() {
    let agent = Agent::builder(TestModel::new()).build().unwrap();
    let typed = agent.run("forecast?").typed::<Forecast>().await.unwrap();
    assert_eq!(typed.content, Forecast { city: "a".into(), temperature: 0 });
}

#[tokio::test]
async fn typed_output_that_does_not_parse_is_retried_with_the_parser_message() {
    let model = ScriptedModel::new([
        Turn::text("It is warm in Rome").expect(|request| {
            let schema = request.output_schema.as_ref().ok_or("no output schema")?;
            if schema["required"] == json!(["city", "temperature"]) { Ok(()) } else { Err(schema.to_string()) }
        }),
        Turn::text("```json\n{\"city\": \"Rome\", \"temperature\": 24}\n```").expect(|request| {
            let last = request.messages.last().unwrap().text();
            if last.contains("expected value") { Ok(()) } else { Err(last) }
        }),
    ]);
    let agent = Agent::builder(model.clone()).build().unwrap();
    let typed = agent.run("forecast?").typed::<Forecast>().await.unwrap();
    assert_eq!(typed.content, Forecast { city: "Rome".into(), temperature: 24 });
    model.assert_complete();

    let stubborn =
        Agent::builder(FunctionModel::new(|_| Ok(text_response("no")))).max_output_retries(1).build().unwrap();
    assert!(matches!(
        stubborn.run("forecast?").typed::<Forecast>().await,
        Err(Error::OutputValidation { attempts: 2, .. })
    ));
}

#[tokio::test]
async fn images_and_documents_are_sent_as_input() {
    let model =
        ScriptedModel::new([Turn::text("a cat").expect(|request| match request.messages[0].content.as_slice() {
            [ContentBlock::Image { .. }, ContentBlock::Text { .. }] if request.messages[0].role == Role::User => Ok(()),
            other => Err(format!("{other:?}")),
        })]);
    let agent = Agent::builder(model.clone()).build().unwrap();
    let input = vec![
        ContentBlock::Image { source: agent_core::MediaSource::Url { url: "https://example.com/cat.png".into() } },
        ContentBlock::text("What is this?"),
    ];
    assert_eq!(agent.run(input).await.unwrap().content, "a cat");
    model.assert_complete();
}

#[tokio::test]
async fn history_is_bounded_by_a_token_budget() {
    let store = Arc::new(InMemoryStore::new());
    let model = FunctionModel::new(|request| {
        let first = request.messages.first().map(Message::text).unwrap_or_default();
        Ok(text_response(format!("{} messages, first: {first}", request.messages.len())))
    });
    let agent = Agent::builder(model).store(store).history_token_budget(80).build().unwrap();
    let mut last = String::new();
    for turn in 0..6 {
        let input = format!("turn {turn} {}", "padding ".repeat(10));
        last = agent.run(input).session("s").await.unwrap().content;
    }
    // Each exchange is about 60 estimated tokens: only the newest fits.
    assert!(last.starts_with("3 messages, first: turn 4"), "{last}");
}

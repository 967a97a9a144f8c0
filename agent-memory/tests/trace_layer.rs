//! The trace layer end to end: runs of agents, teams and workflows on test models become stored traces with the right tree, ids, statuses and fields; drops are counted, not waited for.
#![allow(clippy::unwrap_used)]

use std::future::IntoFuture;
use std::sync::Arc;

use agent_core::testing::{ScriptedModel, TestModel, Turn, tool_calls_response};
use agent_core::trace::{InMemoryTraceStore, SpanKind, SpanNode, SpanStatus, Trace, TraceQuery, TraceStore};
use agent_core::{
    Agent, FnTool, InMemoryStore, ModelError, ModelErrorKind, Step, StepOutput, Team, ToolDef, ToolError, ToolOutput,
    Workflow,
};
use agent_memory::{SqliteStore, TraceHandle, TraceLayer};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

/// Installs a registry with the trace layer on this thread (the tests run on
/// a current-thread runtime, so spawned tasks see it too) and spawns the writer.
fn install(store: Arc<dyn TraceStore>) -> (TraceHandle, tracing::subscriber::DefaultGuard) {
    let (layer, writer) = TraceLayer::new(store);
    let handle = layer.handle();
    tokio::spawn(writer.run());
    (handle, tracing::subscriber::set_default(tracing_subscriber::registry().with(layer)))
}

fn weather_tool() -> FnTool {
    FnTool::<()>::raw(
        ToolDef::new(
            "get_weather",
            "Gets the weather.",
            json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        ),
        |_, input| async move { Ok(ToolOutput::text(format!("Sunny in {}.", input["city"].as_str().unwrap_or("?")))) },
    )
}

async fn only_trace(store: &dyn TraceStore) -> Trace {
    let page = store.search_traces(&TraceQuery::new()).await.unwrap();
    assert_eq!(page.total, 1, "{:#?}", page.items);
    page.items.into_iter().next().unwrap()
}

/// The tree as `KIND name` lines, indented by depth.
fn outline(nodes: &[SpanNode<'_>], depth: usize, lines: &mut Vec<String>) {
    for node in nodes {
        lines.push(format!("{}{} {}", "  ".repeat(depth), node.span.kind.as_str(), node.span.name));
        outline(&node.children, depth + 1, lines);
    }
}

fn tree_of(trace: &Trace) -> Vec<String> {
    let mut lines = Vec::new();
    outline(&trace.tree(), 0, &mut lines);
    lines
}

#[tokio::test]
async fn an_agent_run_is_one_trace_with_its_model_and_tool_calls() {
    let traces = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let (handle, _guard) = install(traces.clone());
    let model = ScriptedModel::new([
        Turn::respond(tool_calls_response([("c1", "get_weather", json!({"city": "Paris"}))])),
        Turn::text("It is sunny in Paris."),
    ]);
    let agent = Agent::builder(model)
        .id("weather")
        .name("Weather Agent")
        .tool(weather_tool())
        .store(Arc::new(InMemoryStore::new()))
        .build()
        .unwrap();
    let output = agent.run("Weather in Paris?").session("s1").user("ana").await.unwrap();
    handle.flush().await;

    let trace = only_trace(&*traces).await;
    assert_eq!(
        tree_of(&trace),
        ["AGENT Weather Agent.run", "  LLM scripted.invoke", "  TOOL get_weather", "  LLM scripted.invoke"],
        "{trace:#?}"
    );
    let summary = &trace.summary;
    assert_eq!(summary.run_id.as_deref(), Some(output.run_id.as_str()));
    assert_eq!((summary.session_id.as_deref(), summary.user_id.as_deref()), (Some("s1"), Some("ana")));
    assert_eq!((summary.agent_id.as_deref(), summary.team_id.as_deref()), (Some("weather"), None));
    assert_eq!(
        (summary.input.as_deref(), summary.output.as_deref()),
        (Some("Weather in Paris?"), Some("It is sunny in Paris."))
    );
    assert_eq!((summary.status, summary.total_spans, summary.error_count), (SpanStatus::Ok, 4, 0));
    let root = &trace.spans[0];
    assert_eq!((root.attribute("run_status"), root.parent_span_id.as_deref()), (Some("completed"), None));
    let tool = &trace.spans[2];
    assert_eq!((tool.input.as_deref(), tool.output.as_deref()), (Some(r#"{"city":"Paris"}"#), Some("Sunny in Paris.")));
    assert_eq!((tool.attribute("tool_call_id"), tool.attributes["is_error"].as_bool()), (Some("c1"), Some(false)));
    let llm = &trace.spans[1];
    assert_eq!((llm.attribute("provider"), llm.attributes["turn"].as_u64()), (Some("test"), Some(0)));
    assert_eq!(llm.attribute("stop_reason"), Some("tool_use"));
    assert_eq!(trace.spans[3].output.as_deref(), Some("It is sunny in Paris."));
    assert!(trace.spans.iter().all(|span| span.trace_id == summary.trace_id && span.end_time >= span.start_time));
    assert!(trace.spans[1..].iter().all(|span| span.parent_span_id.as_deref() == Some(root.span_id.as_str())));
    assert_eq!((handle.written_spans(), handle.dropped_spans(), handle.failed_spans()), (4, 0, 0));
}

#[tokio::test]
async fn failures_are_error_spans_with_their_message() {
    let traces = Arc::new(InMemoryTraceStore::new());
    let (handle, _guard) = install(traces.clone());
    let failing = FnTool::<()>::raw(ToolDef::new("flaky", "Fails.", json!({"type": "object"})), |_, _| async {
        Err(ToolError::retry("the service is down"))
    });
    let model = ScriptedModel::new([
        Turn::respond(tool_calls_response([("c1", "flaky", json!({}))])),
        Turn::error(ModelError::new(ModelErrorKind::Overloaded, "overloaded")),
    ]);
    let agent = Agent::builder(model).id("fragile").tool(failing).build().unwrap();
    assert!(agent.run("try").await.is_err());
    handle.flush().await;

    let trace = only_trace(&*traces).await;
    assert_eq!(
        tree_of(&trace),
        ["AGENT fragile.run", "  LLM scripted.invoke", "  TOOL flaky", "  LLM scripted.invoke"]
    );
    let statuses: Vec<SpanStatus> = trace.spans.iter().map(|span| span.status).collect();
    assert_eq!(statuses, [SpanStatus::Error, SpanStatus::Ok, SpanStatus::Error, SpanStatus::Error]);
    assert_eq!(trace.spans[2].status_message.as_deref(), Some("the service is down"));
    assert!(trace.spans[3].status_message.as_deref().unwrap().contains("overloaded"));
    assert_eq!(
        (trace.summary.status, trace.summary.error_count, trace.summary.output.as_deref()),
        (SpanStatus::Error, 3, None)
    );
    assert!(trace.summary.error.as_deref().unwrap().contains("overloaded"));
    assert_eq!(trace.spans[0].attribute("run_status"), Some("error"));
}

#[tokio::test]
async fn a_team_trace_shows_each_delegation_and_the_members_run() {
    let traces = Arc::new(InMemoryTraceStore::new());
    let (handle, _guard) = install(traces.clone());
    let leader = ScriptedModel::new([
        Turn::respond(tool_calls_response([(
            "d1",
            "delegate_task_to_member",
            json!({"member_id": "researcher", "task": "find facts"}),
        )])),
        Turn::text("Report."),
    ]);
    let researcher = Agent::builder(TestModel::new().answer("facts")).id("researcher").build().unwrap();
    let team = Team::builder(leader).id("crew").name("Crew").member(researcher).build().unwrap();
    team.run("write a report").user("bob").await.unwrap();
    handle.flush().await;

    let trace = only_trace(&*traces).await;
    assert_eq!(
        tree_of(&trace),
        [
            "TEAM Crew.run",
            "  LLM scripted.invoke",
            "  TOOL delegate_task_to_member",
            "    DELEGATION delegate to researcher",
            "      AGENT researcher.run",
            "        LLM test.invoke",
            "  LLM scripted.invoke",
        ]
    );
    let summary = &trace.summary;
    assert_eq!(
        (summary.team_id.as_deref(), summary.agent_id.as_deref(), summary.user_id.as_deref()),
        (Some("crew"), None, Some("bob"))
    );
    let delegation = trace.spans.iter().find(|span| span.kind == SpanKind::Delegation).unwrap();
    assert_eq!((delegation.input.as_deref(), delegation.output.as_deref()), (Some("find facts"), Some("facts")));
    let member = trace.spans.iter().find(|span| span.kind == SpanKind::Agent).unwrap();
    assert_eq!(member.attribute("parent_run_id"), summary.run_id.as_deref());
}

#[tokio::test]
async fn a_workflow_trace_has_a_span_per_step() {
    let traces = Arc::new(InMemoryTraceStore::new());
    let (handle, _guard) = install(traces.clone());
    let writer = Agent::builder(TestModel::new().answer("draft")).id("writer").build().unwrap();
    let workflow = Workflow::builder("pipeline")
        .step(Step::function(
            "prepare",
            |input| async move { Ok(StepOutput::new(input.previous_text().to_uppercase())) },
        ))
        .step(Step::parallel("both", vec![Step::run("write", writer)]))
        .build()
        .unwrap();
    workflow.run("topic").await.unwrap();
    handle.flush().await;

    let trace = only_trace(&*traces).await;
    assert_eq!(
        tree_of(&trace),
        [
            "WORKFLOW pipeline.run",
            "  STEP prepare",
            "  STEP both",
            "    STEP write",
            "      AGENT writer.run",
            "        LLM test.invoke",
        ]
    );
    assert_eq!(trace.summary.workflow_id.as_deref(), Some("pipeline"));
    let prepare = &trace.spans[1];
    assert_eq!((prepare.attribute("step_type"), prepare.output.as_deref()), (Some("function"), Some("TOPIC")));
    let both = &trace.spans[2];
    assert_eq!((both.attribute("step_type"), both.attributes["step_index"].as_u64()), (Some("parallel"), Some(1)));
    assert_eq!(trace.spans[3].attribute("step_type"), Some("agent"));
}

#[tokio::test]
async fn a_run_inside_a_tool_joins_the_trace_across_other_spans() {
    let traces = Arc::new(InMemoryTraceStore::new());
    let (handle, _guard) = install(traces.clone());
    let helper = Agent::builder(TestModel::new().answer("helped")).id("helper").build().unwrap();
    let ask_helper = FnTool::<()>::raw(ToolDef::new("ask", "Asks.", json!({"type": "object"})), move |_, _| {
        let helper = helper.clone();
        async move {
            // A span of the user's own sits between the tool and the nested run.
            let span = tracing::info_span!("my.own.span");
            let answer = tracing::Instrument::instrument(helper.run("help").into_future(), span)
                .await
                .map_err(ToolError::fatal_error)?;
            Ok(ToolOutput::text(answer.content))
        }
    });
    let outer = Agent::builder(TestModel::new().call_tools(["ask"]).answer("done"))
        .id("outer")
        .tool(ask_helper)
        .build()
        .unwrap();
    // The outer run sits in a span of the user's too: it still starts its own trace.
    tracing::Instrument::instrument(outer.run("go").into_future(), tracing::info_span!("request")).await.unwrap();
    handle.flush().await;

    let trace = only_trace(&*traces).await;
    assert_eq!(
        tree_of(&trace),
        [
            "AGENT outer.run",
            "  LLM test.invoke",
            "  TOOL ask",
            "    AGENT helper.run",
            "      LLM test.invoke",
            "  LLM test.invoke"
        ]
    );
}

#[tokio::test]
async fn a_full_channel_drops_traces_and_counts_their_spans() {
    let traces = Arc::new(InMemoryTraceStore::new());
    let (layer, writer) = TraceLayer::builder(traces.clone()).capacity(1).build();
    let handle = layer.handle();
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let agent = Agent::builder(TestModel::new().answer("ok")).id("busy").build().unwrap();
    // The writer is not running yet: the first trace waits, the next two find the channel full.
    for _ in 0..3 {
        agent.run("hi").await.unwrap();
    }
    assert_eq!(handle.dropped_spans(), 4, "two traces of two spans");
    tokio::spawn(writer.run());
    handle.flush().await;
    assert_eq!(traces.traces(&TraceQuery::new()).await.unwrap().total, 1);
    drop(guard);
}

#[tokio::test]
async fn a_trace_keeps_at_most_its_span_limit() {
    let traces = Arc::new(InMemoryTraceStore::new());
    let (layer, writer) = TraceLayer::builder(traces.clone()).max_spans_per_trace(2).build();
    let handle = layer.handle();
    tokio::spawn(writer.run());
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let agent = Agent::builder(TestModel::new().call_tools(["get_weather"]).answer("ok"))
        .id("big")
        .tool(weather_tool())
        .build()
        .unwrap();
    agent.run("hi").await.unwrap();
    handle.flush().await;
    let trace = only_trace(&*traces).await;
    assert_eq!(tree_of(&trace), ["AGENT big.run", "  LLM test.invoke"]);
    assert_eq!(handle.dropped_spans(), 2);
}

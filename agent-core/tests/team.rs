//! Teams: route, coordinate and broadcast, failures, limits, pauses and events.
#![allow(clippy::unwrap_used)]

use agent_core::testing::{FunctionModel, ScriptedModel, TestModel, Turn, text_response, tool_calls_response};
use agent_core::{
    Agent, ContentBlock, FnTool, Message, ModelError, ModelErrorKind, RunStatus, Team, TeamMode, ToolDecision, ToolDef,
    ToolOutput,
};
use futures::StreamExt;
use serde_json::json;

fn member(id: &str, answer: &str) -> Agent {
    Agent::builder(TestModel::new().answer(answer)).id(id).description(format!("The {id}.")).build().unwrap()
}

fn results_in(request: &agent_core::ModelRequest) -> Vec<(String, String, bool)> {
    request
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

fn delegate(calls: &[(&str, &str, &str)]) -> Turn {
    Turn::respond(tool_calls_response(
        calls
            .iter()
            .map(|(id, member, task)| (*id, "delegate_task_to_member", json!({"member_id": member, "task": task}))),
    ))
}

#[tokio::test]
async fn coordinate_delegates_in_parallel_and_the_leader_answers() {
    let leader = ScriptedModel::new([
        delegate(&[("d1", "researcher", "find facts"), ("d2", "writer", "draft")]).expect(|request| {
            let prompt = request.instructions.as_deref().unwrap_or_default();
            if prompt.contains("- `researcher` (agent): The researcher.") { Ok(()) } else { Err(prompt.to_owned()) }
        }),
        Turn::text("Final report."),
    ]);
    let team = Team::builder(leader.clone())
        .id("team")
        .member(member("researcher", "facts"))
        .member(member("writer", "draft text"))
        .build()
        .unwrap();
    let output = team.run("write a report").await.unwrap();
    assert_eq!(output.content, "Final report.");
    assert_eq!(
        results_in(&leader.requests()[1]),
        [("d1".into(), "facts".into(), false), ("d2".into(), "draft text".into(), false)]
    );
    // Two leader turns and one turn per member, 15 tokens each.
    assert_eq!(output.usage.input_tokens + output.usage.output_tokens, 60);
    leader.assert_complete();
}

#[tokio::test]
async fn route_returns_the_chosen_members_answer() {
    let leader = ScriptedModel::new([Turn::respond(tool_calls_response([(
        "r1",
        "route_to_member",
        json!({"member_id": "billing", "task": "refund order 7"}),
    )]))
    .expect(|request| match &request.tool_choice {
        Some(agent_core::ToolChoice::Tool { name }) if name == "route_to_member" => Ok(()),
        other => Err(format!("{other:?}")),
    })]);
    let team = Team::builder(leader.clone())
        .id("support")
        .mode(TeamMode::Route)
        .member(member("billing", "Refund issued."))
        .member(member("tech", "Restart it."))
        .build()
        .unwrap();
    let output = team.run("I want my money back").await.unwrap();
    assert_eq!(output.content, "Refund issued.");
    leader.assert_complete();
}

#[tokio::test]
async fn broadcast_gives_every_member_the_task_and_the_leader_synthesizes() {
    let leader = ScriptedModel::new([Turn::text("Both agree.")]);
    let team = Team::builder(leader.clone())
        .id("panel")
        .mode(TeamMode::Broadcast)
        .member(member("optimist", "yes"))
        .member(member("pessimist", "no"))
        .build()
        .unwrap();
    let output = team.run("should we?").await.unwrap();
    assert_eq!(output.content, "Both agree.");
    // The members ran directly: the leader's one turn gets their answers in
    // its instructions, not as a faked tool turn.
    let request = &leader.requests()[0];
    let prompt = request.instructions.as_deref().unwrap_or_default();
    assert!(prompt.contains("<answer member=\"optimist\">\nyes\n</answer>"), "{prompt}");
    assert!(prompt.contains("<answer member=\"pessimist\">\nno\n</answer>"), "{prompt}");
    assert_eq!(request.messages, [Message::user("should we?")]);
    // One leader turn and one turn per member, 15 tokens each.
    assert_eq!(output.usage.input_tokens + output.usage.output_tokens, 45);
    leader.assert_complete();
}

#[tokio::test]
async fn a_failing_member_is_an_error_the_leader_can_react_to() {
    let broken = Agent::builder(FunctionModel::new(|_| Err(ModelError::new(ModelErrorKind::Overloaded, "overloaded"))))
        .id("broken")
        .build()
        .unwrap();
    let leader = ScriptedModel::new([
        delegate(&[("d1", "broken", "work")]),
        delegate(&[("d2", "backup", "work")]),
        Turn::text("Done by backup."),
    ]);
    let team = Team::builder(leader.clone()).id("t").member(broken).member(member("backup", "ok")).build().unwrap();
    let output = team.run("go").await.unwrap();
    assert_eq!(output.content, "Done by backup.");
    assert_eq!(results_in(&leader.requests()[1]), [("d1".into(), "member `broken` failed: overloaded".into(), true)]);
}

#[tokio::test]
async fn unknown_members_and_the_delegation_limit_are_reported_to_the_leader() {
    let leader =
        ScriptedModel::new([delegate(&[("d1", "nobody", "x"), ("d2", "a", "x"), ("d3", "a", "x")]), Turn::text("ok")]);
    let team = Team::builder(leader.clone()).id("t").member(member("a", "done")).max_delegations(1).build().unwrap();
    team.run("go").await.unwrap();
    let results = results_in(&leader.requests()[1]);
    assert_eq!(results[0].1, "there is no member `nobody`; the members are: a");
    assert_eq!(results[1], ("d2".into(), "done".into(), false));
    assert_eq!(results[2].1, "the team has used all 1 delegations of this run; answer with what you have");
}

#[tokio::test]
async fn a_paused_member_pauses_the_team_and_resumes_with_it() {
    let deleter = Agent::builder(ScriptedModel::new([
        Turn::tool_call("m1", "delete_file", json!({"path": "/tmp/a"})),
        Turn::text("File deleted."),
    ]))
    .id("ops")
    .tool(
        FnTool::<()>::raw(ToolDef::new("delete_file", "Deletes.", json!({"type": "object"})), |_, _| async {
            Ok(ToolOutput::text("deleted"))
        })
        .with_def(|def| def.requires_confirmation(true)),
    )
    .build()
    .unwrap();
    let leader = ScriptedModel::new([delegate(&[("d1", "ops", "delete /tmp/a")]), Turn::text("Cleanup complete.")]);
    let team = Team::builder(leader.clone()).id("t").member(deleter).build().unwrap();
    let paused = team.run("clean up").await.unwrap();
    assert_eq!(paused.status, RunStatus::Paused);
    let pending = paused.pending_tool_calls();
    assert_eq!((pending[0].tool_call_id.as_str(), pending[0].tool_name.as_str()), ("m1", "delete_file"));

    let done = team.continue_run(&paused, vec![ToolDecision::approve("m1")]).await.unwrap();
    assert_eq!(done.content, "Cleanup complete.");
    assert_eq!(results_in(&leader.requests()[1]), [("d1".into(), "File deleted.".into(), false)]);
    leader.assert_complete();
}

#[tokio::test]
async fn team_streams_name_leader_events_as_team_events_and_mark_member_events() {
    let leader = ScriptedModel::new([delegate(&[("d1", "a", "x")]), Turn::text("done")]);
    let team = Team::builder(leader).id("crew").member(member("a", "member answer")).build().unwrap();
    let events: Vec<_> = team.run("go").stream().collect().await;
    let names: Vec<(&str, Option<&str>, Option<&str>)> =
        events.iter().map(|e| (e.name(), e.agent_id.as_deref(), e.team_id.as_deref())).collect();
    assert_eq!(
        names,
        [
            ("TeamRunStarted", None, Some("crew")),
            ("TeamToolCallStarted", None, Some("crew")),
            ("RunStarted", Some("a"), Some("crew")),
            ("RunContent", Some("a"), Some("crew")),
            ("RunContentCompleted", Some("a"), Some("crew")),
            ("RunCompleted", Some("a"), Some("crew")),
            ("TeamToolCallCompleted", None, Some("crew")),
            ("TeamRunContent", None, Some("crew")),
            ("TeamRunContentCompleted", None, Some("crew")),
            ("TeamRunCompleted", None, Some("crew")),
        ]
    );
    let member_started = &events[2];
    assert_eq!(member_started.parent_run_id, Some(events[0].run_id.clone()));
    assert_eq!(serde_json::to_value(&events[0]).unwrap()["event"], "TeamRunStarted");
}

#[tokio::test]
async fn nested_teams_delegate_down_to_the_depth_limit() {
    let inner = Team::builder(FunctionModel::new(|request| {
        if request.messages.len() == 1 {
            Ok(tool_calls_response([("i1", "delegate_task_to_member", json!({"member_id": "leaf", "task": "x"}))]))
        } else {
            Ok(text_response("inner done"))
        }
    }))
    .id("inner")
    .member(member("leaf", "leaf answer"))
    .build()
    .unwrap();
    let outer_leader = ScriptedModel::new([delegate(&[("o1", "inner", "do it")]), Turn::text("outer done")]);
    let outer = Team::builder(outer_leader.clone()).id("outer").member(inner.clone()).build().unwrap();
    assert_eq!(outer.run("go").await.unwrap().content, "outer done");
    assert_eq!(results_in(&outer_leader.requests()[1]), [("o1".into(), "inner done".into(), false)]);

    let shallow_leader = ScriptedModel::new([delegate(&[("o1", "inner", "do it")]), Turn::text("gave up")]);
    let shallow = Team::builder(shallow_leader.clone()).id("outer").member(inner).max_depth(0).build().unwrap();
    shallow.run("go").await.unwrap();
    assert!(results_in(&shallow_leader.requests()[1])[0].1.contains("nested deeper than the limit of 0"));
}

#[tokio::test]
async fn teams_need_ids_and_members() {
    let error = Team::builder(TestModel::new()).id("t").build().unwrap_err();
    assert_eq!(error.to_string(), "invalid agent configuration: team `t` has no members");
    let anonymous = Agent::builder(TestModel::new()).build().unwrap();
    assert!(Team::builder(TestModel::new()).id("t").member(anonymous).build().is_err());
}

#[tokio::test]
async fn the_delegation_tool_names_the_members_as_an_enum() {
    let team = Team::builder(TestModel::new().answer("ok"))
        .id("crew")
        .member(member("researcher", "facts"))
        .member(member("writer", "prose"))
        .build()
        .unwrap();
    let def = team.leader().tool_defs().iter().find(|def| def.name == "delegate_task_to_member").cloned().unwrap();
    assert_eq!(def.input_schema["properties"]["member_id"]["enum"], json!(["researcher", "writer"]));
    // TestModel calls tools with schema-valid arguments, so it can only pick a member that exists.
    let output = team.run("Write it up").await.unwrap();
    assert_eq!(output.status, agent_core::RunStatus::Completed);
}

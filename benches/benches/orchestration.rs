//! Overhead of orchestration: a 10-step workflow of function steps, and one
//! delegation round of a coordinate-mode team with in-process models.

use agent_core::testing::{text_response, tool_calls_response};
use agent_core::{Agent, Model, ModelError, ModelRequest, ModelResponse, Step, StepOutput, Team, Workflow};
use async_trait::async_trait;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

fn ten_step_workflow(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut builder = Workflow::builder("bench");
    for index in 0..10 {
        builder = builder.step(Step::function(format!("step_{index}"), |input| async move {
            Ok(StepOutput::new(input.previous().cloned().unwrap_or(json!(0))))
        }));
    }
    let workflow = builder.build().expect("workflow");
    c.bench_function("workflow of 10 function steps", |b| {
        b.to_async(&runtime).iter(|| async { workflow.run(json!(1)).await.expect("run") })
    });
}

/// The leader: delegates to both members on its first turn, then answers.
struct Leader;

#[async_trait]
impl Model for Leader {
    fn id(&self) -> &str {
        "leader"
    }
    fn provider(&self) -> &str {
        "bench"
    }
    async fn request(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        if request.messages.len() == 1 {
            Ok(tool_calls_response([
                ("a", "delegate_task_to_member", json!({"member_id": "one", "task": "x"})),
                ("b", "delegate_task_to_member", json!({"member_id": "two", "task": "y"})),
            ]))
        } else {
            Ok(text_response("done"))
        }
    }
}

/// A member that answers at once.
struct Answer;

#[async_trait]
impl Model for Answer {
    fn id(&self) -> &str {
        "member"
    }
    fn provider(&self) -> &str {
        "bench"
    }
    async fn request(&self, _request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        Ok(text_response("ok"))
    }
}

fn delegation_round(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let team = Team::builder(Leader)
        .id("team")
        .member(Agent::builder(Answer).id("one").build().expect("agent"))
        .member(Agent::builder(Answer).id("two").build().expect("agent"))
        .build()
        .expect("team");
    c.bench_function("team: one coordinate round delegating to 2 members", |b| {
        b.to_async(&runtime).iter(|| async { team.run("go").await.expect("run") })
    });
}

criterion_group!(benches, ten_step_workflow, delegation_round);
criterion_main!(benches);

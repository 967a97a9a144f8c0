//! The leader of one team run: its tools (delegate, route), the broadcast
//! model, and running members.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{Member, Team, TeamMode};
use crate::agent::run::EventSink;
use crate::agent::{Agent, RunOptions, RunStream};
use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::message::{ContentBlock, Message, Role, StopReason, Usage};
use crate::model::{Model, ModelError, ModelEventStream, ModelRequest, ModelResponse, ToolChoice};
use crate::output::RunOutput;
use crate::tool::{FnTool, ToolError};

pub(super) const DELEGATE_TOOL: &str = "delegate_task_to_member";
pub(super) const ROUTE_TOOL: &str = "route_to_member";

/// The arguments of the delegate and route tools.
#[derive(Debug, Deserialize, JsonSchema)]
struct DelegateArgs {
    /// The id of the member to give the task to.
    member_id: String,
    /// The task, with everything the member needs to know to do it.
    task: String,
}

/// State shared by the leader's tools during one team run.
pub(super) struct TeamRun<D> {
    pub(super) team: Team<D>,
    pub(super) run_id: Arc<str>,
    pub(super) depth: u32,
    pub(super) delegations: AtomicU32,
    pub(super) events: Option<EventSink>,
    pub(super) user_id: Option<String>,
    pub(super) history: Vec<Message>,
    pub(super) member_usage: Mutex<Usage>,
    pub(super) cancel: CancellationToken,
}

impl<D: Send + Sync + 'static> TeamRun<D> {
    /// The leader agent for this run: the team's model with the tool of its mode.
    pub(super) fn leader(self: &Arc<Self>) -> Result<Agent<D>> {
        let team = &self.team.inner;
        let member_ids: Vec<String> = team.members.iter().map(|(id, _)| id.clone()).collect();
        let model: Arc<dyn Model> = match team.mode {
            TeamMode::Broadcast => Arc::new(BroadcastModel { inner: Arc::clone(&team.model), members: member_ids }),
            _ => Arc::clone(&team.model),
        };
        let mut builder = Agent::builder_without_deps(model)
            .id(team.id.clone())
            .team_leader()
            .instructions(self.prompt())
            .max_turns(team.max_turns);
        if let Some(name) = &team.name {
            builder = builder.name(name.clone());
        }
        if let Some(store) = &team.store {
            builder = builder.store_arc(Arc::clone(store));
        }
        let run = Arc::clone(self);
        builder = match team.mode {
            TeamMode::Route => builder
                .tool(
                    FnTool::new(ROUTE_TOOL, "Hand the request to the one member best suited to answer it.", {
                        move |ctx: RunContext<D>, args: DelegateArgs| {
                            let run = Arc::clone(&run);
                            async move { run.delegate(&ctx, args).await }
                        }
                    })
                    .with_def(|def| def.stop_after_call(true)),
                )
                .tool_choice(ToolChoice::Tool { name: ROUTE_TOOL.into() }),
            TeamMode::Coordinate | TeamMode::Broadcast => builder.tool(FnTool::new(
                DELEGATE_TOOL,
                "Give a task to one team member and get its answer. Call it several times in one turn to have \
                 members work in parallel.",
                move |ctx: RunContext<D>, args: DelegateArgs| {
                    let run = Arc::clone(&run);
                    async move { run.delegate(&ctx, args).await }
                },
            )),
        };
        builder.build()
    }

    fn prompt(&self) -> String {
        let team = &self.team.inner;
        let mut prompt = String::new();
        for text in &team.instructions {
            prompt.push_str(text);
            prompt.push_str("\n\n");
        }
        prompt.push_str(&format!("You lead the team `{}`. Its members:\n", team.id));
        for (id, member) in &team.members {
            prompt.push_str(&format!("- `{id}`: {}\n", member.description().unwrap_or("(no description)")));
        }
        prompt.push('\n');
        prompt.push_str(match team.mode {
            TeamMode::Route => {
                "Route the user's request to the one member best suited to answer it with `route_to_member`, \
                 passing the request on as the task. The member's answer goes to the user as it is."
            }
            TeamMode::Coordinate => {
                "Delegate tasks to members with `delegate_task_to_member` (several calls in one turn run in \
                 parallel), then write the final answer for the user from their results. If a member fails, \
                 decide whether to retry, ask another member, or answer with what you have."
            }
            TeamMode::Broadcast => {
                "Every member was given the user's request; their answers are the results of \
                 `delegate_task_to_member`. Synthesize them into one final answer for the user."
            }
        });
        prompt
    }

    /// Runs one delegation: checks the limits, runs the member, reports back.
    async fn delegate(&self, ctx: &RunContext<D>, args: DelegateArgs) -> Result<String, ToolError> {
        let team = &self.team.inner;
        let Some((member_id, member)) = team.members.iter().find(|(id, _)| *id == args.member_id) else {
            let ids: Vec<&str> = team.members.iter().map(|(id, _)| id.as_str()).collect();
            return Err(ToolError::retry(format!(
                "there is no member `{}`; the members are: {}",
                args.member_id,
                ids.join(", ")
            )));
        };
        let count = self.delegations.fetch_add(1, Ordering::SeqCst) + 1;
        if count > team.max_delegations {
            return Err(ToolError::retry(format!(
                "the team has used all {} delegations of this run; answer with what you have",
                team.max_delegations
            )));
        }
        if matches!(member, Member::Team(_)) && self.depth + 1 > team.max_depth {
            return Err(ToolError::retry(format!(
                "member `{member_id}` is a team nested deeper than the limit of {}; ask another member",
                team.max_depth
            )));
        }
        let result = self.run_member(member, args.task, self.member_options(ctx)).await;
        self.finish_member(member_id, result)
    }

    pub(super) fn member_options(&self, ctx: &RunContext<D>) -> RunOptions<D> {
        let team = &self.team.inner;
        let mut options =
            RunOptions::new().parent_run_id(self.run_id.to_string()).cancel_token(self.cancel.child_token());
        options.deps = Some(ctx.deps_arc());
        options.user_id.clone_from(&self.user_id);
        if team.share_history {
            options.history = Some(self.history.clone());
        }
        if team.share_state {
            options.session_state = Some(ctx.session_state().clone());
        }
        options
    }

    async fn run_member(&self, member: &Member<D>, task: String, options: RunOptions<D>) -> Result<RunOutput> {
        match member {
            Member::Agent(agent) => match &self.events {
                Some(sink) => self.forward(agent.run_stream_with(task, options), sink).await,
                None => agent.run_with(task, options).await,
            },
            Member::Team(team) => {
                Box::pin(team.run_nested(task.into(), options, self.depth + 1, self.events.clone())).await
            }
        }
    }

    /// Passes a member's events on, marked with the team, and returns its output.
    pub(super) async fn forward(&self, stream: RunStream, sink: &EventSink) -> Result<RunOutput> {
        let team_id: Arc<str> = Arc::from(self.team.inner.id.as_str());
        stream
            .forward_into(sink, |event| {
                event.team_id.get_or_insert_with(|| Arc::clone(&team_id));
                event.parent_run_id.get_or_insert_with(|| Arc::clone(&self.run_id));
            })
            .await
    }

    /// A member's answer as the leader's tool result; a paused member pauses
    /// the leader's call, a failed one is an error the leader can react to.
    pub(super) fn finish_member(&self, member_id: &str, result: Result<RunOutput>) -> Result<String, ToolError> {
        match result {
            Ok(output) => {
                *self.member_usage.lock().unwrap_or_else(PoisonError::into_inner) += output.usage;
                match output.paused {
                    Some(paused) => Err(ToolError::Pause(json!({"member_id": member_id, "paused": paused}))),
                    None => Ok(output.content),
                }
            }
            Err(Error::Cancelled) => Err(ToolError::fatal(format!("member `{member_id}` was cancelled"))),
            Err(error) => Err(ToolError::retry(format!("member `{member_id}` failed: {error}"))),
        }
    }
}

/// The broadcast leader's model: its first turn of a run is a delegation of
/// the user's request to every member; later turns go to the real model.
struct BroadcastModel {
    inner: Arc<dyn Model>,
    members: Vec<String>,
}

impl BroadcastModel {
    fn broadcast(&self, request: &ModelRequest) -> Option<ModelResponse> {
        let last = request.messages.last()?;
        if last.role != Role::User || last.content.iter().any(|b| matches!(b, ContentBlock::ToolResult { .. })) {
            return None;
        }
        let task = last.text();
        let content = self
            .members
            .iter()
            .map(|member_id| ContentBlock::ToolUse {
                id: format!("toolu_broadcast_{}", uuid::Uuid::new_v4().simple()),
                name: DELEGATE_TOOL.into(),
                input: json!({"member_id": member_id, "task": task}),
            })
            .collect();
        Some(ModelResponse {
            model: self.inner.id().to_owned(),
            content,
            stop_reason: StopReason::ToolUse,
            ..ModelResponse::default()
        })
    }
}

#[async_trait]
impl Model for BroadcastModel {
    fn id(&self) -> &str {
        self.inner.id()
    }

    fn provider(&self) -> &str {
        self.inner.provider()
    }

    async fn request(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        match self.broadcast(request) {
            Some(response) => Ok(response),
            None => self.inner.request(request).await,
        }
    }

    async fn stream(&self, request: &ModelRequest) -> Result<ModelEventStream, ModelError> {
        match self.broadcast(request) {
            Some(response) => {
                Ok(Box::pin(futures::stream::iter(crate::model::response_events(response).into_iter().map(Ok))))
            }
            None => self.inner.stream(request).await,
        }
    }
}

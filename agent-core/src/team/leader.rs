//! One team run as its leader's tools see it: delegating to members,
//! running them, and the broadcast answers.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::Team;
use crate::context::RunContext;
use crate::error::Error;
use crate::event::EventSink;
use crate::limits::Budget;
use crate::message::{Message, Usage};
use crate::output::RunOutput;
use crate::request::{RunRequest, Start};
use crate::runnable::{RunContent, SharedEngine};
use crate::session::SessionType;
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

/// State shared by the leader's tools during one team run; the leader's run
/// context carries it as its extension.
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
    pub(super) budget: Arc<Budget>,
    /// In broadcast mode, every member's answer, in member order.
    pub(super) answers: Mutex<Vec<(String, String)>>,
}

/// The leader's tool of its mode: delegate (coordinate) or route, whose
/// answer ends the team run. `member_id` is an enum of `member_ids`, so a
/// model can only name a member that exists.
pub(super) fn leader_tool<D: Send + Sync + 'static>(
    name: &'static str,
    stop_after_call: bool,
    member_ids: &[String],
) -> FnTool<D> {
    let description = if stop_after_call {
        "Hand the request to the one member best suited to answer it."
    } else {
        "Give a task to one team member and get its answer. Call it several times in one turn to have \
         members work in parallel."
    };
    FnTool::new(name, description, move |ctx: RunContext<D>, args: DelegateArgs| async move {
        let run = ctx.extension::<TeamRun<D>>().ok_or_else(|| ToolError::fatal("the tool runs only in a team run"))?;
        run.delegate(&ctx, args).await
    })
    .with_def(move |mut def| {
        if let Some(property) = def.input_schema.pointer_mut("/properties/member_id")
            && !member_ids.is_empty()
        {
            property["enum"] = serde_json::json!(member_ids);
        }
        def.stop_after_call(stop_after_call)
    })
}

/// The broadcast leader's instructions section: the members' answers.
pub(super) fn member_answers_section<D: Send + Sync + 'static>(ctx: &RunContext<D>) -> String {
    let Some(run) = ctx.extension::<TeamRun<D>>() else { return String::new() };
    let answers = run.answers.lock().unwrap_or_else(PoisonError::into_inner);
    let mut section = String::from("The members' answers:\n");
    for (member_id, answer) in answers.iter() {
        section.push_str(&format!("<answer member=\"{member_id}\">\n{answer}\n</answer>\n"));
    }
    section
}

impl<D: Send + Sync + 'static> TeamRun<D> {
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
        self.check_depth(member_id, member)?;
        let timed = crate::trace::spans::delegation(&team.id, member_id, Some(&args.task));
        let request = self.member_request(member, Start::Input(args.task.into()), Some(ctx));
        let result = self.run_member(request, timed).await;
        self.finish_member(member_id, result)
    }

    /// Runs a member inside its delegation's span (made before the request,
    /// which takes the task).
    pub(super) async fn run_member(
        &self,
        request: RunRequest<D, Value>,
        timed: crate::trace::spans::Timed,
    ) -> crate::error::Result<RunOutput<Value>> {
        let result = request.run_nested(self.events.as_ref(), self.marker()).instrument(timed.span()).await;
        crate::trace::spans::end_delegation(&timed, &result);
        result
    }

    pub(super) fn check_depth(&self, member_id: &str, member: &SharedEngine<D>) -> Result<(), ToolError> {
        let team = &self.team.inner;
        if member.kind() == SessionType::Team && self.depth + 1 > team.max_depth {
            return Err(ToolError::retry(format!(
                "member `{member_id}` is a team nested deeper than the limit of {}; ask another member",
                team.max_depth
            )));
        }
        Ok(())
    }

    /// A run of a member, started or continued, with the team's user, deps,
    /// cancellation and budget. `ctx` is the leader's context, when a leader
    /// tool starts the run.
    pub(super) fn member_request(
        &self,
        member: &SharedEngine<D>,
        start: Start,
        ctx: Option<&RunContext<D>>,
    ) -> RunRequest<D, Value> {
        let team = &self.team.inner;
        let mut request = RunRequest::<D, Value>::new(Arc::clone(member), start)
            .parent_run_id(self.run_id.to_string())
            .cancel(self.cancel.child_token())
            .user_opt(self.user_id.clone())
            .budget(Some(Arc::clone(&self.budget)))
            .depth(self.depth + 1);
        if let Some(ctx) = ctx {
            request = request.deps_arc(ctx.deps_arc());
            if team.share_state {
                request = request.state(ctx.session_state().clone());
            }
        } else if let Some(deps) = &team.deps {
            request = request.deps_arc(Arc::clone(deps));
        }
        if team.share_history {
            request = request.history(self.history.clone());
        }
        request
    }

    /// Marks a member's events with the team and the team run.
    pub(super) fn marker(&self) -> impl FnMut(&mut crate::event::RunEvent) + use<D> {
        let team_id: Arc<str> = Arc::from(self.team.inner.id.as_str());
        let run_id = Arc::clone(&self.run_id);
        move |event| {
            event.team_id.get_or_insert_with(|| Arc::clone(&team_id));
            event.parent_run_id.get_or_insert_with(|| Arc::clone(&run_id));
        }
    }

    /// A member's answer as the leader's tool result; a paused member pauses
    /// the leader's call, a failed one is an error the leader can react to.
    pub(super) fn finish_member(
        &self,
        member_id: &str,
        result: crate::error::Result<RunOutput<Value>>,
    ) -> Result<String, ToolError> {
        match result {
            Ok(output) => {
                *self.member_usage.lock().unwrap_or_else(PoisonError::into_inner) += output.usage;
                match output.paused {
                    Some(paused) => Err(ToolError::Pause(json!({"member_id": member_id, "paused": paused}))),
                    None => Ok(output.content.to_text()),
                }
            }
            Err(Error::Cancelled) => Err(ToolError::fatal(format!("member `{member_id}` was cancelled"))),
            Err(error @ Error::UsageLimitExceeded { .. }) => Err(ToolError::Fatal(Box::new(error))),
            Err(error) => Err(ToolError::retry(format!("member `{member_id}` failed: {}", error.report()))),
        }
    }
}

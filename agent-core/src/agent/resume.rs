//! Continuing a paused run: the user's decisions become the plans of a tool
//! step, which enters the loop where the run paused.

use std::collections::HashMap;

use super::call::CallSpec;
use super::execute::{Plan, ToolStep};
use super::state::Run;
use crate::error::{Error, Result};
use crate::hitl::{Decision, PausedRun, ToolDecision};
use crate::message::ToolResultContent;

/// Checks that every pending call has exactly one decision and no decision
/// names another call.
pub(crate) fn match_decisions(paused: &PausedRun, decisions: Vec<ToolDecision>) -> Result<HashMap<String, Decision>> {
    let decisions: HashMap<String, Decision> =
        decisions.into_iter().map(|decision| (decision.tool_call_id, decision.decision)).collect();
    for pending in &paused.pending {
        if !decisions.contains_key(&pending.tool_call_id) {
            return Err(Error::Continue(format!(
                "no decision for pending tool call `{}` ({})",
                pending.tool_call_id, pending.tool_name
            )));
        }
    }
    if let Some(stray) = decisions.keys().find(|id| !paused.pending.iter().any(|p| &p.tool_call_id == *id)) {
        return Err(Error::Continue(format!("tool call `{stray}` is not pending")));
    }
    Ok(decisions)
}

impl<D: Send + Sync + 'static> Run<'_, D> {
    /// The tool step that answers the paused calls: approved calls run,
    /// rejected ones are answered with the reason, external results are used
    /// as given; results computed before the pause come along.
    pub(super) fn resumed_step(
        &self,
        paused: &PausedRun,
        mut decisions: HashMap<String, Decision>,
    ) -> Result<ToolStep> {
        let mut calls = Vec::with_capacity(paused.pending.len());
        let mut plans = Vec::with_capacity(paused.pending.len());
        for pending in &paused.pending {
            let mut call = CallSpec {
                id: pending.tool_call_id.clone(),
                name: pending.tool_name.clone(),
                input: pending.tool_args.clone(),
                confirmed: None,
                confirmation_note: None,
            };
            let plan = match decisions.remove(&pending.tool_call_id) {
                Some(Decision::Approve) => {
                    call.confirmed = Some(true);
                    let tool_index = self
                        .agent
                        .tool_index(&pending.tool_name)
                        .ok_or_else(|| Error::Continue(format!("tool `{}` no longer exists", pending.tool_name)))?;
                    Plan::Execute(tool_index)
                }
                Some(Decision::Reject { reason }) => {
                    call.confirmed = Some(false);
                    call.confirmation_note.clone_from(&reason);
                    let text = match reason {
                        Some(reason) => format!("the user rejected this tool call: {reason}"),
                        None => "the user rejected this tool call".to_owned(),
                    };
                    Plan::Given(ToolResultContent::Text(text), true)
                }
                Some(Decision::Result { content, is_error }) => Plan::Given(content, is_error),
                None => return Err(Error::Continue(format!("no decision for `{}`", pending.tool_call_id))),
            };
            calls.push(call);
            plans.push(plan);
        }
        Ok(ToolStep { calls, plans, resolved: paused.resolved.clone() })
    }
}

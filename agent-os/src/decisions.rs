//! The user's decisions on a paused run as the client sends them: an agent's `tools`, a team's `requirements`, a workflow's `step_requirements`.

use agent_core::{Decision, PendingToolCall, ToolDecision, ToolResultContent};
use serde_json::Value;

use crate::error::ApiError;

/// Reads the decisions in `items` for the `pending` calls of a paused run.
///
/// An item names its call by `tool_call_id` (a `ToolExecution`), by
/// `tool_execution.tool_call_id` (a `RunRequirement`) or by `step_id` (a
/// workflow step requirement: a call id, or the paused step's name for all
/// its calls). It decides by `confirmed` / `confirmation` (`true` runs the
/// tool, `false` rejects it with `confirmation_note`), or by a `result` /
/// `external_execution_result` for a call the caller executed. Items without
/// a decision (a completed call sent back as it was) are skipped; an item
/// naming no pending call is a 400.
pub(crate) fn parse(
    items: &[Value],
    pending: &[PendingToolCall],
    step_name: Option<&str>,
) -> Result<Vec<ToolDecision>, ApiError> {
    let mut decisions: Vec<ToolDecision> = Vec::new();
    for item in items {
        let Some(object) = item.as_object() else {
            return Err(ApiError::bad_request("each decision must be a JSON object"));
        };
        let execution = object.get("tool_execution").and_then(Value::as_object);
        let field = |name: &str| {
            object
                .get(name)
                .filter(|value| !value.is_null())
                .or_else(|| execution.and_then(|e| e.get(name)).filter(|value| !value.is_null()))
        };
        let Some(decision) = decision_of(&field) else { continue };
        let call_id = field("tool_call_id").and_then(Value::as_str);
        let targets: Vec<&PendingToolCall> = match (call_id, object.get("step_id").and_then(Value::as_str)) {
            (Some(id), _) => pending.iter().filter(|call| call.tool_call_id == id).collect(),
            (None, Some(step)) if Some(step) == step_name => pending.iter().collect(),
            (None, Some(step)) => pending.iter().filter(|call| call.tool_call_id == step).collect(),
            (None, None) => return Err(ApiError::bad_request("a decision must name its tool call (`tool_call_id`)")),
        };
        if targets.is_empty() {
            let named = call_id.or_else(|| object.get("step_id").and_then(Value::as_str)).unwrap_or_default();
            return Err(ApiError::bad_request(format!("tool call `{named}` is not pending in this run")));
        }
        for call in targets {
            decisions.retain(|known| known.tool_call_id != call.tool_call_id);
            decisions.push(ToolDecision { tool_call_id: call.tool_call_id.clone(), decision: decision.clone() });
        }
    }
    Ok(decisions)
}

fn decision_of<'a>(field: &dyn Fn(&str) -> Option<&'a Value>) -> Option<Decision> {
    let confirmed = field("confirmation").or_else(|| field("confirmed")).and_then(Value::as_bool);
    let note = field("confirmation_note").and_then(Value::as_str).map(str::to_owned);
    match confirmed {
        Some(true) => return Some(Decision::Approve),
        Some(false) => return Some(Decision::Reject { reason: note }),
        None => {}
    }
    let result = field("external_execution_result").or_else(|| field("result"))?;
    let content = match result {
        Value::String(text) => ToolResultContent::Text(text.clone()),
        other => ToolResultContent::Json(other.clone()),
    };
    let is_error = field("tool_call_error").and_then(Value::as_bool).unwrap_or(false);
    Some(Decision::Result { content, is_error })
}

#[cfg(test)]
mod tests {
    use agent_core::PendingKind;
    use serde_json::json;

    use super::*;

    fn pending(id: &str) -> PendingToolCall {
        PendingToolCall {
            tool_call_id: id.into(),
            tool_name: "delete_city".into(),
            tool_args: json!({"city": "Paris"}),
            kind: PendingKind::Confirmation,
            payload: None,
        }
    }

    #[test]
    fn reads_the_agent_clients_tool_executions() {
        let items = [
            json!({"tool_call_id": "c1", "tool_name": "delete_city", "confirmed": true, "result": null, "confirmation_note": null}),
            json!({"tool_call_id": "c2", "confirmed": false, "confirmation_note": "not today"}),
        ];
        let decisions = parse(&items, &[pending("c1"), pending("c2")], None).expect("parses");
        assert_eq!(decisions, vec![ToolDecision::approve("c1"), ToolDecision::reject("c2", "not today")]);
    }

    #[test]
    fn reads_team_requirements_and_external_results() {
        let items = [
            json!({"id": "r1", "confirmation": true, "tool_execution": {"tool_call_id": "c1", "confirmed": null}}),
            json!({"id": "r2", "external_execution_result": "done", "tool_execution": {"tool_call_id": "c2"}}),
        ];
        let decisions = parse(&items, &[pending("c1"), pending("c2")], None).expect("parses");
        assert_eq!(decisions, vec![ToolDecision::approve("c1"), ToolDecision::result("c2", "done")]);
    }

    #[test]
    fn a_step_requirement_by_step_name_decides_all_its_calls() {
        let items = [json!({"step_id": "write", "confirmed": true})];
        let decisions = parse(&items, &[pending("c1"), pending("c2")], Some("write")).expect("parses");
        assert_eq!(decisions, vec![ToolDecision::approve("c1"), ToolDecision::approve("c2")]);
    }

    #[test]
    fn unknown_calls_and_non_objects_are_bad_requests() {
        let unknown = parse(&[json!({"tool_call_id": "nope", "confirmed": true})], &[pending("c1")], None);
        assert_eq!(unknown.map_err(|e| e.status().as_u16()), Err(400));
        let scalar = parse(&[json!(3)], &[pending("c1")], None);
        assert_eq!(scalar.map_err(|e| e.status().as_u16()), Err(400));
    }

    #[test]
    fn items_without_a_decision_are_skipped() {
        let items = [json!({"tool_call_id": "c1", "confirmed": null, "result": null})];
        assert_eq!(parse(&items, &[pending("c1")], None).expect("parses"), vec![]);
    }
}

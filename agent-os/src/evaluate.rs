//! Evals over HTTP: an `EvalRunInput` body checked and made into a core `Eval` on a served component, and served components as eval targets whose runs go through the server's run registry.

use std::sync::Arc;

use agent_core::eval::{
    AccuracyEval, AgentAsJudgeEval, Eval, EvalTarget, EvalType, Observation, PerformanceEval, ReliabilityEval, Scoring,
    ToolCallLog,
};
use agent_core::{Model, RunContent, RunInput, SessionType};
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use crate::component::{Component, RunItem, RunSpec, Start};
use crate::error::ApiError;
use crate::os::Shared;

/// The most iterations (and warm-up runs) one request may ask for.
pub(crate) const MAX_ITERATIONS: i64 = 100;

/// The body of `POST /eval-runs` (agno's `EvalRunInput`, plus `workflow_id`).
#[derive(Deserialize)]
pub(crate) struct EvalRunInput {
    eval_type: String,
    input: String,
    agent_id: Option<String>,
    team_id: Option<String>,
    workflow_id: Option<String>,
    model_id: Option<String>,
    model_provider: Option<String>,
    additional_guidelines: Option<String>,
    additional_context: Option<String>,
    num_iterations: Option<i64>,
    name: Option<String>,
    expected_output: Option<String>,
    criteria: Option<String>,
    scoring_strategy: Option<String>,
    threshold: Option<i64>,
    warmup_runs: Option<i64>,
    expected_tool_calls: Option<Vec<String>>,
    allow_additional_tool_calls: Option<bool>,
    expected_tool_call_arguments: Option<Map<String, Value>>,
}

/// An eval ready to run: what it runs on, the eval, and the record's name.
pub(crate) struct Planned {
    pub(crate) target: ServedTarget,
    pub(crate) eval: Eval,
    pub(crate) name: Option<String>,
}

fn out_of_range(field: &str, kind: &str, message: String, value: i64) -> ApiError {
    ApiError::validation(&["body", field], kind, message, json!(value))
}

/// A whole number field within `min..=max`; `default` when absent.
fn bounded(field: &str, value: Option<i64>, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
    let value = value.unwrap_or(default);
    if value < min {
        return Err(out_of_range(
            field,
            "greater_than_equal",
            format!("Input should be greater than or equal to {min}"),
            value,
        ));
    }
    if value > max {
        return Err(out_of_range(
            field,
            "less_than_equal",
            format!("Input should be less than or equal to {max}"),
            value,
        ));
    }
    Ok(value)
}

/// The eval type, or a 422 naming the allowed ones.
fn eval_type(name: &str) -> Result<EvalType, ApiError> {
    EvalType::parse(name).ok_or_else(|| {
        let allowed = EvalType::ALL.iter().map(|kind| format!("'{}'", kind.as_str())).collect::<Vec<_>>().join(", ");
        ApiError::validation(&["body", "eval_type"], "enum", format!("Input should be {allowed}"), json!(name))
    })
}

/// The served component the input names: exactly one of agent, team and workflow.
fn component_of(shared: &Shared, input: &EvalRunInput) -> Result<Arc<dyn Component>, ApiError> {
    let named: Vec<(SessionType, &str)> = [
        (SessionType::Agent, &input.agent_id),
        (SessionType::Team, &input.team_id),
        (SessionType::Workflow, &input.workflow_id),
    ]
    .into_iter()
    .filter_map(|(kind, id)| id.as_deref().filter(|id| !id.is_empty()).map(|id| (kind, id)))
    .collect();
    let (kind, id) = match named.as_slice() {
        [one] => *one,
        [] => return Err(ApiError::bad_request("One of agent_id or team_id must be provided")),
        _ => return Err(ApiError::bad_request("Only one of agent_id or team_id must be provided")),
    };
    shared
        .component(kind, id)
        .map_err(|_| ApiError::not_found(format!("{} with id '{id}' not found", crate::os::kind_title(kind))))
}

/// The `(provider, id)` of a component's model, from its description.
fn model_of(component: &dyn Component) -> Option<(String, String)> {
    let summary = component.summary(None);
    let model = summary.get("model")?;
    Some((model.get("provider")?.as_str()?.to_owned(), model.get("id")?.as_str()?.to_owned()))
}

/// The judge model: the one the request names, else the component's, made by the resolver.
fn judge_for(
    shared: &Shared,
    named: Option<(String, String)>,
    own: Option<(String, String)>,
    eval_type: EvalType,
) -> Result<Arc<dyn Model>, ApiError> {
    let Some((provider, id)) = named.or(own) else {
        return Err(ApiError::bad_request(format!(
            "the {} eval needs a judge model: name one with model_id and model_provider",
            eval_type.as_str()
        )));
    };
    let resolve = shared.models.as_ref().ok_or_else(|| {
        ApiError::bad_request(format!(
            "the {} eval needs a judge model, and this AgentOS cannot create `{provider}:{id}` (no model resolver)",
            eval_type.as_str()
        ))
    })?;
    resolve(&provider, &id).map_err(|message| ApiError::bad_request(format!("model `{provider}:{id}`: {message}")))
}

/// Checks an `EvalRunInput` and makes the eval it asks for.
pub(crate) fn plan(shared: &Arc<Shared>, input: EvalRunInput) -> Result<Planned, ApiError> {
    let eval_type = eval_type(&input.eval_type)?;
    let iterations = bounded("num_iterations", input.num_iterations, 1, 1, MAX_ITERATIONS)?;
    let warmup_runs = bounded("warmup_runs", input.warmup_runs, 0, 0, MAX_ITERATIONS)?;
    let threshold = bounded("threshold", input.threshold, 7, 1, 10)?;
    let (iterations, warmup_runs, threshold) =
        (iterations.unsigned_abs() as u32, warmup_runs.unsigned_abs() as u32, threshold.unsigned_abs() as u8);
    let scoring = match input.scoring_strategy.as_deref().unwrap_or("binary") {
        "binary" => Scoring::Binary,
        "numeric" => Scoring::Numeric { threshold },
        other => {
            return Err(ApiError::validation(
                &["body", "scoring_strategy"],
                "literal_error",
                "Input should be 'numeric' or 'binary'",
                json!(other),
            ));
        }
    };
    let component = component_of(shared, &input)?;
    let own = model_of(&*component);
    let named = match (&input.model_provider, &input.model_id) {
        (Some(provider), Some(id)) if !provider.is_empty() && !id.is_empty() => {
            Some((provider.to_lowercase(), id.clone()))
        }
        _ => None,
    };
    if let (Some((provider, id)), Some((own_provider, own_id))) = (&named, &own)
        && (provider != &own_provider.to_lowercase() || !id.eq_ignore_ascii_case(own_id))
    {
        return Err(ApiError::bad_request(format!(
            "{} `{}` runs on `{own_provider}:{own_id}`; this AgentOS cannot run it on `{provider}:{id}` for an eval",
            component.kind().as_str(),
            component.id()
        )));
    }
    let guidelines = input.additional_guidelines.filter(|text| !text.trim().is_empty());
    let text = input.input;
    let eval = match eval_type {
        EvalType::Reliability => {
            let expected = input
                .expected_tool_calls
                .filter(|calls| !calls.is_empty())
                .ok_or_else(|| ApiError::bad_request("expected_tool_calls is required for reliability evaluations"))?;
            let mut eval = ReliabilityEval::new(text, expected)
                .allow_additional_tool_calls(input.allow_additional_tool_calls.unwrap_or(false));
            for (tool, arguments) in input.expected_tool_call_arguments.unwrap_or_default() {
                eval = eval.expect_arguments(tool.clone(), arguments.clone()).map_err(|err| {
                    ApiError::validation(
                        &["body", "expected_tool_call_arguments", &tool],
                        "value_error",
                        err.to_string(),
                        arguments,
                    )
                })?;
            }
            Eval::from(eval)
        }
        EvalType::Accuracy => {
            let expected = input
                .expected_output
                .filter(|text| !text.trim().is_empty())
                .ok_or_else(|| ApiError::bad_request("expected_output is required for accuracy evaluation"))?;
            let judge = judge_for(shared, named, own, eval_type)?;
            let mut eval = AccuracyEval::new(judge, text, expected).num_iterations(iterations).threshold(threshold);
            if let Some(guidelines) = guidelines {
                eval = eval.additional_guideline(guidelines);
            }
            if let Some(context) = input.additional_context {
                eval = eval.additional_context(context);
            }
            Eval::from(eval)
        }
        EvalType::AgentAsJudge => {
            let criteria = input
                .criteria
                .filter(|text| !text.trim().is_empty())
                .ok_or_else(|| ApiError::bad_request("criteria is required for agent as judge evaluations"))?;
            let judge = judge_for(shared, named, own, eval_type)?;
            let mut eval = AgentAsJudgeEval::new(judge, text, criteria).scoring(scoring).num_iterations(iterations);
            if let Some(guidelines) = guidelines {
                eval = eval.additional_guideline(guidelines);
            }
            Eval::from(eval)
        }
        EvalType::Performance => {
            Eval::from(PerformanceEval::new(text).num_iterations(iterations).warmup_runs(warmup_runs))
        }
    };
    let name = input.name.filter(|name| !name.is_empty());
    Ok(Planned { target: ServedTarget { shared: Arc::clone(shared), component }, eval, name })
}

/// A served component as an eval target: each run is launched like a served
/// run (its own task, cancellable by id, drained at shutdown), with no session.
pub(crate) struct ServedTarget {
    shared: Arc<Shared>,
    component: Arc<dyn Component>,
}

impl EvalTarget for ServedTarget {
    fn kind(&self) -> SessionType {
        self.component.kind()
    }

    fn id(&self) -> Option<&str> {
        Some(self.component.id())
    }

    fn name(&self) -> Option<&str> {
        self.component.name()
    }

    fn run_once<'a>(&'a self, input: &'a str) -> BoxFuture<'a, Observation> {
        Box::pin(async move {
            let run_id = uuid::Uuid::new_v4().to_string();
            let spec = RunSpec {
                start: Start::Input(RunInput::from(input)),
                run_id: Some(run_id.clone()),
                session_id: None,
                user_id: None,
                state: None,
                metadata: None,
                dependencies: None,
                cancel: CancellationToken::new(),
            };
            let mut launched = match self.shared.runs.launch(Arc::clone(&self.component), run_id, spec, false, None) {
                Ok(launched) => launched,
                Err(err) => {
                    let error = agent_core::Error::InvalidInput(format!("the run could not start ({})", err.status()));
                    return Observation { result: Err(error), tool_calls: Vec::new() };
                }
            };
            let mut log = ToolCallLog::default();
            let mut result = Err(agent_core::Error::Cancelled);
            while let Some(item) = launched.items.recv().await {
                match item {
                    RunItem::Event(event) => log.record(&event),
                    RunItem::Done(done) => result = done,
                }
            }
            Observation {
                result: result.map(|output| output.map(|content| RunContent::to_text(&content))),
                tool_calls: log.into_calls(),
            }
        })
    }
}

//! The reliability eval: were the expected tool calls made, without others unless allowed, with the expected arguments?

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::record::{EvalRun, EvalStatus, EvalSubject, EvalType};
use super::target::{EvalTarget, RunnableTarget, note_model, subject_of};
use crate::error::{Error, Result};
use crate::event::ToolExecution;
use crate::runnable::Runnable;

/// Checks the tool calls one run makes.
///
/// The run passes when every expected tool was called, no other tool was
/// called (unless [`allow_additional_tool_calls`](Self::allow_additional_tool_calls)),
/// every expected argument set was matched by some call of its tool, and the
/// run did not fail. An argument set matches a call when each of its keys
/// has the same value in the call's arguments (objects compared the same way,
/// recursively; numbers by value, so `1` matches `1.0`); other keys of the
/// call do not matter. Team members' and workflow steps' calls count.
///
/// # Example
///
/// ```
/// use agent_core::eval::{EvalStatus, ReliabilityEval};
/// use agent_core::ToolExecution;
/// use serde_json::json;
///
/// let eval = ReliabilityEval::new("Weather in Paris?", ["get_weather"])
///     .expect_arguments("get_weather", json!({"city": "Paris"}))?;
/// let call = ToolExecution {
///     tool_name: "get_weather".into(),
///     tool_args: json!({"city": "Paris", "units": "C"}),
///     ..ToolExecution::default()
/// };
/// let result = eval.check(&[call]);
/// assert_eq!(result.eval_status, EvalStatus::Passed);
/// assert_eq!(result.passed_argument_checks.len(), 1);
/// # Ok::<_, agent_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReliabilityEval {
    input: String,
    expected_tool_calls: Vec<String>,
    allow_additional: bool,
    expected_arguments: BTreeMap<String, Vec<Map<String, Value>>>,
    name: Option<String>,
}

/// One expected argument set and the calls it was compared with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ArgumentCheck {
    /// The tool.
    pub tool_name: String,
    /// The arguments expected (a subset of a call's).
    pub expected_arguments: Map<String, Value>,
    /// The matching call's arguments when it passed; the arguments of every
    /// call of the tool when it failed (empty: the tool was not called).
    pub actual_arguments: Vec<Value>,
}

/// What a reliability eval found; serializes as AgentOS `eval_data`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityResult {
    /// The evaluated run, when it produced an output.
    pub run_id: Option<String>,
    /// Passed or failed.
    pub eval_status: EvalStatus,
    /// Calls of expected tools, one entry per call, in call order.
    pub passed_tool_calls: Vec<String>,
    /// What failed the eval: calls of unexpected tools (unless allowed),
    /// then expected tools never called.
    pub failed_tool_calls: Vec<String>,
    /// Calls of tools not expected, one entry per call (failures only when
    /// additional calls are not allowed).
    pub additional_tool_calls: Vec<String>,
    /// Expected tools that were not called.
    pub missing_tool_calls: Vec<String>,
    /// Expected argument sets some call matched.
    pub passed_argument_checks: Vec<ArgumentCheck>,
    /// Expected argument sets no call matched.
    pub failed_argument_checks: Vec<ArgumentCheck>,
    /// Why the run failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What was evaluated (not part of `eval_data`).
    #[serde(skip)]
    pub subject: EvalSubject,
}

impl ReliabilityResult {
    /// Whether the eval passed.
    pub fn passed(&self) -> bool {
        self.eval_status.is_passed()
    }
}

impl ReliabilityEval {
    /// An eval of one run on `input`, expecting calls of these tools.
    pub fn new<S: Into<String>>(input: impl Into<String>, expected_tool_calls: impl IntoIterator<Item = S>) -> Self {
        Self {
            input: input.into(),
            expected_tool_calls: expected_tool_calls.into_iter().map(Into::into).collect(),
            allow_additional: false,
            expected_arguments: BTreeMap::new(),
            name: None,
        }
    }

    /// Whether calls of tools not expected are allowed (default: no).
    #[must_use]
    pub fn allow_additional_tool_calls(mut self, allow: bool) -> Self {
        self.allow_additional = allow;
        self
    }

    /// Expects a call of `tool` with these arguments: an object, or a list
    /// of objects (each must be matched by some call). May be repeated.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when `arguments` is not an object or a list of objects.
    pub fn expect_arguments(mut self, tool: impl Into<String>, arguments: Value) -> Result<Self> {
        let tool = tool.into();
        let sets = match arguments {
            Value::Object(set) => vec![set],
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::Object(set) => Ok(set),
                    other => Err(other),
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|other| bad_arguments(&tool, &other))?,
            other => return Err(bad_arguments(&tool, &other)),
        };
        self.expected_arguments.entry(tool).or_default().extend(sets);
        Ok(self)
    }

    /// A display name for the eval's record.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Runs `target` once and checks its tool calls.
    ///
    /// # Errors
    ///
    /// None today (a failed run is a failed eval, not an error); the
    /// `Result` leaves room for evals that need more.
    pub async fn run<R, D>(&self, target: &R) -> Result<ReliabilityResult>
    where
        R: Runnable<D> + Clone,
        D: Send + Sync + 'static,
    {
        self.run_on(&RunnableTarget::new(target.clone())).await
    }

    /// [`run`](Self::run) on any [`EvalTarget`].
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    pub async fn run_on(&self, target: &dyn EvalTarget) -> Result<ReliabilityResult> {
        let observed = target.run_once(&self.input).await;
        let mut result = self.check(&observed.tool_calls);
        result.subject = subject_of(target);
        note_model(&mut result.subject, &observed);
        match &observed.result {
            Ok(output) => result.run_id = Some(output.run_id.clone()),
            Err(error) => {
                result.error = Some(error.to_string());
                result.eval_status = EvalStatus::Failed;
            }
        }
        Ok(result)
    }

    /// Checks tool calls already made (a run's [`RunOutput::tools`](crate::RunOutput::tools)).
    pub fn check(&self, calls: &[ToolExecution]) -> ReliabilityResult {
        let expected = |name: &str| self.expected_tool_calls.iter().any(|tool| tool == name);
        let mut result = ReliabilityResult::default();
        for call in calls {
            if expected(&call.tool_name) {
                result.passed_tool_calls.push(call.tool_name.clone());
            } else {
                result.additional_tool_calls.push(call.tool_name.clone());
            }
        }
        for tool in &self.expected_tool_calls {
            if !calls.iter().any(|call| &call.tool_name == tool) && !result.missing_tool_calls.contains(tool) {
                result.missing_tool_calls.push(tool.clone());
            }
        }
        if !self.allow_additional {
            result.failed_tool_calls.extend(result.additional_tool_calls.iter().cloned());
        }
        result.failed_tool_calls.extend(result.missing_tool_calls.iter().cloned());
        for (tool, sets) in &self.expected_arguments {
            let made: Vec<&Value> =
                calls.iter().filter(|call| &call.tool_name == tool).map(|call| &call.tool_args).collect();
            for set in sets {
                let expected_arguments = set.clone();
                match made.iter().find(|arguments| contains(arguments, set)) {
                    Some(found) => result.passed_argument_checks.push(ArgumentCheck {
                        tool_name: tool.clone(),
                        expected_arguments,
                        actual_arguments: vec![(*found).clone()],
                    }),
                    None => result.failed_argument_checks.push(ArgumentCheck {
                        tool_name: tool.clone(),
                        expected_arguments,
                        actual_arguments: made.iter().map(|arguments| (*arguments).clone()).collect(),
                    }),
                }
            }
        }
        result.eval_status =
            EvalStatus::of(result.failed_tool_calls.is_empty() && result.failed_argument_checks.is_empty());
        result
    }

    /// What the eval was asked, as AgentOS `eval_input`.
    pub fn eval_input(&self) -> Value {
        let arguments = (!self.expected_arguments.is_empty()).then(|| {
            let map: Map<String, Value> = self
                .expected_arguments
                .iter()
                .map(|(tool, sets)| {
                    let value = match sets.as_slice() {
                        [one] => Value::Object(one.clone()),
                        many => Value::Array(many.iter().cloned().map(Value::Object).collect()),
                    };
                    (tool.clone(), value)
                })
                .collect();
            map
        });
        json!({
            "input": self.input,
            "expected_tool_calls": self.expected_tool_calls,
            "allow_additional_tool_calls": self.allow_additional,
            "expected_tool_call_arguments": arguments,
        })
    }

    /// The record of a result of this eval.
    pub fn record(&self, result: &ReliabilityResult) -> EvalRun {
        let data = serde_json::to_value(result).unwrap_or_default();
        EvalRun::new(EvalType::Reliability, &result.subject, self.eval_input(), data).with_name(self.name.clone())
    }
}

fn bad_arguments(tool: &str, found: &Value) -> Error {
    Error::InvalidInput(format!(
        "the expected arguments of `{tool}` must be an object or a list of objects, not {found}"
    ))
}

/// Whether `actual` has every key of `expected` with a matching value.
fn contains(actual: &Value, expected: &Map<String, Value>) -> bool {
    let Value::Object(actual) = actual else { return false };
    expected.iter().all(|(key, want)| actual.get(key).is_some_and(|have| matches(have, want)))
}

fn matches(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(_), Value::Object(want)) => contains(have, want),
        (Value::Number(have), Value::Number(want)) => have == want || have.as_f64() == want.as_f64(),
        (Value::Array(have), Value::Array(want)) => {
            have.len() == want.len() && have.iter().zip(want).all(|(have, want)| matches(have, want))
        }
        _ => have == want,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: Value) -> ToolExecution {
        ToolExecution { tool_name: name.into(), tool_args: args, ..ToolExecution::default() }
    }

    fn eval(expected: &[&str]) -> ReliabilityEval {
        ReliabilityEval::new("input", expected.iter().copied())
    }

    /// One row: what was expected and made, and what the check must find.
    struct Case {
        expected: &'static [&'static str],
        allow: bool,
        made: &'static [&'static str],
        status: EvalStatus,
        passed: &'static [&'static str],
        failed: &'static [&'static str],
        additional: &'static [&'static str],
        missing: &'static [&'static str],
    }

    #[test]
    fn tool_calls_pass_fail_as_a_table() {
        use EvalStatus::{Failed, Passed};
        const W: &str = "get_weather";
        const S: &str = "search";
        #[rustfmt::skip]
        let cases = [
            Case { expected: &[W], allow: false, made: &[W], status: Passed, passed: &[W], failed: &[], additional: &[], missing: &[] },
            Case { expected: &[W], allow: false, made: &[], status: Failed, passed: &[], failed: &[W], additional: &[], missing: &[W] },
            Case { expected: &[W], allow: false, made: &[W, S], status: Failed, passed: &[W], failed: &[S], additional: &[S], missing: &[] },
            Case { expected: &[W], allow: true, made: &[S, W], status: Passed, passed: &[W], failed: &[], additional: &[S], missing: &[] },
            Case { expected: &[W, S], allow: false, made: &[W, W], status: Failed, passed: &[W, W], failed: &[S], additional: &[], missing: &[S] },
            Case { expected: &[], allow: false, made: &[], status: Passed, passed: &[], failed: &[], additional: &[], missing: &[] },
            Case { expected: &[], allow: false, made: &[S], status: Failed, passed: &[], failed: &[S], additional: &[S], missing: &[] },
        ];
        for case in cases {
            let calls: Vec<ToolExecution> = case.made.iter().map(|name| call(name, json!({}))).collect();
            let result = eval(case.expected).allow_additional_tool_calls(case.allow).check(&calls);
            let context = format!("expected {:?}, allow {}, made {:?}", case.expected, case.allow, case.made);
            assert_eq!(result.eval_status, case.status, "{context}");
            assert_eq!(result.passed_tool_calls, case.passed, "{context}");
            assert_eq!(result.failed_tool_calls, case.failed, "{context}");
            assert_eq!(result.additional_tool_calls, case.additional, "{context}");
            assert_eq!(result.missing_tool_calls, case.missing, "{context}");
        }
    }

    #[test]
    fn arguments_match_as_subsets() -> Result<()> {
        let made = [
            call("get_weather", json!({"city": "Paris", "units": {"temp": "C", "wind": "kmh"}, "days": 1})),
            call("get_weather", json!({"city": "Rome"})),
        ];
        let result = eval(&["get_weather"])
            .expect_arguments("get_weather", json!([{"city": "Rome"}, {"units": {"temp": "C"}, "days": 1.0}]))?
            .expect_arguments("get_weather", json!({"city": "Oslo"}))?
            .check(&made);
        assert_eq!(result.passed_argument_checks.len(), 2);
        assert_eq!(result.passed_argument_checks[0].actual_arguments, [json!({"city": "Rome"})]);
        assert_eq!(result.failed_argument_checks.len(), 1);
        assert_eq!(result.failed_argument_checks[0].expected_arguments["city"], "Oslo");
        assert_eq!(result.failed_argument_checks[0].actual_arguments.len(), 2, "every call of the tool is shown");
        assert_eq!(result.eval_status, EvalStatus::Failed, "one argument set was not matched");

        let never = eval(&[]).allow_additional_tool_calls(true).expect_arguments("search", json!({"q": "x"}))?;
        assert!(never.check(&made).failed_argument_checks[0].actual_arguments.is_empty());
        assert!(eval(&[]).expect_arguments("search", json!("q")).is_err());
        assert!(eval(&[]).expect_arguments("search", json!([{"q": 1}, 2])).is_err());
        Ok(())
    }

    #[test]
    fn eval_data_and_input_have_the_agentos_shape() -> Result<()> {
        let reliability = eval(&["get_weather"]).expect_arguments("get_weather", json!({"city": "Paris"}))?;
        let data = serde_json::to_value(reliability.check(&[call("get_weather", json!({"city": "Paris"}))]))
            .map_err(|err| Error::InvalidInput(err.to_string()))?;
        let mut keys: Vec<&str> =
            data.as_object().map(|map| map.keys().map(String::as_str).collect()).unwrap_or_default();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "additional_tool_calls",
                "eval_status",
                "failed_argument_checks",
                "failed_tool_calls",
                "missing_tool_calls",
                "passed_argument_checks",
                "passed_tool_calls",
                "run_id",
            ]
        );
        assert_eq!(data["eval_status"], "PASSED");
        let input = reliability.eval_input();
        assert_eq!(input["expected_tool_call_arguments"], json!({"get_weather": {"city": "Paris"}}));
        assert_eq!(eval(&["x"]).eval_input()["expected_tool_call_arguments"], Value::Null);
        Ok(())
    }
}

//! The accuracy eval: a judge model scores the target's answer against an expected output, 1 to 10, over N iterations.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::record::{EvalRun, EvalStatus, EvalSubject, EvalType, FailedIteration};
use super::stats::Stats;
use super::target::{EvalTarget, RunnableTarget, note_model, subject_of};
use crate::error::{Error, Result};
use crate::memory::structured::ask;
use crate::message::Message;
use crate::model::{IntoModel, Model};
use crate::runnable::Runnable;

/// The most iterations one eval runs (each is a run of the target).
pub(super) const MAX_ITERATIONS: u32 = 1_000;

const JUDGE_INSTRUCTIONS: &str = "You judge how well an AI agent's answer matches an expected answer \
that a user wrote. Treat the expected answer as correct, even where you would answer differently: \
compare the agent's answer to it, not to what you believe.\n\n\
Judge two things: accuracy (does the agent's answer say what the expected answer says, without \
contradicting it?) and completeness (does it include every key element of the expected answer?). \
Paraphrase and extra detail are fine as long as they do not contradict it.\n\n\
In your reason, name the specific agreements and differences, what was included or left out, and \
any inaccuracy, and refer to accuracy and completeness explicitly. Then give a whole-number score:\n\
1-2: wrong or irrelevant.\n\
3-4: major inaccuracies or key information missing.\n\
5-6: partly right, with significant problems.\n\
7-8: mostly accurate and complete, with minor problems.\n\
9-10: accurate and complete, closely matching the expected answer.\n\
Answer with JSON only.";

/// The judge's answer.
#[derive(Debug, Deserialize, JsonSchema)]
struct Verdict {
    /// The score, a whole number from 1 (wrong) to 10 (matches the expected answer).
    #[schemars(range(min = 1, max = 10))]
    accuracy_score: i64,
    /// The reasoning behind the score.
    accuracy_reason: String,
}

/// Scores a target's answers against an expected output with a judge model.
///
/// Each iteration runs the target on the input and asks the judge for a
/// score from 1 to 10 and its reasoning. The eval passes when every
/// iteration gave an answer and the average score reaches the threshold
/// (default 7).
///
/// # Example
///
/// ```
/// use agent_core::eval::{AccuracyEval, EvalStatus};
/// use agent_core::testing::{FunctionModel, TestModel, text_response};
/// use agent_core::Agent;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let agent = Agent::builder(TestModel::new().answer("Paris")).build()?;
/// let judge = FunctionModel::new(|_| {
///     Ok(text_response(r#"{"accuracy_score": 9, "accuracy_reason": "Names the right city."}"#))
/// });
/// let result = AccuracyEval::new(judge, "Capital of France?", "Paris").num_iterations(2).run(&agent).await?;
/// assert_eq!((result.eval_status, result.avg_score), (EvalStatus::Passed, Some(9.0)));
/// assert_eq!(result.results[0].reason, "Names the right city.");
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct AccuracyEval {
    judge: Arc<dyn Model>,
    input: String,
    expected_output: String,
    guidelines: Vec<String>,
    context: Option<String>,
    iterations: u32,
    threshold: u8,
    name: Option<String>,
}

impl std::fmt::Debug for AccuracyEval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccuracyEval")
            .field("judge", &self.judge.id())
            .field("input", &self.input)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// One iteration: the answer and the judge's score and reasoning.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccuracyEvaluation {
    /// The input the target ran on.
    pub input: String,
    /// The target's answer.
    pub output: String,
    /// The expected answer.
    pub expected_output: String,
    /// The judge's score, 1 to 10.
    pub score: u8,
    /// The judge's reasoning.
    pub reason: String,
}

/// What an accuracy eval found; serializes as AgentOS `eval_data`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccuracyResult {
    /// Passed when every iteration was scored and the average reaches the threshold.
    pub eval_status: EvalStatus,
    /// The scored iterations, in order.
    pub results: Vec<AccuracyEvaluation>,
    /// The average score (none when nothing was scored).
    pub avg_score: Option<f64>,
    /// The same as `avg_score` (AgentOS shows both).
    pub mean_score: Option<f64>,
    /// The lowest score.
    pub min_score: Option<f64>,
    /// The highest score.
    pub max_score: Option<f64>,
    /// The scores' sample standard deviation.
    pub std_dev_score: Option<f64>,
    /// The average score needed to pass.
    pub threshold: u8,
    /// Iterations whose run gave no answer (failed or paused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_iterations: Vec<FailedIteration>,
    /// What was evaluated (not part of `eval_data`).
    #[serde(skip)]
    pub subject: EvalSubject,
}

impl AccuracyResult {
    /// Whether the eval passed.
    pub fn passed(&self) -> bool {
        self.eval_status.is_passed()
    }
}

impl AccuracyEval {
    /// An eval of the answers to `input` against `expected_output`, judged by `judge`.
    pub fn new(judge: impl IntoModel, input: impl Into<String>, expected_output: impl Into<String>) -> Self {
        Self {
            judge: judge.into_model(),
            input: input.into(),
            expected_output: expected_output.into(),
            guidelines: Vec::new(),
            context: None,
            iterations: 1,
            threshold: 7,
            name: None,
        }
    }

    /// Adds a guideline for the judge (how to compare, what matters). May be repeated.
    #[must_use]
    pub fn additional_guideline(mut self, guideline: impl Into<String>) -> Self {
        self.guidelines.push(guideline.into());
        self
    }

    /// Context the judge reads with the answers.
    #[must_use]
    pub fn additional_context(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into()).filter(|context| !context.trim().is_empty());
        self
    }

    /// How many times the target runs and is judged (default 1, at most 1,000).
    #[must_use]
    pub fn num_iterations(mut self, iterations: u32) -> Self {
        self.iterations = iterations;
        self
    }

    /// The average score needed to pass, 1 to 10 (default 7).
    #[must_use]
    pub fn threshold(mut self, threshold: u8) -> Self {
        self.threshold = threshold;
        self
    }

    /// A display name for the eval's record.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Runs `target` the set number of times and judges each answer.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for zero or too many iterations or a
    /// threshold outside 1–10; [`Error::Model`] when a judge call fails;
    /// [`Error::OutputValidation`] when the judge's answer is not a score
    /// from 1 to 10 with a reason. A failed run of the target is not an
    /// error: it is a failed iteration.
    pub async fn run<R, D>(&self, target: &R) -> Result<AccuracyResult>
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
    pub async fn run_on(&self, target: &dyn EvalTarget) -> Result<AccuracyResult> {
        check_iterations(self.iterations)?;
        check_threshold(self.threshold)?;
        let mut result =
            AccuracyResult { threshold: self.threshold, subject: subject_of(target), ..Default::default() };
        for iteration in 1..=self.iterations {
            let observed = target.run_once(&self.input).await;
            note_model(&mut result.subject, &observed);
            match observed.answer() {
                Ok(answer) => result.results.push(self.judge_answer(answer).await?),
                Err(error) => result.failed_iterations.push(FailedIteration { iteration, error }),
            }
        }
        let scores: Vec<f64> = result.results.iter().map(|evaluation| f64::from(evaluation.score)).collect();
        let stats = Stats::of(&scores);
        result.avg_score = stats.mean;
        result.mean_score = stats.mean;
        result.min_score = stats.min;
        result.max_score = stats.max;
        result.std_dev_score = stats.std_dev;
        let reached = stats.mean.is_some_and(|mean| mean >= f64::from(self.threshold));
        result.eval_status = EvalStatus::of(result.failed_iterations.is_empty() && reached);
        Ok(result)
    }

    /// Asks the judge to score one answer (given, not run).
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when the judge call fails; [`Error::OutputValidation`]
    /// when its answer is not a score from 1 to 10 with a reason.
    pub async fn judge_answer(&self, answer: &str) -> Result<AccuracyEvaluation> {
        let mut instructions = JUDGE_INSTRUCTIONS.to_owned();
        append_guidelines(&mut instructions, &self.guidelines);
        if let Some(context) = &self.context {
            instructions.push_str("\n\nContext:\n");
            instructions.push_str(context);
        }
        let prompt = format!(
            "<agent_input>\n{}\n</agent_input>\n\n<expected_output>\n{}\n</expected_output>\n\n<agent_output>\n{answer}\n</agent_output>",
            self.input, self.expected_output
        );
        let verdict: Verdict = ask(&*self.judge, instructions, vec![Message::user(prompt)]).await?;
        Ok(AccuracyEvaluation {
            input: self.input.clone(),
            output: answer.to_owned(),
            expected_output: self.expected_output.clone(),
            score: score_in_range(verdict.accuracy_score)?,
            reason: verdict.accuracy_reason,
        })
    }

    /// What the eval was asked, as AgentOS `eval_input`.
    pub fn eval_input(&self) -> Value {
        json!({
            "input": self.input,
            "expected_output": self.expected_output,
            "additional_guidelines": (!self.guidelines.is_empty()).then(|| self.guidelines.join("\n")),
            "additional_context": self.context,
            "num_iterations": self.iterations,
            "threshold": self.threshold,
            "judge_model": self.judge.id(),
        })
    }

    /// The record of a result of this eval.
    pub fn record(&self, result: &AccuracyResult) -> EvalRun {
        let data = serde_json::to_value(result).unwrap_or_default();
        EvalRun::new(EvalType::Accuracy, &result.subject, self.eval_input(), data).with_name(self.name.clone())
    }
}

/// Refuses zero or too many iterations.
pub(super) fn check_iterations(iterations: u32) -> Result<()> {
    if iterations == 0 || iterations > MAX_ITERATIONS {
        return Err(Error::InvalidInput(format!("an eval runs 1 to {MAX_ITERATIONS} iterations, not {iterations}")));
    }
    Ok(())
}

/// Refuses a score threshold outside 1–10.
pub(super) fn check_threshold(threshold: u8) -> Result<()> {
    if !(1..=10).contains(&threshold) {
        return Err(Error::InvalidInput(format!("a score threshold is 1 to 10, not {threshold}")));
    }
    Ok(())
}

/// A judge's score, refused outside 1–10.
pub(super) fn score_in_range(score: i64) -> Result<u8> {
    u8::try_from(score).ok().filter(|score| (1..=10).contains(score)).ok_or_else(|| Error::OutputValidation {
        attempts: 1,
        message: format!("the judge's score {score} is not a whole number from 1 to 10"),
        partial: Box::default(),
    })
}

/// Appends the guidelines section to judge instructions.
pub(super) fn append_guidelines(instructions: &mut String, guidelines: &[String]) {
    if guidelines.is_empty() {
        return;
    }
    instructions.push_str("\n\nAlso follow these guidelines:");
    for guideline in guidelines {
        instructions.push_str("\n- ");
        instructions.push_str(guideline.trim());
    }
}

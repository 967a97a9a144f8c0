//! The agent-as-judge eval: a judge model checks the target's answer against criteria, as a 1–10 score with a threshold or as pass/fail.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::accuracy::{append_guidelines, check_iterations, check_threshold, score_in_range};
use super::record::{EvalRun, EvalStatus, EvalSubject, EvalType, FailedIteration};
use super::stats::Stats;
use super::target::{EvalTarget, RunnableTarget, note_model, subject_of};
use crate::error::{Error, Result};
use crate::memory::structured::ask;
use crate::message::Message;
use crate::model::{IntoModel, Model};
use crate::runnable::Runnable;

/// How the judge decides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "scoring_strategy")]
pub enum Scoring {
    /// The judge says pass or fail.
    #[default]
    Binary,
    /// The judge scores 1 to 10; an answer passes at `threshold` or above.
    Numeric {
        /// The lowest passing score, 1 to 10.
        threshold: u8,
    },
}

/// The judge's answer in numeric mode.
#[derive(Debug, Deserialize, JsonSchema)]
struct NumericVerdict {
    /// How well the output meets the criteria, a whole number from 1 to 10.
    #[schemars(range(min = 1, max = 10))]
    score: i64,
    /// The reasoning, citing the parts of the output it rests on.
    reason: String,
}

/// The judge's answer in binary mode.
#[derive(Debug, Deserialize, JsonSchema)]
struct BinaryVerdict {
    /// Whether the output meets the criteria.
    passed: bool,
    /// The reasoning, citing the parts of the output it rests on.
    reason: String,
}

/// Checks a target's answers against criteria with a judge model.
///
/// Each iteration runs the target on the input and asks the judge whether
/// the answer meets the criteria ([`Scoring::Binary`], the default) or how
/// well, 1 to 10 ([`Scoring::Numeric`]). The eval passes when every
/// iteration gave an answer and every answer passed.
///
/// # Example
///
/// ```
/// use agent_core::eval::{AgentAsJudgeEval, EvalStatus, Scoring};
/// use agent_core::testing::{FunctionModel, TestModel, text_response};
/// use agent_core::Agent;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let agent = Agent::builder(TestModel::new().answer("Sorry, I cannot help with that.")).build()?;
/// let judge = FunctionModel::new(|_| Ok(text_response(r#"{"score": 3, "reason": "Not helpful."}"#)));
/// let result = AgentAsJudgeEval::new(judge, "Plan my trip", "The answer is helpful")
///     .scoring(Scoring::Numeric { threshold: 7 })
///     .run(&agent)
///     .await?;
/// assert_eq!((result.eval_status, result.avg_score), (EvalStatus::Failed, Some(3.0)));
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct AgentAsJudgeEval {
    judge: Arc<dyn Model>,
    input: String,
    criteria: String,
    scoring: Scoring,
    guidelines: Vec<String>,
    iterations: u32,
    name: Option<String>,
}

impl std::fmt::Debug for AgentAsJudgeEval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentAsJudgeEval")
            .field("judge", &self.judge.id())
            .field("criteria", &self.criteria)
            .field("scoring", &self.scoring)
            .finish_non_exhaustive()
    }
}

/// One judged answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JudgeEvaluation {
    /// The input the target ran on.
    pub input: String,
    /// The target's answer.
    pub output: String,
    /// The criteria it was judged by.
    pub criteria: String,
    /// The score, 1 to 10 (numeric scoring only).
    pub score: Option<u8>,
    /// The judge's reasoning.
    pub reason: String,
    /// Whether the answer passed.
    pub passed: bool,
}

/// What an agent-as-judge eval found; serializes as AgentOS `eval_data`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentAsJudgeResult {
    /// Passed when every iteration gave an answer and every answer passed.
    pub eval_status: EvalStatus,
    /// The judged iterations, in order.
    pub results: Vec<JudgeEvaluation>,
    /// The average score (numeric scoring only).
    pub avg_score: Option<f64>,
    /// The lowest score.
    pub min_score: Option<f64>,
    /// The highest score.
    pub max_score: Option<f64>,
    /// The scores' sample standard deviation.
    pub std_dev_score: Option<f64>,
    /// Percentage of judged answers that passed, 0 to 100.
    pub pass_rate: f64,
    /// Iterations whose run gave no answer (failed or paused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_iterations: Vec<FailedIteration>,
    /// What was evaluated (not part of `eval_data`).
    #[serde(skip)]
    pub subject: EvalSubject,
}

impl AgentAsJudgeResult {
    /// Whether the eval passed.
    pub fn passed(&self) -> bool {
        self.eval_status.is_passed()
    }
}

impl AgentAsJudgeEval {
    /// An eval of the answers to `input` against `criteria`, judged by `judge`.
    pub fn new(judge: impl IntoModel, input: impl Into<String>, criteria: impl Into<String>) -> Self {
        Self {
            judge: judge.into_model(),
            input: input.into(),
            criteria: criteria.into(),
            scoring: Scoring::Binary,
            guidelines: Vec::new(),
            iterations: 1,
            name: None,
        }
    }

    /// How the judge decides (default pass/fail).
    #[must_use]
    pub fn scoring(mut self, scoring: Scoring) -> Self {
        self.scoring = scoring;
        self
    }

    /// Adds a guideline for the judge. May be repeated.
    #[must_use]
    pub fn additional_guideline(mut self, guideline: impl Into<String>) -> Self {
        self.guidelines.push(guideline.into());
        self
    }

    /// How many times the target runs and is judged (default 1, at most 1,000).
    #[must_use]
    pub fn num_iterations(mut self, iterations: u32) -> Self {
        self.iterations = iterations;
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
    /// [`Error::InvalidInput`] for empty criteria, zero or too many
    /// iterations or a threshold outside 1–10; [`Error::Model`] when a judge
    /// call fails; [`Error::OutputValidation`] when the judge's answer is not
    /// the verdict asked for. A failed run of the target is a failed
    /// iteration, not an error.
    pub async fn run<R, D>(&self, target: &R) -> Result<AgentAsJudgeResult>
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
    pub async fn run_on(&self, target: &dyn EvalTarget) -> Result<AgentAsJudgeResult> {
        self.check()?;
        let mut result = AgentAsJudgeResult { subject: subject_of(target), ..AgentAsJudgeResult::default() };
        for iteration in 1..=self.iterations {
            let observed = target.run_once(&self.input).await;
            note_model(&mut result.subject, &observed);
            match observed.answer() {
                Ok(answer) => result.results.push(self.judge_output(&self.input, answer).await?),
                Err(error) => result.failed_iterations.push(FailedIteration { iteration, error }),
            }
        }
        let scores: Vec<f64> = result.results.iter().filter_map(|judged| judged.score.map(f64::from)).collect();
        let stats = Stats::of(&scores);
        result.avg_score = stats.mean;
        result.min_score = stats.min;
        result.max_score = stats.max;
        result.std_dev_score = stats.std_dev;
        let passed = result.results.iter().filter(|judged| judged.passed).count();
        if !result.results.is_empty() {
            result.pass_rate = passed as f64 * 100.0 / result.results.len() as f64;
        }
        let all_passed = !result.results.is_empty() && passed == result.results.len();
        result.eval_status = EvalStatus::of(result.failed_iterations.is_empty() && all_passed);
        Ok(result)
    }

    /// Asks the judge about one answer (given, not run).
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run), less the target's.
    pub async fn judge_output(&self, input: &str, output: &str) -> Result<JudgeEvaluation> {
        self.check()?;
        let mut instructions = format!(
            "You are an expert evaluator: judge an AI agent's output objectively against these criteria.\n\n\
             Criteria:\n{}\n\n",
            self.criteria.trim()
        );
        match self.scoring {
            Scoring::Numeric { .. } => instructions.push_str(
                "Score how well the output meets the criteria, a whole number from 1 to 10:\n\
                 1-2: fails the criteria entirely.\n3-4: major problems.\n\
                 5-6: partly meets them, with significant problems.\n\
                 7-8: mostly meets them, with minor problems.\n9-10: fully meets or exceeds them.",
            ),
            Scoring::Binary => {
                instructions.push_str("Decide whether the output meets the criteria (passed: true) or not (false).");
            }
        }
        instructions.push_str(" Give detailed reasoning that cites the parts of the output it rests on.");
        append_guidelines(&mut instructions, &self.guidelines);
        instructions.push_str("\n\nAnswer with JSON only.");
        let prompt = format!("<input>\n{input}\n</input>\n\n<output>\n{output}\n</output>");
        let messages = vec![Message::user(prompt)];
        let (score, reason, passed) = match self.scoring {
            Scoring::Numeric { threshold } => {
                let verdict: NumericVerdict = ask(&*self.judge, instructions, messages).await?;
                let score = score_in_range(verdict.score)?;
                (Some(score), verdict.reason, score >= threshold)
            }
            Scoring::Binary => {
                let verdict: BinaryVerdict = ask(&*self.judge, instructions, messages).await?;
                (None, verdict.reason, verdict.passed)
            }
        };
        Ok(JudgeEvaluation {
            input: input.to_owned(),
            output: output.to_owned(),
            criteria: self.criteria.clone(),
            score,
            reason,
            passed,
        })
    }

    fn check(&self) -> Result<()> {
        if self.criteria.trim().is_empty() {
            return Err(Error::InvalidInput("an agent-as-judge eval needs criteria".to_owned()));
        }
        check_iterations(self.iterations)?;
        if let Scoring::Numeric { threshold } = self.scoring {
            check_threshold(threshold)?;
        }
        Ok(())
    }

    /// What the eval was asked, as AgentOS `eval_input`.
    pub fn eval_input(&self) -> Value {
        let (strategy, threshold) = match self.scoring {
            Scoring::Binary => ("binary", None),
            Scoring::Numeric { threshold } => ("numeric", Some(threshold)),
        };
        json!({
            "input": self.input,
            "criteria": self.criteria,
            "scoring_strategy": strategy,
            "threshold": threshold,
            "additional_guidelines": (!self.guidelines.is_empty()).then(|| self.guidelines.join("\n")),
            "num_iterations": self.iterations,
            "judge_model": self.judge.id(),
        })
    }

    /// The record of a result of this eval.
    pub fn record(&self, result: &AgentAsJudgeResult) -> EvalRun {
        let data = serde_json::to_value(result).unwrap_or_default();
        EvalRun::new(EvalType::AgentAsJudge, &result.subject, self.eval_input(), data).with_name(self.name.clone())
    }
}

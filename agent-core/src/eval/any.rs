//! `Eval`: any of the four evals, run the same way and recorded, for callers that choose the kind at run time (a server).

use super::accuracy::AccuracyEval;
use super::judge::AgentAsJudgeEval;
use super::performance::PerformanceEval;
use super::record::{EvalRun, EvalType};
use super::reliability::ReliabilityEval;
use super::target::{EvalTarget, RunnableTarget};
use crate::error::Result;
use crate::runnable::Runnable;

/// One of the four evals.
///
/// # Example
///
/// ```
/// use agent_core::eval::{Eval, EvalStatus, EvalType, PerformanceEval};
/// use agent_core::testing::TestModel;
/// use agent_core::Agent;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let agent = Agent::builder(TestModel::new().answer("ok")).id("quick").build()?;
/// let eval = Eval::from(PerformanceEval::new("Hi").num_iterations(2));
/// let record = eval.run(&agent).await?;
/// assert_eq!((record.eval_type, record.agent_id.as_deref()), (EvalType::Performance, Some("quick")));
/// assert_eq!(record.status(), Some(EvalStatus::Passed));
/// assert_eq!(record.eval_data["run_times"].as_array().map(Vec::len), Some(2));
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub enum Eval {
    /// See [`ReliabilityEval`].
    Reliability(ReliabilityEval),
    /// See [`AccuracyEval`].
    Accuracy(AccuracyEval),
    /// See [`AgentAsJudgeEval`].
    AgentAsJudge(AgentAsJudgeEval),
    /// See [`PerformanceEval`].
    Performance(PerformanceEval),
}

impl Eval {
    /// Its kind.
    pub fn eval_type(&self) -> EvalType {
        match self {
            Self::Reliability(_) => EvalType::Reliability,
            Self::Accuracy(_) => EvalType::Accuracy,
            Self::AgentAsJudge(_) => EvalType::AgentAsJudge,
            Self::Performance(_) => EvalType::Performance,
        }
    }

    /// Runs the eval on `target` and returns its record (not stored).
    ///
    /// # Errors
    ///
    /// As the eval's own `run`.
    pub async fn run<R, D>(&self, target: &R) -> Result<EvalRun>
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
    /// As the eval's own `run_on`.
    pub async fn run_on(&self, target: &dyn EvalTarget) -> Result<EvalRun> {
        Ok(match self {
            Self::Reliability(eval) => eval.record(&eval.run_on(target).await?),
            Self::Accuracy(eval) => eval.record(&eval.run_on(target).await?),
            Self::AgentAsJudge(eval) => eval.record(&eval.run_on(target).await?),
            Self::Performance(eval) => eval.record(&eval.run_on(target).await?),
        })
    }
}

impl From<ReliabilityEval> for Eval {
    fn from(eval: ReliabilityEval) -> Self {
        Self::Reliability(eval)
    }
}

impl From<AccuracyEval> for Eval {
    fn from(eval: AccuracyEval) -> Self {
        Self::Accuracy(eval)
    }
}

impl From<AgentAsJudgeEval> for Eval {
    fn from(eval: AgentAsJudgeEval) -> Self {
        Self::AgentAsJudge(eval)
    }
}

impl From<PerformanceEval> for Eval {
    fn from(eval: PerformanceEval) -> Self {
        Self::Performance(eval)
    }
}

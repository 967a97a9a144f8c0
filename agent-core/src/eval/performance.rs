//! The performance eval: latency over N runs after warm-up runs, memory through a probe the caller supplies, and the runs' own counters.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::accuracy::{MAX_ITERATIONS, check_iterations};
use super::record::{EvalRun, EvalStatus, EvalSubject, EvalType, FailedIteration};
use super::stats::Stats;
use super::target::{EvalTarget, RunnableTarget, note_model, subject_of};
use crate::error::{Error, Result};
use crate::runnable::Runnable;

/// Bytes in a MiB, the unit memory is reported in.
const MIB: f64 = 1024.0 * 1024.0;

/// Measures heap memory for a [`PerformanceEval`].
///
/// `agent-core` installs no global allocator (a library must not), so it
/// cannot count allocations itself: the program that can — one with a
/// counting `#[global_allocator]`, such as the workspace's benchmarks —
/// supplies the probe. Without one, a performance eval reports latency and
/// the runs' counters only, and its memory figures are null.
///
/// The memory of a run is the peak it reached during the run above what was
/// allocated when it started; with concurrent work in the process, that
/// includes the other work's allocations.
pub trait MemoryProbe: Send + Sync {
    /// Bytes allocated and not yet freed, now.
    fn allocated(&self) -> u64;

    /// The most bytes allocated at once since the last [`reset_peak`](Self::reset_peak).
    /// The default, for probes that do not track a peak, is [`allocated`](Self::allocated).
    fn peak(&self) -> u64 {
        self.allocated()
    }

    /// Starts a new peak measurement from what is allocated now.
    fn reset_peak(&self) {}
}

/// Measures how long a target's runs take, and how much memory they use
/// when given a [`MemoryProbe`].
///
/// Warm-up runs (default none) come first and are not measured; then each
/// of the iterations (default 10) is timed from its start to its final
/// output. The eval passes when every measured run succeeded and the
/// averages stay within the limits set (none by default).
///
/// # Example
///
/// ```
/// use agent_core::eval::{EvalStatus, PerformanceEval};
/// use agent_core::testing::TestModel;
/// use agent_core::Agent;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let agent = Agent::builder(TestModel::new().answer("ok")).build()?;
/// let result = PerformanceEval::new("Hi").num_iterations(3).warmup_runs(1).run(&agent).await?;
/// assert_eq!((result.eval_status, result.run_times.len()), (EvalStatus::Passed, 3));
/// assert_eq!(result.avg_memory_usage, None, "no probe, no memory figures");
/// assert_eq!(result.avg_turns, 1.0);
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct PerformanceEval {
    input: String,
    iterations: u32,
    warmup_runs: u32,
    probe: Option<Arc<dyn MemoryProbe>>,
    max_avg_run_time: Option<Duration>,
    max_avg_memory_mib: Option<f64>,
    name: Option<String>,
}

impl std::fmt::Debug for PerformanceEval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerformanceEval")
            .field("input", &self.input)
            .field("iterations", &self.iterations)
            .field("warmup_runs", &self.warmup_runs)
            .field("probe", &self.probe.is_some())
            .finish_non_exhaustive()
    }
}

/// What a performance eval measured; serializes as AgentOS `eval_data`.
/// Times are in seconds, memory in MiB.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PerformanceResult {
    /// Passed when every measured run succeeded within the limits.
    pub eval_status: EvalStatus,
    /// Measured runs (successful or not).
    pub num_iterations: u32,
    /// Unmeasured runs before them.
    pub warmup_runs: u32,
    /// Each measured run's duration.
    pub run_times: Vec<f64>,
    /// The mean duration.
    pub avg_run_time: Option<f64>,
    /// The shortest.
    pub min_run_time: Option<f64>,
    /// The longest.
    pub max_run_time: Option<f64>,
    /// The sample standard deviation.
    pub std_dev_run_time: Option<f64>,
    /// The median.
    pub median_run_time: Option<f64>,
    /// The 95th percentile.
    pub p95_run_time: Option<f64>,
    /// Each measured run's memory (empty without a probe).
    pub memory_usages: Vec<f64>,
    /// The mean memory.
    pub avg_memory_usage: Option<f64>,
    /// The least.
    pub min_memory_usage: Option<f64>,
    /// The most.
    pub max_memory_usage: Option<f64>,
    /// The sample standard deviation.
    pub std_dev_memory_usage: Option<f64>,
    /// The median.
    pub median_memory_usage: Option<f64>,
    /// The 95th percentile.
    pub p95_memory_usage: Option<f64>,
    /// Mean input tokens per successful run (a team's include its members').
    pub avg_input_tokens: f64,
    /// Mean output tokens per successful run.
    pub avg_output_tokens: f64,
    /// Mean model turns per successful run.
    pub avg_turns: f64,
    /// Mean tool calls per run (members' and steps' included).
    pub avg_tool_calls: f64,
    /// The limit on the mean duration, if set.
    pub max_avg_run_time: Option<f64>,
    /// The limit on the mean memory, if set.
    pub max_avg_memory_usage: Option<f64>,
    /// Measured runs that failed or paused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_runs: Vec<FailedIteration>,
    /// What was evaluated (not part of `eval_data`).
    #[serde(skip)]
    pub subject: EvalSubject,
}

impl PerformanceResult {
    /// Whether the eval passed.
    pub fn passed(&self) -> bool {
        self.eval_status.is_passed()
    }
}

impl PerformanceEval {
    /// An eval of runs on `input`: 10 measured, no warm-up.
    pub fn new(input: impl Into<String>) -> Self {
        Self {
            input: input.into(),
            iterations: 10,
            warmup_runs: 0,
            probe: None,
            max_avg_run_time: None,
            max_avg_memory_mib: None,
            name: None,
        }
    }

    /// How many runs are measured (default 10, at most 1,000).
    #[must_use]
    pub fn num_iterations(mut self, iterations: u32) -> Self {
        self.iterations = iterations;
        self
    }

    /// How many runs come first, unmeasured (default 0, at most 1,000).
    #[must_use]
    pub fn warmup_runs(mut self, runs: u32) -> Self {
        self.warmup_runs = runs;
        self
    }

    /// Measures memory with `probe`.
    #[must_use]
    pub fn memory_probe(mut self, probe: Arc<dyn MemoryProbe>) -> Self {
        self.probe = Some(probe);
        self
    }

    /// Fails the eval when the mean duration is longer.
    #[must_use]
    pub fn max_avg_run_time(mut self, limit: Duration) -> Self {
        self.max_avg_run_time = Some(limit);
        self
    }

    /// Fails the eval when the mean memory, in MiB, is larger (needs a probe).
    #[must_use]
    pub fn max_avg_memory_usage(mut self, mib: f64) -> Self {
        self.max_avg_memory_mib = Some(mib);
        self
    }

    /// A display name for the eval's record.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Runs `target` (warm-up, then measured runs, one after another) and
    /// summarizes the measurements.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for zero or too many iterations, too many
    /// warm-up runs, or a memory limit without a probe. Failed runs are not
    /// errors: they fail the eval.
    pub async fn run<R, D>(&self, target: &R) -> Result<PerformanceResult>
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
    pub async fn run_on(&self, target: &dyn EvalTarget) -> Result<PerformanceResult> {
        check_iterations(self.iterations)?;
        if self.warmup_runs > MAX_ITERATIONS {
            return Err(Error::InvalidInput(format!(
                "a performance eval runs at most {MAX_ITERATIONS} warm-up runs, not {}",
                self.warmup_runs
            )));
        }
        if self.max_avg_memory_mib.is_some() && self.probe.is_none() {
            return Err(Error::InvalidInput("a memory limit needs a memory probe to measure with".to_owned()));
        }
        let mut result = PerformanceResult {
            num_iterations: self.iterations,
            warmup_runs: self.warmup_runs,
            max_avg_run_time: self.max_avg_run_time.map(|limit| limit.as_secs_f64()),
            max_avg_memory_usage: self.max_avg_memory_mib,
            subject: subject_of(target),
            ..PerformanceResult::default()
        };
        for _ in 0..self.warmup_runs {
            target.run_once(&self.input).await;
        }
        let (mut input_tokens, mut output_tokens, mut turns, mut tool_calls, mut succeeded) =
            (0u64, 0u64, 0u64, 0, 0u32);
        for iteration in 1..=self.iterations {
            let before = self.probe.as_ref().map(|probe| {
                probe.reset_peak();
                probe.allocated()
            });
            let started = tokio::time::Instant::now();
            let observed = target.run_once(&self.input).await;
            result.run_times.push(started.elapsed().as_secs_f64());
            if let (Some(probe), Some(before)) = (&self.probe, before) {
                result.memory_usages.push(probe.peak().saturating_sub(before) as f64 / MIB);
            }
            note_model(&mut result.subject, &observed);
            tool_calls += observed.tool_calls.len();
            match (observed.answer(), observed.output()) {
                (Ok(_), Some(output)) => {
                    succeeded += 1;
                    input_tokens += output.usage.total_input_tokens();
                    output_tokens += output.usage.output_tokens;
                    turns += u64::from(output.metrics.turns);
                }
                (Ok(_), None) => {}
                (Err(error), _) => result.failed_runs.push(FailedIteration { iteration, error }),
            }
        }
        let per_run = |total: u64| if succeeded == 0 { 0.0 } else { total as f64 / f64::from(succeeded) };
        result.avg_input_tokens = per_run(input_tokens);
        result.avg_output_tokens = per_run(output_tokens);
        result.avg_turns = per_run(turns);
        result.avg_tool_calls = tool_calls as f64 / f64::from(self.iterations);
        let times = Stats::of(&result.run_times);
        result.avg_run_time = times.mean;
        result.min_run_time = times.min;
        result.max_run_time = times.max;
        result.std_dev_run_time = times.std_dev;
        result.median_run_time = times.median;
        result.p95_run_time = times.p95;
        let memory = Stats::of(&result.memory_usages);
        result.avg_memory_usage = memory.mean;
        result.min_memory_usage = memory.min;
        result.max_memory_usage = memory.max;
        result.std_dev_memory_usage = memory.std_dev;
        result.median_memory_usage = memory.median;
        result.p95_memory_usage = memory.p95;
        let within = |average: Option<f64>, limit: Option<f64>| match (average, limit) {
            (Some(average), Some(limit)) => average <= limit,
            _ => true,
        };
        result.eval_status = EvalStatus::of(
            result.failed_runs.is_empty()
                && within(result.avg_run_time, result.max_avg_run_time)
                && within(result.avg_memory_usage, result.max_avg_memory_usage),
        );
        Ok(result)
    }

    /// What the eval was asked, as AgentOS `eval_input`.
    pub fn eval_input(&self) -> Value {
        json!({
            "input": self.input,
            "num_iterations": self.iterations,
            "warmup_runs": self.warmup_runs,
            "measures_memory": self.probe.is_some(),
            "max_avg_run_time": self.max_avg_run_time.map(|limit| limit.as_secs_f64()),
            "max_avg_memory_usage": self.max_avg_memory_mib,
        })
    }

    /// The record of a result of this eval.
    pub fn record(&self, result: &PerformanceResult) -> EvalRun {
        let data = serde_json::to_value(result).unwrap_or_default();
        EvalRun::new(EvalType::Performance, &result.subject, self.eval_input(), data).with_name(self.name.clone())
    }
}

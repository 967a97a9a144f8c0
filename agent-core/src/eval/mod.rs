//! Evals: measure what an agent, team or workflow does, and keep the results.
//!
//! Four runners, each generic over [`Runnable`](crate::Runnable) (through
//! [`EvalTarget`]) and each giving a typed result with a pass/fail status:
//!
//! - [`ReliabilityEval`]: the expected tool calls were made (with or without
//!   additional calls), with the expected arguments when given.
//! - [`AccuracyEval`]: a judge model scores the answer against an expected
//!   output from 1 to 10 and says why; averaged over N iterations.
//! - [`AgentAsJudgeEval`]: a judge model checks the answer against criteria,
//!   as a 1–10 score with a threshold or as pass/fail.
//! - [`PerformanceEval`]: latency over N runs after warm-up runs, memory
//!   through a [`MemoryProbe`] you supply, and the runs' own counters.
//!
//! An [`EvalRun`] records one eval (what ran, on what, its input and result
//! data, as AgentOS shows them); an [`EvalStore`] keeps records
//! ([`InMemoryEvalStore`] here, SQLite and Postgres in `agent-memory`).
//! [`Eval`] runs any of the four and gives its record, for callers that
//! choose the kind at run time.
//!
//! None of this does IO of its own: the runners call the target and the
//! judge [`Model`](crate::Model); stores arrive as traits.
//!
//! # Example
//!
//! ```
//! use agent_core::eval::{EvalStatus, ReliabilityEval};
//! use agent_core::testing::TestModel;
//! use agent_core::{Agent, FnTool, ToolError};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct City {
//!     /// The city's name.
//!     city: String,
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let agent = Agent::builder(TestModel::new())
//!     .tool(FnTool::new("get_weather", "Weather in a city.", |_ctx, args: City| async move {
//!         Ok::<_, ToolError>(format!("Sunny in {}", args.city))
//!     }))
//!     .build()?;
//! let result = ReliabilityEval::new("Weather in Paris?", ["get_weather"]).run(&agent).await?;
//! assert_eq!(result.eval_status, EvalStatus::Passed);
//! assert_eq!(result.passed_tool_calls, ["get_weather"]);
//! # Ok::<_, agent_core::Error>(()) }).unwrap();
//! ```

mod accuracy;
mod any;
mod judge;
mod performance;
mod record;
mod reliability;
mod stats;
mod store;
mod target;

pub use accuracy::{AccuracyEval, AccuracyEvaluation, AccuracyResult};
pub use any::Eval;
pub use judge::{AgentAsJudgeEval, AgentAsJudgeResult, JudgeEvaluation, Scoring};
pub use performance::{MemoryProbe, PerformanceEval, PerformanceResult};
pub use record::{EvalRun, EvalStatus, EvalSubject, EvalType, FailedIteration};
pub use reliability::{ArgumentCheck, ReliabilityEval, ReliabilityResult};
pub use store::{EvalQuery, EvalSort, EvalStore, InMemoryEvalStore};
pub use target::{EvalTarget, Observation, RunnableTarget, ToolCallLog};

//! Usage limits: budgets of tokens, tool calls and cost per run, shared by a
//! team's or workflow's members and steps.

use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::message::Usage;
use crate::model::ModelPricing;

/// Limits on what a run may use. The loop checks them after every model
/// turn; going over ends the run with
/// [`Error::UsageLimitExceeded`](crate::Error::UsageLimitExceeded), which
/// carries the partial output and the usage so far. A team or workflow shares
/// one budget across its leader, members and steps.
///
/// # Example
///
/// ```
/// use agent_core::testing::TestModel;
/// use agent_core::{Agent, Error, UsageLimit, UsageLimits};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let agent = Agent::builder(TestModel::new().answer("A long answer.")).build()?;
/// // The test model reports 10 input tokens per call.
/// let result = agent.run("Hi").limits(UsageLimits::new().input_tokens(5)).await;
/// let Err(Error::UsageLimitExceeded { limit, used, .. }) = result else { panic!("expected the limit") };
/// assert_eq!((limit, used.usage.input_tokens), (UsageLimit::InputTokens(5), 10));
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UsageLimits {
    /// Input tokens, cached ones included.
    pub input_tokens: Option<u64>,
    /// Output tokens.
    pub output_tokens: Option<u64>,
    /// Input and output tokens together.
    pub total_tokens: Option<u64>,
    /// Tool calls the model asked for.
    pub tool_calls: Option<u32>,
    /// Cost in US dollars, from the model's prices ([`Model::pricing`](crate::Model::pricing));
    /// models without prices count nothing.
    pub cost_usd: Option<f64>,
}

impl UsageLimits {
    /// No limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// At most this many input tokens (cached ones included).
    #[must_use]
    pub fn input_tokens(mut self, limit: u64) -> Self {
        self.input_tokens = Some(limit);
        self
    }

    /// At most this many output tokens.
    #[must_use]
    pub fn output_tokens(mut self, limit: u64) -> Self {
        self.output_tokens = Some(limit);
        self
    }

    /// At most this many tokens in all.
    #[must_use]
    pub fn total_tokens(mut self, limit: u64) -> Self {
        self.total_tokens = Some(limit);
        self
    }

    /// At most this many tool calls.
    #[must_use]
    pub fn tool_calls(mut self, limit: u32) -> Self {
        self.tool_calls = Some(limit);
        self
    }

    /// At most this cost, in US dollars.
    #[must_use]
    pub fn cost_usd(mut self, limit: f64) -> Self {
        self.cost_usd = Some(limit);
        self
    }
}

/// The limit a run went over, with its value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "limit", content = "value", rename_all = "snake_case")]
pub enum UsageLimit {
    /// [`UsageLimits::input_tokens`].
    InputTokens(u64),
    /// [`UsageLimits::output_tokens`].
    OutputTokens(u64),
    /// [`UsageLimits::total_tokens`].
    TotalTokens(u64),
    /// [`UsageLimits::tool_calls`].
    ToolCalls(u32),
    /// [`UsageLimits::cost_usd`].
    CostUsd(f64),
}

impl std::fmt::Display for UsageLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InputTokens(limit) => write!(f, "{limit} input tokens"),
            Self::OutputTokens(limit) => write!(f, "{limit} output tokens"),
            Self::TotalTokens(limit) => write!(f, "{limit} tokens"),
            Self::ToolCalls(limit) => write!(f, "{limit} tool calls"),
            Self::CostUsd(limit) => write!(f, "${limit} of model usage"),
        }
    }
}

/// What a budget has counted so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageSoFar {
    /// Tokens, summed over every model turn counted.
    pub usage: Usage,
    /// Tool calls the model asked for.
    pub tool_calls: u32,
    /// Cost in US dollars (0 for models without prices).
    pub cost_usd: f64,
}

/// The budget of one run, or of a team or workflow run and everything it
/// starts.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    limits: UsageLimits,
    spent: Mutex<UsageSoFar>,
}

impl Budget {
    pub(crate) fn new(limits: UsageLimits) -> Self {
        Self { limits, spent: Mutex::new(UsageSoFar::default()) }
    }

    /// Counts one model turn: its tokens, its cost, and the tool calls it asked
    /// for. Returns the first limit now exceeded, with the usage so far.
    pub(crate) fn charge(
        &self,
        usage: Usage,
        tool_calls: u32,
        pricing: Option<ModelPricing>,
    ) -> Result<(), (UsageLimit, UsageSoFar)> {
        let mut spent = self.spent.lock().unwrap_or_else(PoisonError::into_inner);
        spent.usage += usage;
        spent.tool_calls += tool_calls;
        if let Some(pricing) = pricing {
            spent.cost_usd += pricing.cost_usd(&usage);
        }
        let limits = &self.limits;
        let input = spent.usage.total_input_tokens();
        let output = spent.usage.output_tokens;
        let exceeded = [
            limits.input_tokens.filter(|&limit| input > limit).map(UsageLimit::InputTokens),
            limits.output_tokens.filter(|&limit| output > limit).map(UsageLimit::OutputTokens),
            limits.total_tokens.filter(|&limit| input + output > limit).map(UsageLimit::TotalTokens),
            limits.tool_calls.filter(|&limit| spent.tool_calls > limit).map(UsageLimit::ToolCalls),
            limits.cost_usd.filter(|&limit| spent.cost_usd > limit).map(UsageLimit::CostUsd),
        ];
        match exceeded.into_iter().flatten().next() {
            Some(limit) => Err((limit, *spent)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64) -> Usage {
        Usage { input_tokens: input, output_tokens: output, ..Usage::default() }
    }

    #[test]
    fn each_limit_trips_once_passed_and_not_at_it() {
        let cases = [
            (UsageLimits::new().input_tokens(20), UsageLimit::InputTokens(20)),
            (UsageLimits::new().output_tokens(10), UsageLimit::OutputTokens(10)),
            (UsageLimits::new().total_tokens(30), UsageLimit::TotalTokens(30)),
            (UsageLimits::new().tool_calls(2), UsageLimit::ToolCalls(2)),
        ];
        for (limits, expected) in cases {
            let budget = Budget::new(limits);
            assert_eq!(budget.charge(usage(10, 5), 1, None), Ok(()), "{expected}: first turn");
            assert_eq!(budget.charge(usage(10, 5), 1, None), Ok(()), "{expected}: at the limit");
            let (limit, spent) = budget.charge(usage(10, 5), 1, None).expect_err("over the limit");
            assert_eq!((limit, spent.usage.input_tokens, spent.tool_calls), (expected, 30, 3));
        }
    }

    #[test]
    fn cost_comes_from_the_model_prices() {
        let pricing = ModelPricing { input: 5.0, output: 25.0, cache_write: 6.25, cache_read: 0.5 };
        let budget = Budget::new(UsageLimits::new().cost_usd(0.01));
        // 1,000 input tokens at $5/MTok and 100 output at $25/MTok: $0.0075.
        assert_eq!(budget.charge(usage(1_000, 100), 0, Some(pricing)), Ok(()));
        let (limit, spent) = budget.charge(usage(1_000, 100), 0, Some(pricing)).expect_err("over");
        assert_eq!(limit, UsageLimit::CostUsd(0.01));
        assert!((spent.cost_usd - 0.015).abs() < 1e-12);
    }
}

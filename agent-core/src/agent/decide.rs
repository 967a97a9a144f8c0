//! The loop's decision after a model turn, as a pure function of what the
//! model answered and where the run stands.

use crate::hitl::LoopCounters;
use crate::limits::{UsageLimit, UsageSoFar};
use crate::message::{StopDetails, StopReason};

/// What the model's last answer was, as far as the decision goes.
#[derive(Clone, Debug)]
pub(super) struct Answered<'a> {
    pub(super) stop_reason: &'a StopReason,
    /// The name of the last client tool the answer calls, if it calls any.
    pub(super) last_tool: Option<&'a str>,
    /// Every tool the answer calls ends the run after a successful call
    /// (`stop_after_call`), so no further model turn is needed.
    pub(super) only_stopping_tools: bool,
    /// For structured output, the check of the answer's text (made only when
    /// the answer calls no tools).
    pub(super) check: Option<Result<(), String>>,
    /// A usage limit the turn went over.
    pub(super) over_budget: Option<(UsageLimit, UsageSoFar)>,
}

/// The loop's limits.
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    pub(super) max_turns: u32,
    pub(super) max_continuations: u32,
    pub(super) max_output_retries: u32,
}

/// What the loop does next.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Next {
    /// The provider paused the turn: send the conversation back as it is.
    Resume,
    /// Run the tool calls of the answer.
    RunTools,
    /// The answer failed the output check: ask again with this message.
    Retry(String),
    /// The answer is final.
    Answer,
    /// The run ends with this failure.
    Fail(Failure),
}

/// Why the loop stops without an answer.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Failure {
    Refused(Option<StopDetails>),
    ContextWindowExceeded,
    PauseTurnLimit(u32),
    TruncatedToolCall(String),
    MaxTurns(u32),
    OutputValidation { attempts: u32, message: String },
    UsageLimit(UsageLimit, UsageSoFar),
}

/// Whether the run may make another model call: the turn limit is checked
/// before each one.
pub(super) fn may_call_model(counters: &LoopCounters, limits: Limits) -> Result<(), Failure> {
    if counters.turns >= limits.max_turns { Err(Failure::MaxTurns(limits.max_turns)) } else { Ok(()) }
}

/// Decides what follows a model answer. `counters` are as they were before
/// the answer; the caller updates them (a `pause_turn` counts a
/// continuation, anything else a turn).
pub(super) fn decide(answered: &Answered<'_>, counters: &LoopCounters, limits: Limits) -> Next {
    match answered.stop_reason {
        StopReason::Refusal { details } => return Next::Fail(Failure::Refused(details.clone())),
        StopReason::ModelContextWindowExceeded => return Next::Fail(Failure::ContextWindowExceeded),
        _ => {}
    }
    if let Some((limit, used)) = answered.over_budget {
        return Next::Fail(Failure::UsageLimit(limit, used));
    }
    if *answered.stop_reason == StopReason::PauseTurn {
        return if counters.continuations >= limits.max_continuations {
            Next::Fail(Failure::PauseTurnLimit(limits.max_continuations))
        } else {
            Next::Resume
        };
    }
    let turns = counters.turns + 1;
    if let Some(tool) = answered.last_tool {
        if *answered.stop_reason == StopReason::MaxTokens {
            return Next::Fail(Failure::TruncatedToolCall(tool.to_owned()));
        }
        // Tools whose results need another model turn are not run when no
        // turn is left: their side effects would be for nothing.
        if turns >= limits.max_turns && !answered.only_stopping_tools {
            return Next::Fail(Failure::MaxTurns(limits.max_turns));
        }
        return Next::RunTools;
    }
    match &answered.check {
        Some(Err(message)) if counters.output_retries >= limits.max_output_retries => {
            Next::Fail(Failure::OutputValidation { attempts: counters.output_retries + 1, message: message.clone() })
        }
        Some(Err(_)) if turns >= limits.max_turns => Next::Fail(Failure::MaxTurns(limits.max_turns)),
        Some(Err(message)) => Next::Retry(format!(
            "Your answer does not match the required JSON schema: {message}. \
             Answer again with only a JSON value that matches the schema."
        )),
        _ => Next::Answer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Usage;

    const LIMITS: Limits = Limits { max_turns: 3, max_continuations: 2, max_output_retries: 1 };

    fn answered(stop_reason: &StopReason) -> Answered<'_> {
        Answered { stop_reason, last_tool: None, only_stopping_tools: false, check: None, over_budget: None }
    }

    fn counters(turns: u32, continuations: u32, output_retries: u32) -> LoopCounters {
        LoopCounters { turns, continuations, output_retries, ..LoopCounters::default() }
    }

    #[test]
    fn decision_table() {
        let refusal = StopReason::Refusal { details: None };
        let used = UsageSoFar { usage: Usage { output_tokens: 9, ..Usage::default() }, ..UsageSoFar::default() };
        let with_tool = |stop| Answered { last_tool: Some("search"), ..answered(stop) };
        let checked = |stop, check| Answered { check: Some(check), ..answered(stop) };
        #[rustfmt::skip]
        let table: Vec<(&str, Answered<'_>, LoopCounters, Next)> = vec![
            ("a text answer is final",
                answered(&StopReason::EndTurn), counters(0, 0, 0), Next::Answer),
            ("the last turn may still answer",
                answered(&StopReason::EndTurn), counters(2, 0, 0), Next::Answer),
            ("an answer cut by max_tokens is still an answer",
                answered(&StopReason::MaxTokens), counters(0, 0, 0), Next::Answer),
            ("tool calls run",
                with_tool(&StopReason::ToolUse), counters(0, 0, 0), Next::RunTools),
            ("tool calls on the last turn do not run",
                with_tool(&StopReason::ToolUse), counters(2, 0, 0), Next::Fail(Failure::MaxTurns(3))),
            ("stopping tools on the last turn run: no turn is needed after them",
                Answered { only_stopping_tools: true, ..with_tool(&StopReason::ToolUse) }, counters(2, 0, 0), Next::RunTools),
            ("a tool call cut by max_tokens fails",
                with_tool(&StopReason::MaxTokens), counters(0, 0, 0), Next::Fail(Failure::TruncatedToolCall("search".into()))),
            ("pause_turn resumes",
                answered(&StopReason::PauseTurn), counters(1, 1, 0), Next::Resume),
            ("pause_turn past the continuation limit fails",
                answered(&StopReason::PauseTurn), counters(1, 2, 0), Next::Fail(Failure::PauseTurnLimit(2))),
            ("pause_turn does not spend a turn",
                answered(&StopReason::PauseTurn), counters(3, 0, 0), Next::Resume),
            ("a refusal fails",
                answered(&refusal), counters(0, 0, 0), Next::Fail(Failure::Refused(None))),
            ("a full context window fails",
                answered(&StopReason::ModelContextWindowExceeded), counters(0, 0, 0), Next::Fail(Failure::ContextWindowExceeded)),
            ("a valid structured answer is final",
                checked(&StopReason::EndTurn, Ok(())), counters(0, 0, 0), Next::Answer),
            ("an invalid structured answer is retried with the reason",
                checked(&StopReason::EndTurn, Err("missing field `age`".into())), counters(0, 0, 0),
                Next::Retry("Your answer does not match the required JSON schema: missing field `age`. \
                             Answer again with only a JSON value that matches the schema.".into())),
            ("an invalid answer past the retry budget fails",
                checked(&StopReason::EndTurn, Err("bad".into())), counters(1, 0, 1),
                Next::Fail(Failure::OutputValidation { attempts: 2, message: "bad".into() })),
            ("an invalid answer on the last turn cannot be retried",
                checked(&StopReason::EndTurn, Err("bad".into())), counters(2, 0, 0), Next::Fail(Failure::MaxTurns(3))),
            ("going over budget fails, even with an answer",
                Answered { over_budget: Some((UsageLimit::OutputTokens(5), used)), ..answered(&StopReason::EndTurn) },
                counters(0, 0, 0), Next::Fail(Failure::UsageLimit(UsageLimit::OutputTokens(5), used))),
            ("a refusal wins over the budget",
                Answered { over_budget: Some((UsageLimit::OutputTokens(5), used)), ..answered(&refusal) },
                counters(0, 0, 0), Next::Fail(Failure::Refused(None))),
        ];
        for (case, answer, counters, expected) in table {
            assert_eq!(decide(&answer, &counters, LIMITS), expected, "{case}");
        }
    }

    #[test]
    fn the_turn_limit_is_checked_before_each_model_call() {
        assert_eq!(may_call_model(&counters(2, 0, 0), LIMITS), Ok(()));
        assert_eq!(may_call_model(&counters(3, 0, 0), LIMITS), Err(Failure::MaxTurns(3)));
    }
}

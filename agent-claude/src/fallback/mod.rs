//! Refusal fallbacks on the client: after a `refusal`, the request goes to the next model of the chain.
//!
//! The third layer: a policy over the transport, on requests the request
//! layer built. With fallback credit on, the retry echoes the refusal's
//! `fallback_credit_token` (the body otherwise unchanged) and, when the
//! refusal carries a prefill claim, one assistant message echoing the refused
//! output, which the next model continues. On a 400 the retry falls back to
//! the unchanged body with the token; on a 400 naming the token, to the body
//! without it. The response names the accepting model in `fallback_model`, so
//! the loop keeps the conversation there, and its usage includes the refused
//! attempts'. A stream marks the switch with [`ModelEvent::Fallback`](agent_core::ModelEvent::Fallback).

pub(crate) mod stream;

use std::collections::VecDeque;

use agent_core::{ContentBlock, ModelResponse, StopReason};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::betas;
use crate::error::{Error, Result};
use crate::rules;
use crate::transport::Transport;
use crate::wire::content::{block_from_wire, block_type};
use crate::wire::request::WireRequest;
use crate::wire::response::Decoded;

/// The client-side fallback chain.
#[derive(Clone, Debug, Default)]
pub(crate) struct FallbackPolicy {
    /// The models to try after a refusal, in order.
    pub(crate) models: Vec<String>,
    /// Redeem fallback credit on the retries.
    pub(crate) credit: bool,
}

impl FallbackPolicy {
    /// Adds what the first attempt needs: the credit beta, when the chain uses credit.
    pub(crate) fn prepare(&self, wire: &mut WireRequest) {
        if self.credit && !self.models.is_empty() {
            wire.add_beta(betas::FALLBACK_CREDIT);
        }
    }

    /// The models to try after `model` refused, in order.
    fn chain_after(&self, model: &str) -> VecDeque<String> {
        let start = self.models.iter().position(|entry| entry == model).map_or(0, |position| position + 1);
        self.models[start..].iter().filter(|entry| *entry != model).cloned().collect()
    }
}

/// One way to retry a refused request on the next model.
struct Candidate {
    wire: WireRequest,
    /// The echoed refused output this candidate sends as a prefill claim.
    prefill: Vec<ContentBlock>,
    with_token: bool,
}

fn refused(decoded: &Decoded) -> bool {
    matches!(decoded.response.stop_reason, StopReason::Refusal { .. })
}

/// The retries for `next_model` after `refused` answered `wire`.
fn candidates(
    policy: &FallbackPolicy,
    wire: &WireRequest,
    refused: &Decoded,
    next_model: &str,
) -> Result<Vec<Candidate>> {
    let mut base = wire.clone();
    base.model = next_model.to_owned();
    base.body.insert("model".into(), json!(next_model));
    base.body.remove("fallback_credit_token");
    let details = match &refused.response.stop_reason {
        StopReason::Refusal { details } => details.as_ref(),
        _ => None,
    };
    let token = details.and_then(|details| details.extra.get("fallback_credit_token")).and_then(Value::as_str);
    let claim = details.and_then(|details| details.extra.get("fallback_has_prefill_claim")) == Some(&json!(true));
    let mut out = Vec::new();
    if let (true, Some(token)) = (policy.credit, token) {
        let mut with_token = base.clone();
        with_token.body.insert("fallback_credit_token".into(), json!(token));
        let echo = prefill_echo(&refused.raw_content);
        if claim && !echo.is_empty() {
            let mut with_prefill = with_token.clone();
            append_assistant(&mut with_prefill, echo.clone());
            with_prefill.prefill_claim = true;
            out.push(Candidate {
                wire: with_prefill,
                prefill: echo.into_iter().map(block_from_wire).collect(),
                with_token: true,
            });
        }
        out.push(Candidate { wire: with_token, prefill: Vec::new(), with_token: true });
    }
    out.push(Candidate { wire: base, prefill: Vec::new(), with_token: false });
    for candidate in &out {
        rules::check(&candidate.wire)?;
    }
    Ok(out)
}

/// The refused output as a prefill claim: unpaired tool calls omitted, the
/// final text block without trailing whitespace (the prefill validator
/// rejects it; the credit match tolerates the edit).
fn prefill_echo(raw: &[Value]) -> Vec<Value> {
    let mut echo: Vec<Value> = raw.iter().filter(|block| block_type(block) != "tool_use").cloned().collect();
    if let Some(last) = echo.last_mut()
        && block_type(last) == "text"
        && let Some(text) = last.get("text").and_then(Value::as_str)
    {
        last["text"] = json!(text.trim_end());
    }
    if echo.last().is_some_and(|last| block_type(last) == "text" && last["text"] == json!("")) {
        echo.pop();
    }
    echo
}

fn append_assistant(wire: &mut WireRequest, blocks: Vec<Value>) {
    let Some(Value::Array(messages)) = wire.body.get_mut("messages") else { return };
    match messages.last_mut() {
        Some(last) if last.get("role") == Some(&json!("assistant")) => {
            if let Some(Value::Array(content)) = last.get_mut("content") {
                content.extend(blocks);
            }
        }
        _ => messages.push(json!({"role": "assistant", "content": blocks})),
    }
}

/// Whether a 400 on candidate `index` moves on to the next candidate.
fn moves_on(candidates: &[Candidate], index: usize, err: &Error) -> bool {
    let candidate = &candidates[index];
    index + 1 < candidates.len()
        && err.status() == Some(400)
        && (!candidate.prefill.is_empty()
            || (candidate.with_token && err.to_string().contains("fallback_credit_token")))
}

/// The accepted response: the prefill it continued, then its own content.
fn accepted(decoded: Decoded, prefill: Vec<ContentBlock>, model: &str) -> ModelResponse {
    let mut response = decoded.response;
    if matches!(response.stop_reason, StopReason::Refusal { .. }) {
        return response;
    }
    if response.fallback_model.is_none() {
        let served_by = if response.model.is_empty() { model.to_owned() } else { response.model.clone() };
        response.fallback_model = Some(served_by);
    }
    if !prefill.is_empty() {
        let mut content = prefill;
        for block in std::mem::take(&mut response.content) {
            match (content.last_mut(), block) {
                (Some(ContentBlock::Text { text, .. }), ContentBlock::Text { text: more, citations })
                    if citations.is_empty() =>
                {
                    text.push_str(&more);
                }
                (_, block) => content.push(block),
            }
        }
        response.content = content;
    }
    response
}

/// A whole response, falling back along the chain on refusals.
pub(crate) async fn request(
    transport: &Transport,
    policy: &FallbackPolicy,
    wire: &WireRequest,
    deadline: Option<Instant>,
) -> Result<ModelResponse> {
    let mut decoded = transport.message(wire, deadline).await?;
    if !refused(&decoded) {
        return Ok(decoded.response);
    }
    let mut spent = decoded.response.usage;
    for next_model in policy.chain_after(&wire.model) {
        tracing::info!(from = %wire.model, to = %next_model, "refusal; retrying on the fallback model");
        let candidates = candidates(policy, wire, &decoded, &next_model)?;
        let mut index = 0;
        let (result, prefill) = loop {
            match transport.message(&candidates[index].wire, deadline).await {
                Err(err) if moves_on(&candidates, index, &err) => index += 1,
                result => break (result, candidates[index].prefill.clone()),
            }
        };
        let answer = result?;
        if !refused(&answer) {
            let mut response = accepted(answer, prefill, &next_model);
            response.usage += spent;
            return Ok(response);
        }
        spent += answer.response.usage;
        decoded = answer;
    }
    let mut response = decoded.response;
    response.usage = spent;
    Ok(response)
}

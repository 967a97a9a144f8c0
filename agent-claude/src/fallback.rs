//! Refusal fallbacks on the client: after a `refusal`, the request goes to the next model of the chain.
//!
//! With fallback credit on, the retry echoes the refusal's
//! `fallback_credit_token` (the body otherwise unchanged) and, when the
//! refusal carries a prefill claim, one assistant message echoing the refused
//! output, which the next model continues. On a 400 the retry falls back to
//! the unchanged body with the token; on a 400 naming the token, to the body
//! without it. The response names the accepting model in `fallback_model`, so
//! the loop keeps the conversation there.

use std::collections::VecDeque;

use agent_core::{ContentBlock, ModelError, ModelEvent, ModelEventStream, ModelRequest, ModelResponse, StopReason};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::attempt::{Attempt, Item};
use crate::client::Claude;
use crate::error::{Error, Result};
use crate::rules::{self, Allowances};
use crate::wire::content::{block_from_wire, block_type};
use crate::wire::request::WireRequest;
use crate::wire::response::Decoded;

/// One way to retry a refused request on the next model.
struct Candidate {
    wire: WireRequest,
    /// The echoed refused output this candidate sends as a prefill claim.
    prefill: Vec<ContentBlock>,
    with_token: bool,
}

/// The models to try after `model` refused, in order.
fn chain_after(claude: &Claude, model: &str) -> VecDeque<String> {
    let chain = &claude.config().fallback_models;
    let start = chain.iter().position(|entry| entry == model).map_or(0, |position| position + 1);
    chain[start..].iter().filter(|entry| *entry != model).cloned().collect()
}

fn refused(decoded: &Decoded) -> bool {
    matches!(decoded.response.stop_reason, StopReason::Refusal { .. })
}

/// The retries for `next_model` after `refused` answered `wire`.
fn candidates(claude: &Claude, wire: &WireRequest, refused: &Decoded, next_model: &str) -> Result<Vec<Candidate>> {
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
    if let (true, Some(token)) = (claude.config().fallback_credit, token) {
        let mut with_token = base.clone();
        with_token.body.insert("fallback_credit_token".into(), json!(token));
        let echo = prefill_echo(&refused.raw_content);
        if claim && !echo.is_empty() {
            let mut with_prefill = with_token.clone();
            append_assistant(&mut with_prefill, echo.clone());
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
        let allowances = Allowances { trailing_assistant: wire.resume || !candidate.prefill.is_empty() };
        rules::check(&candidate.wire, allowances)?;
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
pub(crate) async fn request(claude: &Claude, request: &ModelRequest) -> Result<ModelResponse> {
    let wire = claude.prepare(request, false)?;
    let mut decoded = claude.message(&wire).await?;
    if !refused(&decoded) {
        return Ok(decoded.response);
    }
    for next_model in chain_after(claude, &wire.model) {
        tracing::info!(from = %wire.model, to = %next_model, "refusal; retrying on the fallback model");
        let candidates = candidates(claude, &wire, &decoded, &next_model)?;
        let mut index = 0;
        let (result, prefill) = loop {
            match claude.message(&candidates[index].wire).await {
                Err(err) if moves_on(&candidates, index, &err) => index += 1,
                result => break (result, candidates[index].prefill.clone()),
            }
        };
        let answer = result?;
        if !refused(&answer) {
            return Ok(accepted(answer, prefill, &next_model));
        }
        decoded = answer;
    }
    Ok(decoded.response)
}

/// A streamed response; on a refusal the next model's events continue the
/// same stream, and only the accepted response is `Completed`.
pub(crate) async fn stream(claude: &Claude, request: &ModelRequest) -> Result<ModelEventStream> {
    let wire = claude.prepare(request, true)?;
    let (request_id, bytes) = claude.open_stream(&wire).await?;
    let state = StreamState {
        chain: chain_after(claude, &wire.model),
        claude: claude.clone(),
        wire,
        attempt: Attempt::new(request_id, bytes),
        prefill: Vec::new(),
        model: None,
        done: false,
    };
    Ok(futures::stream::unfold(state, |mut state| async move {
        let item = state.next().await?;
        Some((item, state))
    })
    .boxed())
}

struct StreamState {
    claude: Claude,
    wire: WireRequest,
    attempt: Attempt,
    chain: VecDeque<String>,
    /// The prefill claim the current attempt continues.
    prefill: Vec<ContentBlock>,
    /// The fallback model the current attempt runs on.
    model: Option<String>,
    done: bool,
}

impl StreamState {
    async fn next(&mut self) -> Option<Result<ModelEvent, ModelError>> {
        if self.done {
            return None;
        }
        loop {
            match self.attempt.next().await {
                None => {
                    self.done = true;
                    return None;
                }
                Some(Err(err)) => {
                    self.done = true;
                    return Some(Err(err.into()));
                }
                Some(Ok(Item::Event(event))) => return Some(Ok(event)),
                Some(Ok(Item::Done(decoded))) => {
                    if refused(&decoded)
                        && let Some(next_model) = self.chain.pop_front()
                    {
                        if let Err(err) = self.fall_back(&decoded, &next_model).await {
                            self.done = true;
                            return Some(Err(err.into()));
                        }
                        continue;
                    }
                    self.done = true;
                    let response = match &self.model {
                        Some(model) => accepted(decoded, std::mem::take(&mut self.prefill), model),
                        None => decoded.response,
                    };
                    self.claude.observe(&response);
                    return Some(Ok(ModelEvent::Completed(response)));
                }
            }
        }
    }

    async fn fall_back(&mut self, refused: &Decoded, next_model: &str) -> Result<()> {
        tracing::info!(from = %self.wire.model, to = %next_model, "refusal mid-stream; continuing on the fallback model");
        let candidates = candidates(&self.claude, &self.wire, refused, next_model)?;
        let mut index = 0;
        let (request_id, bytes) = loop {
            match self.claude.open_stream(&candidates[index].wire).await {
                Err(err) if moves_on(&candidates, index, &err) => index += 1,
                result => break result?,
            }
        };
        self.attempt = Attempt::new(request_id, bytes);
        self.prefill = candidates[index].prefill.clone();
        self.model = Some(next_model.to_owned());
        Ok(())
    }
}

//! Refusal fallbacks of a stream: the next model's events continue the same stream, after a `Fallback` event.

use std::collections::VecDeque;

use agent_core::{ContentBlock, ModelError, ModelEvent, ModelEventStream, Usage};
use futures::StreamExt;
use tokio::time::Instant;

use crate::error::Result;
use crate::fallback::{FallbackPolicy, accepted, candidates, moves_on, refused};
use crate::transport::Transport;
use crate::transport::attempt::{Item, Streamed};
use crate::wire::request::WireRequest;
use crate::wire::response::Decoded;

/// A streamed response. On a refusal with a fallback left, the stream yields
/// [`ModelEvent::Fallback`] and goes on with the next model's events; only
/// the accepted response is `Completed`, its usage including the refused
/// attempts'.
pub(crate) async fn stream(
    transport: &Transport,
    policy: &FallbackPolicy,
    wire: WireRequest,
    deadline: Option<Instant>,
) -> Result<ModelEventStream> {
    let streamed = transport.stream(&wire, deadline).await?;
    let state = StreamState {
        chain: policy.chain_after(&wire.model),
        policy: policy.clone(),
        transport: transport.clone(),
        wire,
        deadline,
        streamed,
        prefill: Vec::new(),
        model: None,
        spent: Usage::default(),
        done: false,
    };
    Ok(futures::stream::unfold(state, |mut state| async move {
        let item = state.next().await?;
        Some((item, state))
    })
    .boxed())
}

struct StreamState {
    transport: Transport,
    policy: FallbackPolicy,
    wire: WireRequest,
    deadline: Option<Instant>,
    streamed: Streamed,
    chain: VecDeque<String>,
    /// The prefill claim the current attempt continues.
    prefill: Vec<ContentBlock>,
    /// The fallback model the current attempt runs on.
    model: Option<String>,
    /// The usage of the refused attempts so far.
    spent: Usage,
    done: bool,
}

impl StreamState {
    async fn next(&mut self) -> Option<Result<ModelEvent, ModelError>> {
        if self.done {
            return None;
        }
        match self.streamed.next().await {
            None => {
                self.done = true;
                None
            }
            Some(Err(err)) => {
                self.done = true;
                Some(Err(err.into()))
            }
            Some(Ok(Item::Event(ModelEvent::Usage(usage)))) => Some(Ok(ModelEvent::Usage(usage + self.spent))),
            Some(Ok(Item::Event(event))) => Some(Ok(event)),
            Some(Ok(Item::Done(decoded))) => {
                if refused(&decoded)
                    && let Some(next_model) = self.chain.pop_front()
                {
                    self.spent += decoded.response.usage;
                    if let Err(err) = self.fall_back(&decoded, &next_model).await {
                        self.done = true;
                        return Some(Err(err.into()));
                    }
                    return Some(Ok(ModelEvent::Fallback { model: next_model }));
                }
                self.done = true;
                let mut response = match &self.model {
                    Some(model) => accepted(decoded, std::mem::take(&mut self.prefill), model),
                    None => decoded.response,
                };
                response.usage += self.spent;
                Some(Ok(ModelEvent::Completed(response)))
            }
        }
    }

    async fn fall_back(&mut self, refused: &Decoded, next_model: &str) -> Result<()> {
        tracing::info!(from = %self.wire.model, to = %next_model, "refusal mid-stream; continuing on the fallback model");
        let candidates = candidates(&self.policy, &self.wire, refused, next_model)?;
        let mut index = 0;
        let streamed = loop {
            match self.transport.stream(&candidates[index].wire, self.deadline).await {
                Err(err) if moves_on(&candidates, index, &err) => index += 1,
                result => break result?,
            }
        };
        self.streamed = streamed;
        self.prefill = candidates[index].prefill.clone();
        self.model = Some(next_model.to_owned());
        Ok(())
    }
}

//! `run_stream`: a run as a stream of `RunEvent`s.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::future::BoxFuture;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use super::{Agent, RunInput, RunOptions};
use crate::error::Result;
use crate::event::RunEvent;
use crate::hitl::ToolDecision;
use crate::output::RunOutput;

/// A run in progress, yielding its events.
///
/// The run advances only while the stream is polled; dropping the stream
/// cancels it (nothing of a dropped run is saved). After the last event,
/// [`RunStream::output`] holds the run's result.
#[must_use = "a run stream does nothing unless polled"]
pub struct RunStream<T = RunOutput> {
    events: UnboundedReceiver<RunEvent>,
    run: Option<BoxFuture<'static, Result<T>>>,
    result: Option<Result<T>>,
}

impl<T: Unpin> RunStream<T> {
    pub(crate) fn new(start: impl FnOnce(super::run::EventSink) -> BoxFuture<'static, Result<T>>) -> Self {
        let (sender, events) = unbounded_channel();
        Self { events, run: Some(start(sender)), result: None }
    }

    /// The run's result, once the stream has ended.
    pub fn output(&mut self) -> Option<Result<T>> {
        self.result.take()
    }

    /// Drives the run to its end, passing each event to `sink` after `mark`
    /// says where it came from (a team or workflow step), and returns its
    /// result. Teams and workflows use it to forward their members' events.
    pub(crate) async fn forward_into(
        mut self,
        sink: &super::run::EventSink,
        mut mark: impl FnMut(&mut RunEvent),
    ) -> Result<T> {
        use futures::StreamExt;
        while let Some(mut event) = self.next().await {
            mark(&mut event);
            let _ = sink.send(event);
        }
        self.result.take().unwrap_or(Err(crate::Error::Cancelled))
    }

    /// Drives the run to its end, dropping the remaining events, and returns
    /// its result.
    ///
    /// # Errors
    ///
    /// The run's error.
    pub async fn finish(mut self) -> Result<T> {
        use futures::StreamExt;
        while self.next().await.is_some() {}
        self.result.take().unwrap_or(Err(crate::Error::Cancelled))
    }
}

impl<T: Unpin> Stream for RunStream<T> {
    type Item = RunEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RunEvent>> {
        let this = &mut *self;
        loop {
            if let Poll::Ready(Some(event)) = this.events.poll_recv(cx) {
                return Poll::Ready(Some(event));
            }
            let Some(run) = this.run.as_mut() else {
                // The run is over and its sender dropped: drain what is left.
                return this.events.poll_recv(cx);
            };
            match run.as_mut().poll(cx) {
                Poll::Ready(result) => {
                    this.run = None;
                    this.result = Some(result);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<D: Send + Sync + 'static> Agent<D> {
    /// Runs the agent, streaming its events (`RunStarted`, `RunContent`
    /// deltas, `ToolCallStarted`, ..., then `RunCompleted`, `RunPaused`,
    /// `RunError` or `RunCancelled`).
    pub fn run_stream(&self, input: impl Into<RunInput>) -> RunStream {
        self.run_stream_with(input, RunOptions::new())
    }

    /// [`Agent::run_stream`] with per-run options.
    pub fn run_stream_with(&self, input: impl Into<RunInput>, options: RunOptions<D>) -> RunStream {
        let agent = self.clone();
        let input = input.into();
        RunStream::new(move |sink| Box::pin(async move { agent.start(input, options, Some(sink), None).await }))
    }

    /// [`Agent::continue_run`], streaming the continued run's events.
    pub fn continue_run_stream(&self, paused: &RunOutput, decisions: Vec<ToolDecision>) -> RunStream {
        let agent = self.clone();
        let state = paused.paused.clone();
        RunStream::new(move |sink| {
            Box::pin(async move {
                let state = state.ok_or_else(|| crate::Error::Continue("the run is not paused".into()))?;
                agent.continue_paused(&state, decisions, RunOptions::new(), Some(sink)).await
            })
        })
    }

    /// [`Agent::continue_run_id`], streaming the continued run's events.
    pub fn continue_run_id_stream(&self, session_id: &str, run_id: &str, decisions: Vec<ToolDecision>) -> RunStream {
        let agent = self.clone();
        let (session_id, run_id) = (session_id.to_owned(), run_id.to_owned());
        RunStream::new(move |sink| {
            Box::pin(async move {
                let state = agent.load_paused(&session_id, &run_id).await?;
                agent.continue_paused(&state, decisions, RunOptions::new(), Some(sink)).await
            })
        })
    }
}

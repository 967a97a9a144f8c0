//! `RunStream`: a run as a stream of `RunEvent`s.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::future::BoxFuture;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::error::Result;
use crate::event::{EventSink, RunEvent};
use crate::output::RunOutput;

/// A run in progress, yielding its events; from
/// [`RunRequest::stream`](crate::RunRequest::stream).
///
/// The run advances only while the stream is polled; dropping the stream
/// cancels it. A dropped run is not saved: its `running` record stays in the
/// store until its session lease expires, when
/// [`SessionStore::fail_abandoned_runs`](crate::SessionStore::fail_abandoned_runs)
/// fails it. After the last event,
/// [`RunStream::output`] holds the run's result, and [`RunStream::finish`]
/// drives the run to its end and returns it.
///
/// # Example
///
/// ```
/// use futures::StreamExt;
/// use agent_core::Agent;
/// use agent_core::testing::TestModel;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let agent = Agent::builder(TestModel::new().answer("Hello!")).build()?;
/// let mut stream = agent.run("Hi").stream();
/// let mut names = Vec::new();
/// while let Some(event) = stream.next().await {
///     names.push(event.name());
/// }
/// assert_eq!(names.first(), Some(&"RunStarted"));
/// assert_eq!(names.last(), Some(&"RunCompleted"));
/// assert_eq!(stream.output().expect("the run ended")?.content, "Hello!");
/// # Ok::<_, agent_core::Error>(()) }).unwrap();
/// ```
#[must_use = "a run stream does nothing unless polled"]
pub struct RunStream<T = RunOutput> {
    events: UnboundedReceiver<RunEvent>,
    run: Option<BoxFuture<'static, Result<T>>>,
    result: Option<Result<T>>,
}

// The result is only moved, never pinned, so the stream is `Unpin` whatever
// `T` is.
impl<T> Unpin for RunStream<T> {}

impl<T> RunStream<T> {
    pub(crate) fn new(start: impl FnOnce(EventSink) -> BoxFuture<'static, Result<T>>) -> Self {
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
    pub(crate) async fn forward_into(mut self, sink: &EventSink, mut mark: impl FnMut(&mut RunEvent)) -> Result<T> {
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

impl<T> Stream for RunStream<T> {
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

//! `stream`: M concurrent SSE streams held open together, and the server's memory per stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout};

use crate::Error;
use crate::args::Args;
use crate::conn::{Connection, request};
use crate::rss::rss_kib;

/// How long the streams get to close once released.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// How often progress and memory are sampled.
const TICK: Duration = Duration::from_millis(100);
/// A first event longer than this is taken as read.
const FIRST_EVENT_LIMIT: usize = 64 * 1024;

/// The outcome of a `stream` run.
#[derive(Debug)]
pub(crate) struct Report {
    /// Streams whose first event had arrived when the peak was sampled.
    opened: usize,
    /// Streams that had not opened by then: refused, non-2xx, timeout, closed before an event, too late.
    failed: usize,
    /// Opened streams that ended before they were released.
    ended_early: usize,
    idle_kib: u64,
    peak_kib: u64,
    /// RSS a second after the streams were closed.
    after_kib: u64,
    /// From the first connect to the last stream open (or the cap).
    open_time: Duration,
}

impl Report {
    /// The JSON result line; `bytes_per_stream` is (peak − idle) / M.
    pub(crate) fn json(&self, args: &Args) -> String {
        let grown = self.peak_kib.saturating_sub(self.idle_kib) as f64 * 1024.0;
        format!(
            concat!(
                r#"{{"mode":"stream","label":"{}","path":"{}","streams":{},"opened":{},"failed":{},"ended_early":{},"#,
                r#""idle_rss_kib":{},"peak_rss_kib":{},"after_rss_kib":{},"open_secs":{:.2},"bytes_per_stream":{:.0}}}"#
            ),
            args.label,
            args.target.path,
            args.streams,
            self.opened,
            self.failed,
            self.ended_early,
            self.idle_kib,
            self.peak_kib,
            self.after_kib,
            self.open_time.as_secs_f64(),
            grown / args.streams as f64,
        )
    }
}

#[derive(Default)]
struct Counters {
    opened: AtomicUsize,
    failed: AtomicUsize,
    ended_early: AtomicUsize,
}

/// Opens every stream, samples the peak while all are held, closes them and reports.
pub(crate) async fn run(args: &Args) -> Result<Report, Error> {
    let pid = args.pid.ok_or_else(|| Error::Usage("stream mode needs --pid".to_owned()))?;
    let idle_kib = rss_kib(pid)?;
    let started = Instant::now();
    let deadline = started + args.max_time;
    let counters = Arc::new(Counters::default());
    let permits = Arc::new(Semaphore::new(args.open_parallel));
    let (release, released) = watch::channel(false);
    let mut streams = JoinSet::new();
    for _ in 0..args.streams {
        streams.spawn(hold(args.clone(), Arc::clone(&permits), Arc::clone(&counters), released.clone()));
    }
    let mut last_progress = Instant::now();
    loop {
        let opened = counters.opened.load(Ordering::Relaxed);
        let failed = counters.failed.load(Ordering::Relaxed);
        if opened + failed >= args.streams || Instant::now() >= deadline {
            break;
        }
        if last_progress.elapsed() >= Duration::from_secs(5) {
            eprintln!("loadgen: {opened} streams open, {failed} failed, {:.0} s", started.elapsed().as_secs_f64());
            last_progress = Instant::now();
        }
        sleep(TICK).await;
    }
    let open_time = started.elapsed();
    let mut peak_kib = rss_kib(pid)?;
    let hold_end = Instant::now() + args.hold;
    while Instant::now() < hold_end {
        sleep(TICK).await;
        peak_kib = peak_kib.max(rss_kib(pid)?);
    }
    let opened = counters.opened.load(Ordering::Relaxed);
    let ended_early = counters.ended_early.load(Ordering::Relaxed);
    let _ = release.send(true);
    let drained = timeout(DRAIN_TIMEOUT, async { while streams.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        streams.abort_all();
    }
    sleep(Duration::from_secs(1)).await;
    Ok(Report {
        opened,
        failed: args.streams - opened,
        ended_early,
        idle_kib,
        peak_kib,
        after_kib: rss_kib(pid)?,
        open_time,
    })
}

/// One stream: opens it (under a permit, within the request timeout), then
/// reads and discards its events until released or until the server ends it.
async fn hold(args: Args, permits: Arc<Semaphore>, counters: Arc<Counters>, mut released: watch::Receiver<bool>) {
    // A stream still opening when the others are released gives up: it is counted as failed.
    let opening = async {
        let permit = permits.acquire_owned().await.ok()?;
        let opened = timeout(args.request_timeout, open(&args)).await.ok()?.ok()?;
        drop(permit);
        Some(opened)
    };
    let opened = tokio::select! {
        _ = released.wait_for(|released| *released) => None,
        opened = opening => opened,
    };
    let Some((connection, mut body)) = opened else {
        counters.failed.fetch_add(1, Ordering::Relaxed);
        return;
    };
    counters.opened.fetch_add(1, Ordering::Relaxed);
    loop {
        tokio::select! {
            _ = released.wait_for(|released| *released) => break,
            frame = body.frame() => match frame {
                Some(Ok(_)) => {}
                _ => {
                    counters.ended_early.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            },
        }
    }
    drop(body);
    drop(connection);
}

/// Connects, sends the run request and waits for the first complete SSE event.
async fn open(args: &Args) -> Result<(Connection, Incoming), Error> {
    let mut connection = Connection::open(&args.target).await?;
    let request = request(&args.target, Some(&args.form))?;
    connection.sender.ready().await.map_err(Error::Http)?;
    let response = connection.sender.send_request(request).await.map_err(Error::Http)?;
    if !response.status().is_success() {
        return Err(Error::Stream(format!("status {}", response.status())));
    }
    let mut body = response.into_body();
    let mut seen = Vec::new();
    while !has_event_end(&seen) && seen.len() < FIRST_EVENT_LIMIT {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    seen.extend_from_slice(data);
                }
            }
            Some(Err(error)) => return Err(Error::Http(error)),
            None => return Err(Error::Stream("ended before its first event".to_owned())),
        }
    }
    Ok((connection, body))
}

/// Whether `bytes` hold the blank line that ends an SSE event.
fn has_event_end(bytes: &[u8]) -> bool {
    bytes.windows(2).any(|pair| pair == b"\n\n") || bytes.windows(4).any(|quad| quad == b"\r\n\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_ends_at_a_blank_line_in_either_line_ending() {
        assert!(has_event_end(b"event: RunStarted\ndata: {}\n\n"));
        assert!(has_event_end(b"data: {}\r\n\r\n"));
        assert!(!has_event_end(b"event: RunStarted\ndata: {}\n"));
    }
}

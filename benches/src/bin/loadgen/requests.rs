//! `get` and `post`: N keep-alive connections sharing a fixed budget of requests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use tokio::time::timeout;

use crate::Error;
use crate::args::{Args, Mode};
use crate::conn::{Connection, request};

/// The outcome of a `get` or `post` run.
#[derive(Debug)]
pub(crate) struct Report {
    /// Measured requests answered 2xx.
    ok: u64,
    /// Measured requests that failed: non-2xx, timeout, connection error.
    errors: u64,
    /// Failures during the warm-up (not in `errors`).
    warmup_errors: u64,
    /// Successful requests per second over the measured window.
    requests_per_sec: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
    /// The run hit `--max-secs` before its budget was spent.
    truncated: bool,
}

impl Report {
    /// The JSON result line.
    pub(crate) fn json(&self, args: &Args) -> String {
        let mode = if args.mode == Mode::Get { "get" } else { "post" };
        format!(
            concat!(
                r#"{{"mode":"{}","label":"{}","path":"{}","connections":{},"requests":{},"ok":{},"errors":{},"#,
                r#""warmup_errors":{},"rps":{:.1},"p50_ms":{:.3},"p99_ms":{:.3},"max_ms":{:.3},"truncated":{}}}"#
            ),
            mode,
            args.label,
            args.target.path,
            args.connections,
            args.requests,
            self.ok,
            self.errors,
            self.warmup_errors,
            self.requests_per_sec,
            millis(self.p50),
            millis(self.p99),
            millis(self.max),
            self.truncated,
        )
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// The shared request budget: tickets below `warmup` are not measured.
struct Plan {
    next: AtomicU64,
    warmup: u64,
    total: u64,
    deadline: Instant,
    measure_start: OnceLock<Instant>,
}

impl Plan {
    /// The next ticket, or `None` once the budget is spent or the deadline passed.
    fn ticket(&self) -> Option<u64> {
        if Instant::now() >= self.deadline {
            return None;
        }
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        if ticket == self.warmup {
            let _ = self.measure_start.set(Instant::now());
        }
        (ticket < self.total).then_some(ticket)
    }
}

#[derive(Default)]
struct WorkerStats {
    latencies: Vec<Duration>,
    errors: u64,
    warmup_errors: u64,
}

impl WorkerStats {
    fn failed(&mut self, measured: bool) {
        if measured { self.errors += 1 } else { self.warmup_errors += 1 }
    }
}

/// Runs the connections until the budget is spent and reports.
pub(crate) async fn run(args: &Args) -> Result<Report, Error> {
    let total = args.warmup + args.requests;
    let plan = Arc::new(Plan {
        next: AtomicU64::new(0),
        warmup: args.warmup,
        total,
        deadline: Instant::now() + args.max_time,
        measure_start: OnceLock::new(),
    });
    let form = (args.mode == Mode::Post).then(|| args.form.clone());
    let workers: Vec<_> =
        (0..args.connections).map(|_| tokio::spawn(worker(args.clone(), form.clone(), Arc::clone(&plan)))).collect();
    let mut latencies = Vec::with_capacity(usize::try_from(args.requests).unwrap_or(0));
    let (mut errors, mut warmup_errors) = (0, 0);
    for handle in workers {
        // A worker that panicked lost its numbers; count the connection as one error.
        match handle.await {
            Ok(stats) => {
                latencies.extend(stats.latencies);
                errors += stats.errors;
                warmup_errors += stats.warmup_errors;
            }
            Err(_) => errors += 1,
        }
    }
    let end = Instant::now();
    let truncated = plan.next.load(Ordering::Relaxed) < total;
    let window = plan.measure_start.get().map_or(Duration::ZERO, |start| end - *start);
    latencies.sort_unstable();
    let ok = latencies.len() as u64;
    Ok(Report {
        ok,
        errors,
        warmup_errors,
        requests_per_sec: if window.is_zero() { 0.0 } else { ok as f64 / window.as_secs_f64() },
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        max: latencies.last().copied().unwrap_or_default(),
        truncated,
    })
}

/// The latency at quantile `q` of sorted `latencies` (nearest rank).
fn percentile(latencies: &[Duration], q: f64) -> Duration {
    if latencies.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * latencies.len() as f64).ceil() as usize;
    latencies[rank.clamp(1, latencies.len()) - 1]
}

/// One connection: takes tickets and sends requests until none is left,
/// reconnecting after a failure (each attempt spends a ticket, so it ends).
async fn worker(args: Args, form: Option<String>, plan: Arc<Plan>) -> WorkerStats {
    let mut stats = WorkerStats::default();
    let mut connection: Option<Connection> = None;
    while let Some(ticket) = plan.ticket() {
        let measured = ticket >= plan.warmup;
        let mut open = match connection.take() {
            Some(open) => open,
            None => match timeout(args.request_timeout, Connection::open(&args.target)).await {
                Ok(Ok(open)) => open,
                _ => {
                    stats.failed(measured);
                    continue;
                }
            },
        };
        let Ok(request) = request(&args.target, form.as_deref()) else {
            stats.failed(measured);
            continue;
        };
        let start = Instant::now();
        let exchange = async {
            open.sender.ready().await?;
            let response = open.sender.send_request(request).await?;
            let status = response.status();
            response.into_body().collect().await?;
            Ok::<_, hyper::Error>(status)
        };
        match timeout(args.request_timeout, exchange).await {
            Ok(Ok(status)) if status.is_success() => {
                if measured {
                    stats.latencies.push(start.elapsed());
                }
                connection = Some(open);
            }
            // A full non-2xx answer leaves the connection usable.
            Ok(Ok(_)) => {
                stats.failed(measured);
                connection = Some(open);
            }
            _ => stats.failed(measured),
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let latencies: Vec<_> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&latencies, 0.50), Duration::from_millis(50));
        assert_eq!(percentile(&latencies, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&latencies[..1], 0.99), Duration::from_millis(1));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}

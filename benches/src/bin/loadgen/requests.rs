//! `get` and `post`: N keep-alive connections sharing a budget of requests or of time.

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
    /// The measured window.
    window: Duration,
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
                r#""warmup_errors":{},"secs":{:.2},"rps":{:.1},"p50_ms":{:.3},"p99_ms":{:.3},"max_ms":{:.3},"#,
                r#""truncated":{}}}"#
            ),
            mode,
            args.label,
            args.target.path,
            args.connections,
            // The request budget, or null when the run was bounded by time.
            args.measure_time.map_or_else(|| args.requests.to_string(), |_| "null".to_owned()),
            self.ok,
            self.errors,
            self.warmup_errors,
            self.window.as_secs_f64(),
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

/// What bounds a run: a count of requests, or a measured time.
enum Budget {
    /// Tickets below `warmup` are not measured; none is issued from `total` on.
    Count { next: AtomicU64, warmup: u64, total: u64, measure_start: OnceLock<Instant> },
    /// Requests started before `measure_from` are not measured; none starts from `until` on.
    Time { measure_from: Instant, until: Instant },
}

/// The shared request budget and the run's hard deadline.
struct Plan {
    budget: Budget,
    deadline: Instant,
}

impl Plan {
    fn new(args: &Args) -> Self {
        let now = Instant::now();
        let budget = match args.measure_time {
            Some(measure) => {
                let measure_from = now + args.warmup_time;
                Budget::Time { measure_from, until: measure_from + measure }
            }
            None => Budget::Count {
                next: AtomicU64::new(0),
                warmup: args.warmup,
                total: args.warmup + args.requests,
                measure_start: OnceLock::new(),
            },
        };
        Plan { budget, deadline: now + args.max_time }
    }

    /// Whether the next request is measured, or `None` once the budget is spent or the deadline passed.
    fn ticket(&self) -> Option<bool> {
        let now = Instant::now();
        if now >= self.deadline {
            return None;
        }
        match &self.budget {
            Budget::Count { next, warmup, total, measure_start } => {
                let ticket = next.fetch_add(1, Ordering::Relaxed);
                if ticket == *warmup {
                    let _ = measure_start.set(now);
                }
                (ticket < *total).then_some(ticket >= *warmup)
            }
            Budget::Time { measure_from, until } => (now < *until).then_some(now >= *measure_from),
        }
    }

    /// The measured window of a run that ended at `end`.
    fn window(&self, end: Instant) -> Duration {
        match &self.budget {
            Budget::Count { measure_start, .. } => measure_start.get().map_or(Duration::ZERO, |start| end - *start),
            Budget::Time { measure_from, until } => (*until).min(end).saturating_duration_since(*measure_from),
        }
    }

    /// Whether the deadline cut the budget short.
    fn truncated(&self) -> bool {
        match &self.budget {
            Budget::Count { next, total, .. } => next.load(Ordering::Relaxed) < *total,
            Budget::Time { until, .. } => self.deadline < *until,
        }
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
    let plan = Arc::new(Plan::new(args));
    let form = (args.mode == Mode::Post).then(|| args.form.clone());
    let workers: Vec<_> =
        (0..args.connections).map(|_| tokio::spawn(worker(args.clone(), form.clone(), Arc::clone(&plan)))).collect();
    let mut latencies = Vec::new();
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
    let truncated = plan.truncated();
    let window = plan.window(end);
    latencies.sort_unstable();
    let ok = latencies.len() as u64;
    Ok(Report {
        ok,
        errors,
        warmup_errors,
        window,
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
    while let Some(measured) = plan.ticket() {
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

    fn args(line: &str) -> Args {
        let parsed = Args::parse(line.split(' ').map(str::to_owned));
        parsed.unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn a_count_budget_warms_up_then_measures_then_ends() {
        let plan = Plan::new(&args("get --url http://127.0.0.1:1/ --warmup 2 --requests 3"));
        let tickets: Vec<_> = std::iter::from_fn(|| plan.ticket()).take(10).collect();
        assert_eq!(tickets, [false, false, true, true, true]);
        assert!(!plan.truncated());
    }

    #[test]
    fn a_spent_time_budget_issues_nothing() {
        let plan = Plan::new(&args("get --url http://127.0.0.1:1/ --secs 0 --warmup-secs 0"));
        assert_eq!(plan.ticket(), None);
        assert_eq!(plan.window(Instant::now()), Duration::ZERO);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let latencies: Vec<_> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&latencies, 0.50), Duration::from_millis(50));
        assert_eq!(percentile(&latencies, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&latencies[..1], 0.99), Duration::from_millis(1));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}

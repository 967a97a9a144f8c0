//! Retries: which failures are retried, how long to wait between attempts, and the bounds that keep a dead server from holding a request.
//!
//! Exponential backoff with jitter (500 ms doubling up to 8 s, each delay
//! shortened by up to a quarter at random), unless the server said how long
//! to wait in `retry-after-ms` or `retry-after`. A hint longer than
//! [`MAX_RETRY_AFTER`] is not waited out, nor replaced by a short retry that
//! would hammer the server: the request fails with the hint in the error
//! ([`Error::retry_after`]). A timeout is retried only while the time spent
//! on the request stays below the request timeout, so a server that accepts
//! connections and never answers fails a whole request after one timeout and
//! a stream after at most `max_retries + 1` first-byte timeouts. No retry
//! starts past the request's total deadline.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::time::Instant;

use crate::error::Error;

/// Waits for the given time between retries.
pub type Sleeper = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The longest `retry-after` the client waits out; longer hints end the request.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How failed requests are retried.
#[derive(Clone)]
pub(crate) struct RetryPolicy {
    pub(crate) max_retries: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) sleep: Option<Sleeper>,
}

impl std::fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_retries", &self.max_retries)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .finish_non_exhaustive()
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            sleep: None,
        }
    }
}

/// What one request has spent on attempts so far.
#[derive(Clone, Debug)]
pub(crate) struct Budget {
    /// Retries made.
    pub(crate) retries: u32,
    /// When the first attempt started.
    pub(crate) started: Instant,
    /// Timeouts are retried only while less than this has passed.
    pub(crate) timeout_budget: Duration,
    /// No attempt starts after this.
    pub(crate) deadline: Option<Instant>,
}

impl Budget {
    /// A fresh budget starting now.
    pub(crate) fn new(timeout_budget: Duration, deadline: Option<Instant>) -> Self {
        Self { retries: 0, started: Instant::now(), timeout_budget, deadline }
    }
}

impl RetryPolicy {
    /// The wait before retrying after `error`, or `None` to give up.
    pub(crate) fn verdict(&self, budget: &Budget, error: &Error) -> Option<Duration> {
        if !error.is_retryable() || budget.retries >= self.max_retries {
            return None;
        }
        if error.is_timeout() && budget.started.elapsed() >= budget.timeout_budget {
            return None;
        }
        let delay = match error.retry_after() {
            Some(hint) if hint > MAX_RETRY_AFTER => return None,
            Some(hint) => hint,
            None => self.backoff(budget.retries),
        };
        match budget.deadline {
            Some(deadline) if Instant::now() + delay >= deadline => None,
            _ => Some(delay),
        }
    }

    /// The jittered backoff before retry number `retry` (0-based).
    fn backoff(&self, retry: u32) -> Duration {
        let jitter = 1.0 - 0.25 * rand::random::<f64>();
        backoff(self.initial_backoff, self.max_backoff, retry).mul_f64(jitter)
    }

    /// Waits `delay` with the configured sleeper.
    pub(crate) async fn wait(&self, delay: Duration) {
        match &self.sleep {
            Some(sleep) => sleep(delay).await,
            None => tokio::time::sleep(delay).await,
        }
    }
}

/// `initial * 2^retry`, capped at `max`.
pub(crate) fn backoff(initial: Duration, max: Duration, retry: u32) -> Duration {
    initial.saturating_mul(2u32.saturating_pow(retry.min(30))).min(max)
}

/// The server's wait hint: `retry-after-ms` (milliseconds) first, then
/// `retry-after` (seconds). Values that are not numbers, negative or NaN are
/// ignored; values too large for a `Duration` saturate (and end the request,
/// being over [`MAX_RETRY_AFTER`]). Never panics.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim);
    if let Some(millis) = header("retry-after-ms").and_then(|value| value.parse::<f64>().ok())
        && let Some(wait) = seconds(millis / 1000.0)
    {
        return Some(wait);
    }
    header("retry-after").and_then(|value| value.parse::<f64>().ok()).and_then(seconds)
}

/// A non-negative number of seconds as a `Duration`, saturating.
fn seconds(value: f64) -> Option<Duration> {
    if value.is_nan() || value < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(value).unwrap_or(Duration::MAX))
}

/// The server's `x-should-retry` verdict.
pub(crate) fn should_retry(headers: &HeaderMap) -> Option<bool> {
    match headers.get("x-should-retry").and_then(|value| value.to_str().ok())?.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use reqwest::header::HeaderValue;

    use super::*;

    fn api_error(status: u16, retry_after: Option<Duration>) -> Error {
        Error::Api {
            status,
            error_type: None,
            message: String::new(),
            request_id: None,
            retry_after,
            should_retry: None,
        }
    }

    fn budget(retries: u32) -> Budget {
        Budget { retries, ..Budget::new(Duration::from_secs(600), None) }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_only_shortens() {
        let policy = RetryPolicy { max_retries: 10, ..RetryPolicy::default() };
        let expected = [500, 1000, 2000, 4000, 8000, 8000];
        for (retry, millis) in expected.into_iter().enumerate() {
            let full = Duration::from_millis(millis);
            assert_eq!(backoff(policy.initial_backoff, policy.max_backoff, retry as u32), full);
            let delay = policy.verdict(&budget(retry as u32), &api_error(529, None)).unwrap();
            assert!(delay <= full && delay >= full.mul_f64(0.75), "{delay:?} for {full:?}");
        }
        assert_eq!(RetryPolicy::default().verdict(&budget(2), &api_error(529, None)), None, "max_retries is 2");
    }

    #[test]
    fn server_hints_win_and_hints_over_the_cap_end_the_request() {
        let policy = RetryPolicy::default();
        let hinted = |seconds| api_error(429, Some(Duration::from_secs(seconds)));
        assert_eq!(policy.verdict(&budget(0), &hinted(3)), Some(Duration::from_secs(3)));
        assert_eq!(policy.verdict(&budget(0), &hinted(60)), Some(Duration::from_secs(60)));
        assert_eq!(policy.verdict(&budget(0), &hinted(3600)), None, "no sub-second retry instead of an hour");
        assert_eq!(policy.verdict(&budget(0), &api_error(429, Some(Duration::MAX))), None);
    }

    #[tokio::test(start_paused = true)]
    async fn timeouts_are_retried_only_within_the_request_timeout() {
        let policy = RetryPolicy::default();
        let timeout = Error::timed_out("silent".into(), None);
        let fresh = Budget::new(Duration::from_secs(600), None);
        assert!(policy.verdict(&fresh, &timeout).is_some());
        tokio::time::advance(Duration::from_secs(600)).await;
        assert_eq!(policy.verdict(&fresh, &timeout), None, "the request timeout is spent");
        assert!(policy.verdict(&fresh, &api_error(529, None)).is_some(), "other failures still retry");
        let deadline = Budget::new(Duration::from_secs(600), Some(Instant::now() + Duration::from_millis(100)));
        assert_eq!(policy.verdict(&deadline, &api_error(529, None)), None, "a retry would start past the deadline");
    }

    #[test]
    fn retry_after_ms_wins_over_retry_after() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(1500)));
        headers.insert("retry-after-ms", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
    }

    #[test]
    fn absurd_hints_saturate_or_are_ignored_without_panicking() {
        let parse = |name: &'static str, value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_static(value));
            retry_after(&headers)
        };
        assert_eq!(parse("retry-after", "1e20"), Some(Duration::MAX));
        assert_eq!(parse("retry-after-ms", "1e300"), Some(Duration::MAX));
        assert_eq!(parse("retry-after", "inf"), Some(Duration::MAX));
        assert_eq!(parse("retry-after", "1e-400"), Some(Duration::ZERO));
        assert_eq!(parse("retry-after", "-1"), None);
        assert_eq!(parse("retry-after", "NaN"), None);
        assert_eq!(parse("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    proptest::proptest! {
        #[test]
        fn no_header_value_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)) {
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                headers.insert("retry-after", value.clone());
                headers.insert("retry-after-ms", value.clone());
                headers.insert("x-should-retry", value);
            }
            let _ = retry_after(&headers);
            let _ = should_retry(&headers);
        }

        #[test]
        fn numeric_hints_are_honoured_or_saturate(seconds in proptest::prelude::any::<f64>()) {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", HeaderValue::from_str(&seconds.to_string()).unwrap());
            match retry_after(&headers) {
                None => proptest::prop_assert!(seconds.is_nan() || seconds < 0.0, "{seconds} ignored"),
                Some(wait) if wait == Duration::MAX => proptest::prop_assert!(seconds >= 1.8e19, "{seconds} saturated"),
                Some(wait) => proptest::prop_assert!(
                    (wait.as_secs_f64() - seconds).abs() <= seconds.abs() * 1e-9 + 1e-9,
                    "{seconds} read as {wait:?}"
                ),
            }
        }
    }

    #[test]
    fn retryable_statuses_follow_the_spec_and_x_should_retry() {
        for status in [408, 409, 429, 500, 502, 503, 529] {
            assert!(api_error(status, None).is_retryable(), "{status}");
        }
        for status in [400, 401, 403, 404, 413] {
            assert!(!api_error(status, None).is_retryable(), "{status}");
        }
        let forced = |status, verdict| Error::Api {
            status,
            error_type: None,
            message: String::new(),
            request_id: None,
            retry_after: None,
            should_retry: Some(verdict),
        };
        assert!(!forced(529, false).is_retryable());
        assert!(forced(422, true).is_retryable());
        assert!(!forced(400, true).is_retryable(), "400 is never retried");
    }

    #[tokio::test(start_paused = true)]
    async fn default_sleeper_waits_on_tokio_time() {
        let policy = RetryPolicy::default();
        let start = tokio::time::Instant::now();
        policy.wait(Duration::from_secs(8)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(8));
    }
}

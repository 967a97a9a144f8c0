//! Retries: which failures are retried, and how long to wait between attempts.
//!
//! Exponential backoff with jitter (500 ms doubling up to 8 s, each delay
//! shortened by up to a quarter at random), unless the server said how long
//! to wait in `retry-after-ms` or `retry-after`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::error::Error;

/// Waits for the given time between retries.
pub type Sleeper = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The longest `retry-after` the client honours; longer hints fall back to backoff.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How failed requests are retried.
#[derive(Clone)]
pub(crate) struct RetryPolicy {
    pub(crate) max_retries: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) sleep: Option<Sleeper>,
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

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based) after `error`.
    pub(crate) fn delay(&self, retry: u32, error: &Error) -> Duration {
        if let Some(hint) = error.retry_after().filter(|hint| *hint <= MAX_RETRY_AFTER) {
            return hint;
        }
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
/// `retry-after` (seconds). Unparsable values are ignored.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim);
    if let Some(millis) = header("retry-after-ms").and_then(|value| value.parse::<f64>().ok()) {
        return (millis.is_finite() && millis >= 0.0).then(|| Duration::from_secs_f64(millis / 1000.0));
    }
    let seconds = header("retry-after").and_then(|value| value.parse::<f64>().ok())?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
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

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_only_shortens() {
        let policy = RetryPolicy::default();
        let expected = [500, 1000, 2000, 4000, 8000, 8000];
        for (retry, millis) in expected.into_iter().enumerate() {
            let full = Duration::from_millis(millis);
            assert_eq!(backoff(policy.initial_backoff, policy.max_backoff, retry as u32), full);
            let delay = policy.delay(retry as u32, &api_error(529, None));
            assert!(delay <= full && delay >= full.mul_f64(0.75), "{delay:?} for {full:?}");
        }
    }

    #[test]
    fn server_hints_win_unless_absurd() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(0, &api_error(429, Some(Duration::from_secs(3)))), Duration::from_secs(3));
        assert!(policy.delay(0, &api_error(429, Some(Duration::from_secs(3600)))) <= Duration::from_millis(500));
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

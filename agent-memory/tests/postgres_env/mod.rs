//! The Postgres the tests run against: `AGENT_TEST_POSTGRES_URL`, or a skip
//! said out loud — and a failure instead when `AGENT_TEST_REQUIRE_POSTGRES=1`
//! (CI sets it, so no Postgres test passes there without running).

// Each test binary uses part of it.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Mutex;

/// The variable naming the test database.
pub const URL_VARIABLE: &str = "AGENT_TEST_POSTGRES_URL";

/// Set to `1` to make a missing URL fail the Postgres tests instead of skipping them.
pub const REQUIRE_VARIABLE: &str = "AGENT_TEST_REQUIRE_POSTGRES";

/// The tests that said they were skipped, so each says it once.
static SKIPPED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// The database URL for the running test, or `None` after one line
/// `<test>: skipped: AGENT_TEST_POSTGRES_URL is not set` on stdout.
///
/// # Panics
///
/// When the URL is missing and `AGENT_TEST_REQUIRE_POSTGRES=1`: the test fails.
pub fn url() -> Option<String> {
    // The test harness names each test's thread after the test.
    let thread = std::thread::current();
    url_for(thread.name().unwrap_or("a postgres test"))
}

/// [`url`] for a test named `test` (for a binary without the test harness).
///
/// # Panics
///
/// As [`url`].
pub fn url_for(test: &str) -> Option<String> {
    if let Some(url) = std::env::var(URL_VARIABLE).ok().filter(|url| !url.is_empty()) {
        return Some(url);
    }
    if std::env::var(REQUIRE_VARIABLE).is_ok_and(|value| value == "1") {
        panic!("{test}: {REQUIRE_VARIABLE}=1 but {URL_VARIABLE} is not set: this Postgres test cannot run");
    }
    let first = SKIPPED.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(test.to_owned());
    if first {
        // Straight to stdout: the test harness captures `println!`.
        let line = format!("{test}: skipped: {URL_VARIABLE} is not set\n");
        std::io::stdout().write_all(line.as_bytes()).ok();
    }
    None
}

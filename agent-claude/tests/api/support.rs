//! Test support: fixture files, and the crate's fake Messages API (feature `fake`).

pub use agent_claude::fake::{FakeApi, FakeOptions, Reply};

/// The text of a fixture file.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("fixture {path}: {err}"))
}

/// A reply with a fixture JSON body.
pub fn json_fixture(status: u16, name: &str) -> Reply {
    Reply::json(status, fixture(name))
}

/// A 200 stream from a fixture, in 7-byte pieces.
pub fn sse_fixture(name: &str) -> Reply {
    Reply::sse(&fixture(name), 7)
}

/// A plain `reqwest` client for requests the Claude client would not send.
/// The crate builds `reqwest` without a crypto provider, so one is installed
/// first (as `ClaudeBuilder::build` does).
pub fn raw_http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

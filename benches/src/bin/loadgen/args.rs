//! Command-line arguments of the load generator: a mode, a URL and bounded counts.

use std::time::Duration;

use hyper::Uri;

use crate::Error;

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `GET path` on every connection.
    Get,
    /// `POST path` with an urlencoded form body.
    Post,
    /// Open concurrent SSE streams (`POST` with a form), hold them, sample the server's RSS.
    Stream,
}

/// Where to send: host, port and the request target.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `host:port`, also sent as the `Host` header.
    pub(crate) authority: String,
    /// The origin-form request target (`/agents`).
    pub(crate) path: String,
}

/// Everything one run of the generator needs; every count and wait is bounded.
#[derive(Debug, Clone)]
pub(crate) struct Args {
    pub(crate) mode: Mode,
    pub(crate) target: Target,
    /// Urlencoded body for `post` and `stream`.
    pub(crate) form: String,
    /// Concurrent keep-alive connections (`get`, `post`).
    pub(crate) connections: usize,
    /// Measured requests, after the warm-up.
    pub(crate) requests: u64,
    /// Requests sent first and not measured.
    pub(crate) warmup: u64,
    /// Measure for this long instead of counting requests (`--secs`).
    pub(crate) measure_time: Option<Duration>,
    /// Time spent sending unmeasured requests first, with `--secs`.
    pub(crate) warmup_time: Duration,
    /// Wall-clock cap for the whole run; a run cut by it says `truncated`.
    pub(crate) max_time: Duration,
    /// Timeout of one request (headers and whole body).
    pub(crate) request_timeout: Duration,
    /// Concurrent streams (`stream`).
    pub(crate) streams: usize,
    /// The server's process id, whose `VmRSS` is sampled (`stream`).
    pub(crate) pid: Option<u32>,
    /// Streams being opened at once (connect to first event).
    pub(crate) open_parallel: usize,
    /// How long the peak is sampled once every stream is open.
    pub(crate) hold: Duration,
    /// Tokio worker threads of the generator.
    pub(crate) threads: usize,
    /// Free text copied into the output line.
    pub(crate) label: String,
}

pub(crate) const USAGE: &str = "usage: loadgen get|post|stream --url http://127.0.0.1:PORT/PATH [options]
  --form BODY            urlencoded body (post, stream)           [message=hi&stream=false]
  --connections N        keep-alive connections (get, post)       [32]
  --requests N           measured requests                        [20000]
  --warmup N             unmeasured requests first                [2000]
  --secs S               measure for S seconds instead of --requests
  --warmup-secs S        unmeasured seconds first, with --secs    [2]
  --max-secs S           cap on the whole run                     [120]
  --timeout-ms MS        one request's timeout                    [10000]
  --streams M            concurrent streams (stream)              [10000]
  --pid PID              server process whose VmRSS is sampled    (stream, required)
  --open-parallel N      streams being opened at once             [256]
  --hold-secs S          peak sampling time with all streams open [2]
  --threads N            generator worker threads                 [1]
  --label TEXT           copied into the JSON result line";

impl Args {
    /// Parses `std::env::args` without the program name.
    pub(crate) fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, Error> {
        let mode = match args.next().as_deref() {
            Some("get") => Mode::Get,
            Some("post") => Mode::Post,
            Some("stream") => Mode::Stream,
            other => return Err(Error::Usage(format!("unknown mode {other:?}"))),
        };
        let mut parsed = Args {
            mode,
            target: Target { authority: String::new(), path: String::new() },
            form: "message=hi&stream=false".to_owned(),
            connections: 32,
            requests: 20_000,
            warmup: 2_000,
            measure_time: None,
            warmup_time: Duration::from_secs(2),
            max_time: Duration::from_secs(120),
            request_timeout: Duration::from_secs(10),
            streams: 10_000,
            pid: None,
            open_parallel: 256,
            hold: Duration::from_secs(2),
            threads: 1,
            label: String::new(),
        };
        let mut url = None;
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| Error::Usage(format!("{flag} needs a value")))?;
            match flag.as_str() {
                "--url" => url = Some(value),
                "--form" => parsed.form = value,
                "--connections" => parsed.connections = number(&flag, &value)?,
                "--requests" => parsed.requests = number(&flag, &value)?,
                "--warmup" => parsed.warmup = number(&flag, &value)?,
                "--secs" => parsed.measure_time = Some(Duration::from_secs(number(&flag, &value)?)),
                "--warmup-secs" => parsed.warmup_time = Duration::from_secs(number(&flag, &value)?),
                "--max-secs" => parsed.max_time = Duration::from_secs(number(&flag, &value)?),
                "--timeout-ms" => parsed.request_timeout = Duration::from_millis(number(&flag, &value)?),
                "--streams" => parsed.streams = number(&flag, &value)?,
                "--pid" => parsed.pid = Some(number(&flag, &value)?),
                "--open-parallel" => parsed.open_parallel = number(&flag, &value)?,
                "--hold-secs" => parsed.hold = Duration::from_secs(number(&flag, &value)?),
                "--threads" => parsed.threads = number(&flag, &value)?,
                "--label" => parsed.label = value,
                _ => return Err(Error::Usage(format!("unknown option {flag}"))),
            }
        }
        let url = url.ok_or_else(|| Error::Usage("--url is required".to_owned()))?;
        parsed.target = target(&url)?;
        if parsed.connections == 0 || parsed.streams == 0 || parsed.open_parallel == 0 || parsed.threads == 0 {
            return Err(Error::Usage("counts must be at least 1".to_owned()));
        }
        if parsed.mode == Mode::Stream && parsed.pid.is_none() {
            return Err(Error::Usage("stream mode needs --pid".to_owned()));
        }
        Ok(parsed)
    }
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, Error> {
    value.parse().map_err(|_| Error::Usage(format!("{flag}: not a number: {value}")))
}

fn target(url: &str) -> Result<Target, Error> {
    let uri: Uri = url.parse().map_err(|_| Error::Usage(format!("not a URL: {url}")))?;
    if uri.scheme_str() != Some("http") {
        return Err(Error::Usage(format!("only http:// URLs: {url}")));
    }
    let authority = uri.authority().ok_or_else(|| Error::Usage(format!("no host in {url}")))?;
    let port = authority.port_u16().unwrap_or(80);
    let path = uri.path_and_query().map_or("/", |it| it.as_str()).to_owned();
    Ok(Target { authority: format!("{}:{port}", authority.host()), path })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Args, Error> {
        Args::parse(line.split(' ').map(str::to_owned))
    }

    #[test]
    fn a_url_splits_into_authority_and_path() -> Result<(), Error> {
        let args = parse("post --url http://127.0.0.1:7777/agents/instant/runs --connections 1000")?;
        assert_eq!(args.mode, Mode::Post);
        assert_eq!(args.target.authority, "127.0.0.1:7777");
        assert_eq!(args.target.path, "/agents/instant/runs");
        assert_eq!(args.connections, 1000);
        assert_eq!(args.form, "message=hi&stream=false");
        Ok(())
    }

    #[test]
    fn stream_mode_needs_a_pid_and_counts_are_positive() {
        assert!(matches!(parse("stream --url http://localhost:1/x"), Err(Error::Usage(_))));
        assert!(matches!(parse("get --url http://localhost:1/x --connections 0"), Err(Error::Usage(_))));
        assert!(matches!(parse("get --url https://localhost:1/x"), Err(Error::Usage(_))));
        assert!(matches!(parse("get --url http://localhost:1/x --warmup"), Err(Error::Usage(_))));
    }
}

//! A bounded loopback load generator for the AgentOS benchmarks (`benches/agentos_compare.sh`).
//!
//! `get` and `post` keep N HTTP/1.1 connections busy for a fixed number of
//! requests after a warm-up and print requests/s, p50 and p99; `stream` opens
//! M SSE streams, holds them until all are open and prints the server
//! process's resident memory per stream. The result is one JSON line on
//! stdout; progress goes to stderr. Every run is capped in count and time.

mod args;
mod conn;
mod requests;
mod rss;
mod stream;

use std::process::ExitCode;

use args::{Args, Mode, USAGE};

/// What can stop the generator.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Bad command line.
    #[error("{0}\n{USAGE}")]
    Usage(String),
    /// The TCP connection could not be made.
    #[error("connect: {0}")]
    Connect(std::io::Error),
    /// HTTP failed on a connection.
    #[error("http: {0}")]
    Http(hyper::Error),
    /// The server's memory could not be read.
    #[error("reading /proc/{pid}/status: {source}")]
    Rss {
        /// The server's pid.
        pid: u32,
        /// Why.
        source: std::io::Error,
    },
    /// A stream did not open.
    #[error("stream: {0}")]
    Stream(String),
    /// The runtime could not start.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
}

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("loadgen: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<String, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(async {
        match args.mode {
            Mode::Get | Mode::Post => Ok(requests::run(args).await?.json(args)),
            Mode::Stream => Ok(stream::run(args).await?.json(args)),
        }
    })
}

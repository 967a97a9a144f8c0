//! The resident memory of a process, from `/proc/PID/status`.

use crate::Error;

/// `VmRSS` of process `pid`, in KiB.
pub(crate) fn rss_kib(pid: u32) -> Result<u64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|source| Error::Rss { pid, source })?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| Error::Rss { pid, source: std::io::Error::other("no VmRSS line") })
}

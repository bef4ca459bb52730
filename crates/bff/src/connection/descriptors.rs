//! File descriptors: every connection holds one, and running out of them
//! stops `accept` for everyone (issue 12: at the usual soft limit of 1,024,
//! 1,100 idle sockets made every request fail with "Too many open files").
//! The binary raises its soft `RLIMIT_NOFILE` to the hard limit at start
//! ([`raise_limit`]); the connection cap then stays `--fd-reserve` below
//! whatever the limit is ([`limit`]).

/// The soft `RLIMIT_NOFILE` now; where it cannot be read (not Unix), a
/// limit so large that the connection flags rule alone.
pub fn limit() -> u64 {
    match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok((soft, _hard)) => soft,
        Err(_) => u64::MAX,
    }
}

/// The descriptor limit before and after [`raise_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DescriptorLimit {
    /// The soft limit the process started with.
    pub before: u64,
    /// The soft limit now (the hard limit, when raising worked).
    pub after: u64,
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (as far as the system
/// allows), for the whole process: call it once at start, before serving.
pub fn raise_limit() -> std::io::Result<DescriptorLimit> {
    let before = limit();
    let after = rlimit::increase_nofile_limit(u64::MAX)?;
    Ok(DescriptorLimit { before, after })
}

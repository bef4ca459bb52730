//! Starting the BFF for a test, and the bounds every test shares.

use std::time::Duration;

use conferbot_attacks::bff::{Bff, Launch};

/// Slack for a shared, loaded two-core machine on top of a timeout the BFF
/// is configured with: the timer fires on time, but the process that sees
/// the socket close may wait for a core.
pub const SLACK: Duration = Duration::from_millis(1500);

/// The BFF with `args` (after `--sandbox --listen 127.0.0.1:0`).
pub fn start(name: &str, args: &[&str]) -> Bff {
    launch(Launch::new(name, args))
}

/// The BFF as `launch` says; this process may open as many sockets as the
/// system lets it (the floods need them).
pub fn launch(launch: Launch) -> Bff {
    conferbot_attacks::raise_own_descriptor_limit().expect("raising this process's RLIMIT_NOFILE");
    Bff::start(&launch).unwrap_or_else(|err| panic!("{err:#}"))
}

//! The names of the shared keys and channels, after the prefix
//! ([`super::prefix`]). Scripts get them as `KEYS`; `invalidate.lua` rebuilds
//! cache keys from [`CACHE`] and the stale prefixes itself.

use conferbot::Operation;

/// The window's sends (zset, member `ticket:client`, score = send ms).
pub const WINDOW: &str = "window";
/// The clients with waiting requests (zset).
pub const WAITING: &str = "waiting";
/// Before a client: its waiting requests (zset, member `ticket:client`,
/// score = ticket).
pub const CLIENT_QUEUE: &str = "queue:";
/// Before a client: its sends within the span (zset, member
/// `ticket:client`, score = send ms).
pub const CLIENT_SENT: &str = "sent:";
/// The waiters' leases (zset, score = lease expiry ms).
pub const LEASES: &str = "leases";
/// The upstream's pause (string with a PX ttl).
pub const PAUSE: &str = "pause";
/// The ticket counter.
pub const TICKETS: &str = "tickets";
/// Turns granted to waiters that have not taken them yet (set of members).
pub const GRANTED: &str = "granted";
/// Each recently served client's last grant (zset, score = grant number).
pub const SERVED: &str = "served";
/// The grant counter.
pub const GRANTS: &str = "grants";
/// The keys of `window.lua`, in its `KEYS` order.
pub const WINDOW_KEYS: [&str; 8] = [
    WINDOW, WAITING, LEASES, PAUSE, TICKETS, GRANTED, SERVED, GRANTS,
];
/// The keys of `leave.lua`, in its `KEYS` order.
pub const LEAVE_KEYS: [&str; 4] = [WINDOW, WAITING, LEASES, GRANTED];

/// The member of `ticket` of `client` in the window's sets.
pub fn window_member(ticket: u64, client: &str) -> String {
    format!("{ticket}:{client}")
}

/// Before `{month}:{client}`: a client's calls in a month
/// (`--client-monthly-calls`).
pub fn spend_prefix(month: &str) -> String {
    format!("spend:{month}:")
}

/// Before a [`crate::cache_key()`]: a held answer (a hash: `answer`, the
/// `fetched` time in ms, `marked` when a change made it stale).
pub const CACHE: &str = "cache:";
/// Before a cache key: the lock of the read's leader.
pub const LOCK: &str = "lock:";
/// Before a cache key: set for an interval when a revalidation begins, so
/// that one key is revalidated at most once per interval by all replicas.
pub const CHECK: &str = "check:";
/// The month's quota (a hash: `calls` counted, `learned` JSON, `callsAt`,
/// `refusedUntil` ms, clock `offset` ms).
pub const QUOTA: &str = "quota";
/// Finished leader calls, for followers (pub/sub channel).
pub const DONE_CHANNEL: &str = "done";

/// The event counter.
pub const EVENTS_SEQ: &str = "events:seq";
/// The capped event stream.
pub const EVENTS_LOG: &str = "events:log";
/// New events (pub/sub channel).
pub const EVENTS_CHANNEL: &str = "events";

/// The cached answer of the read with cache key `key`.
pub fn cache(key: &str) -> String {
    format!("{CACHE}{key}")
}

/// The leader lock of the read with cache key `key`.
pub fn lock(key: &str) -> String {
    format!("{LOCK}{key}")
}

/// The revalidation marker of the read with cache key `key`.
pub fn check(key: &str) -> String {
    format!("{CHECK}{key}")
}

/// Bumped by every change that touches `operation`'s reads: its reads begun
/// before are not stored.
pub fn generation(operation: Operation) -> String {
    format!("generation:{}", operation.name())
}

/// The set of cached keys of `operation`, which invalidation walks.
pub fn index(operation: Operation) -> String {
    format!("index:{}", operation.name())
}

/// The marker of a delivery seen recently (its dedup identity).
pub fn events_seen(dedup: &str) -> String {
    format!("events:seen:{dedup}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_those_the_scripts_expect() {
        assert_eq!(cache("getUsage::"), "cache:getUsage::");
        assert_eq!(lock("getUsage::"), "lock:getUsage::");
        assert_eq!(index(Operation::ListWebhooks), "index:listWebhooks");
        assert_eq!(check("getUsage::"), "check:getUsage::");
        assert_eq!(generation(Operation::GetUsage), "generation:getUsage");
        assert_eq!(events_seen("ab12"), "events:seen:ab12");
        assert_eq!(window_member(7, "ip:10.0.0.1"), "7:ip:10.0.0.1");
        assert_eq!(spend_prefix("2025-01"), "spend:2025-01:");
        let window = super::super::scripts::WINDOW;
        assert!(window.contains("'queue:'") && window.contains("'sent:'"));
        assert_eq!((CLIENT_QUEUE, CLIENT_SENT), ("queue:", "sent:"));
        assert!(super::super::scripts::INVALIDATE.contains("'cache:'"));
    }
}

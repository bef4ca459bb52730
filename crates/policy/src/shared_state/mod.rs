//! The layout of the state BFF replicas share in Redis (`--redis URL`), for
//! every server that joins them: `conferbot-bff` and the npm server half's
//! Redis store use the same key names, the same documents and the same Lua
//! scripts (the `.lua` files beside this module), so Rust replicas and Node
//! handlers on one Redis share one rate window, one cache and one event log.
//!
//! Every key lives under [`prefix`]: `conferbot-bff:{FINGERPRINT}:`, the
//! fingerprint being a keyed hash of the API key (never the key itself); the
//! braces are a Redis Cluster hash tag, so the keys one script touches share a
//! slot. Times inside the scripts are Redis's own (`TIME`), so the replicas'
//! clocks do not matter.
//!
//! - [`keys`]: the key and channel names under the prefix.
//! - [`changes`]: what a change does to the answers held there.
//! - [`wire`]: how answers and events are written into Redis (small JSON).
//! - [`scripts`]: the Lua scripts, as text.

pub mod changes;
pub mod keys;
pub mod wire;

/// The Lua scripts, run with `EVALSHA`/`EVAL`; each file says its keys and
/// arguments.
pub mod scripts {
    /// One turn at the shared sliding window, fair between clients.
    pub const WINDOW: &str = include_str!("window.lua");
    /// A waiter leaves the shared window without a turn.
    pub const LEAVE: &str = include_str!("leave.lua");
    /// Pauses the shared window (an upstream `429`), keeping a longer pause.
    pub const PAUSE: &str = include_str!("pause.lua");
    /// A read begins: the held answer (fresh, or stale with maybe its
    /// refresh to run), the lead (a lock), or a wait.
    pub const BEGIN: &str = include_str!("begin.lua");
    /// A read finished: store it, unlock, hand it to the followers.
    pub const FINISH: &str = include_str!("finish.lua");
    /// Marks the held answers a write made stale, bumping generations.
    pub const INVALIDATE: &str = include_str!("invalidate.lua");
    /// Applies one delivery once: its patches, its log entry, its
    /// announcement, tied to its dedup marker.
    pub const PUBLISH: &str = include_str!("publish.lua");
    /// The month's quota shared by replicas, and the window's state.
    pub const QUOTA: &str = include_str!("quota.lua");

    /// Every script by its file's name (without `.lua`): `cargo xtask dist`
    /// writes them into the npm package (`server/lua/`) for its Redis store.
    pub const ALL: [(&str, &str); 8] = [
        ("window", WINDOW),
        ("leave", LEAVE),
        ("pause", PAUSE),
        ("begin", BEGIN),
        ("finish", FINISH),
        ("invalidate", INVALIDATE),
        ("publish", PUBLISH),
        ("quota", QUOTA),
    ];
}

/// How old a server's copy of the shared month (`quota.lua`'s answer) may be
/// before it reads it again, in the background, when asked.
pub const QUOTA_READ_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// How long a client's monthly spend counter (`--client-monthly-calls`)
/// outlives its month in Redis (the replicas' clocks may disagree).
pub const SPEND_GRACE: std::time::Duration = std::time::Duration::from_secs(86_400);

/// Slack on a read leader's lock beyond its queue wait and upstream call.
pub const LOCK_SLACK: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a shared read's leader holds its lock: it may queue for its turn
/// (`queue_wait`), then wait for the upstream (`upstream_timeout`); past that
/// a follower takes the lead (the leader went away).
pub fn lock_ttl(settings: &crate::Settings) -> std::time::Duration {
    settings.queue_wait + settings.upstream_timeout + LOCK_SLACK
}

/// The label the API key is hashed under for its fingerprint.
const FINGERPRINT_LABEL: &[u8] = b"conferbot-bff key fingerprint";

/// A short, stable name for `key` that does not reveal it: the first 16 hex
/// digits of an HMAC-SHA256 under a fixed label. Replicas with the same key
/// share their state under it; other keys get their own.
pub fn fingerprint(key: &str) -> String {
    let mac = conferbot::sign_webhook_body(key.as_bytes(), FINGERPRINT_LABEL);
    mac.chars().take(16).collect()
}

/// The prefix of every shared key for `key`: `conferbot-bff:{FINGERPRINT}:`.
pub fn prefix(key: &str) -> String {
    format!("conferbot-bff:{{{}}}:", fingerprint(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_name_a_key_without_revealing_it() {
        let print = fingerprint("sk-live-123");
        assert_eq!(print.len(), 16);
        assert!(!print.contains("123"));
        assert_eq!(print, fingerprint("sk-live-123"));
        assert_ne!(print, fingerprint("sk-live-124"));
        assert_eq!(prefix("sk-live-123"), format!("conferbot-bff:{{{print}}}:"));
    }

    #[test]
    fn every_script_is_there() {
        for (name, script) in scripts::ALL {
            assert!(script.starts_with("-- "), "{name}: {script}");
            assert!(script.contains("redis.call"), "{name}: {script}");
        }
        assert!(scripts::ALL.contains(&("quota", scripts::QUOTA)));
        assert!(scripts::ALL.contains(&("leave", scripts::LEAVE)));
    }
}

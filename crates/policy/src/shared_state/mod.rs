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
        for script in [
            scripts::WINDOW,
            scripts::LEAVE,
            scripts::PAUSE,
            scripts::BEGIN,
            scripts::FINISH,
            scripts::INVALIDATE,
            scripts::PUBLISH,
            scripts::QUOTA,
        ] {
            assert!(script.starts_with("-- "), "{script}");
            assert!(script.contains("redis.call"), "{script}");
        }
    }
}

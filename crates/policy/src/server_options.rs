//! The npm server half's options object (`createConferbotHandler({...})`),
//! named once here beside the flags they mirror: each option's JS name and
//! the [`flags`] entry whose default and help it takes. The server half reads
//! its options by these names and exposes this table to JS, and
//! `cargo xtask dist` writes the TypeScript declarations from it, so no
//! default is ever restated in JS.

use std::time::Duration;

use crate::settings::{flags, Flag};

/// An option's default, taken from its flag, as JS writes the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionDefault {
    /// A string (`"/api/conferbot"`).
    Text(&'static str),
    /// A list of strings (none by default).
    TextList(&'static [&'static str]),
    /// A rate as the flag writes it (`"60/60s"`).
    Rate(&'static str),
    /// A duration, given in JS as milliseconds.
    Millis(Duration),
    /// A whole number.
    Count(usize),
    /// Derived from the mount (`{mount}/webhooks/incoming`).
    FromMount(&'static str),
}

/// One option of the server half.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerOption {
    /// The JS name (`queueWaitMs`).
    pub name: &'static str,
    /// The flag it mirrors, without dashes (`queue-wait`).
    pub flag: &'static str,
    /// Its default.
    pub default: OptionDefault,
    /// The help line.
    pub doc: &'static str,
}

impl ServerOption {
    /// The default as JSON text (`10000`, `"60/60s"`, `[]`); `None` when it
    /// is derived from another option.
    pub fn default_json(&self) -> Option<String> {
        let quoted = |text: &str| serde_json::Value::from(text).to_string();
        match self.default {
            OptionDefault::Text(text) | OptionDefault::Rate(text) => Some(quoted(text)),
            OptionDefault::TextList(list) => {
                Some(serde_json::Value::from(list.to_vec()).to_string())
            }
            OptionDefault::Millis(d) => Some(d.as_millis().to_string()),
            OptionDefault::Count(n) => Some(n.to_string()),
            OptionDefault::FromMount(_) => None,
        }
    }

    /// The TypeScript type of its value.
    pub fn ts_type(&self) -> &'static str {
        match self.default {
            OptionDefault::TextList(_) => "string[]",
            OptionDefault::Millis(_) | OptionDefault::Count(_) => "number",
            _ => "string",
        }
    }
}

/// Every option the settings have, in the order the flags list them.
pub const OPTIONS: [ServerOption; 12] = [
    text("upstream", &flags::UPSTREAM),
    text("mount", &flags::MOUNT),
    ServerOption {
        name: "allowOrigins",
        flag: flags::ALLOW_ORIGIN.name,
        default: OptionDefault::TextList(flags::ALLOW_ORIGIN.default),
        doc: flags::ALLOW_ORIGIN.doc,
    },
    ServerOption {
        name: "rate",
        flag: flags::RATE.name,
        default: OptionDefault::Rate(flags::RATE.text),
        doc: flags::RATE.doc,
    },
    millis("queueWaitMs", &flags::QUEUE_WAIT),
    millis("cacheTtlMs", &flags::CACHE_TTL),
    millis("upstreamTimeoutMs", &flags::UPSTREAM_TIMEOUT),
    ServerOption {
        name: "webhookPath",
        flag: flags::WEBHOOK_PATH.name,
        default: OptionDefault::FromMount(flags::WEBHOOK_PATH.text),
        doc: flags::WEBHOOK_PATH.doc,
    },
    millis("webhookToleranceMs", &flags::WEBHOOK_TOLERANCE),
    millis("sseHeartbeatMs", &flags::SSE_HEARTBEAT),
    millis("sseRetryMs", &flags::SSE_RETRY),
    ServerOption {
        name: "eventReplay",
        flag: flags::EVENT_REPLAY.name,
        default: OptionDefault::Count(flags::EVENT_REPLAY.default),
        doc: flags::EVENT_REPLAY.doc,
    },
];

/// The option named `name`.
pub fn find(name: &str) -> Option<&'static ServerOption> {
    OPTIONS.iter().find(|option| option.name == name)
}

const fn text(name: &'static str, flag: &'static Flag<&'static str>) -> ServerOption {
    ServerOption {
        name,
        flag: flag.name,
        default: OptionDefault::Text(flag.default),
        doc: flag.doc,
    }
}

const fn millis(name: &'static str, flag: &'static Flag<Duration>) -> ServerOption {
    ServerOption {
        name,
        flag: flag.name,
        default: OptionDefault::Millis(flag.default),
        doc: flag.doc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;

    fn json(name: &str) -> serde_json::Value {
        serde_json::from_str(&find(name).unwrap().default_json().unwrap()).unwrap()
    }

    #[test]
    fn defaults_are_the_flags_defaults_in_js_units() {
        let defaults = Settings::default();
        assert_eq!(json("upstream"), defaults.upstream.as_str());
        assert_eq!(json("mount"), "/api/conferbot");
        assert_eq!(json("rate"), "60/60s");
        assert_eq!(json("allowOrigins"), serde_json::json!([]));
        assert_eq!(json("queueWaitMs"), 10_000);
        assert_eq!(json("cacheTtlMs"), defaults.cache_ttl.as_millis() as u64);
        assert_eq!(json("webhookToleranceMs"), 300_000);
        assert_eq!(json("eventReplay"), 1_000);
        assert_eq!(find("webhookPath").unwrap().default_json(), None);
        assert_eq!(find("queueWaitMs").unwrap().ts_type(), "number");
        assert_eq!(find("allowOrigins").unwrap().ts_type(), "string[]");
    }

    #[test]
    fn names_are_unique_camel_case_and_cover_every_flag() {
        let names: Vec<&str> = OPTIONS.iter().map(|o| o.name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        assert!(names
            .iter()
            .all(|n| n.chars().all(|c| c.is_ascii_alphanumeric())));
        let covered: Vec<&str> = OPTIONS.iter().map(|o| o.flag).collect();
        for flag in [
            flags::UPSTREAM.name,
            flags::MOUNT.name,
            flags::ALLOW_ORIGIN.name,
            flags::RATE.name,
            flags::QUEUE_WAIT.name,
            flags::CACHE_TTL.name,
            flags::UPSTREAM_TIMEOUT.name,
            flags::WEBHOOK_PATH.name,
            flags::WEBHOOK_TOLERANCE.name,
            flags::SSE_HEARTBEAT.name,
            flags::SSE_RETRY.name,
            flags::EVENT_REPLAY.name,
        ] {
            assert!(covered.contains(&flag), "{flag}");
        }
    }
}

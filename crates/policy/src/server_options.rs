//! The npm server half's options object (`createConferbotHandler({...})`),
//! named once here beside the flags they mirror: each option's JS name and
//! the [`flags`] entry whose default and help it takes. The server half reads
//! its options by these names and exposes this table to JS, and
//! `cargo xtask dist` writes the TypeScript declarations from it, so no
//! default is ever restated in JS.

use std::time::Duration;

use crate::settings::{flags, CacheEvents, Flag};

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
    /// One of a few words (`"patch"`), the first listed being the default.
    Choice(&'static [&'static str]),
    /// None by default (what applies then is said here): a number of calls
    /// or a percentage, as `--monthly-budget` takes it (`8000`, `"10%"`).
    Budget(&'static str),
    /// `--refresh-budget`'s value as JS writes it: a number of calls, a
    /// percentage (`"10%"`, the default as the flag writes it) or `"off"`.
    RefreshBudget(&'static str),
    /// A percentage, 1 to 100 (`10`, or `"10%"`).
    Percent(u8),
    /// A whole number, none by default (what applies then is said here).
    OptionalCount(&'static str),
    /// `true` or `false`.
    Switch(bool),
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
}

impl ServerOption {
    /// The default as JSON text (`10000`, `"60/60s"`, `[]`); `None` when it
    /// is derived from another option.
    pub fn default_json(&self) -> Option<String> {
        let quoted = |text: &str| serde_json::Value::from(text).to_string();
        match self.default {
            OptionDefault::Text(text)
            | OptionDefault::Rate(text)
            | OptionDefault::RefreshBudget(text) => Some(quoted(text)),
            OptionDefault::TextList(list) => {
                Some(serde_json::Value::from(list.to_vec()).to_string())
            }
            OptionDefault::Millis(d) => Some(d.as_millis().to_string()),
            OptionDefault::Count(n) => Some(n.to_string()),
            OptionDefault::Choice(words) => words.first().map(|word| quoted(word)),
            OptionDefault::Percent(p) => Some(p.to_string()),
            OptionDefault::Switch(on) => Some(on.to_string()),
            OptionDefault::FromMount(_)
            | OptionDefault::Budget(_)
            | OptionDefault::OptionalCount(_) => None,
        }
    }

    /// The help line: its flag's (a lookup rather than a field, so that a
    /// build that reads options by name, the server half's wasm, does not
    /// carry every help text).
    pub fn doc(&self) -> &'static str {
        let flags = [
            (flags::UPSTREAM.name, flags::UPSTREAM.doc),
            (flags::MOUNT.name, flags::MOUNT.doc),
            (flags::ALLOW_ORIGIN.name, flags::ALLOW_ORIGIN.doc),
            (flags::RATE.name, flags::RATE.doc),
            (flags::QUEUE_WAIT.name, flags::QUEUE_WAIT.doc),
            (flags::CACHE_TTL.name, flags::CACHE_TTL.doc),
            (flags::CACHE_STALE.name, flags::CACHE_STALE.doc),
            (flags::CACHE_EVENTS.name, flags::CACHE_EVENTS.doc),
            (flags::MONTHLY_BUDGET.name, flags::MONTHLY_BUDGET.doc),
            (flags::REFRESH_BUDGET.name, flags::REFRESH_BUDGET.doc),
            (flags::UPSTREAM_TIMEOUT.name, flags::UPSTREAM_TIMEOUT.doc),
            (flags::WEBHOOK_PATH.name, flags::WEBHOOK_PATH.doc),
            (flags::WEBHOOK_TOLERANCE.name, flags::WEBHOOK_TOLERANCE.doc),
            (flags::SSE_HEARTBEAT.name, flags::SSE_HEARTBEAT.doc),
            (flags::SSE_RETRY.name, flags::SSE_RETRY.doc),
            (flags::EVENT_REPLAY.name, flags::EVENT_REPLAY.doc),
            (flags::ALLOW_HOST.name, flags::ALLOW_HOST.doc),
            (flags::TRUSTED_PROXY.name, flags::TRUSTED_PROXY.doc),
            (flags::CLIENT_SHARE.name, flags::CLIENT_SHARE.doc),
            (
                flags::CLIENT_MONTHLY_CALLS.name,
                flags::CLIENT_MONTHLY_CALLS.doc,
            ),
            (flags::AUTH_TIMEOUT.name, AUTHORIZE_TIMEOUT_DOC),
            (
                flags::ALLOW_LOCAL_WEBHOOKS.name,
                flags::ALLOW_LOCAL_WEBHOOKS.doc,
            ),
        ];
        flags
            .into_iter()
            .find(|(name, _)| *name == self.flag)
            .map_or("", |(_, doc)| doc)
    }

    /// The TypeScript type of its value.
    pub fn ts_type(&self) -> String {
        match self.default {
            OptionDefault::TextList(_) => "string[]".to_owned(),
            OptionDefault::Millis(_)
            | OptionDefault::Count(_)
            | OptionDefault::OptionalCount(_) => "number".to_owned(),
            OptionDefault::Budget(_) | OptionDefault::Percent(_) => {
                "number | `${number}%`".to_owned()
            }
            OptionDefault::RefreshBudget(_) => "number | `${number}%` | \"off\"".to_owned(),
            OptionDefault::Switch(_) => "boolean".to_owned(),
            OptionDefault::Choice(words) => words
                .iter()
                .map(|word| serde_json::Value::from(*word).to_string())
                .collect::<Vec<_>>()
                .join(" | "),
            _ => "string".to_owned(),
        }
    }
}

/// The help of `authTimeoutMs`: in the server half it bounds the
/// `authorize` hook, which stands for `--auth-url`'s forward-auth.
const AUTHORIZE_TIMEOUT_DOC: &str =
    "Longest the authorize hook may take before the request is refused (503)";

/// Every option the settings have, in the order the flags list them. Not
/// here, being the BFF's own: the connection layer's flags (the host server
/// keeps its connections), `--auth-url` and `--auth-user-header` (the
/// server half's `authorize(request)` hook names the user instead), and the
/// listener's and metrics' flags.
pub const OPTIONS: [ServerOption; 22] = [
    text("upstream", &flags::UPSTREAM),
    text("mount", &flags::MOUNT),
    ServerOption {
        name: "allowOrigins",
        flag: flags::ALLOW_ORIGIN.name,
        default: OptionDefault::TextList(flags::ALLOW_ORIGIN.default),
    },
    ServerOption {
        name: "rate",
        flag: flags::RATE.name,
        default: OptionDefault::Rate(flags::RATE.text),
    },
    millis("queueWaitMs", &flags::QUEUE_WAIT),
    millis("cacheTtlMs", &flags::CACHE_TTL),
    millis("cacheStaleMs", &flags::CACHE_STALE),
    ServerOption {
        name: "cacheEvents",
        flag: flags::CACHE_EVENTS.name,
        default: OptionDefault::Choice(&CacheEvents::CHOICES),
    },
    ServerOption {
        name: "monthlyBudget",
        flag: flags::MONTHLY_BUDGET.name,
        default: OptionDefault::Budget("the plan's monthly limit"),
    },
    ServerOption {
        name: "refreshBudget",
        flag: flags::REFRESH_BUDGET.name,
        default: OptionDefault::RefreshBudget(flags::REFRESH_BUDGET.text),
    },
    millis("upstreamTimeoutMs", &flags::UPSTREAM_TIMEOUT),
    ServerOption {
        name: "webhookPath",
        flag: flags::WEBHOOK_PATH.name,
        default: OptionDefault::FromMount(flags::WEBHOOK_PATH.text),
    },
    millis("webhookToleranceMs", &flags::WEBHOOK_TOLERANCE),
    millis("sseHeartbeatMs", &flags::SSE_HEARTBEAT),
    millis("sseRetryMs", &flags::SSE_RETRY),
    ServerOption {
        name: "eventReplay",
        flag: flags::EVENT_REPLAY.name,
        default: OptionDefault::Count(flags::EVENT_REPLAY.default),
    },
    ServerOption {
        name: "allowHosts",
        flag: flags::ALLOW_HOST.name,
        default: OptionDefault::TextList(flags::ALLOW_HOST.default),
    },
    ServerOption {
        name: "trustedProxies",
        flag: flags::TRUSTED_PROXY.name,
        default: OptionDefault::TextList(flags::TRUSTED_PROXY.default),
    },
    ServerOption {
        name: "clientShare",
        flag: flags::CLIENT_SHARE.name,
        default: OptionDefault::Percent(flags::CLIENT_SHARE.default),
    },
    ServerOption {
        name: "clientMonthlyCalls",
        flag: flags::CLIENT_MONTHLY_CALLS.name,
        default: OptionDefault::OptionalCount("no cap"),
    },
    millis("authTimeoutMs", &flags::AUTH_TIMEOUT),
    ServerOption {
        name: "allowLocalWebhooks",
        flag: flags::ALLOW_LOCAL_WEBHOOKS.name,
        default: OptionDefault::Switch(flags::ALLOW_LOCAL_WEBHOOKS.default),
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
    }
}

const fn millis(name: &'static str, flag: &'static Flag<Duration>) -> ServerOption {
    ServerOption {
        name,
        flag: flag.name,
        default: OptionDefault::Millis(flag.default),
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
        assert_eq!(
            json("cacheStaleMs"),
            defaults.cache_stale.as_millis() as u64
        );
        assert_eq!(json("cacheEvents"), flags::CACHE_EVENTS.text);
        assert_eq!(
            find("cacheEvents").unwrap().ts_type(),
            "\"patch\" | \"drop\""
        );
        assert_eq!(find("monthlyBudget").unwrap().default_json(), None);
        assert_eq!(json("refreshBudget"), "10%");
        assert_eq!(
            find("refreshBudget").unwrap().ts_type(),
            "number | `${number}%` | \"off\""
        );
        assert_eq!(find("queueWaitMs").unwrap().doc(), flags::QUEUE_WAIT.doc);
        assert!(
            OPTIONS.iter().all(|o| !o.doc().is_empty()),
            "every option has help"
        );
        assert_eq!(defaults.monthly_budget, None);
        assert_eq!(json("clientShare"), 10);
        assert_eq!(json("allowLocalWebhooks"), false);
        assert_eq!(
            json("allowHosts"),
            serde_json::json!(["localhost", "127.0.0.1", "[::1]"])
        );
        assert_eq!(json("authTimeoutMs"), 2_000);
        assert_eq!(find("clientMonthlyCalls").unwrap().default_json(), None);
        assert_eq!(find("allowLocalWebhooks").unwrap().ts_type(), "boolean");
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
            flags::CACHE_STALE.name,
            flags::CACHE_EVENTS.name,
            flags::MONTHLY_BUDGET.name,
            flags::REFRESH_BUDGET.name,
            flags::UPSTREAM_TIMEOUT.name,
            flags::ALLOW_HOST.name,
            flags::TRUSTED_PROXY.name,
            flags::CLIENT_SHARE.name,
            flags::CLIENT_MONTHLY_CALLS.name,
            flags::AUTH_TIMEOUT.name,
            flags::ALLOW_LOCAL_WEBHOOKS.name,
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

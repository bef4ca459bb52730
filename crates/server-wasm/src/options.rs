//! The handler's options object, read by the names of the policy's
//! [`server_options`] table (so the names and defaults are the BFF's flags),
//! plus the secrets and the JS-only options. (JS gets the table itself as
//! `handlerOptions` from `server/options.js`, which `cargo xtask dist` writes
//! from the same table, so the wasm need not carry its help texts.)
//!
//! Bad options are refused when the handler is created, with the option's
//! own name in the message (`queueWaitMs must be …`), never later.

use std::time::Duration;

use conferbot::RateSpec;
use conferbot_policy::quota::MonthlyBudget;
use conferbot_policy::refresh_budget::RefreshBudget;
use conferbot_policy::server_options::{OptionDefault, ServerOption, OPTIONS};
use conferbot_policy::settings::CacheEvents;
use conferbot_policy::Settings;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

/// Options the JS side takes besides the settings: the secrets, and what only
/// JS can hold (the transport, the shared store, the runtime's hook that
/// keeps background work alive after an answer, like Vercel's `waitUntil`,
/// and the `authorize(request)` hook that stands for `--auth-url`).
pub const JS_ONLY: [&str; 6] = [
    "apiKey",
    "webhookSecret",
    "fetch",
    "store",
    "waitUntil",
    "authorize",
];

/// Everything the policy needs from the options object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The settings, validated.
    pub settings: Settings,
    /// The API key.
    pub api_key: String,
    /// The webhook secret; `None`: deliveries are refused (`503`).
    pub webhook_secret: Option<String>,
}

/// A value read from JS, before it is checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    /// Not given (or `undefined`).
    Absent,
    /// A string.
    Text(String),
    /// A number.
    Number(f64),
    /// `true` or `false`.
    Bool(bool),
    /// An array of strings (`None` for an element that is not one).
    List(Vec<Option<String>>),
    /// Anything else.
    Other,
}

/// Reads `options` (a plain JS object).
pub fn read(options: &JsValue) -> Result<Options, String> {
    if !options.is_object() {
        return Err("createConferbotHandler needs an options object with apiKey".to_owned());
    }
    let keys: Vec<String> = Object::keys(options.unchecked_ref::<Object>())
        .iter()
        .filter_map(|k| k.as_string())
        .collect();
    let get = |name: &str| {
        raw(&Reflect::get(options, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED))
    };
    from_raw(&keys, get)
}

fn raw(value: &JsValue) -> Raw {
    if value.is_undefined() {
        Raw::Absent
    } else if let Some(text) = value.as_string() {
        Raw::Text(text)
    } else if let Some(n) = value.as_f64() {
        Raw::Number(n)
    } else if let Some(on) = value.as_bool() {
        Raw::Bool(on)
    } else if Array::is_array(value) {
        Raw::List(Array::from(value).iter().map(|v| v.as_string()).collect())
    } else {
        Raw::Other
    }
}

/// Reads options given their `keys` and a way to `get` each value.
pub fn from_raw(keys: &[String], get: impl Fn(&str) -> Raw) -> Result<Options, String> {
    if let Some(unknown) = keys
        .iter()
        .find(|k| !JS_ONLY.contains(&k.as_str()) && !OPTIONS.iter().any(|o| o.name == k.as_str()))
    {
        let known: Vec<&str> = JS_ONLY
            .iter()
            .copied()
            .chain(OPTIONS.iter().map(|o| o.name))
            .collect();
        return Err(format!(
            "unknown option {unknown:?}; the options are {}",
            known.join(", ")
        ));
    }
    let api_key = match get("apiKey") {
        Raw::Text(key) if !key.trim().is_empty() => key.trim().to_owned(),
        _ => return Err(
            "apiKey is required: the Conferbot API key, a non-empty string (keep it on the server)"
                .to_owned(),
        ),
    };
    if api_key.bytes().any(|b| !(b' '..=b'~').contains(&b)) {
        return Err("apiKey holds characters a header cannot carry".to_owned());
    }
    let webhook_secret = match get("webhookSecret") {
        Raw::Absent => None,
        Raw::Text(secret) if !secret.is_empty() => Some(secret),
        _ => return Err(
            "webhookSecret must be a non-empty string (the secret Conferbot signs deliveries with)"
                .to_owned(),
        ),
    };
    let mut settings = Settings::default();
    for option in &OPTIONS {
        let value = get(option.name);
        if value != Raw::Absent {
            apply(&mut settings, option, value)?;
        }
    }
    if !(settings.upstream.starts_with("https://") || settings.upstream.starts_with("http://")) {
        return Err(format!(
            "upstream must be an http(s) URL like {}, got {:?}",
            Settings::default().upstream,
            settings.upstream
        ));
    }
    settings.upstream = settings.upstream.trim_end_matches('/').to_owned();
    // No connection settings: the host server (Node's, Deno's…) keeps its own.
    settings
        .validate_decisions()
        .map_err(|err| renamed(&err.0))?;
    Ok(Options {
        settings,
        api_key,
        webhook_secret,
    })
}

fn apply(settings: &mut Settings, option: &ServerOption, value: Raw) -> Result<(), String> {
    let name = option.name;
    let wrong = |what: &str| format!("{name} must be {what} (conferbot-bff's --{})", option.flag);
    match (option.default, value) {
        (OptionDefault::Text(_) | OptionDefault::FromMount(_), Raw::Text(text)) => match name {
            "upstream" => settings.upstream = text,
            "mount" => settings.mount = text,
            _ => settings.webhook_path = Some(text),
        },
        (OptionDefault::TextList(_), Raw::List(list)) => {
            let list = list
                .into_iter()
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| wrong("an array of strings"))?;
            match name {
                "allowHosts" => settings.allow_hosts = list,
                "trustedProxies" => settings.trusted_proxies = list,
                _ => settings.allow_origins = list,
            }
        }
        (OptionDefault::Rate(_), Raw::Text(text)) => {
            settings.rate = text
                .parse::<RateSpec>()
                .map_err(|err| format!("{name}: {err}"))?;
        }
        (OptionDefault::Millis(_), Raw::Number(ms))
            if ms.is_finite() && ms >= 0.0 && ms.fract() == 0.0 =>
        {
            let duration = Duration::from_millis(ms as u64);
            match name {
                "queueWaitMs" => settings.queue_wait = duration,
                "cacheTtlMs" => settings.cache_ttl = duration,
                "cacheStaleMs" => settings.cache_stale = duration,
                "upstreamTimeoutMs" => settings.upstream_timeout = duration,
                "webhookToleranceMs" => settings.webhook_tolerance = duration,
                "authTimeoutMs" => settings.auth_timeout = duration,
                "sseHeartbeatMs" => settings.sse_heartbeat = duration,
                _ => settings.sse_retry = duration,
            }
        }
        (OptionDefault::Count(_), Raw::Number(n))
            if n.is_finite() && n >= 0.0 && n.fract() == 0.0 =>
        {
            settings.event_replay = n as usize;
        }
        (OptionDefault::Percent(_), Raw::Number(n))
            if (1.0..=100.0).contains(&n) && n.fract() == 0.0 =>
        {
            settings.client_share = n as u8;
        }
        (OptionDefault::Percent(_), Raw::Text(text)) => {
            settings.client_share = text
                .trim()
                .strip_suffix('%')
                .and_then(|p| p.trim().parse::<u8>().ok())
                .filter(|p| (1..=100).contains(p))
                .ok_or_else(|| wrong("a percentage from 1 to 100 (10, or \"10%\")"))?;
        }
        (OptionDefault::Percent(_), _) => {
            return Err(wrong("a percentage from 1 to 100 (10, or \"10%\")"))
        }
        (OptionDefault::OptionalCount(_), Raw::Number(n))
            if (1.0..=9.0e15).contains(&n) && n.fract() == 0.0 =>
        {
            settings.client_monthly_calls = Some(n as u64);
        }
        (OptionDefault::OptionalCount(_), _) => {
            return Err(wrong("a whole number of calls, at least 1"))
        }
        (OptionDefault::Switch(_), Raw::Bool(on)) => settings.allow_local_webhooks = on,
        (OptionDefault::Switch(_), _) => return Err(wrong("true or false")),
        (OptionDefault::Choice(words), Raw::Text(text)) => {
            settings.cache_events = text
                .parse::<CacheEvents>()
                .map_err(|_| wrong(&format!("one of {}", words.join(", "))))?;
        }
        // A whole number written as integer text (no float formatting in the wasm).
        (OptionDefault::Budget(_), Raw::Number(n))
            if (0.0..=9.0e15).contains(&n) && n.fract() == 0.0 =>
        {
            settings.monthly_budget = Some(budget(&(n as u64).to_string())?);
        }
        (OptionDefault::Budget(_), Raw::Text(text)) => {
            settings.monthly_budget = Some(budget(&text)?);
        }
        (OptionDefault::Budget(_), _) => {
            return Err(wrong("a number of calls (8000) or a percentage (\"10%\")"))
        }
        (OptionDefault::RefreshBudget(_), Raw::Number(n))
            if (0.0..=9.0e15).contains(&n) && n.fract() == 0.0 =>
        {
            settings.refresh_budget = refresh_budget(&(n as u64).to_string())?;
        }
        (OptionDefault::RefreshBudget(_), Raw::Text(text)) => {
            settings.refresh_budget = refresh_budget(&text)?;
        }
        (OptionDefault::RefreshBudget(_), _) => {
            return Err(wrong(
                "a number of calls (1000), a percentage (\"10%\") or \"off\"",
            ))
        }
        (OptionDefault::Choice(words), _) => {
            return Err(wrong(&format!("one of {}", words.join(", "))))
        }
        (OptionDefault::Millis(_), _) => return Err(wrong("a whole number of milliseconds")),
        (OptionDefault::Count(_), _) => return Err(wrong("a whole number")),
        (OptionDefault::TextList(_), _) => return Err(wrong("an array of strings")),
        _ => return Err(wrong("a string")),
    }
    Ok(())
}

/// A budget as `--monthly-budget` reads it, its message in the option's name.
fn budget(text: &str) -> Result<MonthlyBudget, String> {
    text.parse::<MonthlyBudget>().map_err(|err| renamed(&err))
}

/// A refresh budget as `--refresh-budget` reads it, its message in the
/// option's name.
fn refresh_budget(text: &str) -> Result<RefreshBudget, String> {
    text.parse::<RefreshBudget>().map_err(|err| renamed(&err))
}

/// A settings message with each `--flag` written as the option's name.
fn renamed(message: &str) -> String {
    let mut text = message.to_owned();
    for option in &OPTIONS {
        text = text.replace(&format!("--{}", option.flag), option.name);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_pairs(pairs: &[(&str, Raw)]) -> Result<Options, String> {
        let keys: Vec<String> = pairs.iter().map(|(k, _)| (*k).to_owned()).collect();
        from_raw(&keys, |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map_or(Raw::Absent, |(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_are_the_bffs_and_values_are_read_by_their_js_names() {
        let options = read_pairs(&[("apiKey", Raw::Text("sk-1".into()))]).unwrap();
        assert_eq!(options.settings, Settings::default());
        let options = read_pairs(&[
            ("apiKey", Raw::Text("sk-1".into())),
            ("upstream", Raw::Text("http://127.0.0.1:9/api/v1/".into())),
            ("rate", Raw::Text("20/2s".into())),
            ("queueWaitMs", Raw::Number(1500.0)),
            ("cacheTtlMs", Raw::Number(0.0)),
            (
                "allowOrigins",
                Raw::List(vec![Some("https://a.example".into())]),
            ),
            ("webhookSecret", Raw::Text("whsec".into())),
        ])
        .unwrap();
        assert_eq!(options.settings.upstream, "http://127.0.0.1:9/api/v1");
        assert_eq!(options.settings.rate.max, 20);
        assert_eq!(options.settings.queue_wait, Duration::from_millis(1500));
        assert_eq!(options.settings.cache_ttl, Duration::ZERO);
        assert_eq!(options.webhook_secret.as_deref(), Some("whsec"));
        let budgeted = |value: Raw| {
            read_pairs(&[
                ("apiKey", Raw::Text("sk-1".into())),
                ("monthlyBudget", value),
                ("cacheStaleMs", Raw::Number(60_000.0)),
                ("cacheEvents", Raw::Text("drop".into())),
            ])
            .unwrap()
            .settings
        };
        let calls = budgeted(Raw::Number(8000.0));
        assert_eq!(calls.monthly_budget, Some(MonthlyBudget::Calls(8000)));
        assert_eq!(calls.cache_stale, Duration::from_secs(60));
        assert_eq!(calls.cache_events, CacheEvents::Drop);
        let share = budgeted(Raw::Text("10%".into()));
        assert_eq!(share.monthly_budget, Some(MonthlyBudget::Percent(10)));
        assert_eq!(share.refresh_budget, RefreshBudget::DEFAULT);
        let refresh = |value: Raw| {
            read_pairs(&[
                ("apiKey", Raw::Text("sk-1".into())),
                ("refreshBudget", value),
            ])
            .map(|options| options.settings.refresh_budget)
        };
        assert_eq!(refresh(Raw::Text("off".into())), Ok(RefreshBudget::Off));
        assert_eq!(
            refresh(Raw::Number(500.0)),
            Ok(RefreshBudget::Capped(MonthlyBudget::Calls(500)))
        );
        assert_eq!(
            refresh(Raw::Text("25%".into())),
            Ok(RefreshBudget::Capped(MonthlyBudget::Percent(25)))
        );
        let err = refresh(Raw::Text("never".into())).unwrap_err();
        assert!(
            err.starts_with("refreshBudget must be a number of calls"),
            "{err}"
        );
        assert!(refresh(Raw::Bool(false)).is_err());
        let access = read_pairs(&[
            ("apiKey", Raw::Text("sk-1".into())),
            (
                "allowHosts",
                Raw::List(vec![Some("app.example.com".into())]),
            ),
            ("trustedProxies", Raw::List(vec![Some("10.0.0.0/8".into())])),
            ("clientShare", Raw::Text("25%".into())),
            ("clientMonthlyCalls", Raw::Number(500.0)),
            ("allowLocalWebhooks", Raw::Bool(true)),
            ("authTimeoutMs", Raw::Number(500.0)),
        ])
        .unwrap()
        .settings;
        assert_eq!(access.allow_hosts, ["app.example.com"]);
        assert_eq!(access.trusted_proxies, ["10.0.0.0/8"]);
        assert_eq!(access.allow_origins, Vec::<String>::new());
        assert_eq!(
            (access.client_share, access.client_monthly_calls),
            (25, Some(500))
        );
        assert!(access.allow_local_webhooks);
        assert_eq!(access.auth_timeout, Duration::from_millis(500));
    }

    #[test]
    fn bad_options_are_refused_by_their_js_names() {
        let key = ("apiKey", Raw::Text("sk-1".into()));
        assert!(read_pairs(&[]).unwrap_err().contains("apiKey is required"));
        let month = Raw::Number(32.0 * 86_400_000.0);
        let err = read_pairs(&[key.clone(), ("cacheStaleMs", month)]).unwrap_err();
        assert!(
            err.starts_with("cacheTtlMs and cacheStaleMs together must be at most 31 days"),
            "{err}"
        );
        let err =
            read_pairs(&[key.clone(), ("monthlyBudget", Raw::Text("120%".into()))]).unwrap_err();
        assert!(
            err.starts_with("monthlyBudget must be a number of calls"),
            "{err}"
        );
        let err =
            read_pairs(&[key.clone(), ("cacheEvents", Raw::Text("keep".into()))]).unwrap_err();
        assert!(
            err.contains("cacheEvents must be one of patch, drop"),
            "{err}"
        );
        let err = read_pairs(&[key.clone(), ("queueWaitMs", Raw::Text("10s".into()))]).unwrap_err();
        assert!(
            err.contains("queueWaitMs must be a whole number of milliseconds"),
            "{err}"
        );
        let err = read_pairs(&[key.clone(), ("cacheTTL", Raw::Number(1.0))]).unwrap_err();
        assert!(err.contains("unknown option \"cacheTTL\""), "{err}");
        let err = read_pairs(&[key.clone(), ("mount", Raw::Text("api".into()))]).unwrap_err();
        assert!(err.starts_with("mount must be a plain path"), "{err}");
        let err = read_pairs(&[key, ("upstream", Raw::Text("ftp://x".into()))]).unwrap_err();
        assert!(err.contains("upstream must be an http(s) URL"), "{err}");
    }
}

//! With the embedded sandbox (`--sandbox`), the demo is live: as soon as the
//! BFF listens, it registers a webhook for all four events pointing at its
//! own receiver, signed with the BFF's webhook secret, and with
//! `--sandbox-activity 3s` it asks the sandbox every 3 s for a new response
//! on a chatbot of the first page (picked by a seeded generator), so a
//! dashboard sees that row's `responseCount` rise without polling.
//!
//! The registration goes to the sandbox's admin route, as an operator sets a
//! webhook's secret in Conferbot's own dashboard: through the API, the
//! answer would carry the secret, and the BFF withholds every answer that
//! repeats its webhook secret. The first-page read goes through the BFF
//! itself, like any client's, so it takes its turn in the rate window.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use conferbot::{WebhookEvent, EXTERNAL_PREFIX};
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::config::BffConfig;

/// Seed of the chatbot picks, so a demo run is repeatable.
const SEED: u64 = 42;
/// Attempts to register the webhook (the first may race the server's start).
const ATTEMPTS: u32 = 5;

/// Registers the receiver on the sandbox behind `config` (the BFF listening
/// on `addr`) and, with `activity`, simulates a response that often. The
/// task runs until aborted.
pub(crate) fn start(
    addr: SocketAddr,
    config: &BffConfig,
    sandbox_admin: String,
    activity: Option<Duration>,
) -> JoinHandle<()> {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    let base = format!("http://{}", SocketAddr::new(ip, addr.port()));
    let api = format!("{base}{}{EXTERNAL_PREFIX}", config.settings.mount);
    let receiver = format!("{base}{}", config.settings.webhook_path());
    let secret = config
        .webhook_secret
        .as_ref()
        .map(|s| s.expose().to_owned())
        .unwrap_or_default();
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        register(&client, &sandbox_admin, &receiver, &secret).await;
        if let Some(every) = activity {
            simulate(&client, &api, &sandbox_admin, every).await;
        }
    })
}

async fn register(client: &reqwest::Client, admin: &str, receiver: &str, secret: &str) {
    let events: Vec<&str> = WebhookEvent::KNOWN
        .iter()
        .map(WebhookEvent::as_str)
        .collect();
    let body = json!({"url": receiver, "events": events, "secret": secret});
    for attempt in 1..=ATTEMPTS {
        let sent = client
            .post(format!("{admin}/webhooks"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                tracing::info!(receiver, "embedded sandbox delivers webhooks to this BFF");
                return;
            }
            Ok(response) => {
                tracing::warn!(
                    status = response.status().as_u16(),
                    attempt,
                    "could not register the sandbox webhook"
                );
            }
            Err(err) => {
                tracing::warn!(error = %err, attempt, "could not register the sandbox webhook")
            }
        }
        tokio::time::sleep(Duration::from_millis(500) * attempt).await;
    }
}

/// Every `every`: a new response on a chatbot of the first page.
async fn simulate(client: &reqwest::Client, api: &str, admin: &str, every: Duration) {
    let mut picks = SplitMix64(SEED);
    let mut chatbots: Vec<String> = Vec::new();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if chatbots.is_empty() {
            chatbots = first_page(client, api).await;
        }
        let Some(len) = u64::try_from(chatbots.len()).ok().filter(|n| *n > 0) else {
            continue;
        };
        let pick = usize::try_from(picks.next() % len).unwrap_or(0);
        let Some(chatbot) = chatbots.get(pick) else {
            continue;
        };
        let sent = client
            .post(format!("{admin}/responses"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json!({"chatbotId": chatbot}).to_string())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                tracing::debug!(chatbot, "sandbox activity: new response");
            }
            Ok(response) => tracing::warn!(
                status = response.status().as_u16(),
                "sandbox activity refused"
            ),
            Err(err) => tracing::warn!(error = %err, "sandbox activity failed"),
        }
    }
}

/// The ids of the first page of chatbots (empty if it cannot be read now).
async fn first_page(client: &reqwest::Client, api: &str) -> Vec<String> {
    let Ok(response) = client.get(format!("{api}/chatbots")).send().await else {
        return Vec::new();
    };
    let Ok(text) = response.text().await else {
        return Vec::new();
    };
    let Ok(page) = serde_json::from_str::<Value>(&text) else {
        return Vec::new();
    };
    page.get("data")
        .and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .filter_map(|row| row.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// SplitMix64: a few lines of seeded randomness.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_are_seeded_and_spread() {
        let picks: Vec<u64> = {
            let mut rng = SplitMix64(SEED);
            (0..40).map(|_| rng.next() % 20).collect()
        };
        let again: Vec<u64> = {
            let mut rng = SplitMix64(SEED);
            (0..40).map(|_| rng.next() % 20).collect()
        };
        assert_eq!(picks, again);
        let distinct: std::collections::BTreeSet<_> = picks.iter().collect();
        assert!(distinct.len() > 10, "{picks:?}");
    }
}

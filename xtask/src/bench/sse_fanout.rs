//! Section 8, SSE fan-out: signed webhook deliveries posted to one BFF and
//! the events its Server-Sent Events stream delivers to 1,000 connected
//! clients. No peer: the figures are reported as they are.

use anyhow::{bail, Result};
use serde_json::json;

use super::node::{number, run_script};
use super::report::{ms, per_second, Row, Section};
use super::servers::{self, BffOptions, Server};
use super::Bench;

/// Connected SSE clients.
const CLIENTS: usize = 1_000;
/// Deliveries in flight at once while posting.
const POST_CONCURRENCY: usize = 8;
/// The secret the deliveries are signed with (a bench-only value).
const SECRET: &str = "bench-webhook-secret";
/// How long the script waits for the last event after the last post.
const TIMEOUT_MS: u64 = 60_000;

/// Measures section 8.
pub fn measure(bench: &Bench) -> Result<Section> {
    let deliveries = bench.settings.sse_deliveries;
    let mut section = Section::new(
        "sse",
        "8. SSE fan-out",
        format!(
            "One release BFF (`--upstream` the shared sandbox, `CONFERBOT_WEBHOOK_SECRET` set) with {CLIENTS} \
             Server-Sent Events connections open on `GET /api/conferbot/events` (one Node process, `http.get`, \
             an agent allowing {CLIENTS}+ sockets, counting `\\n\\n`-terminated `event: response.created` frames \
             per connection). Then {deliveries} distinct signed `response.created` deliveries are posted to \
             `POST /api/conferbot/webhooks/incoming` as fast as they are accepted ({POST_CONCURRENCY} in flight, \
             HMAC-SHA256 by `node:crypto`). Delivered events/s: events received by all clients divided by the \
             wall time from the first post to the last event received. No peer; no target (report only)."
        ),
    );
    let sandbox = bench.sandbox()?;
    let options = BffOptions {
        name: "bff-sse",
        cache_ttl: None,
        rate: None,
        static_dirs: None,
    };
    let mut cmd = servers::bff_command(bench.bff_bin()?, sandbox, &options);
    cmd.env("CONFERBOT_WEBHOOK_SECRET", SECRET);
    let bff = Server::start_announced(options.name, cmd, &bench.logs)?;
    let origin = bff.origin();
    let config = json!({
        "eventsUrl": format!("{origin}/api/conferbot/events"),
        "webhookUrl": format!("{origin}/api/conferbot/webhooks/incoming"),
        "secret": SECRET, "clients": CLIENTS, "deliveries": deliveries,
        "concurrency": POST_CONCURRENCY, "timeoutMs": TIMEOUT_MS,
    });
    let (result, _) = run_script(bench.root, "sse-fanout.mjs", &[], &config)?;
    drop(bff);

    let accepted = number(&result, "accepted")?;
    if accepted == 0.0 {
        bail!(
            "the BFF accepted none of {deliveries} deliveries (statuses {})",
            result["statuses"]
        );
    }
    let expected = (CLIENTS * deliveries) as f64;
    let received = number(&result, "received")?;
    let missing = expected - received;
    section.rows.push(Row::report(
        format!("webhook deliveries accepted/s ({accepted:.0} of {deliveries} accepted)"),
        per_second(number(&result, "acceptedPerSecond")?),
        "—",
        None,
    ));
    section.rows.push(Row::report(
        format!("events received by {CLIENTS} clients (expected {expected:.0})"),
        format!("{received:.0} ({missing:.0} missing)"),
        "—",
        None,
    ));
    section.rows.push(Row::report(
        "wall time, first post to last event received",
        ms(number(&result, "deliveredMs")?),
        "—",
        None,
    ));
    section.rows.push(Row::report(
        "delivered events/s",
        per_second(number(&result, "eventsPerSecond")?),
        "—",
        None,
    ));
    section.notes.push(format!(
        "Connecting the {CLIENTS} clients took {}; events per client: min {}, max {}. Delivery statuses: {}.",
        ms(number(&result, "connectMs")?),
        result["minPerClient"],
        result["maxPerClient"],
        result["statuses"]
    ));
    if result["timedOut"].as_bool() == Some(true) {
        section.notes.push(format!(
            "The script stopped waiting {} s after the last post; {missing:.0} events never arrived.",
            TIMEOUT_MS / 1000
        ));
    }
    section.raw = result;
    Ok(section)
}

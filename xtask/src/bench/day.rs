//! Section 11, quota over a day: a busy workspace, ten live dashboards and
//! random page views, run as one trace (`tests/bench/day.mjs`) against each
//! configuration in turn: ours (the BFF as users get it), ours with
//! `--monthly-budget 10%`, ours with patching and revalidation off (the
//! behaviour before them: `--cache-ttl 2s --cache-stale 0s --cache-events
//! drop --refresh-budget off`), and nginx with `proxy_cache` valid 2 s. Upstream calls are counted
//! by each configuration's own sandbox, by operation.

use anyhow::Result;
use serde_json::{json, Value};

use super::day_servers::{self, Front, STARTER_KEY};
use super::node::run_script;
use super::report::{ms, ratio, Row, Section};
use super::Bench;
use crate::tools;

/// Dashboards open through the trace, and how many show one chatbot's responses.
const DASHBOARDS: usize = 10;
const WATCHERS: usize = 3;
/// Mean time between two page views (exponential), ms.
const VIEW_MEAN_MS: u64 = 3_000;
/// The demo dashboard's table page size (www/index.html).
const PAGE_SIZE: usize = 10;
/// Starter's month, and the target share of it.
const STARTER_MONTH: f64 = 10_000.0;
const HOURS_PER_MONTH: f64 = 24.0 * 30.0;

/// Ours first; the peers of the table next (nginx, then the behaviour before
/// patching and revalidation); ours with a budget last (in the notes).
const CONFIGS: [(&str, &str, Front); 4] = [
    ("ours", "ours", Front::Bff(&[])),
    ("nginx", "nginx proxy_cache 2 s", Front::Nginx("2s")),
    (
        "off",
        "ours with patching and revalidation off",
        Front::Bff(&[
            "--cache-ttl",
            "2s",
            "--cache-stale",
            "0s",
            "--cache-events",
            "drop",
            "--refresh-budget",
            "off",
        ]),
    ),
    (
        "budget",
        "ours with --monthly-budget 10%",
        Front::Bff(&["--monthly-budget", "10%"]),
    ),
];

/// Measures section 11.
pub fn measure(bench: &Bench) -> Result<Section> {
    let trace = bench.settings.day_trace;
    let mut section = Section::new(
        "day",
        "11. Quota over a day",
        format!(
            "One trace of {} s per configuration, one after the other: the sandbox as a busy Starter workspace (a \
             `response.created` every second on a chatbot of the dashboard's first page, one in ten on the chatbot three \
             dashboards watch, a `response.updated` every 6 s, a conversation event every 4 s, all delivered as signed \
             webhooks), {DASHBOARDS} dashboards (the demo page, `www/`, real widgets) open in headless Chromium, {WATCHERS} \
             of them showing that chatbot's responses, and page views arriving at random (exponential, one per {} s on \
             average; each a fresh browser context loading the dashboard). Every browser context asks for reduced motion \
             (the widgets' steady highlight instead of a fading one: without a GPU, ten pages animating a tint \
             through every event cost the machine more than everything measured). The same seeded schedule for every \
             configuration; rate limits lifted, so demand is measured, not the key's ceiling. Upstream calls: what reached \
             each configuration's own sandbox during the trace (`GET /sandbox/stats`, by operation), after the \
             dashboards had loaded. Freshness: every count the table shows, recorded as it changes (a MutationObserver), \
             against the truth (the sandbox's counts before the trace plus the events the script made). Ours: the BFF \
             with its defaults (`--cache-ttl 1h`, `--cache-stale 24h`, patching on, `--refresh-budget 10%`); peers: ours \
             with patching and revalidation off (`--cache-ttl 2s --cache-stale 0s --cache-events drop --refresh-budget \
             off`, the behaviour before them), and \
             nginx with `proxy_cache` valid 2 s (`proxy_cache_lock on`; events through a BFF that only receives the \
             webhooks). Month: calls per hour × 720 against Starter's 10,000. Targets: 0 calls per event for the table \
             and usage; ≤ 1 call per event of the watched chatbot for all its responses views; ≤ 0.01 calls per \
             dashboard view; every event shown on every dashboard within 1 s at p99 (its count in the table; on the \
             watched chatbot, its row in every responses view too, recorded by a MutationObserver); the month ≤ 10% of \
             Starter.",
            trace.as_secs(),
            VIEW_MEAN_MS / 1_000
        ),
    );
    let package = bench.package()?;
    let (chromium, _driver) = tools::ensure_chromium()?;
    let www = bench.root.join("www");
    let mut results: Vec<(&str, &str, Value)> = Vec::new();
    for (key, label, front) in &CONFIGS {
        crate::process::say(&format!("    {label}"));
        let measured = day_servers::start(
            key,
            front,
            (bench.bff_bin()?, bench.sandbox_bin()?),
            (&www, &package.dir),
            &bench.work,
            &bench.logs,
        )
        .and_then(|running| {
            let config = json!({
                "chromium": chromium, "origin": running.origin, "sandboxOrigin": running.sandbox,
                "apiKey": STARTER_KEY, "durationMs": trace.as_millis() as u64, "dashboards": DASHBOARDS,
                "watchers": WATCHERS, "viewMeanMs": VIEW_MEAN_MS, "pageSize": PAGE_SIZE, "seed": 11,
            });
            run_script(bench.root, "day.mjs", &[], &config).map(|(value, _)| value)
        });
        match measured {
            Ok(value) => results.push((key, label, value)),
            Err(err) => {
                eprintln!("    {label}: not measured: {err:#}");
                results.push((key, label, json!({"notMeasured": format!("{err:#}")})));
            }
        }
    }
    let figures: Vec<(&str, Figures)> = results
        .iter()
        .map(|(_, label, value)| (*label, Figures::of(value)))
        .collect();
    rows(&mut section, &figures);
    notes(&mut section, &figures);
    section.raw = Value::Object(
        results
            .iter()
            .map(|(key, _, value)| ((*key).to_owned(), value.clone()))
            .collect(),
    );
    Ok(section)
}

/// What one configuration's trace came to.
#[derive(Default, Clone)]
struct Figures {
    measured: bool,
    hours: f64,
    calls: f64,
    table_usage: f64,
    responses: f64,
    events: f64,
    on_watched: f64,
    views: f64,
    behind_max: f64,
    behind_p99: f64,
    view_behind_max: f64,
    view_behind_p99: f64,
    visible_p50: f64,
    visible_p99: f64,
    missing: f64,
    responses_p50: f64,
    responses_shown: f64,
    rows_p50: f64,
    rows_p99: f64,
    rows_missing: f64,
}

impl Figures {
    fn of(value: &Value) -> Figures {
        let n = |path: &[&str]| -> f64 {
            path.iter()
                .fold(value, |v, k| &v[*k])
                .as_f64()
                .unwrap_or(0.0)
        };
        let op = |name: &str| n(&["byOperation", name]);
        Figures {
            measured: value.get("calls").is_some(),
            hours: n(&["durationMs"]) / 3_600_000.0,
            calls: n(&["calls"]),
            table_usage: op("listChatbots") + op("getChatbot") + op("getUsage"),
            responses: op("listResponses"),
            events: n(&["events", "created"]),
            on_watched: n(&["events", "onWatched"]),
            views: n(&["views"]),
            behind_max: n(&["behind", "max"]),
            behind_p99: n(&["behind", "p99"]),
            view_behind_max: n(&["viewBehind", "max"]),
            view_behind_p99: n(&["viewBehind", "p99"]),
            visible_p50: n(&["visibleMs", "p50"]),
            visible_p99: n(&["visibleMs", "p99"]),
            missing: n(&["visibleMs", "missing"]),
            responses_p50: n(&["responsesMs", "p50"]),
            responses_shown: n(&["responsesMs", "shown"]),
            rows_p50: n(&["responsesEveryMs", "p50"]),
            rows_p99: n(&["responsesEveryMs", "p99"]),
            rows_missing: n(&["responsesEveryMs", "missing"]),
        }
    }

    fn per(&self, numerator: f64, denominator: f64) -> f64 {
        if denominator > 0.0 {
            numerator / denominator
        } else {
            0.0
        }
    }

    fn month(&self, calls: f64) -> f64 {
        self.per(calls, self.hours) * HOURS_PER_MONTH
    }
}

/// A target: in words, and whether a figure meets it.
type Target = (&'static str, fn(f64) -> bool);

/// One line of the table: its figure for a configuration, as a number (for
/// the ratio and the target) and as text.
struct Measure {
    name: String,
    value: fn(&Figures) -> f64,
    text: fn(&Figures) -> String,
    target: Option<Target>,
}

fn share(calls: f64) -> String {
    format!("{calls:.0} ({:.1}%)", 100.0 * calls / STARTER_MONTH)
}

fn rows(section: &mut Section, figures: &[(&str, Figures)]) {
    let Some((_, ours)) = figures.first() else {
        return;
    };
    let measures = [
        Measure {
            name: format!(
                "table and usage: upstream calls per `response.created` ({:.0} events)",
                ours.events
            ),
            value: |f| f.per(f.table_usage, f.events),
            text: |f| format!("{:.3}", f.per(f.table_usage, f.events)),
            target: Some(("0", |x| x == 0.0)),
        },
        Measure {
            name: format!(
                "all {WATCHERS} responses views: upstream calls per event of their chatbot ({:.0} events)",
                ours.on_watched
            ),
            value: |f| f.per(f.responses, f.on_watched),
            text: |f| format!("{:.2}", f.per(f.responses, f.on_watched)),
            target: Some(("≤ 1", |x| x <= 1.0)),
        },
        Measure {
            name: format!(
                "upstream calls per dashboard view ({:.0} views), responses views aside",
                ours.views
            ),
            value: |f| f.per(f.calls - f.responses, f.views),
            text: |f| format!("{:.3}", f.per(f.calls - f.responses, f.views)),
            target: Some(("≤ 0.01", |x| x <= 0.01)),
        },
        Measure {
            name: "upstream calls per hour, all".into(),
            value: |f| f.per(f.calls, f.hours),
            text: |f| format!("{:.0}", f.per(f.calls, f.hours)),
            target: None,
        },
        Measure {
            name: "the month extrapolated, all calls (share of Starter's 10,000)".into(),
            value: |f| f.month(f.calls),
            text: |f| share(f.month(f.calls)),
            target: Some(("≤ 1,000 (10%)", |x| x <= STARTER_MONTH / 10.0)),
        },
        Measure {
            name: "the month extrapolated, the dashboards without their responses views".into(),
            value: |f| f.month(f.calls - f.responses),
            text: |f| share(f.month(f.calls - f.responses)),
            target: Some(("≤ 1,000 (10%)", |x| x <= STARTER_MONTH / 10.0)),
        },
        Measure {
            name: "an event's new count shown on every open dashboard, after the event: p50".into(),
            value: |f| f.visible_p50,
            text: |f| ms(f.visible_p50),
            target: None,
        },
        Measure {
            name: "an event's new count shown on every open dashboard, after the event: p99".into(),
            value: |f| f.visible_p99,
            text: |f| ms(f.visible_p99),
            target: Some(("≤ 1 s", |x| x <= 1_000.0)),
        },
        Measure {
            name: format!(
                "a new response's row shown in all {WATCHERS} responses views, after the event: p50"
            ),
            value: |f| f.rows_p50,
            text: |f| ms(f.rows_p50),
            target: None,
        },
        Measure {
            name: format!(
                "a new response's row shown in all {WATCHERS} responses views, after the event: p99 (events never shown in all)"
            ),
            value: |f| f.rows_p99,
            text: |f| format!("{} ({:.0})", ms(f.rows_p99), f.rows_missing),
            target: Some(("≤ 1 s", |x| x <= 1_000.0)),
        },
        Measure {
            name: "open dashboards: counts behind the truth, max / p99 (every count, every 100 ms)".into(),
            value: |f| f.behind_max,
            text: |f| format!("{:.0} / {:.0}", f.behind_max, f.behind_p99),
            target: None,
        },
        Measure {
            name: "page views: counts behind the truth at first render, max / p99".into(),
            value: |f| f.view_behind_max,
            text: |f| format!("{:.0} / {:.0}", f.view_behind_max, f.view_behind_p99),
            target: None,
        },
    ];
    let shown = |f: &Figures, text: fn(&Figures) -> String| {
        if f.measured {
            text(f)
        } else {
            "not measured".to_owned()
        }
    };
    for measure in measures {
        for (i, (peer_label, peer)) in figures.iter().skip(1).take(2).enumerate() {
            let (o, p) = ((measure.value)(ours), (measure.value)(peer));
            let mut row = Row::report(
                format!("{} — peer: {peer_label}", measure.name),
                shown(ours, measure.text),
                shown(peer, measure.text),
                ratio(o, p),
            );
            if let (0, Some((text, met))) = (i, measure.target) {
                row = row.target(text, ours.measured && met(o));
            }
            section.rows.push(row);
        }
    }
}

fn notes(section: &mut Section, figures: &[(&str, Figures)]) {
    for (label, f) in figures {
        if !f.measured {
            section.notes.push(format!("{label}: not measured."));
            continue;
        }
        section.notes.push(format!(
            "{label}: {:.0} upstream calls in {:.0} s ({:.0} for the table and usage, {:.0} for the responses views, the rest \
             webhooks); {:.0} `response.created` ({:.0} on the watched chatbot), {:.0} page views; page views behind the \
             truth at first render p99 {:.0}; (event, dashboard) pairs never shown {:.0}; the watched chatbot's new \
             responses shown in its views {:.0} times, p50 {} after the event.",
            f.calls,
            f.hours * 3_600.0,
            f.table_usage,
            f.responses,
            f.events,
            f.on_watched,
            f.views,
            f.view_behind_p99,
            f.missing,
            f.responses_shown,
            ms(f.responses_p50),
        ));
    }
    section.notes.push(
        "What a trace of minutes cannot show: what ours spends on its own initiative (revalidating what it holds, \
         re-reading what an event made stale: a watched chatbot's responses) is paced by `--refresh-budget` (10% of \
         the plan by default): each held answer at most every max(`--cache-ttl`, held answers × month / budget), so \
         that refreshing all of them all month spends at most 1,000 of Starter's 10,000 calls by construction; reads it \
         does not hold are not limited by it. The responses views show a new response from its event (a row with its \
         time, visitor and session, its answers said to come with the next refresh), so an event costs them no read; \
         their real rows come with the next read the server answers from a refreshed copy. With `--monthly-budget 10%` \
         the month is also capped (once spent, nothing more is called)."
            .to_owned(),
    );
}

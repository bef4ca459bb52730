//! `cargo xtask bench`: every benchmark of the project in one run on one
//! machine, each quoted as a ratio against a peer measured in the same run,
//! written to `BENCHMARKS.md` and `target/bench/results.json`.
//!
//! Benchmarks report; they never fail the test suite. A section whose
//! prerequisite is missing says "not measured: why" instead of stopping the run.
//!
//! # Layout
//! - `servers`: starting the sandbox, the BFF and nginx, and ending them.
//! - `package`: finding the npm package's entry points in `pkg/package.json`.
//! - `node`, `stats`: running a Node bench script; medians and percentiles.
//! - one file per section: `sizes`, `startup`, `client_overhead`,
//!   `pagination`, `http_load` (with `wrk` and `nginx`), `quota`, `memory`,
//!   `sse_fanout`, `redis_limiter`, `cli_export`, `day` (with its servers in
//!   `day_servers`), `hostile` (the attacks of issue 12 and 10,000 event
//!   streams, by `conferbot-attack`), `allocators`, `fairness`.
//! - `report`: the tables, the machine, and the files written; `splice`:
//!   with `--only`, the sections re-measured put into the file already there.

mod allocators;
mod cli_export;
mod client_overhead;
mod day;
mod day_servers;
mod fairness;
mod hostile;
mod http_load;
mod memory;
mod nginx;
mod node;
mod package;
mod pagination;
mod quota;
mod redis_limiter;
mod report;
mod servers;
mod sizes;
mod splice;
mod sse_fanout;
mod startup;
mod stats;
mod wrk;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::process::{run as run_step, say};
use crate::tools;
use package::Package;
use report::Section;
use servers::Server;

/// Chatbots the shared sandbox holds: section 4 iterates all of them.
const SANDBOX_CHATBOTS: usize = 10_000;

/// How many samples, and how long, for a full or a `--quick` run.
pub struct Settings {
    /// Fresh Node processes per client for the Node start-up.
    pub node_startup_samples: usize,
    /// Fresh browser contexts per client for the browser start-up.
    pub browser_samples: usize,
    /// Alternating rounds of the per-call benchmark.
    pub overhead_rounds: usize,
    /// Calls per client per round over the network.
    pub calls_per_round: usize,
    /// Calls per client per round of the no-network decode benchmark.
    pub decode_calls_per_round: usize,
    /// Runs per client of the 10,000-chatbot iteration.
    pub pagination_runs: usize,
    /// Length of one `wrk` run.
    pub wrk_duration: Duration,
    /// Alternating `wrk` rounds per configuration (the median is reported).
    pub wrk_rounds: usize,
    /// Simulated dashboard loads for the quota section.
    pub quota_loads: usize,
    /// Signed webhook deliveries fanned out to 1,000 SSE clients.
    pub sse_deliveries: usize,
    /// Chatbots of the CLI export's workspace: 1 + 2 + 118 = 121 calls (two
    /// minutes at 60/60s), or 1 + 1 + 59 = 61 (one minute) for `--quick`.
    pub cli_chatbots: usize,
    /// Length of the "quota over a day" trace, per configuration (four).
    pub day_trace: Duration,
}

impl Settings {
    fn new(quick: bool) -> Settings {
        if quick {
            Settings {
                node_startup_samples: 5,
                browser_samples: 3,
                overhead_rounds: 4,
                calls_per_round: 100,
                decode_calls_per_round: 500,
                pagination_runs: 1,
                wrk_duration: Duration::from_secs(3),
                wrk_rounds: 1,
                quota_loads: 500,
                sse_deliveries: 50,
                cli_chatbots: 59,
                day_trace: Duration::from_secs(30),
            }
        } else {
            Settings {
                node_startup_samples: 15,
                browser_samples: 10,
                overhead_rounds: 10,
                calls_per_round: 300,
                decode_calls_per_round: 2_000,
                pagination_runs: 3,
                wrk_duration: Duration::from_secs(10),
                wrk_rounds: 3,
                quota_loads: 500,
                sse_deliveries: 200,
                cli_chatbots: 118,
                day_trace: Duration::from_secs(120),
            }
        }
    }
}

/// What every section may use: paths, settings, the package, the release
/// binaries and the shared sandbox (each an error message if unavailable).
pub struct Bench<'a> {
    /// The workspace root.
    pub root: &'a Path,
    /// Sample counts and durations.
    pub settings: Settings,
    /// `target/bench`: generated files, logs, bundles.
    pub work: PathBuf,
    /// `target/bench/logs`: each child's stderr.
    pub logs: PathBuf,
    package: Result<Package, String>,
    binaries: Result<(PathBuf, PathBuf), String>,
    sandbox: Result<Server, String>,
}

impl Bench<'_> {
    /// The built npm package.
    pub fn package(&self) -> Result<&Package> {
        self.package
            .as_ref()
            .map_err(|why| anyhow::anyhow!("the package is not built: {why}"))
    }

    /// The release `conferbot-bff` binary.
    pub fn bff_bin(&self) -> Result<&Path> {
        self.binaries
            .as_ref()
            .map(|(bff, _)| bff.as_path())
            .map_err(|why| anyhow::anyhow!("no release binaries: {why}"))
    }

    /// The release `conferbot-sandbox` binary.
    pub fn sandbox_bin(&self) -> Result<&Path> {
        self.binaries
            .as_ref()
            .map(|(_, sandbox)| sandbox.as_path())
            .map_err(|why| anyhow::anyhow!("no release binaries: {why}"))
    }

    /// The shared sandbox: 10,000 chatbots, no effective rate limit.
    pub fn sandbox(&self) -> Result<&Server> {
        self.sandbox
            .as_ref()
            .map_err(|why| anyhow::anyhow!("no sandbox: {why}"))
    }

    /// The sandbox's API base for direct calls (with the Enterprise key).
    pub fn sandbox_api(&self) -> Result<String> {
        Ok(format!("{}/api/v1", self.sandbox()?.origin()))
    }
}

/// One section: its key for `--only`, its title, and how it is measured.
type Measure = fn(&Bench) -> Result<Section>;

// Section 15 ("Server half in Node") comes from another branch; fairness
// is 16 so that neither renumbers the other.
const SECTIONS: [(&str, &str, Measure); 15] = [
    ("sizes", "1. Package weight", sizes::measure),
    ("startup", "2. Start-up", startup::measure),
    (
        "overhead",
        "3. Client overhead per call",
        client_overhead::measure,
    ),
    ("pagination", "4. Auto-pagination", pagination::measure),
    ("http", "5. BFF throughput and latency", http_load::measure),
    ("quota", "6. Quota saved", quota::measure),
    ("memory", "7. BFF memory", memory::measure),
    ("sse", "8. SSE fan-out", sse_fanout::measure),
    (
        "redis",
        "9. Redis-backed limiter cost",
        redis_limiter::measure,
    ),
    ("cli", "10. CLI export", cli_export::measure),
    ("day", "11. Quota over a day", day::measure),
    ("hostile", "12. Hostile clients", hostile::measure_attacks),
    (
        "sse10k",
        "13. SSE at 10,000 streams",
        hostile::measure_streams,
    ),
    ("allocators", "14. Allocators", allocators::measure),
    ("fairness", "16. Fairness", fairness::measure),
];

const USAGE: &str = "usage: cargo xtask bench [--quick] [--no-build] [--only KEY,KEY…]
  --quick      fewer samples and 3 s load runs (under 2 minutes once built)
  --no-build   use pkg/ and target/release as they are
  --only       sections: sizes, startup, overhead, pagination, http, quota, memory,
               sse, redis, cli, day, hostile, sse10k, allocators, fairness";

/// Runs the benchmarks and writes `BENCHMARKS.md` and `target/bench/results.json`.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let mut quick = false;
    let mut build = true;
    let mut only: Option<Vec<String>> = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--no-build" => build = false,
            "--only" => {
                let list = rest.next().context("--only needs a list of sections")?;
                only = Some(list.split(',').map(str::to_owned).collect());
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown bench option {other:?}\n{USAGE}"),
        }
    }
    if let Some(keys) = &only {
        if let Some(unknown) = keys
            .iter()
            .find(|k| !SECTIONS.iter().any(|(key, _, _)| key == k))
        {
            bail!("unknown section {unknown:?}\n{USAGE}");
        }
    }
    let started = Instant::now();
    let work = root.join("target").join("bench");
    let logs = work.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    tools::ensure_npm_deps(root)?;

    let package = prepare_package(root, build)
        .and_then(|()| Package::find(root))
        .map_err(|e| format!("{e:#}"));
    let binaries = prepare_binaries(root, build).map_err(|e| format!("{e:#}"));
    let sandbox = match &binaries {
        Ok((_, sandbox_bin)) => {
            say(&format!(
                "bench: starting the sandbox with {SANDBOX_CHATBOTS} chatbots"
            ));
            servers::start_sandbox(sandbox_bin, SANDBOX_CHATBOTS, &logs)
                .map_err(|e| format!("{e:#}"))
        }
        Err(why) => Err(why.clone()),
    };
    let bench = Bench {
        root,
        settings: Settings::new(quick),
        work,
        logs,
        package,
        binaries,
        sandbox,
    };

    let mut sections = Vec::new();
    for (key, title, measure) in SECTIONS {
        if only
            .as_ref()
            .is_some_and(|keys| !keys.iter().any(|k| k == key))
        {
            continue;
        }
        say(&format!("bench: {title}"));
        let section = measure(&bench).unwrap_or_else(|err| {
            eprintln!("    not measured: {err:#}");
            let mut failed = Section::new(key, title, "");
            failed.not_measured = Some(format!("{err:#}"));
            failed
        });
        sections.push(section);
    }
    drop(bench);

    let command = std::iter::once("cargo xtask bench".to_owned())
        .chain(args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let machine = report::machine();
    let before = std::fs::read_to_string(root.join("BENCHMARKS.md")).ok();
    report::write(root, &command, &machine, &sections)?;
    if let (Some(_), Some(old)) = (&only, before) {
        // Keep the other sections of the run that wrote the file.
        let titles: Vec<&str> = sections.iter().map(|s| s.title).collect();
        let new = std::fs::read_to_string(root.join("BENCHMARKS.md"))?;
        let date = machine["date_utc"].as_str().unwrap_or("today");
        let spliced = splice::splice(&old, &new, &titles, &command, date);
        std::fs::write(root.join("BENCHMARKS.md"), spliced).context("writing BENCHMARKS.md")?;
    }
    say(&format!(
        "bench: wrote BENCHMARKS.md and target/bench/results.json in {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Builds `pkg/` with `cargo xtask dist` (unless `--no-build`).
fn prepare_package(root: &Path, build: bool) -> Result<()> {
    if build {
        say("bench: building the npm package (cargo xtask dist)");
        crate::dist::run(root, &[]).map(|_| ())?;
    }
    Ok(())
}

/// Builds the release BFF and sandbox; returns their paths.
fn prepare_binaries(root: &Path, build: bool) -> Result<(PathBuf, PathBuf)> {
    if build {
        say("bench: building the BFF and the sandbox (release)");
        run_step(
            tools::cargo()
                .args([
                    "build",
                    "--release",
                    "-p",
                    "conferbot-bff",
                    "-p",
                    "conferbot-sandbox",
                ])
                .current_dir(root),
        )?;
    }
    let release = root.join("target").join("release");
    let (bff, sandbox) = (
        release.join("conferbot-bff"),
        release.join("conferbot-sandbox"),
    );
    for bin in [&bff, &sandbox] {
        if !bin.exists() {
            bail!("{} is missing", bin.display());
        }
    }
    Ok((bff, sandbox))
}

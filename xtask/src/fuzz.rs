//! `cargo xtask fuzz`: every cargo-fuzz target of `fuzz/`, built once, run
//! from its committed seeds, with a table of executions and crashes.
//!
//! - cargo-fuzz is installed from crates.io at [`CARGO_FUZZ_VERSION`] into
//!   `~/.cache/conferbot-wasm/tools/cargo-fuzz-VERSION` when missing;
//! - libFuzzer's instrumentation needs nightly flags (`-Zsanitizer=address`):
//!   an installed nightly toolchain is used when there is one, else the
//!   stable toolchain with `RUSTC_BOOTSTRAP=1` (a fresh machine has only
//!   stable);
//! - each target runs for its share of seconds from `fuzz/corpus/<target>/`
//!   (read only: what a run finds goes to `fuzz/target/corpus/<target>/`,
//!   emptied first, so runs are comparable and the work tree stays clean);
//! - a crash leaves its input in `fuzz/artifacts/<target>/`; the command
//!   fails after every target ran, naming each input.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::process::{self, output, say};
use crate::tools::{self, cargo};

/// The cargo-fuzz release installed (`cargo install --locked`).
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// What `cargo xtask fuzz` was asked for.
struct Options {
    /// Seconds per target.
    seconds: u64,
    /// The targets to run.
    targets: Vec<String>,
    /// The toolchain, when not chosen automatically.
    toolchain: Option<String>,
}

/// One target's run, as libFuzzer reported it.
struct Outcome {
    target: String,
    seconds: u64,
    executions: Option<u64>,
    corpus: Option<u64>,
    crash: Option<PathBuf>,
}

/// `cargo xtask fuzz [--seconds N | --total-seconds N] [--target NAME]... [--toolchain NAME]`.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let mut seconds = None;
    let mut total = None;
    let mut only = Vec::new();
    let mut toolchain = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .with_context(|| format!("{name} takes a value"))
        };
        match arg.as_str() {
            "--seconds" => seconds = Some(parse_seconds(&value("--seconds")?)?),
            "--total-seconds" => total = Some(parse_seconds(&value("--total-seconds")?)?),
            "--target" => only.push(value("--target")?),
            "--toolchain" => toolchain = Some(value("--toolchain")?),
            other => bail!("`cargo xtask fuzz` does not take {other:?} (see `cargo xtask help`)"),
        }
    }
    let targets = select_targets(root, &only)?;
    let seconds = match (seconds, total) {
        (Some(_), Some(_)) => bail!("give --seconds (per target) or --total-seconds, not both"),
        (Some(s), None) => s,
        (None, Some(t)) => (t / targets.len() as u64).max(1),
        (None, None) => 60,
    };
    fuzz_all(
        root,
        &Options {
            seconds,
            targets,
            toolchain,
        },
    )
}

/// Runs every target for `total_seconds` split between them: what
/// `cargo xtask test` does.
pub fn run_split(root: &Path, total_seconds: u64) -> Result<()> {
    run(
        root,
        &["--total-seconds".to_owned(), total_seconds.to_string()],
    )
}

fn parse_seconds(raw: &str) -> Result<u64> {
    match raw.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => bail!("seconds must be a whole number above 0, got {raw:?}"),
    }
}

/// The targets: the files of `fuzz/fuzz_targets/`, or those asked for.
fn select_targets(root: &Path, only: &[String]) -> Result<Vec<String>> {
    let dir = root.join("fuzz").join("fuzz_targets");
    let mut all: Vec<String> = fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    all.sort();
    if let Some(unknown) = only.iter().find(|t| !all.contains(t)) {
        bail!("no fuzz target {unknown:?}; there are {}", all.join(", "));
    }
    Ok(if only.is_empty() { all } else { only.to_vec() })
}

fn fuzz_all(root: &Path, options: &Options) -> Result<()> {
    let cargo_fuzz = ensure_cargo_fuzz()?;
    let toolchain = Toolchain::choose(options.toolchain.as_deref());
    say(&format!(
        "building {} fuzz targets with {} (cargo fuzz build)",
        options.targets.len(),
        toolchain.describe()
    ));
    let started = Instant::now();
    let mut build = toolchain.command(&cargo_fuzz);
    build
        .args(["build", "--fuzz-dir", "fuzz"])
        .current_dir(root);
    // `cargo fuzz build` builds one target, or all of them.
    if let [only] = options.targets.as_slice() {
        build.arg(only);
    }
    process::run(&mut build)?;
    let built_in = started.elapsed().as_secs();

    let mut outcomes = Vec::new();
    for target in &options.targets {
        say(&format!(
            "fuzzing {target} for {} s (seeds: fuzz/corpus/{target}/)",
            options.seconds
        ));
        outcomes.push(run_target(
            root,
            &toolchain,
            &cargo_fuzz,
            target,
            options.seconds,
        )?);
    }
    print!(
        "{}",
        table(&outcomes, built_in, started.elapsed().as_secs())
    );
    let crashed: Vec<&Outcome> = outcomes.iter().filter(|o| o.crash.is_some()).collect();
    if !crashed.is_empty() {
        let mut message = String::from("fuzzing found crashes; reproduce each with\n");
        for outcome in crashed {
            let input = outcome.crash.as_deref().unwrap_or(Path::new("?"));
            let _ = writeln!(
                message,
                "  {} {} run --fuzz-dir fuzz {} {}",
                toolchain.env_prefix(),
                cargo_fuzz.display(),
                outcome.target,
                input.display()
            );
        }
        message.push_str("then fix the library and add the input as a regression test");
        bail!(message);
    }
    Ok(())
}

/// Runs one target for `seconds`; its log goes to `fuzz/target/logs/<target>.log`.
fn run_target(
    root: &Path,
    toolchain: &Toolchain,
    cargo_fuzz: &Path,
    target: &str,
    seconds: u64,
) -> Result<Outcome> {
    let fuzz = root.join("fuzz");
    let grown = fuzz.join("target").join("corpus").join(target);
    if grown.exists() {
        fs::remove_dir_all(&grown).with_context(|| format!("emptying {}", grown.display()))?;
    }
    fs::create_dir_all(&grown)?;
    let logs = fuzz.join("target").join("logs");
    fs::create_dir_all(&logs)?;
    let log_path = logs.join(format!("{target}.log"));
    let log = fs::File::create(&log_path)?;
    let mut cmd = toolchain.command(cargo_fuzz);
    cmd.args(["run", "--fuzz-dir", "fuzz", target])
        .arg(&grown)
        .arg(fuzz.join("corpus").join(target))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        // A hang is a crash too; memory as libFuzzer's default.
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg("-print_final_stats=1")
        .current_dir(root)
        .stdout(log.try_clone()?)
        .stderr(log);
    let status = cmd
        .status()
        .with_context(|| format!("could not start {}", cargo_fuzz.display()))?;
    let text = fs::read_to_string(&log_path).unwrap_or_default();
    let crash = text
        .lines()
        .find_map(|line| line.split("Test unit written to ").nth(1))
        .map(|path| PathBuf::from(path.trim()));
    if !status.success() && crash.is_none() {
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "fuzz target {target} failed without a crash input ({status}):\n{}",
            tail.join("\n")
        );
    }
    if let Some(input) = &crash {
        let panic = text
            .lines()
            .find(|l| l.contains("panicked at"))
            .unwrap_or_default();
        eprintln!(
            "    {target}: CRASH {panic}\n    input: {}\n    log: {}",
            input.display(),
            log_path.display()
        );
    }
    Ok(Outcome {
        target: target.to_owned(),
        seconds,
        executions: stat(&text, "stat::number_of_executed_units:"),
        corpus: corpus_size(&text),
        crash,
    })
}

/// A `stat::` line of `-print_final_stats=1`.
fn stat(log: &str, name: &str) -> Option<u64> {
    log.lines()
        .rev()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|v| v.trim().parse().ok())
}

/// The corpus size of libFuzzer's last status line (`corp: 87/12Kb`).
fn corpus_size(log: &str) -> Option<u64> {
    log.lines().rev().find_map(|line| {
        let after = line.split(" corp: ").nth(1)?;
        after.split('/').next()?.parse().ok()
    })
}

fn table(outcomes: &[Outcome], built_in: u64, total: u64) -> String {
    let mut out =
        String::from("\ntarget             seconds  executions    exec/s  corpus  crashes\n");
    let show = |n: Option<u64>| n.map_or("?".to_owned(), |n| n.to_string());
    for o in outcomes {
        let rate = o.executions.map(|e| e / o.seconds.max(1));
        let _ = writeln!(
            out,
            "{:<18} {:>7}  {:>10}  {:>8}  {:>6}  {:>7}",
            o.target,
            o.seconds,
            show(o.executions),
            show(rate),
            show(o.corpus),
            u8::from(o.crash.is_some())
        );
    }
    let _ = writeln!(
        out,
        "build {built_in} s, build and runs {total} s in all (crashes: a target stops at its first)"
    );
    out
}

/// Which toolchain builds the targets, and how.
enum Toolchain {
    /// An installed nightly (or one named with `--toolchain`).
    Named(String),
    /// The default toolchain, nightly features allowed by `RUSTC_BOOTSTRAP=1`.
    Bootstrapped,
}

impl Toolchain {
    fn choose(asked: Option<&str>) -> Self {
        match asked {
            Some("stable") => Self::Bootstrapped,
            Some(name) => Self::Named(name.to_owned()),
            None => {
                let list =
                    output(Command::new("rustup").args(["toolchain", "list"])).unwrap_or_default();
                if list.lines().any(|l| l.starts_with("nightly")) {
                    Self::Named("nightly".to_owned())
                } else {
                    Self::Bootstrapped
                }
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Named(name) => format!("the {name} toolchain"),
            Self::Bootstrapped => {
                "the default (stable) toolchain and RUSTC_BOOTSTRAP=1 (no nightly installed)"
                    .to_owned()
            }
        }
    }

    fn env_prefix(&self) -> String {
        match self {
            Self::Named(name) => format!("RUSTUP_TOOLCHAIN={name}"),
            Self::Bootstrapped => "RUSTC_BOOTSTRAP=1".to_owned(),
        }
    }

    /// `cargo-fuzz`, run so that the `cargo` it starts is this toolchain's.
    fn command(&self, cargo_fuzz: &Path) -> Command {
        let mut cmd = Command::new(cargo_fuzz);
        // `cargo xtask` runs under a particular cargo; cargo-fuzz starts
        // `cargo` from PATH (rustup's proxy), which these select.
        cmd.env_remove("CARGO")
            .env_remove("RUSTC")
            .env_remove("RUSTUP_TOOLCHAIN");
        match self {
            Self::Named(name) => {
                cmd.env("RUSTUP_TOOLCHAIN", name);
            }
            Self::Bootstrapped => {
                cmd.env("RUSTC_BOOTSTRAP", "1");
            }
        }
        cmd.stdin(Stdio::null());
        cmd
    }
}

/// The `cargo-fuzz` binary at [`CARGO_FUZZ_VERSION`], installed first if
/// needed.
fn ensure_cargo_fuzz() -> Result<PathBuf> {
    let install_root = tools::tools_home().join(format!("cargo-fuzz-{CARGO_FUZZ_VERSION}"));
    let bin = install_root.join("bin").join("cargo-fuzz");
    let reported = output(Command::new(&bin).arg("--version")).unwrap_or_default();
    if reported.split_whitespace().nth(1) == Some(CARGO_FUZZ_VERSION) {
        return Ok(bin);
    }
    say(&format!(
        "installing cargo-fuzz {CARGO_FUZZ_VERSION} from crates.io (cargo install --locked, about a minute, once) into {}",
        install_root.display()
    ));
    process::run(
        cargo()
            .args(["install", "--locked", "--force", "cargo-fuzz", "--version"])
            .arg(format!("={CARGO_FUZZ_VERSION}"))
            .arg("--root")
            .arg(&install_root),
    )?;
    Ok(bin)
}

//! The results: one table per section in `BENCHMARKS.md`, and the same rows
//! plus each section's raw figures in `target/bench/results.json`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use crate::process::output;

/// One benchmark section: a title, what the peer is, and its rows, or why
/// it could not be measured.
pub struct Section {
    /// Short key, as `--only` names it (`sizes`).
    pub key: &'static str,
    /// Heading (`1. Package weight`).
    pub title: &'static str,
    /// What is measured, and against which peer.
    pub intro: String,
    /// The table.
    pub rows: Vec<Row>,
    /// Remarks printed under the table.
    pub notes: Vec<String>,
    /// Why the section has no figures, if it has none.
    pub not_measured: Option<String>,
    /// Raw figures for results.json.
    pub raw: Value,
}

impl Section {
    /// An empty section, to be filled.
    pub fn new(key: &'static str, title: &'static str, intro: impl Into<String>) -> Self {
        Section {
            key,
            title,
            intro: intro.into(),
            rows: Vec::new(),
            notes: Vec::new(),
            not_measured: None,
            raw: Value::Null,
        }
    }
}

/// One line of a section's table. `ratio` is always ours / peer.
pub struct Row {
    /// What is measured.
    pub measure: String,
    /// Our figure, formatted.
    pub ours: String,
    /// The peer's figure, formatted.
    pub peer: String,
    /// Ours / peer, when both are numbers.
    pub ratio: Option<f64>,
    /// The target, in words (`≤ 1.2×`), or `—`.
    pub target: String,
    /// Whether the target is met; `None` when there is none.
    pub met: Option<bool>,
}

impl Row {
    /// A row with figures and no target.
    pub fn report(
        measure: impl Into<String>,
        ours: impl Into<String>,
        peer: impl Into<String>,
        ratio: Option<f64>,
    ) -> Row {
        Row {
            measure: measure.into(),
            ours: ours.into(),
            peer: peer.into(),
            ratio,
            target: "—".into(),
            met: None,
        }
    }

    /// The same row with a target and whether it is met.
    pub fn target(mut self, target: impl Into<String>, met: bool) -> Row {
        self.target = target.into();
        self.met = Some(met);
        self
    }
}

/// Ours / peer, when it means something: both finite, ours not negative,
/// the peer positive (a growth of −1.7 KiB makes no denominator).
pub fn ratio(ours: f64, peer: f64) -> Option<f64> {
    (peer > 0.0 && ours >= 0.0 && ours.is_finite() && peer.is_finite()).then(|| ours / peer)
}

/// Milliseconds, with precision that suits their size.
pub fn ms(value: f64) -> String {
    if value < 1.0 {
        format!("{value:.3} ms")
    } else if value < 100.0 {
        format!("{value:.2} ms")
    } else {
        format!("{value:.0} ms")
    }
}

/// Microseconds.
pub fn us(value: f64) -> String {
    format!("{value:.1} µs")
}

/// Bytes, as bytes and KiB.
pub fn bytes(value: u64) -> String {
    format!("{value} B ({:.1} KiB)", value as f64 / 1024.0)
}

/// KiB of memory, as MiB.
pub fn mib_from_kib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

/// A rate (`12,345/s`).
pub fn per_second(value: f64) -> String {
    format!("{}/s", thousands(value.round() as u64))
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The machine, as the report's header describes it.
pub fn machine() -> Value {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let first_line =
        |cmd: &mut Command| output(cmd).and_then(|o| o.lines().next().map(str::to_owned));
    json!({
        "nproc": first_line(&mut Command::new("nproc")),
        "cpu": cpu,
        "memory_gib": (mem_kib as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        "kernel": first_line(Command::new("uname").arg("-r")),
        "rustc": first_line(Command::new("rustc").arg("--version")),
        "node": first_line(Command::new("node").arg("--version")),
        "chromium": first_line(Command::new("/usr/bin/chromium").arg("--version")),
        "nginx": Command::new("nginx").arg("-v").output().ok().map(|o| String::from_utf8_lossy(&o.stderr).trim().to_owned()),
        "wrk": Command::new("wrk").arg("--version").output().ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(str::to_owned)),
        "date_utc": first_line(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M:%S UTC"])),
    })
}

/// Writes `BENCHMARKS.md` at the root and `target/bench/results.json`.
pub fn write(root: &Path, command: &str, machine: &Value, sections: &[Section]) -> Result<()> {
    let md = markdown(command, machine, sections);
    fs::write(root.join("BENCHMARKS.md"), md).context("writing BENCHMARKS.md")?;
    let dir = root.join("target").join("bench");
    fs::create_dir_all(&dir)?;
    let results = json!({
        "command": command,
        "machine": machine,
        "sections": sections.iter().map(section_json).collect::<Vec<_>>(),
    });
    fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(&results)?,
    )
    .context("writing target/bench/results.json")?;
    Ok(())
}

fn section_json(section: &Section) -> Value {
    json!({
        "key": section.key,
        "title": section.title,
        "not_measured": section.not_measured,
        "rows": section.rows.iter().map(|r| json!({
            "measure": r.measure, "ours": r.ours, "peer": r.peer,
            "ratio": r.ratio, "target": r.target, "met": r.met,
        })).collect::<Vec<_>>(),
        "notes": section.notes,
        "raw": section.raw,
    })
}

fn markdown(command: &str, machine: &Value, sections: &[Section]) -> String {
    let text = |key: &str| {
        machine[key]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| machine[key].to_string())
    };
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `{command}` on {}; every figure below comes from that one run on one machine. \
         Machines are shared and noisy, so each figure is quoted next to a peer measured in the same run, \
         and the ratio is always ours ÷ peer. Raw figures: `target/bench/results.json`. \
         Benchmarks report; they never fail the test suite.\n",
        text("date_utc")
    );
    let _ = writeln!(md, "## Machine\n\n| | |\n| --- | --- |");
    let _ = writeln!(
        md,
        "| CPU | {} |\n| cores (`nproc`) | {} |\n| memory | {} GiB |",
        text("cpu"),
        text("nproc"),
        text("memory_gib")
    );
    for (key, label) in [
        ("kernel", "kernel"),
        ("rustc", "rustc"),
        ("node", "Node"),
        ("chromium", "Chromium"),
        ("nginx", "nginx"),
        ("wrk", "wrk"),
    ] {
        let _ = writeln!(md, "| {label} | {} |", text(key));
    }
    let _ = writeln!(
        md,
        "\n## Targets\n\n| section | measure | ours | peer | ratio | target | met |\n| --- | --- | --- | --- | --- | --- | --- |"
    );
    for section in sections {
        if let Some(why) = &section.not_measured {
            let _ = writeln!(
                md,
                "| {} | — | — | — | — | — | not measured: {} |",
                section.title,
                one_line(why)
            );
        }
        for row in section.rows.iter().filter(|r| r.met.is_some()) {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                section.title,
                row.measure,
                row.ours,
                row.peer,
                row.ratio.map(format_ratio).unwrap_or_else(|| "—".into()),
                row.target,
                met(row.met)
            );
        }
    }
    for section in sections {
        let _ = writeln!(md, "\n## {}\n\n{}\n", section.title, section.intro);
        let _ = writeln!(md, "| measure | ours | peer | ratio | target | met |\n| --- | --- | --- | --- | --- | --- |");
        if let Some(why) = &section.not_measured {
            let _ = writeln!(
                md,
                "| not measured: {} | — | — | — | — | — |",
                one_line(why)
            );
        }
        for row in &section.rows {
            let ratio = row.ratio.map(format_ratio).unwrap_or_else(|| "—".into());
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                row.measure,
                row.ours,
                row.peer,
                ratio,
                row.target,
                met(row.met)
            );
        }
        if !section.notes.is_empty() {
            md.push('\n');
            for note in &section.notes {
                let _ = writeln!(md, "- {note}");
            }
        }
    }
    md
}

/// Two decimals, or three significant digits for small ratios (3 ÷ 1500 = 0.00200×).
fn format_ratio(r: f64) -> String {
    if r != 0.0 && r.abs() < 0.1 {
        let decimals = (2.0 - r.abs().log10().floor()) as usize;
        format!("{r:.decimals$}×")
    } else {
        format!("{r:.2}×")
    }
}

fn met(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "**missed**",
        None => "—",
    }
}

fn one_line(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

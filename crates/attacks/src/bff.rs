//! The BFF under test: the release binary, run as a user runs it (with its
//! embedded sandbox as the upstream), under a chosen descriptor limit.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

/// The environment variable naming the release binary (`cargo xtask test`
/// and `cargo xtask bench` set it after `cargo build --release`).
pub const BIN_ENV: &str = "CONFERBOT_BFF_RELEASE";

/// The release binary: `$CONFERBOT_BFF_RELEASE`.
pub fn binary() -> Result<PathBuf> {
    let path = std::env::var_os(BIN_ENV)
        .map(PathBuf::from)
        .ok_or_else(|| {
            anyhow!(
                "{BIN_ENV} is not set: these tests run against the release BFF; run them with \
             `cargo xtask test`, or `cargo build --release -p conferbot-bff` and \
             {BIN_ENV}=target/release/conferbot-bff"
            )
        })?;
    if !path.exists() {
        bail!("{BIN_ENV}={} does not exist", path.display());
    }
    Ok(path)
}

/// How to start the BFF.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// Flags after `--sandbox --listen 127.0.0.1:0`.
    pub args: Vec<String>,
    /// Soft and hard `RLIMIT_NOFILE` of the process (`None`: inherited).
    pub descriptors: Option<u64>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// A name for its log file.
    pub name: String,
}

impl Launch {
    /// The BFF with `args`, logged as `name`.
    pub fn new(name: &str, args: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            ..Self::default()
        }
    }

    /// With `RLIMIT_NOFILE` set to `limit` (soft and hard, so the BFF cannot
    /// raise it: the usual 1,024 of a process started by a shell).
    pub fn descriptors(mut self, limit: u64) -> Self {
        self.descriptors = Some(limit);
        self
    }
}

/// A running BFF; killed when dropped.
#[derive(Debug)]
pub struct Bff {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The embedded sandbox's origin (`http://127.0.0.1:PORT`).
    pub sandbox: String,
    log: PathBuf,
    exited: Option<ExitStatus>,
}

impl Bff {
    /// Starts the binary and waits for its "listening on" line.
    pub fn start(launch: &Launch) -> Result<Self> {
        let dir = std::env::temp_dir().join("conferbot-attacks");
        std::fs::create_dir_all(&dir)?;
        let log = dir.join(format!("{}-{}.log", launch.name, std::process::id()));
        let mut cmd = Command::new(binary()?);
        cmd.args([
            "--sandbox",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .args(&launch.args)
        .env_remove("CONFERBOT_API_KEY")
        .env("RUST_LOG", "info")
        .envs(launch.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::create(&log)?);
        if let Some(limit) = launch.descriptors {
            // SAFETY: setrlimit is async-signal-safe, and this closure
            // allocates nothing and touches no lock between fork and exec.
            unsafe {
                cmd.pre_exec(move || rlimit::setrlimit(rlimit::Resource::NOFILE, limit, limit));
            }
        }
        let mut child = cmd.spawn().context("starting the BFF")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut line = |what: &str| -> Result<String> {
            lines.next().transpose()?.ok_or_else(|| {
                anyhow!(
                    "the BFF exited before printing its {what} line; log: {}",
                    log.display()
                )
            })
        };
        let first = line("listening")?;
        let addr = first
            .strip_prefix("listening on http://")
            .ok_or_else(|| anyhow!("unexpected first line {first:?}"))?
            .trim()
            .parse()?;
        let second = line("sandbox")?;
        let sandbox = second
            .strip_prefix("sandbox on ")
            .ok_or_else(|| anyhow!("unexpected second line {second:?}"))?
            .trim()
            .to_owned();
        Ok(Self {
            child,
            addr,
            sandbox,
            log,
            exited: None,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory (`VmRSS` of `/proc/PID/status`), in KiB.
    pub fn rss_kib(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| anyhow!("no VmRSS in /proc/{}/status", self.pid()))
    }

    /// CPU time it used so far, user plus system (`/proc/PID/stat`), in seconds.
    pub fn cpu_seconds(&self) -> Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))?;
        // Fields after the command's closing parenthesis: utime is the 12th, stime the 13th.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |i: usize| -> Result<f64> {
            Ok(fields
                .get(i)
                .ok_or_else(|| anyhow!("short /proc/{}/stat", self.pid()))?
                .parse::<f64>()?)
        };
        // SAFETY: sysconf has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        Ok((ticks(11)? + ticks(12)?) / per_second.max(1.0))
    }

    /// Descriptors open now (`/proc/PID/fd`).
    pub fn open_descriptors(&self) -> Result<usize> {
        Ok(std::fs::read_dir(format!("/proc/{}/fd", self.pid()))?.count())
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) -> Result<()> {
        let pid = i32::try_from(self.pid())?;
        // SAFETY: kill(2) on our own child's pid, with a valid signal.
        if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
            bail!("kill -TERM {pid}: {}", std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits up to `limit` for the process to exit: its status and how long
    /// it took, or `None` if it is still running.
    pub async fn wait_exit(&mut self, limit: Duration) -> Result<Option<(ExitStatus, Duration)>> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait()? {
                self.exited = Some(status);
                return Ok(Some((status, started.elapsed())));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(None)
    }

    /// The embedded sandbox's address.
    pub fn sandbox_addr(&self) -> Result<SocketAddr> {
        Ok(self
            .sandbox
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("sandbox origin {:?}", self.sandbox))?
            .parse()?)
    }

    /// Arms a fault of the embedded sandbox (`POST /sandbox/faults`), e.g.
    /// `{"kind":"delay","count":1,"delayMs":1500}`.
    pub async fn sandbox_fault(&self, spec: &serde_json::Value) -> Result<()> {
        // The BFF registers itself as the sandbox's webhook receiver at start,
        // through the API: a fault armed before that would delay it, not us.
        self.wait_log(
            "embedded sandbox delivers webhooks",
            Duration::from_secs(10),
        )
        .await?;
        let body = spec.to_string();
        let request = format!(
            "POST /sandbox/faults HTTP/1.1\r\nHost: sandbox\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let answer = crate::sockets::exchange(
            crate::sockets::loopback(1),
            self.sandbox_addr()?,
            request.as_bytes(),
            Duration::from_secs(5),
        )
        .await?;
        if !answer.status.is_some_and(|s| (200..300).contains(&s)) {
            bail!("arming {body}: {}", answer.raw);
        }
        Ok(())
    }

    /// Waits until the log has `needle`.
    pub async fn wait_log(&self, needle: &str, limit: Duration) -> Result<()> {
        let started = Instant::now();
        while !self.log().contains(needle) {
            if started.elapsed() > limit {
                bail!("no {needle:?} in the log after {limit:?}:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    /// Everything it logged so far (JSON lines on stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Bff {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

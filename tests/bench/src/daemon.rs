//! The controller under test: its binary, built when asked, and the daemon process, killed when
//! dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ecs_topology_testkit::{Emulator, free_port, http};

use crate::memory::rss_and_peak;
use crate::run::Options;

/// The daemon under test; killed when dropped.
pub(crate) struct Daemon {
    pub(crate) child: Child,
    port: u16,
    /// Where the daemon's output goes.
    pub(crate) log: PathBuf,
}

impl Daemon {
    /// Starts `ecs-topology run` on `docs` with `config`, logging to `<work dir>/<name>.log`,
    /// with `env` on top of the emulator's environment and the options' `daemon_env`.
    pub(crate) fn start(
        emulator: &Emulator,
        options: &Options,
        name: &str,
        docs: &Path,
        config: &Path,
        env: &[(String, String)],
    ) -> anyhow::Result<Daemon> {
        let port = free_port();
        let log = options.work_dir.join(format!("{name}.log"));
        let child = emulator
            .command(&options.binary, "us-east-1")
            .args(["run", "--source"])
            .arg(docs)
            .arg("--config")
            .arg(config)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--grace", "5s"])
            .env("ECS_TOPOLOGY_LOG", "info")
            .envs(options.daemon_env.iter().map(|(k, v)| (k, v)))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .current_dir(&options.work_dir)
            .spawn()
            .map_err(|e| anyhow::anyhow!("{}: {e}", options.binary.display()))?;
        Ok(Daemon { child, port, log })
    }

    /// Waits until `documents` documents are Ready; fails when the daemon exits or `limit`
    /// passes first.
    pub(crate) async fn until_ready(
        &mut self,
        documents: usize,
        limit: Duration,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let ready = self.status_counts().map_or(0, |(_, ready)| ready);
            if ready >= documents {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the daemon exited ({status}); log {}", self.log.display());
            }
            anyhow::ensure!(
                started.elapsed() < limit,
                "not converged within {limit:?}: {ready} of {documents} Ready; log {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// From `/status`: documents with a status (reconciled at least once) and those whose
    /// `Ready` condition is true; `None` while the daemon does not answer.
    pub(crate) fn status_counts(&self) -> Option<(usize, usize)> {
        let (_, body) = http::get(self.port, "/status").ok()?;
        http::ready_counts(&body)
    }

    /// `VmRSS` and `VmHWM` of the daemon now, in KiB.
    pub(crate) fn rss_and_peak(&self) -> (u64, u64) {
        rss_and_peak(self.child.id())
    }

    /// User + system CPU seconds of the daemon so far.
    pub(crate) fn cpu_seconds(&self) -> f64 {
        let text =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which is in parentheses): utime is the 12th, stime
        // the 13th; clock ticks of 1/100 s.
        let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let tick = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        #[allow(clippy::cast_precision_loss)]
        let seconds = (tick(11) + tick(12)) as f64 / 100.0;
        seconds
    }

    pub(crate) fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The workspace's target directory (`CARGO_TARGET_DIR`, else `<workspace>/target`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| ecs_topology_testkit::workspace_root().join("target"))
}

/// The `ecs-topology` binary of `profile` (`release` or `debug`), built first with
/// `cargo build [--release] -p ecs-topology` when `build` (a no-op when it is fresh).
pub fn controller_binary(profile: &str, build: bool) -> anyhow::Result<PathBuf> {
    let binary = target_dir().join(profile).join("ecs-topology");
    if build {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(ecs_topology_testkit::workspace_root())
            .args(["build", "-p", "ecs-topology"]);
        if profile == "release" {
            command.arg("--release");
        }
        let status = command.status()?;
        anyhow::ensure!(status.success(), "cargo build -p ecs-topology: {status}");
    }
    anyhow::ensure!(
        binary.exists(),
        "{} does not exist (cargo build --release -p ecs-topology)",
        binary.display()
    );
    Ok(binary)
}

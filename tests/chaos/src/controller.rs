//! The controller under test: `apply --once` and `run` processes of the real binary, with the
//! credentials of the world's own account, killed with SIGKILL on demand (and when dropped).

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use aws_credential_types::provider::ProvideCredentials as _;
use ecs_topology_testkit::{Emulator, free_port, http};

use crate::world::World;

/// How to start the controller: binary, config, credentials, where logs go.
#[derive(Debug, Clone)]
pub struct Controller {
    pub binary: PathBuf,
    pub config: PathBuf,
    pub dir: PathBuf,
    /// The own account's credentials and anything else the processes get.
    env: Vec<(String, String)>,
    endpoint: String,
    started: usize,
}

impl Controller {
    /// Processes of `binary` on `world`'s config (`config`), as the world's own account.
    pub async fn new(
        emulator: &Emulator,
        world: &World,
        binary: &Path,
        config: PathBuf,
    ) -> anyhow::Result<Controller> {
        let sdk = emulator
            .sdk_config(&world.own, crate::world::REGIONS[0])
            .await;
        let provider = sdk
            .credentials_provider()
            .ok_or_else(|| anyhow::anyhow!("no credentials"))?;
        let credentials = provider.provide_credentials().await?;
        let mut env = vec![
            (
                "AWS_ACCESS_KEY_ID".to_owned(),
                credentials.access_key_id().to_owned(),
            ),
            (
                "AWS_SECRET_ACCESS_KEY".to_owned(),
                credentials.secret_access_key().to_owned(),
            ),
            ("ECS_TOPOLOGY_LOG".to_owned(), "info".to_owned()),
        ];
        if let Some(token) = credentials.session_token() {
            env.push(("AWS_SESSION_TOKEN".to_owned(), token.to_owned()));
        }
        Ok(Controller {
            binary: binary.to_owned(),
            config,
            dir: world.dir.clone(),
            env,
            endpoint: emulator.endpoint_url().to_owned(),
            started: 0,
        })
    }

    fn command(
        &mut self,
        emulator: &Emulator,
        args: &[&str],
        endpoint: Option<&str>,
    ) -> anyhow::Result<(std::process::Command, PathBuf)> {
        self.started += 1;
        let log = self
            .dir
            .join(format!("controller-{:04}-{}.log", self.started, args[0]));
        let mut command = emulator.command(&self.binary, crate::world::REGIONS[0]);
        command
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("AWS_ENDPOINT_URL", endpoint.unwrap_or(&self.endpoint))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(log.with_extension("err"))?)
            .current_dir(&self.dir);
        Ok((command, log))
    }

    /// Starts `apply --once --source <source>`.
    pub fn apply(&mut self, emulator: &Emulator, source: &str) -> anyhow::Result<Process> {
        let (mut command, log) =
            self.command(emulator, &["apply", "--once", "--source", source], None)?;
        Ok(Process {
            child: command.spawn()?,
            port: 0,
            log,
        })
    }

    /// Runs `apply --once` to its end, at most `limit`; its exit code (`None`: killed at the limit).
    pub async fn apply_to_end(
        &mut self,
        emulator: &Emulator,
        source: &str,
        limit: Duration,
    ) -> anyhow::Result<Option<i32>> {
        let mut process = self.apply(emulator, source)?;
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = process.child.try_wait()? {
                return Ok(status.code());
            }
            if Instant::now() > deadline {
                process.kill();
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Starts the daemon `run --source <source>`, talking to AWS at `endpoint` (a proxy) or the
    /// emulator.
    pub fn run(
        &mut self,
        emulator: &Emulator,
        source: &str,
        endpoint: Option<&str>,
    ) -> anyhow::Result<Process> {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let (mut command, log) = self.command(
            emulator,
            &[
                "run", "--source", source, "--listen", &listen, "--grace", "5s",
            ],
            endpoint,
        )?;
        Ok(Process {
            child: command.spawn()?,
            port,
            log,
        })
    }
}

/// A controller process; killed with SIGKILL when dropped.
#[derive(Debug)]
pub struct Process {
    pub child: Child,
    /// The daemon's port (0 for `apply`).
    pub port: u16,
    pub log: PathBuf,
}

impl Process {
    /// SIGKILL; whether it was still running.
    pub fn kill(&mut self) -> bool {
        let running = matches!(self.child.try_wait(), Ok(None));
        let _ = self.child.kill();
        let _ = self.child.wait();
        running
    }

    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// A metric's value (the first sample whose line starts with `prefix`).
    pub fn metric(&self, prefix: &str) -> Option<f64> {
        let (_, text) = http::get(self.port, "/metrics").ok()?;
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    pub fn leading(&self) -> bool {
        self.metric("ecs_topology_leader") == Some(1.0)
    }

    /// (documents, documents Ready) in `/status`.
    pub fn ready(&self) -> (usize, usize) {
        let Ok((200, body)) = http::get(self.port, "/status") else {
            return (0, 0);
        };
        http::ready_counts(&body).unwrap_or((0, 0))
    }

    pub fn log_text(&self) -> String {
        let mut text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.push_str(&std::fs::read_to_string(self.log.with_extension("err")).unwrap_or_default());
        text
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

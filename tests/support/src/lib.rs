//! Test support for ecs-topology: the project's AWS emulator, SDK configs and processes pointed
//! at it, and the helpers every test crate shares.
//!
//! [`emulator()`] starts one emulator (moto's standalone server, extended by
//! `tests/emulator/`) per test binary on first use and hands out the same [`Emulator`] to every
//! test of that binary. Tests isolate themselves from each other with fresh accounts
//! ([`Emulator::new_account`]) instead of resets, so they can run in parallel:
//!
//! ```no_run
//! # async fn example() {
//! let emulator = ecs_topology_testkit::emulator();
//! let account = emulator.new_account();
//! let config = emulator.sdk_config(&account, "ap-northeast-1").await;
//! let before = emulator.calls().await;
//! let sts = aws_sdk_sts::Client::new(&config);
//! # let _ = sts;
//! // ... exercise the code under test with `config` ...
//! let made = emulator.calls().await.since(&before);
//! assert!(made.total(&account) <= 3);
//! # }
//! ```
//!
//! The emulator also applies realism profiles (AWS's throttling rates, latency, injected faults)
//! per account, set with [`Emulator::set_profile`], and per-account settings of the emulator's
//! extensions, set with [`Emulator::set_settings`]. See
//! `tests/emulator/ecs_topology_emulator/realism.py` for the profile format.
//!
//! Setting `ECS_TOPOLOGY_EMULATOR_URL` (e.g. `http://127.0.0.1:4566`) makes the tests use an
//! emulator that is already running (`tests/emulator/serve --port 4566`) instead of starting one.
//!
//! The other helpers every test crate shares, so that none writes its own:
//! - [`Emulator::command`]: a process (the `ecs-topology` binary) pointed at the emulator;
//! - [`http`]: the one HTTP client of the tests, for the emulator's admin endpoints and the
//!   daemon's `/healthz`, `/readyz`, `/status` and `/metrics`;
//! - [`create_table`]: a DynamoDB table as the controller's tables are made;
//! - [`all_pages`]: every page of a List or Describe call, given a closure that reads one;
//!   [`sent_pages`] the same for an SDK call, given the call to send and how to read its page;
//! - [`network`]: a VPC with subnets and the security group interface endpoints need.

mod calls;
mod dynamodb;
pub mod events;
pub mod http;
pub mod network;
mod pages;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::SdkConfig;
use aws_types::region::Region;
use serde_json::{Value, json};

pub use calls::{CallRow, Calls, is_read};
pub use dynamodb::create_table;
pub use pages::{MAX_PAGES, Pages, all_pages, sent_pages};

/// The role every test session assumes in its account: `arn:aws:iam::<account>:role/<ROLE_NAME>`.
pub const ROLE_NAME: &str = "ecs-topology-test";

/// How long the first start may take: it may create the emulator's Python environment.
const START_TIMEOUT: Duration = Duration::from_secs(300);

/// The emulator of this test binary, started on first use.
///
/// Guarantees:
/// - One emulator per test binary, listening on a free loopback port; every call returns the
///   same [`Emulator`].
/// - The emulator does not outlive the test binary, also when tests panic or the binary is
///   killed: it is started with `--parent-pid` (it exits within a second of this process being
///   gone) and, where `setpriv` exists, with a parent-death signal as well.
/// - When `ECS_TOPOLOGY_EMULATOR_URL` is set, that emulator is used and nothing is started.
///
/// # Panics
/// When the emulator cannot be started or does not answer within five minutes (the first run
/// creates `tests/emulator/.venv`); the message carries the end of the emulator's log.
pub fn emulator() -> &'static Emulator {
    // A failed start is remembered, so that the other tests fail at once with the same reason
    // instead of each trying again.
    static EMULATOR: OnceLock<Result<Emulator, String>> = OnceLock::new();
    let started = EMULATOR.get_or_init(|| {
        std::panic::catch_unwind(|| match std::env::var("ECS_TOPOLOGY_EMULATOR_URL") {
            Ok(url) if !url.trim().is_empty() => Emulator::connect(url.trim()),
            _ => Emulator::start(),
        })
        .map_err(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "the emulator did not start".to_owned())
        })
    });
    match started {
        Ok(emulator) => emulator,
        Err(reason) => panic!("{reason}"),
    }
}

/// A running emulator: where it listens, fresh accounts, SDK configs and its call counts.
#[derive(Debug)]
pub struct Emulator {
    endpoint_url: String,
    addr: SocketAddr,
    pid: Option<u32>,
    log: Option<PathBuf>,
    next_account: AtomicU64,
    credentials: Mutex<HashMap<String, Credentials>>,
}

impl Emulator {
    fn with_endpoint(addr: SocketAddr, pid: Option<u32>, log: Option<PathBuf>) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        // 7xxxxx000000 + n: twelve digits, unlikely to meet the well-known example accounts or
        // the accounts of an earlier run against the same (external) emulator.
        let base = 700_000_000_000 + u64::from(nanos % 90_000) * 1_000_000;
        Self {
            endpoint_url: format!("http://{addr}"),
            addr,
            pid,
            log,
            next_account: AtomicU64::new(base),
            credentials: Mutex::new(HashMap::new()),
        }
    }

    /// A handle on an emulator that is already running at `endpoint_url`
    /// (`http://127.0.0.1:PORT`), e.g. one a test started itself with `tests/emulator/serve`.
    ///
    /// # Panics
    /// When nothing answers `GET /moto-api/` there.
    pub fn connect(endpoint_url: &str) -> Self {
        let url = endpoint_url;
        let hostport = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let addr: SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(&hostport)
            .ok()
            .and_then(|mut addrs| addrs.next())
            .unwrap_or_else(|| panic!("emulator endpoint {url}: not http://host:port"));
        match http::request(addr, "GET", "/moto-api/", None) {
            Ok((200, _)) => {}
            other => panic!("no emulator answers at {url}: {other:?}"),
        }
        Self::with_endpoint(addr, None, None)
    }

    fn start() -> Self {
        let serve = workspace_root().join("tests/emulator/serve");
        let deadline = Instant::now() + START_TIMEOUT;
        let mut failures = String::new();
        for _attempt in 0..3 {
            match start_once(&serve, deadline) {
                Ok(emulator) => return emulator,
                Err(StartError::PortTaken(log)) => {
                    let _ = writeln!(failures, "port taken ({})", log.display());
                }
                Err(StartError::Failed(message)) => panic!("{failures}{message}"),
            }
        }
        panic!("the emulator could not get a free port:\n{failures}")
    }

    /// The emulator's endpoint, e.g. `http://127.0.0.1:43121` (no trailing slash).
    pub fn endpoint_url(&self) -> &str {
        &self.endpoint_url
    }

    /// A command that runs `program` as a process talking to the emulator would run: a clean
    /// environment holding only `PATH`, `AWS_ENDPOINT_URL` (the emulator), `AWS_REGION`, static
    /// keys (the emulator serves them from its default account `123456789012`, where the
    /// controller's own calls land) and `AWS_EC2_METADATA_DISABLED`.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>, region: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_ENDPOINT_URL", &self.endpoint_url)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", region)
            .env("AWS_EC2_METADATA_DISABLED", "true");
        command
    }

    /// The emulator's process id, when this test binary started it.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// A fresh 12-digit account id, unique within this test binary.
    ///
    /// Accounts need no creation: the emulator keeps every account apart, so a test that works
    /// in its own accounts is isolated from every other test running in parallel.
    pub fn new_account(&self) -> String {
        let n = self.next_account.fetch_add(1, Ordering::Relaxed);
        format!("{n:012}")
    }

    /// An SDK config for `account` in `region`, pointed at the emulator.
    ///
    /// - `endpoint_url` is set on the config (the standard mechanism, as `AWS_ENDPOINT_URL`
    ///   does), so every service client built from it talks to the emulator. S3 clients also
    ///   need `force_path_style(true)` on their own config builder.
    /// - The credentials come from a real `sts:AssumeRole` of
    ///   `arn:aws:iam::<account>:role/ecs-topology-test` against the emulator, made with
    ///   static credentials of the emulator's default account `123456789012` (that call is
    ///   counted there, never in `account`; it is retried while throttled, as a `"*"` profile
    ///   governs that account too). The emulator maps the issued keys to `account`. They are
    ///   cached per account for this test binary.
    /// - SDK retries are disabled, so throttling, injected faults and operations the emulator
    ///   lacks surface at once.
    ///
    /// `POST /moto-api/reset` forgets the issued keys (calls made with them then land in
    ///  `123456789012`): tests that reset must use accounts created after the reset.
    ///
    /// # Panics
    /// When the AssumeRole call fails.
    pub async fn sdk_config(&self, account: &str, region: &str) -> SdkConfig {
        let cached = self
            .credentials
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(account)
            .cloned();
        let credentials = match cached {
            Some(credentials) => credentials,
            None => {
                let credentials = self.assume_role(account, region).await;
                self.credentials
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .entry(account.to_owned())
                    .or_insert(credentials)
                    .clone()
            }
        };
        self.config_with(SharedCredentialsProvider::new(credentials), region)
            .await
    }

    async fn config_with(&self, credentials: SharedCredentialsProvider, region: &str) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(self.endpoint_url.clone())
            .region(Region::new(region.to_owned()))
            .credentials_provider(credentials)
            .retry_config(RetryConfig::disabled())
            .load()
            .await
    }

    async fn assume_role(&self, account: &str, region: &str) -> Credentials {
        let base = Credentials::new(
            "ECSTOPOLOGYTESTBASE1",
            "ecs-topology-test-secret",
            None,
            None,
            "ecs-topology-testkit",
        );
        let config = self
            .config_with(SharedCredentialsProvider::new(base), region)
            .await;
        // A realism profile for "*" also governs the default account: ride out its throttling.
        let sts = aws_sdk_sts::config::Builder::from(&config)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(8)
                    .with_initial_backoff(Duration::from_millis(100))
                    .with_max_backoff(Duration::from_secs(2)),
            )
            .build();
        let role_arn = format!("arn:aws:iam::{account}:role/{ROLE_NAME}");
        let output = aws_sdk_sts::Client::from_conf(sts)
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("ecs-topology-test")
            .send()
            .await
            .unwrap_or_else(|e| panic!("sts:AssumeRole {role_arn} against the emulator: {e:?}"));
        let Some(issued) = output.credentials() else {
            panic!("sts:AssumeRole {role_arn}: no credentials in the reply");
        };
        let expiry = SystemTime::try_from(*issued.expiration()).ok();
        Credentials::new(
            issued.access_key_id(),
            issued.secret_access_key(),
            Some(issued.session_token().to_owned()),
            expiry,
            "ecs-topology-testkit-assume-role",
        )
    }

    /// Every call the emulator has served, per (account, region, service, operation).
    ///
    /// Admin calls (`/_emulator/...`, `/moto-api/...`) are not counted. Counts survive
    /// `POST /moto-api/reset`. Throttled and faulted calls are counted as calls too.
    ///
    /// # Panics
    /// When the emulator does not answer.
    pub async fn calls(&self) -> Calls {
        let body = self.admin("GET", "/_emulator/calls", None).await;
        Calls::from_json(&body).unwrap_or_else(|e| panic!("GET /_emulator/calls: {e}: {body}"))
    }

    /// Runs `work` and returns its output with the calls the emulator served meanwhile (in
    /// every account: name the account when counting).
    ///
    /// # Panics
    /// When the emulator does not answer.
    pub async fn calls_during<T>(&self, work: impl Future<Output = T>) -> (T, Calls) {
        let before = self.calls().await;
        let output = work.await;
        (output, self.calls().await.since(&before))
    }

    /// Runs `work` while `account` has the realism profile `profile` (see
    /// [`Emulator::set_profile`]), then removes the profile again.
    ///
    /// # Panics
    /// When the emulator rejects the profile or does not answer.
    pub async fn with_profile<T>(
        &self,
        account: &str,
        profile: Value,
        work: impl Future<Output = T>,
    ) -> T {
        self.set_profile(&[account], profile).await;
        let output = work.await;
        self.set_profile(&[account], Value::Null).await;
        output
    }

    /// Sets the realism profile of `accounts` (`["*"]`: every account without a profile of its
    /// own); `Value::Null` or `{}` removes it. The token buckets of those accounts start full.
    ///
    /// ```json
    /// {"throttle": true, "latency_ms": {"fixed": 5, "jitter": 10},
    ///  "faults": {"http500": 0.1, "http503": 0.0, "reset": 0.0, "reset_after": 0.0,
    ///             "slow": 0.0, "slow_ms": 2000}, "seed": 7}
    /// ```
    /// `throttle` may also be `{"scale": 0.5, "families": {"ec2:DescribeVpcEndpoints":
    /// {"burst": 2, "refill": 0.1}}}`.
    ///
    /// # Panics
    /// When the emulator rejects the profile (the message says why) or does not answer.
    pub async fn set_profile(&self, accounts: &[&str], profile: Value) {
        let body = json!({"accounts": accounts_arg(accounts), "profile": profile});
        self.admin("POST", "/_emulator/profile", Some(body)).await;
    }

    /// Sets emulator settings (e.g. `{"ec2.vpc_endpoint_pending": 2}`) for `accounts`
    /// (`["*"]`: the default of every account). See `tests/emulator/ecs_topology_emulator/settings.py`.
    ///
    /// # Panics
    /// When the emulator rejects the settings or does not answer.
    pub async fn set_settings(&self, accounts: &[&str], settings: Value) {
        let body = json!({"accounts": accounts_arg(accounts), "settings": settings});
        self.admin("POST", "/_emulator/settings", Some(body)).await;
    }

    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> String {
        let body = body.map(|b| b.to_string());
        match http::request_async(self.addr, method, path, body.as_deref().map(str::as_bytes)).await
        {
            Ok((200, reply)) => String::from_utf8_lossy(&reply).into_owned(),
            Ok((status, reply)) => panic!(
                "{method} {path}: HTTP {status}: {}",
                String::from_utf8_lossy(&reply)
            ),
            Err(e) => panic!("{method} {path}: {e}{}", self.log_tail()),
        }
    }

    fn log_tail(&self) -> String {
        self.log
            .as_deref()
            .map(|log| format!("\nemulator log {}:\n{}", log.display(), tail(log)))
            .unwrap_or_default()
    }
}

fn accounts_arg(accounts: &[&str]) -> Value {
    if accounts == ["*"] {
        json!("*")
    } else {
        json!(accounts)
    }
}

// ---------------------------------------------------------------------------------------------
// Starting the emulator

enum StartError {
    PortTaken(PathBuf),
    Failed(String),
}

/// The workspace root: `tests/support/../..`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

fn start_once(serve: &Path, deadline: Instant) -> Result<Emulator, StartError> {
    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let log = log_dir().join(format!(
        "ecs-topology-emulator-{}-{port}.log",
        std::process::id()
    ));
    let log_file = std::fs::File::create(&log)
        .map_err(|e| StartError::Failed(format!("cannot create {}: {e}", log.display())))?;
    let log_err = log_file
        .try_clone()
        .map_err(|e| StartError::Failed(format!("{}: {e}", log.display())))?;

    let setpriv = Path::new("/usr/bin/setpriv");
    let mut command = if setpriv.exists() {
        // The parent-death signal is sent when the spawning *thread* ends, so the spawn happens
        // on a thread that lives as long as the process (below).
        let mut command = Command::new(setpriv);
        command.args(["--pdeathsig", "KILL", "--", "bash"]);
        command
    } else {
        Command::new("bash")
    };
    command
        .arg(serve)
        .args(["--port", &port.to_string()])
        .args(["--parent-pid", &std::process::id().to_string()])
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err);

    let (spawned_tx, spawned_rx) = mpsc::channel::<Result<u32, String>>();
    let (exited_tx, exited_rx) = mpsc::channel::<ExitStatus>();
    std::thread::Builder::new()
        .name(format!("emulator-{port}"))
        .spawn(move || match command.spawn() {
            Ok(mut child) => {
                let _ = spawned_tx.send(Ok(child.id()));
                if let Ok(status) = child.wait() {
                    let _ = exited_tx.send(status);
                }
                // Keep this thread (the parent of the parent-death signal) alive.
                loop {
                    std::thread::park();
                }
            }
            Err(e) => {
                let _ = spawned_tx.send(Err(e.to_string()));
            }
        })
        .map_err(|e| StartError::Failed(format!("cannot spawn a thread: {e}")))?;
    let pid = match spawned_rx.recv() {
        Ok(Ok(pid)) => pid,
        Ok(Err(e)) => {
            return Err(StartError::Failed(format!(
                "cannot run {}: {e}",
                serve.display()
            )));
        }
        Err(_) => return Err(StartError::Failed("the emulator thread died".to_owned())),
    };

    loop {
        if let Ok(status) = exited_rx.try_recv() {
            let text = tail(&log);
            if text.contains("Address already in use") {
                return Err(StartError::PortTaken(log));
            }
            return Err(StartError::Failed(format!(
                "the emulator exited ({status}) before it answered; log {}:\n{text}",
                log.display()
            )));
        }
        if let Ok((200, _)) = http::request(addr, "GET", "/moto-api/", None) {
            return Ok(Emulator::with_endpoint(addr, Some(pid), Some(log)));
        }
        if Instant::now() > deadline {
            return Err(StartError::Failed(format!(
                "the emulator did not answer on {addr} within {}s; log {}:\n{}",
                START_TIMEOUT.as_secs(),
                log.display(),
                tail(&log)
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Where emulator logs go: `target/<profile>/emulator-logs/` beside the test binary (else the
/// temporary directory). Logs older than a day are removed.
fn log_dir() -> PathBuf {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(|p| p.join("emulator-logs")))
        .filter(|dir| std::fs::create_dir_all(dir).is_ok())
        .unwrap_or_else(std::env::temp_dir);
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(24 * 3600));
            if old && name.to_string_lossy().starts_with("ecs-topology-emulator-") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    dir
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(account: &str, operation: &str, calls: u64) -> CallRow {
        CallRow {
            account: account.into(),
            region: "us-east-1".into(),
            service: "ec2".into(),
            operation: operation.into(),
            calls,
            ..CallRow::default()
        }
    }

    #[test]
    fn since_subtracts_per_row_and_drops_rows_without_new_calls() {
        let earlier = Calls {
            rows: vec![row("1", "DescribeVpcs", 2), row("1", "CreateVpc", 1)],
        };
        let later = Calls {
            rows: vec![
                row("1", "DescribeVpcs", 5),
                row("1", "CreateVpc", 1),
                row("2", "CreateVpc", 4),
            ],
        };
        let made = later.since(&earlier);
        assert_eq!(
            made.rows,
            vec![row("1", "DescribeVpcs", 3), row("2", "CreateVpc", 4)]
        );
        assert_eq!(made.total("1"), 3);
        assert_eq!(made.mutating("2"), 4);
        assert_eq!(made.mutating("1"), 0);
    }

    #[test]
    fn reads_are_describe_list_get_head_batchget_scan_and_query() {
        for read in [
            "DescribeVpcEndpoints",
            "ListServices",
            "GetObject",
            "HeadObject",
            "BatchGetItem",
            "Scan",
            "Query",
        ] {
            assert!(is_read(read), "{read}");
        }
        for write in [
            "CreateVpcEndpoint",
            "PutItem",
            "AssumeRole",
            "TagResource",
            "QueryLogs",
        ] {
            assert!(!is_read(write), "{write}");
        }
    }
}

//! The emulator process itself, on private emulators (never the shared one of this binary): it
//! dies with the process that started it, and `/moto-api/reset` wipes profiles and settings
//! but keeps the call counts.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_ec2::error::ProvideErrorMetadata;
use ecs_topology_testkit::{Emulator, free_port, http, workspace_root};
use serde_json::json;

/// An emulator started by a short-lived shell (`serve --parent-pid <the shell>`), as a test
/// harness would start it.
struct Private {
    shell: Child,
    emulator_pid: u32,
    port: u16,
    log: std::path::PathBuf,
}

impl Private {
    fn start() -> Self {
        let port = free_port();
        let serve = workspace_root().join("tests/emulator/serve");
        let log = std::env::temp_dir().join(format!("ecs-topology-private-emulator-{port}.log"));
        let mut shell = Command::new("bash")
            .arg("-c")
            .arg(r#""$0" --port "$1" --parent-pid $$ >"$2" 2>&1 & echo $!; wait"#)
            .arg(&serve)
            .arg(port.to_string())
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", serve.display()));
        let mut line = String::new();
        if let Some(stdout) = shell.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut line);
        }
        let emulator_pid = line
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("no emulator pid from the shell ({line:?}): {e}"));
        let mut private = Self {
            shell,
            emulator_pid,
            port,
            log: log.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while !private.answers() {
            if let Ok(Some(status)) = private.shell.try_wait() {
                panic!(
                    "the private emulator exited ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the private emulator did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        private
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn answers(&self) -> bool {
        matches!(raw(self.port, "GET", "/moto-api/"), Some((200, _)))
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        let _ = self.shell.kill();
        let _ = self.shell.wait();
        // Should the test have failed with the emulator still up, end it (by its id, and only if
        // that id is still the emulator's).
        let cmdline =
            std::fs::read(format!("/proc/{}/cmdline", self.emulator_pid)).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains("ecs_topology_emulator") {
            let _ = Command::new("kill")
                .arg(self.emulator_pid.to_string())
                .status();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// One request to the private emulator; `None` when nothing answers.
fn raw(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let (status, body) = http::request(addr, method, path, None).ok()?;
    Some((status, String::from_utf8_lossy(&body).into_owned()))
}

#[test]
fn the_emulator_exits_when_the_process_that_started_it_dies() {
    let mut private = Private::start();
    assert!(private.answers());

    private.shell.kill().unwrap();
    private.shell.wait().unwrap();

    let deadline = Instant::now() + Duration::from_secs(5);
    while private.answers() {
        assert!(
            Instant::now() < deadline,
            "the emulator still answers 5 s after its parent died"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test]
async fn a_reset_wipes_profiles_settings_and_buckets_but_keeps_the_counts() {
    let private = Private::start();
    let emulator = Emulator::connect(&private.url());
    let account = emulator.new_account();
    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config(&account, "us-east-1").await);
    emulator
        .set_profile(
            &["*"],
            json!({"throttle": {"families": {"ec2:DescribeVpcs": {"burst": 1, "refill": 0.0001}}}}),
        )
        .await;
    emulator
        .set_settings(&[&account], json!({"ec2.vpc_endpoint_pending": 5}))
        .await;
    ec2.describe_vpcs().send().await.unwrap();
    let err = ec2.describe_vpcs().send().await.unwrap_err();
    assert_eq!(err.code(), Some("RequestLimitExceeded"));

    let (status, _) = raw(private.port, "POST", "/moto-api/reset").unwrap();
    assert_eq!(status, 200);

    let (_, profiles) = raw(private.port, "GET", "/_emulator/profile").unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&profiles).unwrap(),
        json!({"profiles": {}})
    );
    let (_, settings) = raw(private.port, "GET", "/_emulator/settings").unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&settings).unwrap(),
        json!({"settings": {}})
    );
    let calls = emulator.calls().await;
    assert_eq!(calls.count(&account, "DescribeVpcs"), 2);
    assert_eq!(calls.throttled(&account), 1);

    // Keys issued before the reset are gone; an account assumed afterwards runs unthrottled.
    let later = emulator.new_account();
    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config(&later, "us-east-1").await);
    for _ in 0..3 {
        ec2.describe_vpcs().send().await.unwrap();
    }
    assert_eq!(emulator.calls().await.throttled(&later), 0);
}

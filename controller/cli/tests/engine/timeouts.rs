//! A call AWS never answers: the controller's time limits make it a transient failure.

use std::process::Output;
use std::time::{Duration, Instant};

use ecs_topology_testkit::emulator;
use serde_json::json;

use crate::world::*;

/// Runs `apply --once`, killing it after `limit`; (exit code, output, how long it took), or
/// `None` when it was still running.
fn apply_within(w: &World, limit: Duration) -> Option<(i32, String, Duration)> {
    let config = w.dir.join("config.yaml");
    let docs = w.docs();
    let started = Instant::now();
    let mut child = w
        .command(&[
            "apply",
            "--once",
            "--source",
            docs.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let took = started.elapsed();
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    Some((status.code().unwrap_or(-1), text, took))
}

#[tokio::test]
async fn a_create_aws_never_answers_fails_as_transient_within_the_configured_timeouts() {
    let w = World::new();
    w.write_config("timeouts: {operation: 2s, attempt: 1s}\n");
    w.write("ns.yaml", &namespace_doc("chi", "server", "", "Chi"));
    // Cloud Map accepts CreateHttpNamespace and never answers (for two minutes).
    let hang = json!({"faults": {"hang": 1.0, "hang_ms": 120_000,
                                  "operations": ["servicediscovery:CreateHttpNamespace"]}});
    emulator().set_profile(&[&w.server], hang).await;

    let ran = apply_within(&w, Duration::from_secs(90));
    emulator()
        .set_profile(&[&w.server], serde_json::Value::Null)
        .await;
    let (code, out, took) = ran.expect("apply --once still running after 90s: a hung call held it");
    assert_eq!(code, 1, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("CloudMapNamespace/chi:"))
        .unwrap_or_else(|| panic!("no line for the namespace: {out}"));
    assert_has(line, "failed: CreateHttpNamespace");
    assert!(line.ends_with("(transient)"), "{line}");
    assert!(line.to_lowercase().contains("timeout"), "{line}");
    // Six attempts of the reconcile, each ended by the 2s operation timeout.
    assert!(took < Duration::from_secs(45), "{took:?}: {out}");
    let calls = emulator().calls().await;
    let hung: u64 = calls
        .rows
        .iter()
        .filter(|r| r.account == w.server && r.operation == "CreateHttpNamespace")
        .map(|r| r.faulted)
        .sum();
    assert!(hung >= 1, "the create was sent and hung");

    // Nothing was half made: once AWS answers again, one apply creates the one namespace.
    let (code, out) = w.apply();
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        w.namespaces(&w.server)
            .await
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        ["chi.internal"]
    );
}

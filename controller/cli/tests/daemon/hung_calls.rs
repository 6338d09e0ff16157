//! AWS calls that never answer (the emulator's `hang` fault) and work that makes no progress:
//! the daemon's passes and source polls are time-boxed, `/healthz` says when a loop or the
//! workers are stuck, and SIGTERM still ends the process within the grace period.

use std::time::Duration;

use ecs_topology_testkit::{Calls, emulator};
use serde_json::json;

use crate::harness::*;

/// Hangs every call of `account` named in `operations` (every call, when empty) for up to two
/// minutes: longer than any of these tests waits.
fn hang(operations: &[&str]) -> serde_json::Value {
    let mut faults = json!({"hang": 1.0, "hang_ms": 120_000});
    if !operations.is_empty() {
        faults["operations"] = json!(operations);
    }
    json!({ "faults": faults })
}

/// Calls of `operation` in `account` the emulator has held without a reply.
fn hung(calls: &Calls, account: &str, operation: &str) -> u64 {
    calls
        .rows
        .iter()
        .filter(|r| r.account == account && r.operation == operation)
        .map(|r| r.faulted)
        .sum()
}

#[tokio::test]
async fn sigterm_ends_the_daemon_within_the_grace_period_while_its_aws_calls_hang() {
    // Time limits far beyond the test: only shutdown itself can end the hung calls in time.
    let setup = Setup::new(
        "timeouts: {operation: 10m, attempt: 10m, observation: 10m, sourcePoll: 10m, progress: 10m}\n",
    )
    .await;
    let own = OwnAccount::new().await;
    own.put("a.yaml", &namespace_doc("tau", "Tau")).await;
    let mut daemon = own.start(&setup).await;
    daemon.until_ready(Duration::from_secs(30)).await;
    // The create's reconcile has ended, not only its CreateHttpNamespace: a reconcile still
    // reading what it made when the account stops answering would hang in its place, and the
    // edit's reconcile would wait behind it for ever.
    daemon
        .until_namespace_changed(Duration::from_secs(30))
        .await;
    setup
        .until_namespaces(1, Duration::from_secs(5), "the namespace exists")
        .await;

    // The server account stops answering: the observation pass and the reconcile of the edit
    // hang. Then the source's bucket stops answering: the source poll hangs.
    let emulator = emulator();
    emulator.set_profile(&[&setup.server], hang(&[])).await;
    own.put("a.yaml", &namespace_doc("tau", "Tau v2")).await;
    // Under a loaded machine the first pass (a sweep of every configured account) may take a
    // while; what is waited for says what was seen if it never comes.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let calls = emulator.calls().await;
        if hung(&calls, &setup.server, "ListNamespaces") >= 1
            && hung(&calls, &setup.server, "UpdateHttpNamespace") >= 1
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the observation and the update never hung: calls {:?}\n{}",
            calls.operations(&setup.server),
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    emulator
        .set_profile(&[&own.own], hang(&["s3:ListObjectsV2"]))
        .await;
    eventually(Duration::from_secs(30), "the source poll hangs", || async {
        hung(&emulator.calls().await, &own.own, "ListObjectsV2") >= 1
    })
    .await;

    let took = daemon.terminate_cleanly(Duration::from_secs(15));
    emulator
        .set_profile(&[&setup.server, &own.own], serde_json::Value::Null)
        .await;
    // The grace period (5s) for the hung reconcile, and a little to hand over.
    assert!(took < Duration::from_secs(8), "{took:?}\n{}", daemon.log());
}

#[tokio::test]
async fn sigterm_ends_the_daemon_while_its_first_lease_write_hangs() {
    let own = OwnAccount::new().await;
    let table = format!("lease-{}", own.own);
    let dynamodb = aws_sdk_dynamodb::Client::new(&emulator().sdk_config(&own.own, REGION).await);
    ecs_topology_testkit::create_table(&dynamodb, &table).await;
    // A 30s lease gives each lease write 10s; the AWS calls themselves have far longer.
    let setup = Setup::new(&format!(
        "timeouts: {{operation: 10m, attempt: 10m, progress: 10m}}\nlease: {{dynamodbTable: {table}, duration: 30s}}\n"
    ))
    .await;
    own.put("a.yaml", &namespace_doc("psi", "Psi")).await;
    let emulator = emulator();
    emulator
        .set_profile(&[&own.own], hang(&["dynamodb:UpdateItem"]))
        .await;
    let mut daemon = own.start(&setup).await;
    eventually(
        Duration::from_secs(30),
        "the first lease write hangs",
        || async { hung(&emulator.calls().await, &own.own, "UpdateItem") >= 1 },
    )
    .await;
    // Before the lease write gives up (10s): the lease state is not known yet.
    assert_eq!(daemon.get("/readyz").0, 503);

    let took = daemon.terminate_cleanly(Duration::from_secs(25));
    emulator
        .set_profile(&[&own.own], serde_json::Value::Null)
        .await;
    // At most the release of the lease (a third of it, 10s, as the write in flight may have
    // landed) after the workers stopped.
    assert!(took < Duration::from_secs(13), "{took:?}\n{}", daemon.log());
}

#[tokio::test]
async fn healthz_fails_while_reconciles_are_in_flight_and_none_finishes_within_the_progress_limit()
{
    let setup = Setup::new(
        "timeouts: {operation: 2s, attempt: 1s, observation: 2s, sourcePoll: 2s, progress: 3s}\n",
    )
    .await;
    // Cloud Map takes 15 s to create the namespace: the reconcile waits on its operation, far
    // beyond `progress`.
    emulator()
        .set_settings(
            &[&setup.server],
            json!({"servicediscovery.operation_delay": 15}),
        )
        .await;
    setup
        .put("a.yaml", &namespace_doc("upsilon", "Upsilon"))
        .await;
    let daemon = setup.start(&setup.s3_source());
    daemon.until_ready(Duration::from_secs(30)).await;
    daemon
        .until_unhealthy("reconciler", Duration::from_secs(14))
        .await;
    setup
        .until_namespaces(1, Duration::from_secs(40), "the namespace exists")
        .await;
    daemon
        .until_healthy(Duration::from_secs(10), "healthy again once it finished")
        .await;
}

#[tokio::test]
async fn hung_observation_passes_and_source_polls_are_abandoned_at_their_limits_and_the_next_ones_run()
 {
    // The passes and polls give up (2s) before the SDK does (3s).
    let setup = Setup::new(
        "timeouts: {operation: 3s, attempt: 3s, observation: 2s, sourcePoll: 2s, progress: 3s}\n",
    )
    .await;
    let own = OwnAccount::new().await;
    own.put("a.yaml", &namespace_doc("phi", "Phi")).await;
    let daemon = own.start(&setup).await;
    daemon.until_ready(Duration::from_secs(30)).await;
    setup
        .until_namespaces(1, Duration::from_secs(30), "reconciled")
        .await;
    daemon
        .until_healthy(Duration::from_secs(10), "healthy")
        .await;

    let emulator = emulator();
    emulator
        .set_profile(&[&setup.server], hang(&["ListNamespaces"]))
        .await;
    emulator
        .set_profile(&[&own.own], hang(&["s3:ListObjectsV2"]))
        .await;
    eventually(
        Duration::from_secs(30),
        "two passes and two polls abandoned",
        || async {
            let log = daemon.log();
            log.matches("observation pass timed out").count() >= 2
                && log.matches("source poll timed out").count() >= 2
        },
    )
    .await;
    // No pass completes: not healthy. The last complete load of the source stays: still ready.
    daemon
        .until_unhealthy("observer", Duration::from_secs(10))
        .await;
    assert_eq!(daemon.get("/readyz").0, 200);

    emulator
        .set_profile(&[&setup.server, &own.own], serde_json::Value::Null)
        .await;
    daemon
        .until_healthy(
            Duration::from_secs(20),
            "healthy again once a pass completes",
        )
        .await;
}

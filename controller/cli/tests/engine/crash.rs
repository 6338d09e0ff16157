use std::time::{Duration, Instant};

use ecs_topology_testkit::emulator;
use serde_json::json;

use crate::world::*;

#[tokio::test]
async fn a_run_killed_right_after_a_create_leaves_no_duplicate_when_run_again() {
    let w = World::new();
    w.write(
        "ns.yaml",
        &namespace_doc("inflight", "server", "", "In flight"),
    );
    // Cloud Map takes its time: the create is accepted, then the process dies before it finishes.
    emulator()
        .set_settings(
            &[w.server.as_str()],
            json!({"servicediscovery.operation_delay": 4}),
        )
        .await;
    let before = w.calls().await;
    let mut child = w
        .command(&[
            "apply",
            "--once",
            "--source",
            w.docs().to_str().unwrap(),
            "--config",
            w.dir.join("config.yaml").to_str().unwrap(),
        ])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while w
        .calls()
        .await
        .since(&before)
        .count(&w.server, "CreateHttpNamespace")
        == 0
    {
        assert!(Instant::now() < deadline, "the create was never sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        w.namespaces(&w.server).await.is_empty(),
        "still being created"
    );

    emulator()
        .set_settings(
            &[w.server.as_str()],
            json!({"servicediscovery.operation_delay": 0}),
        )
        .await;
    w.apply_exits(0);
    let namespaces = w.namespaces(&w.server).await;
    assert_eq!(namespaces.keys().collect::<Vec<_>>(), ["inflight.internal"]);
    let calls = w.calls().await.since(&before);
    assert_eq!(
        calls.count(&w.server, "CreateHttpNamespace"),
        2,
        "the same request, sent twice"
    );
    w.plan_exits(0);
}

use std::time::Duration;

use crate::harness::*;
use crate::labels;

#[tokio::test]
async fn metrics_expose_the_documented_families() {
    let setup = Setup::new("").await;
    setup.put("a.yaml", &namespace_doc("iota", "Iota")).await;
    let daemon = setup.start(&setup.s3_source());
    daemon.until_ready(Duration::from_secs(30)).await;
    daemon
        .until_namespace_changed(Duration::from_secs(20))
        .await;
    // A drift by hand, so that drift detections have a sample.
    setup.drift_namespace_by_hand().await;
    daemon
        .until_counted(
            "ecs_topology_drift_detections_total",
            Duration::from_secs(20),
            "the drift is detected",
        )
        .await;
    // A throttled call, so that throttles have a sample.
    let emulator = ecs_topology_testkit::emulator();
    let tight = serde_json::json!({"throttle": {"families": {
        "servicediscovery:ListNamespaces": {"burst": 1, "refill": 0.2}
    }}});
    emulator.set_profile(&[setup.server.as_str()], tight).await;
    daemon
        .until_counted(
            "ecs_topology_aws_throttles_total",
            Duration::from_secs(20),
            "a throttle is counted",
        )
        .await;
    emulator
        .set_profile(&[setup.server.as_str()], serde_json::Value::Null)
        .await;
    let (_, text) = daemon.get("/metrics");
    for family in labels::FAMILIES
        .iter()
        .filter(|f| !labels::ONLY_WITH_EVENTS.contains(f))
        .map(|family| family.name)
    {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} missing"
        );
    }
    assert!(!text.contains("iota"), "no object names in labels");
    assert_eq!(daemon.metric("ecs_topology_leader"), Some(1.0));
}

#[tokio::test]
async fn sigterm_exits_zero_within_the_grace_period() {
    let setup = Setup::new("").await;
    let mut daemon = setup.start_on_one_namespace("kappa", "Kappa").await;
    daemon.until_ready(Duration::from_secs(30)).await;
    let took = daemon.terminate_cleanly(Duration::from_secs(10));
    assert!(
        took < Duration::from_secs(6),
        "within the grace period: {took:?}"
    );
    assert!(
        setup
            .dir
            .join("status/CloudMapNamespace/kappa.json")
            .exists(),
        "status flushed"
    );
}

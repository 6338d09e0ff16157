//! Change events end to end: a change by hand in a target account reaches the controller as its
//! CloudTrail record (the target's default bus → the controller account's bus → its queue, as
//! `deploy/` wires them) and is corrected within seconds though the poll is ten minutes; an event
//! lost on the way is corrected by the next poll; the queue is left empty.

use std::time::{Duration, Instant};

use ecs_topology_testkit::emulator;
use ecs_topology_testkit::events::EventQueue;
use serde_json::json;

use crate::harness::*;

/// The controller account's bus and queue, and a rule on the target account's default bus that
/// forwards Cloud Map's changes to it.
async fn wire(own: &str, target: &str) -> EventQueue {
    let queue = EventQueue::create(emulator(), own, REGION, &[target]).await;
    // The target account's rule, as deploy/target-account-role.yaml writes it for Cloud Map:
    // the events the namespace kind lists.
    let names: Vec<&str> =
        ecs_topology_core::events::events_of(ecs_topology_core::model::Kind::CloudMapNamespace)
            .map(|(_, name)| name)
            .collect();
    let pattern = json!({
        "detail-type": ["AWS API Call via CloudTrail"],
        "source": ["aws.servicediscovery"],
        "detail": {"eventSource": ["servicediscovery.amazonaws.com"], "eventName": names}
    });
    queue
        .forward_from(emulator(), target, REGION, "ecs-topology", &pattern)
        .await;
    queue
}

/// The `UpdateHttpNamespace` calls the server account has served.
async fn updates(setup: &Setup) -> u64 {
    emulator()
        .calls()
        .await
        .count(&setup.server, "UpdateHttpNamespace")
}

/// Changes the namespace by hand and waits for the controller's correction; how long it took.
async fn drift_and_correction(setup: &Setup, within: Duration) -> Duration {
    let before = updates(setup).await;
    setup.drift_namespace_by_hand().await;
    let drifted = Instant::now();
    eventually(within, "the drift corrected", || async {
        updates(setup).await >= before + 2
            && setup.namespaces(&setup.server).await[0].1.as_deref() == Some("Tau")
    })
    .await;
    drifted.elapsed()
}

/// A daemon of its own account on the namespace `tau`, with events wired from the server account
/// and `poll` as its pollInterval; the queue.
async fn start(poll: &str) -> (Setup, OwnAccount, Daemon, EventQueue) {
    let own = OwnAccount::new().await;
    let setup = Setup::new("").await;
    let queue = wire(&own.own, &setup.server).await;
    let url = &queue.url;
    let path = setup.dir.join("config.yaml");
    let config = std::fs::read_to_string(&path).unwrap().replace(
        "pollInterval: 1s\n",
        &format!("pollInterval: {poll}\nevents: {{queueUrl: '{url}', debounce: 1s}}\n"),
    );
    std::fs::write(&path, config).unwrap();
    own.put("a.yaml", &namespace_doc("tau", "Tau")).await;
    let daemon = own.start(&setup).await;
    setup
        .until_namespaces(1, Duration::from_secs(30), "created")
        .await;
    (setup, own, daemon, queue)
}

/// Change events the daemon read and observed again for.
fn mapped(daemon: &Daemon) -> f64 {
    daemon
        .metric("ecs_topology_events_total{outcome=\"mapped\",service=\"servicediscovery\"}")
        .unwrap_or_default()
}

#[tokio::test]
async fn a_change_by_hand_is_corrected_within_seconds_though_the_poll_is_ten_minutes() {
    let (setup, _own, daemon, queue) = start("10m").await;
    let took = drift_and_correction(&setup, Duration::from_secs(30)).await;
    assert!(
        took < Duration::from_secs(15),
        "corrected after {took:?}\n{}",
        daemon.log()
    );
    assert!(mapped(&daemon) >= 1.0, "{}", daemon.log());
    let (_, text) = daemon.get("/metrics");
    for family in crate::labels::ONLY_WITH_EVENTS {
        assert!(text.contains(&format!("# TYPE {} ", family.name)));
    }
    eventually(Duration::from_secs(15), "the queue is empty", || async {
        queue.queued().await == 0
    })
    .await;
}

#[tokio::test]
async fn a_change_whose_event_is_lost_is_corrected_by_the_next_poll() {
    let (setup, _own, daemon, queue) = start("6s").await;
    emulator()
        .set_settings(&[&setup.server], json!({"events.drop_fraction": 1.0}))
        .await;
    let before = mapped(&daemon);
    let took = drift_and_correction(&setup, Duration::from_secs(30)).await;
    assert!(
        took < Duration::from_secs(14),
        "corrected after {took:?}\n{}",
        daemon.log()
    );
    assert_eq!(
        mapped(&daemon),
        before,
        "no event arrived: the poll corrected it"
    );
    assert_eq!(queue.queued().await, 0);
}

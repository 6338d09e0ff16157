//! Change events end to end: a change by hand in a target account reaches the controller as its
//! CloudTrail record (the target's default bus → the controller account's bus → its queue, as
//! `deploy/` wires them) and is corrected within seconds though the poll is ten minutes; an event
//! lost on the way is corrected by the next poll; the queue is left empty.

use std::time::{Duration, Instant};

use aws_sdk_eventbridge as eb;
use aws_sdk_eventbridge::types::Target;
use aws_sdk_sqs as sqs;
use aws_sdk_sqs::types::QueueAttributeName;
use ecs_topology_testkit::emulator;
use serde_json::json;

use crate::harness::*;

/// The controller account's bus and queue, and a rule on the target account's default bus that
/// forwards Cloud Map's changes to it; the queue's URL.
async fn wire(own: &str, target: &str) -> (sqs::Client, String) {
    let own_config = emulator().sdk_config(own, REGION).await;
    let queue = sqs::Client::new(&own_config);
    let url = queue
        .create_queue()
        .queue_name("ecs-topology-events")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = queue
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .unwrap();
    let central = eb::Client::new(&own_config);
    let bus = central
        .create_event_bus()
        .name("ecs-topology-events")
        .send()
        .await
        .unwrap()
        .event_bus_arn
        .unwrap();
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "targets", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{target}:root")},
            "Action": "events:PutEvents", "Resource": bus
        }]
    });
    central
        .put_permission()
        .event_bus_name("ecs-topology-events")
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    let api_calls = json!({"detail-type": ["AWS API Call via CloudTrail"]});
    put_rule(
        &central,
        Some("ecs-topology-events"),
        &api_calls,
        &queue_arn,
    )
    .await;
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
    let target_events = eb::Client::new(&emulator().sdk_config(target, REGION).await);
    put_rule(&target_events, None, &pattern, &bus).await;
    (queue, url)
}

async fn put_rule(client: &eb::Client, bus: Option<&str>, pattern: &serde_json::Value, to: &str) {
    client
        .put_rule()
        .name("ecs-topology")
        .set_event_bus_name(bus.map(str::to_owned))
        .event_pattern(pattern.to_string())
        .send()
        .await
        .unwrap();
    client
        .put_targets()
        .rule("ecs-topology")
        .set_event_bus_name(bus.map(str::to_owned))
        .targets(Target::builder().id("next").arn(to).build().unwrap())
        .send()
        .await
        .unwrap();
}

/// Messages in the queue, visible or in flight.
async fn queued(queue: &sqs::Client, url: &str) -> u64 {
    let attributes = queue
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    attributes
        .values()
        .filter_map(|v| v.parse::<u64>().ok())
        .sum()
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
async fn start(poll: &str) -> (Setup, OwnAccount, Daemon, sqs::Client, String) {
    let own = OwnAccount::new().await;
    let setup = Setup::new("").await;
    let (queue, url) = wire(&own.own, &setup.server).await;
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
    (setup, own, daemon, queue, url)
}

/// Change events the daemon read and observed again for.
fn mapped(daemon: &Daemon) -> f64 {
    daemon
        .metric("ecs_topology_events_total{outcome=\"mapped\",service=\"servicediscovery\"}")
        .unwrap_or_default()
}

#[tokio::test]
async fn a_change_by_hand_is_corrected_within_seconds_though_the_poll_is_ten_minutes() {
    let (setup, _own, daemon, queue, url) = start("10m").await;
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
        queued(&queue, &url).await == 0
    })
    .await;
}

#[tokio::test]
async fn a_change_whose_event_is_lost_is_corrected_by_the_next_poll() {
    let (setup, _own, daemon, queue, url) = start("6s").await;
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
    assert_eq!(queued(&queue, &url).await, 0);
}

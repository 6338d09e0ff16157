//! Errors of real calls fall into the classes an operator alerts on.

use std::time::{Duration, Instant};

use ecs_topology_aws::{ApiBudgets, ApiFamily, Aws, ErrorClass, classify};
use ecs_topology_core::duration::HumanDuration;
use ecs_topology_testkit::emulator;
use serde_json::json;

use super::{EAST, Recorder, World};

#[tokio::test]
async fn errors_are_classified() {
    let (world, targets) = World::new(&["server", "client"]);
    let accounts = world.accounts().await;
    let server = accounts.clients(&targets[0], EAST).await.unwrap();

    let missing = server
        .ecs
        .describe_services()
        .cluster("no-such-cluster")
        .services("web")
        .send()
        .await
        .unwrap_err();
    assert_eq!(classify(&missing), ErrorClass::NotFound, "{missing:?}");

    let invalid = server
        .ec2
        .create_vpc()
        .cidr_block("10.0.0.0/8")
        .send()
        .await
        .unwrap_err();
    assert_eq!(classify(&invalid), ErrorClass::Validation, "{invalid:?}");

    emulator()
        .set_profile(
            &[&targets[0]],
            json!({"throttle": {"families": {"ecs:ListClusters": {"burst": 1, "refill": 0.0001}}}}),
        )
        .await;
    server.ecs.list_clusters().send().await.unwrap();
    let throttled = server.ecs.list_clusters().send().await.unwrap_err();
    emulator().set_profile(&[&targets[0]], json!(null)).await;
    assert_eq!(
        classify(&throttled),
        ErrorClass::Throttling,
        "{throttled:?}"
    );

    // The role of `client` cannot be assumed: the controller's own account fails every call.
    emulator()
        .set_profile(&[&world.own], json!({"faults": {"http500": 1.0}}))
        .await;
    let client = accounts.clients(&targets[1], EAST).await.unwrap();
    let no_credentials = client.ecs.list_clusters().send().await.unwrap_err();
    emulator().set_profile(&[&world.own], json!(null)).await;
    assert_eq!(
        classify(&no_credentials),
        ErrorClass::Credentials,
        "{no_credentials:?}"
    );
}

#[tokio::test]
async fn a_call_aws_never_answers_fails_as_transient_once_the_operation_timeout_passes() {
    let (mut world, targets) = World::new(&["server"]);
    world.config.timeouts.operation = HumanDuration(Duration::from_secs(2));
    world.config.timeouts.attempt = HumanDuration(Duration::from_millis(800));
    emulator()
        .set_profile(
            &[&targets[0]],
            json!({"faults": {"hang": 1.0, "hang_ms": 60_000, "operations": ["ListNamespaces"]}}),
        )
        .await;
    let accounts = world.accounts().await;
    let server = accounts.clients("server", EAST).await.unwrap();
    let recorder = Recorder::new();
    let budgets = ApiBudgets::new(&world.config, recorder.clone()).unwrap();
    let aws = Aws::new(&server, &budgets);

    let before = emulator().calls().await;
    let started = Instant::now();
    let err = aws
        .call("ListNamespaces", ApiFamily::CloudMap, || {
            server.cloudmap.list_namespaces().send()
        })
        .await
        .unwrap_err();
    let took = started.elapsed();
    emulator()
        .set_profile(&[&targets[0]], serde_json::Value::Null)
        .await;

    assert_eq!(err.class, ErrorClass::Transient, "{err}");
    assert!(err.message.contains("timeout"), "{err}");
    assert!(
        (Duration::from_secs(2)..Duration::from_secs(6)).contains(&took),
        "{took:?}"
    );
    let recorded = recorder.calls();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].outcome, Err(ErrorClass::Transient));
    // The attempt timeout ended the first attempt and the SDK tried again within the operation.
    let hung = emulator().calls().await.since(&before);
    assert!(hung.count(&targets[0], "ListNamespaces") >= 2, "{hung:?}");
    // The other calls of the account (AssumeRole, other operations) are answered.
    server.cloudmap.list_services().send().await.unwrap();
}

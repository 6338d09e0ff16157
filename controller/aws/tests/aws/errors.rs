//! Errors of real calls fall into the classes an operator alerts on.

use ecs_topology_aws::{ErrorClass, classify};
use ecs_topology_testkit::emulator;
use serde_json::json;

use super::{EAST, World};

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

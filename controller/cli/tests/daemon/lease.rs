use std::time::Duration;

use ecs_topology_testkit::{create_table, emulator};

use crate::harness::*;

#[tokio::test]
async fn two_daemons_sharing_a_lease_one_changes_aws_and_a_kill_hands_over() {
    let table = format!("lease-{}", emulator().new_account());
    create_table(&dynamodb().await, &table).await;
    let setup = Setup::new(&format!(
        "lease: {{dynamodbTable: {table}, duration: 3s}}\n"
    ))
    .await;
    setup
        .put("a.yaml", &namespace_doc("lambda", "Lambda"))
        .await;
    let mut daemons = vec![
        Some(setup.start(&setup.s3_source())),
        Some(setup.start(&setup.s3_source())),
    ];
    setup
        .until_namespaces(1, Duration::from_secs(30), "created")
        .await;
    let leader = |daemons: &Vec<Option<Daemon>>| -> Vec<usize> {
        daemons
            .iter()
            .enumerate()
            .filter(|(_, d)| d.as_ref().and_then(|d| d.metric("ecs_topology_leader")) == Some(1.0))
            .map(|(i, _)| i)
            .collect()
    };
    eventually(Duration::from_secs(15), "exactly one leader", || async {
        leader(&daemons).len() == 1
    })
    .await;

    // A drift by hand: corrected once, by the leader only.
    let before = emulator().calls().await;
    setup.drift_namespace_by_hand().await;
    eventually(Duration::from_secs(10), "corrected", || async {
        setup.namespaces(&setup.server).await[0].1.as_deref() == Some("Lambda")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls = emulator().calls().await.since(&before);
    assert_eq!(
        calls.count(&setup.server, "UpdateHttpNamespace"),
        2,
        "the drift by hand and one correction, not one per daemon: {:?}",
        calls.operations(&setup.server)
    );

    // Kill the leader: the other takes over within one lease time.
    let was = leader(&daemons)[0];
    drop(daemons[was].take());
    let survivor = 1 - was;
    eventually(Duration::from_secs(8), "the survivor leads", || async {
        daemons[survivor]
            .as_ref()
            .unwrap()
            .metric("ecs_topology_leader")
            == Some(1.0)
    })
    .await;
    setup.put("b.yaml", &namespace_doc("mu", "Mu")).await;
    setup
        .until_namespaces(2, Duration::from_secs(20), "the new leader converges")
        .await;
}

/// The namespace `lambda` with `description` and the tag `team`.
fn tagged_doc(description: &str, team: &str) -> String {
    format!(
        "apiVersion: ecs-topology.dev/v1alpha1\nkind: CloudMapNamespace\nmetadata: {{name: lambda}}\nspec: {{account: server, region: {REGION}, name: lambda.internal, description: {description}, tags: {{team: {team}}}}}\n"
    )
}

/// The `team` tag of the server account's namespace.
async fn team_tag(setup: &Setup) -> Option<String> {
    let cm =
        aws_sdk_servicediscovery::Client::new(&emulator().sdk_config(&setup.server, REGION).await);
    let list = cm.list_namespaces().send().await.unwrap();
    let arn = list.namespaces().first()?.arn()?.to_owned();
    let tags = cm
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    tags.tags()
        .iter()
        .find(|t| t.key() == "team")
        .map(|t| t.value().to_owned())
}

/// Statuses this daemon wrote to the status store.
fn status_writes(daemon: &Daemon) -> f64 {
    daemon
        .metric("ecs_topology_status_writes_total{write=\"written\"}")
        .unwrap_or_default()
}

#[tokio::test]
async fn a_leader_cut_off_from_the_lease_mid_change_makes_no_call_after_its_lease_expired() {
    // The daemons run as an account of their own, whose lease table can be cut off alone.
    let own = OwnAccount::new().await;
    let table = format!("lease-{}", own.own);
    let dynamodb = aws_sdk_dynamodb::Client::new(&emulator().sdk_config(&own.own, REGION).await);
    create_table(&dynamodb, &table).await;
    let setup = Setup::new(&format!(
        "lease: {{dynamodbTable: {table}, duration: 3s}}\n"
    ))
    .await;
    // A Cloud Map operation takes 6s: a description change, then a tag change, outlasts the
    // lease of a leader that can no longer renew it.
    emulator()
        .set_settings(
            &[&setup.server],
            serde_json::json!({"servicediscovery.operation_delay": 6}),
        )
        .await;
    own.put("a.yaml", &tagged_doc("Lambda", "a")).await;
    let leader = own.start(&setup).await;
    eventually(
        Duration::from_secs(15),
        "the first daemon leads",
        || async { leader.metric("ecs_topology_leader") == Some(1.0) },
    )
    .await;
    setup
        .until_namespaces(1, Duration::from_secs(40), "created")
        .await;
    let follower = own.start(&setup).await;
    follower.until_ready(Duration::from_secs(30)).await;

    // The edit: the leader updates the description and waits for Cloud Map.
    let before_edit = emulator().calls().await;
    own.put("a.yaml", &tagged_doc("Lambda v2", "b")).await;
    eventually(Duration::from_secs(20), "the update is sent", || async {
        emulator()
            .calls()
            .await
            .since(&before_edit)
            .count(&setup.server, "UpdateHttpNamespace")
            >= 1
    })
    .await;
    let sent = tokio::time::Instant::now();
    assert_eq!(
        status_writes(&follower),
        0.0,
        "a follower writes no status\n{}",
        follower.log()
    );
    assert!(status_writes(&leader) > 0.0, "{}", leader.log());

    // Cut off from the lease table mid-change: no lease write succeeds any more.
    emulator()
        .set_profile(
            &[&own.own],
            serde_json::json!({"faults": {"http500": 1.0, "operations": ["UpdateItem"]}}),
        )
        .await;
    // The last renewal was sent before the cut: the lease has expired 3s after it.
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    let expired = emulator().calls().await;
    // Past the end of the Cloud Map operation, when the change would go on with the tags.
    tokio::time::sleep_until(sent + Duration::from_secs(10)).await;
    let calls = emulator().calls().await.since(&expired);
    assert!(
        calls.mutating_operations(&setup.server).is_empty(),
        "a change after the lease expired: {:?}\n{}",
        calls.operations(&setup.server),
        leader.log()
    );
    assert!(
        leader.log().contains("stopped leading mid-change"),
        "the change was cut off, not finished: {}",
        leader.log()
    );
    assert_eq!(team_tag(&setup).await.as_deref(), Some("a"));

    // Back on the lease table: a leader finishes the change.
    emulator()
        .set_profile(&[&own.own], serde_json::Value::Null)
        .await;
    eventually(
        Duration::from_secs(30),
        "the change is finished",
        || async {
            team_tag(&setup).await.as_deref() == Some("b")
                && setup.namespaces(&setup.server).await[0].1.as_deref() == Some("Lambda v2")
        },
    )
    .await;
}

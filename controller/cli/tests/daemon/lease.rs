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

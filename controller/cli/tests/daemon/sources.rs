use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use ecs_topology_testkit::create_table;

use crate::harness::*;

#[tokio::test]
async fn the_daemon_follows_documents_added_changed_and_removed_in_s3() {
    let setup = Setup::new("").await;
    setup.put("a.yaml", &namespace_doc("alpha", "Alpha")).await;
    setup.put("b.yaml", &namespace_doc("beta", "Beta")).await;
    let daemon = setup.start(&setup.s3_source());
    setup
        .until_namespaces(2, Duration::from_secs(30), "both namespaces")
        .await;
    daemon.until_ready(Duration::from_secs(10)).await;

    setup
        .put("a.yaml", &namespace_doc("alpha", "Alpha v2"))
        .await;
    eventually(
        Duration::from_secs(20),
        "the description follows",
        || async {
            setup
                .namespaces(&setup.server)
                .await
                .contains(&("alpha.internal".into(), Some("Alpha v2".into())))
        },
    )
    .await;
    setup.delete("b.yaml").await;
    setup.put("c.yaml", &namespace_doc("gamma", "Gamma")).await;
    eventually(
        Duration::from_secs(20),
        "beta pruned, gamma created",
        || async {
            setup.namespace_names(&setup.server).await == ["alpha.internal", "gamma.internal"]
        },
    )
    .await;
    eventually(
        Duration::from_secs(10),
        "status forgets the pruned document",
        || async {
            let (code, status) = daemon.get("/status");
            let status: serde_json::Value = serde_json::from_str(&status).unwrap_or_default();
            code == 200 && status["documents"].as_array().map(Vec::len) == Some(2)
        },
    )
    .await;
    // The status writer removes the file after the record left /status (it writes apart from
    // the workers).
    let stored = setup.dir.join("status/CloudMapNamespace/beta.json");
    eventually(
        Duration::from_secs(10),
        "and so does the status store",
        || async { !stored.exists() },
    )
    .await;
}

#[tokio::test]
async fn drift_made_by_another_client_is_corrected_within_one_poll() {
    let setup = Setup::new("").await;
    let _daemon = setup.start_on_one_namespace("delta", "Delta").await;
    setup.drift_namespace_by_hand().await;
    let changed_at = std::time::Instant::now();
    eventually(Duration::from_secs(10), "corrected", || async {
        setup.namespaces(&setup.server).await[0].1.as_deref() == Some("Delta")
    })
    .await;
    // Poll interval 1 s: corrected within a poll and a reconcile.
    assert!(
        changed_at.elapsed() < Duration::from_secs(5),
        "{:?}",
        changed_at.elapsed()
    );
}

#[tokio::test]
async fn an_emptied_bucket_deletes_nothing_and_shows_in_metrics() {
    let setup = Setup::new("").await;
    let daemon = setup.start_on_one_namespace("kept", "Kept").await;
    setup.delete("a.yaml").await;
    daemon
        .until_counted(
            "ecs_topology_prune_blocked_total",
            Duration::from_secs(20),
            "the prune is held back",
        )
        .await;
    assert_eq!(
        setup.namespaces(&setup.server).await.len(),
        1,
        "nothing was deleted"
    );
}

#[tokio::test]
async fn a_source_that_cannot_be_read_is_not_ready_and_deletes_nothing() {
    let setup = Setup::new("").await;
    let mut daemon = setup.start("s3://no-such-bucket-here/topology/");
    daemon
        .until_healthy(Duration::from_secs(20), "healthy")
        .await;
    let (code, body) = daemon.get("/readyz");
    assert_eq!(code, 503, "not ready before the first full load: {body}");
    daemon.terminate_cleanly(Duration::from_secs(10));
}

#[tokio::test]
async fn the_daemon_follows_documents_in_a_dynamodb_table() {
    let setup = Setup::new("").await;
    let table = format!("docs-{}", setup.server);
    let ddb = dynamodb().await;
    create_table(&ddb, &table).await;
    let put = |pk: &str, text: String, version: i64| {
        ddb.put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S(pk.into()))
            .item("document", AttributeValue::S(text))
            .item("version", AttributeValue::N(version.to_string()))
            .send()
    };
    put("CloudMapNamespace/eta", namespace_doc("eta", "Eta"), 1)
        .await
        .unwrap();
    put(
        "CloudMapNamespace/theta",
        namespace_doc("theta", "Theta"),
        1,
    )
    .await
    .unwrap();
    let _daemon = setup.start(&format!("dynamodb://{table}"));
    setup
        .until_namespaces(2, Duration::from_secs(30), "both")
        .await;
    put("CloudMapNamespace/eta", namespace_doc("eta", "Eta v2"), 2)
        .await
        .unwrap();
    ddb.delete_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("CloudMapNamespace/theta".into()))
        .send()
        .await
        .unwrap();
    eventually(Duration::from_secs(20), "changed and pruned", || async {
        setup.namespaces(&setup.server).await
            == [("eta.internal".to_owned(), Some("Eta v2".to_owned()))]
    })
    .await;
}

//! Objects never leak: a document moved to another account, a removed service of a cluster no
//! document names any more, and a lost status store still leave nothing of the controller's
//! behind. Each is found by the owner tag across the configured accounts and regions.

use crate::world::*;

#[tokio::test]
async fn a_document_moved_to_another_account_leaves_nothing_behind() {
    let w = World::new();
    w.write("ns.yaml", &namespace_doc("orders", "server", "", "Orders"));
    w.apply_exits(0);
    assert!(
        w.namespaces(&w.server)
            .await
            .contains_key("orders.internal")
    );

    w.write("ns.yaml", &namespace_doc("orders", "client", "", "Orders"));
    let plan = w.plan_exits(2);
    assert!(
        plan.contains("create CloudMapNamespace/orders")
            && plan.contains("delete CloudMapNamespace/orders"),
        "the new one made and the old one removed: {plan}"
    );
    w.apply_exits(0);
    assert!(
        w.namespaces(&w.client)
            .await
            .contains_key("orders.internal")
    );
    assert!(
        w.namespaces(&w.server).await.is_empty(),
        "the namespace in the old account is deleted"
    );
    w.plan_exits(0);
}

#[tokio::test]
async fn a_removed_document_is_pruned_after_the_status_store_was_lost() {
    let w = World::new();
    w.write("ns.yaml", &namespace_doc("orders", "server", "", "Orders"));
    w.write("keep.yaml", &namespace_doc("keep", "client", "", "Keep"));
    w.apply_exits(0);

    // Nothing remembers where `orders` lived: only the sweep of the configured accounts finds it.
    std::fs::remove_dir_all(w.dir.join("status")).unwrap();
    w.remove("ns.yaml");
    w.apply_exits(0);
    assert!(w.namespaces(&w.server).await.is_empty());
    assert!(w.namespaces(&w.client).await.contains_key("keep.internal"));
}

#[tokio::test]
async fn the_removed_only_service_of_a_cluster_no_document_names_is_deleted() {
    let w = World::new();
    let net = w.network(&w.server, 44, true).await;
    w.cluster(&w.server, "payments").await;
    w.write(
        "api.yaml",
        &express_doc("api", "server", &net, "", "  cluster: payments\n"),
    );
    w.write("web.yaml", &express_doc("web", "server", &net, "", ""));
    w.apply_exits(0);
    assert!(
        w.express_services(&w.server, REGION, "payments")
            .await
            .contains_key("api")
    );

    // The status store is lost too: no record names the cluster.
    std::fs::remove_dir_all(w.dir.join("status")).unwrap();
    w.remove("api.yaml");
    let (_, calls) = w.apply_counted(0).await;
    assert_eq!(
        calls.mutating_operations(&w.server),
        ["DeleteExpressGatewayService"],
        "found by its owner tag and deleted"
    );
    assert!(
        w.express_services(&w.server, REGION, "payments")
            .await
            .is_empty()
    );
    assert!(
        w.express_services(&w.server, REGION, "default")
            .await
            .contains_key("web")
    );
}

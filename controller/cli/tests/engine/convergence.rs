use crate::world::*;

#[tokio::test]
async fn from_nothing_to_converged_in_two_accounts_and_the_consumer_sees_the_namespace() {
    let w = World::new();
    w.write(
        "ns.yaml",
        &namespace_doc("payments", "server", "", "Payments"),
    );
    w.write(
        "share.yaml",
        &share_doc("payments-to-client", "payments", "client"),
    );

    let (code, plan) = w.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("create CloudMapNamespace/payments"), "{plan}");
    assert!(
        plan.contains("waiting NamespaceShare/payments-to-client"),
        "{plan}"
    );

    let (code, out) = w.apply();
    assert_eq!(code, 0, "{out}");
    let namespaces = w.namespaces(&w.server).await;
    let (_, arn) = namespaces
        .get("payments.internal")
        .expect("the namespace exists in the server account");
    assert_eq!(
        w.shared_with(&w.client).await,
        vec![arn.clone()],
        "the client account sees the namespace"
    );

    let share = condition(&w.status("NamespaceShare/payments-to-client"), "Ready").clone();
    assert_eq!(share["status"], "True", "{share}");
    let ns = w.status("CloudMapNamespace/payments");
    assert_eq!(condition(&ns, "Synced")["status"], "True");
    assert_eq!(condition(&ns, "Drifted")["status"], "False");

    let (code, plan) = w.plan();
    assert_eq!(code, 0, "a converged topology plans nothing: {plan}");
}

#[tokio::test]
async fn a_second_apply_on_a_converged_topology_makes_read_calls_only() {
    let w = World::new();
    w.write("ns.yaml", &namespace_doc("orders", "server", "", "Orders"));
    w.write(
        "share.yaml",
        &share_doc("orders-to-client", "orders", "client"),
    );
    assert_eq!(w.apply().0, 0);
    let before = w.calls().await;
    let (code, out) = w.apply();
    assert_eq!(code, 0, "{out}");
    let calls = w.calls().await.since(&before);
    assert_eq!(
        calls.mutating(&w.server),
        0,
        "{:?}",
        calls.operations(&w.server)
    );
    assert_eq!(
        calls.mutating(&w.client),
        0,
        "{:?}",
        calls.operations(&w.client)
    );
    assert!(calls.total(&w.server) > 0, "it did observe");
}

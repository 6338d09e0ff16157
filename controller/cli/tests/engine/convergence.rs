use crate::world::*;

#[tokio::test]
async fn from_nothing_to_converged_in_two_accounts_and_the_consumer_sees_the_namespace() {
    let w = World::new();
    w.write_shared_namespace("payments", "Payments");

    let plan = w.plan_exits(2);
    assert_has(&plan, "create CloudMapNamespace/payments");
    assert_has(&plan, "waiting NamespaceShare/payments-to-client");

    w.apply_exits(0);
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

    // A converged topology plans nothing.
    w.plan_exits(0);
}

#[tokio::test]
async fn a_second_apply_on_a_converged_topology_makes_read_calls_only() {
    let w = World::new();
    w.write_shared_namespace("orders", "Orders");
    w.apply_exits(0);
    let (_, calls) = w.apply_counted(0).await;
    calls.assert_read_only(&w.server);
    calls.assert_read_only(&w.client);
    assert!(calls.total(&w.server) > 0, "it did observe");
}

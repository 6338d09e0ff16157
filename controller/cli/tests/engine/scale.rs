use std::collections::BTreeSet;

use ecs_topology_testkit::emulator;
use serde_json::json;

use crate::world::*;

/// Budgets generous enough for a test: the defaults for Cloud Map and RAM are AWS-cautious.
const FAST: &str = "rateBudgets:\n  cloudmap: {burst: 500, refillPerSecond: 500}\n  ram: {burst: 500, refillPerSecond: 500}\n  tagging: {burst: 500, refillPerSecond: 500}\nconcurrency: 16\n";

/// Namespaces and shares both ways between the two accounts: `n` in each direction.
fn both_ways(w: &World, n: usize) {
    let mut docs = String::new();
    for (owner, consumer) in [("server", "client"), ("client", "server")] {
        for i in 0..n {
            let name = format!("{owner}-{i}");
            docs += &namespace_doc(&name, owner, "", "Bulk");
            docs += "---\n";
            docs += &share_doc(&format!("{name}-share"), &name, consumer)
                .replace("account: server", &format!("account: {owner}"));
            docs += "---\n";
        }
    }
    w.write("bulk.yaml", &docs);
}

#[tokio::test]
async fn a_converged_rerun_with_a_hundred_namespaces_and_shares_makes_only_list_calls() {
    let w = World::new();
    w.write_config(FAST);
    both_ways(&w, 50);
    let (code, out) = w.apply();
    assert_eq!(code, 0, "{out}");
    assert_eq!(w.namespaces(&w.server).await.len(), 50);
    assert_eq!(w.shared_with(&w.client).await.len(), 50);

    let before = w.calls().await;
    let (code, out) = w.apply();
    assert_eq!(code, 0, "{out}");
    let calls = w.calls().await.since(&before);
    let batch: BTreeSet<&str> = [
        "ListNamespaces",
        "GetResources",
        "GetResourceShares",
        "GetResourceShareAssociations",
        "DescribeVpcEndpoints",
        "DescribeVpcPeeringConnections",
    ]
    .into();
    for account in [&w.server, &w.client] {
        let ops = calls.operations(account);
        for op in ops.keys() {
            assert!(
                batch.contains(op.as_str()),
                "a per-object or mutating call {op} in {ops:?}"
            );
        }
        // Per account: one listing of the namespaces it owns and those shared with it (100 in
        // all, one page) + their tags, shares, two association kinds and one permission pass;
        // each fits in one page (100 / 500 a page). `apply --once` also sweeps each configured
        // account for objects of the other kinds by the owner tag: one endpoint listing, one
        // peering listing, one search for tagged ECS services (none found, so no cluster is
        // listed) and one for ECS services claimed by Service Connect bindings (none).
        assert_eq!(calls.count(account, "ListNamespaces"), 1, "{ops:?}");
        assert_eq!(calls.count(account, "GetResources"), 3, "{ops:?}");
        assert_eq!(calls.count(account, "DescribeVpcEndpoints"), 1, "{ops:?}");
        assert_eq!(
            calls.count(account, "DescribeVpcPeeringConnections"),
            1,
            "{ops:?}"
        );
        assert_eq!(calls.count(account, "GetResourceShares"), 2, "{ops:?}");
        assert_eq!(
            calls.count(account, "GetResourceShareAssociations"),
            2,
            "{ops:?}"
        );
    }
}

#[tokio::test]
async fn under_the_throttling_profile_the_run_is_slower_but_converges() {
    let w = World::new();
    w.write_config("rateBudgets:\n  cloudmap: {burst: 50, refillPerSecond: 20}\n");
    both_ways(&w, 4);
    let tight = json!({"throttle": {"families": {
        "servicediscovery:CreateHttpNamespace": {"burst": 1, "refill": 2},
        "servicediscovery:GetOperation": {"burst": 2, "refill": 4},
        "ram:CreateResourceShare": {"burst": 1, "refill": 2},
    }}});
    emulator()
        .set_profile(&[w.server.as_str(), w.client.as_str()], tight)
        .await;
    let (code, out) = w.apply();
    emulator()
        .set_profile(
            &[w.server.as_str(), w.client.as_str()],
            serde_json::Value::Null,
        )
        .await;
    assert_eq!(
        code, 0,
        "no throttling error surfaces as a failed document: {out}"
    );
    let calls = w.calls().await;
    assert!(calls.throttled(&w.server) > 0, "the profile did throttle");
    assert_eq!(w.namespaces(&w.server).await.len(), 4);
    assert_eq!(w.shared_with(&w.server).await.len(), 4);
    assert_eq!(w.plan().0, 0);
}

//! The physical limits a run is judged against, computed from the topology alone: the batch
//! minimum of one observation pass (page sizes of AWS's list calls), the naive per-object cost,
//! and the throttle-bound minimum of the initial convergence (AWS's token-bucket rates, as the
//! emulator's throttling profile applies them).

use std::collections::BTreeMap;

use crate::topology::{GATEWAY_SERVICES, INTERFACE_SERVICES, ScopeCounts, Topology};

/// Page sizes (`../shared/reference/aws-limits.md`).
pub const LIST_NAMESPACES_PAGE: usize = 100;
pub const GET_RESOURCE_SHARES_PAGE: usize = 500;
pub const DESCRIBE_VPC_ENDPOINTS_PAGE: usize = 1_000;
pub const LIST_SERVICES_PAGE: usize = 100;
pub const DESCRIBE_SERVICES_BATCH: usize = 10;
/// `tag:GetResources` returns at most 100 resources a page (`ResourcesPerPage`).
pub const GET_RESOURCES_PAGE: usize = 100;

/// The fewest calls one observation pass of `c` can make: per kind present, the pages of its
/// list call (shares also need their association pages; Express services need
/// `ListServices` pages per cluster and `DescribeServices` ten at a time).
pub fn batch_minimum_of(c: &ScopeCounts) -> BTreeMap<&'static str, usize> {
    let mut calls = BTreeMap::new();
    if c.namespaces > 0 {
        calls.insert(
            "ListNamespaces",
            c.namespaces.div_ceil(LIST_NAMESPACES_PAGE),
        );
    }
    if c.shares > 0 {
        let pages = c.shares.div_ceil(GET_RESOURCE_SHARES_PAGE);
        calls.insert("GetResourceShares", pages);
        calls.insert("GetResourceShareAssociations", pages);
    }
    if c.endpoints > 0 {
        calls.insert(
            "DescribeVpcEndpoints",
            c.endpoints.div_ceil(DESCRIBE_VPC_ENDPOINTS_PAGE),
        );
    }
    if c.express_services > 0 {
        calls.insert(
            "ListServices",
            c.express_services.div_ceil(LIST_SERVICES_PAGE) * c.express_clusters.max(1),
        );
        calls.insert(
            "DescribeServices",
            c.express_services.div_ceil(DESCRIBE_SERVICES_BATCH),
        );
    }
    calls
}

/// The fewest calls that return everything the plan compares, at the largest page sizes. The
/// batch minimum above counts one list per kind; three facts of AWS's APIs add reads to it:
/// - `ListNamespaces` returns no tags, and ownership is a tag: the owned namespaces' tags come
///   from `tag:GetResources`, 100 a page; and the namespaces shared into the scope (whose
///   visibility makes a share Ready) come in the same listing, so they count in its pages;
/// - `GetResourceShareAssociations` requires `associationType`: principals and resources are
///   two listings;
/// - `GetResourceShares` does not return a share's permission: one more `GetResourceShares`
///   filtered by the permission the documents ask for tells it for every share at once.
pub fn read_minimum_of(c: &ScopeCounts) -> BTreeMap<&'static str, usize> {
    let mut calls = batch_minimum_of(c);
    let listed = c.namespaces + c.shared_in;
    if listed > 0 {
        calls.insert("ListNamespaces", listed.div_ceil(LIST_NAMESPACES_PAGE));
    }
    if c.namespaces > 0 {
        calls.insert("GetResources", c.namespaces.div_ceil(GET_RESOURCES_PAGE));
    }
    if c.shares > 0 {
        let pages = c.shares.div_ceil(GET_RESOURCE_SHARES_PAGE);
        calls.insert("GetResourceShares", 2 * pages);
        calls.insert("GetResourceShareAssociations", 2 * pages);
    }
    calls
}

fn sum_over(
    t: &Topology,
    of: fn(&ScopeCounts) -> BTreeMap<&'static str, usize>,
) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in t.scopes.values() {
        for (op, n) in of(c) {
            *out.entry(op.to_owned()).or_insert(0) += n;
        }
    }
    out
}

/// The batch minimum of the whole topology, per operation.
pub fn batch_minimum(t: &Topology) -> BTreeMap<String, usize> {
    sum_over(t, batch_minimum_of)
}

/// The read minimum of the whole topology, per operation.
pub fn read_minimum(t: &Topology) -> BTreeMap<String, usize> {
    sum_over(t, read_minimum_of)
}

/// AWS objects the topology manages: namespaces, shares, VPC endpoints, Express services.
pub fn objects(t: &Topology) -> usize {
    t.scopes
        .values()
        .map(|c| c.namespaces + c.shares + c.endpoints + c.express_services)
        .sum()
}

/// The naive approach, per operation: one describe per object per pass (`GetNamespace`,
/// `GetResourceShares` by ARN, `DescribeVpcEndpoints` by id, `DescribeExpressGatewayService`),
/// as Terraform refresh and Crossplane/ACK-style controllers do.
pub fn naive(t: &Topology) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in t.scopes.values() {
        for (op, n) in [
            ("GetNamespace", c.namespaces),
            ("GetResourceShares", c.shares),
            ("DescribeVpcEndpoints", c.endpoints),
            ("DescribeExpressGatewayService", c.express_services),
        ] {
            if n > 0 {
                *out.entry(op.to_owned()).or_insert(0) += n;
            }
        }
    }
    out
}

/// A token bucket: burst and refill per second.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Bucket {
    pub burst: f64,
    pub refill: f64,
}

/// The bucket of an operation under the emulator's `{"throttle": true}` profile (mirrors
/// `family_of` in `tests/emulator/ecs_topology_emulator/realism.py`): `(family, bucket)`.
pub fn family_of(service: &str, operation: &str) -> (String, Bucket) {
    let b = |burst, refill| Bucket { burst, refill };
    let read = is_read(operation);
    match (service, operation) {
        ("ec2", "CreateVpcEndpoint" | "ModifyVpcEndpoint" | "DeleteVpcEndpoints") => {
            (format!("ec2:{operation}"), b(4.0, 0.3))
        }
        ("ecs", "DescribeServices" | "ListServices") => {
            ("ecs:service-reads".into(), b(100.0, 20.0))
        }
        ("ecs", "CreateService" | "UpdateService" | "DeleteService") => {
            ("ecs:service-changes".into(), b(50.0, 5.0))
        }
        ("ecs", "ListTagsForResource") => ("ecs:ListTagsForResource".into(), b(50.0, 20.0)),
        _ if read => (format!("{service}:{operation}"), b(100.0, 20.0)),
        _ => (format!("{service}:{operation}"), b(50.0, 5.0)),
    }
}

/// Whether an operation only reads (as the emulator decides it).
pub fn is_read(operation: &str) -> bool {
    ecs_topology_testkit::is_read(operation)
}

/// The creates a topology needs, per (account, region, service, operation): one
/// `CreateHttpNamespace` per namespace, one `CreateResourceShare` per share, one
/// `CreateVpcEndpoint` per endpoint, one `CreateExpressGatewayService` per Express service.
pub fn creates(t: &Topology) -> BTreeMap<(String, String, String, String), usize> {
    let mut out = BTreeMap::new();
    for ((account, region), c) in &t.scopes {
        for (service, op, n) in [
            ("servicediscovery", "CreateHttpNamespace", c.namespaces),
            ("ram", "CreateResourceShare", c.shares),
            (
                "ec2",
                "CreateVpcEndpoint",
                c.endpoint_sets * (INTERFACE_SERVICES.len() + GATEWAY_SERVICES.len()),
            ),
            ("ecs", "CreateExpressGatewayService", c.express_services),
        ] {
            if n > 0 {
                out.insert(
                    (
                        account.clone(),
                        region.clone(),
                        service.to_owned(),
                        op.to_owned(),
                    ),
                    n,
                );
            }
        }
    }
    out
}

/// The throttle-bound minimum: the time the slowest bucket needs to admit the calls it must
/// serve, with buckets starting full and every bucket drained in parallel:
/// `max over (account, region, family) of max(0, calls − burst) / refill`. Returns the seconds
/// and the bucket that bounds them.
pub fn throttle_minimum(
    calls: &BTreeMap<(String, String, String, String), usize>,
) -> (f64, Option<String>) {
    let mut per_bucket: BTreeMap<(String, String, String), (usize, Bucket)> = BTreeMap::new();
    for ((account, region, service, op), n) in calls {
        let (family, bucket) = family_of(service, op);
        let entry = per_bucket
            .entry((account.clone(), region.clone(), family))
            .or_insert((0, bucket));
        entry.0 += n;
    }
    let mut worst = (0.0, None);
    for ((account, region, family), (n, bucket)) in per_bucket {
        #[allow(clippy::cast_precision_loss)]
        let seconds = ((n as f64) - bucket.burst).max(0.0) / bucket.refill;
        if seconds > worst.0 {
            worst = (
                seconds,
                Some(format!(
                    "{family} in {account}/{region}: {n} calls, burst {}, {}/s",
                    bucket.burst, bucket.refill
                )),
            );
        }
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_minimum_counts_pages() {
        let c = ScopeCounts {
            namespaces: 200,
            shares: 150,
            endpoint_sets: 50,
            endpoints: 200,
            express_services: 25,
            express_clusters: 1,
            shared_in: 150,
        };
        let m = batch_minimum_of(&c);
        assert_eq!(m["ListNamespaces"], 2);
        assert_eq!(m["GetResourceShares"], 1);
        assert_eq!(m["GetResourceShareAssociations"], 1);
        assert_eq!(m["DescribeVpcEndpoints"], 1);
        assert_eq!(m["ListServices"], 1);
        assert_eq!(m["DescribeServices"], 3);
        assert!(!m.contains_key("GetResources"));

        let r = read_minimum_of(&c);
        assert_eq!(
            r["ListNamespaces"], 4,
            "350 namespaces listed, own and shared"
        );
        assert_eq!(r["GetResources"], 2);
        assert_eq!(r["GetResourceShares"], 2);
        assert_eq!(r["GetResourceShareAssociations"], 2);
        assert_eq!(r["DescribeVpcEndpoints"], 1);
        assert_eq!(r["DescribeServices"], 3);
    }

    #[test]
    fn a_consumer_without_namespaces_still_lists_what_is_shared_with_it() {
        let c = ScopeCounts {
            shared_in: 20,
            ..ScopeCounts::default()
        };
        assert!(batch_minimum_of(&c).is_empty());
        let r = read_minimum_of(&c);
        assert_eq!(r.len(), 1);
        assert_eq!(r["ListNamespaces"], 1);
    }

    #[test]
    fn the_throttle_minimum_is_the_slowest_bucket() {
        let mut calls = BTreeMap::new();
        let key = |op: &str, service: &str| {
            (
                "1".to_owned(),
                "r".to_owned(),
                service.to_owned(),
                op.to_owned(),
            )
        };
        calls.insert(key("CreateVpcEndpoint", "ec2"), 40);
        calls.insert(key("CreateHttpNamespace", "servicediscovery"), 20);
        let (seconds, bound) = throttle_minimum(&calls);
        assert!((seconds - 120.0).abs() < 1e-9, "{seconds}");
        assert!(bound.unwrap().contains("CreateVpcEndpoint"));
    }
}

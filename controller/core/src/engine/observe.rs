//! One batched observation pass.

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt};

use super::{Cloud, DesiredSet, Observation, Scope};
use crate::model::{Document, Kind};

/// Observes each scope once per kind it needs: the kinds of the documents there and `extra`
/// (where objects of removed documents were last seen), plus, for shares, the principals'
/// accounts to see what they see.
pub async fn observe<C: Cloud>(
    cloud: &C,
    desired: &DesiredSet,
    extra: &BTreeMap<Scope, BTreeSet<Kind>>,
    concurrency: usize,
) -> Observation {
    let mut wanted: BTreeMap<Scope, BTreeSet<Kind>> = extra.clone();
    let mut clusters: BTreeMap<Scope, BTreeSet<String>> = BTreeMap::new();
    let mut consumers = BTreeSet::new();
    for d in desired.documents.values() {
        let scope = (d.account.clone(), d.document.region().to_owned());
        wanted
            .entry(scope.clone())
            .or_default()
            .insert(d.document.kind());
        match &d.document {
            Document::NamespaceShare(m) => {
                for p in &m.spec.principals {
                    if let Some(id) = desired_principal_account(desired, p) {
                        consumers.insert((id, m.spec.region.clone()));
                    }
                }
            }
            Document::ExpressService(m) => {
                clusters
                    .entry(scope)
                    .or_default()
                    .insert(m.spec.cluster.clone());
            }
            _ => {}
        }
    }
    for (scope, kinds) in &mut wanted {
        // A share is planned against its namespace, which lives in the same scope.
        if kinds.contains(&Kind::NamespaceShare) {
            kinds.insert(Kind::CloudMapNamespace);
        }
        if kinds.contains(&Kind::ExpressService) {
            clusters
                .entry(scope.clone())
                .or_default()
                .insert("default".to_owned());
        }
    }
    let permissions = desired.share_permissions();
    let jobs: Vec<(Scope, Kind)> = wanted
        .iter()
        .flat_map(|(scope, kinds)| kinds.iter().map(move |k| (scope.clone(), *k)))
        .collect();
    let empty = BTreeSet::new();
    let owner = desired.controller.as_str();
    let results: Vec<_> = stream::iter(jobs)
        .map(|(scope, kind)| {
            let permissions = permissions.get(&scope).unwrap_or(&empty);
            let clusters = clusters.get(&scope).cloned().unwrap_or_default();
            async move {
                let result = match kind {
                    Kind::CloudMapNamespace => cloud
                        .observe_namespaces(&scope)
                        .await
                        .map(Found::Namespaces),
                    Kind::NamespaceShare => cloud
                        .observe_shares(&scope, permissions)
                        .await
                        .map(Found::Shares),
                    Kind::VpcEndpointSet => cloud
                        .observe_endpoints(&scope, owner)
                        .await
                        .map(Found::Endpoints),
                    Kind::ExpressService => cloud
                        .observe_express(&scope, &clusters)
                        .await
                        .map(Found::Express),
                };
                (scope, kind, result)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut observation = Observation::default();
    for (scope, kind, result) in results {
        match result {
            Ok(Found::Namespaces(scan)) => {
                observation.namespaces.insert(scope.clone(), scan.owned);
                observation.visible.insert(scope, scan.shared);
            }
            Ok(Found::Shares(list)) => {
                observation.shares.insert(scope, list);
            }
            Ok(Found::Endpoints(list)) => {
                observation.endpoints.insert(scope, list);
            }
            Ok(Found::Express(list)) => {
                observation.express.insert(scope, list);
            }
            Err(e) => {
                observation.failed.insert((scope, kind), e);
            }
        }
    }
    observe_look_alikes(cloud, desired, concurrency, &mut observation).await;
    // A scope whose namespaces were listed has shown what is shared with it already.
    consumers.retain(|scope| {
        !wanted
            .get(scope)
            .is_some_and(|kinds| kinds.contains(&Kind::CloudMapNamespace))
    });
    observe_visibility(cloud, &consumers, concurrency, &mut observation).await;
    observation
}

enum Found {
    Namespaces(super::NamespaceScan),
    Shares(Vec<crate::observed::ObservedShare>),
    Endpoints(Vec<crate::observed::ObservedEndpoint>),
    Express(Vec<crate::observed::ObservedExpressService>),
}

/// For endpoint sets that lack some of their endpoints, reads the other endpoints of their VPC,
/// so that an unowned look-alike blocks a create instead of being duplicated. A converged set
/// costs nothing here.
async fn observe_look_alikes<C: Cloud>(
    cloud: &C,
    desired: &DesiredSet,
    concurrency: usize,
    observation: &mut Observation,
) {
    let mut vpcs: BTreeSet<(Scope, String)> = BTreeSet::new();
    for d in desired.documents.values() {
        let Document::VpcEndpointSet(m) = &d.document else {
            continue;
        };
        let scope = (d.account.clone(), m.spec.region.clone());
        let Some(ours) = observation.endpoints.get(&scope) else {
            continue;
        };
        let key = d.document.key();
        let covered: BTreeSet<&str> = ours
            .iter()
            .filter(|e| {
                e.vpc_id == m.spec.vpc_id
                    && crate::observed::ownership(&e.tags, &desired.controller, &key)
                        == crate::observed::Ownership::Ours
            })
            .map(|e| e.service_name.as_str())
            .collect();
        let missing = m
            .spec
            .interface_services
            .iter()
            .chain(m.spec.gateway_services.iter().map(|g| &g.service))
            .any(|short| {
                !covered.contains(crate::plan::service_name(&m.spec.region, short).as_str())
            });
        if missing {
            vpcs.insert((scope, m.spec.vpc_id.clone()));
        }
    }
    let owner = desired.controller.as_str();
    let results: Vec<_> = stream::iter(vpcs)
        .map(|(scope, vpc)| async move {
            let r = cloud.endpoint_look_alikes(&scope, &vpc, owner).await;
            (scope, r)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    for (scope, result) in results {
        match result {
            Ok(found) => {
                let list = observation.endpoints.entry(scope).or_default();
                for e in found {
                    if !list.iter().any(|x| x.id == e.id) {
                        list.push(e);
                    }
                }
            }
            Err(e) => {
                observation.failed.insert((scope, Kind::VpcEndpointSet), e);
            }
        }
    }
}

/// Looks from each consumer scope at the namespaces shared with it.
pub(crate) async fn observe_visibility<C: Cloud>(
    cloud: &C,
    consumers: &BTreeSet<Scope>,
    concurrency: usize,
    observation: &mut Observation,
) {
    let results: Vec<_> = stream::iter(consumers.iter().cloned())
        .map(|scope| async move {
            let r = cloud.visible_namespaces(&scope).await;
            (scope, r)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    for (scope, result) in results {
        match result {
            Ok(Some(arns)) => {
                observation.visible.insert(scope, arns);
            }
            Ok(None) => {
                observation.visible.remove(&scope);
            }
            Err(_) => {
                // Visibility only decides readiness; an error leaves it unknown.
                observation.visible.remove(&scope);
            }
        }
    }
}

/// The account id of a principal written as an id or alias (`None` for Organization/OU ARNs).
pub(crate) fn desired_principal_account(desired: &DesiredSet, principal: &str) -> Option<String> {
    if principal.starts_with("arn:") {
        return None;
    }
    if crate::validate::rules::is_account_id(principal) {
        return Some(principal.to_owned());
    }
    desired.aliases.get(principal).cloned()
}

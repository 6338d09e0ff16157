//! One batched observation pass.

use std::collections::BTreeSet;

use futures::stream::{self, StreamExt};

use super::{Cloud, DesiredSet, Observation, Scope};
use crate::model::{Document, Kind};

/// Observes each scope once per kind: the scopes of the documents and `extra` (where objects of
/// removed documents may live), plus, for shares, the principals' accounts to see what they see.
pub async fn observe<C: Cloud>(
    cloud: &C,
    desired: &DesiredSet,
    extra: &BTreeSet<Scope>,
    concurrency: usize,
) -> Observation {
    let scopes: BTreeSet<Scope> = desired
        .scopes()
        .into_iter()
        .chain(extra.iter().cloned())
        .collect();
    let permissions = desired.share_permissions();
    let mut consumers = BTreeSet::new();
    for d in desired.documents.values() {
        if let Document::NamespaceShare(m) = &d.document {
            for p in &m.spec.principals {
                if let Some(id) = desired_principal_account(desired, p) {
                    consumers.insert((id, m.spec.region.clone()));
                }
            }
        }
    }
    let mut observation = Observation::default();
    let namespace_results: Vec<_> = stream::iter(scopes.iter().cloned())
        .map(|scope| async move {
            let r = cloud.observe_namespaces(&scope).await;
            (scope, r)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    for (scope, result) in namespace_results {
        match result {
            Ok(list) => {
                observation.namespaces.insert(scope, list);
            }
            Err(e) => {
                observation
                    .failed
                    .insert((scope, Kind::CloudMapNamespace), e);
            }
        }
    }
    let empty = BTreeSet::new();
    let share_results: Vec<_> = stream::iter(scopes.iter().cloned())
        .map(|scope| {
            let wanted = permissions.get(&scope).unwrap_or(&empty);
            async move {
                let r = cloud.observe_shares(&scope, wanted).await;
                (scope, r)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    for (scope, result) in share_results {
        match result {
            Ok(list) => {
                observation.shares.insert(scope, list);
            }
            Err(e) => {
                observation.failed.insert((scope, Kind::NamespaceShare), e);
            }
        }
    }
    observe_visibility(cloud, &consumers, concurrency, &mut observation).await;
    observation
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

//! One batched observation pass.

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt};

use super::resource::{Patch, Resource};
use super::{DesiredSet, Observation, Scope};
use crate::kinds::{Cloud, for_kind};
use crate::model::Kind;

/// Observes each scope once per kind it needs: the kinds of the documents there, the kinds those
/// need, and `extra` (where objects of removed documents were last seen); then what each kind
/// looks at beyond its scopes (what the consumers of shares see).
pub async fn observe<C: Cloud>(
    cloud: &C,
    desired: &DesiredSet,
    extra: &BTreeMap<Scope, BTreeSet<Kind>>,
    concurrency: usize,
) -> Observation {
    let mut wanted: BTreeMap<Scope, BTreeSet<Kind>> = extra.clone();
    for (scope, keys) in &desired.by_scope {
        let kinds = wanted.entry(scope.clone()).or_default();
        for key in keys {
            kinds.insert(key.kind);
            kinds.extend(for_kind!(key.kind, R => R::needs()).iter().copied());
        }
    }
    let jobs: Vec<(Scope, Kind)> = wanted
        .iter()
        .flat_map(|(scope, kinds)| kinds.iter().map(move |k| (scope.clone(), *k)))
        .collect();
    let results: Vec<Patch> = stream::iter(jobs)
        .map(|(scope, kind)| async move {
            for_kind!(kind, R => observe_scope::<R, C>(cloud, desired, scope).await)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut observation = Observation::new(&desired.controller);
    for patch in results {
        patch(&mut observation);
    }
    for kind in Kind::ALL {
        let more =
            for_kind!(kind, R => R::observe_more(cloud, desired, &observation, concurrency).await);
        if let Some(patch) = more {
            patch(&mut observation);
        }
    }
    observation
}

/// Observes `R` in one scope; the result, or the failure, as a patch of the observation.
async fn observe_scope<R: Resource, C: Cloud>(
    cloud: &C,
    desired: &DesiredSet,
    scope: Scope,
) -> Patch {
    match R::observe(cloud, desired, &scope).await {
        Ok(scan) => Box::new(move |o: &mut Observation| R::store(scan, o, scope)),
        Err(e) => Box::new(move |o: &mut Observation| {
            o.failed.insert((scope, R::KIND), e);
        }),
    }
}

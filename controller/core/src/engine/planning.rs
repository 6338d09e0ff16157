//! Planning every document of a pass from the desired set and the observation (pure).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::observe::desired_principal_account;
use super::{DesiredSet, Observation, Scope};
use crate::model::{Document, KEY_TAG, Key, Kind, OWNER_TAG, Policies};
use crate::observed::{Seen, Tagged, owned_key_tag, permission_arn};
use crate::plan::{
    DesiredEndpointSet, DesiredExpressService, DesiredNamespace, DesiredShare, DocumentPlan,
    PruneGate, Verb, plan_endpoint_set, plan_express, plan_namespace, plan_share,
};
use crate::prune::prune_gate;

/// A document's plan with where it applies.
#[derive(Debug, Clone)]
pub struct Planned {
    pub plan: DocumentPlan,
    /// Where the object lives (the document's scope, or where a removed document's object was
    /// seen); `None` when unknown.
    pub scope: Option<Scope>,
}

/// How many orphans would be deleted (not retained): what the prune limit counts.
pub fn deletable(desired: &DesiredSet, observed: &Observation) -> usize {
    count_deletable(&orphan_tags(desired, observed).collect::<Vec<_>>())
}

fn count_deletable(orphans: &[(Key, &Scope, &BTreeMap<String, String>)]) -> usize {
    orphans
        .iter()
        .filter(|(_, _, tags)| {
            crate::plan::recorded_deletion_policy(tags) == crate::model::DeletionPolicy::Delete
        })
        .map(|(key, _, _)| key)
        .collect::<BTreeSet<_>>()
        .len()
}

fn orphan_tags<'a>(
    desired: &'a DesiredSet,
    observed: &'a Observation,
) -> impl Iterator<Item = (Key, &'a Scope, &'a BTreeMap<String, String>)> + 'a {
    let tagged = observed
        .namespaces
        .iter()
        .flat_map(|(scope, list)| list.iter().map(move |ns| (scope, &ns.tags)))
        .chain(
            observed
                .shares
                .iter()
                .flat_map(|(scope, list)| list.iter().map(move |s| (scope, &s.tags))),
        )
        .chain(
            observed
                .endpoints
                .iter()
                .flat_map(|(scope, list)| list.iter().map(move |e| (scope, &e.tags))),
        )
        .chain(observed.express.iter().flat_map(|(scope, list)| {
            list.iter()
                .filter(|s| s.status != "INACTIVE")
                .map(move |s| (scope, &s.tags))
        }));
    tagged.filter_map(move |(scope, tags)| {
        if tags.get(OWNER_TAG).map(String::as_str) != Some(desired.controller.as_str()) {
            return None;
        }
        let key = tags.get(KEY_TAG).and_then(|k| Key::parse(k))?;
        (!desired.documents.contains_key(&key) && !desired.rejected.contains(&key))
            .then_some((key, scope, tags))
    })
}

/// Keys of objects this controller owns that no document (valid or rejected) asks for, with the
/// scope each was seen in.
pub fn orphans(desired: &DesiredSet, observed: &Observation) -> BTreeMap<Key, Scope> {
    orphan_tags(desired, observed)
        .map(|(key, scope, _)| (key, scope.clone()))
        .collect()
}

/// Plans every document and every orphan.
pub fn plan_all(
    desired: &DesiredSet,
    observed: &Observation,
    prune: &crate::config::PruneConfig,
) -> Vec<Planned> {
    let found: Vec<_> = orphan_tags(desired, observed).collect();
    let gate = prune_gate(prune, desired.health, count_deletable(&found));
    let orphans: BTreeMap<Key, Scope> = found
        .into_iter()
        .map(|(key, scope, _)| (key, scope.clone()))
        .collect();
    let index = KeyIndex::new(desired.controller.as_str(), observed);
    let mut keys: Vec<&Key> = desired.documents.keys().chain(orphans.keys()).collect();
    keys.sort_by(|a, b| Key::dependency_order(a, b));
    keys.into_iter()
        .map(|key| {
            plan_key_with(
                desired,
                observed,
                Some(&index),
                key,
                orphans.get(key),
                &gate,
            )
        })
        .collect()
}

/// The objects of one kind this controller owns, by scope and key tag.
type Keyed<'a, T> = HashMap<(&'a Scope, &'a str), Vec<&'a T>>;

/// The controller's own objects indexed by scope and key tag, built once for a pass of
/// [`plan_all`], so that each document finds its objects without scanning its scope (which
/// makes planning a scope quadratic in its size).
struct KeyIndex<'a> {
    namespaces: Keyed<'a, crate::observed::ObservedNamespace>,
    shares: Keyed<'a, crate::observed::ObservedShare>,
    endpoints: Keyed<'a, crate::observed::ObservedEndpoint>,
    express: Keyed<'a, crate::observed::ObservedExpressService>,
}

impl<'a> KeyIndex<'a> {
    fn new(controller: &str, observed: &'a Observation) -> Self {
        KeyIndex {
            namespaces: keyed(controller, &observed.namespaces),
            shares: keyed(controller, &observed.shares),
            endpoints: keyed(controller, &observed.endpoints),
            express: keyed(controller, &observed.express),
        }
    }
}

fn keyed<'a, T: Tagged>(controller: &str, by_scope: &'a BTreeMap<Scope, Vec<T>>) -> Keyed<'a, T> {
    let mut out: Keyed<'a, T> = HashMap::new();
    for (scope, list) in by_scope {
        for object in list {
            if let Some(tag) = owned_key_tag(object.tags(), controller) {
                out.entry((scope, tag)).or_default().push(object);
            }
        }
    }
    out
}

/// What a plan sees of `scope`: every object there, and those indexed under `key` when there is
/// an index.
fn seen<'a, T>(
    by_scope: &'a BTreeMap<Scope, Vec<T>>,
    index: Option<&'a Keyed<'a, T>>,
    scope: &'a Scope,
    key: &'a str,
) -> Seen<'a, T> {
    let all = by_scope.get(scope).map(Vec::as_slice).unwrap_or(&[]);
    match index {
        None => Seen::from(all),
        Some(index) => Seen::indexed(
            all,
            index.get(&(scope, key)).map(Vec::as_slice).unwrap_or(&[]),
        ),
    }
}

/// Plans one key: a document of the desired set, or an orphan seen in `orphan_scope`.
pub fn plan_key(
    desired: &DesiredSet,
    observed: &Observation,
    key: &Key,
    orphan_scope: Option<&Scope>,
    gate: &PruneGate,
) -> Planned {
    plan_key_with(desired, observed, None, key, orphan_scope, gate)
}

fn plan_key_with(
    desired: &DesiredSet,
    observed: &Observation,
    index: Option<&KeyIndex<'_>>,
    key: &Key,
    orphan_scope: Option<&Scope>,
    gate: &PruneGate,
) -> Planned {
    let controller = desired.controller.as_str();
    let doc = desired.documents.get(key);
    let scope = match (doc, orphan_scope) {
        (Some(d), _) => (d.account.clone(), d.document.region().to_owned()),
        (None, Some(scope)) => scope.clone(),
        (None, None) => {
            return Planned {
                plan: DocumentPlan::new(key.clone(), Verb::InSync),
                scope: None,
            };
        }
    };
    // Failures are few; finding one this way spares every document a copy of its scope.
    let failed = observed
        .failed
        .iter()
        .find(|((at, kind), _)| *kind == key.kind && *at == scope);
    if let Some((_, error)) = failed {
        return Planned {
            plan: DocumentPlan::new(key.clone(), Verb::Blocked).because(format!(
                "cannot observe account {} region {}: {}",
                scope.0, scope.1, error.message
            )),
            scope: Some(scope),
        };
    }
    let tag = key.to_string();
    let plan = match key.kind {
        Kind::CloudMapNamespace => {
            let list = seen(
                &observed.namespaces,
                index.map(|i| &i.namespaces),
                &scope,
                &tag,
            );
            let want = doc.and_then(|d| match &d.document {
                Document::CloudMapNamespace(m) => Some(DesiredNamespace {
                    spec: &m.spec,
                    policies: &d.policies,
                }),
                _ => None,
            });
            plan_namespace(controller, key, want, list, gate)
        }
        Kind::NamespaceShare => {
            let list = seen(&observed.shares, index.map(|i| &i.shares), &scope, &tag);
            let want = doc.and_then(|d| match &d.document {
                Document::NamespaceShare(m) => Some(desired_share_with(
                    desired,
                    observed,
                    index,
                    &m.spec,
                    &d.policies,
                )),
                _ => None,
            });
            plan_share(controller, key, want.as_ref(), list, gate)
        }
        Kind::VpcEndpointSet => {
            let list = seen(
                &observed.endpoints,
                index.map(|i| &i.endpoints),
                &scope,
                &tag,
            );
            let want = doc.and_then(|d| match &d.document {
                Document::VpcEndpointSet(m) => Some(DesiredEndpointSet {
                    spec: &m.spec,
                    policies: &d.policies,
                    region: &m.spec.region,
                }),
                _ => None,
            });
            plan_endpoint_set(controller, key, want, list, gate)
        }
        Kind::ExpressService => {
            let list = seen(&observed.express, index.map(|i| &i.express), &scope, &tag);
            let want = doc.and_then(|d| match &d.document {
                Document::ExpressService(m) => Some(DesiredExpressService {
                    spec: &m.spec,
                    policies: &d.policies,
                    last_applied: d.last_applied.as_deref(),
                }),
                _ => None,
            });
            plan_express(controller, key, want, list, gate)
        }
    };
    Planned {
        plan,
        scope: Some(scope),
    }
}

/// A share document with its principals and namespace resolved.
pub fn desired_share<'a>(
    desired: &DesiredSet,
    observed: &Observation,
    spec: &'a crate::model::NamespaceShareSpec,
    policies: &'a Policies,
) -> DesiredShare<'a> {
    desired_share_with(desired, observed, None, spec, policies)
}

fn desired_share_with<'a>(
    desired: &DesiredSet,
    observed: &Observation,
    index: Option<&KeyIndex<'_>>,
    spec: &'a crate::model::NamespaceShareSpec,
    policies: &'a Policies,
) -> DesiredShare<'a> {
    let principals: BTreeSet<String> = spec
        .principals
        .iter()
        .map(|p| desired_principal_account(desired, p).unwrap_or_else(|| p.clone()))
        .collect();
    DesiredShare {
        spec,
        policies,
        principals,
        namespace_arn: namespace_arn_with(desired, observed, index, &spec.namespace_ref),
        permission_arn: permission_arn(spec.permission_or_default()),
    }
}

/// The ARN of the namespace a document of this set created (or adopted), if it exists.
pub fn namespace_arn(desired: &DesiredSet, observed: &Observation, name: &str) -> Option<String> {
    namespace_arn_with(desired, observed, None, name)
}

fn namespace_arn_with(
    desired: &DesiredSet,
    observed: &Observation,
    index: Option<&KeyIndex<'_>>,
    name: &str,
) -> Option<String> {
    let key = Key::new(Kind::CloudMapNamespace, name);
    let d = desired.documents.get(&key)?;
    let scope = (d.account.clone(), d.document.region().to_owned());
    let tag = key.to_string();
    seen(
        &observed.namespaces,
        index.map(|i| &i.namespaces),
        &scope,
        &tag,
    )
    .candidates()
    .find(|ns| {
        crate::observed::ownership(&ns.tags, &desired.controller, &key)
            == crate::observed::Ownership::Ours
    })
    .map(|ns| ns.arn.clone())
}

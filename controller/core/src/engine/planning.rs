//! Planning every document of a pass from the desired set and the observation (pure).

use std::collections::{BTreeMap, BTreeSet};

use super::observe::desired_principal_account;
use super::{DesiredSet, Observation, Scope};
use crate::model::{Document, KEY_TAG, Key, Kind, OWNER_TAG, Policies};
use crate::observed::permission_arn;
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
    orphan_tags(desired, observed)
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
    let orphans = orphans(desired, observed);
    let gate = prune_gate(prune, desired.health, deletable(desired, observed));
    let mut keys: Vec<&Key> = desired.documents.keys().chain(orphans.keys()).collect();
    keys.sort_by_key(|k| (Kind::ALL.iter().position(|x| *x == k.kind), (*k).clone()));
    keys.into_iter()
        .map(|key| plan_key(desired, observed, key, orphans.get(key), &gate))
        .collect()
}

/// Plans one key: a document of the desired set, or an orphan seen in `orphan_scope`.
pub fn plan_key(
    desired: &DesiredSet,
    observed: &Observation,
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
    if let Some(error) = observed.failed.get(&(scope.clone(), key.kind)) {
        return Planned {
            plan: DocumentPlan::new(key.clone(), Verb::Blocked).because(format!(
                "cannot observe account {} region {}: {}",
                scope.0, scope.1, error.message
            )),
            scope: Some(scope),
        };
    }
    let plan = match key.kind {
        Kind::CloudMapNamespace => {
            let list = observed
                .namespaces
                .get(&scope)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
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
            let list = observed
                .shares
                .get(&scope)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let want = doc.and_then(|d| match &d.document {
                Document::NamespaceShare(m) => {
                    Some(desired_share(desired, observed, &m.spec, &d.policies))
                }
                _ => None,
            });
            plan_share(controller, key, want.as_ref(), list, gate)
        }
        Kind::VpcEndpointSet => {
            let list = observed
                .endpoints
                .get(&scope)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
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
            let list = observed
                .express
                .get(&scope)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
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
    let principals: BTreeSet<String> = spec
        .principals
        .iter()
        .map(|p| desired_principal_account(desired, p).unwrap_or_else(|| p.clone()))
        .collect();
    DesiredShare {
        spec,
        policies,
        principals,
        namespace_arn: namespace_arn(desired, observed, &spec.namespace_ref),
        permission_arn: permission_arn(spec.permission_or_default()),
    }
}

/// The ARN of the namespace a document of this set created (or adopted), if it exists.
pub fn namespace_arn(desired: &DesiredSet, observed: &Observation, name: &str) -> Option<String> {
    let key = Key::new(Kind::CloudMapNamespace, name);
    let d = desired.documents.get(&key)?;
    let scope = (d.account.clone(), d.document.region().to_owned());
    observed
        .namespaces
        .get(&scope)?
        .iter()
        .find(|ns| {
            crate::observed::ownership(&ns.tags, &desired.controller, &key)
                == crate::observed::Ownership::Ours
        })
        .map(|ns| ns.arn.clone())
}

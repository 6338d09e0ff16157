//! Planning documents and orphans from the desired set and the observation (pure).

use std::collections::{BTreeMap, BTreeSet};

use super::resource::{Context, Input, Plan, Resource};
use super::{DesiredSet, Observation, Scope};
use crate::kinds::for_kind;
use crate::model::{DeletionPolicy, Key, Kind};
use crate::observed::Tagged;
use crate::plan::{DocumentPlan, KindPlan, PruneGate, Verb, recorded_deletion_policy};
use crate::prune::{Owned, prune_gate};

/// A document's plan with where it applies.
#[derive(Debug, Clone)]
pub struct Planned {
    pub plan: DocumentPlan,
    /// Where the object lives (the document's scope, or where a removed document's object was
    /// seen); `None` when unknown.
    pub scope: Option<Scope>,
}

/// An object this controller owns that no document (valid or rejected) asks for where it is: its
/// document was removed, or moved to another account or region.
struct Orphan<'a> {
    key: Key,
    scope: &'a Scope,
    policy: DeletionPolicy,
}

/// The orphans of a pass, and how many keys the controller owns objects for.
fn orphan_list<'a>(desired: &DesiredSet, observed: &'a Observation) -> (Vec<Orphan<'a>>, usize) {
    let mut out = Vec::new();
    let mut owned: BTreeSet<&Key> = BTreeSet::new();
    for kind in Kind::ALL {
        for_kind!(kind, R => orphans_of::<R>(desired, observed, &mut out, &mut owned));
    }
    (out, owned.len())
}

fn orphans_of<'a, R: Resource>(
    desired: &DesiredSet,
    observed: &'a Observation,
    out: &mut Vec<Orphan<'a>>,
    owned: &mut BTreeSet<&'a Key>,
) {
    for (scope, key, objects) in R::objects(observed).owned() {
        for object in objects.filter(|o| R::exists(o)) {
            owned.insert(key);
            // No document asks for it here: removed, or moved to another account or region.
            let wanted_here = desired.documents.get(key).map(|d| d.is_in(scope));
            if wanted_here != Some(true) && !desired.rejected.contains(key) {
                let policy = recorded_deletion_policy(object.tags());
                out.push(Orphan {
                    key: key.clone(),
                    scope,
                    policy,
                });
            }
        }
    }
}

fn count_deletable(orphans: &[Orphan<'_>]) -> usize {
    orphans
        .iter()
        .filter(|o| o.policy == DeletionPolicy::Delete)
        .map(|o| &o.key)
        .collect::<BTreeSet<_>>()
        .len()
}

/// What the controller owns, and how many of its orphans would be deleted (not retained): what
/// the prune limit counts.
pub fn owned(desired: &DesiredSet, observed: &Observation) -> Owned {
    let (orphans, keys) = orphan_list(desired, observed);
    Owned {
        keys,
        removed: count_deletable(&orphans),
    }
}

/// Keys of objects this controller owns that no document (valid or rejected) asks for, with the
/// scope each was seen in.
pub fn orphans(desired: &DesiredSet, observed: &Observation) -> BTreeMap<Key, Scope> {
    orphan_list(desired, observed)
        .0
        .into_iter()
        .map(|o| (o.key, o.scope.clone()))
        .collect()
}

/// Plans every document and every orphan, in dependency order. `sent` holds, per document, the
/// digest of the spec last sent to AWS (from status).
pub fn plan_all(
    desired: &DesiredSet,
    observed: &Observation,
    prune: &crate::config::PruneConfig,
    sent: &BTreeMap<Key, String>,
) -> Vec<Planned> {
    let (found, keys) = orphan_list(desired, observed);
    let owned = Owned {
        keys,
        removed: count_deletable(&found),
    };
    let gate = prune_gate(prune, desired.health, owned);
    let orphans: BTreeMap<Key, &Scope> = found.into_iter().map(|o| (o.key, o.scope)).collect();
    let mut keys: Vec<&Key> = desired.documents.keys().chain(orphans.keys()).collect();
    keys.sort_by(|a, b| Key::dependency_order(a, b));
    keys.dedup();
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let last = sent.get(key).map(String::as_str);
        let orphan = orphans.get(key).copied();
        out.push(plan_key(desired, observed, key, orphan, &gate, last));
        // A moved document: what it left behind in its old scope, too.
        if let Some(old) = orphan.filter(|_| desired.documents.contains_key(key)) {
            let cx = Context { desired, observed };
            let plan = for_kind!(key.kind, R => plan_as::<R>(&cx, key, old, &gate, None).display());
            out.push(Planned {
                plan,
                scope: Some(old.clone()),
            });
        }
    }
    out
}

/// Where `key` applies: its document's scope, else where its orphaned object was seen.
pub(crate) fn scope_of(
    desired: &DesiredSet,
    key: &Key,
    orphan_scope: Option<&Scope>,
) -> Option<Scope> {
    match desired.documents.get(key) {
        Some(d) => Some(d.scope()),
        None => orphan_scope.cloned(),
    }
}

/// Plans one key: a document of the desired set, or an orphan seen in `orphan_scope`.
/// `last_applied` is the digest of the spec last sent for it (from status).
pub fn plan_key(
    desired: &DesiredSet,
    observed: &Observation,
    key: &Key,
    orphan_scope: Option<&Scope>,
    gate: &PruneGate,
    last_applied: Option<&str>,
) -> Planned {
    let Some(scope) = scope_of(desired, key, orphan_scope) else {
        return Planned {
            plan: DocumentPlan::new(key.clone(), Verb::InSync),
            scope: None,
        };
    };
    let cx = Context { desired, observed };
    let plan =
        for_kind!(key.kind, R => plan_as::<R>(&cx, key, &scope, gate, last_applied).display());
    Planned {
        plan,
        scope: Some(scope),
    }
}

/// Plans `key` of kind `R` in `scope`: blocked where the scope could not be observed.
pub(crate) fn plan_as<'o, R: Resource>(
    cx: &Context<'o>,
    key: &'o Key,
    scope: &Scope,
    gate: &'o PruneGate,
    last_applied: Option<&'o str>,
) -> Plan<'o, R> {
    if let Some(error) = cx.observed.failure(scope, R::KIND) {
        return KindPlan::new(key.clone(), Verb::Blocked)
            .because(format!("cannot observe {scope}: {}", error.message));
    }
    // A document applies in its own scope only: elsewhere its key's objects are removed.
    let doc = cx.desired.documents.get(key).filter(|d| d.is_in(scope));
    R::plan(
        cx,
        Input {
            key,
            doc,
            spec: doc.and_then(|d| R::spec(&d.document)),
            seen: R::objects(cx.observed).seen(scope, key),
            gate,
            last_applied,
        },
    )
}

//! The plan of a `ServiceConnectBinding`.
//!
//! # Guarantees
//! - The ECS service is never created or deleted: a missing one is reported (waiting), a removed
//!   binding only disables Service Connect on it and drops the claim.
//! - The claim is the tag [`SERVICE_CONNECT_TAG`] (the binding's `Kind/name`) with the owner tag;
//!   a service claimed by another document or controller is left alone and named in the reason.
//!   A service without a claim is claimed when it has no Service Connect configuration, and
//!   taken over only with `adopt` when it has one.
//! - Comparison is of the configuration as ECS means it: the namespace by ARN, or by name for a
//!   namespace of the service's own account; `services` by `portName` in any order;
//!   `discoveryName` absent equals `portName`; a client alias's `dnsName` and an
//!   `ingressPortOverride` the document leaves out are whatever ECS filled in; `clientAliases`
//!   absent equals empty. Nothing flaps, so `UpdateService` (which starts a deployment) is sent
//!   only on a real difference.
//! - The binding waits (nothing is sent) until the namespace exists and, for another account's
//!   namespace, until the service's account sees it.
//! - A configuration whose deployment failed is not sent again until the document changes: see
//!   [`DesiredBinding::last_applied`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::BindingField as F;
use super::observed::{ObservedBoundService, ObservedServiceConnect};
use crate::digest::{digest, sorted_keys};
use crate::model::{
    DELETION_POLICY_ANNOTATION, DeletionPolicy, KEY_TAG, Key, OWNER_TAG, Policies,
    SERVICE_CONNECT_TAG, ServiceConnectBindingSpec, ServiceConnectService, cluster_name,
};
use crate::observed::{Ownership, Seen, ownership};
use crate::plan::{Edit, KindPlan, PruneGate, Verb, not_ours, only_own, removed, unless_suspended};

/// The typed plan of a binding document.
pub type BindingPlan<'o> = KindPlan<'o, F, ObservedBoundService>;

/// Where the binding's namespace stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceState {
    /// Usable by the service: its ARN, and its name when it is the service account's own.
    Ready { arn: String, name: Option<String> },
    /// Not yet: why, and the document waited for when it is one.
    Waiting { reason: String, on: Option<Key> },
}

/// A binding document as planning needs it, its namespace resolved.
#[derive(Debug, Clone)]
pub struct DesiredBinding<'a> {
    pub spec: &'a ServiceConnectBindingSpec,
    pub policies: &'a Policies,
    pub namespace: NamespaceState,
    /// The [`spec_digest`] of the spec last sent to ECS for this document and accepted.
    ///
    /// When it equals the digest of `spec` and the service's last deployment failed
    /// ([`ObservedBoundService::failed_deployment`]), ECS rolled back from exactly this
    /// configuration: the plan is [`Verb::Blocked`] with the differences as its edits, and
    /// nothing is sent until the document changes (a new digest).
    pub last_applied: Option<&'a str>,
}

/// The claim tags a binding puts on its service: the owner tag, the claim, and the deletion
/// policy when it is Retain.
pub fn claim_tags(controller: &str, key: &Key, policies: &Policies) -> crate::compact::Tags {
    let mut tags = crate::compact::Tags::from([
        (OWNER_TAG, controller.to_owned()),
        (SERVICE_CONNECT_TAG, key.to_string()),
    ]);
    if policies.deletion == DeletionPolicy::Retain {
        tags.insert(DELETION_POLICY_ANNOTATION, "Retain");
    }
    tags
}

/// The claim tags a service carries: those of [`claim_tags`], less the owner tag when the
/// service is also an object of this controller's own (its key tag says so), which keeps it.
pub fn carried_claim(service: &ObservedBoundService) -> crate::compact::Tags {
    [OWNER_TAG, SERVICE_CONNECT_TAG, DELETION_POLICY_ANNOTATION]
        .into_iter()
        .filter(|k| *k != OWNER_TAG || !service.tags.contains_key(KEY_TAG))
        .filter_map(|k| Some((k, service.tags.get(k)?.clone())))
        .collect()
}

/// A stable digest of a spec: its canonical JSON with `services` in `portName` order.
pub fn spec_digest(spec: &ServiceConnectBindingSpec) -> String {
    let mut spec = spec.clone();
    spec.services.sort_by(|a, b| a.port_name.cmp(&b.port_name));
    let text = match serde_json::to_value(&spec) {
        Ok(value) => sorted_keys(&value).to_string(),
        Err(_) => format!("{spec:?}"),
    };
    digest(&text)
}

/// Plans one binding document; `observed` are the services of the document's account and region
/// that bindings name or this controller claimed; `desired` is `None` when it was removed.
pub fn plan_binding<'o>(
    controller: &str,
    key: &Key,
    desired: Option<&DesiredBinding<'_>>,
    observed: impl Into<Seen<'o, ObservedBoundService>>,
    gate: &PruneGate,
) -> BindingPlan<'o> {
    let observed = observed.into();
    let ours = observed.ours(controller, key).filter(|s| s.is_live());
    let mine = match only_own(key, ours.collect(), |s| &s.arn) {
        Ok(mine) => mine,
        Err(blocked) => return *blocked,
    };
    let Some(desired) = desired else {
        return match mine {
            Some(s) => release(key, s, gate, "the document was removed"),
            None => KindPlan::new(key.clone(), Verb::InSync),
        };
    };
    let spec = desired.spec;
    let is_named = |s: &&ObservedBoundService| {
        s.name == spec.service && cluster_name(&s.cluster) == cluster_name(&spec.cluster)
    };
    // The claimed service when it is the one named (a service name is unique in its cluster):
    // no search of the whole scope, which would cost every plan the size of its scope.
    let named = mine
        .filter(is_named)
        .or_else(|| observed.all().iter().filter(|s| s.is_live()).find(is_named));
    let plan = match (named, mine) {
        // The document now names another service: the one it claimed is released first.
        (_, Some(old)) if named.is_none_or(|n| n.arn != old.arn) => release(
            key,
            old,
            gate,
            &format!(
                "the binding now names service `{}` of cluster `{}`",
                spec.service,
                cluster_name(&spec.cluster)
            ),
        ),
        (None, _) => KindPlan::new(key.clone(), Verb::Waiting).because(format!(
            "the ECS service `{}` of cluster `{}` does not exist or is not ACTIVE; ecs-topology \
             never creates it (create it with the service's own stack)",
            spec.service,
            cluster_name(&spec.cluster)
        )),
        (Some(s), _) if s.express => KindPlan::new(key.clone(), Verb::Blocked).because(format!(
            "`{}` is an Express service; a binding manages the Service Connect configuration of \
             a classic ECS service only",
            s.name
        )),
        (Some(s), _) => bind(controller, key, s, desired),
    };
    unless_suspended(plan, desired.policies)
}

/// The plan of the service the document names.
fn bind<'o>(
    controller: &str,
    key: &Key,
    s: &'o ObservedBoundService,
    desired: &DesiredBinding<'_>,
) -> BindingPlan<'o> {
    let owner = ownership(crate::observed::Tagged::tags(s), controller, key);
    let what = format!(
        "the Service Connect configuration of service `{}` ({})",
        s.name, s.arn
    );
    let verb = match owner {
        Ownership::Ours => Verb::Update,
        Ownership::Unowned if !s.enabled() => Verb::Create,
        Ownership::Unowned => {
            if let Some(blocked) = not_ours(key, &what, &owner, desired.policies.adopt) {
                return blocked;
            }
            Verb::Adopt
        }
        other => {
            return not_ours(key, &what, &other, desired.policies.adopt).unwrap_or_else(|| {
                KindPlan::new(key.clone(), Verb::Blocked).because(format!("{what} is claimed"))
            });
        }
    };
    let (arn, name) = match &desired.namespace {
        NamespaceState::Ready { arn, name } => (arn, name.as_deref()),
        NamespaceState::Waiting { reason, on } => {
            let plan = KindPlan::new(key.clone(), Verb::Waiting).because(reason.clone());
            return match on {
                Some(k) => plan.waiting_for(k.clone()),
                None => plan,
            };
        }
    };
    let mut edits = claim_edits(s, &claim_tags(controller, key, desired.policies));
    let config = config_edits(s.config(), desired.spec, arn, name);
    let reconfigures = !config.is_empty();
    edits.extend(config);
    if edits.is_empty() {
        return KindPlan::new(key.clone(), Verb::InSync);
    }
    let sent_already = desired.last_applied == Some(spec_digest(desired.spec).as_str());
    if verb == Verb::Update
        && reconfigures
        && sent_already
        && let Some(why) = &s.failed_deployment
    {
        return KindPlan::new(key.clone(), Verb::Blocked)
            .with_edits(edits)
            .because(format!(
                "the last update did not converge (deployment failed: {why}); not sent again \
                 until the document changes"
            ));
    }
    KindPlan::new(key.clone(), verb).with_edits(edits).on([s])
}

/// The plan of a service this document claimed and no longer wants: Service Connect disabled
/// and the claim dropped (deletion policy Delete), or left as it is (Retain).
fn release<'o>(
    key: &Key,
    s: &'o ObservedBoundService,
    gate: &PruneGate,
    why: &str,
) -> BindingPlan<'o> {
    let plan = removed(key, crate::observed::Tagged::tags(s), s, gate);
    if plan.verb != Verb::Delete {
        return plan;
    }
    let mut edits = Vec::new();
    if s.enabled() {
        edits.push(Edit::new(
            F::Enabled,
            Some(Value::Bool(true)),
            Some(Value::Bool(false)),
        ));
    }
    edits.extend(claim_edits(s, &crate::compact::Tags::new()));
    plan.with_edits(edits).because(format!(
        "{why}: Service Connect is disabled on service `{}` and the claim dropped",
        s.name
    ))
}

/// Edits between the claim tags a service carries and `want`.
fn claim_edits(s: &ObservedBoundService, want: &crate::compact::Tags) -> Vec<Edit<F>> {
    let have = carried_claim(s);
    let keys: BTreeSet<&str> = have.keys().chain(want.keys()).map(|k| k.as_str()).collect();
    keys.into_iter()
        .filter(|k| have.get(*k) != want.get(*k))
        .map(|k| {
            Edit::new(
                F::Claim(k.to_owned()),
                have.get(k).map(|v| Value::String(v.to_string())),
                want.get(k).map(|v| Value::String(v.to_string())),
            )
        })
        .collect()
}

/// Edits between the PRIMARY deployment's configuration and the document's.
pub(crate) fn config_edits(
    observed: Option<&ObservedServiceConnect>,
    spec: &ServiceConnectBindingSpec,
    arn: &str,
    name: Option<&str>,
) -> Vec<Edit<F>> {
    let empty = ObservedServiceConnect::default();
    let have = observed.unwrap_or(&empty);
    let mut edits = Vec::new();
    if !have.enabled {
        edits.push(Edit::new(
            F::Enabled,
            observed.map(|_| Value::Bool(false)),
            Some(Value::Bool(true)),
        ));
    }
    let same_namespace = have
        .namespace
        .as_deref()
        .is_some_and(|ns| ns == arn || Some(ns) == name);
    if !same_namespace {
        edits.push(Edit::new(
            F::Namespace,
            have.namespace.clone().map(Value::String),
            Some(Value::String(arn.to_owned())),
        ));
    }
    let have_services: BTreeMap<&str, &ServiceConnectService> = have
        .services
        .iter()
        .map(|s| (s.port_name.as_str(), s))
        .collect();
    let want_services: BTreeMap<&str, &ServiceConnectService> = spec
        .services
        .iter()
        .map(|s| (s.port_name.as_str(), s))
        .collect();
    let ports: BTreeSet<&str> = have_services
        .keys()
        .chain(want_services.keys())
        .copied()
        .collect();
    for port in ports {
        let (from, to) = (have_services.get(port), want_services.get(port));
        let same = match (from, to) {
            (Some(o), Some(d)) => same_service(o, d),
            _ => false,
        };
        if !same {
            edits.push(Edit::new(
                F::Service(port.to_owned()),
                from.and_then(|o| serde_json::to_value(o).ok()),
                to.and_then(|d| serde_json::to_value(d).ok()),
            ));
        }
    }
    edits
}

/// Whether an observed service entry is what the document's entry means, ECS's defaults
/// included.
fn same_service(observed: &ServiceConnectService, wanted: &ServiceConnectService) -> bool {
    observed.discovery() == wanted.discovery()
        && wanted
            .ingress_port_override
            .is_none_or(|p| observed.ingress_port_override == Some(p))
        && observed.client_aliases.len() == wanted.client_aliases.len()
        && wanted.client_aliases.iter().all(|w| {
            observed.client_aliases.iter().any(|o| {
                o.port == w.port
                    && w.dns_name
                        .as_ref()
                        .is_none_or(|d| o.dns_name.as_ref() == Some(d))
            })
        })
}

#[cfg(test)]
mod tests;

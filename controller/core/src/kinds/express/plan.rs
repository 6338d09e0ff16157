//! The plan of an `ExpressService`.
//!
//! Both sides are brought to one comparable shape before they are compared: the document's spec
//! and the newest configuration ECS reports for the service.
//!
//! # Guarantees
//! - A field the document leaves out is never drift against what ECS filled in: `cpu`, `memory`,
//!   `cpuArchitecture`, `healthCheckPath`, `primaryContainer.port`, `primaryContainer.logs`,
//!   `network` (and its security groups when none are listed) and each field of `scaling`.
//! - Fields ECS never fills in compare with absent equal to empty: `primaryContainer.command`,
//!   `environment` and `secrets` (`[]` is absent), `taskRoleArn`, `repositoryCredentials`.
//! - Values compare as ECS means them: cpu and memory as whole numbers however they are written,
//!   enum values whatever their case, environment variables and secrets by name, subnets and
//!   security groups as sets, the cluster by name whether written as a name or an ARN.
//! - What ECS manages itself (the load balancer, listener, rule, target groups, certificate, its
//!   security group, auto scaling, log group) is read-only: never drift, never pruned, never
//!   adopted. Its security group is left out of both sides of `network.securityGroups`.
//! - A field ECS cannot change on an existing service (`infrastructureRoleArn`,
//!   `cpuArchitecture`) is reported as [`Verb::Blocked`], never as an update that cannot converge.
//! - A configuration whose deployment failed is not sent again on every pass: see
//!   [`DesiredExpressService::last_applied`].

use std::collections::BTreeSet;

use serde_json::Value;

use super::ExpressField as F;
use super::shape::{Shape, compare};
use crate::digest::{digest, sorted_keys};
use crate::model::{ExpressServiceSpec, Key, Policies, cluster_name};
use crate::observed::{ExpressStatus, ObservedExpressService, Ownership, Seen, Tags, ownership};
use crate::plan::{
    Edit, KindPlan, PruneGate, Verb, desired_tags, not_ours, owns_several, removed, tag_edits,
    unless_suspended,
};

/// The typed plan of an Express service document.
pub type ExpressPlan<'o> = KindPlan<'o, F, ObservedExpressService>;

/// The tag ECS puts on what it manages; never compared.
const ECS_MANAGED_TAG: &str = "AmazonECSManaged";

/// An Express service document as planning needs it.
#[derive(Debug, Clone, Copy)]
pub struct DesiredExpressService<'a> {
    pub spec: &'a ExpressServiceSpec,
    pub policies: &'a Policies,
    /// The [`spec_digest`] of the spec the controller last sent to ECS for this document (by a
    /// create or an update that ECS accepted), as the caller recorded it; `None` when unknown.
    ///
    /// The contract: when it equals the digest of `spec` and the service's most recent
    /// deployment failed ([`ObservedExpressService::failed_deployment`]), the configuration ECS
    /// rolled back from is exactly the one the document asks for, so sending it again would only
    /// start another failing deployment; the plan is then [`Verb::Blocked`] ("the last update did
    /// not converge (deployment failed); retrying with backoff"), with the differences from the
    /// active configuration as its changes. The caller retries by planning with `None` here once
    /// the document's backoff has elapsed, which yields the [`Verb::Update`] again. A spec that
    /// differs from the last one sent (a new digest) is planned as an update at once. While a
    /// deployment of the last sent spec is still running, the plan waits for it.
    pub last_applied: Option<&'a str>,
}

/// Plans one Express service document. `observed` are the Express services of the document's
/// account and region (or, for a removed document, of where its service was seen); `desired` is
/// `None` when the document was removed from the source.
///
/// A service is identified by its cluster (by name, whether written as a name or an ARN) and its
/// service name. An INACTIVE service is gone; a DRAINING one of the same identity makes a create
/// wait until ECS has finished deleting it.
pub fn plan_express<'o>(
    controller: &str,
    key: &Key,
    desired: Option<DesiredExpressService<'_>>,
    observed: impl Into<Seen<'o, ObservedExpressService>>,
    gate: &PruneGate,
) -> ExpressPlan<'o> {
    let observed = observed.into();
    let live = |s: &&ObservedExpressService| s.status.exists();
    let ours = |s: &&ObservedExpressService| ownership(&s.tags, controller, key) == Ownership::Ours;
    // The document's own live services, in observed order.
    let mine = || observed.candidates().filter(live).filter(ours);
    // Two active services of ours: never guess which one the document means.
    let active: Vec<&str> = mine()
        .filter(|s| !draining(s))
        .map(|s| s.arn.as_str())
        .collect();
    if active.len() > 1 {
        return owns_several(key, &active);
    }
    let Some(desired) = desired else {
        // An active service of ours before a draining one: the draining one is already going.
        return match mine().min_by_key(|s| draining(s)) {
            Some(s) if draining(s) => KindPlan::new(key.clone(), Verb::Waiting)
                .because("the service is draining; ECS deletes it once its tasks have stopped"),
            Some(s) => removed(key, &s.tags, s, gate),
            None => KindPlan::new(key.clone(), Verb::InSync),
        };
    };
    let spec = desired.spec;
    let same = |s: &&ObservedExpressService| {
        cluster_name(&s.cluster) == cluster_name(&spec.cluster)
            && s.service_name == spec.service_name
    };
    let want_tags = desired_tags(&spec.tags, controller, key, desired.policies);
    let same_live = || observed.all().iter().filter(live).filter(same);
    // ECS holds one service of a name per cluster: when the document's own service is that one,
    // the scope need not be searched (which would cost every plan the size of its scope).
    let in_place = mine()
        .filter(same)
        .find(|s| !draining(s))
        .or_else(|| same_live().find(|s| !draining(s)));
    let plan = match in_place {
        Some(s) => match ownership(&s.tags, controller, key) {
            Ownership::Ours => converge(key, s, &desired, &want_tags),
            owner => {
                let what = format!("Express service `{}` ({})", s.service_name, s.arn);
                match not_ours(key, &what, &owner, desired.policies.adopt) {
                    Some(blocked) => blocked,
                    None => {
                        let changes = differences(s, spec, &want_tags);
                        fixed_or(key, changes, Verb::Adopt).on([s])
                    }
                }
            }
        },
        None => match mine().find(|s| !draining(s)) {
            Some(s) => KindPlan::new(key.clone(), Verb::Blocked).because(format!(
                "the service is `{}` in cluster `{}`; an Express service cannot be renamed or \
                 moved to `{}` in cluster `{}` (remove the document and add one for the new service)",
                s.service_name,
                cluster_name(&s.cluster),
                spec.service_name,
                cluster_name(&spec.cluster)
            )),
            None => match same_live().find(|s| draining(s)) {
                Some(s) => KindPlan::new(key.clone(), Verb::Waiting).because(format!(
                    "waiting for the previous service `{}` ({}) to drain",
                    s.service_name, s.arn
                )),
                None => create(key, spec, &want_tags),
            },
        },
    };
    unless_suspended(plan, desired.policies)
}

/// Whether the service is ready: ACTIVE, no deployment running, and a configuration in service.
/// The message says what is missing, or where the service answers.
pub fn express_ready(s: &ObservedExpressService) -> (bool, String) {
    let mut missing = Vec::new();
    if s.status != ExpressStatus::Active {
        missing.push(match s.status.as_str() {
            "" => "ECS reports no status for the service".to_owned(),
            status => format!("the service is {status}, not ACTIVE"),
        });
    }
    if s.deploying {
        missing.push("a deployment is in progress".to_owned());
    }
    let Some(config) = &s.config else {
        missing.push("ECS reports no active configuration".to_owned());
        return (false, missing.join("; "));
    };
    if !missing.is_empty() {
        return (false, missing.join("; "));
    }
    let endpoint = config
        .ingress_paths
        .iter()
        .map(|p| p.endpoint.as_str())
        .chain(s.managed.get("endpoint").map(|e| e.as_str()))
        .find(|e| !e.is_empty());
    let mut message = match endpoint {
        Some(endpoint) => format!("active at {endpoint}"),
        None => "active".to_owned(),
    };
    if let Some(why) = &s.failed_deployment {
        message.push_str(&format!("; the last deployment failed: {why}"));
    }
    (true, message)
}

/// A stable digest of a spec: FNV-1a 64 of its canonical JSON (keys sorted, environment and
/// secrets sorted by name, subnets and security groups sorted, an empty command left out), as
/// 16 hex digits.
///
/// # Guarantees
/// The same digest for the same spec however it was written (key order, list order where order
/// has no meaning, `512` or `"512"`), across runs and releases of the same document format; a
/// different digest when any field changes.
pub fn spec_digest(spec: &ExpressServiceSpec) -> String {
    let mut spec = spec.clone();
    let container = &mut spec.primary_container;
    if container.command.as_ref().is_some_and(Vec::is_empty) {
        container.command = None;
    }
    container.environment.sort_by(|a, b| a.name.cmp(&b.name));
    container.secrets.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(network) = &mut spec.network {
        for ids in [&mut network.subnets, &mut network.security_groups] {
            ids.sort();
            ids.dedup();
        }
    }
    let text = match serde_json::to_value(&spec) {
        Ok(value) => sorted_keys(&value).to_string(),
        Err(_) => format!("{spec:?}"),
    };
    digest(&text)
}

/// The plan of a service of ours.
fn converge<'o>(
    key: &Key,
    s: &'o ObservedExpressService,
    desired: &DesiredExpressService<'_>,
    want_tags: &Tags,
) -> ExpressPlan<'o> {
    if s.config.is_none() {
        return KindPlan::new(key.clone(), Verb::Waiting)
            .because("waiting for ECS to report the service's configuration");
    }
    let changes = differences(s, desired.spec, want_tags);
    if changes.is_empty() {
        return KindPlan::new(key.clone(), Verb::InSync);
    }
    let reconfigures = changes.iter().any(|c| c.field.group().is_some());
    let sent_already =
        desired.last_applied == Some(spec_digest(desired.spec).as_str()) && reconfigures;
    if sent_already && !is_fixed(&changes) {
        if let Some(why) = &s.failed_deployment {
            let mut reason =
                "the last update did not converge (deployment failed); retrying with backoff"
                    .to_owned();
            if !why.trim().is_empty() {
                reason.push_str(&format!(": {}", why.trim()));
            }
            return KindPlan::new(key.clone(), Verb::Blocked)
                .with_edits(changes)
                .because(reason);
        }
        if s.deploying {
            return KindPlan::new(key.clone(), Verb::Waiting)
                .with_edits(changes)
                .because("waiting for the running deployment of the last requested configuration");
        }
    }
    fixed_or(key, changes, Verb::Update).on([s])
}

/// `verb` with `changes`, unless one of them is to a field ECS takes only at creation.
fn fixed_or<'o>(key: &Key, changes: Vec<Edit<F>>, verb: Verb) -> ExpressPlan<'o> {
    if !is_fixed(&changes) {
        return KindPlan::new(key.clone(), verb).with_edits(changes);
    }
    let fixed: Vec<String> = changes
        .iter()
        .filter(|c| c.field.fixed_at_creation())
        .map(Edit::path)
        .collect();
    let reason = format!(
        "{} cannot be changed on an existing Express service; restore the value, or remove the \
         document and add one for a new service",
        fixed.join(" and ")
    );
    KindPlan::new(key.clone(), Verb::Blocked)
        .with_edits(changes)
        .because(reason)
}

fn is_fixed(changes: &[Edit<F>]) -> bool {
    changes.iter().any(|c| c.field.fixed_at_creation())
}

/// The plan of a service that does not exist: every field the document sets.
fn create<'o>(key: &Key, spec: &ExpressServiceSpec, want_tags: &Tags) -> ExpressPlan<'o> {
    let mut changes = vec![
        Edit::new(F::Cluster, None, Some(Value::String(spec.cluster.clone()))),
        Edit::new(
            F::ServiceName,
            None,
            Some(Value::String(spec.service_name.clone())),
        ),
    ];
    changes.extend(compare(
        &Shape::default(),
        &Shape::wanted(spec, &BTreeSet::new()),
    ));
    changes.extend(tag_edits(&Tags::new(), want_tags, F::Tag));
    KindPlan::new(key.clone(), Verb::Create).with_edits(changes)
}

/// Every difference between a service and the document, configuration first, then tags.
fn differences(
    s: &ObservedExpressService,
    spec: &ExpressServiceSpec,
    want_tags: &Tags,
) -> Vec<Edit<F>> {
    let managed = managed_groups(s);
    let mut changes = compare(
        &Shape::observed(s, &managed),
        &Shape::wanted(spec, &managed),
    );
    let tags: Tags = s
        .tags
        .iter()
        .filter(|(k, _)| k.as_str() != ECS_MANAGED_TAG)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    changes.extend(tag_edits(&tags, want_tags, F::Tag));
    changes
}

/// The security groups ECS attached itself: those the observer found tagged as ECS-managed, and
/// any `sg-` id among the service's ECS-managed resources (by id or ARN).
fn managed_groups(s: &ObservedExpressService) -> BTreeSet<String> {
    let listed = s.managed.values().filter_map(|v| {
        let id = v.rsplit('/').next().unwrap_or(v);
        id.starts_with("sg-").then(|| id.to_owned())
    });
    s.managed_security_groups
        .iter()
        .map(|g| g.to_string())
        .chain(listed)
        .collect()
}

fn draining(s: &ObservedExpressService) -> bool {
    s.status == ExpressStatus::Draining
}

#[cfg(test)]
mod tests;

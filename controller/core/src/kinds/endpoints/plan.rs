//! The plan of a `VpcEndpointSet`: the VPC endpoints of one VPC, one per service, planned as one
//! document.
//!
//! Field paths are `endpoints.<service>` for a whole endpoint created (from nothing), deleted (to
//! nothing) or replaced (from the old endpoint to the new one), and
//! `endpoints.<service>.{subnetIds, securityGroupIds, routeTableIds, privateDns, policy,
//! tags.<key>}` for a change in place.
//!
//! # Guarantees
//! - An endpoint is the set's when its tags name this controller and this document, and it serves
//!   a service of the spec when its VPC, service name and type are the spec's. Subnets, security
//!   groups and route tables compare as sets and the policy by meaning ([`crate::policy`]), no
//!   policy being AWS's default full-access one: AWS's listing order and JSON formatting never
//!   show as drift.
//! - A live endpoint of the same VPC, service and type that is not the set's is never changed or
//!   deleted: it blocks the set, unless it has no owner and the document says adopt.
//! - `deleted` and `deleting` endpoints count as absent. An endpoint of the set that is `failed`,
//!   `rejected` or `expired`, or whose VPC or type is no longer the spec's (AWS cannot change
//!   either in place), is replaced: deleted and created anew, the new endpoint naming the one it
//!   `replaces`, and the plan's reason saying why.
//! - Changes are listed by service, `ecs-agent`, `ecs-telemetry` and `ecs` first (the order in
//!   which AWS needs them created), then the others by name.
//! - A service dropped from the spec deletes its endpoint as an update of the set. A removed
//!   document deletes every endpoint of the set, subject to the prune gate, except those whose tags
//!   record deletion policy Retain.

use std::collections::BTreeSet;
use std::rc::Rc;

use serde_json::{Value, json};

use super::{EndpointAttribute, EndpointField, EndpointPart, NewEndpoint};
use crate::model::{Key, Policies, VpcEndpointSetSpec};
use crate::observed::{EndpointType, ObservedEndpoint, Ownership, Seen, ownership};
use crate::plan::{
    Edit, KindPlan, PruneGate, Verb, desired_tags, not_ours, removed, tag_edits, unless_suspended,
};
use crate::policy::{endpoint_policies_equal, policy_document};

/// The typed plan of an endpoint-set document.
pub type EndpointSetPlan<'o> = KindPlan<'o, EndpointField, ObservedEndpoint>;

/// The ECS services AWS needs created in this order.
const ECS_ORDER: [&str; 3] = ["ecs-agent", "ecs-telemetry", "ecs"];

/// An endpoint set document as planning needs it.
#[derive(Debug, Clone, Copy)]
pub struct DesiredEndpointSet<'a> {
    pub spec: &'a VpcEndpointSetSpec,
    pub policies: &'a Policies,
    /// The region of the endpoints, which names their services.
    pub region: &'a str,
}

/// The full name of a service of `region` given by its short name:
/// `com.amazonaws.{region}.{short}`.
pub fn service_name(region: &str, short: &str) -> String {
    format!("com.amazonaws.{region}.{short}")
}

/// The short name of a service of `region` (the inverse of [`service_name`]); `None` for a
/// service name of another region or form.
pub fn short_service_name<'a>(region: &str, service_name: &'a str) -> Option<&'a str> {
    service_name
        .strip_prefix("com.amazonaws.")?
        .strip_prefix(region)?
        .strip_prefix('.')
        .filter(|short| !short.is_empty())
}

/// Plans one endpoint set. `observed` are the endpoints of the document's account and region (at
/// least those of its VPC and those tagged for it); `desired` is `None` when the document was
/// removed from the source.
pub fn plan_endpoint_set<'o>(
    controller: &str,
    key: &Key,
    desired: Option<DesiredEndpointSet<'_>>,
    observed: impl Into<Seen<'o, ObservedEndpoint>>,
    gate: &PruneGate,
) -> EndpointSetPlan<'o> {
    let observed = observed.into();
    let ours: Vec<&'o ObservedEndpoint> = observed
        .candidates()
        .filter(|ep| {
            life(ep) != Life::Gone && ownership(&ep.tags, controller, key) == Ownership::Ours
        })
        .collect();
    let Some(desired) = desired else {
        return removed_set(key, &ours, gate);
    };
    let targets = targets(controller, key, &desired);
    let mut plan = Planned::default();
    let mut claimed: BTreeSet<&str> = BTreeSet::new();
    plan.subject.extend(ours.iter().copied());
    for target in &targets {
        // Of the set's endpoints for this target, the one to keep: live before going, available
        // first, then by id.
        let kept = ours
            .iter()
            .copied()
            .filter(|ep| target.serves(ep))
            .min_by_key(|ep| {
                (
                    life(ep),
                    !ep.state.eq_ignore_ascii_case("available"),
                    &ep.id,
                )
            });
        if let Some(kept) = kept {
            claimed.insert(&kept.id);
            plan.existing = true;
            if life(kept) == Life::Live {
                plan.add(&target.short, target.differences(kept));
            } else {
                plan.replace(target, kept, format!("it is {}", kept.state));
            }
            continue;
        }
        let look_alike = observed.all().iter().find(|ep| {
            target.serves(ep)
                && life(ep) == Life::Live
                && ownership(&ep.tags, controller, key) != Ownership::Ours
        });
        if let Some(other) = look_alike {
            let what = format!(
                "the `{}` endpoint {} of {}",
                target.short, other.id, other.vpc_id
            );
            let owner = ownership(&other.tags, controller, key);
            match not_ours::<EndpointField, ObservedEndpoint>(
                key,
                &what,
                &owner,
                desired.policies.adopt,
            ) {
                Some(blocked) => plan.blocked.extend(blocked.reason),
                None => {
                    claimed.insert(&other.id);
                    plan.adopted = true;
                    plan.subject.push(other);
                    plan.add(&target.short, target.differences(other));
                }
            }
            continue;
        }
        let moved = ours
            .iter()
            .copied()
            .find(|ep| ep.service_name == target.service_name && !claimed.contains(ep.id.as_str()));
        match moved {
            Some(old) => {
                claimed.insert(&old.id);
                plan.existing = true;
                let why = if old.vpc_id != target.vpc_id {
                    format!(
                        "it is in {}, and an endpoint cannot move to another VPC",
                        old.vpc_id
                    )
                } else {
                    format!(
                        "it is a {} endpoint, and an endpoint cannot change its type",
                        old.endpoint_type.as_str()
                    )
                };
                plan.replace(target, old, why);
            }
            None => plan.add(&target.short, vec![target.create(None)]),
        }
    }
    for ep in ours.iter().filter(|ep| !claimed.contains(ep.id.as_str())) {
        plan.existing = true;
        let short = short_name(&ep.service_name);
        plan.add(short, vec![deletion(ep)]);
    }
    unless_suspended(plan.finish(key), desired.policies)
}

/// Whether the endpoints of a set are ready: all of them `available` (one still `deleting` is not).
/// `observed_for_key` are the endpoints tagged for the set; every service of `spec` must have one
/// (a set whose change created some endpoints and then failed is not ready), and the message
/// names those missing or not available yet.
pub fn endpoints_ready(
    spec: &VpcEndpointSetSpec,
    observed_for_key: &[ObservedEndpoint],
) -> (bool, String) {
    let mut present: Vec<&ObservedEndpoint> = observed_for_key
        .iter()
        .filter(|ep| !ep.state.eq_ignore_ascii_case("deleted"))
        .collect();
    if present.is_empty() {
        return (false, "no endpoints yet".to_owned());
    }
    let mut missing: Vec<&str> = spec
        .interface_services
        .iter()
        .chain(spec.gateway_services.iter().map(|g| &g.service))
        .map(String::as_str)
        .filter(|short| {
            let name = service_name(&spec.region, short);
            !present.iter().any(|ep| ep.service_name == name)
        })
        .collect();
    if !missing.is_empty() {
        missing.sort_by_key(|short| order(short));
        return (
            false,
            format!("endpoints not created yet: {}", missing.join(", ")),
        );
    }
    present.sort_by(|a, b| {
        order(short_name(&a.service_name)).cmp(&order(short_name(&b.service_name)))
    });
    let waiting: Vec<String> = present
        .iter()
        .filter(|ep| !ep.state.eq_ignore_ascii_case("available"))
        .map(|ep| format!("{} ({} {})", short_name(&ep.service_name), ep.id, ep.state))
        .collect();
    if waiting.is_empty() {
        (
            true,
            format!("all {} endpoints are available", present.len()),
        )
    } else {
        (
            false,
            format!("waiting for endpoints: {}", waiting.join(", ")),
        )
    }
}

/// Where an endpoint is in its life, as planning sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Life {
    /// Usable or on its way (`available`, `pending`, ...).
    Live,
    /// Will never work (`failed`, `rejected`, `expired`): to be replaced.
    Broken,
    /// On its way out (`deleting`, `deleted`): as if absent.
    Gone,
}

fn life(ep: &ObservedEndpoint) -> Life {
    match ep.state.to_ascii_lowercase().as_str() {
        "deleting" | "deleted" => Life::Gone,
        "failed" | "rejected" | "expired" => Life::Broken,
        _ => Life::Live,
    }
}

/// The short name of a regional service name, or the whole name when it is not of that form.
fn short_name(service_name: &str) -> &str {
    service_name
        .strip_prefix("com.amazonaws.")
        .and_then(|rest| rest.split_once('.'))
        .map(|(_, short)| short)
        .filter(|short| !short.is_empty())
        .unwrap_or(service_name)
}

/// The place of a service in the plan: the ECS services first, in creation order, then by name.
fn order(short: &str) -> (usize, &str) {
    let rank = ECS_ORDER
        .iter()
        .position(|s| *s == short)
        .unwrap_or(ECS_ORDER.len());
    (rank, short)
}

/// One endpoint the spec asks for.
struct Target {
    short: String,
    service_name: String,
    vpc_id: String,
    endpoint_type: EndpointType,
    // What the targets of a set share is shared, not copied: planning builds them for every
    // set on every pass.
    subnet_ids: Rc<BTreeSet<String>>,
    security_group_ids: Rc<BTreeSet<String>>,
    route_table_ids: BTreeSet<String>,
    private_dns: bool,
    /// The policy document, parsed; `None` for AWS's default.
    policy: Option<Rc<Value>>,
    tags: Rc<crate::compact::Tags>,
}

fn targets(controller: &str, key: &Key, desired: &DesiredEndpointSet<'_>) -> Vec<Target> {
    let spec = desired.spec;
    let tags = Rc::new(desired_tags(&spec.tags, controller, key, desired.policies));
    let policy = spec.policy.as_ref().map(|p| Rc::new(policy_document(p)));
    let none = Rc::new(BTreeSet::new());
    let subnet_ids: Rc<BTreeSet<String>> = Rc::new(spec.subnet_ids.iter().cloned().collect());
    let security_group_ids: Rc<BTreeSet<String>> =
        Rc::new(spec.security_group_ids.iter().cloned().collect());
    let target = |short: &str, endpoint_type| Target {
        short: short.to_owned(),
        service_name: service_name(desired.region, short),
        vpc_id: spec.vpc_id.clone(),
        endpoint_type,
        subnet_ids: none.clone(),
        security_group_ids: none.clone(),
        route_table_ids: BTreeSet::new(),
        private_dns: false,
        policy: policy.clone(),
        tags: tags.clone(),
    };
    let interfaces = spec.interface_services.iter().map(|short| Target {
        subnet_ids: subnet_ids.clone(),
        security_group_ids: security_group_ids.clone(),
        private_dns: spec.private_dns,
        ..target(short, EndpointType::Interface)
    });
    let gateways = spec.gateway_services.iter().map(|g| Target {
        route_table_ids: g.route_table_ids.iter().cloned().collect(),
        ..target(&g.service, EndpointType::Gateway)
    });
    let mut all: Vec<Target> = interfaces.chain(gateways).collect();
    all.sort_by(|a, b| order(&a.short).cmp(&order(&b.short)));
    all
}

impl Target {
    fn serves(&self, ep: &ObservedEndpoint) -> bool {
        ep.vpc_id == self.vpc_id
            && ep.service_name == self.service_name
            && ep.endpoint_type == self.endpoint_type
    }

    fn new_endpoint(&self) -> NewEndpoint {
        NewEndpoint {
            service_name: self.service_name.clone(),
            endpoint_type: self.endpoint_type,
            vpc_id: self.vpc_id.clone(),
            subnet_ids: (*self.subnet_ids).clone(),
            security_group_ids: (*self.security_group_ids).clone(),
            route_table_ids: self.route_table_ids.clone(),
            private_dns: self.private_dns,
            policy: self.policy.as_deref().cloned(),
            tags: (*self.tags).clone(),
        }
    }

    /// The edit that creates this endpoint, in place of `old` when given.
    fn create(&self, old: Option<&ObservedEndpoint>) -> Edit<EndpointField> {
        let new = self.new_endpoint();
        let to = new.display(old.map(|o| o.id.as_str()));
        Edit::new(
            EndpointField {
                short: self.short.clone(),
                part: EndpointPart::Whole {
                    delete: old.map(|o| o.id.clone()),
                    create: Some(Box::new(new)),
                },
            },
            old.map(summary),
            Some(to),
        )
    }

    fn in_place(&self, ep: &ObservedEndpoint, attribute: EndpointAttribute) -> EndpointField {
        EndpointField {
            short: self.short.clone(),
            part: EndpointPart::InPlace {
                endpoint: ep.id.clone(),
                attribute,
            },
        }
    }

    /// The in-place edits that would make `ep` this endpoint.
    fn differences(&self, ep: &ObservedEndpoint) -> Vec<Edit<EndpointField>> {
        let mut edits = Vec::new();
        match self.endpoint_type {
            EndpointType::Interface => {
                self.set_edit(
                    &mut edits,
                    ep,
                    EndpointAttribute::SubnetIds,
                    &ep.subnet_ids,
                    &self.subnet_ids,
                );
                self.set_edit(
                    &mut edits,
                    ep,
                    EndpointAttribute::SecurityGroupIds,
                    &ep.security_group_ids,
                    &self.security_group_ids,
                );
                if ep.private_dns_enabled != self.private_dns {
                    edits.push(Edit::new(
                        self.in_place(ep, EndpointAttribute::PrivateDns),
                        Some(Value::Bool(ep.private_dns_enabled)),
                        Some(Value::Bool(self.private_dns)),
                    ));
                }
            }
            EndpointType::Gateway => self.set_edit(
                &mut edits,
                ep,
                EndpointAttribute::RouteTableIds,
                &ep.route_table_ids,
                &self.route_table_ids,
            ),
        }
        if !endpoint_policies_equal(self.policy.as_deref(), ep.policy.as_deref()) {
            edits.push(Edit::new(
                self.in_place(ep, EndpointAttribute::Policy),
                ep.policy.as_deref().cloned(),
                self.policy.as_deref().cloned(),
            ));
        }
        edits.extend(tag_edits(&ep.tags, &self.tags, |key| {
            self.in_place(ep, EndpointAttribute::Tag(key))
        }));
        edits
    }

    fn set_edit(
        &self,
        edits: &mut Vec<Edit<EndpointField>>,
        ep: &ObservedEndpoint,
        attribute: EndpointAttribute,
        from: &crate::compact::Ids,
        to: &BTreeSet<String>,
    ) {
        if from != to {
            edits.push(Edit::new(
                self.in_place(ep, attribute),
                (!from.is_empty()).then(|| json!(from)),
                (!to.is_empty()).then(|| json!(to)),
            ));
        }
    }
}

/// An existing endpoint as a plan shows it.
fn summary(ep: &ObservedEndpoint) -> Value {
    json!({
        "id": ep.id,
        "serviceName": ep.service_name,
        "type": ep.endpoint_type.as_str(),
        "vpcId": ep.vpc_id,
        "state": ep.state,
    })
}

/// The edit that deletes `ep`.
fn deletion(ep: &ObservedEndpoint) -> Edit<EndpointField> {
    Edit::new(
        EndpointField {
            short: short_name(&ep.service_name).to_owned(),
            part: EndpointPart::Whole {
                delete: Some(ep.id.clone()),
                create: None,
            },
        },
        Some(summary(ep)),
        None,
    )
}

/// The plan of a set being worked out, endpoint by endpoint.
#[derive(Default)]
struct Planned<'o> {
    /// Edits per service, in the order found; sorted by [`order`] when finished.
    changes: Vec<(String, Vec<Edit<EndpointField>>)>,
    /// The endpoints acted upon: the set's own and those adopted.
    subject: Vec<&'o ObservedEndpoint>,
    /// Why endpoints of others block the set.
    blocked: Vec<String>,
    /// Why endpoints are replaced.
    replaced: Vec<String>,
    /// Whether an unowned endpoint is taken over.
    adopted: bool,
    /// Whether any endpoint of the set exists.
    existing: bool,
}

impl<'o> Planned<'o> {
    fn add(&mut self, short: &str, changes: Vec<Edit<EndpointField>>) {
        if !changes.is_empty() {
            self.changes.push((short.to_owned(), changes));
        }
    }

    fn replace(&mut self, target: &Target, old: &ObservedEndpoint, why: String) {
        self.replaced
            .push(format!("`{}` endpoint {} ({why})", target.short, old.id));
        self.add(&target.short, vec![target.create(Some(old))]);
    }

    fn finish(mut self, key: &Key) -> EndpointSetPlan<'o> {
        if !self.blocked.is_empty() {
            return KindPlan::new(key.clone(), Verb::Blocked).because(self.blocked.join("; "));
        }
        self.changes.sort_by(|a, b| order(&a.0).cmp(&order(&b.0)));
        let changes: Vec<Edit<EndpointField>> =
            self.changes.into_iter().flat_map(|(_, c)| c).collect();
        let verb = if changes.is_empty() {
            Verb::InSync
        } else if self.adopted {
            Verb::Adopt
        } else if !self.existing {
            Verb::Create
        } else {
            Verb::Update
        };
        let plan = KindPlan::new(key.clone(), verb)
            .with_edits(changes)
            .on(self.subject);
        if self.replaced.is_empty() {
            plan
        } else {
            plan.because(format!(
                "replaces what AWS cannot repair or change in place: {}",
                self.replaced.join("; ")
            ))
        }
    }
}

/// The plan of a removed document: each endpoint of the set is deleted, retained or held back as
/// its own tags and the prune gate say.
fn removed_set<'o>(
    key: &Key,
    ours: &[&'o ObservedEndpoint],
    gate: &PruneGate,
) -> EndpointSetPlan<'o> {
    let mut deleted: Vec<&'o ObservedEndpoint> = Vec::new();
    let mut retained: Vec<&str> = Vec::new();
    let mut kept: Option<EndpointSetPlan<'o>> = None;
    for ep in ours.iter().copied() {
        let plan: EndpointSetPlan<'o> = removed(key, &ep.tags, ep, gate);
        match plan.verb {
            Verb::Delete => deleted.push(ep),
            Verb::Retain => retained.push(short_name(&ep.service_name)),
            _ => {}
        }
        if plan.verb != Verb::Delete && kept.as_ref().is_none_or(|k| k.verb == Verb::Retain) {
            kept = Some(plan);
        }
    }
    if deleted.is_empty() {
        return kept.unwrap_or_else(|| KindPlan::new(key.clone(), Verb::InSync));
    }
    deleted.sort_by(|a, b| {
        order(short_name(&a.service_name)).cmp(&order(short_name(&b.service_name)))
    });
    let changes = deleted.iter().map(|ep| deletion(ep)).collect();
    let mut reason = "the document was removed".to_owned();
    if !retained.is_empty() {
        retained.sort_by_key(|short| order(short));
        reason.push_str(&format!(
            "; deletion policy Retain keeps the endpoints of {}",
            retained.join(", ")
        ));
    }
    KindPlan::new(key.clone(), Verb::Delete)
        .with_edits(changes)
        .because(reason)
        .on(deleted)
}

#[cfg(test)]
mod tests;

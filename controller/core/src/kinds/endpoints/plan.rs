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

use std::collections::{BTreeMap, BTreeSet};
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
    tags: Rc<BTreeMap<String, String>>,
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
        from: &BTreeSet<String>,
        to: &BTreeSet<String>,
    ) {
        if from != to {
            let list = |s: &BTreeSet<String>| (!s.is_empty()).then(|| json!(s));
            edits.push(Edit::new(
                self.in_place(ep, attribute),
                list(from),
                list(to),
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
mod tests {
    use super::*;
    use crate::model::{DELETION_POLICY_ANNOTATION, GatewayService, KEY_TAG, Kind, OWNER_TAG};
    use crate::plan::DocumentPlan;
    use crate::policy::default_endpoint_policy;

    const REGION: &str = "eu-west-1";

    fn spec() -> VpcEndpointSetSpec {
        VpcEndpointSetSpec {
            account: "workloads".into(),
            region: REGION.into(),
            vpc_id: "vpc-1".into(),
            subnet_ids: vec!["subnet-a".into(), "subnet-b".into(), "subnet-c".into()],
            security_group_ids: vec!["sg-endpoints".into(), "sg-audit".into()],
            private_dns: true,
            // Deliberately not in creation order.
            interface_services: [
                "logs",
                "ecr.dkr",
                "ecs",
                "ecr.api",
                "ecs-telemetry",
                "ecs-agent",
            ]
            .map(str::to_owned)
            .to_vec(),
            gateway_services: vec![GatewayService {
                service: "s3".into(),
                route_table_ids: vec!["rtb-a".into(), "rtb-b".into()],
            }],
            policy: None,
            tags: BTreeMap::from([("team".into(), "platform".into())]),
        }
    }

    fn key() -> Key {
        Key::new(Kind::VpcEndpointSet, "private-ecs")
    }

    fn plan(
        spec: &VpcEndpointSetSpec,
        policies: &Policies,
        observed: &[ObservedEndpoint],
    ) -> DocumentPlan {
        let desired = DesiredEndpointSet {
            spec,
            policies,
            region: REGION,
        };
        plan_endpoint_set("ctl", &key(), Some(desired), observed, &PruneGate::Allowed).display()
    }

    fn ours() -> BTreeMap<String, String> {
        BTreeMap::from([
            (OWNER_TAG.to_owned(), "ctl".to_owned()),
            (KEY_TAG.to_owned(), "VpcEndpointSet/private-ecs".to_owned()),
            ("team".to_owned(), "platform".to_owned()),
        ])
    }

    /// What AWS lists once the spec has been applied: lists in another order, the default policy
    /// where none was given.
    fn converged(spec: &VpcEndpointSetSpec) -> Vec<ObservedEndpoint> {
        let reversed = |ids: &[String]| ids.iter().rev().cloned().collect();
        let endpoint = |n: usize, short: &str, endpoint_type| ObservedEndpoint {
            id: format!("vpce-{n}"),
            vpc_id: spec.vpc_id.clone(),
            service_name: service_name(REGION, short),
            endpoint_type,
            state: "available".into(),
            subnet_ids: BTreeSet::new(),
            security_group_ids: BTreeSet::new(),
            route_table_ids: BTreeSet::new(),
            private_dns_enabled: false,
            policy: Some(
                spec.policy
                    .as_ref()
                    .map(policy_document)
                    .unwrap_or_else(default_endpoint_policy)
                    .into(),
            ),
            tags: ours(),
        };
        let interfaces = spec
            .interface_services
            .iter()
            .enumerate()
            .map(|(n, short)| ObservedEndpoint {
                subnet_ids: reversed(&spec.subnet_ids),
                security_group_ids: reversed(&spec.security_group_ids),
                private_dns_enabled: spec.private_dns,
                ..endpoint(n, short, EndpointType::Interface)
            });
        let gateways = spec
            .gateway_services
            .iter()
            .enumerate()
            .map(|(n, g)| ObservedEndpoint {
                route_table_ids: reversed(&g.route_table_ids),
                ..endpoint(100 + n, &g.service, EndpointType::Gateway)
            });
        interfaces.chain(gateways).collect()
    }

    fn find<'a>(observed: &'a mut [ObservedEndpoint], short: &str) -> &'a mut ObservedEndpoint {
        let name = service_name(REGION, short);
        observed
            .iter_mut()
            .find(|ep| ep.service_name == name)
            .expect("the endpoint is listed")
    }

    #[test]
    fn service_names_and_short_names_are_each_others_inverse() {
        assert_eq!(
            service_name("eu-west-1", "ecr.dkr"),
            "com.amazonaws.eu-west-1.ecr.dkr"
        );
        assert_eq!(
            short_service_name("eu-west-1", "com.amazonaws.eu-west-1.ecr.dkr"),
            Some("ecr.dkr")
        );
        assert_eq!(
            short_service_name("eu-west-2", "com.amazonaws.eu-west-1.ecr.dkr"),
            None
        );
        assert_eq!(
            short_service_name("eu-west-1", "com.amazonaws.eu-west-1."),
            None
        );
        assert_eq!(
            short_service_name("eu-west-1", "aws.sagemaker.eu-west-1.notebook"),
            None
        );
    }

    #[test]
    fn a_new_set_creates_the_ecs_endpoints_first_in_the_order_aws_needs() {
        let plan = plan(&spec(), &Policies::default(), &[]);
        assert_eq!(plan.verb, Verb::Create);
        assert_eq!(
            plan.drifted_fields(),
            [
                "endpoints.ecs-agent",
                "endpoints.ecs-telemetry",
                "endpoints.ecs",
                "endpoints.ecr.api",
                "endpoints.ecr.dkr",
                "endpoints.logs",
                "endpoints.s3"
            ]
        );
        assert!(plan.changes.iter().all(|c| c.from.is_none()));
        let agent = plan.changes[0].to.clone().expect("an endpoint to create");
        assert_eq!(agent["serviceName"], "com.amazonaws.eu-west-1.ecs-agent");
        assert_eq!(agent["type"], "Interface");
        assert_eq!(
            agent["subnetIds"],
            json!(["subnet-a", "subnet-b", "subnet-c"])
        );
        assert_eq!(agent["privateDns"], true);
        assert_eq!(agent["tags"][OWNER_TAG], "ctl");
        assert!(agent.get("policy").is_none());
        let s3 = plan.changes[6].to.clone().expect("an endpoint to create");
        assert_eq!(s3["type"], "Gateway");
        assert_eq!(s3["routeTableIds"], json!(["rtb-a", "rtb-b"]));
        assert!(s3.get("subnetIds").is_none() && s3.get("privateDns").is_none());
    }

    #[test]
    fn a_converged_set_is_in_sync_whatever_order_and_formatting_aws_reports() {
        let mut spec = spec();
        spec.policy = Some(Value::String(
            r#"{"Version": "2012-10-17", "Statement": [
                {"Sid": "Pull", "Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": "*"},
                {"Sid": "Logs", "Effect": "Allow", "Principal": "*", "Action": "logs:PutLogEvents", "Resource": "*"}
            ]}"#
            .into(),
        ));
        let mut observed = converged(&spec);
        let aws_form = json!({
            "Statement": [
                {"Resource": ["*"], "Action": ["logs:putlogevents"], "Principal": {"AWS": "*"}, "Effect": "Allow", "Sid": "Logs"},
                {"Resource": "*", "Action": ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], "Principal": {"AWS": ["*"]}, "Effect": "Allow", "Sid": "Pull"}
            ],
            "Version": "2012-10-17"
        });
        for ep in &mut observed {
            ep.policy = Some(aws_form.clone().into());
            ep.tags
                .insert("aws:cloudformation:stack-name".into(), "net".into());
        }
        assert_eq!(
            plan(&spec, &Policies::default(), &observed),
            DocumentPlan::new(key(), Verb::InSync)
        );
    }

    #[test]
    fn a_security_group_removed_by_another_client_is_drift_of_that_endpoint() {
        let spec = spec();
        let mut observed = converged(&spec);
        find(&mut observed, "logs")
            .security_group_ids
            .remove("sg-audit");
        let plan = plan(&spec, &Policies::default(), &observed);
        assert_eq!(plan.verb, Verb::Update);
        assert_eq!(plan.drifted_fields(), ["endpoints.logs.securityGroupIds"]);
        assert_eq!(plan.changes[0].from, Some(json!(["sg-endpoints"])));
        assert_eq!(
            plan.changes[0].to,
            Some(json!(["sg-audit", "sg-endpoints"]))
        );
    }

    #[test]
    fn private_dns_turned_off_is_drift() {
        let spec = spec();
        let mut observed = converged(&spec);
        find(&mut observed, "ecr.api").private_dns_enabled = false;
        let plan = plan(&spec, &Policies::default(), &observed);
        assert_eq!(plan.verb, Verb::Update);
        assert_eq!(plan.drifted_fields(), ["endpoints.ecr.api.privateDns"]);
        assert_eq!(plan.changes[0].to, Some(Value::Bool(true)));
    }

    #[test]
    fn subnets_route_tables_and_tags_drift_per_endpoint() {
        let spec = spec();
        let mut observed = converged(&spec);
        find(&mut observed, "ecs")
            .subnet_ids
            .insert("subnet-z".into());
        find(&mut observed, "s3").route_table_ids.remove("rtb-b");
        find(&mut observed, "ecs-agent").tags.remove("team");
        let plan = plan(&spec, &Policies::default(), &observed);
        assert_eq!(plan.verb, Verb::Update);
        assert_eq!(
            plan.drifted_fields(),
            [
                "endpoints.ecs-agent.tags.team",
                "endpoints.ecs.subnetIds",
                "endpoints.s3.routeTableIds"
            ]
        );
    }

    #[test]
    fn gateway_endpoints_have_no_subnets_security_groups_or_private_dns() {
        let spec = spec();
        let observed = converged(&spec);
        let s3 = observed
            .iter()
            .find(|ep| ep.endpoint_type == EndpointType::Gateway)
            .expect("the s3 gateway endpoint");
        assert!(!s3.private_dns_enabled && s3.subnet_ids.is_empty());
        assert!(spec.private_dns);
        assert_eq!(
            plan(&spec, &Policies::default(), &observed).verb,
            Verb::InSync
        );
    }

    #[test]
    fn a_changed_policy_is_drift_but_a_reformatted_one_is_not() {
        let mut spec = spec();
        spec.gateway_services.clear();
        spec.interface_services = vec!["logs".into()];
        spec.policy = Some(json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]
        }));
        let mut observed = converged(&spec);
        observed[0].policy = Some(json!({
            "Statement": {"Action": ["logs:PutLogEvents", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*", "Effect": "Allow", "Principal": {"AWS": "*"}},
            "Version": "2012-10-17"
        }).into());
        assert_eq!(
            plan(&spec, &Policies::default(), &observed).verb,
            Verb::InSync
        );
        let widened = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "logs:*", "Resource": "*"}]
        });
        observed[0].policy = Some(widened.clone().into());
        let plan = plan(&spec, &Policies::default(), &observed);
        assert_eq!(plan.verb, Verb::Update);
        assert_eq!(plan.drifted_fields(), ["endpoints.logs.policy"]);
        assert_eq!(plan.changes[0].from, Some(widened));
        assert_eq!(plan.changes[0].to, spec.policy);
    }

    #[test]
    fn no_policy_in_the_document_is_the_default_policy_aws_reports() {
        let spec = spec();
        let mut observed = converged(&spec);
        assert!(
            observed
                .iter()
                .all(|ep| ep.policy.as_deref() == Some(&default_endpoint_policy()))
        );
        assert_eq!(
            plan(&spec, &Policies::default(), &observed).verb,
            Verb::InSync
        );
        find(&mut observed, "logs").policy = None;
        assert_eq!(
            plan(&spec, &Policies::default(), &observed).verb,
            Verb::InSync
        );
        let narrow = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "logs:*", "Resource": "*"}]});
        find(&mut observed, "logs").policy = Some(narrow.into());
        let plan = plan(&spec, &Policies::default(), &observed);
        assert_eq!(plan.drifted_fields(), ["endpoints.logs.policy"]);
        assert_eq!(plan.changes[0].to, None);
    }

    #[test]
    fn an_unowned_look_alike_endpoint_blocks_the_set_unless_adopted() {
        let spec = spec();
        let mut observed = converged(&spec);
        let logs = find(&mut observed, "logs");
        logs.tags = BTreeMap::from([("team".into(), "platform".into())]);
        let plan_of = |adopt| {
            let policies = Policies {
                adopt,
                ..Policies::default()
            };
            plan(&spec, &policies, &observed)
        };
        let blocked = plan_of(false);
        assert_eq!(blocked.verb, Verb::Blocked);
        let reason = blocked.reason.expect("a reason");
        assert!(reason.contains("`logs` endpoint vpce-0"), "{reason}");
        assert!(reason.contains("ecs-topology.dev/adopt"), "{reason}");
        let adopted = plan_of(true);
        assert_eq!(adopted.verb, Verb::Adopt);
        assert_eq!(
            adopted.drifted_fields(),
            [
                "endpoints.logs.tags.ecs-topology.dev/key",
                "endpoints.logs.tags.ecs-topology.dev/owner"
            ]
        );
    }

    #[test]
    fn another_documents_endpoint_is_never_adopted() {
        let spec = spec();
        let mut observed = converged(&spec);
        find(&mut observed, "ecr.dkr")
            .tags
            .insert(KEY_TAG.into(), "VpcEndpointSet/other".into());
        let policies = Policies {
            adopt: true,
            ..Policies::default()
        };
        let plan = plan(&spec, &policies, &observed);
        assert_eq!(plan.verb, Verb::Blocked);
        assert!(
            plan.reason
                .expect("a reason")
                .contains("VpcEndpointSet/other")
        );
    }

    #[test]
    fn an_endpoint_of_the_same_service_but_another_type_is_not_a_look_alike() {
        let spec = spec();
        let mut observed = converged(&spec);
        let s3 = find(&mut observed, "s3").clone();
        let logs = find(&mut observed, "logs").clone();
        observed.push(ObservedEndpoint {
            id: "vpce-theirs".into(),
            endpoint_type: EndpointType::Interface,
            subnet_ids: BTreeSet::from(["subnet-a".into()]),
            tags: BTreeMap::new(),
            ..s3
        });
        observed.push(ObservedEndpoint {
            id: "vpce-elsewhere".into(),
            vpc_id: "vpc-2".into(),
            tags: BTreeMap::new(),
            ..logs
        });
        assert_eq!(
            plan(&spec, &Policies::default(), &observed).verb,
            Verb::InSync
        );
    }

    #[test]
    fn deleted_and_deleting_endpoints_count_as_absent() {
        let spec = spec();
        let mut observed = converged(&spec);
        find(&mut observed, "logs").state = "deleting".into();
        let mut theirs = find(&mut observed, "ecr.api").clone();
        find(&mut observed, "ecr.api").state = "deleted".into();
        theirs.id = "vpce-old".into();
        theirs.state = "deleted".into();
        theirs.tags.clear();
        observed.push(theirs);
        let plan = plan(&spec, &Policies::default(), &observed);
        assert_eq!(plan.verb, Verb::Update);
        assert_eq!(
            plan.drifted_fields(),
            ["endpoints.ecr.api", "endpoints.logs"]
        );
        assert!(plan.changes.iter().all(|c| c.from.is_none()));
    }

    #[test]
    fn a_failed_endpoint_is_replaced() {
        let spec = spec();
        let mut observed = converged(&spec);
        find(&mut observed, "ecs-telemetry").state = "failed".into();
        let plan = plan(&spec, &Policies::default(), &observed);
        assert_eq!(plan.verb, Verb::Update);
        assert_eq!(plan.drifted_fields(), ["endpoints.ecs-telemetry"]);
        let change = &plan.changes[0];
        assert_eq!(
            change.from.as_ref().map(|f| &f["state"]),
            Some(&json!("failed"))
        );
        let to = change.to.as_ref().expect("a new endpoint");
        assert_eq!(to["replaces"], "vpce-4");
        assert_eq!(to["serviceName"], "com.amazonaws.eu-west-1.ecs-telemetry");
        let reason = plan.reason.expect("a reason");
        assert!(reason.contains("vpce-4 (it is failed)"), "{reason}");
    }

    #[test]
    fn an_endpoint_left_in_another_vpc_or_of_another_type_is_replaced() {
        let mut spec = spec();
        let observed = converged(&spec);
        spec.vpc_id = "vpc-2".into();
        let plan = plan(&spec, &Policies::default(), &observed);
        assert_eq!(plan.verb, Verb::Update);
        assert_eq!(plan.changes.len(), 7);
        assert!(
            plan.changes
                .iter()
                .all(|c| c.to.as_ref().is_some_and(|t| t["vpcId"] == "vpc-2"))
        );
        assert!(
            plan.reason
                .expect("a reason")
                .contains("cannot move to another VPC")
        );

        let mut spec = self::spec();
        let observed = converged(&spec);
        spec.gateway_services.clear();
        spec.interface_services.push("s3".into());
        let plan = self::plan(&spec, &Policies::default(), &observed);
        assert_eq!(plan.drifted_fields(), ["endpoints.s3"]);
        assert_eq!(
            plan.changes[0].to.as_ref().map(|t| &t["type"]),
            Some(&json!("Interface"))
        );
        assert!(
            plan.reason
                .expect("a reason")
                .contains("cannot change its type")
        );
    }

    #[test]
    fn a_service_dropped_from_the_spec_deletes_its_endpoint_as_an_update() {
        let mut spec = spec();
        let observed = converged(&spec);
        spec.interface_services.retain(|s| s != "ecr.dkr");
        let plan = plan(&spec, &Policies::default(), &observed);
        assert_eq!(plan.verb, Verb::Update);
        assert_eq!(plan.drifted_fields(), ["endpoints.ecr.dkr"]);
        assert_eq!(
            plan.changes[0].from.as_ref().map(|f| &f["id"]),
            Some(&json!("vpce-1"))
        );
        assert_eq!(plan.changes[0].to, None);
    }

    #[test]
    fn a_second_endpoint_of_the_set_for_one_service_is_deleted() {
        let spec = spec();
        let mut observed = converged(&spec);
        let mut twin = find(&mut observed, "logs").clone();
        twin.id = "vpce-twin".into();
        twin.state = "pending".into();
        observed.push(twin);
        let plan = plan(&spec, &Policies::default(), &observed);
        assert_eq!(plan.drifted_fields(), ["endpoints.logs"]);
        assert_eq!(
            plan.changes[0].from.as_ref().map(|f| &f["id"]),
            Some(&json!("vpce-twin"))
        );
        assert_eq!(plan.changes[0].to, None);
    }

    #[test]
    fn a_removed_document_deletes_retains_or_holds_back_its_endpoints() {
        let observed = converged(&spec());
        let removed = |observed: &[ObservedEndpoint], gate: &PruneGate| {
            plan_endpoint_set("ctl", &key(), None, observed, gate).display()
        };
        let plan = removed(&observed, &PruneGate::Allowed);
        assert_eq!(plan.verb, Verb::Delete);
        assert_eq!(plan.changes.len(), 7);
        assert_eq!(plan.changes[0].path, "endpoints.ecs-agent");
        assert!(plan.changes.iter().all(|c| c.to.is_none()));

        let held = PruneGate::HeldBack("the source listed no documents".into());
        let plan = removed(&observed, &held);
        assert_eq!(plan.verb, Verb::Blocked);
        assert!(plan.reason.expect("a reason").contains("held back"));

        let mut retained = observed.clone();
        for ep in &mut retained {
            ep.tags
                .insert(DELETION_POLICY_ANNOTATION.into(), "Retain".into());
        }
        assert_eq!(removed(&retained, &PruneGate::Allowed).verb, Verb::Retain);

        retained[5].tags.remove(DELETION_POLICY_ANNOTATION);
        let plan = removed(&retained, &PruneGate::Allowed);
        assert_eq!(plan.verb, Verb::Delete);
        assert_eq!(plan.drifted_fields(), ["endpoints.ecs-agent"]);
        assert!(plan.reason.expect("a reason").contains("Retain keeps"));

        let mut theirs = observed.clone();
        for ep in &mut theirs {
            ep.tags.clear();
        }
        assert_eq!(removed(&theirs, &PruneGate::Allowed).verb, Verb::InSync);
    }

    #[test]
    fn a_suspended_set_reports_drift_and_changes_nothing() {
        let spec = spec();
        let mut observed = converged(&spec);
        find(&mut observed, "logs").private_dns_enabled = false;
        let policies = Policies {
            suspend: true,
            ..Policies::default()
        };
        let plan = plan(&spec, &policies, &observed);
        assert_eq!(plan.verb, Verb::Suspended);
        assert_eq!(plan.drifted_fields(), ["endpoints.logs.privateDns"]);
        let fresh = self::plan(&spec, &policies, &[]);
        assert_eq!(fresh.verb, Verb::Suspended);
        assert_eq!(fresh.reason.as_deref(), Some("suspended; would create"));
    }

    #[test]
    fn the_set_is_ready_only_when_every_endpoint_is_available() {
        let mut observed = converged(&spec());
        let spec = spec();
        assert_eq!(
            endpoints_ready(&spec, &observed),
            (true, "all 7 endpoints are available".to_owned())
        );
        find(&mut observed, "logs").state = "pending".into();
        find(&mut observed, "ecs").state = "pending".into();
        let (ready, message) = endpoints_ready(&spec, &observed);
        assert!(!ready);
        assert_eq!(
            message,
            "waiting for endpoints: ecs (vpce-2 pending), logs (vpce-0 pending)"
        );
        assert_eq!(
            endpoints_ready(&spec, &[]),
            (false, "no endpoints yet".to_owned())
        );
    }

    #[test]
    fn a_set_missing_an_endpoint_is_not_ready_though_the_others_are_available() {
        let spec = spec();
        let mut observed = converged(&spec);
        observed
            .retain(|ep| !ep.service_name.ends_with(".logs") && !ep.service_name.ends_with(".s3"));
        let (ready, message) = endpoints_ready(&spec, &observed);
        assert!(!ready);
        assert_eq!(message, "endpoints not created yet: logs, s3");
    }
}

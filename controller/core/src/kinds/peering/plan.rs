//! The plan of a `VpcPeering`: the connection, its acceptance, each side's DNS resolution option,
//! the routes to the peer VPC's CIDR blocks, and the requester's tags.
//!
//! Field paths are `connection` (created from nothing, deleted to nothing), `acceptance`,
//! `requester.dnsResolution`, `accepter.dnsResolution`, `routes.<side>.<route table>.<CIDR>` and
//! `tags.<key>`.
//!
//! # Guarantees
//! - The connection is the document's when the requester's tags name this controller and this
//!   document. `rejected`, `expired`, `deleting` and `deleted` connections count as absent; one
//!   of the document's that `failed` blocks it with AWS's message rather than being requested
//!   again and again.
//! - Nothing is planned for a peering AWS would refuse: two VPCs whose CIDR blocks overlap (both
//!   blocks named), a VPC or route table that does not exist, a route table of another VPC.
//! - Every listed route table of a side gets a route to every IPv4 CIDR block of the other VPC,
//!   targeting the connection. A route to such a block that targets something other than a
//!   peering connection (a gateway, a NAT, a transit gateway), or another live peering
//!   connection, is not the controller's: it blocks the document and is never replaced. A route
//!   to a peering connection that is gone (`blackhole`) or that was this document's is replaced.
//! - A live connection between the same VPCs that is not the document's blocks it, unless it has
//!   no owner and the document says adopt.
//! - A pending connection is accepted when the controller has a role in the accepter's account;
//!   otherwise, and while AWS is checking or provisioning it, the plan waits.
//! - A removed document deletes its connection (its routes first, on the AWS side), subject to
//!   the prune gate; deletion policy Retain keeps both.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{
    Network, ObservedPeering, PeeringField, PeeringLife, RouteTarget, Side, cidrs_overlap,
};
use crate::engine::Scope;
use crate::model::{Key, Policies, VpcPeeringSpec};
use crate::observed::{Ownership, Seen, ownership};
use crate::plan::{
    Edit, KindPlan, PruneGate, Verb, desired_tags, not_ours, only_own, removed, tag_edits,
    unless_suspended,
};

/// The typed plan of a peering document.
pub type PeeringPlan<'o> = KindPlan<'o, PeeringField, ObservedPeering>;

/// A peering document as planning needs it: its sides' accounts resolved.
#[derive(Debug, Clone)]
pub struct DesiredPeering<'a> {
    pub spec: &'a VpcPeeringSpec,
    pub policies: &'a Policies,
    pub requester: Scope,
    pub accepter: Scope,
    /// Whether the controller has a role in the accepter's account (and so can accept).
    pub can_accept: bool,
}

/// A connection to request, every field as it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPeering {
    pub requester_vpc: String,
    pub accepter: Scope,
    pub accepter_vpc: String,
    pub tags: crate::compact::Tags,
}

impl NewPeering {
    fn display(&self) -> Value {
        json!({
            "requesterVpcId": self.requester_vpc,
            "accepterVpcId": self.accepter_vpc,
            "accepterAccount": self.accepter.account,
            "accepterRegion": self.accepter.region,
            "tags": self.tags,
        })
    }
}

/// Plans one peering. `observed` are the connections of the requester's scope (at least the
/// document's own and those requested from its VPC); `networks` the route tables and VPCs of
/// every observed scope; `desired` is `None` when the document was removed.
pub fn plan_peering<'o>(
    controller: &str,
    key: &Key,
    desired: Option<&DesiredPeering<'_>>,
    observed: impl Into<Seen<'o, ObservedPeering>>,
    networks: &BTreeMap<Scope, Network>,
    gate: &PruneGate,
) -> PeeringPlan<'o> {
    let observed = observed.into();
    let ours: Vec<&'o ObservedPeering> = observed.ours(controller, key).collect();
    let live: Vec<&'o ObservedPeering> = ours.iter().copied().filter(|c| c.is_live()).collect();
    let Some(want) = desired else {
        return match live.first() {
            None => KindPlan::new(key.clone(), Verb::InSync),
            Some(c) => {
                let plan = removed(key, &c.tags, *c, gate);
                if plan.verb == Verb::Delete {
                    plan.with_edits(vec![Edit::new(
                        PeeringField::Connection { create: None },
                        Some(json!(c.id)),
                        None,
                    )])
                } else {
                    plan
                }
            }
        };
    };
    let mine = match only_own(key, live, |c| &c.id) {
        Ok(mine) => mine,
        Err(blocked) => return *blocked,
    };
    let peer = match peer_networks(want, networks) {
        Ok(peer) => peer,
        Err(why) => return KindPlan::new(key.clone(), Verb::Blocked).because(why),
    };
    let tags = desired_tags(&want.spec.tags, controller, key, want.policies);
    let spec = want.spec;
    let (verb, subject, connection): (Verb, Option<&'o ObservedPeering>, Option<&ObservedPeering>) =
        match mine {
            Some(c) => (Verb::Update, Some(c), Some(c)),
            None => {
                if let Some(failed) = ours.iter().find(|c| {
                    c.life() == PeeringLife::Failed
                        && c.requester.vpc_id == spec.requester.vpc_id
                        && c.accepter.vpc_id == spec.accepter.vpc_id
                }) {
                    return KindPlan::new(key.clone(), Verb::Blocked).because(format!(
                        "the peering connection {} failed: {}",
                        failed.id,
                        failed.message.as_deref().unwrap_or("no reason given")
                    ));
                }
                let look_alike = observed.all().iter().find(|c| {
                    c.is_live()
                        && c.requester.vpc_id == spec.requester.vpc_id
                        && c.accepter.vpc_id == spec.accepter.vpc_id
                        && ownership(&c.tags, controller, key) != Ownership::Ours
                });
                match look_alike {
                    Some(other) => {
                        let what = format!(
                            "the peering connection {} of {} and {}",
                            other.id, spec.requester.vpc_id, spec.accepter.vpc_id
                        );
                        let owner = ownership(&other.tags, controller, key);
                        if let Some(blocked) = not_ours::<PeeringField, ObservedPeering>(
                            key,
                            &what,
                            &owner,
                            want.policies.adopt,
                        ) {
                            return blocked;
                        }
                        (Verb::Adopt, Some(other), Some(other))
                    }
                    None => (Verb::Create, None, None),
                }
            }
        };
    if let Some(c) = connection
        && (c.requester.vpc_id != spec.requester.vpc_id
            || c.accepter.vpc_id != spec.accepter.vpc_id)
    {
        return KindPlan::new(key.clone(), Verb::Blocked).because(format!(
            "the peering connection {} joins {} and {}, not the document's {} and {}; a \
             connection cannot move: delete it by hand to let the new one be requested",
            c.id,
            c.requester.vpc_id,
            c.accepter.vpc_id,
            spec.requester.vpc_id,
            spec.accepter.vpc_id
        ));
    }
    let mut edits = Vec::new();
    match connection {
        None => {
            let new = NewPeering {
                requester_vpc: spec.requester.vpc_id.clone(),
                accepter: want.accepter.clone(),
                accepter_vpc: spec.accepter.vpc_id.clone(),
                tags: tags.clone(),
            };
            let to = new.display();
            edits.push(Edit::new(
                PeeringField::Connection {
                    create: Some(Box::new(new)),
                },
                None,
                Some(to),
            ));
        }
        Some(c) => match c.life() {
            PeeringLife::Initiating | PeeringLife::Provisioning => {
                let what = if c.life() == PeeringLife::Initiating {
                    "being requested"
                } else {
                    "provisioning"
                };
                return KindPlan::new(key.clone(), Verb::Waiting)
                    .because(format!("the peering connection {} is {what}", c.id));
            }
            PeeringLife::Pending if !want.can_accept => {
                return KindPlan::new(key.clone(), Verb::Waiting).because(format!(
                    "the peering connection {} is pending acceptance by account {}, where the \
                     controller has no role",
                    c.id, c.accepter.account
                ));
            }
            PeeringLife::Pending => edits.push(Edit::new(
                PeeringField::Acceptance {
                    accepter: want.accepter.clone(),
                },
                Some(json!("pending-acceptance")),
                Some(json!("accepted")),
            )),
            _ => {}
        },
    }
    if let Some(c) = connection {
        edits.extend(tag_edits(&c.tags, &tags, PeeringField::Tag));
    }
    for (side, scope) in [
        (Side::Requester, &want.requester),
        (Side::Accepter, &want.accepter),
    ] {
        // Options can only be set once active: a new or pending connection has them off.
        let now = connection
            .filter(|c| c.life() == PeeringLife::Active)
            .is_some_and(|c| match side {
                Side::Requester => c.requester.dns_resolution,
                Side::Accepter => c.accepter.dns_resolution,
            });
        if now != spec.dns_resolution {
            edits.push(Edit::new(
                PeeringField::DnsResolution {
                    side,
                    scope: scope.clone(),
                },
                Some(json!(now)),
                Some(json!(spec.dns_resolution)),
            ));
        }
    }
    let mut blocked = Vec::new();
    let target = connection.map_or_else(|| json!("the new peering connection"), |c| json!(c.id));
    for (side, scope, table_ids, peer_cidrs) in [
        (
            Side::Requester,
            &want.requester,
            &spec.requester.route_table_ids,
            &peer.accepter_cidrs,
        ),
        (
            Side::Accepter,
            &want.accepter,
            &spec.accepter.route_table_ids,
            &peer.requester_cidrs,
        ),
    ] {
        for table_id in table_ids {
            let Some(table) = networks
                .get(scope)
                .and_then(|n| n.route_tables.get(table_id))
            else {
                continue;
            };
            for cidr in peer_cidrs {
                let route = table.routes.get(cidr);
                let field = |replace| PeeringField::Route {
                    side,
                    scope: scope.clone(),
                    route_table: table_id.clone(),
                    destination: cidr.clone(),
                    replace,
                };
                let Some(route) = route else {
                    edits.push(Edit::new(field(false), None, Some(target.clone())));
                    continue;
                };
                match &route.target {
                    RouteTarget::Peering(id) if connection.is_some_and(|c| c.id == *id) => {}
                    RouteTarget::Peering(id)
                        if route.state == "blackhole" || ours.iter().any(|c| c.id == *id) =>
                    {
                        edits.push(Edit::new(
                            field(true),
                            Some(json!(format!("{id} ({})", route.state))),
                            Some(target.clone()),
                        ));
                    }
                    RouteTarget::Peering(id) => blocked.push(format!(
                        "the route to {cidr} in {table_id} targets the peering connection {id}, \
                         which is not this document's; left alone"
                    )),
                    RouteTarget::Other(id) => blocked.push(format!(
                        "the route to {cidr} in {table_id} targets {id}, not a peering \
                         connection; left alone (remove it by hand to let the peering route in)"
                    )),
                }
            }
        }
    }
    if !blocked.is_empty() {
        return KindPlan::new(key.clone(), Verb::Blocked).because(blocked.join("; "));
    }
    let verb = match verb {
        Verb::Update if edits.is_empty() => Verb::InSync,
        v => v,
    };
    let plan = KindPlan::new(key.clone(), verb)
        .with_edits(edits)
        .on(subject);
    unless_suspended(plan, want.policies)
}

/// The CIDR blocks of both VPCs, checked: both VPCs exist, their blocks do not overlap, and
/// every listed route table exists in its side's VPC.
struct Peer {
    requester_cidrs: Vec<String>,
    accepter_cidrs: Vec<String>,
}

fn peer_networks(
    want: &DesiredPeering<'_>,
    networks: &BTreeMap<Scope, Network>,
) -> Result<Peer, String> {
    let spec = want.spec;
    let mut cidrs = Vec::new();
    for (side, scope, s) in [
        (Side::Requester, &want.requester, &spec.requester),
        (Side::Accepter, &want.accepter, &spec.accepter),
    ] {
        let Some(network) = networks.get(scope) else {
            return Err(format!(
                "the {} side in {scope} is not observed yet",
                side.as_str()
            ));
        };
        let Some(vpc) = network.vpcs.get(&s.vpc_id) else {
            return Err(format!(
                "the {} VPC {} does not exist in {scope}",
                side.as_str(),
                s.vpc_id
            ));
        };
        for table_id in &s.route_table_ids {
            match network.route_tables.get(table_id) {
                None => {
                    return Err(format!(
                        "the route table {table_id} does not exist in {scope}"
                    ));
                }
                Some(t) if t.vpc_id != s.vpc_id => {
                    return Err(format!(
                        "the route table {table_id} belongs to {}, not to the {} VPC {}",
                        t.vpc_id,
                        side.as_str(),
                        s.vpc_id
                    ));
                }
                Some(_) => {}
            }
        }
        cidrs.push(vpc.cidrs.iter().map(|c| c.to_string()).collect::<Vec<_>>());
    }
    let accepter_cidrs = cidrs.pop().unwrap_or_default();
    let requester_cidrs = cidrs.pop().unwrap_or_default();
    for a in &requester_cidrs {
        if let Some(b) = accepter_cidrs.iter().find(|b| cidrs_overlap(a, b)) {
            return Err(format!(
                "the CIDR blocks of the two VPCs overlap: {a} of {} and {b} of {}; AWS fails a \
                 peering of overlapping VPCs",
                spec.requester.vpc_id, spec.accepter.vpc_id
            ));
        }
    }
    Ok(Peer {
        requester_cidrs,
        accepter_cidrs,
    })
}

#[cfg(test)]
mod tests;

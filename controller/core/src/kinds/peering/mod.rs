//! `VpcPeering`: a VPC peering connection between two VPCs (across accounts and regions), the
//! accepter's acceptance, each side's DNS resolution option, and the routes to each VPC's CIDR
//! blocks in the listed route tables of the other.
//!
//! A document lives where its requester is: the connection is observed there, by the owner tag.
//! The route tables and VPCs the documents name are observed in batches in the scope of each
//! side (a side's scope that holds no document of its own is looked at after the pass, by
//! [`Resource::observe_more`]), into [`Observation::networks`].

mod check;
mod observed;
mod plan;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use crate::engine::look_per_scope;

pub use observed::{
    Network, ObservedPeering, ObservedRoute, ObservedRouteTable, ObservedVpc, PeeringEnd,
    PeeringLife, RouteTarget, cidrs_overlap,
};
pub use plan::{DesiredPeering, NewPeering, PeeringPlan, plan_peering};

use crate::engine::{
    Applied, Change, Context, DesiredSet, Edge, Input, Observation, Patch, Plan, Registered,
    Resource, Scope, Topology,
};
use crate::kinds::Cloud;
use crate::model::{Key, Kind, VpcPeeringSpec};
use crate::observed::{Ownership, Seen, ownership};
use crate::plan::{Field, PruneGate, Verb};
use crate::status::ErrorInfo;

/// One side of a peering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Requester,
    Accepter,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Requester => "requester",
            Side::Accepter => "accepter",
        }
    }
}

/// A field of a peering.
#[derive(Debug, Clone, PartialEq)]
pub enum PeeringField {
    /// The connection itself: `create` the connection to request (from nothing), or `None` to
    /// delete the subject (to nothing).
    Connection { create: Option<Box<NewPeering>> },
    /// Accepting the pending connection from the accepter's account, in its region.
    Acceptance { accepter: Scope },
    /// A side's DNS resolution option, set from that side's account (`to` is the boolean).
    DnsResolution { side: Side, scope: Scope },
    /// The route to `destination` (a CIDR block of the other VPC) in `route_table` of `side`,
    /// made to target the connection: created, or `replace`d where one to another peering
    /// connection (a deleted one, or an earlier one of this document) is in its way.
    Route {
        side: Side,
        scope: Scope,
        route_table: String,
        destination: String,
        replace: bool,
    },
    /// A tag of the requester's view of the connection.
    Tag(String),
}

impl Field for PeeringField {
    fn path(&self) -> String {
        match self {
            PeeringField::Connection { .. } => "connection".into(),
            PeeringField::Acceptance { .. } => "acceptance".into(),
            PeeringField::DnsResolution { side, .. } => format!("{}.dnsResolution", side.as_str()),
            PeeringField::Route {
                side,
                route_table,
                destination,
                ..
            } => format!("routes.{}.{route_table}.{destination}", side.as_str()),
            PeeringField::Tag(key) => format!("tags.{key}"),
        }
    }

    fn tag_key(&self) -> Option<&str> {
        match self {
            PeeringField::Tag(key) => Some(key),
            _ => None,
        }
    }
}

/// The route tables and VPCs one scope's documents name (what [`PeeringCloud::observe_network`]
/// reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkWants {
    pub vpcs: BTreeSet<String>,
    pub route_tables: BTreeSet<String>,
}

/// What a peering change left behind.
#[derive(Debug, Clone, Default)]
pub struct PeeringApplied {
    /// The connection as it now is (`None` once deleted).
    pub connection: Option<ObservedPeering>,
    /// The route tables the change touched, as they now are, with their scopes.
    pub route_tables: Vec<(Scope, ObservedRouteTable)>,
}

/// What the AWS side does for peerings.
pub trait PeeringCloud {
    /// Every peering connection of the scope tagged by the controller `owner` (the requester's
    /// view), in every state AWS still lists.
    fn observe_peerings(
        &self,
        scope: &Scope,
        owner: &str,
    ) -> impl Future<Output = Result<Vec<ObservedPeering>, ErrorInfo>> + Send;
    /// The connections the scope requested from `vpcs` that `owner` does not own (a targeted
    /// read, made only for documents without a live connection of their own).
    fn peering_look_alikes(
        &self,
        scope: &Scope,
        vpcs: &BTreeSet<String>,
        owner: &str,
    ) -> impl Future<Output = Result<Vec<ObservedPeering>, ErrorInfo>> + Send;
    /// The route tables and VPCs of the scope that `wants` names (one filtered, paginated
    /// `DescribeRouteTables` and one `DescribeVpcs`, each skipped when nothing is named).
    fn observe_network(
        &self,
        scope: &Scope,
        wants: &NetworkWants,
    ) -> impl Future<Output = Result<Network, ErrorInfo>> + Send;
    /// Carries out a peering change across both accounts.
    fn apply_peering(
        &self,
        change: Change<'_, Peerings>,
    ) -> impl Future<Output = Result<PeeringApplied, ErrorInfo>> + Send;
}

/// What observing one scope yields: the connections requested there and its network.
#[derive(Debug, Clone, Default)]
pub struct PeeringScan {
    pub connections: Vec<ObservedPeering>,
    pub network: Network,
}

/// The peerings kind.
#[derive(Debug)]
pub struct Peerings;

impl Resource for Peerings {
    type Field = PeeringField;
    type Scan = PeeringScan;

    const EVENT_SOURCE: &'static str = "ec2.amazonaws.com";
    const EVENTS: &'static [&'static str] = &[
        "CreateVpcPeeringConnection",
        "AcceptVpcPeeringConnection",
        "DeleteVpcPeeringConnection",
        "ModifyVpcPeeringConnectionOptions",
        "CreateRoute",
        "ReplaceRoute",
        "DeleteRoute",
        "CreateTags",
        "DeleteTags",
    ];

    fn user_tags(spec: &VpcPeeringSpec) -> &crate::compact::Tags {
        &spec.tags
    }

    fn id(object: &ObservedPeering) -> &str {
        &object.id
    }

    fn exists(object: &ObservedPeering) -> bool {
        object.is_live()
    }

    /// The connections tagged by the controller; for documents without a live one of their own,
    /// the other connections requested from their VPCs (look-alikes to adopt or be blocked by);
    /// and the scope's network.
    async fn observe<'a, C: Cloud>(
        cloud: &'a C,
        desired: &'a DesiredSet,
        scope: &'a Scope,
        _sweep: bool,
    ) -> Result<PeeringScan, ErrorInfo> {
        let owner = desired.controller.as_str();
        let mut connections = cloud.observe_peerings(scope, owner).await?;
        let lacking: BTreeSet<String> = desired
            .in_scope(scope)
            .filter_map(|(key, d)| Some((key, Self::spec(&d.document)?)))
            .filter(|(key, spec)| {
                !connections.iter().any(|c| {
                    c.is_live()
                        && c.requester.vpc_id == spec.requester.vpc_id
                        && ownership(&c.tags, owner, key) == Ownership::Ours
                })
            })
            .map(|(_, spec)| spec.requester.vpc_id.clone())
            .collect();
        if !lacking.is_empty() {
            for c in cloud.peering_look_alikes(scope, &lacking, owner).await? {
                if !connections.iter().any(|x| x.id == c.id) {
                    connections.push(c);
                }
            }
        }
        let network = cloud
            .observe_network(scope, &network_wants(desired, scope))
            .await?;
        Ok(PeeringScan {
            connections,
            network,
        })
    }

    fn store(scan: PeeringScan, observation: &mut Observation, scope: Scope) {
        observation
            .peerings
            .replace(scope.clone(), scan.connections);
        observation.networks.insert(scope, scan.network);
    }

    /// The networks of the accepter scopes that hold no peering document of their own.
    fn observe_more<'a, C: Cloud>(
        cloud: &'a C,
        desired: &'a DesiredSet,
        observation: &'a Observation,
        concurrency: usize,
    ) -> impl Future<Output = Option<Patch>> + Send + 'a {
        let scopes: BTreeSet<Scope> = desired
            .documents
            .values()
            .filter_map(|d| Self::spec(&d.document))
            .filter_map(|spec| side_scope(desired, &spec.accepter))
            .filter(|scope| !observation.networks.contains_key(scope))
            .collect();
        look_per_scope(
            scopes,
            concurrency,
            move |scope| async move {
                let wants = network_wants(desired, &scope);
                cloud.observe_network(&scope, &wants).await
            },
            |observation, scope, found| match found {
                Ok(network) => {
                    observation.networks.insert(scope, network);
                }
                Err(e) => {
                    observation.failed.insert((scope, Kind::VpcPeering), e);
                }
            },
        )
    }

    fn plan<'o>(cx: &Context<'o>, input: Input<'o, Self>) -> Plan<'o, Self> {
        let want = input
            .spec
            .zip(input.doc)
            .and_then(|(spec, d)| desired_peering(cx, spec, &d.policies));
        let accepter_failure = want
            .as_ref()
            .and_then(|w| cx.observed.failure(&w.accepter, Kind::VpcPeering))
            .map(|e| e.message.as_str());
        if let (Some(w), Some(why)) = (&want, accepter_failure) {
            return crate::plan::KindPlan::new(input.key.clone(), Verb::Blocked).because(format!(
                "cannot observe the accepter side in {}: {why}",
                w.accepter
            ));
        }
        plan_peering(
            cx.controller(),
            input.key,
            want.as_ref(),
            input.seen,
            &cx.observed.networks,
            input.gate,
        )
    }

    fn readiness(cx: &Context<'_>, key: &Key, seen: Seen<'_, ObservedPeering>) -> (bool, String) {
        let Some(d) = cx.desired.documents.get(key) else {
            return (false, "the document was removed".into());
        };
        let Some(want) = Self::spec(&d.document).and_then(|s| desired_peering(cx, s, &d.policies))
        else {
            return (false, "an account of the document is unknown".into());
        };
        let Some(c) = seen.ours(cx.controller(), key).find(|c| c.is_live()) else {
            return (false, "no peering connection yet".into());
        };
        match c.life() {
            PeeringLife::Initiating => (false, format!("{} is being requested", c.id)),
            PeeringLife::Pending => (
                false,
                format!("{} is pending acceptance by {}", c.id, c.accepter.account),
            ),
            PeeringLife::Provisioning => (false, format!("{} is provisioning", c.id)),
            _ => {
                let plan = plan_peering(
                    cx.controller(),
                    key,
                    Some(&want),
                    seen,
                    &cx.observed.networks,
                    &PruneGate::Allowed,
                );
                let routes = want.spec.requester.route_table_ids.len()
                    + want.spec.accepter.route_table_ids.len();
                if plan.verb == Verb::InSync {
                    (
                        true,
                        format!(
                            "{} is active, DNS resolution as asked, routes in {routes} route tables",
                            c.id
                        ),
                    )
                } else if let (Verb::Blocked, Some(why)) = (plan.verb, &plan.reason) {
                    (false, format!("{} is active; {why}", c.id))
                } else {
                    (
                        false,
                        format!(
                            "{} is active; not yet as declared: {}",
                            c.id,
                            plan.drifted_fields().join(", ")
                        ),
                    )
                }
            }
        }
    }

    /// In the requester's VPC, an edge to the accepter's account.
    fn topology(cx: &Context<'_>, _key: &Key, spec: &VpcPeeringSpec) -> Topology {
        let accepter = cx
            .desired
            .principal_account(&spec.accepter.account)
            .unwrap_or_else(|| spec.accepter.account.clone());
        Topology {
            group: Some(format!("VPC {}", spec.requester.vpc_id)),
            edges: vec![Edge {
                kind: "peering",
                account: Some(accepter),
                document: None,
                seen: None,
            }],
        }
    }

    fn facts(
        cx: &Context<'_>,
        key: &Key,
        seen: Seen<'_, ObservedPeering>,
    ) -> BTreeMap<String, String> {
        let Some(c) = seen
            .ours(cx.controller(), key)
            .find(|c| c.is_live())
            .or_else(|| seen.ours(cx.controller(), key).next())
        else {
            return BTreeMap::new();
        };
        let mut facts = BTreeMap::from([
            ("connectionId".to_owned(), c.id.clone()),
            ("state".to_owned(), c.status.clone()),
        ]);
        for (end, side) in [
            (&c.requester, Side::Requester),
            (&c.accepter, Side::Accepter),
        ] {
            let scope = Scope::new(end.account.clone(), end.region.clone());
            let Some(network) = cx.observed.networks.get(&scope) else {
                continue;
            };
            for table in network.route_tables.values() {
                if table.vpc_id != end.vpc_id {
                    continue;
                }
                for (destination, route) in &table.routes {
                    if route.target == RouteTarget::Peering(c.id.clone()) {
                        facts.insert(
                            format!("route.{}.{}.{destination}", side.as_str(), table.id),
                            route.state.clone(),
                        );
                    }
                }
            }
        }
        facts
    }

    async fn act<'a, C: Cloud>(
        cloud: &'a C,
        change: Change<'a, Self>,
    ) -> Result<Applied<ObservedPeering>, ErrorInfo> {
        let subject = change.subject;
        let applied = cloud.apply_peering(change).await?;
        let tables = applied.route_tables;
        let more: Option<Patch> = (!tables.is_empty()).then(|| {
            Box::new(move |observation: &mut Observation| {
                for (scope, table) in tables {
                    observation
                        .networks
                        .entry(scope)
                        .or_default()
                        .route_tables
                        .insert(table.id.clone(), table);
                }
            }) as Patch
        });
        Ok(Applied {
            more,
            ..Applied::replacing::<Self>(subject, applied.connection)
        })
    }
}

/// The scope of one side (`None` when its account is unknown).
fn side_scope(desired: &DesiredSet, side: &crate::model::PeeringSide) -> Option<Scope> {
    desired
        .principal_account(&side.account)
        .map(|id| Scope::new(id, &side.region))
}

/// The route tables and VPCs the peering documents name in `scope`, on either side.
fn network_wants(desired: &DesiredSet, scope: &Scope) -> NetworkWants {
    let mut wants = NetworkWants::default();
    for spec in desired
        .documents
        .values()
        .filter_map(|d| Peerings::spec(&d.document))
    {
        for side in [&spec.requester, &spec.accepter] {
            if side_scope(desired, side).as_ref() == Some(scope) {
                wants.vpcs.insert(side.vpc_id.clone());
                wants
                    .route_tables
                    .extend(side.route_table_ids.iter().cloned());
            }
        }
    }
    wants
}

/// A peering document with its two sides' accounts resolved (`None` when one is unknown).
pub fn desired_peering<'a>(
    cx: &Context<'_>,
    spec: &'a VpcPeeringSpec,
    policies: &'a crate::model::Policies,
) -> Option<DesiredPeering<'a>> {
    let requester = side_scope(cx.desired, &spec.requester)?;
    let accepter = side_scope(cx.desired, &spec.accepter)?;
    // The controller accepts through the accepter's role: an account of its config.
    let can_accept = cx
        .desired
        .aliases
        .values()
        .any(|id| *id == accepter.account);
    Some(DesiredPeering {
        spec,
        policies,
        requester,
        accepter,
        can_accept,
    })
}

use super::*;
use crate::kinds::peering::{ObservedRoute, ObservedRouteTable, ObservedVpc, PeeringEnd};
use crate::model::{DeletionPolicy, Kind, PeeringSide};
use crate::plan::DocumentPlan;

const SERVER: &str = "111111111111";
const CLIENT: &str = "222222222222";
const REGION: &str = "ap-northeast-1";

fn spec() -> VpcPeeringSpec {
    VpcPeeringSpec {
        requester: PeeringSide {
            account: "server".into(),
            region: REGION.into(),
            vpc_id: "vpc-server".into(),
            route_table_ids: vec!["rtb-s1".into(), "rtb-s2".into()],
        },
        accepter: PeeringSide {
            account: "client".into(),
            region: REGION.into(),
            vpc_id: "vpc-client".into(),
            route_table_ids: vec!["rtb-c1".into()],
        },
        dns_resolution: true,
        tags: crate::compact::Tags::from([("env", "prod")]),
    }
}

fn key() -> Key {
    Key::new(Kind::VpcPeering, "server-to-client")
}

fn server() -> Scope {
    Scope::new(SERVER, REGION)
}

fn client() -> Scope {
    Scope::new(CLIENT, REGION)
}

fn table(id: &str, vpc: &str, routes: &[(&str, RouteTarget, &str)]) -> ObservedRouteTable {
    let mut all: BTreeMap<String, ObservedRoute> = routes
        .iter()
        .map(|(cidr, target, state)| ((*cidr).to_owned(), route(target.clone(), state)))
        .collect();
    let local = if vpc == "vpc-server" {
        "10.0.0.0/16"
    } else {
        "172.31.0.0/16"
    };
    all.insert(
        local.into(),
        route(RouteTarget::Other("local".into()), "active"),
    );
    ObservedRouteTable {
        id: id.into(),
        vpc_id: vpc.into(),
        routes: all,
    }
}

fn vpc(id: &str, cidrs: &[&str]) -> ObservedVpc {
    ObservedVpc {
        id: id.into(),
        cidrs: cidrs
            .iter()
            .map(|c| (*c).to_owned())
            .collect::<crate::compact::Ids>(),
    }
}

/// The reference network: the server VPC 10.0.0.0/16 with two route tables, the client VPC
/// 172.31.0.0/16 with one, no peering routes yet.
fn networks() -> BTreeMap<Scope, Network> {
    let mut server_net = Network::default();
    server_net
        .vpcs
        .insert("vpc-server".into(), vpc("vpc-server", &["10.0.0.0/16"]));
    for t in ["rtb-s1", "rtb-s2"] {
        server_net
            .route_tables
            .insert(t.into(), table(t, "vpc-server", &[]));
    }
    let mut client_net = Network::default();
    client_net
        .vpcs
        .insert("vpc-client".into(), vpc("vpc-client", &["172.31.0.0/16"]));
    client_net
        .route_tables
        .insert("rtb-c1".into(), table("rtb-c1", "vpc-client", &[]));
    BTreeMap::from([(server(), server_net), (client(), client_net)])
}

/// The network of `scope`.
fn network<'n>(networks: &'n mut BTreeMap<Scope, Network>, scope: &Scope) -> &'n mut Network {
    networks.get_mut(scope).unwrap()
}

/// The route table `id` of the network of `scope`.
fn route_table<'n>(
    networks: &'n mut BTreeMap<Scope, Network>,
    scope: &Scope,
    id: &str,
) -> &'n mut ObservedRouteTable {
    network(networks, scope).route_tables.get_mut(id).unwrap()
}

/// The reference network routed through `pcx-1` (see [`routed`]), but for the route to `cidr` in
/// the route table `id` of `scope`: that one goes `to`.
fn routed_but(scope: &Scope, id: &str, cidr: &str, to: ObservedRoute) -> BTreeMap<Scope, Network> {
    let mut networks = routed(networks(), "pcx-1");
    route_table(&mut networks, scope, id)
        .routes
        .insert(cidr.into(), to);
    networks
}

/// A route as AWS reports it: to `target`, in `state`.
fn route(target: RouteTarget, state: &str) -> ObservedRoute {
    ObservedRoute {
        target,
        state: state.into(),
    }
}

/// Every route of the reference topology, targeting `pcx`.
fn routed(mut networks: BTreeMap<Scope, Network>, pcx: &str) -> BTreeMap<Scope, Network> {
    let to = |cidr: &str| {
        (
            cidr.to_owned(),
            route(RouteTarget::Peering(pcx.into()), "active"),
        )
    };
    for t in network(&mut networks, &server()).route_tables.values_mut() {
        t.routes.extend([to("172.31.0.0/16")]);
    }
    for t in network(&mut networks, &client()).route_tables.values_mut() {
        t.routes.extend([to("10.0.0.0/16")]);
    }
    networks
}

fn tags(policies: &Policies) -> crate::compact::Tags {
    desired_tags(&spec().tags, "ctl", &key(), policies)
}

fn connection(id: &str, status: &str, dns: bool) -> ObservedPeering {
    ObservedPeering {
        id: id.into(),
        status: status.into(),
        message: None,
        requester: PeeringEnd {
            account: SERVER.into(),
            region: REGION.into(),
            vpc_id: "vpc-server".into(),
            dns_resolution: dns,
        },
        accepter: PeeringEnd {
            account: CLIENT.into(),
            region: REGION.into(),
            vpc_id: "vpc-client".into(),
            dns_resolution: dns,
        },
        tags: tags(&Policies::default()),
    }
}

fn desired<'a>(spec: &'a VpcPeeringSpec, policies: &'a Policies) -> DesiredPeering<'a> {
    DesiredPeering {
        spec,
        policies,
        requester: server(),
        accepter: client(),
        can_accept: true,
    }
}

/// The typed plan of the document wanting `want` (`None`: removed) over `observed`, behind `gate`.
fn typed_plan<'o>(
    want: Option<&DesiredPeering<'_>>,
    observed: &'o [ObservedPeering],
    networks: &BTreeMap<Scope, Network>,
    gate: &PruneGate,
) -> PeeringPlan<'o> {
    plan_peering("ctl", &key(), want, observed, networks, gate)
}

/// The typed plan of the reference document (`spec()`) over `observed`, the prune gate open.
fn typed_plan_of_spec<'o>(
    observed: &'o [ObservedPeering],
    networks: &BTreeMap<Scope, Network>,
) -> PeeringPlan<'o> {
    let (spec, policies) = (spec(), Policies::default());
    typed_plan(
        Some(&desired(&spec, &policies)),
        observed,
        networks,
        &PruneGate::Allowed,
    )
}

fn plan_with(
    spec: &VpcPeeringSpec,
    policies: &Policies,
    observed: &[ObservedPeering],
    networks: &BTreeMap<Scope, Network>,
) -> DocumentPlan {
    let want = desired(spec, policies);
    typed_plan(Some(&want), observed, networks, &PruneGate::Allowed).display()
}

fn plan(observed: &[ObservedPeering], networks: &BTreeMap<Scope, Network>) -> DocumentPlan {
    plan_with(&spec(), &Policies::default(), observed, networks)
}

/// The plan of the reference document, nothing observed yet, over the reference network as
/// `edit` changes it.
fn plan_over_edited(edit: impl FnOnce(&mut BTreeMap<Scope, Network>)) -> DocumentPlan {
    let mut networks = networks();
    edit(&mut networks);
    plan(&[], &networks)
}

fn paths(plan: &DocumentPlan) -> Vec<String> {
    plan.drifted_fields()
}

/// Asserts that a plan has the verb `want` (blocked or waiting) for a reason that contains
/// `part`.
#[track_caller]
fn assert_held(verb: &Verb, reason: Option<&str>, want: Verb, part: &str) {
    assert_eq!(*verb, want, "{reason:?}");
    let reason = reason.unwrap_or_else(|| panic!("no reason for {verb:?}"));
    assert!(reason.contains(part), "{reason}");
}

/// Asserts that a plan is blocked for a reason that contains `part`.
#[track_caller]
fn assert_blocked(plan: &DocumentPlan, part: &str) {
    assert_held(&plan.verb, plan.reason.as_deref(), Verb::Blocked, part);
}

/// Asserts that a plan has the verb `want` for exactly the reason `reason`.
#[track_caller]
fn assert_reason(plan: &DocumentPlan, want: Verb, reason: &str) {
    assert_eq!(plan.verb, want);
    assert_eq!(plan.reason.as_deref(), Some(reason));
}

#[test]
fn a_peering_from_nothing_is_created_with_both_dns_options_and_every_route() {
    let plan = plan(&[], &networks());
    assert_eq!(plan.verb, Verb::Create);
    assert_eq!(
        paths(&plan),
        [
            "connection",
            "requester.dnsResolution",
            "accepter.dnsResolution",
            "routes.requester.rtb-s1.172.31.0.0/16",
            "routes.requester.rtb-s2.172.31.0.0/16",
            "routes.accepter.rtb-c1.10.0.0.0/16",
        ]
    );
    let connection = &plan.changes[0].to.as_ref().unwrap();
    assert_eq!(connection["accepterAccount"], CLIENT);
    assert_eq!(
        connection["tags"]["ecs-topology.dev/key"],
        "VpcPeering/server-to-client"
    );
}

#[test]
fn a_create_carries_the_accepter_and_the_owner_tags_in_its_typed_edit() {
    let plan = typed_plan_of_spec(&[], &networks());
    let PeeringField::Connection { create: Some(new) } = &plan.edits[0].field else {
        panic!("a create first: {:?}", plan.edits[0]);
    };
    assert_eq!(new.accepter, client());
    assert_eq!(new.requester_vpc, "vpc-server");
    assert_eq!(
        new.tags.get(crate::model::OWNER_TAG).map(|v| v.as_str()),
        Some("ctl")
    );
}

#[test]
fn a_pending_connection_is_accepted_when_the_controller_has_a_role_in_the_accepter_account() {
    let plan = plan(
        &[connection("pcx-1", "pending-acceptance", false)],
        &networks(),
    );
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(paths(&plan)[0], "acceptance");
}

#[test]
fn a_pending_connection_waits_for_an_accepter_account_without_a_role() {
    let (spec, policies, networks) = (spec(), Policies::default(), networks());
    let want = DesiredPeering {
        can_accept: false,
        ..desired(&spec, &policies)
    };
    let observed = [connection("pcx-1", "pending-acceptance", false)];
    let plan = typed_plan(Some(&want), &observed, &networks, &PruneGate::Allowed);
    assert_held(
        &plan.verb,
        plan.reason.as_deref(),
        Verb::Waiting,
        "pending acceptance by account 222222222222",
    );
}

#[test]
fn a_provisioning_connection_waits() {
    let plan = plan(&[connection("pcx-1", "provisioning", false)], &networks());
    assert_reason(
        &plan,
        Verb::Waiting,
        "the peering connection pcx-1 is provisioning",
    );
}

#[test]
fn a_converged_peering_is_in_sync_and_stays_so() {
    let networks = routed(networks(), "pcx-1");
    let observed = [connection("pcx-1", "active", true)];
    assert_eq!(plan(&observed, &networks).verb, Verb::InSync);
    assert_eq!(plan(&observed, &networks), plan(&observed, &networks));
}

#[test]
fn a_dns_option_flipped_by_hand_is_set_back_from_its_side() {
    let networks = routed(networks(), "pcx-1");
    let mut c = connection("pcx-1", "active", true);
    c.accepter.dns_resolution = false;
    let observed = [c];
    let plan = typed_plan_of_spec(&observed, &networks);
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(
        plan.edits
            .iter()
            .map(|e| e.field.clone())
            .collect::<Vec<_>>(),
        [PeeringField::DnsResolution {
            side: Side::Accepter,
            scope: client()
        }]
    );
    assert_eq!(plan.edits[0].to, Some(json!(true)));
}

#[test]
fn a_missing_route_is_added() {
    let mut networks = routed(networks(), "pcx-1");
    route_table(&mut networks, &client(), "rtb-c1")
        .routes
        .remove("10.0.0.0/16");
    let plan = plan(&[connection("pcx-1", "active", true)], &networks);
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(paths(&plan), ["routes.accepter.rtb-c1.10.0.0.0/16"]);
    assert_eq!(plan.changes[0].to, Some(json!("pcx-1")));
}

#[test]
fn a_route_to_a_deleted_peering_is_replaced() {
    let to = route(RouteTarget::Peering("pcx-old".into()), "blackhole");
    let networks = routed_but(&server(), "rtb-s2", "172.31.0.0/16", to);
    let observed = [connection("pcx-1", "active", true)];
    let plan = typed_plan_of_spec(&observed, &networks);
    assert_eq!(plan.verb, Verb::Update);
    let PeeringField::Route { replace, .. } = &plan.edits[0].field else {
        panic!("a route: {:?}", plan.edits);
    };
    assert!(replace);
    assert_eq!(plan.edits[0].from, Some(json!("pcx-old (blackhole)")));
}

#[test]
fn a_route_to_the_peer_through_a_transit_gateway_blocks_and_is_left_alone() {
    let to = route(RouteTarget::Other("tgw-0123".into()), "active");
    let networks = routed_but(&client(), "rtb-c1", "10.0.0.0/16", to);
    let plan = plan(&[connection("pcx-1", "active", true)], &networks);
    assert_blocked(&plan, "10.0.0.0/16 in rtb-c1 targets tgw-0123");
    assert!(plan.changes.is_empty());
}

#[test]
fn a_route_to_another_live_peering_blocks() {
    let to = route(RouteTarget::Peering("pcx-theirs".into()), "active");
    let networks = routed_but(&server(), "rtb-s1", "172.31.0.0/16", to);
    let plan = plan(&[connection("pcx-1", "active", true)], &networks);
    assert_blocked(&plan, "pcx-theirs, which is not this document's");
}

#[test]
fn overlapping_vpcs_are_refused_with_both_blocks_named() {
    let plan = plan_over_edited(|n| {
        let overlapping = vpc("vpc-client", &["172.31.0.0/16", "10.0.128.0/17"]);
        network(n, &client())
            .vpcs
            .insert("vpc-client".into(), overlapping);
    });
    assert_blocked(
        &plan,
        "10.0.0.0/16 of vpc-server and 10.0.128.0/17 of vpc-client",
    );
}

#[test]
fn a_route_table_of_another_vpc_is_refused() {
    let plan = plan_over_edited(|n| {
        let elsewhere = table("rtb-c1", "vpc-elsewhere", &[]);
        network(n, &client())
            .route_tables
            .insert("rtb-c1".into(), elsewhere);
    });
    assert_reason(
        &plan,
        Verb::Blocked,
        "the route table rtb-c1 belongs to vpc-elsewhere, not to the accepter VPC vpc-client",
    );
}

#[test]
fn a_missing_vpc_or_route_table_is_refused() {
    let plan = plan_over_edited(|n| {
        network(n, &server()).route_tables.remove("rtb-s2");
    });
    assert_blocked(&plan, "rtb-s2 does not exist in account 111111111111");
    let plan = plan_over_edited(|n| network(n, &client()).vpcs.clear());
    assert!(
        plan.reason
            .unwrap()
            .contains("the accepter VPC vpc-client does not exist")
    );
}

#[test]
fn a_removed_peering_deletes_its_connection_subject_to_the_prune_gate() {
    let observed = [connection("pcx-1", "active", true)];
    let networks = routed(networks(), "pcx-1");
    let plan = typed_plan(None, &observed, &networks, &PruneGate::Allowed);
    assert_eq!(plan.verb, Verb::Delete);
    assert_eq!(plan.subject.len(), 1);
    assert_eq!(plan.display().changes[0].from, Some(json!("pcx-1")));
    let held = PruneGate::HeldBack("too many".into());
    let plan = typed_plan(None, &observed, &networks, &held);
    assert_eq!(plan.verb, Verb::Blocked);
}

#[test]
fn a_removed_peering_with_deletion_policy_retain_is_kept() {
    let mut c = connection("pcx-1", "active", true);
    c.tags = tags(&Policies {
        deletion: DeletionPolicy::Retain,
        ..Policies::default()
    });
    let observed = [c];
    let plan = typed_plan(None, &observed, &networks(), &PruneGate::Allowed);
    assert_eq!(plan.verb, Verb::Retain);
}

#[test]
fn a_removed_peering_whose_connection_is_gone_changes_nothing() {
    let c = connection("pcx-1", "deleted", true);
    let observed = [c];
    let plan = typed_plan(None, &observed, &networks(), &PruneGate::Allowed);
    assert_eq!(plan.verb, Verb::InSync);
}

#[test]
fn an_unowned_connection_between_the_same_vpcs_blocks_unless_adopted() {
    let mut c = connection("pcx-9", "active", false);
    c.tags = crate::compact::Tags::new();
    let networks = routed(networks(), "pcx-9");
    let plan = plan(&[c.clone()], &networks);
    assert_blocked(&plan, "ecs-topology.dev/adopt");
    let adopt = Policies {
        adopt: true,
        ..Policies::default()
    };
    let plan = plan_with(&spec(), &adopt, &[c], &networks);
    assert_eq!(plan.verb, Verb::Adopt);
    let fields = paths(&plan);
    assert!(
        fields.contains(&"tags.ecs-topology.dev/owner".to_owned()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"requester.dnsResolution".to_owned()),
        "{fields:?}"
    );
}

#[test]
fn a_failed_connection_of_the_document_blocks_with_aws_message() {
    let mut c = connection("pcx-1", "failed", false);
    c.message =
        Some("Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range".into());
    let plan = plan(&[c], &networks());
    assert_blocked(&plan, "pcx-1 failed: Failed due to incorrect VPC-ID");
}

#[test]
fn a_suspended_peering_reports_and_changes_nothing() {
    let suspend = Policies {
        suspend: true,
        ..Policies::default()
    };
    let plan = plan_with(&spec(), &suspend, &[], &networks());
    assert_eq!(plan.verb, Verb::Suspended);
}

#[test]
fn a_side_without_route_tables_gets_no_routes() {
    let mut spec = spec();
    spec.accepter.route_table_ids.clear();
    spec.dns_resolution = false;
    let plan = plan_with(&spec, &Policies::default(), &[], &networks());
    assert_eq!(
        paths(&plan),
        [
            "connection",
            "routes.requester.rtb-s1.172.31.0.0/16",
            "routes.requester.rtb-s2.172.31.0.0/16",
        ]
    );
}

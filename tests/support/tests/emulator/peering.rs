//! EC2 VPC peering as the emulator serves it to the Rust SDK: cross-account and cross-region
//! requests, who may accept, reject, delete and set which options, the status lifecycle
//! (initiating, pending, provisioning, active, failed, rejected, expired, deleted), tags per
//! account, routes that target a peering and turn `blackhole`, the describe filters and paging,
//! and the throttling family of these calls.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_ec2 as ec2;
use aws_sdk_ec2::types::{
    Filter, PeeringConnectionOptionsRequest, ResourceType, RouteState, TagSpecification,
    VpcPeeringConnection,
};
use ecs_topology_testkit::{Pages, emulator, sent_pages};
use serde_json::json;

use crate::ec2::{filter, route_table, tag, tags_of, vpc};
use crate::{assert_fails_with, first_of, refused};

const REQUESTER_REGION: &str = "eu-west-1";
const ACCEPTER_REGION: &str = "us-east-1";
const FAILED: &str = "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range";

async fn client(account: &str, region: &str) -> ec2::Client {
    ec2::Client::new(&emulator().sdk_config(account, region).await)
}

fn tags(pairs: &[(&str, &str)]) -> TagSpecification {
    tags_of(ResourceType::VpcPeeringConnection, pairs)
}

fn code(pcx: &VpcPeeringConnection) -> String {
    pcx.status()
        .and_then(|s| s.code())
        .map(|c| c.as_str().to_owned())
        .unwrap_or_default()
}

fn message(pcx: &VpcPeeringConnection) -> String {
    pcx.status()
        .and_then(|s| s.message())
        .unwrap_or_default()
        .to_owned()
}

fn id(pcx: &VpcPeeringConnection) -> String {
    pcx.vpc_peering_connection_id()
        .unwrap_or_default()
        .to_owned()
}

fn tag_pairs(pcx: &VpcPeeringConnection) -> Vec<(String, String)> {
    pcx.tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_owned(),
                t.value().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Two accounts, each with a VPC in its own region, that may peer (the CIDRs do not overlap).
struct World {
    requester_account: String,
    accepter_account: String,
    requester: ec2::Client,
    accepter: ec2::Client,
    requester_vpc: String,
    accepter_vpc: String,
}

impl World {
    async fn new(dns: bool) -> Self {
        let requester_account = emulator().new_account();
        let accepter_account = emulator().new_account();
        let requester = client(&requester_account, REQUESTER_REGION).await;
        let accepter = client(&accepter_account, ACCEPTER_REGION).await;
        let requester_vpc = vpc(&requester, "10.10.0.0/16", dns).await;
        let accepter_vpc = vpc(&accepter, "10.20.0.0/16", dns).await;
        World {
            requester_account,
            accepter_account,
            requester,
            accepter,
            requester_vpc,
            accepter_vpc,
        }
    }

    /// Requests a peering from the requester's VPC to the accepter's; the reply's connection.
    async fn request(&self, tag_pairs: &[(&str, &str)]) -> VpcPeeringConnection {
        let mut call = self
            .requester
            .create_vpc_peering_connection()
            .vpc_id(&self.requester_vpc)
            .peer_vpc_id(&self.accepter_vpc)
            .peer_owner_id(&self.accepter_account)
            .peer_region(ACCEPTER_REGION);
        if !tag_pairs.is_empty() {
            call = call.tag_specifications(tags(tag_pairs));
        }
        call.send()
            .await
            .unwrap_or_else(|e| panic!("create peering: {e:?}"))
            .vpc_peering_connection
            .unwrap_or_else(|| panic!("create peering: no connection"))
    }

    /// The accepter rejects `pcx`.
    async fn reject(&self, pcx: &str) {
        self.accepter
            .reject_vpc_peering_connection()
            .vpc_peering_connection_id(pcx)
            .send()
            .await
            .unwrap_or_else(|e| panic!("reject {pcx}: {e:?}"));
    }

    async fn accept(&self, pcx: &str) -> VpcPeeringConnection {
        accept_by(&self.accepter, pcx)
            .await
            .unwrap_or_else(|e| panic!("accept {pcx}: {e:?}"))
            .vpc_peering_connection
            .unwrap_or_else(|| panic!("accept: no connection"))
    }
}

/// What EC2 answers a call whose output is `O` and whose error is `E`.
type Answer<O, E> = Result<O, ec2::error::SdkError<E>>;

/// A side of a peering connection.
#[derive(Debug, Clone, Copy)]
enum Side {
    Requester,
    Accepter,
}

/// `client` asks to allow DNS resolution from the remote VPC on `side` of `pcx`.
async fn allow_dns(
    client: &ec2::Client,
    pcx: &str,
    side: Side,
) -> Answer<
    ec2::operation::modify_vpc_peering_connection_options::ModifyVpcPeeringConnectionOptionsOutput,
    ec2::operation::modify_vpc_peering_connection_options::ModifyVpcPeeringConnectionOptionsError,
> {
    let dns = PeeringConnectionOptionsRequest::builder()
        .allow_dns_resolution_from_remote_vpc(true)
        .build();
    let call = client
        .modify_vpc_peering_connection_options()
        .vpc_peering_connection_id(pcx);
    match side {
        Side::Requester => call.requester_peering_connection_options(dns),
        Side::Accepter => call.accepter_peering_connection_options(dns),
    }
    .send()
    .await
}

/// `client` accepts `pcx`: what EC2 answers.
async fn accept_by(
    client: &ec2::Client,
    pcx: &str,
) -> Answer<
    ec2::operation::accept_vpc_peering_connection::AcceptVpcPeeringConnectionOutput,
    ec2::operation::accept_vpc_peering_connection::AcceptVpcPeeringConnectionError,
> {
    client
        .accept_vpc_peering_connection()
        .vpc_peering_connection_id(pcx)
        .send()
        .await
}

/// `client` deletes `pcx`: what EC2 answers.
async fn delete_by(
    client: &ec2::Client,
    pcx: &str,
) -> Answer<
    ec2::operation::delete_vpc_peering_connection::DeleteVpcPeeringConnectionOutput,
    ec2::operation::delete_vpc_peering_connection::DeleteVpcPeeringConnectionError,
> {
    client
        .delete_vpc_peering_connection()
        .vpc_peering_connection_id(pcx)
        .send()
        .await
}

/// `client` routes `cidr` in `table` through `pcx`: what EC2 answers.
async fn route_through(
    client: &ec2::Client,
    table: &str,
    cidr: &str,
    pcx: &str,
) -> Answer<
    ec2::operation::create_route::CreateRouteOutput,
    ec2::operation::create_route::CreateRouteError,
> {
    client
        .create_route()
        .route_table_id(table)
        .destination_cidr_block(cidr)
        .vpc_peering_connection_id(pcx)
        .send()
        .await
}

/// The connection `pcx` as `client`'s account sees it.
async fn describe(client: &ec2::Client, pcx: &str) -> VpcPeeringConnection {
    let call = client
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(pcx);
    first_of(&format!("describe {pcx}"), call.send(), |r| {
        r.vpc_peering_connections()
    })
    .await
}

/// The ids of the connections `client` sees with `filters`, `max` a page.
async fn connection_pages(client: &ec2::Client, filters: Vec<Filter>, max: i32) -> Pages<String> {
    sent_pages(
        "describe page",
        |token| {
            client
                .describe_vpc_peering_connections()
                .set_filters(Some(filters.clone()))
                .max_results(max)
                .set_next_token(token)
                .send()
        },
        |page| {
            let ids = page.vpc_peering_connections().iter().map(id).collect();
            (ids, page.next_token)
        },
    )
    .await
}

async fn ids_with(client: &ec2::Client, name: &str, value: &str) -> BTreeSet<String> {
    client
        .describe_vpc_peering_connections()
        .filters(filter(name, value))
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe by {name}: {e:?}"))
        .vpc_peering_connections()
        .iter()
        .map(id)
        .collect()
}

/// The state of the route to `cidr` in `table`, and its peering target.
async fn route(client: &ec2::Client, table: &str, cidr: &str) -> (RouteState, String) {
    let tables = client
        .describe_route_tables()
        .filters(filter("route-table-id", table))
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe route tables: {e:?}"));
    let [only] = tables.route_tables() else {
        panic!("route-table-id {table}: {:?}", tables.route_tables());
    };
    let found = only
        .routes()
        .iter()
        .find(|r| r.destination_cidr_block() == Some(cidr))
        .unwrap_or_else(|| panic!("no route to {cidr} in {table}"));
    (
        found.state().cloned().unwrap_or_else(|| panic!("no state")),
        found
            .vpc_peering_connection_id()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn a_cross_account_cross_region_request_goes_pending_then_active_once_the_accepter_accepts() {
    let world = World::new(false).await;
    let created = world.request(&[]).await;
    assert_eq!(code(&created), "initiating-request");
    assert_eq!(
        message(&created),
        format!("Initiating Request to {}", world.accepter_account)
    );
    assert!(created.expiration_time().is_some());
    let pcx = id(&created);

    for (client, region) in [
        (&world.requester, REQUESTER_REGION),
        (&world.accepter, ACCEPTER_REGION),
    ] {
        let seen = describe(client, &pcx).await;
        assert_eq!(code(&seen), "pending-acceptance", "seen in {region}");
        assert_eq!(
            message(&seen),
            format!("Pending Acceptance by {}", world.accepter_account)
        );
        let requester = seen.requester_vpc_info().unwrap();
        let accepter = seen.accepter_vpc_info().unwrap();
        assert_eq!(
            (requester.owner_id(), requester.vpc_id(), requester.region()),
            (
                Some(world.requester_account.as_str()),
                Some(world.requester_vpc.as_str()),
                Some(REQUESTER_REGION)
            )
        );
        assert_eq!(
            (accepter.owner_id(), accepter.vpc_id(), accepter.region()),
            (
                Some(world.accepter_account.as_str()),
                Some(world.accepter_vpc.as_str()),
                Some(ACCEPTER_REGION)
            )
        );
        assert_eq!(requester.cidr_block(), Some("10.10.0.0/16"));
        assert_eq!(
            accepter.cidr_block(),
            None,
            "the accepter's CIDR shows once accepted"
        );
    }

    let accepted = world.accept(&pcx).await;
    assert_eq!(
        (code(&accepted), message(&accepted)),
        ("provisioning".to_owned(), "Provisioning".to_owned())
    );
    for client in [&world.requester, &world.accepter] {
        let seen = describe(client, &pcx).await;
        assert_eq!(
            (code(&seen), message(&seen).as_str()),
            ("active".to_owned(), "Active")
        );
        assert_eq!(
            seen.accepter_vpc_info().and_then(|i| i.cidr_block()),
            Some("10.20.0.0/16")
        );
    }
}

#[tokio::test]
async fn only_the_accepter_account_in_the_accepter_region_may_accept() {
    let world = World::new(false).await;
    let pcx = id(&world.request(&[]).await);

    let (code_, text, status) = refused(
        accept_by(&world.requester, &pcx).await,
        "the requester cannot accept",
    );
    assert_eq!((code_.as_str(), status), ("OperationNotPermitted", 400));
    assert_eq!(
        text,
        format!(
            "User {} cannot accept peering {pcx}",
            world.requester_account
        )
    );

    // One account, two regions: the request is accepted in the accepter's region only.
    let account = emulator().new_account();
    let west = client(&account, REQUESTER_REGION).await;
    let east = client(&account, ACCEPTER_REGION).await;
    let west_vpc = vpc(&west, "10.30.0.0/16", false).await;
    let east_vpc = vpc(&east, "10.40.0.0/16", false).await;
    let own = west
        .create_vpc_peering_connection()
        .vpc_id(&west_vpc)
        .peer_vpc_id(&east_vpc)
        .peer_region(ACCEPTER_REGION)
        .send()
        .await
        .unwrap()
        .vpc_peering_connection
        .map(|p| id(&p))
        .unwrap();
    assert_fails_with(
        accept_by(&west, &own).await,
        "OperationNotPermitted",
        "accepted in the requester's region",
    );
    accept_by(&east, &own)
        .await
        .unwrap_or_else(|e| panic!("accept in {ACCEPTER_REGION}: {e:?}"));
    assert_eq!(code(&describe(&west, &own).await), "active");
}

#[tokio::test]
async fn accepting_anything_but_a_pending_request_is_an_invalid_state_transition() {
    let world = World::new(false).await;
    let pcx = id(&world.request(&[]).await);
    let rejected = id(&world.request(&[]).await);
    world.accept(&pcx).await;
    assert_fails_with(
        accept_by(&world.accepter, &pcx).await,
        "InvalidStateTransition",
        "accepted twice",
    );

    assert_fails_with(
        accept_by(&world.accepter, &rejected).await,
        "VpcPeeringConnectionAlreadyExists",
        "a second connection between the same VPCs while one is active",
    );
    assert_fails_with(
        world
            .requester
            .create_vpc_peering_connection()
            .vpc_id(&world.requester_vpc)
            .peer_vpc_id(&world.accepter_vpc)
            .peer_owner_id(&world.accepter_account)
            .peer_region(ACCEPTER_REGION)
            .send()
            .await,
        "VpcPeeringConnectionAlreadyExists",
        "a new request between actively peered VPCs",
    );
    world.reject(&rejected).await;
    assert_eq!(
        code(&describe(&world.requester, &rejected).await),
        "rejected"
    );
    assert_fails_with(
        accept_by(&world.accepter, &rejected).await,
        "InvalidStateTransition",
        "accepting a rejected request",
    );

    assert_fails_with(
        accept_by(&world.accepter, "pcx-0123456789abcdef0").await,
        "InvalidVpcPeeringConnectionID.NotFound",
        "unknown connection",
    );
}

#[tokio::test]
async fn provisioning_lasts_as_long_as_the_setting_says_and_routes_are_blackholes_until_active() {
    let world = World::new(false).await;
    emulator()
        .set_settings(
            &[&world.accepter_account],
            json!({"ec2.vpc_peering_provisioning": 1.5}),
        )
        .await;
    let pcx = id(&world.request(&[]).await);
    let table = route_table(&world.requester, &world.requester_vpc).await;
    route_through(&world.requester, &table, "10.20.0.0/16", &pcx)
        .await
        .unwrap_or_else(|e| panic!("route to a pending peering: {e:?}"));
    assert_eq!(
        route(&world.requester, &table, "10.20.0.0/16").await,
        (RouteState::Blackhole, pcx.clone())
    );

    world.accept(&pcx).await;
    assert_eq!(
        code(&describe(&world.requester, &pcx).await),
        "provisioning"
    );
    assert_eq!(
        route(&world.requester, &table, "10.20.0.0/16").await.0,
        RouteState::Blackhole
    );
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(code(&describe(&world.accepter, &pcx).await), "active");
    assert_eq!(
        route(&world.requester, &table, "10.20.0.0/16").await.0,
        RouteState::Active
    );
}

#[tokio::test]
async fn the_requesters_tags_are_not_visible_to_the_accepter_which_tags_its_own_view() {
    let world = World::new(false).await;
    let created = world.request(&[("owner", "requester-controller")]).await;
    let pcx = id(&created);
    assert_eq!(
        tag_pairs(&created),
        vec![("owner".to_owned(), "requester-controller".to_owned())]
    );
    assert!(tag_pairs(&describe(&world.accepter, &pcx).await).is_empty());

    world
        .accepter
        .create_tags()
        .resources(&pcx)
        .tags(tag("side", "accepter"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("accepter tags: {e:?}"));
    assert_eq!(
        tag_pairs(&describe(&world.accepter, &pcx).await),
        vec![("side".to_owned(), "accepter".to_owned())]
    );
    assert_eq!(
        tag_pairs(&describe(&world.requester, &pcx).await),
        vec![("owner".to_owned(), "requester-controller".to_owned())]
    );
    assert!(
        ids_with(&world.accepter, "tag:owner", "requester-controller")
            .await
            .is_empty()
    );
    assert_eq!(
        ids_with(&world.accepter, "tag-key", "side").await,
        BTreeSet::from([pcx.clone()])
    );
    world
        .requester
        .create_tags()
        .resources(&pcx)
        .tags(tag("more", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(tag_pairs(&describe(&world.accepter, &pcx).await).len(), 1);
}

#[tokio::test]
async fn overlapping_cidrs_fail_the_request_even_through_a_secondary_block() {
    let world = World::new(false).await;
    world
        .requester
        .associate_vpc_cidr_block()
        .vpc_id(&world.requester_vpc)
        .cidr_block("10.20.128.0/20")
        .send()
        .await
        .unwrap_or_else(|e| panic!("associate cidr: {e:?}"));
    let vpcs = world
        .requester
        .describe_vpcs()
        .vpc_ids(&world.requester_vpc)
        .send()
        .await
        .unwrap();
    let blocks: BTreeSet<&str> = vpcs.vpcs()[0]
        .cidr_block_association_set()
        .iter()
        .filter_map(|a| a.cidr_block())
        .collect();
    assert_eq!(blocks, BTreeSet::from(["10.10.0.0/16", "10.20.128.0/20"]));

    let created = world.request(&[]).await;
    assert_eq!(code(&created), "initiating-request");
    let pcx = id(&created);
    let seen = describe(&world.requester, &pcx).await;
    assert_eq!(
        (code(&seen), message(&seen)),
        ("failed".to_owned(), FAILED.to_owned())
    );
    assert!(
        ids_with(&world.accepter, "vpc-peering-connection-id", &pcx)
            .await
            .is_empty(),
        "a failed request is the requester's only"
    );
    assert_fails_with(
        delete_by(&world.requester, &pcx).await,
        "InvalidStateTransition",
        "a failed connection cannot be deleted",
    );
}

#[tokio::test]
async fn a_peer_vpc_missing_in_the_peer_account_and_region_fails_the_request() {
    let world = World::new(false).await;
    let created = world
        .requester
        .create_vpc_peering_connection()
        .vpc_id(&world.requester_vpc)
        .peer_vpc_id(&world.accepter_vpc)
        .peer_owner_id(&world.accepter_account)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create with the wrong region: {e:?}"))
        .vpc_peering_connection
        .unwrap();
    let seen = describe(&world.requester, &id(&created)).await;
    assert_eq!(
        (code(&seen), message(&seen)),
        ("failed".to_owned(), FAILED.to_owned())
    );

    assert_fails_with(
        world
            .requester
            .create_vpc_peering_connection()
            .vpc_id("vpc-0123456789abcdef0")
            .peer_vpc_id(&world.accepter_vpc)
            .send()
            .await,
        "InvalidVpcID.NotFound",
        "the requester's own VPC must exist",
    );
}

#[tokio::test]
async fn each_side_sets_only_its_own_options_and_only_on_an_active_connection() {
    let world = World::new(true).await;
    let pcx = id(&world.request(&[]).await);

    let text = assert_fails_with(
        allow_dns(&world.requester, &pcx, Side::Requester).await,
        "OperationNotPermitted",
        "not active yet",
    );
    assert_eq!(
        text,
        format!(
            "Peering {pcx} is not active. Peering options can be added only to active peerings."
        )
    );

    world.accept(&pcx).await;
    let text = assert_fails_with(
        allow_dns(&world.requester, &pcx, Side::Accepter).await,
        "OperationNotPermitted",
        "the requester sets the accepter's side",
    );
    assert_eq!(
        text,
        format!(
            "User {} does not have permission to modify the accepter side peering options",
            world.requester_account
        )
    );
    assert_fails_with(
        allow_dns(&world.accepter, &pcx, Side::Requester).await,
        "OperationNotPermitted",
        "the accepter sets the requester's side",
    );

    let reply = allow_dns(&world.accepter, &pcx, Side::Accepter)
        .await
        .unwrap_or_else(|e| panic!("accepter's own side: {e:?}"));
    assert_eq!(
        reply
            .accepter_peering_connection_options()
            .and_then(|o| o.allow_dns_resolution_from_remote_vpc()),
        Some(true)
    );
    assert!(reply.requester_peering_connection_options().is_none());

    for client in [&world.requester, &world.accepter] {
        let seen = describe(client, &pcx).await;
        let dns_of = |info: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>| {
            info.and_then(|i| i.peering_options())
                .and_then(|o| o.allow_dns_resolution_from_remote_vpc())
        };
        assert_eq!(dns_of(seen.accepter_vpc_info()), Some(true));
        assert_eq!(dns_of(seen.requester_vpc_info()), Some(false));
    }
}

#[tokio::test]
async fn dns_resolution_needs_dns_hostnames_on_both_vpcs() {
    let world = World::new(false).await;
    let pcx = id(&world.request(&[]).await);
    world.accept(&pcx).await;
    assert_fails_with(
        allow_dns(&world.requester, &pcx, Side::Requester).await,
        "InvalidVpcPeeringConnectionState.DnsHostnamesDisabled",
        "DNS hostnames are off",
    );
}

#[tokio::test]
async fn deleting_turns_routes_into_blackholes_and_the_connection_stays_listed_as_deleted() {
    let world = World::new(false).await;
    let pcx = id(&world.request(&[]).await);
    assert_fails_with(
        delete_by(&world.accepter, &pcx).await,
        "OperationNotPermitted",
        "the accepter cannot delete a pending request",
    );
    world.accept(&pcx).await;

    let requester_table = route_table(&world.requester, &world.requester_vpc).await;
    let accepter_table = route_table(&world.accepter, &world.accepter_vpc).await;
    for (client, table, cidr) in [
        (&world.requester, &requester_table, "10.20.0.0/16"),
        (&world.accepter, &accepter_table, "10.10.0.0/16"),
    ] {
        route_through(client, table, cidr, &pcx)
            .await
            .unwrap_or_else(|e| panic!("route: {e:?}"));
        assert_eq!(
            route(client, table, cidr).await,
            (RouteState::Active, pcx.clone())
        );
    }

    delete_by(&world.accepter, &pcx)
        .await
        .unwrap_or_else(|e| panic!("delete: {e:?}"));
    for client in [&world.requester, &world.accepter] {
        let seen = describe(client, &pcx).await;
        assert_eq!(
            (code(&seen), message(&seen)),
            (
                "deleted".to_owned(),
                format!("Deleted by {}", world.accepter_account)
            )
        );
    }
    assert_eq!(
        route(&world.requester, &requester_table, "10.20.0.0/16").await,
        (RouteState::Blackhole, pcx.clone())
    );
    assert_eq!(
        route(&world.accepter, &accepter_table, "10.10.0.0/16")
            .await
            .0,
        RouteState::Blackhole
    );
    assert_fails_with(
        delete_by(&world.requester, &pcx).await,
        "InvalidStateTransition",
        "deleted twice",
    );
    assert_fails_with(
        route_through(&world.requester, &requester_table, "10.99.0.0/16", &pcx).await,
        "InvalidVpcPeeringConnectionID.NotFound",
        "a route to a deleted peering",
    );
}

#[tokio::test]
async fn an_ended_connection_is_gone_after_the_visibility_setting() {
    let world = World::new(false).await;
    emulator()
        .set_settings(
            &[&world.requester_account, &world.accepter_account],
            json!({"ec2.vpc_peering_ended_visible": 1}),
        )
        .await;
    let pcx = id(&world.request(&[]).await);
    delete_by(&world.requester, &pcx)
        .await
        .unwrap_or_else(|e| panic!("delete a pending request: {e:?}"));
    assert_eq!(code(&describe(&world.accepter, &pcx).await), "deleted");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for client in [&world.requester, &world.accepter] {
        assert_fails_with(
            client
                .describe_vpc_peering_connections()
                .vpc_peering_connection_ids(&pcx)
                .send()
                .await,
            "InvalidVpcPeeringConnectionID.NotFound",
            "gone",
        );
        assert!(
            ids_with(client, "status-code", "deleted").await.is_empty(),
            "nothing listed"
        );
    }
}

#[tokio::test]
async fn an_unaccepted_request_expires() {
    let world = World::new(false).await;
    emulator()
        .set_settings(
            &[&world.requester_account],
            json!({"ec2.vpc_peering_expiry": 1}),
        )
        .await;
    let pcx = id(&world.request(&[]).await);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for client in [&world.requester, &world.accepter] {
        assert_eq!(code(&describe(client, &pcx).await), "expired");
    }
    assert_fails_with(
        accept_by(&world.accepter, &pcx).await,
        "InvalidStateTransition",
        "an expired request",
    );
}

#[tokio::test]
async fn routes_target_only_a_peering_of_their_own_vpc() {
    let world = World::new(false).await;
    let pcx = id(&world.request(&[]).await);
    let elsewhere = vpc(&world.requester, "10.50.0.0/16", false).await;
    let table = route_table(&world.requester, &elsewhere).await;
    assert_fails_with(
        route_through(&world.requester, &table, "10.20.0.0/16", &pcx).await,
        "InvalidParameterValue",
        "the peering joins other VPCs",
    );

    world.accept(&pcx).await;
    let own = route_table(&world.requester, &world.requester_vpc).await;
    let peer_cidr = "10.20.0.0/24";
    route_through(&world.requester, &own, peer_cidr, &pcx)
        .await
        .unwrap();
    world
        .requester
        .replace_route()
        .route_table_id(&own)
        .destination_cidr_block(peer_cidr)
        .vpc_peering_connection_id(&pcx)
        .send()
        .await
        .unwrap_or_else(|e| panic!("replace route: {e:?}"));
    assert_eq!(
        route(&world.requester, &own, peer_cidr).await,
        (RouteState::Active, pcx.clone())
    );
    world
        .requester
        .delete_route()
        .route_table_id(&own)
        .destination_cidr_block(peer_cidr)
        .send()
        .await
        .unwrap_or_else(|e| panic!("delete route: {e:?}"));
}

#[tokio::test]
async fn describe_route_tables_pages_with_max_results_and_next_token() {
    let account = emulator().new_account();
    let client = client(&account, REQUESTER_REGION).await;
    let network = vpc(&client, "10.60.0.0/16", false).await;
    let mut created = BTreeSet::new();
    for _ in 0..11 {
        created.insert(route_table(&client, &network).await);
    }
    let pages = sent_pages(
        "describe route tables",
        |token| {
            client
                .describe_route_tables()
                .filters(filter("vpc-id", &network))
                .max_results(5)
                .set_next_token(token)
                .send()
        },
        |page| {
            let ids = page
                .route_tables()
                .iter()
                .filter_map(|t| t.route_table_id());
            (ids.map(str::to_owned).collect(), page.next_token)
        },
    )
    .await;
    // Eleven tables and the VPC's main one.
    assert_eq!(pages.sizes(), vec![5, 5, 2]);
    let seen: BTreeSet<String> = pages.items().into_iter().collect();
    assert!(seen.is_superset(&created));
    assert_fails_with(
        client.describe_route_tables().max_results(4).send().await,
        "InvalidParameterValue",
        "below the minimum",
    );
}

#[tokio::test]
async fn describe_filters_by_vpc_status_tag_and_id_and_pages() {
    let world = World::new(false).await;
    let mut ours = BTreeSet::new();
    for n in 0..12 {
        let peer = vpc(&world.accepter, &format!("10.{}.0.0/16", 100 + n), false).await;
        let pcx = world
            .requester
            .create_vpc_peering_connection()
            .vpc_id(&world.requester_vpc)
            .peer_vpc_id(&peer)
            .peer_owner_id(&world.accepter_account)
            .peer_region(ACCEPTER_REGION)
            .tag_specifications(tags(&[("owner", "paged")]))
            .send()
            .await
            .unwrap()
            .vpc_peering_connection
            .map(|p| id(&p))
            .unwrap();
        ours.insert(pcx);
    }
    let other = id(&world.request(&[("owner", "someone-else")]).await);
    world.accept(&other).await;

    let pages = connection_pages(&world.requester, vec![filter("tag:owner", "paged")], 5).await;
    assert_eq!(pages.sizes(), vec![5, 5, 2]);
    assert_eq!(pages.items().into_iter().collect::<BTreeSet<_>>(), ours);

    assert_eq!(
        ids_with(&world.requester, "status-code", "active").await,
        BTreeSet::from([other.clone()])
    );
    assert_eq!(
        ids_with(&world.accepter, "status-code", "pending-acceptance").await,
        ours
    );
    assert_eq!(
        ids_with(
            &world.requester,
            "accepter-vpc-info.vpc-id",
            &world.accepter_vpc
        )
        .await,
        BTreeSet::from([other.clone()])
    );
    assert_eq!(
        ids_with(
            &world.accepter,
            "requester-vpc-info.vpc-id",
            &world.requester_vpc
        )
        .await
        .len(),
        13
    );
    assert_eq!(
        ids_with(&world.requester, "vpc-peering-connection-id", &other).await,
        BTreeSet::from([other.clone()])
    );
    assert_eq!(
        ids_with(&world.requester, "tag-key", "owner").await.len(),
        13
    );

    assert_fails_with(
        world
            .requester
            .describe_vpc_peering_connections()
            .max_results(4)
            .send()
            .await,
        "InvalidParameterValue",
        "below the minimum",
    );
    assert_fails_with(
        world
            .requester
            .describe_vpc_peering_connections()
            .filters(filter("owner", "x"))
            .send()
            .await,
        "InvalidParameterValue",
        "an unknown filter",
    );
}

#[tokio::test]
async fn describe_vpcs_pages_with_max_results() {
    let account = emulator().new_account();
    let client = client(&account, ACCEPTER_REGION).await;
    for n in 0..6 {
        vpc(&client, &format!("10.{}.0.0/16", 70 + n), false).await;
    }
    let first = client.describe_vpcs().max_results(5).send().await.unwrap();
    assert_eq!(first.vpcs().len(), 5);
    let token = first.next_token().expect("a second page").to_owned();
    let second = client
        .describe_vpcs()
        .max_results(5)
        .next_token(token)
        .send()
        .await
        .unwrap();
    // Six VPCs and the region's default one.
    assert_eq!(second.vpcs().len(), 2);
    assert!(second.next_token().is_none());
}

#[tokio::test]
async fn peering_and_route_changes_share_the_default_mutating_bucket() {
    let world = World::new(false).await;
    emulator()
        .set_profile(
            &[&world.requester_account],
            json!({"throttle": {"families": {"ec2:mutating": {"burst": 2, "refill": 0.0001}}}}),
        )
        .await;
    let pcx = id(&world.request(&[]).await);
    let table = route_table(&world.requester, &world.requester_vpc).await;
    route_through(&world.requester, &table, "10.20.0.0/16", &pcx)
        .await
        .unwrap_or_else(|e| panic!("second call of the bucket: {e:?}"));
    let (code_, _, status) = refused(
        delete_by(&world.requester, &pcx).await,
        "the bucket is empty",
    );
    assert_eq!((code_.as_str(), status), ("RequestLimitExceeded", 503));
    describe(&world.requester, &pcx).await;
    emulator()
        .set_profile(&[&world.requester_account], serde_json::Value::Null)
        .await;
}

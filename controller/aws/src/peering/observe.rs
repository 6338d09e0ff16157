//! Reading peering connections, route tables and VPCs, page by page, into the core's types.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{Filter, Route, RouteTable, Vpc, VpcPeeringConnection};
use ecs_topology_core::kinds::peering::{
    Network, NetworkWants, ObservedPeering, ObservedRoute, ObservedRouteTable, ObservedVpc,
    PeeringEnd, RouteTarget,
};
use ecs_topology_core::model::OWNER_TAG;

use crate::ApiFamily;
use crate::call::{Aws, AwsError};
use crate::ec2::by_values;
pub(super) use crate::ec2::filter;
use crate::tagging::tag_map;

/// The largest pages AWS returns.
const PEERING_PAGE: i32 = 1000;
const ROUTE_TABLE_PAGE: i32 = 100;
const VPC_PAGE: i32 = 1000;

pub(super) async fn owned_by(aws: Aws<'_>, owner: &str) -> Result<Vec<ObservedPeering>, AwsError> {
    describe(aws, vec![filter(&format!("tag:{OWNER_TAG}"), [owner])]).await
}

pub(super) async fn not_owned_by(
    aws: Aws<'_>,
    vpcs: &BTreeSet<String>,
    owner: &str,
) -> Result<Vec<ObservedPeering>, AwsError> {
    let found = by_values("requester-vpc-info.vpc-id", vpcs, |filters| {
        describe(aws, filters)
    })
    .await?;
    Ok(found
        .into_iter()
        .filter(|c| c.tags.get(OWNER_TAG).map(|v| v.as_str()) != Some(owner))
        .collect())
}

/// Every page of `DescribeVpcPeeringConnections` with `filters`.
pub(super) async fn describe(
    aws: Aws<'_>,
    filters: Vec<Filter>,
) -> Result<Vec<ObservedPeering>, AwsError> {
    let ec2 = &aws.clients.ec2;
    let mut out = Vec::new();
    let operation = "DescribeVpcPeeringConnections";
    aws.pages(
        operation,
        ApiFamily::Ec2Describe(operation),
        |token| {
            ec2.describe_vpc_peering_connections()
                .set_filters(Some(filters.clone()))
                .max_results(PEERING_PAGE)
                .set_next_token(token)
                .send()
        },
        |reply| {
            out.extend(reply.vpc_peering_connections().iter().filter_map(observed));
            reply.next_token
        },
    )
    .await?;
    Ok(out)
}

/// A connection as AWS lists it.
pub(super) fn observed(c: &VpcPeeringConnection) -> Option<ObservedPeering> {
    let end = |info: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>| PeeringEnd {
        account: info
            .and_then(|i| i.owner_id())
            .unwrap_or_default()
            .to_owned(),
        region: info.and_then(|i| i.region()).unwrap_or_default().to_owned(),
        vpc_id: info.and_then(|i| i.vpc_id()).unwrap_or_default().to_owned(),
        dns_resolution: info
            .and_then(|i| i.peering_options())
            .and_then(|o| o.allow_dns_resolution_from_remote_vpc())
            .unwrap_or(false),
    };
    let status = c.status();
    Some(ObservedPeering {
        id: c.vpc_peering_connection_id()?.to_owned(),
        status: status
            .and_then(|s| s.code())
            .map(|code| code.as_str().to_ascii_lowercase())
            .unwrap_or_default(),
        message: status
            .and_then(|s| s.message())
            .filter(|m| !m.is_empty())
            .map(str::to_owned),
        requester: end(c.requester_vpc_info()),
        accepter: end(c.accepter_vpc_info()),
        tags: tag_map(c.tags().iter().map(|t| (t.key(), t.value()))),
    })
}

pub(super) async fn network(aws: Aws<'_>, wants: &NetworkWants) -> Result<Network, AwsError> {
    let tables = by_values("route-table-id", &wants.route_tables, |filters| {
        route_tables(aws, filters)
    })
    .await?;
    let vpcs = by_values("vpc-id", &wants.vpcs, |filters| describe_vpcs(aws, filters)).await?;
    Ok(Network {
        route_tables: tables.into_iter().map(|t| (t.id.clone(), t)).collect(),
        vpcs: vpcs.into_iter().map(|v| (v.id.clone(), v)).collect(),
    })
}

/// Every page of `DescribeRouteTables` with `filters`.
pub(super) async fn route_tables(
    aws: Aws<'_>,
    filters: Vec<Filter>,
) -> Result<Vec<ObservedRouteTable>, AwsError> {
    let ec2 = &aws.clients.ec2;
    let mut out = Vec::new();
    let operation = "DescribeRouteTables";
    aws.pages(
        operation,
        ApiFamily::Ec2Describe(operation),
        |token| {
            ec2.describe_route_tables()
                .set_filters(Some(filters.clone()))
                .max_results(ROUTE_TABLE_PAGE)
                .set_next_token(token)
                .send()
        },
        |reply| {
            out.extend(reply.route_tables().iter().filter_map(route_table));
            reply.next_token
        },
    )
    .await?;
    Ok(out)
}

fn route_table(t: &RouteTable) -> Option<ObservedRouteTable> {
    Some(ObservedRouteTable {
        id: t.route_table_id()?.to_owned(),
        vpc_id: t.vpc_id().unwrap_or_default().to_owned(),
        routes: t
            .routes()
            .iter()
            .filter_map(|r| Some((r.destination_cidr_block()?.to_owned(), route(r))))
            .collect::<BTreeMap<_, _>>(),
    })
}

/// A route's target: its peering connection, or the first other target it names.
fn route(r: &Route) -> ObservedRoute {
    let target = match r.vpc_peering_connection_id() {
        Some(pcx) => RouteTarget::Peering(pcx.to_owned()),
        None => RouteTarget::Other(
            [
                r.gateway_id(),
                r.nat_gateway_id(),
                r.transit_gateway_id(),
                r.network_interface_id(),
                r.instance_id(),
                r.local_gateway_id(),
                r.carrier_gateway_id(),
                r.egress_only_internet_gateway_id(),
                r.core_network_arn(),
            ]
            .into_iter()
            .flatten()
            .next()
            .unwrap_or("an unknown target")
            .to_owned(),
        ),
    };
    ObservedRoute {
        target,
        state: r
            .state()
            .map(|s| s.as_str().to_ascii_lowercase())
            .unwrap_or_else(|| "active".into()),
    }
}

/// Every page of `DescribeVpcs` with `filters`, each VPC with its associated IPv4 blocks.
async fn describe_vpcs(aws: Aws<'_>, filters: Vec<Filter>) -> Result<Vec<ObservedVpc>, AwsError> {
    let ec2 = &aws.clients.ec2;
    let mut out = Vec::new();
    let operation = "DescribeVpcs";
    aws.pages(
        operation,
        ApiFamily::Ec2Describe(operation),
        |token| {
            ec2.describe_vpcs()
                .set_filters(Some(filters.clone()))
                .max_results(VPC_PAGE)
                .set_next_token(token)
                .send()
        },
        |reply| {
            out.extend(reply.vpcs().iter().filter_map(vpc));
            reply.next_token
        },
    )
    .await?;
    Ok(out)
}

fn vpc(v: &Vpc) -> Option<ObservedVpc> {
    let mut cidrs: BTreeSet<String> = v
        .cidr_block_association_set()
        .iter()
        .filter(|a| {
            a.cidr_block_state()
                .and_then(|s| s.state())
                .is_none_or(|s| s.as_str() == "associated")
        })
        .filter_map(|a| a.cidr_block().map(str::to_owned))
        .collect();
    if cidrs.is_empty() {
        cidrs.extend(v.cidr_block().map(str::to_owned));
    }
    Some(ObservedVpc {
        id: v.vpc_id()?.to_owned(),
        cidrs: cidrs.into(),
    })
}

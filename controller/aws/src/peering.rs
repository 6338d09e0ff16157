//! VPC peerings: batched observation of connections, route tables and VPCs, and the changes
//! across the two accounts of a peering.
//!
//! Observation per account and region is one paginated `DescribeVpcPeeringConnections` filtered
//! by the owner tag (the requester's view, 1,000 a page), one `DescribeRouteTables` filtered by
//! the route tables the documents name (100 a page) and one `DescribeVpcs` filtered by the VPCs
//! they name (1,000 a page): nothing is read per connection. The connections requested from a
//! VPC that the controller does not own are read only for a document without a live connection
//! of its own (to adopt, or to be blocked by).

mod apply;
mod observe;

use std::collections::BTreeSet;

use ecs_topology_core::engine::Change;
use ecs_topology_core::kinds::peering::{
    Network, NetworkWants, ObservedPeering, PeeringApplied, Peerings,
};

use crate::call::{Aws, AwsError};

/// Every connection of the account and region tagged `ecs-topology.dev/owner = owner`.
///
/// # Errors
/// A failed `DescribeVpcPeeringConnections` page.
pub async fn observe(aws: Aws<'_>, owner: &str) -> Result<Vec<ObservedPeering>, AwsError> {
    observe::owned_by(aws, owner).await
}

/// The connections requested from `vpcs` that `owner` does not own.
///
/// # Errors
/// A failed `DescribeVpcPeeringConnections` page.
pub async fn look_alikes(
    aws: Aws<'_>,
    vpcs: &BTreeSet<String>,
    owner: &str,
) -> Result<Vec<ObservedPeering>, AwsError> {
    observe::not_owned_by(aws, vpcs, owner).await
}

/// The route tables and VPCs of the account and region that `wants` names.
///
/// # Errors
/// A failed `DescribeRouteTables` or `DescribeVpcs` page.
pub async fn network(aws: Aws<'_>, wants: &NetworkWants) -> Result<Network, AwsError> {
    observe::network(aws, wants).await
}

/// Carries out a peering change: `requester` calls with the requester account's clients,
/// `accepter` with the accepter account's (see [`apply::carry_out`]).
///
/// # Errors
/// The first failed call.
pub async fn apply(
    requester: Aws<'_>,
    accepter: Aws<'_>,
    change: &Change<'_, Peerings>,
) -> Result<PeeringApplied, AwsError> {
    apply::carry_out(requester, accepter, change).await
}

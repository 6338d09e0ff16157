//! VPC endpoint sets: batched observation, preflight checks and changes.
//!
//! Observation per account and region is one paginated `DescribeVpcEndpoints` pass filtered by
//! the controller's owner tag, 1,000 a page (tags are part of every item, so nothing is read per
//! endpoint). The other endpoints of a VPC are read only before a create or an adopt, to find
//! look-alikes.

mod apply;
mod observe;
mod preflight;
mod settle;
mod work;

use ecs_topology_core::engine::Change;
use ecs_topology_core::kinds::endpoints::EndpointSets;
use ecs_topology_core::model::VpcEndpointSetSpec;
use ecs_topology_core::observed::ObservedEndpoint;

use crate::call::{Aws, AwsError};

/// Every endpoint of the account and region tagged `ecs-topology.dev/owner = owner` (deleted
/// ones left out).
///
/// # Errors
/// A failed `DescribeVpcEndpoints` page.
pub async fn observe(aws: Aws<'_>, owner: &str) -> Result<Vec<ObservedEndpoint>, AwsError> {
    observe::owned_by(aws, owner).await
}

/// The endpoints of `vpc` that `owner` does not own (deleted ones left out).
///
/// # Errors
/// A failed `DescribeVpcEndpoints` page.
pub async fn look_alikes(
    aws: Aws<'_>,
    vpc: &str,
    owner: &str,
) -> Result<Vec<ObservedEndpoint>, AwsError> {
    observe::not_owned_by(aws, vpc, owner).await
}

/// What would make the set fail or not work, as sentences (see [`preflight::check`]).
///
/// # Errors
/// A failed read other than a missing VPC (which is a problem, not an error).
pub async fn preflight(aws: Aws<'_>, spec: &VpcEndpointSetSpec) -> Result<Vec<String>, AwsError> {
    preflight::check(aws, spec).await
}

/// Carries out an endpoint-set plan and returns the set's endpoints as they now are (see
/// [`apply::carry_out`]).
///
/// # Errors
/// The first failed change; the others of the plan are still attempted.
pub async fn apply(
    aws: Aws<'_>,
    change: &Change<'_, EndpointSets>,
) -> Result<Vec<ObservedEndpoint>, AwsError> {
    apply::carry_out(aws, change).await
}

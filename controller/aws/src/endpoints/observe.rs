//! Reading VPC endpoints: `DescribeVpcEndpoints` page by page, 1,000 a page, into
//! [`ObservedEndpoint`]s.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{Filter, VpcEndpoint};
use ecs_topology_core::model::OWNER_TAG;
use ecs_topology_core::observed::{EndpointType, ObservedEndpoint};
use ecs_topology_core::policy::observed_endpoint_policy;

use crate::ApiFamily;
use crate::call::{Aws, AwsError};
use crate::ec2::{by_values, filter};
use crate::tagging::tag_map;

/// The largest page `DescribeVpcEndpoints` returns.
const PAGE: i32 = 1000;

pub(super) async fn owned_by(aws: Aws<'_>, owner: &str) -> Result<Vec<ObservedEndpoint>, AwsError> {
    let all = describe(aws, vec![filter(&format!("tag:{OWNER_TAG}"), [owner])]).await?;
    Ok(all.into_iter().filter(|ep| ep.state != "deleted").collect())
}

pub(super) async fn not_owned_by(
    aws: Aws<'_>,
    vpc: &str,
    owner: &str,
) -> Result<Vec<ObservedEndpoint>, AwsError> {
    let all = describe(aws, vec![filter("vpc-id", [vpc])]).await?;
    Ok(all
        .into_iter()
        .filter(|ep| {
            ep.state != "deleted" && ep.tags.get(OWNER_TAG).map(|v| v.as_str()) != Some(owner)
        })
        .collect())
}

/// The endpoints with these ids as they now are, `deleted` ones included; an endpoint AWS no
/// longer knows is simply not listed.
pub(super) async fn by_id(
    aws: Aws<'_>,
    ids: &BTreeSet<String>,
) -> Result<Vec<ObservedEndpoint>, AwsError> {
    by_values("vpc-endpoint-id", ids, |filters| describe(aws, filters)).await
}

/// Every page of `DescribeVpcEndpoints` with `filters`, in every state. Endpoints of types the
/// controller does not manage (Gateway Load Balancer, resource, service network) are left out.
pub(super) async fn describe(
    aws: Aws<'_>,
    filters: Vec<Filter>,
) -> Result<Vec<ObservedEndpoint>, AwsError> {
    let ec2 = &aws.clients.ec2;
    let mut out = Vec::new();
    let operation = "DescribeVpcEndpoints";
    aws.pages(
        operation,
        ApiFamily::Ec2Describe(operation),
        |token| {
            ec2.describe_vpc_endpoints()
                .set_filters(Some(filters.clone()))
                .max_results(PAGE)
                .set_next_token(token)
                .send()
        },
        |reply| {
            out.extend(reply.vpc_endpoints().iter().filter_map(observed));
            reply.next_token
        },
    )
    .await?;
    Ok(out)
}

/// An endpoint as AWS lists it, normalised: the state in lower case (AWS sends `available`,
/// the SDK's enum knows `Available`), the policy parsed (kept as a JSON string when it is not
/// JSON), subnets, groups and private DNS only for interface endpoints, route tables only for
/// gateway endpoints.
pub(super) fn observed(ep: &VpcEndpoint) -> Option<ObservedEndpoint> {
    let endpoint_type = match ep
        .vpc_endpoint_type()?
        .as_str()
        .to_ascii_lowercase()
        .as_str()
    {
        "interface" => EndpointType::Interface,
        "gateway" => EndpointType::Gateway,
        _ => return None,
    };
    let interface = endpoint_type == EndpointType::Interface;
    let set = |ids: &[String]| -> BTreeSet<String> { ids.iter().cloned().collect() };
    Some(ObservedEndpoint {
        id: ep.vpc_endpoint_id()?.to_owned(),
        vpc_id: ep.vpc_id().unwrap_or_default().to_owned(),
        service_name: ep.service_name().unwrap_or_default().to_owned(),
        endpoint_type,
        state: ep
            .state()
            .map(|s| s.as_str().to_ascii_lowercase())
            .unwrap_or_default(),
        subnet_ids: if interface {
            set(ep.subnet_ids()).into()
        } else {
            ecs_topology_core::compact::Ids::new()
        },
        security_group_ids: if interface {
            ep.groups()
                .iter()
                .filter_map(|g| g.group_id().map(str::to_owned))
                .collect()
        } else {
            ecs_topology_core::compact::Ids::new()
        },
        route_table_ids: if interface {
            ecs_topology_core::compact::Ids::new()
        } else {
            set(ep.route_table_ids()).into()
        },
        private_dns_enabled: interface && ep.private_dns_enabled().unwrap_or(false),
        policy: ep.policy_document().map(|text| {
            observed_endpoint_policy(
                serde_json::from_str(text)
                    .unwrap_or_else(|_| serde_json::Value::String(text.into())),
            )
        }),
        tags: tag_map(ep.tags().iter().map(|t| (t.key(), t.value()))),
    })
}

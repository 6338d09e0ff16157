//! What the kinds that live in ECS (Express services, Service Connect bindings) share.

use aws_sdk_ecs::types::{Service, ServiceField};

use crate::ApiFamily;
use crate::call::{Aws, AwsError};
use crate::express::convert;

/// The most services `DescribeServices` takes in one call.
const DESCRIBE_BATCH: usize = 10;

/// The services of `cluster` (names or ARNs) with their tags, ten a call, in every status;
/// services ECS does not know are left out.
///
/// # Errors
/// The first failed call (`ClusterNotFoundException` for a missing cluster).
pub(crate) async fn describe_services(
    aws: Aws<'_>,
    cluster: &str,
    services: &[String],
) -> Result<Vec<Service>, AwsError> {
    let ecs = &aws.clients.ecs;
    let mut out = Vec::new();
    for batch in services.chunks(DESCRIBE_BATCH) {
        let reply = aws
            .call("DescribeServices", ApiFamily::EcsRead, || {
                ecs.describe_services()
                    .cluster(cluster)
                    .set_services(Some(batch.to_vec()))
                    .include(ServiceField::Tags)
                    .send()
            })
            .await?;
        out.extend(reply.services.unwrap_or_default());
    }
    Ok(out)
}

/// Puts `tags` on the ECS resource `arn` (no call for none).
///
/// # Errors
/// The failed call.
pub(crate) async fn tag(
    aws: Aws<'_>,
    arn: &str,
    tags: &ecs_topology_core::compact::Tags,
) -> Result<(), AwsError> {
    if tags.is_empty() {
        return Ok(());
    }
    let list = convert::ecs_tags(tags);
    aws.call("TagResource", ApiFamily::EcsTags, || {
        aws.clients
            .ecs
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(list))
            .send()
    })
    .await?;
    Ok(())
}

/// Removes the tags `keys` from the ECS resource `arn` (no call for none).
///
/// # Errors
/// The failed call.
pub(crate) async fn untag(aws: Aws<'_>, arn: &str, keys: &[String]) -> Result<(), AwsError> {
    if keys.is_empty() {
        return Ok(());
    }
    aws.call("UntagResource", ApiFamily::EcsTags, || {
        aws.clients
            .ecs
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
    })
    .await?;
    Ok(())
}

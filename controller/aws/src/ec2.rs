//! What the kinds that live in EC2 (VPC endpoints, peering) share: `Describe*` filters and tag
//! changes.

use std::future::Future;

use aws_sdk_ec2::types::{Filter, Tag};
use ecs_topology_core::plan::TagEdits;

use crate::ApiFamily;
use crate::call::{Aws, AwsError};

/// The most values EC2 takes in one filter.
pub(crate) const FILTER_VALUES: usize = 200;

/// A `Describe*` filter: `name` equal to any of `values`.
pub(crate) fn filter(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.into_iter().map(Into::into).collect()))
        .build()
}

/// `describe` with the filter `name` over all of `values`, [`FILTER_VALUES`] at a time, the
/// results in one list.
///
/// # Errors
/// The first `describe` that failed.
pub(crate) async fn by_values<'v, T, Fut>(
    name: &str,
    values: impl IntoIterator<Item = &'v String>,
    describe: impl Fn(Vec<Filter>) -> Fut,
) -> Result<Vec<T>, AwsError>
where
    Fut: Future<Output = Result<Vec<T>, AwsError>>,
{
    let values: Vec<&String> = values.into_iter().collect();
    let mut out = Vec::new();
    for chunk in values.chunks(FILTER_VALUES) {
        out.extend(describe(vec![filter(name, chunk.iter().copied())]).await?);
    }
    Ok(out)
}

/// Puts and removes the tags of the EC2 resource `id` (`CreateTags`, then `DeleteTags`; each only
/// when it has anything to do).
pub(crate) async fn retag(aws: Aws<'_>, id: &str, tags: &TagEdits) -> Result<(), AwsError> {
    let ec2 = &aws.clients.ec2;
    if !tags.put.is_empty() {
        let put: Vec<Tag> = tags
            .put
            .iter()
            .map(|(k, v)| Tag::builder().key(k.as_str()).value(v.as_str()).build())
            .collect();
        aws.call("CreateTags", ApiFamily::Ec2Mutate, || {
            ec2.create_tags()
                .resources(id)
                .set_tags(Some(put.clone()))
                .send()
        })
        .await?;
    }
    if !tags.remove.is_empty() {
        let drop: Vec<Tag> = tags
            .remove
            .iter()
            .map(|k| Tag::builder().key(k).build())
            .collect();
        aws.call("DeleteTags", ApiFamily::Ec2Mutate, || {
            ec2.delete_tags()
                .resources(id)
                .set_tags(Some(drop.clone()))
                .send()
        })
        .await?;
    }
    Ok(())
}

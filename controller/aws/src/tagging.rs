//! The Resource Groups Tagging API's one search: every resource of a type with its tags,
//! optionally only those carrying some tags, every page (100 a page).

use std::collections::BTreeMap;

use aws_sdk_resourcegroupstagging::types::TagFilter;

use crate::ApiFamily;
use crate::call::{Aws, AwsError};
use ecs_topology_core::compact::Tags;

/// A tag filter: `key` with one of `values`, or with any value when `values` is empty.
pub fn filter(key: &str, values: &[&str]) -> TagFilter {
    values
        .iter()
        .fold(TagFilter::builder().key(key), |b, v| b.values(*v))
        .build()
}

/// Every resource of `resource_type` (e.g. `ecs:service`) matching all of `filters`, as
/// (ARN, tags): every page of `tag:GetResources`.
///
/// # Errors
/// The first failed call.
pub async fn tagged(
    aws: Aws<'_>,
    resource_type: &str,
    filters: &[TagFilter],
) -> Result<Vec<(String, BTreeMap<String, String>)>, AwsError> {
    let client = &aws.clients.tagging;
    let filters = (!filters.is_empty()).then(|| filters.to_vec());
    let mut out = Vec::new();
    aws.pages(
        "GetResources",
        ApiFamily::Tagging,
        |token| {
            client
                .get_resources()
                .resource_type_filters(resource_type)
                .set_tag_filters(filters.clone())
                .resources_per_page(100)
                .set_pagination_token(token)
                .send()
        },
        |reply| {
            out.extend(reply.resource_tag_mapping_list().iter().filter_map(|m| {
                let tags = m
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect();
                Some((m.resource_arn()?.to_owned(), tags))
            }));
            reply.pagination_token
        },
    )
    .await?;
    Ok(out)
}

/// The tags of an AWS object as a map, from its (key, value) pairs; a tag without a key is left
/// out, one without a value has the empty one.
pub(crate) fn tag_map<'t>(
    pairs: impl IntoIterator<Item = (Option<&'t str>, Option<&'t str>)>,
) -> Tags {
    pairs
        .into_iter()
        .filter_map(|(key, value)| Some((key?.to_owned(), value.unwrap_or_default().to_owned())))
        .collect()
}

//! What the kinds that live in EC2 (VPC endpoints, peering) share: `Describe*` filters.

use std::future::Future;

use aws_sdk_ec2::types::Filter;

use crate::call::AwsError;

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

//! What the controller's DynamoDB tables (a document source, the status table) share: reading a
//! whole table.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::ApiFamily;
use crate::call::{Aws, AwsError};

/// One item of a table.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// Every item of `table`, read by a consistent scan page after page, each page within the
/// DynamoDB budget: `ask` adds what the scan asks for (a projection, a filter), `take` takes each
/// page's items.
///
/// # Errors
/// The first page that could not be read, as `failed` makes it; the first error of `take`.
pub(crate) async fn scan<E>(
    aws: Aws<'_>,
    table: &str,
    ask: impl Fn(ScanFluentBuilder) -> ScanFluentBuilder,
    failed: impl Fn(AwsError) -> E,
    mut take: impl FnMut(&[Item]) -> Result<(), E>,
) -> Result<(), E> {
    let dynamodb = &aws.clients.dynamodb;
    let mut start: Option<Item> = None;
    loop {
        let page = aws
            .call("Scan", ApiFamily::DynamoDb, || {
                ask(dynamodb.scan().table_name(table).consistent_read(true))
                    .set_exclusive_start_key(start.take())
                    .send()
            })
            .await
            .map_err(&failed)?;
        take(page.items())?;
        match page.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => return Ok(()),
        }
    }
}

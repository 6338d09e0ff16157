//! Documents in a DynamoDB table, one item per document, read with a paginated consistent `Scan`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use aws_sdk_dynamodb::types::AttributeValue;
use ecs_topology_core::load::SourceFile;

use super::SourceError;
use crate::call::Aws;
use crate::{ApiBudgets, ApiFamily, Clients};

/// `dynamodb://table`: one item per document, with the attributes
///
/// - `pk` (string, the partition key): the document's `Kind/name`, or any id;
/// - `document` (string): the document as YAML or JSON text;
/// - `version` (number): raised by the writer whenever `document` changes.
///
/// Each poll scans the whole table (consistent reads, every page). A document is taken again
/// only when its `version` changed; an item without a `version` is taken as it is each poll.
/// Items without a `document` attribute are not documents and are skipped (the controller's
/// own status and lease items, should they share the table).
///
/// A `Scan` consumes read capacity by item size whatever it returns, so reading the documents
/// with the scan costs no more than a scan of the versions followed by reads of the changed ones,
/// and takes fewer calls.
pub struct DynamoDbSource {
    clients: Clients,
    budgets: ApiBudgets,
    table: String,
    /// `pk` to the version and text last taken; after a complete poll, exactly the documents of
    /// the table. Untouched by a poll that fails.
    cache: BTreeMap<String, Cached>,
}

#[derive(Debug, Clone)]
struct Cached {
    version: Option<String>,
    text: String,
}

impl fmt::Debug for DynamoDbSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbSource")
            .field("table", &self.table)
            .field("account", &self.clients.account_id)
            .field("region", &self.clients.region)
            .field("cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

impl DynamoDbSource {
    pub fn new(clients: Clients, budgets: ApiBudgets, table: impl Into<String>) -> DynamoDbSource {
        DynamoDbSource {
            clients,
            budgets,
            table: table.into(),
            cache: BTreeMap::new(),
        }
    }

    /// `dynamodb://table`.
    pub fn location(&self) -> String {
        format!("dynamodb://{}", self.table)
    }

    /// Every document of the table, in `pk` order, named `dynamodb://table/<pk>`.
    ///
    /// # Errors
    /// [`SourceError::Aws`] when a page of the scan cannot be read; [`SourceError::Invalid`]
    /// for an item without a string `pk`, or whose `document` is not a string.
    pub async fn poll(&mut self) -> Result<Vec<SourceFile>, SourceError> {
        let aws = Aws {
            clients: &self.clients,
            budgets: &self.budgets,
        };
        let mut scanned = BTreeMap::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = aws
                .call("Scan", ApiFamily::DynamoDb, || {
                    self.clients
                        .dynamodb
                        .scan()
                        .table_name(&self.table)
                        .consistent_read(true)
                        .projection_expression("#pk, #document, #version")
                        .expression_attribute_names("#pk", "pk")
                        .expression_attribute_names("#document", "document")
                        .expression_attribute_names("#version", "version")
                        .set_exclusive_start_key(start.take())
                        .send()
                })
                .await
                .map_err(|source| SourceError::Aws {
                    location: self.location(),
                    source,
                })?;
            for item in page.items() {
                if let Some((pk, cached)) = self.document(item)? {
                    scanned.insert(pk, cached);
                }
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        self.cache = scanned;
        let files = self
            .cache
            .iter()
            .map(|(pk, cached)| {
                SourceFile::new(
                    format!("dynamodb://{}/{pk}", self.table),
                    cached.text.clone(),
                )
            })
            .collect();
        Ok(files)
    }

    /// The document of one item, reusing the text already taken when its version is unchanged;
    /// `None` for an item that is not a document.
    fn document(
        &self,
        item: &HashMap<String, AttributeValue>,
    ) -> Result<Option<(String, Cached)>, SourceError> {
        let invalid = |reason: String| SourceError::Invalid {
            location: self.location(),
            reason,
        };
        let Some(AttributeValue::S(pk)) = item.get("pk") else {
            return Err(invalid("an item has no string attribute `pk`".into()));
        };
        let document = match item.get("document") {
            None => return Ok(None),
            Some(AttributeValue::S(text)) => text,
            Some(_) => {
                return Err(invalid(format!("item `{pk}`: `document` must be a string")));
            }
        };
        let version = match item.get("version") {
            Some(AttributeValue::N(n) | AttributeValue::S(n)) => Some(n.clone()),
            _ => None,
        };
        let text = match self.cache.get(pk) {
            Some(cached) if version.is_some() && cached.version == version => cached.text.clone(),
            _ => document.clone(),
        };
        Ok(Some((pk.clone(), Cached { version, text })))
    }
}

//! Documents in a DynamoDB table, one item per document, read with a paginated consistent `Scan`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use aws_sdk_dynamodb::types::AttributeValue;
use ecs_topology_core::config::SourceConfig;
use ecs_topology_core::digest::digest;
use ecs_topology_core::load::{SourceFile, Unreadable};

use super::SourceError;
use crate::call::Aws;
use crate::{ApiBudgets, Clients};

/// `dynamodb://table`: one item per document, with the attributes
///
/// - `pk` (string, the partition key): the document's `Kind/name`, or any id;
/// - `document` (string): the document as YAML or JSON text;
/// - `version` (number, optional): raised by the writer whenever `document` changes.
///
/// Each poll scans the whole table (consistent reads, every page). A document is taken again
/// when its `version` or the digest of its text changed, so a writer that forgets to raise
/// `version` is still followed. A text longer than the size limit is reported as
/// [`SourceFile::unreadable`]. Items without a `document` attribute are not documents and are
/// skipped (the controller's own status and lease items, should they share the table).
///
/// A `Scan` consumes read capacity by item size whatever it returns, so reading the documents
/// with the scan costs no more than a scan of the versions followed by reads of the changed ones,
/// and takes fewer calls.
pub struct DynamoDbSource {
    clients: Clients,
    budgets: ApiBudgets,
    table: String,
    /// The longest document text taken, in bytes.
    max_file_bytes: u64,
    /// `pk` to the version, digest and file last taken; after a complete poll, exactly the
    /// documents of the table. Untouched by a poll that fails.
    cache: BTreeMap<String, Cached>,
}

#[derive(Debug, Clone)]
struct Cached {
    version: Option<String>,
    /// The digest of the item's text.
    digest: String,
    file: SourceFile,
}

impl fmt::Debug for DynamoDbSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbSource")
            .field("table", &self.table)
            .field("account", &self.clients.account_id)
            .field("region", &self.clients.region)
            .field("max_file_bytes", &self.max_file_bytes)
            .field("cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

impl DynamoDbSource {
    /// The documents of `table`, texts of at most 1 MiB (see
    /// [`DynamoDbSource::max_file_bytes`]).
    pub fn new(clients: Clients, budgets: ApiBudgets, table: impl Into<String>) -> DynamoDbSource {
        DynamoDbSource {
            clients,
            budgets,
            table: table.into(),
            max_file_bytes: SourceConfig::DEFAULT_MAX_FILE_BYTES,
            cache: BTreeMap::new(),
        }
    }

    /// Texts longer than `limit` bytes are not taken, and reported.
    #[must_use]
    pub fn max_file_bytes(mut self, limit: u64) -> DynamoDbSource {
        self.max_file_bytes = limit;
        self
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
        let aws = Aws::new(&self.clients, &self.budgets);
        let mut scanned = BTreeMap::new();
        crate::dynamodb::scan(
            aws,
            &self.table,
            |scan| {
                scan.projection_expression("#pk, #document, #version")
                    .expression_attribute_names("#pk", "pk")
                    .expression_attribute_names("#document", "document")
                    .expression_attribute_names("#version", "version")
            },
            |e| SourceError::aws_at(self.location())(e),
            |items| {
                for item in items {
                    if let Some((pk, cached)) = self.document(item)? {
                        scanned.insert(pk, cached);
                    }
                }
                Ok(())
            },
        )
        .await?;
        self.cache = scanned;
        Ok(self.cache.values().map(|c| c.file.clone()).collect())
    }

    /// The document of one item, reusing the file already taken when neither its version nor
    /// the digest of its text changed; `None` for an item that is not a document.
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
        let digest = digest(document);
        if let Some(cached) = self.cache.get(pk)
            && cached.version == version
            && cached.digest == digest
        {
            return Ok(Some((pk.clone(), cached.clone())));
        }
        let name = format!("dynamodb://{}/{pk}", self.table);
        let size = u64::try_from(document.len()).unwrap_or(u64::MAX);
        let file = if size > self.max_file_bytes {
            SourceFile::unreadable(name, Unreadable::too_large(size, self.max_file_bytes))
        } else {
            SourceFile::new(name, document.clone())
        };
        Ok(Some((
            pk.clone(),
            Cached {
                version,
                digest,
                file,
            },
        )))
    }
}

//! Document status kept in a DynamoDB table, apart from the desired state (a GitOps sync with
//! delete never erases it), and the status store of the controller config, either kind.
//!
//! The table's partition key is the string attribute `pk`; each document has one item,
//! `pk = "status#Kind/name"`, with its record as JSON text in `record` and a digest of that text
//! in `digest`. The table may also hold the leader lease (`pk = "lease#..."`).
//!
//! # Guarantees
//! - A record is written only when it changed: the table keeps what was last written or loaded
//!   in memory and compares, and the write itself is conditional on the stored digest differing,
//!   so a record another replica already stored is not written again.
//! - [`StatusTable::load`] reads every status item with consistent reads, every page; items that
//!   do not parse are skipped (a status is a cache of what was seen).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_types::error::display::DisplayErrorContext;
use ecs_topology_core::config::StatusStoreConfig;
use ecs_topology_core::digest::digest;
use ecs_topology_core::model::Key;
use ecs_topology_core::status_store::{DirectoryStore, StatusRecord, StoreError};
use ecs_topology_core::status_writer::StatusSink;

use crate::call::Aws;
use crate::{AccountError, Accounts, ApiBudgets, ApiFamily, AwsError, Clients};

/// The `pk` prefix of status items.
pub const STATUS_PREFIX: &str = "status#";

/// Why the status table could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StatusTableError {
    #[error("status table {table}")]
    Aws {
        table: String,
        #[source]
        source: AwsError,
    },
    #[error("status table {table}: cannot encode the status of {key}")]
    Encode {
        table: String,
        key: Key,
        #[source]
        source: serde_json::Error,
    },
}

/// A status store in a DynamoDB table.
#[derive(Debug)]
pub struct StatusTable {
    clients: Clients,
    budgets: ApiBudgets,
    table: String,
    /// The record text last written or loaded per document: what the table holds as far as this
    /// process knows.
    stored: Mutex<BTreeMap<Key, String>>,
}

impl StatusTable {
    /// The status items of `table`, reached with `clients`.
    pub fn new(clients: Clients, budgets: ApiBudgets, table: impl Into<String>) -> StatusTable {
        StatusTable {
            clients,
            budgets,
            table: table.into(),
            stored: Mutex::default(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn aws(&self) -> Aws<'_> {
        Aws::new(&self.clients, &self.budgets)
    }

    fn error(&self, source: AwsError) -> StatusTableError {
        StatusTableError::Aws {
            table: self.table.clone(),
            source,
        }
    }

    /// Every stored record.
    ///
    /// # Errors
    /// [`StatusTableError::Aws`] when a page of the scan cannot be read.
    pub async fn load(&self) -> Result<BTreeMap<Key, StatusRecord>, StatusTableError> {
        let mut records = BTreeMap::new();
        let mut texts = BTreeMap::new();
        crate::dynamodb::scan(
            self.aws(),
            &self.table,
            |scan| {
                scan.filter_expression("begins_with(#pk, :prefix)")
                    .expression_attribute_names("#pk", "pk")
                    .expression_attribute_values(":prefix", s(STATUS_PREFIX))
            },
            |e| self.error(e),
            |items| {
                for item in items {
                    let Some(AttributeValue::S(text)) = item.get("record") else {
                        continue;
                    };
                    if let Ok(record) = serde_json::from_str::<StatusRecord>(text) {
                        texts.insert(record.key.clone(), text.clone());
                        records.insert(record.key.clone(), record);
                    }
                }
                Ok(())
            },
        )
        .await?;
        *lock(&self.stored) = texts;
        Ok(records)
    }

    /// Writes a record unless it is the one stored; returns whether it wrote.
    ///
    /// # Errors
    /// [`StatusTableError::Aws`] when the write fails (the record counts as not stored).
    pub async fn save(&self, record: &StatusRecord) -> Result<bool, StatusTableError> {
        let text = serde_json::to_string(record).map_err(|source| StatusTableError::Encode {
            table: self.table.clone(),
            key: record.key.clone(),
            source,
        })?;
        if lock(&self.stored).get(&record.key) == Some(&text) {
            return Ok(false);
        }
        let digest = digest(&text);
        let written = self
            .aws()
            .call("PutItem", ApiFamily::DynamoDb, || {
                self.clients
                    .dynamodb
                    .put_item()
                    .table_name(&self.table)
                    .item("pk", s(&pk(&record.key)))
                    .item("record", s(&text))
                    .item("digest", s(&digest))
                    .condition_expression("attribute_not_exists(#digest) OR #digest <> :digest")
                    .expression_attribute_names("#digest", "digest")
                    .expression_attribute_values(":digest", s(&digest))
                    .send()
            })
            .await;
        let wrote = match written {
            Ok(_) => true,
            // The table already holds this very record.
            Err(e) if e.is_code("ConditionalCheckFailedException") => false,
            Err(e) => return Err(self.error(e)),
        };
        lock(&self.stored).insert(record.key.clone(), text);
        Ok(wrote)
    }

    /// Forgets a document whose object is gone.
    ///
    /// # Errors
    /// [`StatusTableError::Aws`] when the delete fails.
    pub async fn remove(&self, key: &Key) -> Result<(), StatusTableError> {
        self.aws()
            .call("DeleteItem", ApiFamily::DynamoDb, || {
                self.clients
                    .dynamodb
                    .delete_item()
                    .table_name(&self.table)
                    .key("pk", s(&pk(key)))
                    .send()
            })
            .await
            .map_err(|e| self.error(e))?;
        lock(&self.stored).remove(key);
        Ok(())
    }
}

/// The `pk` of a document's status item: `status#Kind/name`.
pub fn pk(key: &Key) -> String {
    format!("{STATUS_PREFIX}{key}")
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why the status store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StatusStoreError {
    #[error(transparent)]
    Directory(#[from] StoreError),
    #[error(transparent)]
    Table(#[from] StatusTableError),
    #[error("cannot reach the controller's own account for the status table")]
    Account(#[source] AccountError),
}

/// The status store of the controller config: a local directory or a DynamoDB table.
#[derive(Debug)]
pub enum StatusStore {
    Directory(DirectoryStore),
    Dynamodb(StatusTable),
}

impl StatusStore {
    /// The store `config` names; a table is in the controller's own account, in `region`.
    ///
    /// # Errors
    /// [`StatusStoreError::Account`] when the controller's own account cannot be told.
    pub async fn open(
        config: &StatusStoreConfig,
        accounts: &Accounts,
        budgets: &ApiBudgets,
        region: &str,
    ) -> Result<StatusStore, StatusStoreError> {
        Ok(match config {
            StatusStoreConfig::Directory(dir) => StatusStore::Directory(DirectoryStore::new(dir)),
            StatusStoreConfig::DynamodbTable(table) => {
                let account = accounts
                    .own_account()
                    .await
                    .map_err(StatusStoreError::Account)?;
                let clients = accounts
                    .clients(&account, region)
                    .await
                    .map_err(StatusStoreError::Account)?;
                StatusStore::Dynamodb(StatusTable::new(clients, budgets.clone(), table))
            }
        })
    }

    /// The kind of store, a bounded metric label: `directory` or `dynamodb`.
    pub fn describe(&self) -> &'static str {
        match self {
            StatusStore::Directory(_) => "directory",
            StatusStore::Dynamodb(_) => "dynamodb",
        }
    }

    /// Every stored record.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn load(&self) -> Result<BTreeMap<Key, StatusRecord>, StatusStoreError> {
        Ok(match self {
            StatusStore::Directory(store) => store.load()?,
            StatusStore::Dynamodb(table) => table.load().await?,
        })
    }

    /// Writes a record unless the stored one is equal; returns whether it wrote.
    ///
    /// # Errors
    /// When the write fails.
    pub async fn save(&self, record: &StatusRecord) -> Result<bool, StatusStoreError> {
        Ok(match self {
            StatusStore::Directory(store) => store.save(record)?,
            StatusStore::Dynamodb(table) => table.save(record).await?,
        })
    }

    /// Forgets a document whose object is gone.
    ///
    /// # Errors
    /// When the delete fails.
    pub async fn remove(&self, key: &Key) -> Result<(), StatusStoreError> {
        match self {
            StatusStore::Directory(store) => store.remove(key)?,
            StatusStore::Dynamodb(table) => table.remove(key).await?,
        }
        Ok(())
    }
}

impl StatusSink for StatusStore {
    async fn save(&self, record: &StatusRecord) -> Result<(), String> {
        StatusStore::save(self, record)
            .await
            .map(|_| ())
            .map_err(|e| DisplayErrorContext(&e).to_string())
    }

    async fn remove(&self, key: &Key) -> Result<(), String> {
        StatusStore::remove(self, key)
            .await
            .map_err(|e| DisplayErrorContext(&e).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecs_topology_core::model::Kind;

    #[test]
    fn a_status_item_is_keyed_by_kind_and_name() {
        assert_eq!(
            pk(&Key::new(Kind::CloudMapNamespace, "payments")),
            "status#CloudMapNamespace/payments"
        );
    }

    #[test]
    fn the_digest_is_stable() {
        assert_eq!(digest(""), "cbf29ce484222325");
        assert_eq!(digest("a"), "af63dc4c8601ec8c");
    }
}

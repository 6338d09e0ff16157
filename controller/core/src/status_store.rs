//! The status store kept apart from the source: a directory with one JSON file per document
//! (`<dir>/<Kind>/<name>.json`), written only when the status changed.
//!
//! Each record also says where the document's object lives, so that a later pass knows where to
//! look for the objects of documents that have since been removed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::Scope;
use crate::model::Key;
use crate::status::DocumentStatus;

/// One document's stored status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRecord {
    pub key: Key,
    pub account: String,
    pub region: String,
    pub status: DocumentStatus,
}

impl StatusRecord {
    pub fn scope(&self) -> Scope {
        Scope::new(self.account.clone(), self.region.clone())
    }
}

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
#[error("status store {path}")]
pub struct StoreError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// A status store in a local directory.
#[derive(Debug, Clone)]
pub struct DirectoryStore {
    root: PathBuf,
}

impl DirectoryStore {
    pub fn new(root: impl Into<PathBuf>) -> DirectoryStore {
        DirectoryStore { root: root.into() }
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.root
            .join(key.kind.as_str())
            .join(format!("{}.json", key.name))
    }

    /// Every record; unreadable files are skipped (a status is a cache of what was seen).
    pub fn load(&self) -> Result<BTreeMap<Key, StatusRecord>, StoreError> {
        let mut out = BTreeMap::new();
        let dirs = match std::fs::read_dir(&self.root) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(source) => return Err(self.error(&self.root, source)),
        };
        for dir in dirs.flatten() {
            let Ok(files) = std::fs::read_dir(dir.path()) else {
                continue;
            };
            for file in files.flatten() {
                let Ok(text) = std::fs::read_to_string(file.path()) else {
                    continue;
                };
                if let Ok(record) = serde_json::from_str::<StatusRecord>(&text) {
                    out.insert(record.key.clone(), record);
                }
            }
        }
        Ok(out)
    }

    /// Writes a record unless the stored one is equal; returns whether it wrote.
    pub fn save(&self, record: &StatusRecord) -> Result<bool, StoreError> {
        let path = self.path(&record.key);
        let text = serde_json::to_string_pretty(record).unwrap_or_default() + "\n";
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            return Ok(false);
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.error(dir, e))?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(|e| self.error(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| self.error(&path, e))?;
        Ok(true)
    }

    /// Forgets a document whose object is gone.
    pub fn remove(&self, key: &Key) -> Result<(), StoreError> {
        match std::fs::remove_file(self.path(key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.error(&self.path(key), e)),
        }
    }

    fn error(&self, path: &Path, source: std::io::Error) -> StoreError {
        StoreError {
            path: path.display().to_string(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    #[test]
    fn a_status_is_written_only_when_it_changed() {
        let dir = std::env::temp_dir().join(format!("ecs-topology-status-{}", std::process::id()));
        let store = DirectoryStore::new(&dir);
        let mut record = StatusRecord {
            key: Key::new(Kind::CloudMapNamespace, "a"),
            account: "111111111111".into(),
            region: "eu-west-1".into(),
            status: DocumentStatus::default(),
        };
        assert!(store.save(&record).unwrap());
        assert!(!store.save(&record).unwrap());
        record.status.observed_revision = "r2".into();
        assert!(store.save(&record).unwrap());
        assert_eq!(store.load().unwrap()[&record.key], record);
        store.remove(&record.key).unwrap();
        assert!(store.load().unwrap().is_empty());
        std::fs::remove_dir_all(dir).ok();
    }
}

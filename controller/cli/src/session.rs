//! What `plan` and `apply` share: config, documents, validation, AWS wiring and the status
//! directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use ecs_topology_aws::{Accounts, ApiBudgets, AwsCloud, NoObserver};
use ecs_topology_core::config::{ControllerConfig, StatusStoreConfig};
use ecs_topology_core::engine::{DesiredSet, Observation, Search, observe};
use ecs_topology_core::finding::Finding;
use ecs_topology_core::load::{self, SourceFile};
use ecs_topology_core::model::Key;
use ecs_topology_core::status_store::{DirectoryStore, StatusRecord};
use ecs_topology_core::validate::validate;

/// A loaded, validated document set with everything needed to plan and act on it.
pub struct Session {
    pub config: ControllerConfig,
    /// The document files as read.
    pub files: Vec<SourceFile>,
    pub findings: Vec<Finding>,
    pub desired: Arc<DesiredSet>,
    pub cloud: Arc<AwsCloud>,
    pub store: Option<DirectoryStore>,
    pub previous: BTreeMap<Key, StatusRecord>,
}

impl Session {
    /// Loads the source directory, the config and the status directory.
    pub async fn open(source: &Path, config: Option<&Path>) -> anyhow::Result<Session> {
        let (config, _) = crate::config_file::resolve(config, &[source.to_path_buf()])?;
        let files = load::read_dir_files(source, config.source.max_file_bytes)?;
        let mut set = validate(load::load(&files), &config);
        let findings = std::mem::take(&mut set.findings);
        let desired = Arc::new(DesiredSet::from_validated(set, &config));
        let store = match &config.status {
            StatusStoreConfig::Directory(dir) => Some(DirectoryStore::new(PathBuf::from(dir))),
            StatusStoreConfig::DynamodbTable(_) => None,
        };
        let previous = match &store {
            Some(store) => store.load().context("cannot read the status store")?,
            None => BTreeMap::new(),
        };
        let accounts = Accounts::from_environment(&config).await;
        let budgets =
            Arc::new(ApiBudgets::new(&config, Arc::new(NoObserver)).context("rateBudgets")?);
        let cloud = Arc::new(AwsCloud::new(accounts, budgets));
        Ok(Session {
            config,
            files,
            findings,
            desired,
            cloud,
            store,
            previous,
        })
    }

    /// Observes every scope once: where the documents live, where the status store remembers
    /// documents of each kind were reconciled before, and, as a sweep, every configured account
    /// and region (objects of removed documents wherever they are).
    pub async fn observe(&self) -> Observation {
        let search = Search::new(
            &self.desired,
            &self.config.regions,
            self.previous.values().map(|r| (r.scope(), r.key.kind)),
            [],
            true,
        );
        observe(
            &*self.cloud,
            &self.desired,
            &search,
            self.config.concurrency,
        )
        .await
    }

    /// The digest of the spec last sent for each document, as status recorded it.
    pub fn last_applied(&self) -> BTreeMap<Key, String> {
        self.previous
            .iter()
            .filter_map(|(k, r)| Some((k.clone(), r.status.last_applied()?.to_owned())))
            .collect()
    }

    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }
}

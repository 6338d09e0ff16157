//! What `plan` and `apply` share: config, documents, validation, AWS wiring and one observation.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use ecs_topology_aws::{Accounts, ApiBudgets, AwsCloud, NoObserver};
use ecs_topology_core::config::{ControllerConfig, StatusStoreConfig};
use ecs_topology_core::engine::{DesiredSet, Observation, Scope, observe};
use ecs_topology_core::finding::Finding;
use ecs_topology_core::load;
use ecs_topology_core::model::{Key, Kind};
use ecs_topology_core::status_store::{DirectoryStore, StatusRecord};
use ecs_topology_core::validate::validate;

/// A loaded, validated document set with everything needed to plan and act on it.
pub struct Session {
    pub config: ControllerConfig,
    pub findings: Vec<Finding>,
    pub desired: Arc<DesiredSet>,
    pub cloud: Arc<AwsCloud>,
    pub store: Option<DirectoryStore>,
    pub previous: BTreeMap<Key, StatusRecord>,
    pub observation: Observation,
}

impl Session {
    /// Loads the source directory and config, then observes every scope once.
    pub async fn open(source: &Path, config: Option<&Path>) -> anyhow::Result<Session> {
        let (config, _) = crate::config_file::resolve(config, &[source.to_path_buf()])?;
        let files = load::read_dir_files(source)?;
        let set = validate(load::load(&files), &config);
        let mut desired = DesiredSet::from_validated(&set, &config);
        let store = match &config.status {
            StatusStoreConfig::Directory(dir) => Some(DirectoryStore::new(PathBuf::from(dir))),
            StatusStoreConfig::DynamodbTable(_) => None,
        };
        let previous = match &store {
            Some(store) => store.load().context("cannot read the status store")?,
            None => BTreeMap::new(),
        };
        for (key, doc) in desired.documents.iter_mut() {
            doc.last_applied = previous
                .get(key)
                .and_then(|r| r.status.aws.get("lastAppliedDigest").cloned());
        }
        let desired = Arc::new(desired);
        let accounts = Accounts::from_environment(&config).await;
        let budgets =
            Arc::new(ApiBudgets::new(&config, Arc::new(NoObserver)).context("rateBudgets")?);
        let cloud = Arc::new(AwsCloud::new(accounts, budgets));
        // Where objects of removed documents may live: wherever a document of that kind was
        // reconciled before (the status store remembers).
        let mut extra: BTreeMap<Scope, BTreeSet<Kind>> = BTreeMap::new();
        for record in previous.values() {
            extra
                .entry(record.scope())
                .or_default()
                .insert(record.key.kind);
        }
        let observation = observe(&*cloud, &desired, &extra, config.concurrency).await;
        Ok(Session {
            config,
            findings: set.findings,
            desired,
            cloud,
            store,
            previous,
            observation,
        })
    }

    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }
}

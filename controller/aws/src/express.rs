//! ECS Express services: batched observation that describes only what changed, and changes
//! through `Create`/`Update`/`DeleteExpressGatewayService`.
//!
//! There is no batch read of Express services: `DescribeExpressGatewayService` takes one ARN. So
//! each pass lists the clusters' ECS-managed services and describes them ten at a time
//! (`DescribeServices`, which has no Express configuration), and only a service whose
//! [`Fingerprint`] moved since the [`ExpressCache`] last saw it costs per-service reads.

mod apply;
pub(crate) mod convert;
pub(crate) mod observe;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use aws_sdk_ecs::types::Service;
use ecs_topology_core::observed::ObservedExpressService;

pub use apply::apply;
pub use observe::{observe, owned_clusters};

/// (account id, region, cluster as the documents name it).
type ClusterKey = (String, String, String);

/// What earlier passes described of Express services, so that `DescribeExpressGatewayService`
/// (and the reads of the resources ECS manages) are made only for services whose revision,
/// deployment or status changed.
///
/// # Guarantees
/// - Per (account, region, cluster) the entries are exactly the services of the last completed
///   observation of that cluster: a service that is gone is forgotten with that pass.
/// - An entry is used only while the service's [`Fingerprint`] is unchanged; tags are always
///   taken from the pass's own batched read.
#[derive(Debug, Default)]
pub struct ExpressCache {
    clusters: Mutex<HashMap<ClusterKey, HashMap<String, Seen>>>,
}

impl ExpressCache {
    /// The services last seen in a cluster, by ARN.
    fn cluster(&self, key: &ClusterKey) -> HashMap<String, Seen> {
        self.lock().get(key).cloned().unwrap_or_default()
    }

    /// Replaces what is known of a cluster with one full observation of it.
    fn replace(&self, key: ClusterKey, services: HashMap<String, Seen>) {
        let mut clusters = self.lock();
        if services.is_empty() {
            clusters.remove(&key);
        } else {
            clusters.insert(key, services);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ClusterKey, HashMap<String, Seen>>> {
        self.clusters.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A service as described, with the fingerprint it had then.
#[derive(Debug, Clone)]
struct Seen {
    fingerprint: Fingerprint,
    service: ObservedExpressService,
}

/// What `DescribeServices` shows that moves whenever an Express service's configuration or one
/// of its deployments does: its status, task definition, current service deployment and service
/// revisions, and each deployment's id, status, rollout state and update time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint(String);

impl Fingerprint {
    fn of(s: &Service) -> Fingerprint {
        let mut text = format!(
            "{}|{}|{}|",
            s.status().unwrap_or_default(),
            s.task_definition().unwrap_or_default(),
            s.current_service_deployment().unwrap_or_default()
        );
        for revision in s.current_service_revisions() {
            let _ = write!(text, "{},", revision.arn().unwrap_or_default());
        }
        for d in s.deployments() {
            let _ = write!(
                text,
                "|{} {} {} {:?}",
                d.id().unwrap_or_default(),
                d.status().unwrap_or_default(),
                d.rollout_state().map(|r| r.as_str()).unwrap_or_default(),
                d.updated_at().map(|t| (t.secs(), t.subsec_nanos()))
            );
        }
        Fingerprint(text)
    }
}

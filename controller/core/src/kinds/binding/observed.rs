//! An ECS service as a binding observes it: its tags (the claim among them), its PRIMARY
//! deployment's Service Connect configuration and rollout.

use serde::Serialize;

use crate::model::{
    DELETION_POLICY_ANNOTATION, KEY_TAG, OWNER_TAG, SERVICE_CONNECT_TAG, ServiceConnectService,
};
use crate::observed::{Tagged, Tags};

/// What a claim's owner tag reads when a service carries the claim tag but no owner tag.
const UNNAMED_CLAIMANT: &str = "(a claimant without an owner tag)";

/// An existing ECS service named by a binding (or claimed by this controller), as
/// `DescribeServices` reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedBoundService {
    pub arn: String,
    /// The cluster's ARN (planning compares clusters by name).
    pub cluster: String,
    pub name: String,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    /// An Express service (`resourceManagementType` `ECS`): not for a binding.
    pub express: bool,
    /// Every tag of the service, the operator's stack's included.
    pub tags: crate::compact::Tags,
    /// The claim read as ownership: the owner tag, the claim's `Kind/name` as the key tag, and
    /// the recorded deletion policy; empty when the service carries no claim. What the engine's
    /// ownership and orphan index read (see [`Tagged`]); derived from `tags` by
    /// [`ObservedBoundService::new`].
    claim: Tags,
    /// The PRIMARY deployment; `None` when ECS lists none.
    pub primary: Option<ObservedDeployment>,
    /// Why the most recent deployment failed, while the service runs what ECS rolled back to
    /// (or the failed deployment itself); `None` otherwise.
    pub failed_deployment: Option<String>,
}

impl ObservedBoundService {
    /// A service with `tags`, its claim read from them; no deployment.
    pub fn new(
        arn: impl Into<String>,
        cluster: impl Into<String>,
        name: impl Into<String>,
        tags: Tags,
    ) -> ObservedBoundService {
        ObservedBoundService {
            arn: arn.into(),
            cluster: cluster.into(),
            name: name.into(),
            status: "ACTIVE".to_owned(),
            express: false,
            claim: claim_of(&tags),
            tags,
            primary: None,
            failed_deployment: None,
        }
    }

    /// Replaces the tags (and the claim read from them).
    pub fn set_tags(&mut self, tags: Tags) {
        self.claim = claim_of(&tags);
        self.tags = tags;
    }

    /// Whether the service exists and is not on its way out.
    pub fn is_live(&self) -> bool {
        self.status.eq_ignore_ascii_case("ACTIVE")
    }

    /// The Service Connect configuration of the PRIMARY deployment, if it has one.
    pub fn config(&self) -> Option<&ObservedServiceConnect> {
        self.primary.as_ref().and_then(|d| d.config.as_ref())
    }

    /// Whether Service Connect is enabled on the PRIMARY deployment.
    pub fn enabled(&self) -> bool {
        self.config().is_some_and(|c| c.enabled)
    }
}

impl Tagged for ObservedBoundService {
    // Ownership is the claim, not the service's own tags: see `claim`.
    #[allow(clippy::misnamed_getters)]
    fn tags(&self) -> &crate::compact::Tags {
        &self.claim
    }
}

/// The ownership view of a service's tags: see [`ObservedBoundService::claim`].
fn claim_of(tags: &Tags) -> Tags {
    let Some(key) = tags.get(SERVICE_CONNECT_TAG) else {
        return Tags::new();
    };
    let owner = tags
        .get(OWNER_TAG)
        .cloned()
        .unwrap_or_else(|| UNNAMED_CLAIMANT.into());
    let mut claim = Tags::from([
        (OWNER_TAG.to_owned(), owner),
        (KEY_TAG.to_owned(), key.clone()),
    ]);
    if let Some(policy) = tags.get(DELETION_POLICY_ANNOTATION) {
        claim.insert(DELETION_POLICY_ANNOTATION.to_owned(), policy.clone());
    }
    claim
}

/// One deployment of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedDeployment {
    /// `ecs-svc/...`.
    pub id: String,
    /// `IN_PROGRESS`, `COMPLETED` or `FAILED` (empty when ECS reports none).
    pub rollout_state: String,
    pub config: Option<ObservedServiceConnect>,
}

/// A deployment's `serviceConnectConfiguration`, as ECS reads it back (the namespace as an ARN,
/// defaults filled in).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedServiceConnect {
    pub enabled: bool,
    /// The namespace's ARN (or name, as given, where ECS kept it so).
    pub namespace: Option<String>,
    pub services: Vec<ServiceConnectService>,
}

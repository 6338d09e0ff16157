//! The engine: observe in batches, plan each document purely, act through the work queue.
//!
//! The AWS side implements [`Cloud`]; the engine never sees the SDK. A pass observes every
//! (account, region) once per kind, plans every document from that observation, and converges
//! with bounded concurrency, each key reconciled by one worker at a time.
//!
//! # Guarantees
//! - Nothing is created, changed or deleted in an (account, region) whose observation failed.
//! - Nothing is pruned unless the prune gate allows it (see [`crate::prune`]).
//! - A reconcile re-plans from the current state; it is never told why it ran.

mod converge;
mod daemon;
mod desired;
mod observe;
mod planning;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use crate::model::{CloudMapNamespaceSpec, ExpressServiceSpec, Kind, VpcEndpointSetSpec};
use crate::observed::{ObservedEndpoint, ObservedExpressService, ObservedNamespace, ObservedShare};
use crate::plan::{DesiredShare, DocumentPlan};
use crate::status::ErrorInfo;

pub use converge::{ApplyReport, KeyOutcome, aws_facts, converge, readiness, status_of};
pub use daemon::{Daemon, DaemonObserver, PassView, Silent, StatusChange};
pub use desired::{Desired, DesiredSet, create_token, digest};
pub use observe::observe;
pub use planning::{Planned, deletable, orphans, plan_all, plan_key};

/// An account id and a region.
pub type Scope = (String, String);

/// Live state of every observed scope.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    pub namespaces: BTreeMap<Scope, Vec<ObservedNamespace>>,
    pub shares: BTreeMap<Scope, Vec<ObservedShare>>,
    /// VPC endpoints tagged by this controller.
    pub endpoints: BTreeMap<Scope, Vec<ObservedEndpoint>>,
    /// Express services (ECS-managed services) of the clusters the documents name.
    pub express: BTreeMap<Scope, Vec<ObservedExpressService>>,
    /// ARNs of the namespaces that other accounts share with the scope's account, as seen from it;
    /// absent where the controller cannot look (no role for that account).
    pub visible: BTreeMap<Scope, BTreeSet<String>>,
    /// Observations that failed: nothing is planned for those scopes and kinds.
    pub failed: BTreeMap<(Scope, Kind), ErrorInfo>,
}

/// A change to one namespace, as planned.
#[derive(Debug, Clone)]
pub struct NamespaceChange<'a> {
    pub scope: &'a Scope,
    pub plan: &'a DocumentPlan,
    /// The document's spec; `None` for a delete.
    pub spec: Option<&'a CloudMapNamespaceSpec>,
    /// The full set of tags the object must carry.
    pub tags: BTreeMap<String, String>,
    /// The object acted upon (ours, or the one being adopted); `None` for a create.
    pub observed: Option<&'a ObservedNamespace>,
    /// The idempotency token of a create or update.
    pub token: String,
}

/// A change to one share, as planned.
#[derive(Debug, Clone)]
pub struct ShareChange<'a> {
    pub scope: &'a Scope,
    pub plan: &'a DocumentPlan,
    pub desired: Option<&'a DesiredShare<'a>>,
    pub tags: BTreeMap<String, String>,
    pub observed: Option<&'a ObservedShare>,
    pub token: String,
}

/// A change to one endpoint set, as planned.
#[derive(Debug, Clone)]
pub struct EndpointChange<'a> {
    pub scope: &'a Scope,
    pub plan: &'a DocumentPlan,
    /// The document's spec; `None` for a delete.
    pub spec: Option<&'a VpcEndpointSetSpec>,
    /// The full set of tags every endpoint of the set must carry.
    pub tags: BTreeMap<String, String>,
    /// The endpoints of the set as observed (ours, and for an adopt the unowned ones of the same
    /// VPC and services).
    pub observed: Vec<&'a ObservedEndpoint>,
    /// The idempotency token of this change; derive one per endpoint from it.
    pub token: String,
}

/// The HTTP namespaces one account sees in one region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespaceScan {
    /// Those the account owns, with their tags.
    pub owned: Vec<ObservedNamespace>,
    /// ARNs of those other accounts share with it.
    pub shared: BTreeSet<String>,
}

/// A change to one Express service, as planned.
#[derive(Debug, Clone)]
pub struct ExpressChange<'a> {
    pub scope: &'a Scope,
    pub plan: &'a DocumentPlan,
    pub spec: Option<&'a ExpressServiceSpec>,
    pub tags: BTreeMap<String, String>,
    pub observed: Option<&'a ObservedExpressService>,
    pub token: String,
}

/// The cloud as the engine needs it: batched observation per scope and kind, and idempotent
/// changes. Errors carry a bounded class.
pub trait Cloud: Send + Sync + 'static {
    /// Every HTTP namespace the scope's account owns there, with tags, and the ARNs of those
    /// shared with it (one listing shows both).
    fn observe_namespaces(
        &self,
        scope: &Scope,
    ) -> impl Future<Output = Result<NamespaceScan, ErrorInfo>> + Send;
    /// Every resource share the scope's account owns there, with associations; `permissions` are
    /// the permission ARNs the documents ask for (which of them each share uses is observed).
    fn observe_shares(
        &self,
        scope: &Scope,
        permissions: &BTreeSet<String>,
    ) -> impl Future<Output = Result<Vec<ObservedShare>, ErrorInfo>> + Send;
    /// Namespace ARNs shared with the scope's account, seen from it; `None` when the controller
    /// has no way into that account.
    fn visible_namespaces(
        &self,
        scope: &Scope,
    ) -> impl Future<Output = Result<Option<BTreeSet<String>>, ErrorInfo>> + Send;
    /// Carries out a namespace plan; returns the object as it now is (`None` once deleted).
    fn apply_namespace(
        &self,
        change: NamespaceChange<'_>,
    ) -> impl Future<Output = Result<Option<ObservedNamespace>, ErrorInfo>> + Send;
    /// Carries out a share plan; returns the object as it now is (`None` once deleted).
    fn apply_share(
        &self,
        change: ShareChange<'_>,
    ) -> impl Future<Output = Result<Option<ObservedShare>, ErrorInfo>> + Send;
    /// Every VPC endpoint of the scope tagged by the controller `owner` (one paginated
    /// `DescribeVpcEndpoints` pass, 1,000 a page).
    fn observe_endpoints(
        &self,
        scope: &Scope,
        owner: &str,
    ) -> impl Future<Output = Result<Vec<ObservedEndpoint>, ErrorInfo>> + Send;
    /// Endpoints of the scope in `vpc` that this controller does not own (a targeted read, made
    /// only before a create or an adopt, to find look-alikes).
    fn endpoint_look_alikes(
        &self,
        scope: &Scope,
        vpc: &str,
        owner: &str,
    ) -> impl Future<Output = Result<Vec<ObservedEndpoint>, ErrorInfo>> + Send;
    /// Problems that would make an endpoint set fail or not work (VPC DNS attributes, security
    /// groups that do not admit 443 from the subnets), as sentences; read only before a change.
    fn endpoint_preflight(
        &self,
        scope: &Scope,
        spec: &VpcEndpointSetSpec,
    ) -> impl Future<Output = Result<Vec<String>, ErrorInfo>> + Send;
    /// Carries out an endpoint-set plan, waiting until new endpoints are available (within a
    /// bound); returns the set's endpoints as they now are.
    fn apply_endpoints(
        &self,
        change: EndpointChange<'_>,
    ) -> impl Future<Output = Result<Vec<ObservedEndpoint>, ErrorInfo>> + Send;
    /// Every Express (ECS-managed) service of `clusters` in the scope, with tags and its active
    /// configuration.
    fn observe_express(
        &self,
        scope: &Scope,
        clusters: &BTreeSet<String>,
    ) -> impl Future<Output = Result<Vec<ObservedExpressService>, ErrorInfo>> + Send;
    /// Carries out an Express plan; returns the service as it now is (`None` once deleted).
    fn apply_express(
        &self,
        change: ExpressChange<'_>,
    ) -> impl Future<Output = Result<Option<ObservedExpressService>, ErrorInfo>> + Send;
}

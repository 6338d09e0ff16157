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
mod desired;
mod observe;
mod planning;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use crate::model::{CloudMapNamespaceSpec, Kind};
use crate::observed::{ObservedNamespace, ObservedShare};
use crate::plan::{DesiredShare, DocumentPlan};
use crate::status::ErrorInfo;

pub use converge::{ApplyReport, KeyOutcome, converge, readiness, status_of};
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

/// The cloud as the engine needs it: batched observation per scope and kind, and idempotent
/// changes. Errors carry a bounded class.
pub trait Cloud: Send + Sync + 'static {
    /// Every HTTP namespace the scope's account owns there, with tags.
    fn observe_namespaces(
        &self,
        scope: &Scope,
    ) -> impl Future<Output = Result<Vec<ObservedNamespace>, ErrorInfo>> + Send;
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
}

//! The contract between the engine and a kind: [`Resource`].
//!
//! A kind says what its documents and observed objects are, how one (account, region) of them is
//! observed in batches, how a document is planned (purely, into typed edits), what makes it
//! ready, what AWS calls it, and how a typed change is carried out through its port of the
//! [`Cloud`]. The engine (observation passes, planning, the reconcile, prune and status) is
//! generic over it and never names a kind; the kinds are registered once, in [`crate::kinds`].

use std::collections::BTreeMap;
use std::future::Future;

use super::{Desired, DesiredSet, Objects, Observation, Scope};
use crate::config::ControllerConfig;
use crate::kinds::Cloud;
use crate::model::{Document, Key, Kind, Manifest};
use crate::observed::{Seen, Tagged};
use crate::plan::{Edit, Field, KindPlan, PruneGate, Verb};
use crate::status::ErrorInfo;
use crate::validate::{Identity, Report, SetView};

/// A typed plan of kind `R`, borrowing the observation it was made from.
pub type Plan<'o, R> = KindPlan<'o, <R as Resource>::Field, <R as Registered>::Object>;

/// A change made from the observation of an earlier moment: what a late change would act on.
pub type Patch = Box<dyn FnOnce(&mut Observation) + Send>;

/// What a plan may read beyond its own objects: the whole desired set and observation (a share
/// reads its namespace's ARN, readiness reads what consumers see).
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub desired: &'a DesiredSet,
    pub observed: &'a Observation,
}

impl<'a> Context<'a> {
    /// The controller's name: the value of the owner tag.
    pub fn controller(&self) -> &str {
        &self.desired.controller
    }

    /// The spec of the document `key` of kind `R`; `None` when the desired set does not hold it.
    pub fn spec<R: Registered>(&self, key: &Key) -> Option<&'a R::Spec> {
        R::spec(&self.desired.documents.get(key)?.document)
    }
}

/// One document (or one orphan) to plan.
#[derive(Debug)]
pub struct Input<'a, R: Resource> {
    pub key: &'a Key,
    /// The document; `None` when it was removed from the source.
    pub doc: Option<&'a Desired>,
    /// The document's spec; `None` when it was removed.
    pub spec: Option<&'a R::Spec>,
    /// The objects of the kind where the document (or the orphan) lives.
    pub seen: Seen<'a, R::Object>,
    pub gate: &'a PruneGate,
    /// The digest of the spec the controller last sent for this document and AWS accepted, as
    /// status recorded it (see [`Resource::sent_digest`]).
    pub last_applied: Option<&'a str>,
}

/// A typed change on its way to AWS, with owned copies of the objects it acts upon, so that it
/// runs without holding the observation.
#[derive(Debug)]
pub struct Change<'a, R: Resource> {
    pub scope: &'a Scope,
    pub key: &'a Key,
    pub verb: Verb,
    /// Exactly the fields to change.
    pub edits: &'a [Edit<R::Field>],
    /// The objects acted upon (the document's own, or the one being adopted); empty for a
    /// create.
    pub subject: &'a [R::Object],
    /// The document's spec; `None` for a delete of a removed document.
    pub spec: Option<&'a R::Spec>,
    /// The full set of tags the object carries once changed (empty for a delete).
    pub tags: crate::compact::Tags,
    /// The idempotency token of a create.
    pub token: String,
    /// The controller's name.
    pub controller: &'a str,
    /// The leadership term the change runs in: every call checks it first (see
    /// [`Term::check`](super::Term::check)).
    pub term: &'a super::Term,
}

/// Where a document sits in the drawn topology and what it connects to (for the topology page).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Topology {
    /// What the document's objects sit in within their account and region (a VPC, a cluster).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub edges: Vec<Edge>,
}

/// A connection from a document to an account or another document.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Edge {
    /// What connects: `share`, `peering`, `binding`.
    pub kind: &'static str,
    /// The account at the other end (an account id), when it ends at an account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The document at the other end (`Kind/name`), when it ends at a document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// Whether the other end actually sees the connection; `None` when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen: Option<bool>,
}

/// What a change left behind.
pub struct Applied<T> {
    /// Ids of objects that are no longer as observed (changed or gone).
    pub gone: Vec<String>,
    /// The objects as they now are.
    pub now: Vec<T>,
    /// What else the change left behind that the kind observes beside its objects (the route
    /// tables of a peering's two sides), as a patch of the observation.
    pub more: Option<Patch>,
}

impl<T> Applied<T> {
    /// What a change of `subject` left behind when the port returns the objects as they now are
    /// (`now`; none once deleted): every subject object is no longer as observed, nothing else
    /// is touched.
    pub fn replacing<R: Resource<Object = T>>(
        subject: &[T],
        now: impl IntoIterator<Item = T>,
    ) -> Applied<T> {
        Applied {
            gone: subject.iter().map(|o| R::id(o).to_owned()).collect(),
            now: now.into_iter().collect(),
            more: None,
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Applied<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Applied")
            .field("gone", &self.gone)
            .field("now", &self.now)
            .field("more", &self.more.is_some())
            .finish()
    }
}

/// What the [`registry!`](crate::kinds) writes for a kind from its line: its place among the
/// kinds, its document and its objects in the observation.
pub trait Registered: Sized + Send + Sync + 'static {
    const KIND: Kind;
    /// The document's spec.
    type Spec: crate::model::Spec + Send + Sync + 'static;
    /// One observed AWS object.
    type Object: Tagged + Clone + std::fmt::Debug + Send + Sync + 'static;

    fn spec(document: &Document) -> Option<&Self::Spec>;
    /// The document of a manifest of the kind.
    fn document(manifest: Manifest<Self::Spec>) -> Document;
    fn objects(observation: &Observation) -> &Objects<Self::Object>;
    fn objects_mut(observation: &mut Observation) -> &mut Objects<Self::Object>;
}

/// A kind's rules for its documents, beyond their schema (each kind's `check.rs`): what
/// validation checks, and which AWS objects two documents may not both claim.
pub trait Rules: Registered {
    /// Where a wrong account or region of the document is reported.
    const PLACE: &'static str = "spec";
    /// Checks a document of the kind beyond its schema: its fields' rules, and what it names in
    /// the rest of the set or the config (`view`).
    fn check(spec: &Self::Spec, view: &SetView<'_>, report: &mut Report<'_>);
    /// The AWS objects the document claims (its account resolved to an id): no two documents
    /// may claim the same one.
    fn identities(
        _spec: &Self::Spec,
        _account: &str,
        _region: &str,
        _config: &ControllerConfig,
    ) -> Vec<Identity> {
        Vec::new()
    }
}

/// One kind of AWS object the controller manages.
pub trait Resource: Registered + Rules {
    /// A field of the object, typed (what an edit changes).
    type Field: Field;
    /// What observing one scope yields.
    type Scan: Send + 'static;

    /// The tags the document's spec asks for (the operator's own).
    fn user_tags(spec: &Self::Spec) -> &crate::compact::Tags;

    /// The object's id in its scope (a namespace id, an ARN, an endpoint id).
    fn id(object: &Self::Object) -> &str;
    /// Whether a listed object still exists (a deleted Express service stays listed a while).
    fn exists(_object: &Self::Object) -> bool {
        true
    }
    /// The CloudTrail `eventSource` of the service that holds this kind's objects.
    const EVENT_SOURCE: &'static str = "";
    /// The CloudTrail `eventName`s of the calls that change this kind's objects: one of them in
    /// an account and region makes the events consumer observe the kind there again (see
    /// [`crate::events`]).
    const EVENTS: &'static [&'static str] = &[];
    /// Whether observing a scope reads replies that grow with its objects (a page of up to a
    /// thousand VPC endpoints, services described ten at a time): a pass reads at most
    /// [`super::observe::LARGE_AT_ONCE`] such scopes at a time, so that the replies in flight do
    /// not grow with the number of scopes too.
    const LARGE_REPLIES: bool = false;

    /// The documents this one is planned against (a share's namespace): a change to one of
    /// them reconciles this one again.
    fn references(_spec: &Self::Spec) -> Vec<Key> {
        Vec::new()
    }

    /// Kinds observed wherever a document of this kind lives (a share needs its namespace).
    fn needs() -> &'static [Kind] {
        &[]
    }

    /// Observes one scope in batches; on a `sweep`, also what only the owner tag finds (objects
    /// of removed documents in places no document names).
    fn observe<'a, C: Cloud>(
        cloud: &'a C,
        desired: &'a DesiredSet,
        scope: &'a Scope,
        sweep: bool,
    ) -> impl Future<Output = Result<Self::Scan, ErrorInfo>> + Send + 'a;
    /// Keeps a scope's scan in the observation.
    fn store(scan: Self::Scan, observation: &mut Observation, scope: Scope);
    /// After every scope was observed: what else the kind needs to look at (for shares, what the
    /// consumer accounts see), as a patch of the observation.
    fn observe_more<'a, C: Cloud>(
        _cloud: &'a C,
        _desired: &'a DesiredSet,
        _observation: &'a Observation,
        _concurrency: usize,
    ) -> impl Future<Output = Option<Patch>> + Send + 'a {
        async { None }
    }

    /// Plans one document (pure).
    fn plan<'o>(cx: &Context<'o>, input: Input<'o, Self>) -> Plan<'o, Self>;
    /// Whether the document's object is usable, and what is missing if not.
    fn readiness(cx: &Context<'_>, key: &Key, seen: Seen<'_, Self::Object>) -> (bool, String);
    /// What AWS calls the document's objects and what it manages for them, for status.
    fn facts(cx: &Context<'_>, key: &Key, seen: Seen<'_, Self::Object>)
    -> BTreeMap<String, String>;

    /// Where the document sits and what it connects to, for the topology page; nothing by
    /// default.
    fn topology(_cx: &Context<'_>, _key: &Key, _spec: &Self::Spec) -> Topology {
        Topology::default()
    }

    /// Carries out a change.
    fn act<'a, C: Cloud>(
        cloud: &'a C,
        change: Change<'a, Self>,
    ) -> impl Future<Output = Result<Applied<Self::Object>, ErrorInfo>> + Send + 'a;
    /// The digest of what a successful change sent, to record in status (for a kind whose
    /// failed deployments must not be resent until the document changes); `None` by default.
    fn sent_digest(_verb: Verb, _spec: &Self::Spec) -> Option<String> {
        None
    }
    /// After a run of changes (`apply --once`): what else to look at again for status (for
    /// shares, what the consumers of the changed shares see now), as a patch.
    fn after_changes<'a, C: Cloud>(
        _cloud: &'a C,
        _desired: &'a DesiredSet,
        _changed: &'a [Key],
        _concurrency: usize,
    ) -> impl Future<Output = Option<Patch>> + Send + 'a {
        async { None }
    }
}

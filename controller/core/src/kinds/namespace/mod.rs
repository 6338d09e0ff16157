//! `CloudMapNamespace`: a Cloud Map HTTP namespace, the namespace behind Service Connect.

mod check;
mod plan;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

pub use plan::{DesiredNamespace, NamespacePlan, plan_namespace};

use crate::engine::{
    Applied, Change, Context, DesiredSet, Input, Observation, Plan, Resource, Scope,
};
use crate::kinds::Cloud;
use crate::model::{CloudMapNamespaceSpec, Key, Kind};
use crate::observed::{ObservedNamespace, Seen};
use crate::plan::Field;
use crate::status::ErrorInfo;

/// A field of a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceField {
    /// Set only at creation.
    Name,
    Description,
    Tag(String),
}

impl Field for NamespaceField {
    fn path(&self) -> String {
        match self {
            NamespaceField::Name => "name".into(),
            NamespaceField::Description => "description".into(),
            NamespaceField::Tag(key) => format!("tags.{key}"),
        }
    }

    fn tag_key(&self) -> Option<&str> {
        match self {
            NamespaceField::Tag(key) => Some(key),
            _ => None,
        }
    }
}

/// The HTTP namespaces one account sees in one region (one listing shows both).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespaceScan {
    /// Those the account owns, with their tags.
    pub owned: Vec<ObservedNamespace>,
    /// ARNs of those other accounts share with it.
    pub shared: BTreeSet<String>,
}

/// What the AWS side does for namespaces.
pub trait NamespaceCloud {
    /// Every HTTP namespace the scope's account owns there, with tags, and the ARNs of those
    /// shared with it.
    fn observe_namespaces(
        &self,
        scope: &Scope,
    ) -> impl Future<Output = Result<NamespaceScan, ErrorInfo>> + Send;
    /// Namespace ARNs shared with the scope's account, seen from it; `None` when the controller
    /// has no way into that account.
    fn visible_namespaces(
        &self,
        scope: &Scope,
    ) -> impl Future<Output = Result<Option<BTreeSet<String>>, ErrorInfo>> + Send;
    /// Carries out a namespace change; returns the namespace as it now is (`None` once deleted).
    fn apply_namespace(
        &self,
        change: Change<'_, Namespaces>,
    ) -> impl Future<Output = Result<Option<ObservedNamespace>, ErrorInfo>> + Send;
}

/// The namespaces kind.
#[derive(Debug)]
pub struct Namespaces;

impl Resource for Namespaces {
    type Field = NamespaceField;
    type Scan = NamespaceScan;

    const EVENT_SOURCE: &'static str = "servicediscovery.amazonaws.com";
    const EVENTS: &'static [&'static str] = &[
        "CreateHttpNamespace",
        "UpdateHttpNamespace",
        "DeleteNamespace",
        "TagResource",
        "UntagResource",
    ];

    fn user_tags(spec: &CloudMapNamespaceSpec) -> &crate::compact::Tags {
        &spec.tags
    }

    fn id(object: &ObservedNamespace) -> &str {
        &object.id
    }

    fn observe<'a, C: Cloud>(
        cloud: &'a C,
        _desired: &'a DesiredSet,
        scope: &'a Scope,
        _sweep: bool,
    ) -> impl Future<Output = Result<NamespaceScan, ErrorInfo>> + Send + 'a {
        cloud.observe_namespaces(scope)
    }

    fn store(scan: NamespaceScan, observation: &mut Observation, scope: Scope) {
        observation.visible.insert(scope.clone(), scan.shared);
        observation.namespaces.replace(scope, scan.owned);
    }

    fn plan<'o>(cx: &Context<'o>, input: Input<'o, Self>) -> Plan<'o, Self> {
        let want = input.spec.zip(input.doc).map(|(spec, d)| DesiredNamespace {
            spec,
            policies: &d.policies,
        });
        plan_namespace(cx.controller(), input.key, want, input.seen, input.gate)
    }

    fn readiness(cx: &Context<'_>, key: &Key, seen: Seen<'_, ObservedNamespace>) -> (bool, String) {
        match own(cx, key, seen) {
            Some(ns) => (true, format!("namespace {} ({})", ns.id, ns.arn)),
            None => (false, "the namespace does not exist".into()),
        }
    }

    fn facts(
        cx: &Context<'_>,
        key: &Key,
        seen: Seen<'_, ObservedNamespace>,
    ) -> BTreeMap<String, String> {
        own(cx, key, seen)
            .map(|ns| {
                BTreeMap::from([
                    ("id".to_owned(), ns.id.clone()),
                    ("arn".to_owned(), ns.arn.clone()),
                ])
            })
            .unwrap_or_default()
    }

    async fn act<'a, C: Cloud>(
        cloud: &'a C,
        change: Change<'a, Self>,
    ) -> Result<Applied<ObservedNamespace>, ErrorInfo> {
        let subject = change.subject;
        let now = cloud.apply_namespace(change).await?;
        Ok(Applied::replacing::<Self>(subject, now))
    }
}

/// The document's own namespace.
fn own<'o>(
    cx: &Context<'_>,
    key: &Key,
    seen: Seen<'o, ObservedNamespace>,
) -> Option<&'o ObservedNamespace> {
    seen.ours(cx.controller(), key).next()
}

/// The ARN of the namespace that the `CloudMapNamespace` document `name` created (or adopted),
/// if it exists.
pub fn namespace_arn(cx: &Context<'_>, name: &str) -> Option<String> {
    let key = Key::new(Kind::CloudMapNamespace, name);
    let scope = cx.desired.documents.get(&key)?.scope();
    own(cx, &key, cx.observed.namespaces.seen(&scope, &key)).map(|ns| ns.arn.clone())
}

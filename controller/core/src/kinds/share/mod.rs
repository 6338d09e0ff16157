//! `NamespaceShare`: a RAM resource share of a namespace with other accounts of the
//! Organization (cross-account Service Connect).

mod check;
mod plan;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use crate::engine::look_per_scope;

pub use plan::{DesiredShare, SharePlan, plan_share};

use super::namespace::namespace_arn;
use crate::engine::{
    Applied, Change, Context, DesiredSet, Edge, Input, Observation, Patch, Plan, Registered,
    Resource, Scope, Topology,
};
use crate::kinds::Cloud;
use crate::model::{Key, Kind, NamespaceShareSpec, Policies};
use crate::observed::{ObservedShare, Seen, permission_arn};
use crate::plan::Field;
use crate::status::ErrorInfo;

/// A field of a share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareField {
    /// Set only at creation.
    Name,
    /// The namespace ARNs associated.
    Resources,
    /// Account ids and Organization / OU ARNs associated.
    Principals,
    /// Permission ARNs, without versions.
    Permissions,
    AllowExternalPrincipals,
    Tag(String),
}

impl Field for ShareField {
    fn path(&self) -> String {
        match self {
            ShareField::Name => "name".into(),
            ShareField::Resources => "resources".into(),
            ShareField::Principals => "principals".into(),
            ShareField::Permissions => "permissions".into(),
            ShareField::AllowExternalPrincipals => "allowExternalPrincipals".into(),
            ShareField::Tag(key) => format!("tags.{key}"),
        }
    }

    fn tag_key(&self) -> Option<&str> {
        match self {
            ShareField::Tag(key) => Some(key),
            _ => None,
        }
    }
}

/// What the AWS side does for shares.
pub trait ShareCloud {
    /// Every resource share the scope's account owns there, with associations; `permissions` are
    /// the permission ARNs the documents ask for (which of them each share uses is observed).
    fn observe_shares(
        &self,
        scope: &Scope,
        permissions: &BTreeSet<String>,
    ) -> impl Future<Output = Result<Vec<ObservedShare>, ErrorInfo>> + Send;
    /// Carries out a share change; returns the share as it now is (`None` once deleted).
    fn apply_share(
        &self,
        change: Change<'_, Shares>,
    ) -> impl Future<Output = Result<Option<ObservedShare>, ErrorInfo>> + Send;
}

/// The shares kind.
#[derive(Debug)]
pub struct Shares;

impl Resource for Shares {
    type Field = ShareField;
    type Scan = Vec<ObservedShare>;

    const EVENT_SOURCE: &'static str = "ram.amazonaws.com";
    const EVENTS: &'static [&'static str] = &[
        "CreateResourceShare",
        "UpdateResourceShare",
        "DeleteResourceShare",
        "AssociateResourceShare",
        "DisassociateResourceShare",
        "AssociateResourceSharePermission",
        "DisassociateResourceSharePermission",
        "TagResource",
        "UntagResource",
    ];

    fn user_tags(spec: &NamespaceShareSpec) -> &crate::compact::Tags {
        &spec.tags
    }

    fn id(object: &ObservedShare) -> &str {
        &object.arn
    }

    fn references(spec: &NamespaceShareSpec) -> Vec<Key> {
        vec![Key::new(
            Kind::CloudMapNamespace,
            spec.namespace_ref.clone(),
        )]
    }

    fn needs() -> &'static [Kind] {
        // A share is planned against its namespace, which lives in the same scope.
        &[Kind::CloudMapNamespace]
    }

    fn observe<'a, C: Cloud>(
        cloud: &'a C,
        desired: &'a DesiredSet,
        scope: &'a Scope,
        _sweep: bool,
    ) -> impl Future<Output = Result<Vec<ObservedShare>, ErrorInfo>> + Send + 'a {
        let permissions: BTreeSet<String> = desired
            .in_scope(scope)
            .filter_map(|(_, d)| Self::spec(&d.document))
            .map(|spec| permission_arn(spec.permission_or_default()))
            .collect();
        async move { cloud.observe_shares(scope, &permissions).await }
    }

    fn store(scan: Vec<ObservedShare>, observation: &mut Observation, scope: Scope) {
        observation.shares.replace(scope, scan);
    }

    fn observe_more<'a, C: Cloud>(
        cloud: &'a C,
        desired: &'a DesiredSet,
        observation: &'a Observation,
        concurrency: usize,
    ) -> impl Future<Output = Option<Patch>> + Send + 'a {
        // A scope whose namespaces were listed has shown what is shared with it already.
        let consumers: BTreeSet<Scope> = consumers(desired, desired.documents.keys())
            .into_iter()
            .filter(|scope| !observation.namespaces.has(scope))
            .collect();
        visibility(cloud, consumers, concurrency)
    }

    fn plan<'o>(cx: &Context<'o>, input: Input<'o, Self>) -> Plan<'o, Self> {
        let want = input
            .spec
            .zip(input.doc)
            .map(|(spec, d)| desired_share(cx, spec, &d.policies));
        plan_share(
            cx.controller(),
            input.key,
            want.as_ref(),
            input.seen,
            input.gate,
        )
    }

    fn readiness(cx: &Context<'_>, key: &Key, _seen: Seen<'_, ObservedShare>) -> (bool, String) {
        let Some(spec) = cx.spec::<Self>(key) else {
            return (false, "the document was removed".into());
        };
        let Some(arn) = namespace_arn(cx, &spec.namespace_ref) else {
            return (false, "the namespace does not exist yet".into());
        };
        let mut missing = Vec::new();
        let mut unknown = Vec::new();
        for p in &spec.principals {
            match cx.desired.principal_account(p) {
                None => unknown.push(p.clone()),
                Some(id) => match cx
                    .observed
                    .visible
                    .get(&Scope::new(id.clone(), &spec.region))
                {
                    Some(seen) if seen.contains(&arn) => {}
                    Some(_) => missing.push(id),
                    None => unknown.push(id),
                },
            }
        }
        if missing.is_empty() && unknown.is_empty() {
            (true, format!("every principal account sees {arn}"))
        } else if !missing.is_empty() {
            (
                false,
                format!("not yet visible from {}", missing.join(", ")),
            )
        } else {
            (
                false,
                format!(
                    "cannot look from {} (no role for the controller there)",
                    unknown.join(", ")
                ),
            )
        }
    }

    fn facts(
        cx: &Context<'_>,
        key: &Key,
        seen: Seen<'_, ObservedShare>,
    ) -> BTreeMap<String, String> {
        seen.ours(cx.controller(), key)
            .next()
            .map(|s| BTreeMap::from([("arn".to_owned(), s.arn.clone())]))
            .unwrap_or_default()
    }

    /// An edge to each principal account, seen when that account sees the namespace.
    fn topology(cx: &Context<'_>, _key: &Key, spec: &NamespaceShareSpec) -> Topology {
        let namespace = namespace_arn(cx, &spec.namespace_ref);
        let edges = spec
            .principals
            .iter()
            .map(|p| {
                let account = cx.desired.principal_account(p);
                let seen = account.as_ref().and_then(|a| {
                    let visible = cx
                        .observed
                        .visible
                        .get(&Scope::new(a.as_str(), &spec.region))?;
                    Some(namespace.as_ref().is_some_and(|arn| visible.contains(arn)))
                });
                Edge {
                    kind: "share",
                    account: Some(account.unwrap_or_else(|| p.clone())),
                    document: None,
                    seen,
                }
            })
            .collect();
        Topology { group: None, edges }
    }

    async fn act<'a, C: Cloud>(
        cloud: &'a C,
        change: Change<'a, Self>,
    ) -> Result<Applied<ObservedShare>, ErrorInfo> {
        let subject = change.subject;
        let now = cloud.apply_share(change).await?;
        Ok(Applied::replacing::<Self>(subject, now))
    }

    fn after_changes<'a, C: Cloud>(
        cloud: &'a C,
        desired: &'a DesiredSet,
        changed: &'a [Key],
        concurrency: usize,
    ) -> impl Future<Output = Option<Patch>> + Send + 'a {
        visibility(cloud, consumers(desired, changed.iter()), concurrency)
    }
}

/// A share document with its principals and namespace resolved.
pub fn desired_share<'a>(
    cx: &Context<'_>,
    spec: &'a NamespaceShareSpec,
    policies: &'a Policies,
) -> DesiredShare<'a> {
    DesiredShare {
        spec,
        policies,
        principals: spec
            .principals
            .iter()
            .map(|p| cx.desired.principal_account(p).unwrap_or_else(|| p.clone()))
            .collect(),
        namespace_arn: namespace_arn(cx, &spec.namespace_ref),
        permission_arn: permission_arn(spec.permission_or_default()),
    }
}

/// The scopes of the principal accounts of the shares `keys` (those that are shares).
fn consumers<'k>(desired: &DesiredSet, keys: impl Iterator<Item = &'k Key>) -> BTreeSet<Scope> {
    keys.filter_map(|k| desired.documents.get(k))
        .filter_map(|d| Shares::spec(&d.document))
        .flat_map(|spec| {
            spec.principals
                .iter()
                .filter_map(|p| desired.principal_account(p))
                .map(|id| Scope::new(id, &spec.region))
        })
        .collect()
}

/// Looks from each consumer scope at the namespaces shared with it.
async fn visibility<C: Cloud>(
    cloud: &C,
    consumers: BTreeSet<Scope>,
    concurrency: usize,
) -> Option<Patch> {
    look_per_scope(
        consumers,
        concurrency,
        |scope| async move { cloud.visible_namespaces(&scope).await },
        |observation, scope, found| match found {
            Ok(Some(arns)) => {
                observation.visible.insert(scope, arns);
            }
            // No way in, or an error: visibility only decides readiness; it is unknown.
            Ok(None) | Err(_) => {
                observation.visible.remove(&scope);
            }
        },
    )
    .await
}

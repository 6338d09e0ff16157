//! `ServiceConnectBinding`: the Service Connect configuration of an existing ECS service — the
//! namespace it joins, by reference, and only once the service's account sees it.

mod check;
mod observed;
mod plan;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

pub use observed::{ObservedBoundService, ObservedDeployment, ObservedServiceConnect};
pub use plan::{
    BindingPlan, DesiredBinding, NamespaceState, carried_claim, claim_tags, plan_binding,
    spec_digest,
};

use super::namespace::namespace_arn;
use crate::engine::{
    Applied, Change, Context, DesiredSet, Edge, Input, Observation, Plan, Registered, Resource,
    Scope, Topology,
};
use crate::kinds::Cloud;
use crate::model::{
    Document, Key, Kind, NO_TAGS, ServiceConnectBindingSpec, cluster_name, namespace_arn_parts,
};
use crate::observed::Seen;
use crate::plan::{Field, Verb};
use crate::status::ErrorInfo;

/// A field of a binding, in the document's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindingField {
    /// `serviceConnectConfiguration.enabled`.
    Enabled,
    /// The namespace, as an ARN.
    Namespace,
    /// The entry of `services` of this `portName` (sent whole).
    Service(String),
    /// A claim tag on the service (the owner tag, the claim, the deletion policy).
    Claim(String),
}

impl BindingField {
    /// Whether the field is part of `serviceConnectConfiguration` (sent by `UpdateService`).
    pub fn is_config(&self) -> bool {
        !matches!(self, BindingField::Claim(_))
    }
}

impl Field for BindingField {
    fn path(&self) -> String {
        match self {
            BindingField::Enabled => "enabled".into(),
            BindingField::Namespace => "namespace".into(),
            BindingField::Service(port) => format!("services.{port}"),
            BindingField::Claim(key) => format!("tags.{key}"),
        }
    }

    fn tag_key(&self) -> Option<&str> {
        match self {
            BindingField::Claim(key) => Some(key),
            _ => None,
        }
    }
}

/// What the AWS side does for bindings.
pub trait BindingCloud {
    /// The services of the scope that `named` lists (cluster name or ARN to service names) and,
    /// when `claimed_by` names a controller, those that carry its claim (one search by tag),
    /// with their tags and PRIMARY deployment; missing services are left out.
    fn observe_bindings(
        &self,
        scope: &Scope,
        named: &BTreeMap<String, BTreeSet<String>>,
        claimed_by: Option<&str>,
    ) -> impl Future<Output = Result<Vec<ObservedBoundService>, ErrorInfo>> + Send;
    /// Carries out a binding change on its service: the claim tags, then `UpdateService` with
    /// the Service Connect configuration alone; returns the service as it now is.
    fn apply_binding(
        &self,
        change: Change<'_, Bindings>,
    ) -> impl Future<Output = Result<Option<ObservedBoundService>, ErrorInfo>> + Send;
}

/// The bindings kind.
#[derive(Debug)]
pub struct Bindings;

impl Resource for Bindings {
    type Field = BindingField;
    type Scan = Vec<ObservedBoundService>;

    const EVENT_SOURCE: &'static str = "ecs.amazonaws.com";
    const EVENTS: &'static [&'static str] = &["UpdateService", "TagResource", "UntagResource"];

    fn user_tags(_spec: &ServiceConnectBindingSpec) -> &crate::compact::Tags {
        &NO_TAGS
    }

    fn references(spec: &ServiceConnectBindingSpec) -> Vec<Key> {
        spec.namespace_ref
            .iter()
            .map(|name| Key::new(Kind::CloudMapNamespace, name.clone()))
            .collect()
    }

    fn id(object: &ObservedBoundService) -> &str {
        &object.arn
    }

    fn exists(object: &ObservedBoundService) -> bool {
        object.is_live()
    }

    fn needs() -> &'static [Kind] {
        // The namespaces the service's account owns and sees shared with it.
        &[Kind::CloudMapNamespace]
    }

    fn observe<'a, C: Cloud>(
        cloud: &'a C,
        desired: &'a DesiredSet,
        scope: &'a Scope,
        sweep: bool,
    ) -> impl Future<Output = Result<Vec<ObservedBoundService>, ErrorInfo>> + Send + 'a {
        let mut named: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for spec in desired
            .in_scope(scope)
            .filter_map(|(_, d)| Self::spec(&d.document))
        {
            named
                .entry(spec.cluster.clone())
                .or_default()
                .insert(spec.service.clone());
        }
        // The services of removed bindings: searched by the claim on a sweep, and where no
        // binding names anything (the scope is observed for what its removed documents left);
        // between sweeps, a removed binding next to live ones is found by the next sweep.
        let search = sweep || named.is_empty();
        async move {
            let claimed_by = search.then_some(desired.controller.as_str());
            cloud.observe_bindings(scope, &named, claimed_by).await
        }
    }

    fn store(scan: Vec<ObservedBoundService>, observation: &mut Observation, scope: Scope) {
        observation.bindings.replace(scope, scan);
    }

    fn plan<'o>(cx: &Context<'o>, input: Input<'o, Self>) -> Plan<'o, Self> {
        let want = input.spec.zip(input.doc).map(|(spec, d)| DesiredBinding {
            spec,
            policies: &d.policies,
            namespace: resolve_namespace(cx, spec, &d.scope()),
            last_applied: input.last_applied,
        });
        plan_binding(
            cx.controller(),
            input.key,
            want.as_ref(),
            input.seen,
            input.gate,
        )
    }

    fn readiness(
        cx: &Context<'_>,
        key: &Key,
        seen: Seen<'_, ObservedBoundService>,
    ) -> (bool, String) {
        let Some((spec, scope)) = document(cx, key) else {
            return (false, "the document was removed".into());
        };
        let (arn, name) = match resolve_namespace(cx, spec, &scope) {
            NamespaceState::Ready { arn, name } => (arn, name),
            NamespaceState::Waiting { reason, .. } => return (false, reason),
        };
        let Some(s) = own(cx, key, seen) else {
            return (
                false,
                format!(
                    "service `{}` of cluster `{}` is not bound yet",
                    spec.service,
                    cluster_name(&spec.cluster)
                ),
            );
        };
        let Some(primary) = &s.primary else {
            return (false, "ECS lists no PRIMARY deployment".into());
        };
        let differs = !plan::config_edits(s.config(), spec, &arn, name.as_deref()).is_empty();
        match (
            differs,
            primary.rollout_state.as_str(),
            &s.failed_deployment,
        ) {
            (_, _, Some(why)) => (false, format!("the last deployment failed: {why}")),
            (true, _, None) => (
                false,
                format!(
                    "the PRIMARY deployment {} does not carry the desired configuration",
                    primary.id
                ),
            ),
            (false, "COMPLETED", None) => (
                true,
                format!("deployment {} COMPLETED; joined {arn}", primary.id),
            ),
            (false, state, None) => (
                false,
                format!("waiting for deployment {} ({state})", primary.id),
            ),
        }
    }

    /// In its service's cluster, an edge to the namespace document it joins.
    fn topology(_cx: &Context<'_>, _key: &Key, spec: &ServiceConnectBindingSpec) -> Topology {
        Topology {
            group: Some(format!(
                "cluster {}",
                crate::model::cluster_name(&spec.cluster)
            )),
            edges: spec
                .namespace_ref
                .iter()
                .map(|name| Edge {
                    kind: "binding",
                    account: None,
                    document: Some(format!("CloudMapNamespace/{name}")),
                    seen: None,
                })
                .collect(),
        }
    }

    fn facts(
        cx: &Context<'_>,
        key: &Key,
        seen: Seen<'_, ObservedBoundService>,
    ) -> BTreeMap<String, String> {
        let mut facts = BTreeMap::new();
        if let Some((spec, scope)) = document(cx, key)
            && let NamespaceState::Ready { arn, .. } = resolve_namespace(cx, spec, &scope)
        {
            facts.insert("namespaceArn".to_owned(), arn);
        }
        if let Some(s) = own(cx, key, seen) {
            facts.insert("serviceArn".to_owned(), s.arn.clone());
            if let Some(d) = &s.primary {
                facts.insert("deploymentId".to_owned(), d.id.clone());
                facts.insert("rolloutState".to_owned(), d.rollout_state.clone());
            }
        }
        facts
    }

    async fn act<'a, C: Cloud>(
        cloud: &'a C,
        change: Change<'a, Self>,
    ) -> Result<Applied<ObservedBoundService>, ErrorInfo> {
        let subject = change.subject;
        let now = cloud.apply_binding(change).await?;
        Ok(Applied::replacing::<Self>(subject, now))
    }

    fn sent_digest(verb: Verb, spec: &ServiceConnectBindingSpec) -> Option<String> {
        matches!(verb, Verb::Create | Verb::Update | Verb::Adopt).then(|| spec_digest(spec))
    }
}

/// The document of `key`, with its scope.
fn document<'c>(cx: &Context<'c>, key: &Key) -> Option<(&'c ServiceConnectBindingSpec, Scope)> {
    let d = cx.desired.documents.get(key)?;
    Some((Bindings::spec(&d.document)?, d.scope()))
}

/// The service this document claimed.
fn own<'o>(
    cx: &Context<'_>,
    key: &Key,
    seen: Seen<'o, ObservedBoundService>,
) -> Option<&'o ObservedBoundService> {
    seen.ours(cx.controller(), key).find(|s| s.is_live())
}

/// Where the binding's namespace stands, seen from the service's account (`scope`).
///
/// A `namespaceRef` waits for its `CloudMapNamespace` to exist; a namespace of another account
/// (by reference or ARN) waits until the service's account sees it shared (the visibility the
/// observation of that scope read), naming the `NamespaceShare` that shares it.
pub fn resolve_namespace(
    cx: &Context<'_>,
    spec: &ServiceConnectBindingSpec,
    scope: &Scope,
) -> NamespaceState {
    let visible = cx.observed.visible.get(scope);
    let seen_by_service = |arn: &str| visible.is_some_and(|v| v.contains(arn));
    if let Some(arn) = &spec.namespace_arn {
        let own_account = namespace_arn_parts(arn).is_some_and(|(_, a)| a == scope.account);
        if own_account {
            let name = cx
                .observed
                .namespaces
                .get(scope)
                .iter()
                .find(|n| n.arn == *arn)
                .map(|n| n.name.clone());
            return NamespaceState::Ready {
                arn: arn.clone(),
                name,
            };
        }
        return if seen_by_service(arn) {
            NamespaceState::Ready {
                arn: arn.clone(),
                name: None,
            }
        } else {
            NamespaceState::Waiting {
                reason: format!(
                    "waiting for account {} to see the namespace {arn} (shared with it through RAM)",
                    scope.account
                ),
                on: None,
            }
        };
    }
    let Some(reference) = &spec.namespace_ref else {
        return NamespaceState::Waiting {
            reason: "the document names no namespace".into(),
            on: None,
        };
    };
    let ns_key = Key::new(Kind::CloudMapNamespace, reference.clone());
    let Some(ns_doc) = cx.desired.documents.get(&ns_key) else {
        return NamespaceState::Waiting {
            reason: format!("waiting for {ns_key}, which is not in the desired set"),
            on: None,
        };
    };
    let Some(arn) = namespace_arn(cx, reference) else {
        return NamespaceState::Waiting {
            reason: format!("waiting for {ns_key} to exist"),
            on: Some(ns_key),
        };
    };
    if ns_doc.scope().account == scope.account {
        let name = match &ns_doc.document {
            Document::CloudMapNamespace(m) => Some(m.spec.name.clone()),
            _ => None,
        };
        return NamespaceState::Ready { arn, name };
    }
    if seen_by_service(&arn) {
        return NamespaceState::Ready { arn, name: None };
    }
    let share = sharing(cx.desired, reference, &scope.account);
    let reason = match &share {
        Some(k) => format!(
            "waiting for {k} to reach account {}: it does not see {arn} yet",
            scope.account
        ),
        None => format!(
            "no NamespaceShare shares {ns_key} with account {}",
            scope.account
        ),
    };
    NamespaceState::Waiting { reason, on: share }
}

/// The share document that shares the namespace document `reference` with `account`.
fn sharing(desired: &DesiredSet, reference: &str, account: &str) -> Option<Key> {
    desired
        .documents
        .iter()
        .find_map(|(k, d)| match &d.document {
            Document::NamespaceShare(m)
                if m.spec.namespace_ref == reference
                    && m.spec.principals.iter().any(|p| {
                        desired.principal_account(p).as_deref() == Some(account)
                            || p.starts_with("arn:")
                    }) =>
            {
                Some(k.clone())
            }
            _ => None,
        })
}

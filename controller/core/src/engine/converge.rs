//! Converging once: every document reconciled through the work queue until it is in sync,
//! blocked, or out of attempts.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::observe::{desired_principal_account, observe_visibility};
use super::planning::{desired_share, orphans, plan_key};
use super::{
    Cloud, DesiredSet, EndpointChange, ExpressChange, NamespaceChange, Observation, Scope,
    ShareChange, create_token,
};
use crate::config::PruneConfig;
use crate::model::{Document, ExpressServiceSpec, Key, Kind};
use crate::observed::{
    ObservedEndpoint, ObservedExpressService, ObservedNamespace, ObservedShare, Ownership,
    ownership,
};
use crate::plan::{DocumentPlan, PruneGate, Verb, desired_tags};
use crate::prune::prune_gate;
use crate::queue::{Action, RetryPolicy, WorkQueue, run};
use crate::status::{DocumentStatus, ErrorInfo};

/// How a key ended the pass.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyOutcome {
    /// The plan found when the key was first reconciled in this pass.
    pub first: DocumentPlan,
    /// The plan of the last reconcile.
    pub last: DocumentPlan,
    /// Whether the key converged: in sync (or retained) after acting.
    pub converged: bool,
    pub error: Option<ErrorInfo>,
    /// Reconciles of the key in this pass (waits included).
    pub attempts: u32,
    /// Failed reconciles in this pass.
    pub failures: u32,
    /// The changes carried out in this pass, in order.
    pub applied: Vec<Verb>,
    /// For an Express service: the digest of the spec sent to ECS in this pass.
    pub last_applied: Option<String>,
}

impl KeyOutcome {
    /// The plan that describes the pass: the first change carried out, else the first plan.
    pub fn headline(&self) -> Verb {
        self.applied.first().copied().unwrap_or(self.first.verb)
    }
}

/// The result of one converging pass.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    pub outcomes: BTreeMap<Key, KeyOutcome>,
    pub observation: Observation,
    /// Why pruning was held back, when it was.
    pub prune_held_back: Option<String>,
}

impl ApplyReport {
    pub fn failed(&self) -> impl Iterator<Item = (&Key, &KeyOutcome)> {
        self.outcomes.iter().filter(|(_, o)| !o.converged)
    }
}

/// Failed reconciles, and separately changes, a key gets in one pass before it is reported as
/// not converged.
const MAX_ATTEMPTS: u32 = 6;
/// How many times a key may wait (for its namespace, 100 ms apart) in one pass.
const MAX_WAITS: u32 = 3000;

struct Pass {
    observation: Observation,
    outcomes: BTreeMap<Key, KeyOutcome>,
    /// Keys that reached their end in this pass.
    done: BTreeSet<Key>,
}

/// Converges every document of `desired` (and prunes orphans the gate allows) starting from
/// `observation`, with at most `concurrency` reconciles at once.
pub async fn converge<C: Cloud>(
    cloud: Arc<C>,
    desired: Arc<DesiredSet>,
    observation: Observation,
    prune: &PruneConfig,
    concurrency: usize,
    retry: RetryPolicy,
) -> ApplyReport {
    let orphan_scopes = orphans(&desired, &observation);
    let gate = prune_gate(
        prune,
        desired.health,
        super::planning::deletable(&desired, &observation),
    );
    let mut keys: Vec<Key> = desired
        .documents
        .keys()
        .chain(orphan_scopes.keys())
        .cloned()
        .collect();
    keys.sort_by(Key::dependency_order);
    let total = keys.len();
    let pass = Arc::new(Mutex::new(Pass {
        observation,
        outcomes: BTreeMap::new(),
        done: BTreeSet::new(),
    }));
    let queue: WorkQueue<Key> = WorkQueue::new(retry);
    let finished = CancellationToken::new();
    for key in &keys {
        queue.add(key.clone());
    }
    if total > 0 {
        let worker = {
            let (cloud, desired, pass, finished) = (
                cloud.clone(),
                desired.clone(),
                pass.clone(),
                finished.clone(),
            );
            let (orphan_scopes, gate) = (Arc::new(orphan_scopes), Arc::new(gate.clone()));
            move |key: Key| {
                let (cloud, desired, pass, finished) = (
                    cloud.clone(),
                    desired.clone(),
                    pass.clone(),
                    finished.clone(),
                );
                let (orphan_scopes, gate) = (orphan_scopes.clone(), gate.clone());
                async move {
                    let action = reconcile(
                        &*cloud,
                        &desired,
                        &pass,
                        &key,
                        orphan_scopes.get(&key),
                        &gate,
                    )
                    .await;
                    let mut state = lock(&pass);
                    if matches!(action, Action::AwaitChange) {
                        state.done.insert(key);
                    }
                    if state.done.len() >= total {
                        finished.cancel();
                    }
                    action
                }
            }
        };
        let concurrency = NonZeroUsize::new(concurrency.max(1)).unwrap_or(NonZeroUsize::MIN);
        run(
            queue,
            concurrency,
            finished,
            Duration::from_secs(30),
            worker,
        )
        .await;
    }
    let mut state = match Arc::try_unwrap(pass) {
        Ok(m) => m.into_inner().unwrap_or_else(|e| e.into_inner()),
        Err(shared) => {
            let s = lock(&shared);
            Pass {
                observation: s.observation.clone(),
                outcomes: s.outcomes.clone(),
                done: s.done.clone(),
            }
        }
    };
    refresh_visibility(&*cloud, &desired, &mut state, concurrency).await;
    ApplyReport {
        outcomes: state.outcomes,
        observation: state.observation,
        prune_held_back: match gate {
            PruneGate::HeldBack(why) => Some(why),
            PruneGate::Allowed => None,
        },
    }
}

fn lock(pass: &Mutex<Pass>) -> std::sync::MutexGuard<'_, Pass> {
    pass.lock().unwrap_or_else(|e| e.into_inner())
}

/// One reconcile of one key: plan from the current state, act, record, say what next.
async fn reconcile<C: Cloud>(
    cloud: &C,
    desired: &DesiredSet,
    pass: &Mutex<Pass>,
    key: &Key,
    orphan_scope: Option<&Scope>,
    gate: &PruneGate,
) -> Action {
    let (planned, snapshot) = {
        let state = lock(pass);
        let planned = plan_key(desired, &state.observation, key, orphan_scope, gate);
        // Only a change needs its own copy of what it reads (an in-sync key needs none).
        let snapshot = match (&planned.scope, planned.plan.verb.changes_aws()) {
            (Some(scope), true) => Some(act_view(desired, &state.observation, key, scope)),
            _ => None,
        };
        (planned, snapshot)
    };
    let plan = planned.plan;
    let attempts = {
        let mut state = lock(pass);
        let outcome = state
            .outcomes
            .entry(key.clone())
            .or_insert_with(|| KeyOutcome {
                first: plan.clone(),
                last: plan.clone(),
                converged: false,
                error: None,
                attempts: 0,
                failures: 0,
                applied: Vec::new(),
                last_applied: None,
            });
        outcome.attempts += 1;
        outcome.last = plan.clone();
        outcome.attempts
    };
    let result = match (snapshot.as_ref(), planned.scope.as_ref()) {
        (Some(snapshot), Some(scope)) => act(cloud, desired, snapshot, key, &plan, scope)
            .await
            .map(Some),
        _ => Ok(None),
    };
    let mut state = lock(pass);
    let result = match (result, planned.scope.as_ref()) {
        (Ok(Some(applied)), Some(scope)) => {
            let sent = applied.sent_digest();
            applied.record(&mut state.observation, scope);
            if let Some(o) = state.outcomes.get_mut(key) {
                o.applied.push(plan.verb);
                if sent.is_some() {
                    o.last_applied = sent;
                }
            }
            Ok(())
        }
        (Ok(_), _) => Ok(()),
        (Err(e), _) => Err(e),
    };
    let outcome = state.outcomes.get_mut(key);
    match result {
        Err(error) => {
            let failures = outcome.map_or(MAX_ATTEMPTS, |o| {
                o.failures += 1;
                o.error = Some(error.clone());
                o.failures
            });
            let give_up = failures >= MAX_ATTEMPTS || !is_retryable(&error);
            if give_up {
                Action::await_change()
            } else {
                Action::retry(class_label(&error))
            }
        }
        Ok(()) if plan.verb.changes_aws() => {
            // Re-plan from what the change left behind: converged only when nothing is left.
            let changes = outcome.as_ref().map_or(0, |o| o.applied.len());
            if changes >= MAX_ATTEMPTS as usize {
                if let Some(o) = outcome {
                    o.error = Some(ErrorInfo {
                        class: "not_converged".into(),
                        message: format!(
                            "still differs after {changes} changes: {:?}",
                            plan.drifted_fields()
                        ),
                    });
                }
                Action::await_change()
            } else {
                Action::requeue(Duration::ZERO)
            }
        }
        Ok(()) => match plan.verb {
            Verb::Waiting => {
                let waiting_for = match desired.documents.get(key).map(|d| &d.document) {
                    Some(Document::NamespaceShare(m)) => Some(Key::new(
                        Kind::CloudMapNamespace,
                        m.spec.namespace_ref.clone(),
                    )),
                    _ => None,
                };
                let gone = waiting_for
                    .is_none_or(|k| state.done.contains(&k) || !desired.documents.contains_key(&k));
                if gone || attempts >= MAX_WAITS {
                    Action::await_change()
                } else {
                    Action::requeue(Duration::from_millis(100))
                }
            }
            verb => {
                if let Some(o) = outcome {
                    o.converged = matches!(verb, Verb::InSync | Verb::Retain);
                    o.error = None;
                }
                Action::await_change()
            }
        },
    }
}

pub(crate) fn is_retryable(error: &ErrorInfo) -> bool {
    matches!(
        error.class.as_str(),
        "throttling" | "transient" | "conflict" | "other"
    )
}

pub(crate) fn class_label(error: &ErrorInfo) -> &'static str {
    match error.class.as_str() {
        "throttling" => "throttling",
        "transient" => "transient",
        "conflict" => "conflict",
        _ => "other",
    }
}

/// The part of the observation [`act`] reads for `key` in `scope`, copied: that scope's objects
/// of the key's kind and, for a share, the namespaces of its namespace's scope. A change works on
/// this copy while the pass goes on; copying the whole observation instead would cost memory in
/// proportion to the topology times the number of changes in flight.
pub(crate) fn act_view(
    desired: &DesiredSet,
    observation: &Observation,
    key: &Key,
    scope: &Scope,
) -> Observation {
    fn copy<T: Clone>(
        from: &BTreeMap<Scope, Vec<T>>,
        to: &mut BTreeMap<Scope, Vec<T>>,
        at: &Scope,
    ) {
        if let Some(list) = from.get(at) {
            to.insert(at.clone(), list.clone());
        }
    }
    let mut part = Observation::default();
    match key.kind {
        Kind::CloudMapNamespace => copy(&observation.namespaces, &mut part.namespaces, scope),
        Kind::NamespaceShare => {
            copy(&observation.shares, &mut part.shares, scope);
            let namespace = desired.documents.get(key).and_then(|d| match &d.document {
                Document::NamespaceShare(m) => desired
                    .documents
                    .get(&Key::new(Kind::CloudMapNamespace, &m.spec.namespace_ref)),
                _ => None,
            });
            if let Some(ns) = namespace {
                let at = (ns.account.clone(), ns.document.region().to_owned());
                copy(&observation.namespaces, &mut part.namespaces, &at);
            }
        }
        Kind::VpcEndpointSet => {
            let spec = desired.documents.get(key).and_then(|d| match &d.document {
                Document::VpcEndpointSet(m) => Some(&m.spec),
                _ => None,
            });
            if let Some(list) = observation.endpoints.get(scope) {
                let read = list
                    .iter()
                    .filter(|e| endpoint_set_reads(spec, e, &desired.controller, key))
                    .cloned()
                    .collect();
                part.endpoints.insert(scope.clone(), read);
            }
        }
        Kind::ExpressService => copy(&observation.express, &mut part.express, scope),
    }
    part
}

/// The endpoints a change of an endpoint set works with: those of its VPC, or, for a removed
/// document, those tagged for it.
fn endpoint_set_reads(
    spec: Option<&crate::model::VpcEndpointSetSpec>,
    e: &ObservedEndpoint,
    controller: &str,
    key: &Key,
) -> bool {
    match spec {
        Some(spec) => e.vpc_id == spec.vpc_id,
        None => ownership(&e.tags, controller, key) == Ownership::Ours,
    }
}

/// What a change left behind, to record in the pass's observation.
pub(crate) enum Applied {
    Namespace {
        before: Option<String>,
        after: Option<ObservedNamespace>,
    },
    Share {
        before: Option<String>,
        after: Option<ObservedShare>,
    },
    Endpoints {
        key: Key,
        controller: String,
        after: Vec<ObservedEndpoint>,
    },
    Express {
        before: Option<String>,
        after: Option<Box<ObservedExpressService>>,
        /// The digest of the spec sent to ECS, for the failed-deployment rule.
        sent: Option<String>,
    },
}

impl Applied {
    pub(crate) fn sent_digest(&self) -> Option<String> {
        match self {
            Applied::Express { sent, .. } => sent.clone(),
            _ => None,
        }
    }

    pub(crate) fn record(self, observation: &mut Observation, scope: &Scope) {
        match self {
            Applied::Namespace { before, after } => {
                let list = observation.namespaces.entry(scope.clone()).or_default();
                list.retain(|n| {
                    Some(&n.id) != before.as_ref() && Some(&n.id) != after.as_ref().map(|a| &a.id)
                });
                list.extend(after);
            }
            Applied::Share { before, after } => {
                let list = observation.shares.entry(scope.clone()).or_default();
                list.retain(|s| {
                    Some(&s.arn) != before.as_ref()
                        && Some(&s.arn) != after.as_ref().map(|a| &a.arn)
                });
                list.extend(after);
            }
            Applied::Endpoints {
                key,
                controller,
                after,
            } => {
                let list = observation.endpoints.entry(scope.clone()).or_default();
                list.retain(|e| {
                    ownership(&e.tags, &controller, &key) != Ownership::Ours
                        && !after.iter().any(|a| a.id == e.id)
                });
                list.extend(after);
            }
            Applied::Express { before, after, .. } => {
                let list = observation.express.entry(scope.clone()).or_default();
                list.retain(|s| {
                    Some(&s.arn) != before.as_ref()
                        && Some(&s.arn) != after.as_ref().map(|a| &a.arn)
                });
                list.extend(after.map(|a| *a));
            }
        }
    }
}

/// Carries out a plan; returns what it left behind.
pub(crate) async fn act<C: Cloud>(
    cloud: &C,
    desired: &DesiredSet,
    observation: &Observation,
    key: &Key,
    plan: &DocumentPlan,
    scope: &Scope,
) -> Result<Applied, ErrorInfo> {
    let controller = desired.controller.as_str();
    let doc = desired.documents.get(key);
    let revision = doc.map_or("", |d| d.revision.as_str());
    let token = create_token(controller, key, revision);
    let policies = doc.map(|d| d.policies).unwrap_or_default();
    match key.kind {
        Kind::CloudMapNamespace => {
            let list = observation
                .namespaces
                .get(scope)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let spec = doc.and_then(|d| match &d.document {
                Document::CloudMapNamespace(m) => Some(&m.spec),
                _ => None,
            });
            let target = list
                .iter()
                .find(|ns| ownership(&ns.tags, controller, key) == Ownership::Ours)
                .or_else(|| spec.and_then(|s| list.iter().find(|ns| ns.name == s.name)));
            let tags = spec
                .map(|s| desired_tags(&s.tags, controller, key, &policies))
                .unwrap_or_default();
            let change = NamespaceChange {
                scope,
                plan,
                spec,
                tags,
                observed: target,
                token,
            };
            let after = cloud.apply_namespace(change).await?;
            Ok(Applied::Namespace {
                before: target.map(|t| t.id.clone()),
                after,
            })
        }
        Kind::NamespaceShare => {
            let list = observation
                .shares
                .get(scope)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let resolved = doc.and_then(|d| match &d.document {
                Document::NamespaceShare(m) => {
                    Some(desired_share(desired, observation, &m.spec, &d.policies))
                }
                _ => None,
            });
            let target = list
                .iter()
                .find(|s| ownership(&s.tags, controller, key) == Ownership::Ours)
                .or_else(|| list.iter().find(|s| s.name == key.name));
            let tags = resolved
                .as_ref()
                .map(|r| desired_tags(&r.spec.tags, controller, key, &policies))
                .unwrap_or_default();
            let change = ShareChange {
                scope,
                plan,
                desired: resolved.as_ref(),
                tags,
                observed: target,
                token,
            };
            let after = cloud.apply_share(change).await?;
            Ok(Applied::Share {
                before: target.map(|t| t.arn.clone()),
                after,
            })
        }
        Kind::VpcEndpointSet => {
            let list = observation
                .endpoints
                .get(scope)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let spec = doc.and_then(|d| match &d.document {
                Document::VpcEndpointSet(m) => Some(&m.spec),
                _ => None,
            });
            if let Some(spec) = spec {
                let problems = cloud.endpoint_preflight(scope, spec).await?;
                if !problems.is_empty() {
                    return Err(ErrorInfo {
                        class: "preflight".into(),
                        message: problems.join("; "),
                    });
                }
            }
            let observed: Vec<&ObservedEndpoint> = list
                .iter()
                .filter(|e| endpoint_set_reads(spec, e, controller, key))
                .collect();
            let tags = spec
                .map(|s| desired_tags(&s.tags, controller, key, &policies))
                .unwrap_or_default();
            let change = EndpointChange {
                scope,
                plan,
                spec,
                tags,
                observed,
                token,
            };
            let after = cloud.apply_endpoints(change).await?;
            Ok(Applied::Endpoints {
                key: key.clone(),
                controller: controller.to_owned(),
                after,
            })
        }
        Kind::ExpressService => {
            let list = observation
                .express
                .get(scope)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let spec = doc.and_then(|d| match &d.document {
                Document::ExpressService(m) => Some(&m.spec),
                _ => None,
            });
            let target = express_target(list, controller, key, spec);
            let tags = spec
                .map(|s| desired_tags(&s.tags, controller, key, &policies))
                .unwrap_or_default();
            let change = ExpressChange {
                scope,
                plan,
                spec,
                tags,
                observed: target,
                token,
            };
            let after = cloud.apply_express(change).await?;
            let sent = match (plan.verb, spec) {
                (Verb::Create | Verb::Update | Verb::Adopt, Some(spec)) => {
                    Some(crate::plan::spec_digest(spec))
                }
                _ => None,
            };
            Ok(Applied::Express {
                before: target.map(|t| t.arn.clone()),
                after: after.map(Box::new),
                sent,
            })
        }
    }
}

/// After acting, looks again from the consumer accounts of the shares that changed.
async fn refresh_visibility<C: Cloud>(
    cloud: &C,
    desired: &DesiredSet,
    state: &mut Pass,
    concurrency: usize,
) {
    let mut consumers = BTreeSet::new();
    for (key, outcome) in &state.outcomes {
        if key.kind != Kind::NamespaceShare || outcome.applied.is_empty() {
            continue;
        }
        if let Some(Document::NamespaceShare(m)) = desired.documents.get(key).map(|d| &d.document) {
            for p in &m.spec.principals {
                if let Some(id) = desired_principal_account(desired, p) {
                    consumers.insert((id, m.spec.region.clone()));
                }
            }
        }
    }
    if !consumers.is_empty() {
        observe_visibility(cloud, &consumers, concurrency, &mut state.observation).await;
    }
}

/// Status conditions for a key at the end of a pass.
pub fn status_of(
    desired: &DesiredSet,
    report: &ApplyReport,
    key: &Key,
    previous: Option<&DocumentStatus>,
    now: u64,
) -> DocumentStatus {
    let mut status = previous.cloned().unwrap_or_default();
    let Some(outcome) = report.outcomes.get(key) else {
        return status;
    };
    let revision = desired
        .documents
        .get(key)
        .map_or("", |d| d.revision.as_str());
    status.record_plan(&outcome.first, revision, now);
    if !outcome.applied.is_empty() {
        status.mark_changing();
    }
    let ready = readiness(desired, &report.observation, key);
    // Blocked or waiting without an error keeps the plan's reason in `Synced`.
    let result = match (&outcome.error, outcome.converged) {
        (Some(e), _) => Some(Err(e.clone())),
        (None, true) => Some(Ok(())),
        (None, false) => None,
    };
    status.record_outcome(result, ready, now);
    let digest = outcome
        .last_applied
        .clone()
        .or_else(|| status.aws.get("lastAppliedDigest").cloned());
    status.aws = aws_facts(desired, &report.observation, key);
    if let Some(digest) = digest {
        status.aws.insert("lastAppliedDigest".into(), digest);
    }
    status
}

/// Whether a document's object is usable: a namespace exists; a share's namespace is seen by
/// every principal account.
pub fn readiness(
    desired: &DesiredSet,
    observed: &Observation,
    key: &Key,
) -> Option<(bool, String)> {
    let d = desired.documents.get(key)?;
    let scope = (d.account.clone(), d.document.region().to_owned());
    match &d.document {
        Document::CloudMapNamespace(_) => {
            let ns = observed
                .namespaces
                .get(&scope)?
                .iter()
                .find(|ns| ownership(&ns.tags, &desired.controller, key) == Ownership::Ours);
            Some(match ns {
                Some(ns) => (true, format!("namespace {} ({})", ns.id, ns.arn)),
                None => (false, "the namespace does not exist".into()),
            })
        }
        Document::NamespaceShare(m) => {
            let Some(arn) =
                super::planning::namespace_arn(desired, observed, &m.spec.namespace_ref)
            else {
                return Some((false, "the namespace does not exist yet".into()));
            };
            let mut missing = Vec::new();
            let mut unknown = Vec::new();
            for p in &m.spec.principals {
                match desired_principal_account(desired, p) {
                    None => unknown.push(p.clone()),
                    Some(id) => match observed.visible.get(&(id.clone(), m.spec.region.clone())) {
                        Some(seen) if seen.contains(&arn) => {}
                        Some(_) => missing.push(id),
                        None => unknown.push(id),
                    },
                }
            }
            Some(if missing.is_empty() && unknown.is_empty() {
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
            })
        }
        Document::VpcEndpointSet(m) => {
            let ours: Vec<ObservedEndpoint> = observed
                .endpoints
                .get(&scope)?
                .iter()
                .filter(|e| ownership(&e.tags, &desired.controller, key) == Ownership::Ours)
                .cloned()
                .collect();
            Some(crate::plan::endpoints_ready(&m.spec, &ours))
        }
        Document::ExpressService(_) => {
            let service = observed
                .express
                .get(&scope)?
                .iter()
                .filter(|s| is_live(s))
                .find(|s| ownership(&s.tags, &desired.controller, key) == Ownership::Ours);
            Some(match service {
                Some(s) => crate::plan::express_ready(s),
                None => (false, "the service does not exist".into()),
            })
        }
    }
}

/// A service that is neither gone nor on its way out.
fn is_live(s: &ObservedExpressService) -> bool {
    s.status != "INACTIVE" && s.status != "DRAINING"
}

/// The cluster's name, whether written as a name or an ARN.
fn cluster_name(cluster: &str) -> &str {
    cluster.rsplit('/').next().unwrap_or(cluster)
}

/// The service an Express plan acts on: ours, else (for a delete of an orphan nothing else, for
/// an adopt) the live service of the document's cluster and name, as the plan identifies it.
fn express_target<'a>(
    list: &'a [ObservedExpressService],
    controller: &str,
    key: &Key,
    spec: Option<&ExpressServiceSpec>,
) -> Option<&'a ObservedExpressService> {
    list.iter()
        .filter(|s| is_live(s))
        .find(|s| ownership(&s.tags, controller, key) == Ownership::Ours)
        .or_else(|| {
            let spec = spec?;
            list.iter().filter(|s| is_live(s)).find(|s| {
                s.service_name == spec.service_name
                    && cluster_name(&s.cluster) == cluster_name(&spec.cluster)
            })
        })
}

/// What AWS calls a document's objects, and what AWS manages for them (read-only), for status.
pub fn aws_facts(
    desired: &DesiredSet,
    observed: &Observation,
    key: &Key,
) -> BTreeMap<String, String> {
    let mut facts = BTreeMap::new();
    let Some(d) = desired.documents.get(key) else {
        return facts;
    };
    let scope = (d.account.clone(), d.document.region().to_owned());
    let controller = desired.controller.as_str();
    let ours =
        |tags: &BTreeMap<String, String>| ownership(tags, controller, key) == Ownership::Ours;
    match &d.document {
        Document::CloudMapNamespace(_) => {
            if let Some(ns) = observed
                .namespaces
                .get(&scope)
                .and_then(|l| l.iter().find(|n| ours(&n.tags)))
            {
                facts.insert("id".into(), ns.id.clone());
                facts.insert("arn".into(), ns.arn.clone());
            }
        }
        Document::NamespaceShare(_) => {
            if let Some(share) = observed
                .shares
                .get(&scope)
                .and_then(|l| l.iter().find(|s| ours(&s.tags)))
            {
                facts.insert("arn".into(), share.arn.clone());
            }
        }
        Document::VpcEndpointSet(_) => {
            for e in observed
                .endpoints
                .get(&scope)
                .into_iter()
                .flatten()
                .filter(|e| ours(&e.tags))
            {
                facts.insert(
                    format!("endpoint.{}", e.service_name),
                    format!("{} ({})", e.id, e.state),
                );
            }
        }
        Document::ExpressService(_) => {
            if let Some(s) = observed
                .express
                .get(&scope)
                .and_then(|l| l.iter().filter(|s| is_live(s)).find(|s| ours(&s.tags)))
            {
                facts.insert("arn".into(), s.arn.clone());
                for (kind, value) in &s.managed {
                    facts.insert(format!("managed.{kind}"), value.clone());
                }
            }
        }
    }
    facts
}

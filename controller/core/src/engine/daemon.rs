//! The long-running controller: observe every poll, reconcile on change and on resync, act only
//! while leading.
//!
//! # Guarantees
//! - Each (account, region, kind) is observed once per poll, in batches; after each pass every
//!   document (and every orphan) is reconciled against it, so drift is corrected within a poll.
//! - A reconcile re-plans from the current desired snapshot and observation; it is never told why
//!   it ran. Only while `leading` is true does it change AWS; otherwise it observes and reports.
//! - Status is sent to the status writer only when it changed.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::converge::{Applied, act, act_view, class_label, is_retryable, readiness};
use super::planning::{deletable, orphans, plan_key};
use super::{Cloud, DesiredSet, Observation, Scope, observe};
use crate::config::ControllerConfig;
use crate::model::{Key, Kind};
use crate::plan::{DocumentPlan, PruneGate, Verb};
use crate::prune::prune_gate;
use crate::queue::{Action, QueueObserver, RetryPolicy, WorkQueue, run};
use crate::status::{DocumentStatus, ErrorInfo};
use crate::status_store::StatusRecord;
use crate::store::DesiredReader;

/// A change for the status store.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusChange {
    /// A document's status changed: store it.
    Saved(StatusRecord),
    /// A removed document's object is gone: forget its status.
    Removed(Key),
}

/// What the daemon reports as it goes (metrics); every method has an empty default.
pub trait DaemonObserver: Send + Sync + 'static {
    /// A pass of observation finished; `gate` is the prune decision for it.
    fn observed(&self, _observation: &Observation, _gate: &PruneGate, _took: Duration) {}
    /// A reconcile finished: its plan (before acting) and how it ended.
    fn reconciled(
        &self,
        _kind: Kind,
        _account: &str,
        _plan: &DocumentPlan,
        _result: &str,
        _took: Duration,
    ) {
    }
}

/// A daemon observer that reports nothing.
#[derive(Debug, Default)]
pub struct Silent;
impl DaemonObserver for Silent {}

/// The observation every reconcile plans against, with the prune decision of its pass.
#[derive(Debug, Clone, Default)]
pub struct PassView {
    pub observation: Observation,
    pub orphans: BTreeMap<Key, Scope>,
    pub gate: Option<PruneGate>,
    /// The desired snapshot this pass observed for.
    pub desired: Option<Arc<DesiredSet>>,
}

/// Shared state of a running controller.
pub struct Daemon<C: Cloud> {
    pub cloud: Arc<C>,
    pub config: ControllerConfig,
    pub desired: DesiredReader,
    pub queue: WorkQueue<Key>,
    /// The latest observation; replaced whole by each pass, patched by each change.
    pub view: Arc<RwLock<PassView>>,
    /// Every document's status, as last computed.
    pub statuses: Arc<RwLock<BTreeMap<Key, StatusRecord>>>,
    pub leading: watch::Receiver<bool>,
    pub status_changes: mpsc::UnboundedSender<StatusChange>,
    pub observer: Arc<dyn DaemonObserver>,
}

impl<C: Cloud> std::fmt::Debug for Daemon<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("config", &self.config.name)
            .finish_non_exhaustive()
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl<C: Cloud> Daemon<C> {
    /// A queue with the default retry policy, reporting to `queue_observer`.
    pub fn queue(queue_observer: Arc<dyn QueueObserver>) -> WorkQueue<Key> {
        WorkQueue::with_observer(RetryPolicy::default(), queue_observer)
    }

    /// Observes every poll interval until `shutdown`; after each pass enqueues every key.
    pub async fn observe_loop(
        self: Arc<Self>,
        shutdown: CancellationToken,
        heartbeat: impl Fn() + Send + Sync,
    ) {
        let mut desired_reader = self.desired.clone();
        let Some(_) = (tokio::select! {
            ready = desired_reader.wait_ready() => ready,
            () = shutdown.cancelled() => None,
        }) else {
            return;
        };
        let poll = self.config.poll_interval.0;
        loop {
            heartbeat();
            self.observe_once().await;
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }

    /// One observation pass: replaces the view and enqueues every document and orphan.
    pub async fn observe_once(&self) {
        let Some(desired) = self.desired.snapshot().set else {
            return;
        };
        let started = tokio::time::Instant::now();
        let mut extra: BTreeMap<Scope, std::collections::BTreeSet<Kind>> = BTreeMap::new();
        for record in read(&self.statuses).values() {
            extra
                .entry(record.scope())
                .or_default()
                .insert(record.key.kind);
        }
        let observation = observe(&*self.cloud, &desired, &extra, self.config.concurrency).await;
        let orphans = orphans(&desired, &observation);
        let gate = prune_gate(
            &self.config.prune,
            desired.health,
            deletable(&desired, &observation),
        );
        self.observer
            .observed(&observation, &gate, started.elapsed());
        let keys: Vec<Key> = desired
            .documents
            .keys()
            .chain(orphans.keys())
            .cloned()
            .collect();
        *write(&self.view) = PassView {
            observation,
            orphans,
            gate: Some(gate),
            desired: Some(desired),
        };
        for key in keys {
            self.queue.add(key);
        }
    }

    /// Runs the reconcile workers until `shutdown`, then drains within `grace`.
    pub async fn run_workers(self: Arc<Self>, shutdown: CancellationToken, grace: Duration) {
        let concurrency =
            NonZeroUsize::new(self.config.concurrency.max(1)).unwrap_or(NonZeroUsize::MIN);
        let me = self.clone();
        run(
            self.queue.clone(),
            concurrency,
            shutdown,
            grace,
            move |key: Key| {
                let me = me.clone();
                async move { me.reconcile(&key).await }
            },
        )
        .await;
    }

    /// One reconcile of one key.
    pub async fn reconcile(&self, key: &Key) -> Action {
        let started = tokio::time::Instant::now();
        let resync = self.config.resync_interval.0;
        let Some(desired) = self.desired.snapshot().set else {
            return Action::requeue(Duration::from_secs(1));
        };
        let leading = *self.leading.borrow();
        let (planned, snapshot) = {
            let view = read(&self.view);
            let Some(gate) = view.gate.clone() else {
                // Not observed yet: the first pass enqueues every key.
                return Action::await_change();
            };
            let planned = plan_key(
                &desired,
                &view.observation,
                key,
                view.orphans.get(key),
                &gate,
            );
            // Only a change needs its own copy of what it reads (an in-sync pass needs none).
            let acting = leading && planned.plan.verb.changes_aws();
            let snapshot = match (&planned.scope, acting) {
                (Some(scope), true) => Some(act_view(&desired, &view.observation, key, scope)),
                _ => None,
            };
            (planned, snapshot)
        };
        let plan = planned.plan;
        let Some(scope) = planned.scope.clone() else {
            // Neither a document nor an object seen in the last pass (a removed document whose
            // object the next pass will find). Its status record stays: it says where to look.
            return Action::await_change();
        };
        let acted = match &snapshot {
            Some(snapshot) => Some(act(&*self.cloud, &desired, snapshot, key, &plan, &scope).await),
            None => None,
        };
        let mut sent = None;
        let result: Option<Result<(), ErrorInfo>> = match acted {
            Some(Ok(applied)) => {
                sent = applied.sent_digest();
                let mut view = write(&self.view);
                applied_record(&mut view.observation, applied, &scope);
                Some(Ok(()))
            }
            Some(Err(e)) => Some(Err(e)),
            None if plan.verb.changes_aws() => None,
            None => Some(Ok(())),
        };
        let label = match (&result, plan.verb) {
            (Some(Err(e)), _) => class_label(e),
            (_, Verb::InSync | Verb::Retain) => "in_sync",
            (Some(Ok(())), v) if v.changes_aws() => "changed",
            (_, Verb::Blocked) => "blocked",
            (_, Verb::Waiting) => "waiting",
            (_, Verb::Suspended) => "suspended",
            _ => "observed",
        };
        self.record_status(key, &desired, &plan, &scope, result.clone(), sent);
        self.observer
            .reconciled(key.kind, &scope.0, &plan, label, started.elapsed());
        match result {
            Some(Err(e)) if is_retryable(&e) => Action::retry(class_label(&e)),
            Some(Err(_)) => Action::requeue(resync),
            // Acted: re-plan at once from what the change left behind.
            Some(Ok(())) if plan.verb.changes_aws() => Action::requeue(Duration::ZERO),
            _ if plan.verb == Verb::Waiting => Action::requeue(Duration::from_secs(2).min(resync)),
            _ => Action::requeue(resync),
        }
    }

    /// Forgets a document whose object is gone, here and in the status store.
    fn forget(&self, key: &Key) {
        if write(&self.statuses).remove(key).is_some() {
            let _ = self.status_changes.send(StatusChange::Removed(key.clone()));
        }
    }

    fn record_status(
        &self,
        key: &Key,
        desired: &DesiredSet,
        plan: &DocumentPlan,
        scope: &Scope,
        result: Option<Result<(), ErrorInfo>>,
        sent: Option<String>,
    ) {
        let now = now_secs();
        let Some(doc) = desired.documents.get(key) else {
            // An orphan: once deleted it is forgotten.
            if plan.verb == Verb::Delete && matches!(result, Some(Ok(()))) {
                self.forget(key);
            }
            return;
        };
        let mut statuses = write(&self.statuses);
        let previous = statuses.get(key).cloned();
        let mut status: DocumentStatus = previous
            .as_ref()
            .map(|r| r.status.clone())
            .unwrap_or_default();
        status.record_plan(plan, &doc.revision, now);
        let ready = {
            let view = read(&self.view);
            readiness(desired, &view.observation, key)
        };
        status.record_outcome(result, ready, now);
        let digest = sent.or_else(|| status.aws.get("lastAppliedDigest").cloned());
        status.aws = {
            let view = read(&self.view);
            super::converge::aws_facts(desired, &view.observation, key)
        };
        if let Some(digest) = digest {
            status.aws.insert("lastAppliedDigest".into(), digest);
        }
        let record = StatusRecord {
            key: key.clone(),
            account: scope.0.clone(),
            region: scope.1.clone(),
            status,
        };
        if previous.as_ref() != Some(&record) {
            statuses.insert(key.clone(), record.clone());
            let _ = self.status_changes.send(StatusChange::Saved(record));
        }
    }
}

fn applied_record(observation: &mut Observation, applied: Applied, scope: &Scope) {
    applied.record(observation, scope);
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

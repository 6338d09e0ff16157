//! The long-running controller: observe every poll, reconcile on change and on resync, act only
//! while leading.
//!
//! # Guarantees
//! - Each (account, region, kind) is observed once per poll, in batches; after each pass every
//!   document (and every orphan) is reconciled against it, so drift is corrected within a poll.
//! - A reconcile re-plans from the current desired snapshot and observation; it is never told why
//!   it ran. Only while leading does it change AWS, within the leadership term it began in: when
//!   the term ends the change is cut off (see [`Term`](super::Term)); a follower observes and
//!   reports.
//! - Status is sent to the status writer only when it changed.
//! - `apply --once` ([`Daemon::converge_once`]) runs this same reconcile until every key is quiet.

use crate::engine::Registered;
use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::planning::{orphans, owned};
use super::reconcile::Outcome;
use super::{DesiredSet, Leadership, Observation, Scope, Search, observe};
use crate::config::ControllerConfig;
use crate::kinds::Cloud;
use crate::kinds::for_kind;
use crate::model::{Key, Kind};
use crate::plan::{DocumentPlan, PruneGate, Verb};
use crate::prune::{DeletionBudget, prune_gate};
use crate::queue::{Action, QueueObserver, RetryPolicy, WorkQueue, run};
use crate::status::ErrorClass;
use crate::status_store::StatusRecord;
use crate::store::DesiredReader;

/// A change for the status store.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusChange {
    /// A document's status changed: store it.
    Saved(Arc<StatusRecord>),
    /// A removed document's object is gone: forget its status.
    Removed(Key),
}

/// How a reconcile ended, as a bounded metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcileResult {
    /// AWS matches the document (or a removed document's object is retained).
    InSync,
    /// A change was carried out.
    Changed,
    Blocked,
    Waiting,
    Suspended,
    /// A change was planned but left to the leader.
    Observed,
    /// Failed with this class.
    Failed(ErrorClass),
}

impl ReconcileResult {
    /// Every result that is not a failure.
    pub const OK: [ReconcileResult; 6] = [
        ReconcileResult::InSync,
        ReconcileResult::Changed,
        ReconcileResult::Blocked,
        ReconcileResult::Waiting,
        ReconcileResult::Suspended,
        ReconcileResult::Observed,
    ];

    /// Every label value a reconcile can produce: [`Self::OK`] and each error class.
    pub fn all() -> impl Iterator<Item = ReconcileResult> {
        Self::OK
            .into_iter()
            .chain(ErrorClass::ALL.into_iter().map(ReconcileResult::Failed))
    }

    /// The metric label: `in_sync`, `changed`, `blocked`, `waiting`, `suspended`, `observed`,
    /// or the error class.
    pub fn as_str(self) -> &'static str {
        match self {
            ReconcileResult::InSync => "in_sync",
            ReconcileResult::Changed => "changed",
            ReconcileResult::Blocked => "blocked",
            ReconcileResult::Waiting => "waiting",
            ReconcileResult::Suspended => "suspended",
            ReconcileResult::Observed => "observed",
            ReconcileResult::Failed(class) => class.as_str(),
        }
    }

    /// The result of a reconcile that planned `verb` and ended with `outcome`.
    pub(crate) fn of(verb: Verb, outcome: &Outcome) -> ReconcileResult {
        match (outcome, verb) {
            (Outcome::Failed(e), _) => ReconcileResult::Failed(e.class),
            (Outcome::Changed, _) => ReconcileResult::Changed,
            (_, Verb::InSync | Verb::Retain) => ReconcileResult::InSync,
            (_, Verb::Blocked) => ReconcileResult::Blocked,
            (_, Verb::Waiting) => ReconcileResult::Waiting,
            (_, Verb::Suspended) => ReconcileResult::Suspended,
            _ => ReconcileResult::Observed,
        }
    }
}

/// What the daemon reports as it goes (metrics); every method has an empty default.
pub trait DaemonObserver: Send + Sync + 'static {
    /// A pass of observation finished; `gate` is the prune decision for it.
    fn observed(&self, _observation: &Observation, _gate: &PruneGate, _took: Duration) {}
    /// A removed document's object was not deleted: the hourly deletion budget is used up.
    fn deletion_held_back(&self, _kind: Kind, _why: &str) {}
    /// A reconcile finished: its plan (before acting) and how it ended.
    fn reconciled(
        &self,
        _kind: Kind,
        _account: &str,
        _plan: &DocumentPlan,
        _result: ReconcileResult,
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
    /// When the last sweep (every configured account and region) began.
    pub swept_at: Option<tokio::time::Instant>,
    /// Scopes and kinds observed again on change events since the last pass began, and when:
    /// a pass that began earlier keeps these fresher objects.
    pub fresher: BTreeMap<(Scope, Kind), tokio::time::Instant>,
    /// What reconciles changed lately, to apply again to a look that may have read AWS before
    /// the change was done: see [`Replays`].
    pub changes: Replays,
    /// When the pass that read this view began: a look on an event that began earlier is older
    /// than what it read.
    pub began: Option<tokio::time::Instant>,
}

/// The changes reconciles made lately, each as the patch of the view it made and when it was
/// done. A pass (or a look on an event) that began before a change may have read its scope
/// before it; the patches done after the look began are applied again to what it read, so that
/// no plan works from a view older than a change (which would create again what was just
/// created). Only the changed objects are kept, and only for as long as a pass may take.
#[derive(Clone, Default)]
pub struct Replays(Vec<(tokio::time::Instant, ReplayPatch)>);

/// A change's patch of the view, which can be applied again.
pub type ReplayPatch = Arc<dyn Fn(&mut Observation) + Send + Sync>;

impl std::fmt::Debug for Replays {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Replays({} changes)", self.0.len())
    }
}

impl Replays {
    /// Records a change done `at`.
    pub fn push(&mut self, at: tokio::time::Instant, patch: ReplayPatch) {
        self.0.push((at, patch));
    }

    /// Applies to `observation` the changes done after `began`.
    pub fn apply_since(&self, began: tokio::time::Instant, observation: &mut Observation) {
        for (_, patch) in self.0.iter().filter(|(at, _)| *at > began) {
            patch(observation);
        }
    }

    /// Forgets the changes done before `before` (no look in flight began earlier).
    pub fn forget_before(&mut self, before: tokio::time::Instant) {
        self.0.retain(|(at, _)| *at >= before);
    }
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
    /// Each document's status record, shared (not copied) with what reads them all, such as the
    /// `/status` page.
    pub statuses: Arc<RwLock<BTreeMap<Key, Arc<StatusRecord>>>>,
    /// Whether this replica leads, in which term: only the leader changes AWS.
    pub leadership: Leadership,
    pub status_changes: mpsc::UnboundedSender<StatusChange>,
    pub observer: Arc<dyn DaemonObserver>,
    /// Deletions of removed documents' objects in the last hour (`prune.maxDeletionsPerHour`).
    pub deletions: DeletionBudget,
}

impl<C: Cloud> std::fmt::Debug for Daemon<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("config", &self.config.name)
            .finish_non_exhaustive()
    }
}

impl<C: Cloud> Daemon<C> {
    /// A queue with the default retry policy, reporting to `queue_observer`.
    pub fn queue(queue_observer: Arc<dyn QueueObserver>) -> WorkQueue<Key> {
        WorkQueue::with_observer(RetryPolicy::default(), queue_observer)
    }

    /// Observes every poll interval until `shutdown`; after each pass enqueues every key.
    ///
    /// A pass longer than `timeouts.observation` is abandoned (it has changed nothing yet) and
    /// logged, and the next one starts a poll later; `heartbeat` beats after each pass that
    /// completed. Shutdown ends a pass in flight at once.
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
        let limit = self.config.timeouts.observation.0;
        loop {
            tokio::select! {
                pass = tokio::time::timeout(limit, self.observe_once()) => match pass {
                    Ok(_) => heartbeat(),
                    Err(_) => tracing::warn!(
                        limit = ?limit,
                        "observation pass timed out; the next poll observes again"
                    ),
                },
                () = shutdown.cancelled() => return,
            }
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }

    /// One observation pass: replaces the view and enqueues every document and orphan. Returns
    /// the keys enqueued (none before the desired store is ready).
    pub async fn observe_once(&self) -> Vec<Key> {
        let Some(desired) = self.desired.snapshot().set else {
            return Vec::new();
        };
        let started = tokio::time::Instant::now();
        // Where objects of removed documents may live: wherever a document of that kind was
        // reconciled before (the status records say) or the last pass found one; and every
        // `prune.sweepInterval` (and on the first pass), every configured account and region.
        let (swept_at, last_orphans) = {
            let view = read(&self.view);
            (view.swept_at, view.orphans.clone())
        };
        let sweep = swept_at.is_none_or(|at| started >= at + self.config.prune.sweep_interval.0);
        let search = Search::new(
            &desired,
            &self.config.regions,
            read(&self.statuses)
                .values()
                .map(|r| (r.scope(), r.key.kind))
                .collect::<Vec<_>>(),
            last_orphans.iter().map(|(key, scope)| (scope, key.kind)),
            sweep,
        );
        let mut observation =
            observe(&*self.cloud, &desired, &search, self.config.concurrency).await;
        // From here to the swap, under the lock that swaps the view: a look on an event or a
        // change that finished after this copied from the view would otherwise be lost with it.
        let mut view = write(&self.view);
        // What change events had observed again meanwhile is fresher than this pass, and what
        // reconciles changed meanwhile may be missing from what it read.
        let targeted = keep_fresher(&view, &mut observation, started);
        view.changes.apply_since(started, &mut observation);
        let orphans = orphans(&desired, &observation);
        let gate = prune_gate(
            &self.config.prune,
            desired.health,
            owned(&desired, &observation),
        );
        self.observer
            .observed(&observation, &gate, started.elapsed());
        let mut keys: Vec<Key> = desired
            .documents
            .keys()
            .chain(orphans.keys())
            .cloned()
            .collect();
        keys.sort_by(Key::dependency_order);
        // A moved document's key is both a document and an orphan.
        keys.dedup();
        let mut changes = std::mem::take(&mut view.changes);
        // A look in flight began at most one pass limit ago.
        changes.forget_before(
            tokio::time::Instant::now()
                .checked_sub(self.config.timeouts.observation.0)
                .unwrap_or(started),
        );
        *view = PassView {
            observation,
            orphans,
            gate: Some(gate),
            desired: Some(desired),
            swept_at: if sweep { Some(started) } else { swept_at },
            fresher: targeted,
            changes,
            began: Some(started),
        };
        drop(view);
        // A key waiting out a failure backoff keeps its retry time: a pass is no change.
        for key in &keys {
            self.queue.resync(key.clone());
        }
        keys
    }

    /// Runs the reconcile workers until `shutdown`, then drains within `grace`.
    pub async fn run_workers(self: Arc<Self>, shutdown: CancellationToken, grace: Duration) {
        let concurrency =
            NonZeroUsize::new(self.config.concurrency.max(1)).unwrap_or(NonZeroUsize::MIN);
        let me = self.clone();
        let resync = self.config.resync_interval.0;
        let poll = self.config.poll_interval.0;
        run(
            self.queue.clone(),
            concurrency,
            shutdown,
            grace,
            move |key: Key| {
                let me = me.clone();
                async move {
                    let done = me.reconcile(&key).await;
                    match (&done.outcome, done.plan.verb) {
                        (Outcome::NotReady, _) => Action::requeue(Duration::from_secs(1)),
                        // Neither a document nor an object seen in the last pass (a removed
                        // document whose object the next pass will find), or nothing
                        // observed yet (the first pass enqueues every key).
                        (Outcome::Unknown, _) => Action::await_change(),
                        (Outcome::Failed(e), _) if e.class.backs_off() => {
                            Action::retry(e.class.as_str())
                        }
                        // It will not pass by itself: retried no more often than polled, then
                        // less and less often; a change of the document retries it at once.
                        (Outcome::Failed(e), _) => Action::retry_slowly(e.class.as_str(), poll),
                        // Acted: re-plan at once from what the change left behind.
                        (Outcome::Changed, _) => Action::requeue(Duration::ZERO),
                        (_, Verb::Waiting) => Action::requeue(Duration::from_secs(2).min(resync)),
                        _ => Action::requeue(resync),
                    }
                }
            },
        )
        .await;
    }
}

pub(crate) fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

/// Copies into `observation` what change events observed again after `started` (fresher than
/// the pass that began then) from `view`; returns those targets.
fn keep_fresher(
    view: &PassView,
    observation: &mut Observation,
    started: tokio::time::Instant,
) -> BTreeMap<(Scope, Kind), tokio::time::Instant> {
    let fresher: BTreeMap<(Scope, Kind), tokio::time::Instant> = view
        .fresher
        .iter()
        .filter(|(_, at)| **at > started)
        .map(|(target, at)| (target.clone(), *at))
        .collect();
    for (scope, kind) in fresher.keys() {
        for_kind!(*kind, R => {
            let objects = R::objects(&view.observation).get(scope).to_vec();
            R::objects_mut(observation).replace(scope.clone(), objects);
        });
        if let Some(e) = view.observation.failure(scope, *kind) {
            observation.failed.insert((scope.clone(), *kind), e.clone());
        } else {
            observation.failed.remove(&(scope.clone(), *kind));
        }
    }
    fresher
}

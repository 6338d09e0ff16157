//! `apply --once`: the daemon's reconcile, run until every key is quiet.
//!
//! # Guarantees
//! - Every key is reconciled by [`Daemon::reconcile`], the daemon's own: plans, changes, status
//!   and metrics come from the same code in both modes.
//! - A key is quiet when its last reconcile changed nothing: in sync, retained, blocked,
//!   suspended, waiting for a document that is done or absent (or for too long), failed with a
//!   class that does not back off, or out of attempts.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Daemon;
use super::daemon::read;
use super::reconcile::{ONCE_WAIT, Outcome};
use super::resource::Resource;
use crate::kinds::{Cloud, for_kind};
use crate::model::{Key, Kind};
use crate::plan::{DocumentPlan, PruneGate, Verb};
use crate::queue::{Action, run};
use crate::status::{ErrorClass, ErrorInfo};

/// Failed reconciles, and separately changes, a key gets before it is reported as not
/// converged.
const MAX_ATTEMPTS: u32 = 6;
/// How many times a key may wait (for its namespace, [`ONCE_WAIT`] apart).
const MAX_WAITS: u32 = 3000;

/// How a key ended the run.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyOutcome {
    /// The plan found when the key was first reconciled.
    pub first: DocumentPlan,
    /// The plan of the last reconcile.
    pub last: DocumentPlan,
    /// Whether the key converged: in sync (or retained) after acting.
    pub converged: bool,
    pub error: Option<ErrorInfo>,
    /// Reconciles of the key (waits included).
    pub attempts: u32,
    /// Failed reconciles.
    pub failures: u32,
    /// The changes carried out, in order.
    pub applied: Vec<Verb>,
}

impl KeyOutcome {
    /// The plan that describes the run: the first change carried out, else the first plan.
    pub fn headline(&self) -> Verb {
        self.applied.first().copied().unwrap_or(self.first.verb)
    }
}

/// The result of one converging run.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    pub outcomes: BTreeMap<Key, KeyOutcome>,
    /// Why pruning was held back, when it was.
    pub prune_held_back: Option<String>,
}

impl ApplyReport {
    pub fn failed(&self) -> impl Iterator<Item = (&Key, &KeyOutcome)> {
        self.outcomes.iter().filter(|(_, o)| !o.converged)
    }
}

#[derive(Default)]
struct Tally {
    outcomes: BTreeMap<Key, KeyOutcome>,
    /// Keys that are quiet.
    done: BTreeSet<Key>,
}

impl<C: Cloud> Daemon<C> {
    /// Observes once, reconciles every document and orphan until each is quiet, looks again
    /// where changes call for it (what consumers of changed shares see), and brings readiness in
    /// status up to date. The desired store must be ready.
    pub async fn converge_once(self: &Arc<Self>) -> ApplyReport {
        let keys = self.observe_once().await;
        let total = keys.len();
        let tally = Arc::new(Mutex::new(Tally::default()));
        if total > 0 {
            let finished = CancellationToken::new();
            let worker = {
                let (me, tally, finished) = (self.clone(), tally.clone(), finished.clone());
                move |key: Key| {
                    let (me, tally, finished) = (me.clone(), tally.clone(), finished.clone());
                    async move {
                        let done = me.reconcile(&key).await;
                        // What the key waits for is no document (any more): nothing to wait for.
                        let absent = done.plan.waiting_for.as_ref().is_none_or(|k| {
                            me.desired
                                .snapshot()
                                .set
                                .is_none_or(|set| !set.documents.contains_key(k))
                        });
                        let mut t = lock(&tally);
                        let action = t.settle(&key, done.plan, done.outcome, absent);
                        if matches!(action, Action::AwaitChange) {
                            t.done.insert(key);
                        }
                        if t.done.len() >= total {
                            finished.cancel();
                        }
                        action
                    }
                }
            };
            let concurrency =
                NonZeroUsize::new(self.config.concurrency.max(1)).unwrap_or(NonZeroUsize::MIN);
            run(
                self.queue.clone(),
                concurrency,
                finished,
                Duration::from_secs(30),
                worker,
            )
            .await;
        }
        let outcomes = std::mem::take(&mut lock(&tally).outcomes);
        self.look_again(&outcomes).await;
        for key in outcomes.keys() {
            self.refresh_readiness(key);
        }
        let prune_held_back = match read(&self.view).gate.clone() {
            Some(PruneGate::HeldBack(why)) => Some(why),
            _ => None,
        };
        ApplyReport {
            outcomes,
            prune_held_back,
        }
    }

    /// Lets each kind look again after its changes (for status).
    async fn look_again(&self, outcomes: &BTreeMap<Key, KeyOutcome>) {
        let Some(desired) = self.desired.snapshot().set else {
            return;
        };
        let concurrency = self.config.concurrency;
        for kind in Kind::ALL {
            let changed: Vec<Key> = outcomes
                .iter()
                .filter(|(k, o)| k.kind == kind && !o.applied.is_empty())
                .map(|(k, _)| k.clone())
                .collect();
            if changed.is_empty() {
                continue;
            }
            let patch = for_kind!(kind, R => R::after_changes(&*self.cloud, &desired, &changed, concurrency).await);
            if let Some(patch) = patch {
                patch(&mut super::daemon::write(&self.view).observation);
            }
        }
    }
}

fn lock(tally: &Mutex<Tally>) -> std::sync::MutexGuard<'_, Tally> {
    tally.lock().unwrap_or_else(|e| e.into_inner())
}

impl Tally {
    /// Records a reconcile of `key`; says whether to run it again.
    fn settle(&mut self, key: &Key, plan: DocumentPlan, outcome: Outcome, absent: bool) -> Action {
        let waited_done = plan
            .waiting_for
            .as_ref()
            .is_some_and(|k| self.done.contains(k));
        let o = self
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
            });
        o.attempts += 1;
        o.last = plan;
        match outcome {
            Outcome::NotReady => Action::requeue(ONCE_WAIT),
            Outcome::Failed(error) => {
                o.failures += 1;
                let give_up = o.failures >= MAX_ATTEMPTS || !error.class.backs_off();
                let class = error.class;
                o.error = Some(error);
                if give_up {
                    Action::await_change()
                } else {
                    Action::retry(class.as_str())
                }
            }
            Outcome::Changed => {
                // Re-plan from what the change left behind: converged only when nothing is left.
                o.applied.push(o.last.verb);
                if o.applied.len() >= MAX_ATTEMPTS as usize {
                    o.error = Some(ErrorInfo::new(
                        ErrorClass::NotConverged,
                        format!(
                            "still differs after {} changes: {:?}",
                            o.applied.len(),
                            o.last.drifted_fields()
                        ),
                    ));
                    Action::await_change()
                } else {
                    Action::requeue(Duration::ZERO)
                }
            }
            Outcome::Planned | Outcome::Unknown if o.last.verb == Verb::Waiting => {
                if absent || waited_done || o.attempts >= MAX_WAITS {
                    Action::await_change()
                } else {
                    Action::requeue(ONCE_WAIT)
                }
            }
            Outcome::Planned | Outcome::Unknown => {
                o.converged = matches!(o.last.verb, Verb::InSync | Verb::Retain);
                o.error = None;
                Action::await_change()
            }
        }
    }
}

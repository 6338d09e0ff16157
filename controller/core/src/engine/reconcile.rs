//! The one reconcile: plan a key from the current desired snapshot and observation, carry out
//! the typed change while leading, record what it left behind, and write status. The daemon's
//! workers and `apply --once` both run it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::daemon::{ReconcileResult, StatusChange, read, write};
use super::planning::{plan_as, scope_of};
use super::resource::{Change, Context, Plan, Resource};
use super::{Daemon, DesiredSet, Observation, Scope, create_token};
use crate::kinds::{Cloud, for_kind};
use crate::model::Key;
use crate::plan::{DocumentPlan, Verb, desired_tags};
use crate::status::{DocumentStatus, ErrorInfo};
use crate::status_store::StatusRecord;

/// How a reconcile ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The desired store is not ready yet (before every source loaded once).
    NotReady,
    /// Nothing to plan: no observation yet, or neither a document nor an object seen.
    Unknown,
    /// Planned; nothing was carried out (in sync, blocked, waiting, suspended, or a change left
    /// to the leader).
    Planned,
    /// The planned change was carried out.
    Changed,
    Failed(ErrorInfo),
}

/// One reconcile's plan (before acting) and outcome.
#[derive(Debug, Clone)]
pub struct Reconciled {
    pub plan: DocumentPlan,
    pub outcome: Outcome,
}

/// A change taken out of a plan: owned copies of what it acts upon.
struct Work<R: Resource> {
    verb: Verb,
    edits: Vec<crate::plan::Edit<R::Field>>,
    subject: Vec<R::Object>,
    term: super::Term,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl<C: Cloud> Daemon<C> {
    /// One reconcile of one key.
    pub async fn reconcile(&self, key: &Key) -> Reconciled {
        let started = tokio::time::Instant::now();
        let Some(desired) = self.desired.snapshot().set else {
            return Reconciled {
                plan: DocumentPlan::new(key.clone(), Verb::InSync),
                outcome: Outcome::NotReady,
            };
        };
        for_kind!(key.kind, R => self.reconcile_as::<R>(key, &desired).await)
            .inspect(|(done, scope)| {
                let result = ReconcileResult::of(done.plan.verb, &done.outcome);
                self.observer.reconciled(
                    key.kind,
                    &scope.account,
                    &done.plan,
                    result,
                    started.elapsed(),
                );
            })
            .map_or_else(
                || Reconciled {
                    plan: DocumentPlan::new(key.clone(), Verb::InSync),
                    outcome: Outcome::Unknown,
                },
                |(done, _)| done,
            )
    }

    async fn reconcile_as<R: Resource>(
        &self,
        key: &Key,
        desired: &Arc<DesiredSet>,
    ) -> Option<(Reconciled, Scope)> {
        // Changes are made only in the term this reconcile began in.
        let term = self.leadership.term();
        let leading = term.is_some();
        let last_applied = read(&self.statuses)
            .get(key)
            .and_then(|r| r.status.last_applied().map(str::to_owned));
        let (plan, scope, work) = {
            let view = read(&self.view);
            // Not observed yet: the first pass enqueues every key.
            let gate = view.gate.clone()?;
            // Neither a document nor an object seen in the last pass (a removed document whose
            // object the next pass finds). Its status record stays: it says where to look.
            let scope = scope_of(desired, key, view.orphans.get(key))?;
            let cx = Context {
                desired,
                observed: &view.observation,
            };
            let planned = plan_as::<R>(&cx, key, &scope, &gate, last_applied.as_deref());
            // A document moved to another account or region: once it is in sync where it now
            // lives, the object it left behind is removed as a removed document's would be.
            let (scope, mut planned) = match view.orphans.get(key) {
                Some(old) if *old != scope && planned.verb == Verb::InSync => {
                    let left = plan_as::<R>(&cx, key, old, &gate, None);
                    if left.verb.changes_aws() {
                        (old.clone(), left)
                    } else {
                        (scope, planned)
                    }
                }
                _ => (scope, planned),
            };
            if leading && planned.verb == Verb::Delete {
                self.spend_deletion::<R>(key, &mut planned);
            }
            let plan = planned.display();
            let work = term
                .filter(|_| planned.verb.changes_aws())
                .map(|term| Work::<R> {
                    verb: planned.verb,
                    edits: planned.edits,
                    subject: planned.subject.into_iter().cloned().collect(),
                    term,
                });
            (plan, scope, work)
        };
        // The document, where it applies (not for what a moved document left behind).
        let doc = desired.documents.get(key).filter(|d| d.is_in(&scope));
        let spec = doc.and_then(|d| R::spec(&d.document));
        let mut sent = None;
        let outcome = match work {
            None => Outcome::Planned,
            Some(work) => {
                let controller = desired.controller.as_str();
                let tags = match (spec, doc) {
                    (Some(spec), Some(d)) => {
                        desired_tags(R::user_tags(spec), controller, key, &d.policies)
                    }
                    _ => Default::default(),
                };
                let change = Change::<R> {
                    scope: &scope,
                    key,
                    verb: work.verb,
                    edits: &work.edits,
                    subject: &work.subject,
                    spec,
                    tags,
                    token: create_token(controller, key),
                    controller,
                    term: &work.term,
                };
                // The end of the term cuts the change off between two calls (a wait included);
                // each call also checks the term before it is sent.
                let acted = tokio::select! {
                    biased;
                    () = work.term.ended() => None,
                    acted = R::act(&*self.cloud, change) => Some(acted),
                };
                match acted.filter(|_| !work.term.is_over()) {
                    // Deposed mid-change: what was done is for the leader to see and carry on;
                    // the outcome here is unknown.
                    None => {
                        tracing::info!(key = %key, term = work.term.number(), "stopped leading mid-change; left to the leader");
                        Outcome::Planned
                    }
                    Some(Ok(applied)) => {
                        let mut ids: HashSet<String> = applied.gone.into_iter().collect();
                        ids.extend(applied.now.iter().map(|o| R::id(o).to_owned()));
                        let (changed_scope, now) = (scope.clone(), applied.now);
                        let patch = Arc::new(move |observation: &mut Observation| {
                            R::objects_mut(observation).patch(
                                &changed_scope,
                                |o| ids.contains(R::id(o)),
                                now.clone(),
                            );
                        });
                        let mut view = write(&self.view);
                        patch(&mut view.observation);
                        if let Some(more) = applied.more {
                            more(&mut view.observation);
                        }
                        // A look that read this scope before the change must not hide it.
                        view.changes.push(tokio::time::Instant::now(), patch);
                        sent = spec.and_then(|s| R::sent_digest(work.verb, s));
                        Outcome::Changed
                    }
                    Some(Err(e)) => Outcome::Failed(e),
                }
            }
        };
        self.record_status::<R>(key, desired, &plan, &outcome, sent);
        Some((Reconciled { plan, outcome }, scope))
    }

    /// Takes a deletion of a removed document's object from the hourly budget, or turns the
    /// plan into a blocked one that says when the next deletion is allowed.
    fn spend_deletion<R: Resource>(&self, key: &Key, planned: &mut Plan<'_, R>) {
        let limit = self.config.prune.max_deletions_per_hour;
        if let Err(wait) = self.deletions.take(limit, tokio::time::Instant::now()) {
            let why = format!(
                "the document was removed, but pruning is held back: the deletion budget of \
                 {limit} per hour (prune.maxDeletionsPerHour) is used up; the next deletion is \
                 allowed in {}s",
                wait.as_secs()
            );
            self.observer.deletion_held_back(key.kind, &why);
            planned.verb = Verb::Blocked;
            planned.edits.clear();
            planned.subject.clear();
            planned.reason = Some(why);
        }
    }

    /// Records a reconcile in the document's status and sends it to the status writer when it
    /// changed; forgets an orphan once its object is deleted.
    fn record_status<R: Resource>(
        &self,
        key: &Key,
        desired: &DesiredSet,
        plan: &DocumentPlan,
        outcome: &Outcome,
        sent: Option<String>,
    ) {
        let result = match outcome {
            Outcome::Failed(e) => Some(Err(e.clone())),
            Outcome::Changed => Some(Ok(())),
            // A change left to the leader: its outcome is unknown here.
            Outcome::Planned if plan.verb.changes_aws() => None,
            _ => Some(Ok(())),
        };
        let now = now_secs();
        let Some(doc) = desired.documents.get(key) else {
            // An orphan: once deleted it is forgotten.
            if plan.verb == Verb::Delete && *outcome == Outcome::Changed {
                self.forget(key);
            }
            return;
        };
        // A moved document's record stays where the document now lives.
        let scope = &doc.scope();
        let mut status = read(&self.statuses)
            .get(key)
            .map(|r| r.status.clone())
            .unwrap_or_default();
        status.record_plan(plan, &doc.revision, now);
        let (ready, facts) = self.readiness_and_facts::<R>(desired, key, scope);
        status.record_outcome(result, ready, now);
        status.last_applied_digest = sent.or_else(|| status.last_applied().map(str::to_owned));
        status.aws = facts;
        self.save_status(key, scope, status);
    }

    /// Readiness and AWS facts of `key` from the current view.
    fn readiness_and_facts<R: Resource>(
        &self,
        desired: &DesiredSet,
        key: &Key,
        scope: &Scope,
    ) -> (
        Option<(bool, String)>,
        std::collections::BTreeMap<String, String>,
    ) {
        let view = read(&self.view);
        let cx = Context {
            desired,
            observed: &view.observation,
        };
        let objects = R::objects(&view.observation);
        let seen = objects.seen(scope, key);
        let ready = objects.has(scope).then(|| R::readiness(&cx, key, seen));
        (ready, R::facts(&cx, key, seen))
    }

    /// Stores `status` for `key` and tells the status writer, when it differs from the last.
    fn save_status(&self, key: &Key, scope: &Scope, status: DocumentStatus) {
        let record = StatusRecord {
            key: key.clone(),
            account: scope.account.clone(),
            region: scope.region.clone(),
            status,
        };
        let mut statuses = write(&self.statuses);
        if statuses.get(key).map(|r| &**r) != Some(&record) {
            // One record, shared with the status writer (which holds it until it is written).
            let record = Arc::new(record);
            statuses.insert(key.clone(), record.clone());
            let _ = self.status_changes.send(StatusChange::Saved(record));
        }
    }

    /// Recomputes a document's readiness and AWS facts from the current view (after a look
    /// again that a change called for), leaving its plan and outcome as they are.
    pub(crate) fn refresh_readiness(&self, key: &Key) {
        let Some(desired) = self.desired.snapshot().set else {
            return;
        };
        let Some(doc) = desired.documents.get(key) else {
            return;
        };
        let scope = doc.scope();
        let Some(mut status) = read(&self.statuses).get(key).map(|r| r.status.clone()) else {
            return;
        };
        let (ready, facts) =
            for_kind!(key.kind, R => self.readiness_and_facts::<R>(&desired, key, &scope));
        status.record_outcome(None, ready, now_secs());
        status.aws = facts;
        self.save_status(key, &scope, status);
    }

    /// Forgets a document whose object is gone, here and in the status store.
    fn forget(&self, key: &Key) {
        if write(&self.statuses).remove(key).is_some() {
            let _ = self.status_changes.send(StatusChange::Removed(key.clone()));
        }
    }
}

/// How long a key waits for another in `apply --once` before it is planned again.
pub(crate) const ONCE_WAIT: Duration = Duration::from_millis(100);

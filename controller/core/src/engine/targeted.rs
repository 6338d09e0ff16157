//! Observing again just what a change event touched: one (account, region, kind) at a time,
//! with the same batched observers as a pass.

use std::collections::BTreeSet;

use futures::stream::{self, StreamExt};

use super::daemon::write;
use super::observe::observe_scope;
use super::planning::{orphans, owned};
use super::{Daemon, PassView, Scope};
use crate::kinds::{Cloud, for_kind};
use crate::model::{Key, Kind};
use crate::prune::prune_gate;

impl<C: Cloud> Daemon<C> {
    /// Observes `targets` again, patches the view with what they hold now, and enqueues every
    /// document and orphan of their scopes (a change of what they observe, so a backoff does
    /// not hold them). Nothing before the first pass: the pass observes everything anyway.
    /// Returns the keys enqueued.
    pub async fn observe_targets(&self, targets: &BTreeSet<(Scope, Kind)>) -> Vec<Key> {
        let Some(desired) = self.desired.snapshot().set else {
            return Vec::new();
        };
        let started = tokio::time::Instant::now();
        let desired_ref = &desired;
        let patches: Vec<_> = stream::iter(targets.iter().cloned())
            .map(|(scope, kind)| async move {
                let patch = for_kind!(kind, R => observe_scope::<R, C>(&*self.cloud, desired_ref, scope.clone(), false).await);
                (scope, kind, patch)
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        let mut keys: Vec<Key> = {
            let mut view = write(&self.view);
            if view.gate.is_none() {
                return Vec::new();
            }
            for (scope, kind, patch) in patches {
                // A pass, or another look, that began after this one read later than it did:
                // what it read stays.
                let later = view.began.is_some_and(|began| began > started)
                    || view
                        .fresher
                        .get(&(scope.clone(), kind))
                        .is_some_and(|at| *at > started);
                if later {
                    continue;
                }
                view.observation.failed.remove(&(scope.clone(), kind));
                patch(&mut view.observation);
                view.fresher.insert((scope, kind), started);
            }
            let PassView {
                observation,
                changes,
                ..
            } = &mut *view;
            changes.apply_since(started, observation);
            view.orphans = orphans(&desired, &view.observation);
            view.gate = Some(prune_gate(
                &self.config.prune,
                desired.health,
                owned(&desired, &view.observation),
            ));
            let scopes: BTreeSet<&Scope> = targets.iter().map(|(scope, _)| scope).collect();
            scopes
                .iter()
                .flat_map(|scope| desired.in_scope(scope).map(|(key, _)| key.clone()))
                .chain(
                    view.orphans
                        .iter()
                        .filter(|(_, scope)| scopes.contains(scope))
                        .map(|(key, _)| key.clone()),
                )
                .collect()
        };
        keys.sort_by(Key::dependency_order);
        keys.dedup();
        for key in &keys {
            self.queue.add(key.clone());
        }
        keys
    }
}

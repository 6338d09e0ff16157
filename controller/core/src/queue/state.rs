//! The queue's bookkeeping: a synchronous state machine per key, driven with explicit instants.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::QueueKey;
use super::metrics::{QueueObserver, QueueStats};
use super::retry::RetryPolicy;
use crate::ratelimit::TokenBucket;

/// Delays are clamped to this, so that `now + delay` cannot overflow.
const MAX_DELAY: Duration = Duration::from_secs(365 * 24 * 3600);

/// Where a key stands.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// Due since `since` and listed in `ready`.
    Ready { since: Instant },
    /// Listed in `timers` at `at`.
    Delayed { at: Instant },
    /// Claimed by a worker at `since`; `then` is what happens when the claim is released.
    Processing { since: Instant, then: Then },
}

/// What follows a key's processing.
#[derive(Debug, Clone, Copy)]
enum Then {
    /// Nothing: the key leaves the queue.
    Nothing,
    /// It was added (at `since`) while processing: it becomes due again at once.
    Rerun { since: Instant },
    /// It was added with a delay while processing: it becomes due at `at`.
    At(Instant),
}

pub(super) struct State<K> {
    /// Every key that is due, delayed or being processed, and no other.
    slots: HashMap<K, Slot>,
    /// Exactly the keys whose slot is `Ready`, each once, in the order they became due.
    ready: VecDeque<K>,
    /// `(at, key)` for exactly the keys whose slot is `Delayed { at }`.
    timers: BTreeSet<(Instant, K)>,
    /// Consecutive failures of a key since it was last forgotten; absent means none.
    failures: HashMap<K, u32>,
    /// Reservations of the bucket that all retries share.
    retry_bucket: TokenBucket,
    /// Fixed at construction.
    policy: RetryPolicy,
    /// Receives every event as it happens.
    observer: Arc<dyn QueueObserver>,
    /// The number of keys whose slot is `Processing`.
    in_flight: usize,
    /// Times a key became due, since construction.
    adds: u64,
    /// Retries scheduled, since construction.
    retries: u64,
    /// Once set, never unset: adds are ignored and no key is claimed.
    shut_down: bool,
}

impl<K: QueueKey> State<K> {
    pub(super) fn new(policy: RetryPolicy, observer: Arc<dyn QueueObserver>, now: Instant) -> Self {
        Self {
            slots: HashMap::new(),
            ready: VecDeque::new(),
            timers: BTreeSet::new(),
            failures: HashMap::new(),
            retry_bucket: TokenBucket::new(policy.bucket.burst(), now),
            policy,
            observer,
            in_flight: 0,
            adds: 0,
            retries: 0,
            shut_down: false,
        }
    }

    /// Makes `key` due now; returns whether a waiting worker should look again.
    pub(super) fn add(&mut self, key: K, now: Instant) -> bool {
        self.promote(now);
        if self.shut_down {
            return false;
        }
        match self.slots.get_mut(&key) {
            Some(
                Slot::Ready { .. }
                | Slot::Processing {
                    then: Then::Rerun { .. },
                    ..
                },
            ) => false,
            Some(Slot::Processing { then, .. }) => {
                *then = Then::Rerun { since: now };
                self.count_add();
                false
            }
            Some(Slot::Delayed { at }) => {
                let at = *at;
                self.timers.remove(&(at, key.clone()));
                self.push_ready(key, now);
                self.count_add();
                true
            }
            None => {
                self.push_ready(key, now);
                self.count_add();
                true
            }
        }
    }

    /// Makes `key` due after `delay` unless it is due earlier; returns whether a waiting worker
    /// should look again.
    pub(super) fn add_after(&mut self, key: K, delay: Duration, now: Instant) -> bool {
        self.promote(now);
        if self.shut_down {
            return false;
        }
        let at = now.checked_add(delay.min(MAX_DELAY)).unwrap_or(now);
        if at <= now {
            return self.add(key, now);
        }
        match self.slots.get_mut(&key) {
            Some(
                Slot::Ready { .. }
                | Slot::Processing {
                    then: Then::Rerun { .. },
                    ..
                },
            ) => false,
            Some(Slot::Processing {
                then: then @ Then::Nothing,
                ..
            }) => {
                *then = Then::At(at);
                false
            }
            Some(Slot::Processing {
                then: Then::At(current),
                ..
            }) => {
                *current = (*current).min(at);
                false
            }
            Some(Slot::Delayed { at: current }) if at < *current => {
                let old = std::mem::replace(current, at);
                self.timers.remove(&(old, key.clone()));
                self.timers.insert((at, key));
                true
            }
            Some(Slot::Delayed { .. }) => false,
            None => {
                self.slots.insert(key.clone(), Slot::Delayed { at });
                self.timers.insert((at, key));
                true
            }
        }
    }

    /// Counts a failure of `key` and schedules its retry; returns the delay (`None` once shut
    /// down) and whether a waiting worker should look again.
    pub(super) fn add_rate_limited(
        &mut self,
        key: K,
        base: Option<Duration>,
        now: Instant,
    ) -> (Option<Duration>, bool) {
        if self.shut_down {
            return (None, false);
        }
        let failures = self.failures.entry(key.clone()).or_insert(0);
        let policy = match base {
            Some(base) => RetryPolicy {
                base,
                ..self.policy
            },
            None => self.policy,
        };
        let backoff = policy.backoff(*failures);
        *failures = failures.saturating_add(1);
        let shared = self
            .retry_bucket
            .reserve(now, self.policy.bucket.per_second());
        let delay = backoff.max(shared);
        self.retries += 1;
        self.observer.retried();
        (Some(delay), self.add_after(key, delay, now))
    }

    /// Makes `key` due now unless it is waiting out a failure backoff (delayed, or being
    /// processed, after a failure): then its retry time stands.
    pub(super) fn resync(&mut self, key: K, now: Instant) -> bool {
        let backing_off = self.failures.get(&key).is_some_and(|f| *f > 0)
            && matches!(
                self.slots.get(&key),
                Some(Slot::Delayed { .. } | Slot::Processing { .. })
            );
        if backing_off {
            self.promote(now);
            return false;
        }
        self.add(key, now)
    }

    pub(super) fn forget(&mut self, key: &K) {
        self.failures.remove(key);
    }

    pub(super) fn failures(&self, key: &K) -> u32 {
        self.failures.get(key).copied().unwrap_or(0)
    }

    /// Hands the longest-due key to a worker.
    pub(super) fn claim(&mut self, now: Instant) -> Option<K> {
        self.promote(now);
        if self.shut_down {
            return None;
        }
        let key = self.ready.pop_front()?;
        let processing = Slot::Processing {
            since: now,
            then: Then::Nothing,
        };
        if let Some(Slot::Ready { since }) = self.slots.insert(key.clone(), processing) {
            self.observer
                .picked_up(now.saturating_duration_since(since));
        }
        self.in_flight += 1;
        Some(key)
    }

    /// Ends the processing of `key`; returns whether a waiting worker should look again.
    pub(super) fn release(&mut self, key: &K, now: Instant) -> bool {
        self.promote(now);
        let Some(&Slot::Processing { since, then }) = self.slots.get(key) else {
            return false;
        };
        self.slots.remove(key);
        self.in_flight = self.in_flight.saturating_sub(1);
        self.observer.finished(now.saturating_duration_since(since));
        if self.shut_down {
            return false;
        }
        match then {
            Then::Nothing => false,
            Then::Rerun { since } => {
                self.push_ready(key.clone(), since);
                true
            }
            Then::At(at) if at <= now => {
                self.push_ready(key.clone(), at);
                self.count_add();
                true
            }
            Then::At(at) => {
                self.slots.insert(key.clone(), Slot::Delayed { at });
                self.timers.insert((at, key.clone()));
                true
            }
        }
    }

    /// When the earliest delayed key becomes due.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.timers.first().map(|(at, _)| *at)
    }

    pub(super) fn shut_down(&mut self) {
        self.shut_down = true;
    }

    pub(super) fn is_shut_down(&self) -> bool {
        self.shut_down
    }

    pub(super) fn stats(&mut self, now: Instant) -> QueueStats {
        self.promote(now);
        let running = self.slots.values().filter_map(|slot| match slot {
            Slot::Processing { since, .. } => Some(now.saturating_duration_since(*since)),
            _ => None,
        });
        let (longest_running, unfinished_work) = running
            .fold((Duration::ZERO, Duration::ZERO), |(longest, sum), d| {
                (longest.max(d), sum.saturating_add(d))
            });
        QueueStats {
            depth: self.ready.len(),
            delayed: self.timers.len(),
            in_flight: self.in_flight,
            longest_running,
            unfinished_work,
            adds: self.adds,
            retries: self.retries,
        }
    }

    /// Moves the delayed keys due at `now` to the ready queue, earliest first.
    fn promote(&mut self, now: Instant) {
        while self.timers.first().is_some_and(|(at, _)| *at <= now) {
            if let Some((at, key)) = self.timers.pop_first() {
                self.push_ready(key, at);
                self.count_add();
            }
        }
    }

    fn push_ready(&mut self, key: K, since: Instant) {
        self.slots.insert(key.clone(), Slot::Ready { since });
        self.ready.push_back(key);
    }

    fn count_add(&mut self) {
        self.adds += 1;
        self.observer.added();
    }
}

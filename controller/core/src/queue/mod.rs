//! The work queue: which key is reconciled next, and when.
//!
//! Semantics are client-go's workqueue: deduplicated adds, one worker per key, a dirty key runs
//! once more after it finishes, delayed adds keep the earliest time, failures back off per key
//! and retries share a global token bucket. [`run`] is the worker loop that drains it.

mod metrics;
mod retry;
mod runner;
mod state;

use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

pub use metrics::{NoObserver, QueueObserver, QueueStats};
pub use retry::RetryPolicy;
pub use runner::{Action, Drained, run};

use state::State;

/// What a queue key must be: in practice the `Kind/name` of a document.
pub trait QueueKey: Clone + Eq + Hash + Ord + fmt::Debug + Send + Sync + 'static {}

impl<T: Clone + Eq + Hash + Ord + fmt::Debug + Send + Sync + 'static> QueueKey for T {}

/// A deduplicating, delaying, rate-limited queue of keys; cheap to clone, all clones share it.
///
/// # Guarantees
///
/// - A key is waiting at most once: adding a key that is already due is a no-op.
/// - A key is handed to at most one worker at a time. Adding a key while it is processed marks
///   it to run exactly once more after it is released, however many adds arrived meanwhile.
/// - A key has at most one pending time, the earliest asked for: a later delayed add does not
///   postpone it and an immediate add makes it due now.
/// - Due keys are handed out in the order they became due.
/// - [`add_rate_limited`](Self::add_rate_limited) delays a key by the larger of its own
///   exponential backoff and the shared retry bucket; only it counts failures, only
///   [`forget`](Self::forget) resets them. A plain add neither counts nor resets.
/// - After [`shut_down`](Self::shut_down), adds are ignored and [`next`](Self::next) returns
///   `None`; claims already handed out can still be released.
pub struct WorkQueue<K> {
    shared: Arc<Shared<K>>,
}

struct Shared<K> {
    /// All bookkeeping, under one lock that is never held across an await.
    state: Mutex<State<K>>,
    /// Notified whenever a key may have become due earlier or the queue shut down.
    wake: Notify,
}

impl<K> Clone for WorkQueue<K> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<K: QueueKey> fmt::Debug for WorkQueue<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkQueue")
            .field("stats", &self.stats())
            .finish()
    }
}

impl<K: QueueKey> Default for WorkQueue<K> {
    fn default() -> Self {
        Self::new(RetryPolicy::default())
    }
}

impl<K: QueueKey> WorkQueue<K> {
    /// An empty queue that retries with `policy`.
    pub fn new(policy: RetryPolicy) -> Self {
        Self::with_observer(policy, Arc::new(NoObserver))
    }

    /// An empty queue that retries with `policy` and reports its events to `observer`.
    pub fn with_observer(policy: RetryPolicy, observer: Arc<dyn QueueObserver>) -> Self {
        let shared = Shared {
            state: Mutex::new(State::new(policy, observer, Instant::now())),
            wake: Notify::new(),
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Makes `key` due now.
    pub fn add(&self, key: K) {
        let wake = self.lock().add(key, Instant::now());
        self.wake_if(wake);
    }

    /// Makes `key` due after `delay`, unless it is due earlier already.
    pub fn add_after(&self, key: K, delay: Duration) {
        let wake = self.lock().add_after(key, delay, Instant::now());
        self.wake_if(wake);
    }

    /// Schedules a retry of `key` after a failure and counts the failure; returns the delay, or
    /// `None` when the queue is shut down.
    pub fn add_rate_limited(&self, key: K) -> Option<Duration> {
        let (delay, wake) = self.lock().add_rate_limited(key, None, Instant::now());
        self.wake_if(wake);
        delay
    }

    /// As [`Self::add_rate_limited`], with the per-key backoff starting at `base` instead of the
    /// policy's own base (for failures that will not pass by themselves).
    pub fn add_rate_limited_from(&self, key: K, base: Duration) -> Option<Duration> {
        let (delay, wake) = self
            .lock()
            .add_rate_limited(key, Some(base), Instant::now());
        self.wake_if(wake);
        delay
    }

    /// Makes `key` due now, as a periodic pass does: unlike [`Self::add`], a key waiting out a
    /// failure backoff keeps its retry time (only a change, added with `add`, cuts it short).
    pub fn resync(&self, key: K) {
        let wake = self.lock().resync(key, Instant::now());
        self.wake_if(wake);
    }

    /// Resets the failure count of `key`, after it succeeded.
    pub fn forget(&self, key: &K) {
        self.lock().forget(key);
    }

    /// Consecutive failures of `key` since it was last forgotten.
    pub fn failures(&self, key: &K) -> u32 {
        self.lock().failures(key)
    }

    /// Waits for a due key and claims it; `None` once the queue is shut down.
    ///
    /// Cancel-safe: dropping the future claims nothing.
    pub async fn next(&self) -> Option<Claim<K>> {
        loop {
            let notified = self.shared.wake.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            let deadline = {
                let mut state = self.lock();
                if let Some(key) = state.claim(Instant::now()) {
                    return Some(Claim {
                        queue: self.clone(),
                        key,
                        released: false,
                    });
                }
                if state.is_shut_down() {
                    return None;
                }
                state.next_deadline()
            };
            match deadline {
                Some(at) => {
                    tokio::select! {
                        () = &mut notified => {}
                        () = tokio::time::sleep_until(at) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Stops the queue: adds are ignored from now on and [`next`](Self::next) returns `None`.
    pub fn shut_down(&self) {
        self.lock().shut_down();
        self.shared.wake.notify_waiters();
    }

    /// Whether [`shut_down`](Self::shut_down) was called.
    pub fn is_shut_down(&self) -> bool {
        self.lock().is_shut_down()
    }

    /// The queue's levels now.
    pub fn stats(&self) -> QueueStats {
        self.lock().stats(Instant::now())
    }

    fn release(&self, key: &K) {
        let wake = self.lock().release(key, Instant::now());
        self.wake_if(wake);
    }

    fn wake_if(&self, wake: bool) {
        if wake {
            self.shared.wake.notify_waiters();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<K>> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A key handed to one worker; no other worker gets it until the claim is released.
///
/// Release it with [`done`](Self::done) after scheduling what comes next (`forget`, `add_after`
/// or `add_rate_limited` on the queue). A claim dropped without `done` (a panic, an aborted task)
/// counts as a failure: the key is released and retried with backoff.
#[must_use = "a claim holds its key until it is released with `done`"]
pub struct Claim<K: QueueKey> {
    /// The queue whose state marks `key` as processing until this claim is released.
    queue: WorkQueue<K>,
    /// Processing in `queue` for as long as this claim lives unreleased.
    key: K,
    /// Set by `done`, so that dropping the claim afterwards does not count a failure.
    released: bool,
}

impl<K: QueueKey> fmt::Debug for Claim<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl<K: QueueKey> Claim<K> {
    /// The claimed key.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// The queue the key was claimed from.
    pub fn queue(&self) -> &WorkQueue<K> {
        &self.queue
    }

    /// Releases the key: a re-add that arrived during processing makes it due now, a delayed
    /// add schedules it.
    pub fn done(mut self) {
        self.released = true;
        self.queue.release(&self.key);
    }
}

impl<K: QueueKey> Drop for Claim<K> {
    fn drop(&mut self) {
        if !self.released {
            self.queue.add_rate_limited(self.key.clone());
            self.queue.release(&self.key);
        }
    }
}

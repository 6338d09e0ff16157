//! The worker loop: claims due keys, runs a bounded number of workers, applies their [`Action`].

use std::future::Future;
use std::num::NonZeroUsize;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{Claim, QueueKey, WorkQueue};

/// Grace periods are clamped to this, so that the deadline cannot overflow.
const MAX_GRACE: Duration = Duration::from_secs(24 * 3600);

/// What a worker asks for after processing a key; it is never told why the key ran.
#[must_use = "an Action tells the queue when to run the key again"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Succeeded: forget the key's failures and run it again after this resync interval.
    Requeue(Duration),
    /// Succeeded: forget the key's failures and run it again only when it is added.
    AwaitChange,
    /// Failed with this error class (a bounded label): retry with backoff.
    Retry(&'static str),
    /// Failed in a way that will not pass by itself (access denied, an invalid request): retry
    /// with a backoff that starts at the given delay (the poll interval) and doubles.
    RetrySlowly(&'static str, Duration),
}

impl Action {
    /// Success; run again after `resync`.
    pub const fn requeue(resync: Duration) -> Self {
        Self::Requeue(resync)
    }

    /// Success; run again only on the next add.
    pub const fn await_change() -> Self {
        Self::AwaitChange
    }

    /// Failure of `error_class`; retry with backoff.
    pub const fn retry(error_class: &'static str) -> Self {
        Self::Retry(error_class)
    }

    /// Failure of `error_class` that will not pass by itself; retry with a backoff starting at
    /// `base`.
    pub const fn retry_slowly(error_class: &'static str, base: Duration) -> Self {
        Self::RetrySlowly(error_class, base)
    }
}

/// How [`run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Workers still running at the end of the grace period, which were aborted.
    pub aborted: usize,
}

/// Runs `worker` on the keys of `queue` until `shutdown` is cancelled or the queue is shut down.
///
/// On [`Action::Requeue`] and [`Action::AwaitChange`] the key's failures are forgotten and it is
/// requeued after the resync (or not); on [`Action::Retry`] it is added rate-limited.
///
/// # Guarantees
///
/// - At most `concurrency` workers run at once, and never two on the same key.
/// - Every worker is a task owned by this function; none outlives it.
/// - On cancellation it shuts the queue down (no key is taken any more), waits up to `grace`
///   for the workers in flight, aborts those still running, and returns.
///
/// # Errors
///
/// None are returned. A worker that panics is logged and its key retried with backoff, like a
/// failure; the loop goes on.
pub async fn run<K, W, F>(
    queue: WorkQueue<K>,
    concurrency: NonZeroUsize,
    shutdown: CancellationToken,
    grace: Duration,
    worker: W,
) -> Drained
where
    K: QueueKey,
    W: Fn(K) -> F,
    F: Future<Output = Action> + Send + 'static,
{
    let mut workers = JoinSet::new();
    loop {
        while let Some(joined) = workers.try_join_next() {
            log_failed_worker(joined);
        }
        if workers.len() >= concurrency.get() {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                Some(joined) = workers.join_next() => log_failed_worker(joined),
            }
            continue;
        }
        let claim = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            claim = queue.next() => claim,
        };
        let Some(claim) = claim else { break };
        let work = worker(claim.key().clone());
        workers.spawn(async move {
            let action = work.await;
            settle(claim, action);
        });
    }
    queue.shut_down();
    drain(workers, grace).await
}

/// Schedules what follows `action` and releases the key.
fn settle<K: QueueKey>(claim: Claim<K>, action: Action) {
    let queue = claim.queue();
    let key = claim.key();
    match action {
        Action::Requeue(resync) => {
            queue.forget(key);
            queue.add_after(key.clone(), resync);
        }
        Action::AwaitChange => queue.forget(key),
        Action::Retry(error_class) => {
            let delay = queue.add_rate_limited(key.clone());
            tracing::debug!(?key, error_class, ?delay, "retrying");
        }
        Action::RetrySlowly(error_class, base) => {
            let delay = queue.add_rate_limited_from(key.clone(), base);
            tracing::debug!(?key, error_class, ?delay, "retrying slowly");
        }
    }
    claim.done();
}

/// Waits up to `grace` for `workers`, then aborts the rest.
async fn drain(mut workers: JoinSet<()>, grace: Duration) -> Drained {
    let now = tokio::time::Instant::now();
    let deadline = now.checked_add(grace.min(MAX_GRACE)).unwrap_or(now);
    loop {
        match tokio::time::timeout_at(deadline, workers.join_next()).await {
            Ok(Some(joined)) => log_failed_worker(joined),
            Ok(None) => return Drained { aborted: 0 },
            Err(_elapsed) => {
                let aborted = workers.len();
                tracing::warn!(aborted, "grace period over, aborting workers");
                workers.shutdown().await;
                return Drained { aborted };
            }
        }
    }
}

fn log_failed_worker(joined: Result<(), tokio::task::JoinError>) {
    if let Err(error) = joined
        && error.is_panic()
    {
        tracing::error!(%error, "worker panicked; its key will be retried");
    }
}

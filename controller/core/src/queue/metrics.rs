//! What the queue tells the metrics layer: events through [`QueueObserver`], levels through
//! [`QueueStats`].

use std::time::Duration;

/// Receives the queue's events; the metrics layer implements it (counters and histograms).
///
/// Called with the queue's lock held: implementations must be cheap and must not call the queue.
pub trait QueueObserver: Send + Sync {
    /// A key became due: added while not waiting, or its delay expired.
    fn added(&self) {}
    /// A key was scheduled for a retry after a failure.
    fn retried(&self) {}
    /// A worker picked a key up `queued_for` after it became due.
    fn picked_up(&self, queued_for: Duration) {
        let _ = queued_for;
    }
    /// A worker finished a key after `worked_for`.
    fn finished(&self, worked_for: Duration) {
        let _ = worked_for;
    }
}

/// An observer that records nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl QueueObserver for NoObserver {}

/// The queue's levels at one instant, for gauges; counters are totals since creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// Keys due and waiting for a worker.
    pub depth: usize,
    /// Keys waiting for a delay (resync or retry) to expire.
    pub delayed: usize,
    /// Keys being processed.
    pub in_flight: usize,
    /// How long the oldest key in flight has been processed; zero when none is.
    pub longest_running: Duration,
    /// Sum over the keys in flight of how long each has been processed.
    pub unfinished_work: Duration,
    /// Times a key became due (see [`QueueObserver::added`]).
    pub adds: u64,
    /// Retries scheduled after failures.
    pub retries: u64,
}

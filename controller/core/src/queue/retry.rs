//! How long a failed key waits before it runs again.

use std::time::Duration;

use crate::ratelimit::BucketSeed;

/// The retry policy of a [`WorkQueue`](super::WorkQueue): the larger of a per-key exponential
/// backoff and a token bucket shared by all retries (client-go's default limiter, with jitter
/// and a shorter cap).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Delay after the first failure; each further consecutive failure doubles it. Default 5 ms.
    pub base: Duration,
    /// Longest per-key delay. Default 5 min: a failing key is retried at least as often as a
    /// healthy key is resynced, so a fixed cause (a role trust, a quota) clears within minutes;
    /// client-go's 1,000 s would hide a fix for a quarter of an hour, and load on AWS is bounded
    /// by the shared bucket and the rate budgets, not by this cap.
    pub cap: Duration,
    /// Fraction of the delay removed at random, in [0, 1]: a delay `d` becomes uniform in
    /// `[(1 - jitter) d, d]`, so keys that failed together do not retry together. Default 0.2.
    pub jitter: f64,
    /// The bucket every retry also passes. Default burst 100, 10 per second.
    pub bucket: BucketSeed,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(5),
            cap: Duration::from_secs(300),
            jitter: 0.2,
            bucket: BucketSeed::new_unchecked(100, 10.0),
        }
    }
}

impl RetryPolicy {
    /// The per-key delay after `failures` earlier consecutive failures.
    pub(crate) fn backoff(&self, failures: u32) -> Duration {
        let exponential = 1u32.checked_shl(failures).map_or(self.cap, |factor| {
            self.base.saturating_mul(factor).min(self.cap)
        });
        let jitter = if self.jitter > 1.0 {
            1.0
        } else if self.jitter > 0.0 {
            self.jitter
        } else {
            return exponential;
        };
        let keep = 1.0 - jitter * rand::random::<f64>();
        Duration::try_from_secs_f64(exponential.as_secs_f64() * keep).unwrap_or(exponential)
    }
}

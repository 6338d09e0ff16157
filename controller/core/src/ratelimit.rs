//! Client-side rate budgets: adaptive token buckets keyed by an opaque key.
//!
//! The AWS layer keys the buckets by (account, region, API family) and seeds each from AWS's
//! published throttling rates, so the controller stays under the service's own buckets instead of
//! discovering them through `Throttling*` errors.
//!
//! # Policy
//!
//! - A bucket holds up to `burst` tokens and refills at its *effective* rate; it starts full at
//!   the seed rate.
//! - Waiters are served in arrival order: each [`RateBudgets::acquire`] takes a numbered ticket
//!   and sleeps until the bucket has refilled up to that number. There is no task per bucket:
//!   refill is computed from elapsed time whenever the bucket is touched.
//! - On a throttling signal ([`RateBudgets::on_throttled`]) the effective rate is multiplied by
//!   [`AdaptivePolicy::decrease`] (halved by default), never below `floor × seed`, and the unused
//!   burst is dropped (the service's bucket is empty, so ours should be too). Throttles reported
//!   within [`AdaptivePolicy::cooldown`] of a cut are the same congestion seen by calls already in
//!   flight and do not cut again.
//! - The rate recovers additively with time: every [`AdaptivePolicy::interval`] without a new cut
//!   adds `step × seed`, up to the seed. With the defaults a halved rate is back at the seed after
//!   10 s, and a rate at the floor after 18 s.
//! - Waiters already asleep see a cut when they wake: they recompute their wait at the new rate.
//!
//! Buckets are created on first use and kept for the life of the budgets; their number is bounded
//! by the accounts, regions and API families the controller is configured for.
//!
//! Time is `tokio::time`, so tests control it with `tokio::time::pause()`.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// The longest single wait computed; a waiter rechecks after it.
const MAX_WAIT: Duration = Duration::from_secs(3600);
/// Tokens closer than this to a whole ticket count as the whole ticket (float rounding).
const EPSILON: f64 = 1e-6;

/// A bucket's configured size and refill rate, as published for the API family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketSeed {
    burst: u32,
    per_second: f64,
}

/// Why a [`BucketSeed`] was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RateLimitError {
    /// A bucket must hold at least one token.
    #[error("burst must be at least 1")]
    ZeroBurst,
    /// The refill rate must be a positive, finite number of tokens per second.
    #[error("refill rate must be a positive finite number of tokens per second, got {0}")]
    InvalidRate(f64),
}

impl BucketSeed {
    /// A bucket of `burst` tokens refilled at `per_second` tokens a second.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::ZeroBurst`] when `burst` is 0, [`RateLimitError::InvalidRate`] when
    /// `per_second` is not a positive finite number.
    pub fn new(burst: u32, per_second: f64) -> Result<Self, RateLimitError> {
        if burst == 0 {
            return Err(RateLimitError::ZeroBurst);
        }
        if !(per_second.is_finite() && per_second > 0.0) {
            return Err(RateLimitError::InvalidRate(per_second));
        }
        Ok(Self { burst, per_second })
    }

    /// Checked by the caller: `burst >= 1` and `per_second` positive and finite.
    pub(crate) const fn new_unchecked(burst: u32, per_second: f64) -> Self {
        Self { burst, per_second }
    }

    /// The number of tokens a full bucket holds.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The refill rate in tokens per second.
    pub fn per_second(&self) -> f64 {
        self.per_second
    }
}

/// How a bucket slows down on throttling and recovers; see the [module docs](self).
///
/// Out-of-range values are replaced by the default when the budgets are built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptivePolicy {
    /// Factor applied to the effective rate on a throttle, in (0, 1]. Default 0.5.
    pub decrease: f64,
    /// Lowest effective rate, as a fraction of the seed, in (0, 1]. Default 0.1.
    pub floor: f64,
    /// Rate added back per `interval`, as a fraction of the seed, in (0, 1]. Default 0.05.
    pub step: f64,
    /// Recovery interval; non-zero. Default 1 s.
    pub interval: Duration,
    /// Throttles within this time of the last cut do not cut again. Default 1 s.
    pub cooldown: Duration,
}

impl Default for AdaptivePolicy {
    fn default() -> Self {
        Self {
            decrease: 0.5,
            floor: 0.1,
            step: 0.05,
            interval: Duration::from_secs(1),
            cooldown: Duration::from_secs(1),
        }
    }
}

impl AdaptivePolicy {
    fn sanitised(self) -> Self {
        let fallback = Self::default();
        let fraction = |x: f64, default: f64| if x > 0.0 && x <= 1.0 { x } else { default };
        Self {
            decrease: fraction(self.decrease, fallback.decrease),
            floor: fraction(self.floor, fallback.floor),
            step: fraction(self.step, fallback.step),
            interval: if self.interval.is_zero() {
                fallback.interval
            } else {
                self.interval
            },
            cooldown: self.cooldown,
        }
    }
}

/// A token bucket counted in tickets, so that waiters are served in arrival order.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    /// Most unused tokens it holds; at least 1.
    burst: f64,
    /// Tokens ever made available (starting at `burst`); ticket `n` is served once `filled >= n`,
    /// and `filled - taken <= burst`.
    filled: f64,
    /// Tickets handed out; they are numbered `1..=taken`.
    taken: u64,
    /// When `filled` was last brought up to date.
    refilled_at: Instant,
}

impl TokenBucket {
    pub(crate) fn new(burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            burst,
            filled: burst,
            taken: 0,
            refilled_at: now,
        }
    }

    /// Adds the tokens refilled at `per_second` since the last refill.
    fn refill(&mut self, now: Instant, per_second: f64) {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.refilled_at = self.refilled_at.max(now);
        self.filled = (self.filled + elapsed * per_second).min(self.taken as f64 + self.burst);
    }

    fn take_ticket(&mut self) -> u64 {
        self.taken += 1;
        self.taken
    }

    /// Time until `ticket` is served at `per_second`; zero once it is.
    fn wait(&self, ticket: u64, per_second: f64) -> Duration {
        let missing = ticket as f64 - self.filled;
        if missing <= EPSILON {
            return Duration::ZERO;
        }
        Duration::try_from_secs_f64(missing / per_second).map_or(MAX_WAIT, |d| d.min(MAX_WAIT))
    }

    /// Takes a token now and returns how long the caller must wait before using it.
    pub(crate) fn reserve(&mut self, now: Instant, per_second: f64) -> Duration {
        self.refill(now, per_second);
        let ticket = self.take_ticket();
        self.wait(ticket, per_second)
    }

    /// Gives back the token of a ticket that will not be used.
    fn refund(&mut self) {
        self.filled = (self.filled + 1.0).min(self.taken as f64 + self.burst);
    }

    /// Drops the unused tokens; tickets already handed out keep their place.
    fn empty(&mut self) {
        self.filled = self.filled.min(self.taken as f64);
    }
}

/// The effective refill rate of one bucket.
#[derive(Debug)]
struct AdaptiveRate {
    /// The configured rate; the effective rate never exceeds it.
    seed: f64,
    /// The effective rate right after the last cut and when it was made; `None` until a cut.
    cut: Option<(f64, Instant)>,
}

impl AdaptiveRate {
    fn at(&self, now: Instant, policy: &AdaptivePolicy) -> f64 {
        let Some((rate, since)) = self.cut else {
            return self.seed;
        };
        let steps = now.saturating_duration_since(since).as_nanos() / policy.interval.as_nanos();
        (rate + self.seed * policy.step * steps as f64).min(self.seed)
    }

    /// Cuts the rate unless a cut happened within the cooldown; says whether it cut.
    fn cut(&mut self, now: Instant, policy: &AdaptivePolicy) -> bool {
        if let Some((_, since)) = self.cut
            && now.saturating_duration_since(since) < policy.cooldown
        {
            return false;
        }
        let lowered = self.at(now, policy) * policy.decrease;
        self.cut = Some((lowered.max(self.seed * policy.floor), now));
        true
    }
}

#[derive(Debug)]
struct Budget {
    /// Refilled at `rate`'s effective rate, never at another.
    bucket: TokenBucket,
    /// Between `floor × seed` and the seed.
    rate: AdaptiveRate,
}

type SeedOf<K> = dyn Fn(&K) -> BucketSeed + Send + Sync;

struct Shared<K> {
    /// Sanitised once at construction.
    policy: AdaptivePolicy,
    /// The seed of a key's bucket, asked once when the bucket is created.
    seed_of: Box<SeedOf<K>>,
    /// One budget per key used so far; never removed.
    budgets: Mutex<HashMap<K, Budget>>,
}

/// Adaptive token buckets keyed by `K`; cheap to clone, all clones share the buckets.
pub struct RateBudgets<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for RateBudgets<K> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<K> fmt::Debug for RateBudgets<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateBudgets")
            .field("policy", &self.shared.policy)
            .finish_non_exhaustive()
    }
}

impl<K: Clone + Eq + Hash + Send + Sync + 'static> RateBudgets<K> {
    /// Budgets whose bucket for a key is seeded by `seed_of(key)` on first use.
    pub fn new(
        policy: AdaptivePolicy,
        seed_of: impl Fn(&K) -> BucketSeed + Send + Sync + 'static,
    ) -> Self {
        let shared = Shared {
            policy: policy.sanitised(),
            seed_of: Box::new(seed_of),
            budgets: Mutex::new(HashMap::new()),
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Budgets seeded from a table; keys not in it get `fallback`.
    pub fn from_table(
        policy: AdaptivePolicy,
        table: HashMap<K, BucketSeed>,
        fallback: BucketSeed,
    ) -> Self {
        Self::new(policy, move |key| {
            table.get(key).copied().unwrap_or(fallback)
        })
    }

    /// Waits for a token of `key`'s bucket.
    ///
    /// # Guarantees
    ///
    /// Callers of the same key are served in the order they called. Dropping the future before
    /// it completes gives its token back.
    pub async fn acquire(&self, key: &K) {
        let (ticket, mut wait) = self.with_budget(key, |budget, now, policy| {
            let rate = budget.rate.at(now, policy);
            budget.bucket.refill(now, rate);
            let ticket = budget.bucket.take_ticket();
            (ticket, budget.bucket.wait(ticket, rate))
        });
        let mut pending = Pending {
            budgets: self,
            key,
            served: wait.is_zero(),
        };
        while !wait.is_zero() {
            tokio::time::sleep(wait).await;
            wait = self.with_budget(key, |budget, now, policy| {
                let rate = budget.rate.at(now, policy);
                budget.bucket.refill(now, rate);
                budget.bucket.wait(ticket, rate)
            });
        }
        pending.served = true;
    }

    /// Reports that a call under `key` was throttled; returns whether the rate was cut (it is
    /// not within the cooldown of the previous cut).
    pub fn on_throttled(&self, key: &K) -> bool {
        self.with_budget(key, |budget, now, policy| {
            let rate = budget.rate.at(now, policy);
            budget.bucket.refill(now, rate);
            let cut = budget.rate.cut(now, policy);
            if cut {
                budget.bucket.empty();
            }
            cut
        })
    }

    /// The effective refill rate of `key`'s bucket now, in tokens per second.
    pub fn rate(&self, key: &K) -> f64 {
        let now = Instant::now();
        let budgets = self
            .shared
            .budgets
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match budgets.get(key) {
            Some(budget) => budget.rate.at(now, &self.shared.policy),
            None => (self.shared.seed_of)(key).per_second(),
        }
    }

    fn with_budget<T>(
        &self,
        key: &K,
        f: impl FnOnce(&mut Budget, Instant, &AdaptivePolicy) -> T,
    ) -> T {
        let now = Instant::now();
        let mut budgets = self
            .shared
            .budgets
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let budget = budgets.entry(key.clone()).or_insert_with(|| {
            let seed = (self.shared.seed_of)(key);
            Budget {
                bucket: TokenBucket::new(seed.burst(), now),
                rate: AdaptiveRate {
                    seed: seed.per_second(),
                    cut: None,
                },
            }
        });
        f(budget, now, &self.shared.policy)
    }
}

/// Gives a ticket's token back if its waiter goes away before being served.
struct Pending<'a, K: Clone + Eq + Hash + Send + Sync + 'static> {
    budgets: &'a RateBudgets<K>,
    key: &'a K,
    served: bool,
}

impl<K: Clone + Eq + Hash + Send + Sync + 'static> Drop for Pending<'_, K> {
    fn drop(&mut self) {
        if !self.served {
            self.budgets
                .with_budget(self.key, |budget, _, _| budget.bucket.refund());
        }
    }
}

//! Client-side rate budgets: burst, refill, fairness and the adaptive rate, under a paused clock.

// Helpers outside `#[test]` functions unwrap too: a test that cannot set up should fail loudly.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ecs_topology_core::ratelimit::{AdaptivePolicy, BucketSeed, RateBudgets, RateLimitError};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, timeout};

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);

fn budgets(burst: u32, per_second: f64) -> RateBudgets<&'static str> {
    let seed = BucketSeed::new(burst, per_second).unwrap();
    RateBudgets::new(AdaptivePolicy::default(), move |_| seed)
}

/// When each of `n` acquires in a row completed, relative to `start`.
async fn acquire_times(
    budgets: &RateBudgets<&'static str>,
    n: usize,
    start: Instant,
) -> Vec<Duration> {
    let mut times = Vec::new();
    for _ in 0..n {
        budgets.acquire(&"ecs").await;
        times.push(start.elapsed());
    }
    times
}

#[tokio::test(start_paused = true)]
async fn a_full_bucket_serves_its_burst_at_once_then_the_refill_rate() {
    let budgets = budgets(3, 10.0);
    let start = Instant::now();
    let times = acquire_times(&budgets, 6, start).await;
    assert_eq!(times, [0, 0, 0, 100, 200, 300].map(|ms| ms * MS));
}

#[tokio::test(start_paused = true)]
async fn an_idle_bucket_refills_up_to_its_burst_only() {
    let budgets = budgets(2, 10.0);
    let start = Instant::now();
    let _ = acquire_times(&budgets, 2, start).await;
    sleep(Duration::from_secs(60)).await;
    let start = Instant::now();
    let times = acquire_times(&budgets, 4, start).await;
    assert_eq!(times, [0, 0, 100, 200].map(|ms| ms * MS));
}

#[tokio::test(start_paused = true)]
async fn waiters_are_served_in_arrival_order() {
    let budgets = budgets(1, 1.0);
    let served = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let mut waiters = JoinSet::new();
    for id in 0..5 {
        let (budgets, served) = (budgets.clone(), served.clone());
        waiters.spawn(async move {
            budgets.acquire(&"ecs").await;
            served
                .lock()
                .unwrap()
                .push((id, start.elapsed().as_millis()));
        });
        sleep(10 * MS).await;
    }
    waiters.join_all().await;
    assert_eq!(
        *served.lock().unwrap(),
        [(0, 0), (1, 1000), (2, 2000), (3, 3000), (4, 4000)]
    );
}

#[tokio::test(start_paused = true)]
async fn throttling_halves_the_rate_and_it_recovers() {
    let budgets = budgets(1, 10.0);
    budgets.acquire(&"ecs").await;
    assert!(budgets.on_throttled(&"ecs"));
    assert_eq!(budgets.rate(&"ecs"), 5.0);
    assert!(
        !budgets.on_throttled(&"ecs"),
        "a second throttle within the cooldown"
    );
    assert_eq!(budgets.rate(&"ecs"), 5.0);

    let start = Instant::now();
    let times = acquire_times(&budgets, 3, start).await;
    assert_eq!(
        times,
        [200, 400, 600].map(|ms| ms * MS),
        "calls are spaced at the halved rate"
    );

    // 0.6 s after the cut; recovery adds 5 % of the seed per whole second.
    sleep(400 * MS).await;
    assert_eq!(budgets.rate(&"ecs"), 5.5);
    sleep(4 * SECOND).await;
    assert_eq!(budgets.rate(&"ecs"), 7.5);
    sleep(5 * SECOND).await;
    assert_eq!(budgets.rate(&"ecs"), 10.0);
    sleep(60 * SECOND).await;
    assert_eq!(budgets.rate(&"ecs"), 10.0, "never above the seed");
}

#[tokio::test(start_paused = true)]
async fn the_rate_never_falls_below_the_floor() {
    let budgets = budgets(1, 10.0);
    let mut rates = Vec::new();
    for _ in 0..6 {
        assert!(budgets.on_throttled(&"ecs"));
        rates.push(budgets.rate(&"ecs"));
        sleep(SECOND).await;
    }
    assert_eq!(rates, [5.0, 2.75, 1.625, 1.0625, 1.0, 1.0]);
}

#[tokio::test(start_paused = true)]
async fn a_cut_slows_waiters_already_asleep() {
    let budgets = budgets(1, 1.0);
    let start = Instant::now();
    budgets.acquire(&"ecs").await;
    let waiter = tokio::spawn({
        let budgets = budgets.clone();
        async move {
            budgets.acquire(&"ecs").await;
            start.elapsed()
        }
    });
    sleep(500 * MS).await;
    assert!(budgets.on_throttled(&"ecs"));
    assert_eq!(
        waiter.await.unwrap(),
        1500 * MS,
        "served at 1 s without the cut"
    );
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_wait_gives_its_token_back() {
    let budgets = budgets(1, 1.0);
    let start = Instant::now();
    budgets.acquire(&"ecs").await;
    assert!(timeout(100 * MS, budgets.acquire(&"ecs")).await.is_err());
    budgets.acquire(&"ecs").await;
    assert_eq!(start.elapsed(), SECOND);
}

#[tokio::test(start_paused = true)]
async fn buckets_are_independent_per_key_and_seeded_from_the_table() {
    let table = HashMap::from([
        ("ecs", BucketSeed::new(1, 1.0).unwrap()),
        ("ec2", BucketSeed::new(1, 20.0).unwrap()),
    ]);
    let fallback = BucketSeed::new(1, 100.0).unwrap();
    let budgets = RateBudgets::from_table(AdaptivePolicy::default(), table, fallback);
    assert_eq!(budgets.rate(&"ram"), 100.0);
    assert!(budgets.on_throttled(&"ecs"));
    assert_eq!(budgets.rate(&"ecs"), 0.5);
    assert_eq!(budgets.rate(&"ec2"), 20.0);

    let start = Instant::now();
    budgets.acquire(&"ec2").await;
    budgets.acquire(&"ec2").await;
    assert_eq!(
        start.elapsed(),
        50 * MS,
        "the throttled key does not slow the others"
    );
}

#[test]
fn seeds_reject_an_empty_bucket_and_a_rate_that_is_not_positive() {
    assert_eq!(BucketSeed::new(0, 1.0), Err(RateLimitError::ZeroBurst));
    for rate in [0.0, -1.0, f64::INFINITY] {
        assert_eq!(
            BucketSeed::new(1, rate),
            Err(RateLimitError::InvalidRate(rate))
        );
    }
    assert!(BucketSeed::new(1, f64::NAN).is_err());
    assert_eq!(
        RateLimitError::InvalidRate(0.0).to_string(),
        "refill rate must be a positive finite number of tokens per second, got 0"
    );
}

//! The work queue's client-go semantics, checked under a paused clock.

// Helpers outside `#[test]` functions unwrap too: a test that cannot set up should fail loudly.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ecs_topology_core::queue::{QueueObserver, RetryPolicy, WorkQueue};
use ecs_topology_core::ratelimit::BucketSeed;
use tokio::time::{Instant, sleep, timeout};

type Queue = WorkQueue<&'static str>;

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);

/// The default policy without jitter, so that delays are exact.
fn exact() -> RetryPolicy {
    RetryPolicy {
        jitter: 0.0,
        ..RetryPolicy::default()
    }
}

/// A queue without jitter, and the time it was made.
fn started() -> (Queue, Instant) {
    (Queue::new(exact()), Instant::now())
}

/// Asserts that nothing more is handed out, not even within a minute.
async fn assert_drained(queue: &Queue) {
    assert_eq!(next_key(queue, Duration::from_secs(60)).await, None);
}

/// The next key handed out within `limit`, released at once.
async fn next_key(queue: &Queue, limit: Duration) -> Option<&'static str> {
    let claim = timeout(limit, queue.next()).await.ok()??;
    let key = *claim.key();
    claim.done();
    Some(key)
}

/// The next key handed out, released after it is counted as a failure; with the time it ran.
async fn fail_next(queue: &Queue, start: Instant) -> (Duration, Option<Duration>) {
    let claim = queue.next().await.unwrap();
    let ran = start.elapsed();
    let delay = queue.add_rate_limited(*claim.key());
    claim.done();
    (ran, delay)
}

#[tokio::test(start_paused = true)]
async fn add_of_a_waiting_key_is_a_no_op() {
    let queue = Queue::new(exact());
    queue.add("a");
    queue.add("b");
    queue.add("a");
    assert_eq!(queue.stats().depth, 2);
    assert_eq!(queue.stats().adds, 2);
    assert_eq!(next_key(&queue, SECOND).await, Some("a"));
    assert_eq!(next_key(&queue, SECOND).await, Some("b"));
    assert_drained(&queue).await;
}

#[tokio::test(start_paused = true)]
async fn a_key_added_while_processing_runs_exactly_once_more() {
    let queue = Queue::new(exact());
    queue.add("a");
    let claim = queue.next().await.unwrap();
    for _ in 0..5 {
        queue.add("a");
    }
    assert_eq!(queue.stats().depth, 0);
    assert!(
        timeout(SECOND, queue.next()).await.is_err(),
        "handed to a second worker"
    );
    claim.done();
    assert_eq!(next_key(&queue, SECOND).await, Some("a"));
    assert_drained(&queue).await;
}

#[tokio::test(start_paused = true)]
async fn delayed_adds_keep_the_earliest_time() {
    let (queue, start) = started();
    queue.add_after("a", Duration::from_secs(10));
    queue.add_after("a", Duration::from_secs(20));
    queue.add_after("a", Duration::from_secs(5));
    queue.add_after("a", Duration::from_secs(7));
    assert_eq!(queue.stats().delayed, 1);
    assert_eq!(next_key(&queue, Duration::from_secs(60)).await, Some("a"));
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert_drained(&queue).await;
}

#[tokio::test(start_paused = true)]
async fn an_immediate_add_makes_a_delayed_key_due_now() {
    let (queue, start) = started();
    queue.add_after("a", Duration::from_secs(10));
    queue.add("a");
    assert_eq!(next_key(&queue, SECOND).await, Some("a"));
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_drained(&queue).await;
}

#[tokio::test(start_paused = true)]
async fn due_keys_are_handed_out_in_the_order_they_became_due() {
    let queue = Queue::new(exact());
    queue.add_after("c", Duration::from_secs(3));
    queue.add_after("b", Duration::from_secs(2));
    queue.add("a");
    sleep(Duration::from_secs(5)).await;
    queue.add("d");
    let mut order = Vec::new();
    while let Some(key) = next_key(&queue, SECOND).await {
        order.push(key);
    }
    assert_eq!(order, ["a", "b", "c", "d"]);
}

#[tokio::test(start_paused = true)]
async fn a_delayed_add_during_processing_runs_after_release_at_the_earliest_time() {
    let (queue, start) = started();
    queue.add("a");
    let claim = queue.next().await.unwrap();
    queue.add_after("a", Duration::from_secs(10));
    queue.add_after("a", Duration::from_secs(4));
    sleep(SECOND).await;
    claim.done();
    assert_eq!(next_key(&queue, Duration::from_secs(60)).await, Some("a"));
    assert_eq!(start.elapsed(), Duration::from_secs(4));

    queue.add("b");
    let claim = queue.next().await.unwrap();
    queue.add_after("b", SECOND);
    sleep(Duration::from_secs(2)).await;
    let released = start.elapsed();
    claim.done();
    assert_eq!(next_key(&queue, SECOND).await, Some("b"));
    assert_eq!(
        start.elapsed(),
        released,
        "overdue at release, so due at once"
    );
}

#[tokio::test(start_paused = true)]
async fn backoff_grows_exponentially_and_is_forgotten_on_success() {
    let (queue, start) = started();
    queue.add("a");
    let mut runs = Vec::new();
    let mut delays = Vec::new();
    for _ in 0..5 {
        let (ran, delay) = fail_next(&queue, start).await;
        runs.push(ran);
        delays.push(delay.unwrap());
    }
    assert_eq!(runs, [0, 5, 15, 35, 75].map(|ms| ms * MS));
    assert_eq!(delays, [5, 10, 20, 40, 80].map(|ms| ms * MS));
    assert_eq!(queue.failures(&"a"), 5);

    let claim = queue.next().await.unwrap();
    queue.forget(claim.key());
    claim.done();
    assert_eq!(queue.failures(&"a"), 0);
    queue.add("a");
    let (_, delay) = fail_next(&queue, start).await;
    assert_eq!(delay, Some(5 * MS));
}

#[tokio::test(start_paused = true)]
async fn a_plain_re_add_neither_counts_as_a_failure_nor_resets_backoff() {
    let (queue, start) = started();
    queue.add("a");
    for _ in 0..3 {
        let _ = fail_next(&queue, start).await;
    }
    // The third retry waits 20 ms; a change arrives before it.
    let changed = start.elapsed();
    queue.add("a");
    let (ran, delay) = fail_next(&queue, start).await;
    assert_eq!(ran, changed, "the change runs the key at once");
    assert_eq!(
        delay,
        Some(40 * MS),
        "the fourth failure backs off from the third"
    );
    assert_eq!(queue.failures(&"a"), 4);
}

#[tokio::test(start_paused = true)]
async fn backoff_is_capped() {
    let policy = RetryPolicy {
        base: SECOND,
        cap: Duration::from_secs(5),
        ..exact()
    };
    let queue = Queue::new(policy);
    let delays: Vec<_> = (0..6)
        .map(|_| queue.add_rate_limited("a").unwrap())
        .collect();
    assert_eq!(delays, [1, 2, 4, 5, 5, 5].map(Duration::from_secs));
}

#[tokio::test(start_paused = true)]
async fn the_default_backoff_reaches_its_five_minute_cap_after_sixteen_failures() {
    let queue = Queue::new(exact());
    let delays: Vec<_> = (0..18)
        .map(|_| queue.add_rate_limited("a").unwrap())
        .collect();
    assert_eq!(delays[15], 5 * MS * (1 << 15));
    assert_eq!(delays[16], Duration::from_secs(300));
    assert_eq!(delays[17], Duration::from_secs(300));
}

#[tokio::test(start_paused = true)]
async fn jitter_shortens_a_delay_by_at_most_its_fraction() {
    let policy = RetryPolicy {
        base: Duration::from_millis(100),
        jitter: 0.5,
        bucket: BucketSeed::new(1000, 1000.0).unwrap(),
        ..RetryPolicy::default()
    };
    let queue = WorkQueue::new(policy);
    let delays: Vec<_> = (0..200)
        .map(|key| queue.add_rate_limited(key).unwrap())
        .collect();
    let range = Duration::from_millis(50)..=Duration::from_millis(100);
    assert!(
        delays.iter().all(|delay| range.contains(delay)),
        "{delays:?}"
    );
    assert!(delays.iter().any(|delay| *delay != delays[0]), "no spread");
}

#[tokio::test(start_paused = true)]
async fn retries_are_also_bounded_by_the_global_bucket() {
    let policy = RetryPolicy {
        base: MS,
        bucket: BucketSeed::new(2, 1.0).unwrap(),
        ..exact()
    };
    let queue = Queue::new(policy);
    let start = Instant::now();
    let keys = ["k0", "k1", "k2", "k3", "k4"];
    let delays: Vec<_> = keys
        .iter()
        .map(|key| queue.add_rate_limited(key).unwrap())
        .collect();
    assert_eq!(delays, [MS, MS, SECOND, 2 * SECOND, 3 * SECOND]);

    let mut served = Vec::new();
    while let Some(key) = next_key(&queue, Duration::from_secs(10)).await {
        served.push((key, start.elapsed()));
    }
    let expected = [("k0", MS), ("k1", MS), ("k2", SECOND), ("k3", 2 * SECOND)];
    assert_eq!(served[..4], expected);
    assert_eq!(served[4], ("k4", 3 * SECOND));
}

#[tokio::test(start_paused = true)]
async fn a_dropped_claim_counts_as_a_failure_and_releases_its_key() {
    let (queue, start) = started();
    queue.add("a");
    drop(queue.next().await.unwrap());
    assert_eq!(queue.failures(&"a"), 1);
    assert_eq!(next_key(&queue, SECOND).await, Some("a"));
    assert_eq!(start.elapsed(), 5 * MS);
}

#[tokio::test(start_paused = true)]
async fn a_shut_down_queue_hands_out_nothing_and_ignores_adds() {
    let queue = Queue::new(exact());
    queue.add("a");
    assert_eq!(next_key(&queue, SECOND).await, Some("a"));
    let waiting = tokio::spawn({
        let queue = queue.clone();
        async move { queue.next().await.map(|claim| *claim.key()) }
    });
    sleep(SECOND).await;
    queue.shut_down();
    assert_eq!(
        waiting.await.unwrap(),
        None,
        "a waiting worker is woken with None"
    );
    queue.add("b");
    queue.add_after("c", SECOND);
    assert_eq!(queue.add_rate_limited("d"), None);
    assert!(queue.next().await.is_none());
    assert_eq!(queue.stats().depth, 0);
}

#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<String>>);

impl QueueObserver for Recorder {
    fn added(&self) {
        self.0.lock().unwrap().push("added".into());
    }
    fn retried(&self) {
        self.0.lock().unwrap().push("retried".into());
    }
    fn picked_up(&self, queued_for: Duration) {
        self.0
            .lock()
            .unwrap()
            .push(format!("picked up after {queued_for:?}"));
    }
    fn finished(&self, worked_for: Duration) {
        self.0
            .lock()
            .unwrap()
            .push(format!("finished after {worked_for:?}"));
    }
}

#[tokio::test(start_paused = true)]
async fn metrics_report_depth_adds_retries_and_durations() {
    let recorder = Arc::new(Recorder::default());
    let queue = Queue::with_observer(exact(), recorder.clone());
    queue.add("a");
    queue.add("b");
    queue.add_after("c", Duration::from_secs(60));
    sleep(Duration::from_secs(3)).await;
    let claim = queue.next().await.unwrap();
    sleep(Duration::from_secs(2)).await;
    let stats = queue.stats();
    assert_eq!((stats.depth, stats.delayed, stats.in_flight), (1, 1, 1));
    assert_eq!(stats.longest_running, Duration::from_secs(2));
    assert_eq!(stats.unfinished_work, Duration::from_secs(2));
    let _ = queue.add_rate_limited(*claim.key());
    claim.done();
    let stats = queue.stats();
    assert_eq!(
        (
            stats.in_flight,
            stats.longest_running,
            stats.adds,
            stats.retries
        ),
        (0, Duration::ZERO, 2, 1)
    );
    assert_eq!(
        *recorder.0.lock().unwrap(),
        [
            "added",
            "added",
            "picked up after 3s",
            "retried",
            "finished after 2s"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_resync_keeps_a_failing_keys_backoff_and_an_add_cuts_it_short() {
    let queue = Queue::new(exact());
    queue.add("a");
    let claim = queue.next().await.unwrap();
    let delay = queue
        .add_rate_limited_from(*claim.key(), 10 * SECOND)
        .unwrap();
    claim.done();
    assert_eq!(delay, 10 * SECOND);
    // A periodic pass re-adds every key: the failing one still waits out its backoff.
    queue.resync("a");
    assert_eq!(next_key(&queue, 5 * SECOND).await, None);
    // A change of its document is added: it runs at once.
    queue.add("a");
    assert_eq!(next_key(&queue, MS).await, Some("a"));
    // A key with no failures is due at once on a resync.
    queue.resync("b");
    assert_eq!(next_key(&queue, MS).await, Some("b"));
}

#[tokio::test(start_paused = true)]
async fn a_slow_retry_doubles_from_its_own_base() {
    let queue = Queue::new(exact());
    queue.add("a");
    let mut delays = Vec::new();
    for _ in 0..3 {
        let claim = queue.next().await.unwrap();
        delays.push(queue.add_rate_limited_from(*claim.key(), SECOND).unwrap());
        claim.done();
    }
    assert_eq!(delays, [SECOND, 2 * SECOND, 4 * SECOND]);
}

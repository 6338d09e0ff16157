//! The worker loop: bounded concurrency, one worker per key, actions, and draining on shutdown.

// Helpers outside `#[test]` functions unwrap too: a test that cannot set up should fail loudly.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ecs_topology_core::queue::{Action, Drained, QueueKey, RetryPolicy, WorkQueue, run};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);
const GRACE: Duration = Duration::from_secs(30);

/// Counts workers running now and the most ever seen at once.
#[derive(Debug, Default)]
struct Gauge {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Gauge {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

/// What the workers of one test saw: when each key ran (relative to the start of the test) and
/// how many workers ran at once. Cheap to clone; every clone records into the same place.
#[derive(Clone)]
struct Record<K> {
    runs: Arc<Mutex<Vec<(K, Duration)>>>,
    start: Instant,
    gauge: Arc<Gauge>,
}

impl<K: Clone> Record<K> {
    /// Records that `key` runs now; returns how many runs there have been, this one included.
    fn run(&self, key: K) -> usize {
        let mut runs = self.runs.lock().unwrap();
        runs.push((key, self.start.elapsed()));
        runs.len()
    }

    fn runs(&self) -> Vec<(K, Duration)> {
        self.runs.lock().unwrap().clone()
    }

    fn times(&self) -> Vec<Duration> {
        self.runs().into_iter().map(|(_, at)| at).collect()
    }
}

/// A queue without jitter holding some keys, the token that shuts its runner down, and the
/// record its workers write.
struct Bench<K: QueueKey> {
    queue: WorkQueue<K>,
    shutdown: CancellationToken,
    record: Record<K>,
}

impl<K: QueueKey + Clone> Bench<K> {
    fn new(keys: impl IntoIterator<Item = K>) -> Self {
        let queue = WorkQueue::new(RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        });
        for key in keys {
            queue.add(key);
        }
        Bench {
            queue,
            shutdown: CancellationToken::new(),
            record: Record {
                runs: Arc::default(),
                start: Instant::now(),
                gauge: Arc::default(),
            },
        }
    }

    /// Runs the queue with `n` workers and the grace period `grace`; each worker is given the
    /// key and a clone of the record.
    fn spawn_with_grace<W, F>(&self, n: usize, grace: Duration, worker: W) -> JoinHandle<Drained>
    where
        W: Fn(K, Record<K>) -> F + Send + 'static,
        F: Future<Output = Action> + Send + 'static,
    {
        let record = self.record.clone();
        tokio::spawn(run(
            self.queue.clone(),
            NonZeroUsize::new(n).unwrap(),
            self.shutdown.clone(),
            grace,
            move |key| worker(key, record.clone()),
        ))
    }

    fn spawn<W, F>(&self, n: usize, worker: W) -> JoinHandle<Drained>
    where
        W: Fn(K, Record<K>) -> F + Send + 'static,
        F: Future<Output = Action> + Send + 'static,
    {
        self.spawn_with_grace(n, GRACE, worker)
    }

    /// Lets the runner work for `time`, then shuts it down and returns how it drained.
    async fn stop_after(&self, time: Duration, runner: JoinHandle<Drained>) -> Drained {
        sleep(time).await;
        self.shutdown.cancel();
        runner.await.unwrap()
    }
}

#[tokio::test(start_paused = true)]
async fn concurrency_never_exceeds_the_bound() {
    let bench = Bench::new(0..20u32);
    let runner = bench.spawn(3, |key, record| async move {
        record.gauge.enter();
        sleep(10 * MS).await;
        record.gauge.leave();
        record.run(key);
        Action::await_change()
    });
    assert_eq!(
        bench.stop_after(SECOND, runner).await,
        Drained { aborted: 0 }
    );
    assert_eq!(bench.record.gauge.most(), 3);
    let times = bench.record.times();
    assert_eq!(times.len(), 20);
    assert_eq!(times.into_iter().max(), Some(70 * MS), "7 rounds of 3");
}

#[tokio::test(start_paused = true)]
async fn a_key_is_never_processed_by_two_workers_at_once() {
    let bench = Bench::new([]);
    let in_flight: Arc<Mutex<HashSet<u32>>> = Arc::default();
    let overlaps = Arc::new(AtomicUsize::new(0));
    let runner = bench.spawn(4, {
        let (in_flight, overlaps) = (in_flight.clone(), overlaps.clone());
        move |key: u32, record| {
            let (in_flight, overlaps) = (in_flight.clone(), overlaps.clone());
            async move {
                record.gauge.enter();
                if !in_flight.lock().unwrap().insert(key) {
                    overlaps.fetch_add(1, Ordering::SeqCst);
                }
                sleep((key % 3 + 1) * MS).await;
                in_flight.lock().unwrap().remove(&key);
                record.gauge.leave();
                match record.run(key) % 3 {
                    1 => Action::requeue(2 * MS),
                    2 => Action::retry("test"),
                    _ => Action::await_change(),
                }
            }
        }
    });
    // A deterministic storm of adds over 8 keys, several per millisecond.
    let mut seed: u32 = 12345;
    for _ in 0..2000 {
        for _ in 0..3 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let key = (seed >> 16) % 8;
            if seed.is_multiple_of(5) {
                bench.queue.add_after(key, (seed % 7) * MS);
            } else {
                bench.queue.add(key);
            }
        }
        sleep(MS).await;
    }
    assert_eq!(
        bench.stop_after(SECOND, runner).await,
        Drained { aborted: 0 }
    );
    assert_eq!(overlaps.load(Ordering::SeqCst), 0);
    assert_eq!(bench.record.gauge.most(), 4);
    let runs = bench.record.runs().len();
    assert!(runs > 1000, "only {runs} runs");
}

#[tokio::test(start_paused = true)]
async fn the_runner_reruns_a_key_added_during_its_processing_once() {
    let bench = Bench::new(["a"]);
    let runner = bench.spawn(2, |key, record| async move {
        record.run(key);
        sleep(100 * MS).await;
        Action::await_change()
    });
    sleep(10 * MS).await;
    for _ in 0..3 {
        bench.queue.add("a");
    }
    let _ = bench.stop_after(SECOND, runner).await;
    assert_eq!(
        bench.record.runs(),
        [("a", Duration::ZERO), ("a", 100 * MS)]
    );
}

#[tokio::test(start_paused = true)]
async fn success_requeues_after_the_resync_interval() {
    let bench = Bench::new(["a"]);
    let runner = bench.spawn(1, |key, record| {
        record.run(key);
        async { Action::requeue(Duration::from_secs(60)) }
    });
    let _ = bench.stop_after(Duration::from_secs(130), runner).await;
    let times: Vec<_> = bench.record.times().iter().map(|at| at.as_secs()).collect();
    assert_eq!(times, [0, 60, 120]);
}

#[tokio::test(start_paused = true)]
async fn a_failed_reconcile_is_retried_with_backoff_until_it_succeeds() {
    let bench = Bench::new(["a"]);
    let runner = bench.spawn(1, |key, record| {
        let action = match record.run(key) {
            4 => Action::requeue(Duration::from_secs(60)),
            n if n > 6 => Action::await_change(),
            _ => Action::retry("throttled"),
        };
        async move { action }
    });
    let _ = bench.stop_after(Duration::from_secs(120), runner).await;
    let times = bench.record.times();
    let resynced = Duration::from_secs(60) + 35 * MS;
    let expected = [
        Duration::ZERO,
        5 * MS,
        15 * MS,
        35 * MS,
        resynced,
        resynced + 5 * MS,
    ];
    assert_eq!(times[..6], expected, "success forgets the backoff");
    assert_eq!(times.len(), 7);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_worker_releases_its_key_and_it_is_retried() {
    let bench = Bench::new(["a"]);
    let runner = bench.spawn(1, |key, record| {
        let first = record.run(key) == 1;
        async move {
            assert!(!first, "the first run panics");
            Action::await_change()
        }
    });
    assert_eq!(
        bench.stop_after(SECOND, runner).await,
        Drained { aborted: 0 }
    );
    assert_eq!(bench.record.runs(), [("a", Duration::ZERO), ("a", 5 * MS)]);
}

#[tokio::test(start_paused = true)]
async fn shutdown_drains_in_flight_work() {
    let bench = Bench::new(["a", "b", "c"]);
    // Records when each run finishes.
    let runner = bench.spawn(2, |key, record| async move {
        sleep(SECOND).await;
        record.run(key);
        Action::requeue(MS)
    });
    assert_eq!(
        bench.stop_after(100 * MS, runner).await,
        Drained { aborted: 0 }
    );
    assert_eq!(
        bench.record.start.elapsed(),
        SECOND,
        "returns as soon as the work in flight is done"
    );
    assert_eq!(bench.record.runs(), [("a", SECOND), ("b", SECOND)]);
    assert!(bench.queue.is_shut_down());
}

#[tokio::test(start_paused = true)]
async fn work_running_past_the_grace_period_is_aborted() {
    let bench = Bench::new(["a"]);
    // Records when each run finishes: none does.
    let runner = bench.spawn_with_grace(1, 5 * SECOND, |key, record| async move {
        sleep(Duration::from_secs(3600)).await;
        record.run(key);
        Action::await_change()
    });
    assert_eq!(
        bench.stop_after(SECOND, runner).await,
        Drained { aborted: 1 }
    );
    assert_eq!(bench.record.start.elapsed(), 6 * SECOND);
    assert_eq!(bench.record.runs(), []);
    assert_eq!(
        bench.queue.stats().in_flight,
        0,
        "the aborted key is released"
    );
}

#[tokio::test(start_paused = true)]
async fn the_runner_returns_when_the_queue_is_shut_down() {
    let bench: Bench<&str> = Bench::new([]);
    let runner = bench.spawn(1, |_, _| async { Action::await_change() });
    sleep(SECOND).await;
    bench.queue.shut_down();
    assert_eq!(runner.await.unwrap(), Drained { aborted: 0 });
}

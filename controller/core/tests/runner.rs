//! The worker loop: bounded concurrency, one worker per key, actions, and draining on shutdown.

// Helpers outside `#[test]` functions unwrap too: a test that cannot set up should fail loudly.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ecs_topology_core::queue::{Action, Drained, RetryPolicy, WorkQueue, run};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);
const GRACE: Duration = Duration::from_secs(30);

fn exact<K: ecs_topology_core::queue::QueueKey>() -> WorkQueue<K> {
    WorkQueue::new(RetryPolicy {
        jitter: 0.0,
        ..RetryPolicy::default()
    })
}

fn workers(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

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
}

/// Records when each key ran, relative to `start`.
type Runs<K> = Arc<Mutex<Vec<(K, Duration)>>>;

fn spawn_run<K, W, F>(
    queue: &WorkQueue<K>,
    n: usize,
    shutdown: &CancellationToken,
    worker: W,
) -> JoinHandle<Drained>
where
    K: ecs_topology_core::queue::QueueKey,
    W: Fn(K) -> F + Send + 'static,
    F: Future<Output = Action> + Send + 'static,
{
    tokio::spawn(run(
        queue.clone(),
        workers(n),
        shutdown.clone(),
        GRACE,
        worker,
    ))
}

#[tokio::test(start_paused = true)]
async fn concurrency_never_exceeds_the_bound() {
    let queue = exact();
    let gauge = Arc::new(Gauge::default());
    let runs: Runs<u32> = Arc::default();
    let start = Instant::now();
    for key in 0..20 {
        queue.add(key);
    }
    let shutdown = CancellationToken::new();
    let runner = spawn_run(&queue, 3, &shutdown, {
        let (gauge, runs) = (gauge.clone(), runs.clone());
        move |key| {
            let (gauge, runs) = (gauge.clone(), runs.clone());
            async move {
                gauge.enter();
                sleep(10 * MS).await;
                gauge.leave();
                runs.lock().unwrap().push((key, start.elapsed()));
                Action::await_change()
            }
        }
    });
    sleep(SECOND).await;
    shutdown.cancel();
    assert_eq!(runner.await.unwrap(), Drained { aborted: 0 });
    assert_eq!(gauge.most.load(Ordering::SeqCst), 3);
    let runs = runs.lock().unwrap();
    assert_eq!(runs.len(), 20);
    assert_eq!(
        runs.iter().map(|(_, at)| *at).max(),
        Some(70 * MS),
        "7 rounds of 3"
    );
}

#[tokio::test(start_paused = true)]
async fn a_key_is_never_processed_by_two_workers_at_once() {
    let queue = exact();
    let gauge = Arc::new(Gauge::default());
    let in_flight: Arc<Mutex<HashSet<u32>>> = Arc::default();
    let overlaps = Arc::new(AtomicUsize::new(0));
    let runs = Arc::new(AtomicUsize::new(0));
    let shutdown = CancellationToken::new();
    let runner = spawn_run(&queue, 4, &shutdown, {
        let (gauge, in_flight, overlaps, runs) = (
            gauge.clone(),
            in_flight.clone(),
            overlaps.clone(),
            runs.clone(),
        );
        move |key: u32| {
            let (gauge, in_flight, overlaps, runs) = (
                gauge.clone(),
                in_flight.clone(),
                overlaps.clone(),
                runs.clone(),
            );
            async move {
                gauge.enter();
                if !in_flight.lock().unwrap().insert(key) {
                    overlaps.fetch_add(1, Ordering::SeqCst);
                }
                sleep((key % 3 + 1) * MS).await;
                in_flight.lock().unwrap().remove(&key);
                gauge.leave();
                let run = runs.fetch_add(1, Ordering::SeqCst);
                match run % 3 {
                    0 => Action::requeue(2 * MS),
                    1 => Action::retry("test"),
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
                queue.add_after(key, (seed % 7) * MS);
            } else {
                queue.add(key);
            }
        }
        sleep(MS).await;
    }
    sleep(SECOND).await;
    shutdown.cancel();
    assert_eq!(runner.await.unwrap(), Drained { aborted: 0 });
    assert_eq!(overlaps.load(Ordering::SeqCst), 0);
    assert_eq!(gauge.most.load(Ordering::SeqCst), 4);
    assert!(runs.load(Ordering::SeqCst) > 1000, "only {runs:?} runs");
}

#[tokio::test(start_paused = true)]
async fn the_runner_reruns_a_key_added_during_its_processing_once() {
    let queue = exact();
    let runs: Runs<&str> = Arc::default();
    let start = Instant::now();
    queue.add("a");
    let shutdown = CancellationToken::new();
    let runner = spawn_run(&queue, 2, &shutdown, {
        let runs = runs.clone();
        move |key| {
            let runs = runs.clone();
            async move {
                runs.lock().unwrap().push((key, start.elapsed()));
                sleep(100 * MS).await;
                Action::await_change()
            }
        }
    });
    sleep(10 * MS).await;
    for _ in 0..3 {
        queue.add("a");
    }
    sleep(SECOND).await;
    shutdown.cancel();
    let _ = runner.await.unwrap();
    assert_eq!(
        *runs.lock().unwrap(),
        [("a", Duration::ZERO), ("a", 100 * MS)]
    );
}

#[tokio::test(start_paused = true)]
async fn success_requeues_after_the_resync_interval() {
    let queue = exact();
    let runs: Runs<&str> = Arc::default();
    let start = Instant::now();
    queue.add("a");
    let shutdown = CancellationToken::new();
    let runner = spawn_run(&queue, 1, &shutdown, {
        let runs = runs.clone();
        move |key| {
            runs.lock().unwrap().push((key, start.elapsed()));
            async { Action::requeue(Duration::from_secs(60)) }
        }
    });
    sleep(Duration::from_secs(130)).await;
    shutdown.cancel();
    let _ = runner.await.unwrap();
    let times: Vec<_> = runs
        .lock()
        .unwrap()
        .iter()
        .map(|(_, at)| at.as_secs())
        .collect();
    assert_eq!(times, [0, 60, 120]);
}

#[tokio::test(start_paused = true)]
async fn a_failed_reconcile_is_retried_with_backoff_until_it_succeeds() {
    let queue = exact();
    let runs: Runs<&str> = Arc::default();
    let start = Instant::now();
    queue.add("a");
    let shutdown = CancellationToken::new();
    let runner = spawn_run(&queue, 1, &shutdown, {
        let runs = runs.clone();
        move |key| {
            let mut runs = runs.lock().unwrap();
            runs.push((key, start.elapsed()));
            let action = match runs.len() {
                4 => Action::requeue(Duration::from_secs(60)),
                n if n > 6 => Action::await_change(),
                _ => Action::retry("throttled"),
            };
            async move { action }
        }
    });
    sleep(Duration::from_secs(120)).await;
    shutdown.cancel();
    let _ = runner.await.unwrap();
    let times: Vec<_> = runs.lock().unwrap().iter().map(|(_, at)| *at).collect();
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
    let queue = exact();
    let runs: Runs<&str> = Arc::default();
    let start = Instant::now();
    queue.add("a");
    let shutdown = CancellationToken::new();
    let runner = spawn_run(&queue, 1, &shutdown, {
        let runs = runs.clone();
        move |key| {
            let first = {
                let mut runs = runs.lock().unwrap();
                runs.push((key, start.elapsed()));
                runs.len() == 1
            };
            async move {
                assert!(!first, "the first run panics");
                Action::await_change()
            }
        }
    });
    sleep(SECOND).await;
    shutdown.cancel();
    assert_eq!(runner.await.unwrap(), Drained { aborted: 0 });
    assert_eq!(
        *runs.lock().unwrap(),
        [("a", Duration::ZERO), ("a", 5 * MS)]
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_drains_in_flight_work() {
    let queue = exact();
    let finished: Runs<&str> = Arc::default();
    let start = Instant::now();
    for key in ["a", "b", "c"] {
        queue.add(key);
    }
    let shutdown = CancellationToken::new();
    let runner = spawn_run(&queue, 2, &shutdown, {
        let finished = finished.clone();
        move |key| {
            let finished = finished.clone();
            async move {
                sleep(SECOND).await;
                finished.lock().unwrap().push((key, start.elapsed()));
                Action::requeue(MS)
            }
        }
    });
    sleep(100 * MS).await;
    shutdown.cancel();
    assert_eq!(runner.await.unwrap(), Drained { aborted: 0 });
    assert_eq!(
        start.elapsed(),
        SECOND,
        "returns as soon as the work in flight is done"
    );
    assert_eq!(*finished.lock().unwrap(), [("a", SECOND), ("b", SECOND)]);
    assert!(queue.is_shut_down());
}

#[tokio::test(start_paused = true)]
async fn work_running_past_the_grace_period_is_aborted() {
    let queue = exact();
    let finished = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    queue.add("a");
    let shutdown = CancellationToken::new();
    let worker = {
        let finished = finished.clone();
        move |_key| {
            let finished = finished.clone();
            async move {
                sleep(Duration::from_secs(3600)).await;
                finished.fetch_add(1, Ordering::SeqCst);
                Action::await_change()
            }
        }
    };
    let runner = tokio::spawn(run(
        queue.clone(),
        workers(1),
        shutdown.clone(),
        5 * SECOND,
        worker,
    ));
    sleep(SECOND).await;
    shutdown.cancel();
    assert_eq!(runner.await.unwrap(), Drained { aborted: 1 });
    assert_eq!(start.elapsed(), 6 * SECOND);
    assert_eq!(finished.load(Ordering::SeqCst), 0);
    assert_eq!(queue.stats().in_flight, 0, "the aborted key is released");
}

#[tokio::test(start_paused = true)]
async fn the_runner_returns_when_the_queue_is_shut_down() {
    let queue: WorkQueue<&str> = exact();
    let runner = spawn_run(&queue, 1, &CancellationToken::new(), |_| async {
        Action::await_change()
    });
    sleep(SECOND).await;
    queue.shut_down();
    assert_eq!(runner.await.unwrap(), Drained { aborted: 0 });
}

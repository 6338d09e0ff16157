//! Liveness of the controller's background tasks and readiness of the controller, as the daemon
//! reports them and `/healthz` and `/readyz` read them.
//!
//! A task is watched one of two ways:
//! - a loop that wakes on its own (the source loop, the observer loop) beats through a
//!   [`Heartbeat`] and is unhealthy once silent longer than its limit, so a wedged loop shows;
//! - workers that wait for work (the reconcile runner) report each piece of work they start and
//!   finish through [`Progress`], and are unhealthy while work is in flight and none has started
//!   or finished for longer than their limit, so workers all stuck on work that never ends show;
//!   idle workers are healthy. They hold a [`TaskGuard`] and are unhealthy once it is dropped,
//!   i.e. once the task returned or panicked.
//!
//! # Guarantees
//! Never healthy by default: with no task registered, [`Health::unhealthy`] says so.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Liveness of the background tasks and readiness of the controller; shared as `Arc<Health>`.
#[derive(Debug, Default)]
pub struct Health {
    tasks: Mutex<BTreeMap<&'static str, Task>>,
    readiness: Mutex<Readiness>,
}

#[derive(Debug, Clone, Copy)]
enum Task {
    /// Alive while it beats at least every `stale_after`.
    Beating {
        last: Instant,
        stale_after: Duration,
    },
    /// Alive while nothing is in flight, or something started or finished within `stale_after`.
    Working {
        in_flight: usize,
        /// When work last started or finished (or the task was registered).
        last: Instant,
        stale_after: Duration,
    },
    /// Its guard was dropped.
    Stopped,
}

#[derive(Debug, Default)]
struct Readiness {
    /// Each source (its URI), and whether it has loaded completely once.
    sources: BTreeMap<String, bool>,
    /// `None` without a lease; otherwise whether its state (held or not) is known yet.
    lease_known: Option<bool>,
}

/// A looping task's handle to report that it is alive; cheap to clone.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    health: Arc<Health>,
    task: &'static str,
}

impl Heartbeat {
    /// Reports that the task is alive now.
    pub fn beat(&self) {
        self.health.beat(self.task);
    }
}

/// Workers' handle to report the work they start and finish; cheap to clone.
#[derive(Debug, Clone)]
pub struct Progress {
    health: Arc<Health>,
    task: &'static str,
}

impl Progress {
    /// A piece of work started.
    pub fn started(&self) {
        self.health.progress(self.task, |in_flight| *in_flight += 1);
    }

    /// A piece of work finished (or was abandoned).
    pub fn finished(&self) {
        self.health.progress(self.task, |in_flight| {
            *in_flight = in_flight.saturating_sub(1)
        });
    }

    /// Watches the workers as running until the returned guard is dropped: then they count as
    /// stopped, whatever their progress.
    pub fn guard(&self) -> TaskGuard {
        TaskGuard {
            health: self.health.clone(),
            task: self.task,
        }
    }
}

/// Held by a task for as long as it runs; dropping it marks the task stopped.
#[derive(Debug)]
#[must_use = "the task counts as stopped once the guard is dropped"]
pub struct TaskGuard {
    health: Arc<Health>,
    task: &'static str,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        lock(&self.health.tasks).insert(self.task, Task::Stopped);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Health {
    pub fn new() -> Health {
        Health::default()
    }

    /// Expects `task` to beat at least every `stale_after` from now on. Allow for the task's
    /// longest quiet time: an observer beats once per poll, plus the time of a pass.
    pub fn register(self: &Arc<Self>, task: &'static str, stale_after: Duration) -> Heartbeat {
        let state = Task::Beating {
            last: Instant::now(),
            stale_after,
        };
        lock(&self.tasks).insert(task, state);
        Heartbeat {
            health: self.clone(),
            task,
        }
    }

    /// Expects the workers called `task` to start or finish something at least every
    /// `stale_after` while anything is in flight.
    pub fn working(self: &Arc<Self>, task: &'static str, stale_after: Duration) -> Progress {
        let state = Task::Working {
            in_flight: 0,
            last: Instant::now(),
            stale_after,
        };
        lock(&self.tasks).insert(task, state);
        Progress {
            health: self.clone(),
            task,
        }
    }

    /// Counts work of `task` started or finished now; a task not registered as working (or
    /// stopped) is ignored.
    fn progress(&self, task: &'static str, change: impl FnOnce(&mut usize)) {
        if let Some(Task::Working {
            in_flight, last, ..
        }) = lock(&self.tasks).get_mut(task)
        {
            change(in_flight);
            *last = Instant::now();
        }
    }

    /// Reports that `task` is alive now; a task not registered to beat is ignored.
    pub fn beat(&self, task: &'static str) {
        if let Some(Task::Beating { last, .. }) = lock(&self.tasks).get_mut(task) {
            *last = Instant::now();
        }
    }

    /// Why the process is not healthy: each stale or stopped task; empty when healthy.
    pub fn unhealthy(&self) -> Vec<String> {
        let now = Instant::now();
        let tasks = lock(&self.tasks);
        if tasks.is_empty() {
            return vec!["no background task registered".to_owned()];
        }
        tasks
            .iter()
            .filter_map(|(task, state)| match *state {
                Task::Beating { last, stale_after } => {
                    let silent = now.saturating_duration_since(last);
                    (silent > stale_after).then(|| {
                        format!(
                            "task `{task}` silent for {:.1}s (limit {:.1}s)",
                            silent.as_secs_f64(),
                            stale_after.as_secs_f64()
                        )
                    })
                }
                Task::Working {
                    in_flight,
                    last,
                    stale_after,
                } => {
                    let still = now.saturating_duration_since(last);
                    (in_flight > 0 && still > stale_after).then(|| {
                        format!(
                            "task `{task}`: {in_flight} in flight and none started or finished \
                             for {:.1}s (limit {:.1}s)",
                            still.as_secs_f64(),
                            stale_after.as_secs_f64()
                        )
                    })
                }
                Task::Stopped => Some(format!("task `{task}` has stopped")),
            })
            .collect()
    }

    /// Expects `source` (its URI) to load completely before the controller is ready.
    pub fn expect_source(&self, source: impl Into<String>) {
        lock(&self.readiness)
            .sources
            .entry(source.into())
            .or_insert(false);
    }

    /// Notes that `source` has loaded completely.
    pub fn source_loaded(&self, source: &str) {
        if let Some(loaded) = lock(&self.readiness).sources.get_mut(source) {
            *loaded = true;
        }
    }

    /// Expects the lease state to be known before the controller is ready.
    pub fn expect_lease(&self) {
        lock(&self.readiness).lease_known.get_or_insert(false);
    }

    /// Notes that the lease state is known (held here or by another replica).
    pub fn lease_known(&self) {
        if let Some(known) = &mut lock(&self.readiness).lease_known {
            *known = true;
        }
    }

    /// Why the controller is not ready; empty when it is.
    pub fn not_ready(&self) -> Vec<String> {
        let readiness = lock(&self.readiness);
        let mut reasons: Vec<String> = readiness
            .sources
            .iter()
            .filter(|(_, loaded)| !**loaded)
            .map(|(source, _)| format!("source {source} has not loaded completely yet"))
            .collect();
        if readiness.sources.is_empty() {
            reasons.push("no source registered".to_owned());
        }
        if readiness.lease_known == Some(false) {
            reasons.push("lease state not known yet".to_owned());
        }
        reasons
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_registered_is_not_healthy() {
        let health = Health::new();
        assert_eq!(health.unhealthy(), ["no background task registered"]);
        assert_eq!(health.not_ready(), ["no source registered"]);
    }

    #[test]
    fn a_task_is_healthy_only_while_it_beats_within_its_limit() {
        let health = Arc::new(Health::new());
        let heartbeat = health.register("observer", Duration::from_secs(3600));
        heartbeat.beat();
        assert!(health.unhealthy().is_empty());
        health.register("sources", Duration::ZERO);
        std::thread::sleep(Duration::from_millis(2));
        let reasons = health.unhealthy();
        assert_eq!(reasons.len(), 1);
        assert!(
            reasons[0].starts_with("task `sources` silent for"),
            "{reasons:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn workers_are_unhealthy_only_while_work_is_in_flight_and_nothing_moves() {
        let health = Arc::new(Health::new());
        let progress = health.working("reconciler", Duration::from_secs(60));
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert!(health.unhealthy().is_empty(), "idle workers are healthy");

        progress.started();
        progress.started();
        tokio::time::advance(Duration::from_secs(50)).await;
        progress.finished();
        tokio::time::advance(Duration::from_secs(50)).await;
        assert!(health.unhealthy().is_empty(), "one finished 50s ago");

        tokio::time::advance(Duration::from_secs(11)).await;
        assert_eq!(
            health.unhealthy(),
            ["task `reconciler`: 1 in flight and none started or finished for 61.0s (limit 60.0s)"]
        );

        progress.finished();
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert!(health.unhealthy().is_empty(), "idle again");
    }

    #[tokio::test(start_paused = true)]
    async fn workers_that_stopped_are_unhealthy_whatever_their_progress() {
        let health = Arc::new(Health::new());
        let progress = health.working("reconciler", Duration::from_secs(60));
        let guard = progress.guard();
        assert!(health.unhealthy().is_empty());
        drop(guard);
        progress.started();
        progress.finished();
        assert_eq!(health.unhealthy(), ["task `reconciler` has stopped"]);
    }

    #[test]
    fn a_lease_not_configured_is_not_waited_for() {
        let health = Health::new();
        health.expect_source("examples/");
        health.source_loaded("examples/");
        health.lease_known();
        assert!(health.not_ready().is_empty());
    }
}

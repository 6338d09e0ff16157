//! The controller's Prometheus metrics: one registry, every family registered at start.
//!
//! # Guarantees
//! - Labels are bounded: kind, account alias, AWS service and operation, outcome or error
//!   class, field class and source kind. No label ever carries a document or object name; a
//!   label value outside its known set is reported as `other`.
//! - Gauges that describe the whole document set (documents, drifted documents) are recomputed
//!   from the current state, never accumulated, so a removed document stops counting.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ecs_topology_core::engine::{DesiredSet, ReconcileResult};
use ecs_topology_core::model::{Key, Kind};
use ecs_topology_core::plan::{DocumentPlan, Verb};
use ecs_topology_core::queue::QueueStats;
use ecs_topology_core::status::{ConditionStatus, ConditionType};
use ecs_topology_core::status_store::StatusRecord;
use prometheus::core::Collector;
use prometheus::{
    Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TEXT_FORMAT, TextEncoder,
};

// Also compiled into `tests/deploy.rs`, which uses the part that says what may be emitted.
#[allow(dead_code)]
mod labels;
mod observers;

use ecs_topology_core::status_writer::WriteResult;
use labels::{Family, VALIDITY};
pub use labels::{SourceKind, field_class};

/// Buckets for reconcile and work durations, in seconds.
const WORK_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// Buckets for the time a key waits in the queue, in seconds.
const QUEUE_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// How many documents of one kind loaded valid and invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DocumentCounts {
    pub valid: usize,
    pub invalid: usize,
}

/// The counts per kind of a desired set: its documents are valid, its rejected keys invalid.
pub fn document_counts(set: &DesiredSet) -> BTreeMap<Kind, DocumentCounts> {
    let mut counts: BTreeMap<Kind, DocumentCounts> = BTreeMap::new();
    for key in set.documents.keys() {
        counts.entry(key.kind).or_default().valid += 1;
    }
    for key in &set.rejected {
        counts.entry(key.kind).or_default().invalid += 1;
    }
    counts
}

/// How long the oldest document whose `Synced` condition is not `True` has been so, at `now`;
/// zero when every document is synced.
pub fn oldest_unsynced<'a>(
    records: impl IntoIterator<Item = &'a StatusRecord>,
    now: SystemTime,
) -> Duration {
    let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    records
        .into_iter()
        .filter_map(|r| r.status.condition(ConditionType::Synced))
        .filter(|c| c.status != ConditionStatus::True)
        .map(|c| Duration::from_secs(now.saturating_sub(c.last_transition_time)))
        .max()
        .unwrap_or_default()
}

/// A hook run before every scrape, to refresh gauges read from elsewhere (the work queue).
type ScrapeHook = Box<dyn Fn(&Metrics) + Send + Sync>;

/// The drifted documents as last planned, to recompute the drifted gauge.
#[derive(Debug, Default)]
struct DriftBook {
    /// Each drifted document's kind, account label and drifted field classes.
    drifted: HashMap<Key, (Kind, String, BTreeSet<String>)>,
    /// Every (kind, account) pair ever reported, so that a pair whose drift is gone reads 0.
    pairs: BTreeSet<(Kind, String)>,
    /// Documents whose key tags more than one object, with their kind.
    several: HashMap<Key, Kind>,
}

/// Every metric of the controller, registered in its own registry.
pub struct Metrics {
    registry: Registry,
    documents: IntGaugeVec,
    documents_drifted: IntGaugeVec,
    drift_detections: IntCounterVec,
    reconciles: IntCounterVec,
    reconcile_duration: HistogramVec,
    queue_depth: IntGauge,
    queue_adds: IntCounter,
    queue_retries: IntCounter,
    queue_duration: Histogram,
    work_duration: Histogram,
    longest_running: Gauge,
    aws_calls: IntCounterVec,
    aws_throttles: IntCounterVec,
    source_last_success: GaugeVec,
    leader: IntGauge,
    prune_blocked: IntCounter,
    credentials_expiry: GaugeVec,
    oldest_unsynced: Gauge,
    status_writes: IntCounterVec,
    owning_several: IntGaugeVec,
    events: IntCounterVec,
    events_ignored: IntCounter,
    event_lag: Histogram,
    event_failures: IntCounter,
    event_queue_age: Gauge,
    targeted: IntCounterVec,
    /// Account ids to aliases, so that an account is labelled by its alias when it has one.
    aliases: RwLock<BTreeMap<String, String>>,
    drift: Mutex<DriftBook>,
    hooks: Mutex<Vec<ScrapeHook>>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn register<T: Collector + Clone + 'static>(
    registry: &Registry,
    metric: T,
) -> prometheus::Result<T> {
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Metrics {
    /// Every family registered, with the label values known up front (kinds, results)
    /// initialised to zero so that rates work from the first scrape.
    ///
    /// # Errors
    ///
    /// A family that cannot be registered (a programming error: an invalid or duplicate name).
    pub fn new() -> prometheus::Result<Metrics> {
        let r = Registry::new();
        let gauge_vec = |f: Family, help: &str| {
            register(&r, IntGaugeVec::new(Opts::new(f.name, help), f.labels)?)
        };
        let float_gauge_vec =
            |f: Family, help: &str| register(&r, GaugeVec::new(Opts::new(f.name, help), f.labels)?);
        let counter_vec = |f: Family, help: &str| {
            register(&r, IntCounterVec::new(Opts::new(f.name, help), f.labels)?)
        };
        let histogram = |f: Family, help: &str, buckets: &[f64]| {
            let opts = HistogramOpts::new(f.name, help).buckets(buckets.to_vec());
            register(&r, Histogram::with_opts(opts)?)
        };
        let metrics = Metrics {
            documents: gauge_vec(
                labels::DOCUMENTS,
                "Documents in the desired state, by kind and validity.",
            )?,
            documents_drifted: gauge_vec(
                labels::DOCUMENTS_DRIFTED,
                "Documents whose AWS object differed from the document in their last plan.",
            )?,
            drift_detections: counter_vec(
                labels::DRIFT_DETECTIONS,
                "Drift found in a document's AWS object, by the first segment of the field path.",
            )?,
            reconciles: counter_vec(
                labels::RECONCILES,
                "Reconciles by kind and result (an error class when it failed).",
            )?,
            reconcile_duration: register(
                &r,
                HistogramVec::new(
                    HistogramOpts::new(
                        labels::RECONCILE_DURATION.name,
                        "How long one reconcile took.",
                    )
                    .buckets(WORK_BUCKETS.to_vec()),
                    labels::RECONCILE_DURATION.labels,
                )?,
            )?,
            queue_depth: register(
                &r,
                IntGauge::new(
                    labels::QUEUE_DEPTH.name,
                    "Keys due and waiting for a worker.",
                )?,
            )?,
            queue_adds: register(
                &r,
                IntCounter::new(
                    labels::QUEUE_ADDS.name,
                    "Times a key became due in the work queue.",
                )?,
            )?,
            queue_retries: register(
                &r,
                IntCounter::new(
                    labels::QUEUE_RETRIES.name,
                    "Retries scheduled after failed reconciles.",
                )?,
            )?,
            queue_duration: histogram(
                labels::QUEUE_DURATION,
                "How long a key waited in the queue after it became due.",
                QUEUE_BUCKETS,
            )?,
            work_duration: histogram(
                labels::WORK_DURATION,
                "How long a worker held a key.",
                WORK_BUCKETS,
            )?,
            longest_running: register(
                &r,
                Gauge::new(
                    labels::LONGEST_RUNNING.name,
                    "How long the oldest key in flight has been processed.",
                )?,
            )?,
            aws_calls: counter_vec(
                labels::AWS_CALLS,
                "AWS calls by service, operation, account and outcome (ok or an error class).",
            )?,
            aws_throttles: counter_vec(
                labels::AWS_THROTTLES,
                "AWS call attempts answered with a throttling error.",
            )?,
            source_last_success: float_gauge_vec(
                labels::SOURCE_LAST_SUCCESS,
                "When the desired state last loaded completely from a source, in Unix seconds.",
            )?,
            leader: register(
                &r,
                IntGauge::new(
                    labels::LEADER.name,
                    "1 while this replica holds the lease and may change AWS.",
                )?,
            )?,
            prune_blocked: register(
                &r,
                IntCounter::new(
                    labels::PRUNE_BLOCKED.name,
                    "Passes in which pruning was held back by the safety limit.",
                )?,
            )?,
            credentials_expiry: float_gauge_vec(
                labels::CREDENTIALS_EXPIRY,
                "Seconds until an account's credentials expire (negative once expired).",
            )?,
            oldest_unsynced: register(
                &r,
                Gauge::new(
                    labels::OLDEST_UNSYNCED.name,
                    "How long the oldest document not in sync has been so.",
                )?,
            )?,
            status_writes: counter_vec(
                labels::STATUS_WRITES,
                "Writes of document status to the status store, by how they ended; only the \
                 leader writes, and a failed write is retried.",
            )?,
            owning_several: gauge_vec(
                labels::OWNING_SEVERAL,
                "Documents whose key tag is on more than one object where they manage one; each \
                 is blocked until all but one are removed by hand.",
            )?,
            events: counter_vec(
                labels::EVENTS,
                "Change events read from the events queue, by service and outcome (mapped: \
                 observed again; own: the controller's own change).",
            )?,
            events_ignored: register(
                &r,
                IntCounter::new(
                    labels::EVENTS_IGNORED.name,
                    "Messages of the events queue that touch nothing managed (deleted).",
                )?,
            )?,
            event_lag: histogram(
                labels::EVENT_LAG,
                "Seconds from a change (its CloudTrail eventTime) to its observation.",
                &[0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0],
            )?,
            event_failures: register(
                &r,
                IntCounter::new(
                    labels::EVENT_FAILURES.name,
                    "Failed calls to the events queue (receive or delete); retried.",
                )?,
            )?,
            event_queue_age: register(
                &r,
                Gauge::new(
                    labels::EVENT_QUEUE_AGE.name,
                    "Age of the oldest message the last receive from the events queue returned \
                     (0 when it returned none): how far behind its queue the controller is.",
                )?,
            )?,
            targeted: counter_vec(
                labels::TARGETED_OBSERVATIONS,
                "Observations of one account, region and kind made for change events.",
            )?,
            aliases: RwLock::default(),
            drift: Mutex::default(),
            hooks: Mutex::default(),
            registry: r.clone(),
        };
        let build_info = gauge_vec(labels::BUILD_INFO, "The controller's version; always 1.")?;
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        for kind in Kind::ALL {
            let kind = kind.as_str();
            metrics.reconcile_duration.with_label_values(&[kind]);
            for result in ReconcileResult::all() {
                metrics
                    .reconciles
                    .with_label_values(&[kind, result.as_str()]);
            }
            for validity in VALIDITY {
                metrics.documents.with_label_values(&[kind, validity]);
            }
            metrics.owning_several.with_label_values(&[kind]);
        }
        for write in WriteResult::ALL {
            metrics.status_writes.with_label_values(&[write.as_str()]);
        }
        for kind in Kind::ALL {
            metrics.targeted.with_label_values(&[kind.as_str()]);
        }
        Ok(metrics)
    }

    /// Labels accounts by the aliases of the controller config (`alias → id`, as in its
    /// `accounts`); an account without an alias keeps its id.
    pub fn set_account_aliases(&self, aliases: &BTreeMap<String, String>) {
        let by_id = aliases
            .iter()
            .map(|(alias, id)| (id.clone(), alias.clone()))
            .collect();
        *self.aliases.write().unwrap_or_else(PoisonError::into_inner) = by_id;
    }

    fn account_label(&self, account: &str) -> String {
        let aliases = self.aliases.read().unwrap_or_else(PoisonError::into_inner);
        aliases
            .get(account)
            .cloned()
            .unwrap_or_else(|| account.to_owned())
    }

    /// Runs `hook` before every scrape, e.g. to read the work queue's levels:
    /// `metrics.on_scrape(move |m| m.record_queue(&queue.stats()))`.
    pub fn on_scrape(&self, hook: impl Fn(&Metrics) + Send + Sync + 'static) {
        lock(&self.hooks).push(Box::new(hook));
    }

    /// Sets the document gauges from the counts of the current desired state; a kind absent
    /// from `counts` has none.
    pub fn record_documents(&self, counts: &BTreeMap<Kind, DocumentCounts>) {
        for kind in Kind::ALL {
            let c = counts.get(&kind).copied().unwrap_or_default();
            let set = |validity: &str, n: usize| {
                self.documents
                    .with_label_values(&[kind.as_str(), validity])
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            };
            let [valid, invalid] = VALIDITY;
            set(valid, c.valid);
            set(invalid, c.invalid);
        }
    }

    /// Records a document's plan (before acting): counts the field classes that newly drifted
    /// and updates the drifted gauge. `account` is an alias, or an id labelled by its alias.
    pub fn record_plan(&self, kind: Kind, account: &str, plan: &DocumentPlan) {
        let account = self.account_label(account);
        let drifted =
            matches!(plan.verb, Verb::Update | Verb::Suspended) && !plan.changes.is_empty();
        let mut book = lock(&self.drift);
        if drifted {
            let classes: BTreeSet<String> = plan
                .changes
                .iter()
                .map(|c| field_class(&c.path).to_owned())
                .collect();
            let known = book.drifted.get(&plan.key).map(|(_, _, c)| c);
            for class in &classes {
                if known.is_none_or(|known| !known.contains(class)) {
                    self.drift_detections
                        .with_label_values(&[kind.as_str(), class.as_str()])
                        .inc();
                }
            }
            book.drifted
                .insert(plan.key.clone(), (kind, account.clone(), classes));
        } else {
            book.drifted.remove(&plan.key);
        }
        book.pairs.insert((kind, account));
        if plan.owns_several {
            book.several.insert(plan.key.clone(), kind);
        } else {
            book.several.remove(&plan.key);
        }
        self.set_drifted(&book);
    }

    /// Forgets documents that are gone (`live` is false for them) from the drifted gauge.
    pub fn retain_documents(&self, live: impl Fn(&Key) -> bool) {
        let mut book = lock(&self.drift);
        book.drifted.retain(|key, _| live(key));
        book.several.retain(|key, _| live(key));
        self.set_drifted(&book);
    }

    fn set_drifted(&self, book: &DriftBook) {
        let mut counts: BTreeMap<(Kind, &str), i64> = BTreeMap::new();
        for (kind, account, _) in book.drifted.values() {
            *counts.entry((*kind, account.as_str())).or_default() += 1;
        }
        for (kind, account) in &book.pairs {
            let n = counts.get(&(*kind, account.as_str())).copied().unwrap_or(0);
            self.documents_drifted
                .with_label_values(&[kind.as_str(), account.as_str()])
                .set(n);
        }
        for kind in Kind::ALL {
            let n = book.several.values().filter(|k| **k == kind).count();
            self.owning_several
                .with_label_values(&[kind.as_str()])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    /// Counts a finished reconcile by how it ended.
    pub fn record_reconcile(&self, kind: Kind, result: ReconcileResult) {
        self.reconciles
            .with_label_values(&[kind.as_str(), result.as_str()])
            .inc();
    }

    /// Records a reconcile's duration measured elsewhere.
    pub fn observe_reconcile_duration(&self, kind: Kind, took: Duration) {
        self.reconcile_duration
            .with_label_values(&[kind.as_str()])
            .observe(took.as_secs_f64());
    }

    /// Sets the work-queue gauges (depth, longest running) from the queue's levels.
    pub fn record_queue(&self, stats: &QueueStats) {
        self.queue_depth
            .set(i64::try_from(stats.depth).unwrap_or(i64::MAX));
        self.longest_running
            .set(stats.longest_running.as_secs_f64());
    }

    /// Starts the event counters at zero for every service the kinds take events of, so that a
    /// silent event path shows as zeros (and its alert can fire).
    pub fn expect_events(&self) {
        for service in ecs_topology_core::events::sources() {
            for outcome in labels::EVENT_OUTCOMES {
                self.events.with_label_values(&[service, outcome]);
            }
        }
    }

    /// Counts a change event read from the queue: `own` when the controller made the change.
    pub fn event_read(&self, service: &str, own: bool) {
        let outcome = labels::EVENT_OUTCOMES[usize::from(own)];
        self.events.with_label_values(&[service, outcome]).inc();
    }

    /// Counts a message of the events queue that touches nothing managed.
    pub fn event_ignored(&self) {
        self.events_ignored.inc();
    }

    /// Observes the time from a change to its observation.
    pub fn event_lag(&self, lag: Duration) {
        self.event_lag.observe(lag.as_secs_f64());
    }

    /// Counts a failed call to the events queue.
    pub fn event_queue_failed(&self) {
        self.event_failures.inc();
    }

    /// Sets the age of the oldest message a receive from the events queue returned; zero when
    /// it returned none.
    pub fn set_event_queue_age(&self, age: Duration) {
        self.event_queue_age.set(age.as_secs_f64());
    }

    /// Counts an observation of `kind` in one scope made for change events.
    pub fn targeted_observation(&self, kind: Kind) {
        self.targeted.with_label_values(&[kind.as_str()]).inc();
    }

    /// Counts one write of a document's status.
    pub fn status_written(&self, result: WriteResult) {
        self.status_writes
            .with_label_values(&[result.as_str()])
            .inc();
    }

    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// Counts a pass in which pruning was held back by the safety limit.
    pub fn prune_blocked(&self) {
        self.prune_blocked.inc();
    }

    /// Notes that `source` just loaded completely.
    pub fn source_loaded(&self, source: SourceKind) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.source_last_success
            .with_label_values(&[source.as_str()])
            .set(now);
    }

    /// Sets the seconds until each account's credentials expire, replacing the previous set.
    pub fn set_credentials_expiry(&self, expiries: Vec<(String, SystemTime)>) {
        let now = SystemTime::now();
        self.credentials_expiry.reset();
        for (account, expiry) in expiries {
            let seconds = match expiry.duration_since(now) {
                Ok(left) => left.as_secs_f64(),
                Err(past) => -past.duration().as_secs_f64(),
            };
            self.credentials_expiry
                .with_label_values(&[self.account_label(&account).as_str()])
                .set(seconds);
        }
    }

    /// Sets the age of the oldest document not in sync (see [`oldest_unsynced`]).
    pub fn set_oldest_unsynced(&self, age: Duration) {
        self.oldest_unsynced.set(age.as_secs_f64());
    }

    /// Every family in the Prometheus text format, after running the scrape hooks.
    ///
    /// # Errors
    ///
    /// A family that cannot be encoded (a programming error).
    pub fn encode(&self) -> prometheus::Result<String> {
        for hook in lock(&self.hooks).iter() {
            hook(self);
        }
        TextEncoder::new().encode_to_string(&self.registry.gather())
    }

    /// The content type of [`encode`](Self::encode)'s output.
    pub const CONTENT_TYPE: &'static str = TEXT_FORMAT;
}

#[cfg(test)]
mod tests;

//! The daemon over a stateful in-memory cloud: it converges, changes nothing while not leading,
//! and corrects drift on the next poll.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ecs_topology_core::config::ControllerConfig;
use ecs_topology_core::engine::{Change, Daemon, Leader, Leadership, PassView, Scope, Silent};
use ecs_topology_core::kinds::binding::{BindingCloud, Bindings, ObservedBoundService};
use ecs_topology_core::kinds::endpoints::{EndpointCloud, EndpointSets};
use ecs_topology_core::kinds::express::{ExpressCloud, ExpressServices};
use ecs_topology_core::kinds::namespace::{NamespaceCloud, NamespaceScan, Namespaces};
use ecs_topology_core::kinds::peering::{
    Network, NetworkWants, ObservedPeering, PeeringApplied, PeeringCloud, Peerings,
};
use ecs_topology_core::kinds::share::{ShareCloud, Shares};
use ecs_topology_core::load::SourceFile;
use ecs_topology_core::model::{Key, Kind, VpcEndpointSetSpec};
use ecs_topology_core::observed::{
    ObservedEndpoint, ObservedExpressService, ObservedNamespace, ObservedShare,
};
use ecs_topology_core::queue::NoObserver;
use ecs_topology_core::queue::RetryPolicy;
use ecs_topology_core::status::{ErrorClass, ErrorInfo};
use ecs_topology_core::store::desired_store;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Namespaces by scope; counts every change and every attempt; fails changes with `fail`.
#[derive(Default)]
struct FakeCloud {
    namespaces: Mutex<BTreeMap<Scope, Vec<ObservedNamespace>>>,
    changes: Mutex<u32>,
    attempts: Mutex<u32>,
    fail: Mutex<Option<ErrorClass>>,
    /// When set, a change stops half-way until notified (a long Cloud Map operation).
    stall: Mutex<Option<Arc<tokio::sync::Notify>>>,
    /// When set, an observation reads the namespaces, then waits until notified before it
    /// answers (a slow pass, whose reply is older than a change made meanwhile).
    slow_read: Mutex<Option<Arc<tokio::sync::Notify>>>,
}

impl NamespaceCloud for FakeCloud {
    async fn observe_namespaces(&self, scope: &Scope) -> Result<NamespaceScan, ErrorInfo> {
        let owned = self
            .namespaces
            .lock()
            .unwrap()
            .get(scope)
            .cloned()
            .unwrap_or_default();
        let slow = self.slow_read.lock().unwrap().clone();
        if let Some(slow) = slow {
            slow.notified().await;
        }
        Ok(NamespaceScan {
            owned,
            shared: BTreeSet::new(),
        })
    }
    async fn visible_namespaces(&self, _: &Scope) -> Result<Option<BTreeSet<String>>, ErrorInfo> {
        Ok(None)
    }
    async fn apply_namespace(
        &self,
        change: Change<'_, Namespaces>,
    ) -> Result<Option<ObservedNamespace>, ErrorInfo> {
        *self.attempts.lock().unwrap() += 1;
        if let Some(class) = *self.fail.lock().unwrap() {
            return Err(ErrorInfo::new(class, "not allowed"));
        }
        let stall = self.stall.lock().unwrap().clone();
        if let Some(stall) = stall {
            stall.notified().await;
        }
        *self.changes.lock().unwrap() += 1;
        let mut all = self.namespaces.lock().unwrap();
        let list = all.entry(change.scope.clone()).or_default();
        let spec = change.spec.unwrap();
        let ns = ObservedNamespace {
            id: format!("ns-{}", spec.name),
            arn: format!(
                "arn:aws:servicediscovery:{}:{}:namespace/ns-{}",
                change.scope.region, change.scope.account, spec.name
            ),
            name: spec.name.clone(),
            description: spec.description.clone(),
            tags: change.tags.clone(),
        };
        list.retain(|n| n.id != ns.id);
        list.push(ns.clone());
        Ok(Some(ns))
    }
}

/// The cloud of a kind these tests write no documents of: every read finds nothing (its type's
/// default) and a change is never asked for.
macro_rules! nothing_of_this_kind {
    ($cloud:ident { $($read:ident($($arg:ty),*) -> $found:ty;)* } $apply:ident($change:ty) -> $applied:ty) => {
        impl $cloud for FakeCloud {
            $(
                async fn $read(&self, $(_: $arg),*) -> Result<$found, ErrorInfo> {
                    Ok(<$found>::default())
                }
            )*
            async fn $apply(&self, _: $change) -> Result<$applied, ErrorInfo> {
                unreachable!("no {} documents in these tests", stringify!($cloud))
            }
        }
    };
}

nothing_of_this_kind!(ShareCloud {
    observe_shares(&Scope, &BTreeSet<String>) -> Vec<ObservedShare>;
} apply_share(Change<'_, Shares>) -> Option<ObservedShare>);

nothing_of_this_kind!(EndpointCloud {
    observe_endpoints(&Scope, &str) -> Vec<ObservedEndpoint>;
    endpoint_look_alikes(&Scope, &str, &str) -> Vec<ObservedEndpoint>;
    endpoint_preflight(&Scope, &VpcEndpointSetSpec) -> Vec<String>;
} apply_endpoints(Change<'_, EndpointSets>) -> Vec<ObservedEndpoint>);

nothing_of_this_kind!(ExpressCloud {
    observe_express(&Scope, &BTreeSet<String>) -> Vec<ObservedExpressService>;
    owned_express_clusters(&Scope, &str) -> BTreeSet<String>;
} apply_express(Change<'_, ExpressServices>) -> Option<ObservedExpressService>);

nothing_of_this_kind!(PeeringCloud {
    observe_peerings(&Scope, &str) -> Vec<ObservedPeering>;
    peering_look_alikes(&Scope, &BTreeSet<String>, &str) -> Vec<ObservedPeering>;
    observe_network(&Scope, &NetworkWants) -> Network;
} apply_peering(Change<'_, Peerings>) -> PeeringApplied);

nothing_of_this_kind!(BindingCloud {
    observe_bindings(&Scope, &BTreeMap<String, BTreeSet<String>>, Option<&str>) -> Vec<ObservedBoundService>;
} apply_binding(Change<'_, Bindings>) -> Option<ObservedBoundService>);

const DOC: &str = "apiVersion: ecs-topology.dev/v1alpha1
kind: CloudMapNamespace
metadata: {name: payments}
spec: {account: '111111111111', region: eu-west-1, name: payments.internal, description: Payments}
";

struct Running {
    cloud: Arc<FakeCloud>,
    daemon: Arc<Daemon<FakeCloud>>,
    leader: Leader,
    shutdown: CancellationToken,
    tasks: tokio::task::JoinSet<()>,
}

async fn start(leading: bool) -> Running {
    start_with(leading, Duration::from_secs(30), None).await
}

async fn start_with(leading: bool, poll: Duration, fail: Option<ErrorClass>) -> Running {
    let cloud = FakeCloud {
        fail: Mutex::new(fail),
        ..FakeCloud::default()
    };
    start_on(cloud, leading, poll).await
}

/// A daemon, not started, over `cloud`, with `config` and `leadership`, whose desired store holds
/// [`DOC`].
fn daemon_over(
    cloud: &Arc<FakeCloud>,
    config: ControllerConfig,
    leadership: Leadership,
) -> Arc<Daemon<FakeCloud>> {
    let (mut writer, reader) = desired_store(1, config.clone());
    writer.replace(0, vec![SourceFile::new("ns.yaml", DOC)]);
    // Let the writer live as long as the test: dropping it ends nothing here.
    std::mem::forget(writer);
    let (status_tx, _status_rx) = mpsc::unbounded_channel();
    Arc::new(Daemon {
        cloud: cloud.clone(),
        config,
        desired: reader,
        queue: Daemon::<FakeCloud>::queue(Arc::new(NoObserver)),
        view: Arc::new(RwLock::new(PassView::default())),
        statuses: Arc::default(),
        leadership,
        status_changes: status_tx,
        observer: Arc::new(Silent),
        deletions: Default::default(),
    })
}

async fn start_on(cloud: FakeCloud, leading: bool, poll: Duration) -> Running {
    let mut config = ControllerConfig::default();
    config.poll_interval.0 = poll;
    let leader = Leader::new(leading);
    let cloud = Arc::new(cloud);
    let daemon = daemon_over(&cloud, config, leader.subscribe());
    let shutdown = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(daemon.clone().observe_loop(shutdown.clone(), || {}));
    tasks.spawn(
        daemon
            .clone()
            .run_workers(shutdown.clone(), Duration::from_secs(5)),
    );
    Running {
        cloud,
        daemon,
        leader,
        shutdown,
        tasks,
    }
}

/// A daemon over a fresh fake cloud, not started: `apply --once` drives it itself.
fn once() -> (Arc<FakeCloud>, Arc<Daemon<FakeCloud>>) {
    let cloud = Arc::new(FakeCloud::default());
    let daemon = daemon_over(&cloud, ControllerConfig::default(), Leadership::always());
    (cloud, daemon)
}

fn key() -> Key {
    Key::new(Kind::CloudMapNamespace, "payments")
}

impl FakeCloud {
    /// Every namespace of every scope.
    fn all_namespaces(&self) -> Vec<ObservedNamespace> {
        let all = self.namespaces.lock().unwrap();
        all.values().flatten().cloned().collect()
    }

    /// How many changes were made.
    fn changes(&self) -> u32 {
        *self.changes.lock().unwrap()
    }

    /// How many changes were begun, failed ones included.
    fn attempts(&self) -> u32 {
        *self.attempts.lock().unwrap()
    }
}

impl Running {
    /// Shuts the daemon down and waits for its tasks to end.
    async fn stop(mut self) {
        self.shutdown.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Waits past the next poll (the default interval, 30 s) and lets what it started settle.
async fn next_poll() {
    tokio::time::sleep(Duration::from_secs(31)).await;
    settle().await;
}

async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_leader_converges_the_documents() {
    let r = start(true).await;
    settle().await;
    let names: Vec<String> = r
        .cloud
        .all_namespaces()
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(names, ["payments.internal"]);
    let statuses = r.daemon.statuses.read().unwrap().clone();
    assert_eq!(statuses[&key()].status.observed_revision.len(), 16);
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_follower_observes_and_reports_but_changes_nothing_until_it_leads() {
    let r = start(false).await;
    settle().await;
    assert_eq!(r.cloud.changes(), 0);
    assert!(
        r.daemon.statuses.read().unwrap().contains_key(&key()),
        "it reports status"
    );
    r.leader.set(true);
    // The next poll (or resync) reconciles again, now as the leader.
    next_poll().await;
    assert_eq!(r.cloud.changes(), 1);
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_leader_deposed_mid_change_makes_no_further_call_and_the_next_term_carries_on() {
    let stall = Arc::new(tokio::sync::Notify::new());
    let cloud = FakeCloud {
        stall: Mutex::new(Some(stall.clone())),
        ..FakeCloud::default()
    };
    let r = start_on(cloud, true, Duration::from_secs(30)).await;
    settle().await;
    assert_eq!(r.cloud.attempts(), 1, "the create began");
    // The lease is lost while the change waits; then the wait ends.
    r.leader.set(false);
    settle().await;
    *r.cloud.stall.lock().unwrap() = None;
    stall.notify_waiters();
    settle().await;
    assert_eq!(r.cloud.changes(), 0, "nothing done after the term ended");
    // Leading again is a new term: the next reconcile makes the change.
    r.leader.set(true);
    next_poll().await;
    assert_eq!(r.cloud.changes(), 1);
    assert_eq!(r.cloud.attempts(), 2);
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn drift_made_by_another_client_is_corrected_within_one_poll() {
    let r = start(true).await;
    settle().await;
    for ns in r.cloud.namespaces.lock().unwrap().values_mut().flatten() {
        ns.description = Some("changed by hand".into());
    }
    next_poll().await;
    let description = r.cloud.all_namespaces()[0].description.clone();
    assert_eq!(description.as_deref(), Some("Payments"));
    assert_eq!(r.cloud.changes(), 2, "one create, one correction");
    let view = r.daemon.view.read().unwrap().clone();
    assert!(view.gate.is_some());
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn apply_once_runs_the_daemons_reconcile_until_every_key_is_quiet() {
    let (cloud, daemon) = once();
    let report = daemon.converge_once().await;
    let outcome = &report.outcomes[&key()];
    assert!(outcome.converged, "{outcome:?}");
    assert_eq!(outcome.applied, [ecs_topology_core::plan::Verb::Create]);
    assert_eq!(cloud.changes(), 1);
    // The status comes from the daemon's reconcile: Ready once the namespace exists.
    let statuses = daemon.statuses.read().unwrap().clone();
    let ready = statuses[&key()]
        .status
        .condition(ecs_topology_core::status::ConditionType::Ready)
        .unwrap()
        .status;
    assert_eq!(ready, ecs_topology_core::status::ConditionStatus::True);
}

#[tokio::test(start_paused = true)]
async fn a_key_that_cannot_pass_retries_following_its_backoff_not_every_poll() {
    let poll = Duration::from_secs(1);
    let r = start_with(true, poll, Some(ErrorClass::AccessDenied)).await;
    let span = Duration::from_millis(10_500);
    tokio::time::sleep(span).await;
    let attempts = r.cloud.attempts();
    // The retries of a failure that does not pass by itself start at the poll interval and
    // double, less at most the policy's jitter: count how many fit into the span either way.
    let policy = RetryPolicy::default();
    let fitting = |keep: f64| {
        let (mut at, mut n, mut delay) = (0.0, 1, poll.as_secs_f64() * keep);
        while at + delay <= span.as_secs_f64() {
            at += delay;
            n += 1;
            delay *= 2.0;
        }
        n
    };
    let (fewest, most) = (fitting(1.0), fitting(1.0 - policy.jitter));
    assert!(
        (fewest..=most).contains(&attempts),
        "{attempts} attempts in {span:?}, expected {fewest}..={most} (not one per poll: {})",
        span.as_secs() + 1
    );
    assert!(attempts < 10, "the pass re-added the key every poll");
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_pass_that_read_before_a_change_does_not_hide_it_from_the_next_plan() {
    let (cloud, daemon) = once();
    daemon.observe_once().await;
    // A pass reads the scope before the namespace exists and answers only after it was made.
    let slow = Arc::new(tokio::sync::Notify::new());
    *cloud.slow_read.lock().unwrap() = Some(slow.clone());
    let pass = tokio::spawn({
        let daemon = daemon.clone();
        async move { daemon.observe_once().await }
    });
    settle().await;
    let made = daemon.reconcile(&key()).await;
    assert_eq!(made.plan.verb, ecs_topology_core::plan::Verb::Create);
    *cloud.slow_read.lock().unwrap() = None;
    slow.notify_one();
    pass.await.unwrap();
    // The view keeps what the change made: the next plan is in sync, not a second create.
    let next = daemon.reconcile(&key()).await;
    assert_eq!(
        next.plan.verb,
        ecs_topology_core::plan::Verb::InSync,
        "{next:?}"
    );
    assert_eq!(cloud.changes(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_look_on_an_event_that_began_before_the_last_pass_does_not_replace_what_it_read() {
    let (cloud, daemon) = once();
    daemon.observe_once().await;
    let made = daemon.reconcile(&key()).await;
    assert_eq!(made.plan.verb, ecs_topology_core::plan::Verb::Create);
    let scope = Scope::new("111111111111", "eu-west-1");
    // A look on an event reads the scope as the controller left it, and answers only later.
    let slow = Arc::new(tokio::sync::Notify::new());
    *cloud.slow_read.lock().unwrap() = Some(slow.clone());
    let look = tokio::spawn({
        let (daemon, target) = (daemon.clone(), (scope.clone(), Kind::CloudMapNamespace));
        async move { daemon.observe_targets(&BTreeSet::from([target])).await }
    });
    settle().await;
    *cloud.slow_read.lock().unwrap() = None;
    // Meanwhile another client changes the namespace, and a pass begun after the look reads it.
    cloud.namespaces.lock().unwrap().get_mut(&scope).unwrap()[0].description =
        Some("by hand".into());
    daemon.observe_once().await;
    slow.notify_one();
    look.await.unwrap();
    // The view keeps what the later pass read: the drift is planned, not hidden until next poll.
    let next = daemon.reconcile(&key()).await;
    assert_eq!(
        next.plan.verb,
        ecs_topology_core::plan::Verb::Update,
        "{next:?}"
    );
}

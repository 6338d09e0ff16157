//! `ecs-topology run --source URI [--config F]`: the long-running controller.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use ecs_topology_aws::events::EventQueue;
use ecs_topology_aws::lease::Lease;
use ecs_topology_aws::sources::{Source, SourceUri};
use ecs_topology_aws::status_table::StatusStore;
use ecs_topology_aws::{Accounts, ApiBudgets, AwsCloud, CallObserver};
use ecs_topology_core::duration::HumanDuration;
use ecs_topology_core::engine::{Daemon, DaemonObserver, Observation, PassView, ReconcileResult};
use ecs_topology_core::model::Kind;
use ecs_topology_core::plan::{DocumentPlan, PruneGate};
use ecs_topology_core::queue::QueueObserver;
use ecs_topology_core::status_writer::StatusWriter;
use ecs_topology_core::store::{DesiredWriter, desired_store};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::metrics::{Metrics, SourceKind, document_counts};
use crate::server::health::Progress;
use crate::server::ui::Inspect;
use crate::server::{Health, ServerState, serve};

/// How long the statuses left at shutdown may take to write, after the workers stopped.
const FINAL_STATUS_WRITES: Duration = Duration::from_secs(5);

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The desired state: a directory, `s3://bucket/prefix/` or `dynamodb://table`.
    #[arg(long)]
    source: String,
    /// The controller config (also `ECS_TOPOLOGY_CONFIG`, or its text in
    /// `ECS_TOPOLOGY_CONFIG_YAML`); found next to a document directory when absent.
    #[arg(long, env = "ECS_TOPOLOGY_CONFIG")]
    config: Option<PathBuf>,
    /// How long in-flight reconciles may take to finish on shutdown (shorter than ECS's stop
    /// timeout).
    #[arg(long, default_value = "30s", value_parser = grace)]
    grace: HumanDuration,
    /// Override the config's `metricsAddress`.
    #[arg(long)]
    listen: Option<SocketAddr>,
}

fn grace(s: &str) -> Result<HumanDuration, String> {
    ecs_topology_core::duration::parse_duration(s).map(HumanDuration)
}

/// The work queue's events: to the metrics, and the reconciles started and finished to
/// `/healthz` (workers stuck with work in flight are unhealthy).
struct QueueReports {
    metrics: Arc<Metrics>,
    progress: Progress,
}

impl QueueObserver for QueueReports {
    fn added(&self) {
        self.metrics.added();
    }

    fn retried(&self) {
        self.metrics.retried();
    }

    fn picked_up(&self, queued_for: Duration) {
        self.metrics.picked_up(queued_for);
        self.progress.started();
    }

    fn finished(&self, worked_for: Duration) {
        self.metrics.finished(worked_for);
        self.progress.finished();
    }
}

/// Reports the daemon's passes and reconciles as metrics.
struct MetricsObserver(Arc<Metrics>);

impl DaemonObserver for MetricsObserver {
    fn deletion_held_back(&self, kind: Kind, why: &str) {
        tracing::warn!(%kind, reason = %why, "prune held back");
        self.0.prune_blocked();
    }

    fn observed(&self, _: &Observation, gate: &PruneGate, _: Duration) {
        if let PruneGate::HeldBack(why) = gate {
            tracing::warn!(reason = %why, "prune held back");
            self.0.prune_blocked();
        }
    }

    fn reconciled(
        &self,
        kind: Kind,
        account: &str,
        plan: &DocumentPlan,
        result: ReconcileResult,
        took: Duration,
    ) {
        self.0.record_plan(kind, account, plan);
        self.0.record_reconcile(kind, result);
        self.0.observe_reconcile_duration(kind, took);
    }
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let uri = SourceUri::parse(&args.source)?;
    let near = match &uri {
        SourceUri::Directory(path) => vec![path.clone()],
        _ => Vec::new(),
    };
    let (config, _) = crate::config_file::resolve(args.config.as_deref(), &near)?;
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .context("set AWS_REGION: the region of the controller's own bucket, table and lease")?;
    let listen: SocketAddr = match args.listen {
        Some(addr) => addr,
        None => config.metrics_address.parse().context("metricsAddress")?,
    };

    let metrics = Arc::new(Metrics::new()?);
    metrics.set_account_aliases(
        &config
            .accounts
            .iter()
            .map(|(a, c)| (a.clone(), c.id.clone()))
            .collect(),
    );
    let accounts = Accounts::from_environment(&config).await;
    let budgets = ApiBudgets::new(&config, metrics.clone() as Arc<dyn CallObserver>)
        .context("rateBudgets")?;
    let cloud = Arc::new(AwsCloud::new(accounts.clone(), Arc::new(budgets.clone())));
    let mut source = Source::open(&uri, &config, &accounts, &budgets, &region).await?;
    let store = StatusStore::open(&config.status, &accounts, &budgets, &region).await?;
    let previous = store.load().await.context("cannot read the status store")?;

    let health = Arc::new(Health::new());
    health.expect_source(args.source.clone());
    let (lease, leading) = match &config.lease {
        Some(lease_config) => {
            health.expect_lease();
            let lease = Lease::open(lease_config, &accounts, &budgets, &region).await?;
            let handle = lease.handle();
            (Some(lease), handle)
        }
        None => (None, Lease::single()),
    };

    let (writer, reader) = desired_store(1, config.clone());
    let progress = health.working("reconciler", config.timeouts.progress.0);
    let queue = Daemon::<AwsCloud>::queue(Arc::new(QueueReports {
        metrics: metrics.clone(),
        progress: progress.clone(),
    }));
    let statuses = Arc::new(RwLock::new(
        previous
            .into_iter()
            .map(|(key, record)| (key, Arc::new(record)))
            .collect(),
    ));
    let (status_tx, status_rx) = mpsc::unbounded_channel();
    let daemon = Arc::new(Daemon {
        cloud,
        config: config.clone(),
        desired: reader,
        queue: queue.clone(),
        view: Arc::new(RwLock::new(PassView::default())),
        statuses: statuses.clone(),
        leadership: leading.leadership(),
        status_changes: status_tx,
        observer: Arc::new(MetricsObserver(metrics.clone())),
        deletions: Default::default(),
    });
    {
        let (queue, accounts) = (queue.clone(), accounts.clone());
        metrics.on_scrape(move |m| {
            m.record_queue(&queue.stats());
            m.set_credentials_expiry(accounts.credential_expiries());
        });
    }

    let shutdown = CancellationToken::new();
    let lease_shutdown = CancellationToken::new();
    let server_shutdown = CancellationToken::new();
    let mut background = JoinSet::new();
    let server_state = ServerState {
        controller: config.name.clone(),
        metrics: metrics.clone(),
        health: health.clone(),
        statuses: statuses.clone(),
        leading: leading.leading(),
        inspector: Some(daemon.clone() as Arc<dyn Inspect>),
    };
    background.spawn({
        let stop = server_shutdown.clone();
        async move {
            if let Err(e) = serve(listen, server_state, stop).await {
                tracing::error!(error = %format!("{e:#}"), "the HTTP server stopped");
            }
        }
    });
    if let Some(lease) = lease {
        let handle = leading.clone();
        let health = health.clone();
        let lease_shutdown = lease_shutdown.clone();
        background.spawn(async move {
            // The lease state is known once the first attempt answered either way; a first
            // attempt still in flight at shutdown never answers.
            let known = async {
                while !handle.is_known() {
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(100)) => {}
                        () = lease_shutdown.cancelled() => return,
                    }
                }
                health.lease_known();
            };
            tokio::join!(lease.run(lease_shutdown.clone()), known);
        });
    }

    let mut workers = JoinSet::new();
    {
        // The loop beats before each poll, and a poll is cut off at `timeouts.sourcePoll`.
        let heartbeat = health.register(
            "source",
            config.poll_interval.0 + config.timeouts.source_poll.0 + Duration::from_secs(30),
        );
        let (daemon, metrics, health, stop, label) = (
            daemon.clone(),
            metrics.clone(),
            health.clone(),
            shutdown.clone(),
            args.source.clone(),
        );
        workers.spawn(async move {
            source_loop(
                &mut source,
                writer,
                &daemon,
                &metrics,
                &health,
                &label,
                stop,
                move || heartbeat.beat(),
            )
            .await;
        });
    }
    {
        // The loop beats after each pass that completed, a poll after the last one.
        let heartbeat = health.register(
            "observer",
            config.poll_interval.0 + config.timeouts.progress.0,
        );
        let (daemon, stop) = (daemon.clone(), shutdown.clone());
        workers.spawn(async move { daemon.observe_loop(stop, move || heartbeat.beat()).await });
    }
    if let Some(events) = &config.events {
        metrics.expect_events();
        let queue = EventQueue::open(
            events,
            &accounts,
            &budgets,
            &region,
            config.timeouts.attempt.0,
        )
        .await
        .context("cannot reach the events queue's account")?;
        // A receive waits at most 20 s; a stuck consumer fails /healthz.
        let heartbeat = health.register(
            "events",
            Duration::from_secs(20) + config.timeouts.operation.0 + Duration::from_secs(30),
        );
        let (daemon, metrics, stop, debounce) = (
            daemon.clone(),
            metrics.clone(),
            shutdown.clone(),
            events.debounce.0,
        );
        workers.spawn(async move {
            crate::events::consume(queue, daemon, metrics, debounce, stop, move || {
                heartbeat.beat()
            })
            .await;
        });
    }
    {
        let guard = progress.guard();
        let (daemon, stop, grace) = (daemon.clone(), shutdown.clone(), args.grace.0);
        workers.spawn(async move {
            daemon.run_workers(stop, grace).await;
            drop(guard);
        });
    }
    // Only the leader writes status; what a follower computes waits until it leads.
    let flush = CancellationToken::new();
    let writer_task = {
        let (flush, metrics) = (flush.clone(), metrics.clone());
        let writer = StatusWriter::new(store, leading.leadership());
        tokio::spawn(writer.run(status_rx, flush, move |result| {
            metrics.status_written(result);
        }))
    };

    tracing::info!(source = %args.source, listen = %listen, controller = %config.name, "running");
    wait_for_signal().await;
    tracing::info!("shutting down: no new work; finishing what is in flight");
    shutdown.cancel();
    while workers.join_next().await.is_some() {}
    // Nothing changes AWS any more: write the last statuses while still leading, then hand the
    // lease over.
    flush.cancel();
    if tokio::time::timeout(FINAL_STATUS_WRITES, writer_task)
        .await
        .is_err()
    {
        tracing::warn!(
            limit = ?FINAL_STATUS_WRITES,
            "the last statuses could not be written in time; the next controller recomputes them"
        );
    }
    lease_shutdown.cancel();
    server_shutdown.cancel();
    while background.join_next().await.is_some() {}
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::too_many_arguments)]
async fn source_loop(
    source: &mut Source,
    mut writer: DesiredWriter,
    daemon: &Daemon<AwsCloud>,
    metrics: &Metrics,
    health: &Health,
    label: &str,
    stop: CancellationToken,
    beat: impl Fn(),
) {
    let kind = SourceKind::of_uri(label);
    let limit = daemon.config.timeouts.source_poll.0;
    loop {
        beat();
        // A poll cut off (by its time limit or by shutdown) has changed nothing yet.
        let polled = tokio::select! {
            polled = tokio::time::timeout(limit, source.poll()) => polled,
            () = stop.cancelled() => return,
        };
        match polled {
            Err(_) => tracing::warn!(
                limit = ?limit,
                "source poll timed out; keeping the last complete load"
            ),
            Ok(Ok(files)) => {
                let changed = writer.replace(0, files);
                metrics.source_loaded(kind);
                health.source_loaded(label);
                if let Some(set) = daemon.desired.snapshot().set {
                    metrics.record_documents(&document_counts(&set));
                    let live: BTreeMap<_, _> =
                        set.documents.keys().map(|k| (k.clone(), ())).collect();
                    metrics.retain_documents(|k| live.contains_key(k));
                }
                for finding in daemon
                    .desired
                    .snapshot()
                    .findings
                    .iter()
                    .filter(|f| f.is_error())
                {
                    tracing::warn!(%finding, "invalid document");
                }
                for key in changed {
                    daemon.queue.add(key);
                }
            }
            // A listing that failed part-way is not a deletion: the previous one stays.
            Ok(Err(e)) => {
                tracing::warn!(error = %e, class = e.class(), "the source could not be read; keeping the last complete load")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(daemon.config.poll_interval.0) => {}
            () = stop.cancelled() => return,
        }
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

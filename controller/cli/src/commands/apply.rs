//! `ecs-topology apply --source DIR [--config F] --once`: the daemon's reconcile, run until every
//! document is quiet, then exit.

use std::process::ExitCode;
use std::sync::{Arc, RwLock};

use anyhow::bail;
use ecs_topology_core::engine::{Daemon, Leadership, PassView, Silent, StatusChange};
use ecs_topology_core::plan::Verb;
use ecs_topology_core::queue::NoObserver;
use ecs_topology_core::store::desired_store;
use tokio::sync::mpsc;

use super::Sources;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    sources: Sources,
    /// Converge once and exit (the daemon is `ecs-topology run`).
    #[arg(long)]
    once: bool,
}

/// Exit 0 when every valid document converged, 1 otherwise.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !args.once {
        bail!(
            "apply converges once and exits: pass --once (the long-running controller is `ecs-topology run`)"
        );
    }
    let session = args.sources.open().await?;
    for finding in &session.findings {
        eprintln!("{finding}");
    }
    let (mut writer, reader) = desired_store(1, session.config.clone());
    writer.replace(0, session.files.clone());
    // The only process acting: it leads for as long as it runs.
    let (status_tx, mut status_rx) = mpsc::unbounded_channel();
    let daemon = Arc::new(Daemon {
        cloud: session.cloud.clone(),
        config: session.config.clone(),
        desired: reader,
        queue: Daemon::<ecs_topology_aws::AwsCloud>::queue(Arc::new(NoObserver)),
        view: Arc::new(RwLock::new(PassView::default())),
        statuses: Arc::new(RwLock::new(
            session
                .previous
                .iter()
                .map(|(key, record)| (key.clone(), Arc::new(record.clone())))
                .collect(),
        )),
        leadership: Leadership::always(),
        status_changes: status_tx,
        observer: Arc::new(Silent),
        deletions: Default::default(),
    });
    let report = daemon.converge_once().await;
    if let Some(store) = &session.store {
        while let Ok(change) = status_rx.try_recv() {
            match change {
                StatusChange::Saved(record) => {
                    store.save(&record)?;
                }
                StatusChange::Removed(key) => store.remove(&key)?,
            }
        }
    }
    let mut failed = 0;
    for (key, outcome) in &report.outcomes {
        let first = outcome.headline();
        let word = match (first, outcome.converged) {
            (Verb::InSync, true) => "in sync",
            (Verb::Create, true) => "created",
            (Verb::Update, true) => "updated",
            (Verb::Adopt, true) => "adopted",
            (Verb::Delete, true) => "deleted",
            (Verb::Retain, _) => "retained",
            (Verb::Suspended, _) => "suspended",
            (Verb::Blocked, _) => "blocked",
            (Verb::Waiting, _) => "waiting",
            _ => "failed",
        };
        if !outcome.converged {
            failed += 1;
        }
        let detail = match (&outcome.error, &outcome.last.reason) {
            (Some(e), _) => format!(": {} ({})", e.message, e.class),
            (None, Some(reason)) if !outcome.converged => format!(": {reason}"),
            _ => String::new(),
        };
        println!("{key}: {word}{detail}");
    }
    if let Some(why) = &report.prune_held_back {
        eprintln!("prune held back: {why}");
    }
    let invalid = session.errors();
    println!(
        "Apply: {} documents, {} converged, {failed} not converged, {invalid} invalid.",
        report.outcomes.len(),
        report.outcomes.len() - failed
    );
    Ok(if failed == 0 && invalid == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

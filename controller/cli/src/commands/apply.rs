//! `ecs-topology apply --source DIR [--config F] --once`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::bail;
use ecs_topology_core::engine::{converge, status_of};
use ecs_topology_core::plan::Verb;
use ecs_topology_core::queue::RetryPolicy;
use ecs_topology_core::status_store::StatusRecord;

use crate::session::Session;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The desired state: a directory of documents.
    #[arg(long)]
    source: PathBuf,
    /// The controller config; found next to the documents when absent.
    #[arg(long, env = "ECS_TOPOLOGY_CONFIG")]
    config: Option<PathBuf>,
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
    let session = Session::open(&args.source, args.config.as_deref()).await?;
    for finding in &session.findings {
        eprintln!("{finding}");
    }
    let report = converge(
        session.cloud.clone(),
        session.desired.clone(),
        session.observation.clone(),
        &session.config.prune,
        session.config.concurrency,
        RetryPolicy::default(),
    )
    .await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
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
        if let Some(store) = &session.store {
            let deleted = first == Verb::Delete && outcome.converged;
            if deleted {
                store.remove(key)?;
            } else if let Some(doc) = session.desired.documents.get(key) {
                let status = status_of(
                    &session.desired,
                    &report,
                    key,
                    session.previous.get(key).map(|r| &r.status),
                    now,
                );
                store.save(&StatusRecord {
                    key: key.clone(),
                    account: doc.account.clone(),
                    region: doc.document.region().to_owned(),
                    status,
                })?;
            }
        }
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

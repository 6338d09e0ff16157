//! `ecs-topology plan --source DIR [--config F] [--output text|json]`

use std::process::ExitCode;

use ecs_topology_core::engine::plan_all;
use ecs_topology_core::plan::{DocumentPlan, Verb};
use serde_json::json;

use super::{Output, Sources};
use crate::render::{plan_text, summary};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    sources: Sources,
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
}

/// Exit 0 when everything is in sync, 2 when changes are pending, 1 on errors.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let session = args.sources.open().await?;
    let observation = session.observe().await;
    let plans: Vec<DocumentPlan> = plan_all(
        &session.desired,
        &observation,
        &session.config.prune,
        &session.last_applied(),
    )
    .into_iter()
    .map(|p| p.plan)
    .collect();
    let pending = plans
        .iter()
        .any(|p| !matches!(p.verb, Verb::InSync | Verb::Retain));
    match args.output {
        Output::Json => {
            let report = json!({
                "plans": plans,
                "summary": summary(&plans),
                "findings": session.findings,
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Output::Text => {
            for finding in &session.findings {
                eprintln!("{finding}");
            }
            print!("{}", plan_text(&plans));
        }
    }
    Ok(if session.errors() > 0 {
        ExitCode::from(1)
    } else if pending {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

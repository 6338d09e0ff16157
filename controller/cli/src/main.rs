//! `ecs-topology`: reconcile AWS ECS topologies from Kubernetes-style documents.

mod commands;
mod config_file;
mod events;
mod metrics;
mod render;
mod server;
mod session;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "ecs-topology", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check documents; exit 1 with precise errors when any is invalid.
    Validate(commands::validate::Args),
    /// Show what would change, field by field; exit 0 in sync, 2 changes pending, 1 error.
    Plan(commands::plan::Args),
    /// Converge the documents once and exit; non-zero when anything did not converge.
    Apply(commands::apply::Args),
    /// Run the controller: watch the desired state and keep AWS converged.
    Run(commands::run::Args),
    /// Regenerate the CustomResourceDefinitions and JSON Schemas of the document kinds.
    Schema(commands::schema::Args),
    /// Probe the controller's /healthz; exit 0 when it answers 200 (an ECS container health check).
    Healthcheck(commands::healthcheck::Args),
    /// List a running controller's documents; exit 0 when all are Ready, 2 when not, 1 on error.
    Get(commands::inspect::GetArgs),
    /// Show one document of a running controller; exit 0 Ready, 2 not Ready, 3 unknown, 1 error.
    Describe(commands::inspect::DescribeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ECS_TOPOLOGY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(args),
        Command::Schema(args) => commands::schema::run(args),
        Command::Healthcheck(args) => commands::healthcheck::run(args),
        Command::Get(args) => commands::inspect::get(args),
        Command::Describe(args) => commands::inspect::describe(args),
        Command::Plan(args) => runtime().and_then(|rt| rt.block_on(commands::plan::run(args))),
        Command::Apply(args) => runtime().and_then(|rt| rt.block_on(commands::apply::run(args))),
        Command::Run(args) => runtime().and_then(|rt| rt.block_on(commands::run::run(args))),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

//! `ecs-topology`: reconcile AWS ECS topologies from Kubernetes-style documents.

mod commands;
mod config_file;

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
    /// Regenerate the CustomResourceDefinitions and JSON Schemas of the document kinds.
    Schema(commands::schema::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(args),
        Command::Schema(args) => commands::schema::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

//! `ecs-topology validate PATH...`

use std::path::PathBuf;
use std::process::ExitCode;

use ecs_topology_core::finding::Severity;
use ecs_topology_core::load::{self, SourceFile};
use ecs_topology_core::validate::validate;
use serde_json::json;

use super::Output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories of documents (every .yaml, .yml and .json file below a directory).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The controller config (account aliases, regions); found next to the documents when absent.
    #[arg(long, env = "ECS_TOPOLOGY_CONFIG")]
    config: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (config, config_path) = crate::config_file::resolve(args.config.as_deref(), &args.paths)?;
    let mut files: Vec<SourceFile> = Vec::new();
    for path in &args.paths {
        files.extend(load::read_dir_files(path, config.source.max_file_bytes)?);
    }
    let set = validate(load::load(&files), &config);
    let errors = set
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = set.findings.len() - errors;
    let documents = set.documents.len() + set.rejected.len();
    match args.output {
        Output::Json => {
            let report = json!({
                "valid": errors == 0,
                "config": config_path.map(|p| p.display().to_string()),
                "files": files.len(),
                "documents": documents,
                "errors": errors,
                "warnings": warnings,
                "findings": set.findings,
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Output::Text => {
            for finding in &set.findings {
                println!("{finding}");
            }
            println!(
                "{}: {errors} error{}, {warnings} warning{} in {documents} document{} of {} file{}",
                if errors == 0 { "valid" } else { "invalid" },
                plural(errors),
                plural(warnings),
                plural(documents),
                files.len(),
                plural(files.len()),
            );
        }
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

//! `ecs-topology schema --out crds/`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ecs_topology_core::schema::render_all;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory to write the schemas to.
    #[arg(long, default_value = "crds")]
    out: PathBuf,
    /// Write nothing; exit 1 when a file on disk differs from what would be written.
    #[arg(long)]
    check: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut stale = Vec::new();
    if !args.check {
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("cannot create {}", args.out.display()))?;
    }
    for file in render_all() {
        let path = args.out.join(&file.name);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(file.contents.as_str()) {
            continue;
        }
        stale.push(path.display().to_string());
        if !args.check {
            std::fs::write(&path, &file.contents)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    if args.check {
        for path in &stale {
            println!("stale: {path}");
        }
        return Ok(if stale.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    println!(
        "wrote {} of {} schema files to {}",
        stale.len(),
        render_all().len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

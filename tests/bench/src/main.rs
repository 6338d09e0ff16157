//! `ecs-topology-bench`: runs the controller's benchmarks against a fresh emulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use ecs_topology_bench::compare::EventsOptions;
use ecs_topology_bench::run::{Options, controller_binary, run, target_dir};
use ecs_topology_bench::table;

/// Counts the live heap, for the scale benchmark's figures of what a structure holds (see
/// `heap.rs`; without the `count-heap` feature, the system allocator uncounted).
#[cfg(feature = "count-heap")]
#[global_allocator]
static ALLOCATOR: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

/// Benchmarks the ecs-topology daemon against the project's AWS emulator: API calls per
/// observation pass, initial convergence under AWS's throttling, drift-to-correction time, peak
/// memory and planning speed, each next to its physical limit; with `--compare-events`, polling
/// versus change events side by side.
#[derive(Debug, Parser)]
struct Args {
    /// Documents of the topology (40 % namespaces, 30 % shares, 20 % endpoint sets, 10 % Express).
    #[arg(long, default_value_t = 1_000)]
    documents: usize,
    #[arg(long, default_value_t = 10)]
    accounts: usize,
    #[arg(long, default_value_t = 2)]
    regions: usize,
    /// Run without the AWS-like throttling profile.
    #[arg(long)]
    no_throttle: bool,
    /// The daemon's pollInterval, in seconds.
    #[arg(long, default_value_t = 10)]
    poll: u64,
    /// The daemon's concurrency.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value_t = 7)]
    drift_samples: usize,
    /// Documents of the in-process planning benchmark (0 skips it).
    #[arg(long, default_value_t = 10_000)]
    plan_documents: usize,
    #[arg(long, default_value_t = 9)]
    plan_runs: usize,
    /// An environment variable for the daemon, `NAME=VALUE` (repeatable), e.g. the
    /// `MALLOC_ARENA_MAX=2` the container image sets.
    #[arg(long = "daemon-env", value_parser = parse_env)]
    daemon_env: Vec<(String, String)>,
    /// Where the run's documents, config, statuses and daemon logs go (emptied first); default
    /// `target/bench/run-<documents>`. A directory another running benchmark uses is refused.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Only the in-process planning benchmark: no emulator, no daemon.
    #[arg(long)]
    plan_only: bool,
    /// Only the in-process scale benchmark (desired set and synthetic observation of
    /// `--scale-documents`, `plan_all` against a tenth of it): run it in its own process, its
    /// memory figures are the process's.
    #[arg(long)]
    scale_only: bool,
    #[arg(long, default_value_t = 100_000)]
    scale_documents: usize,
    /// The ecs-topology binary; default: `target/release/ecs-topology`, built first with
    /// `cargo build --release -p ecs-topology`.
    #[arg(long)]
    binary: Option<PathBuf>,
    /// How long the initial convergence may take, in seconds.
    #[arg(long, default_value_t = 3_600)]
    converge_limit: u64,
    /// Also run the same topology with change events (CloudTrail through EventBridge to the
    /// daemon's SQS queue, as `deploy/` wires them) and a rare poll, and report both side by
    /// side: drift to correction and API calls per hour. Use with `--poll 60`.
    #[arg(long)]
    compare_events: bool,
    /// With `--compare-events`: the daemon's pollInterval with events, in seconds.
    #[arg(long, default_value_t = 600)]
    events_poll: u64,
    /// With `--compare-events`: the emulator's CloudTrail delivery delay, in seconds.
    #[arg(long, default_value_t = 1.0)]
    events_delay: f64,
    /// With `--compare-events`: the daemon's `events.debounce` (e.g. `500ms`); default: the
    /// controller's default.
    #[arg(long)]
    events_debounce: Option<String>,
    /// With `--compare-events`: drift samples with events.
    #[arg(long, default_value_t = 20)]
    events_drift_samples: usize,
    /// With `--compare-events`: the drift samples with events are spread over this many
    /// seconds (the phases of the daemon's 20 s long poll).
    #[arg(long, default_value_t = 20.0)]
    events_drift_spread: f64,
    /// With `--compare-events`: poll passes in polling's calls-per-hour window.
    #[arg(long, default_value_t = 3)]
    poll_window_passes: usize,
    /// With `--compare-events`: long polls (about 20 s each) in the events' calls-per-hour window.
    #[arg(long, default_value_t = 9)]
    events_window_polls: usize,
    /// The JSON report.
    #[arg(long, default_value = "bench.json")]
    out: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.plan_only {
        let result = ecs_topology_bench::planning::bench_planning(
            args.plan_documents,
            args.accounts,
            args.regions,
            args.plan_runs,
        )
        .await?;
        return write_json(&args.out, &result);
    }
    if args.scale_only {
        let result = ecs_topology_bench::scale::bench_scale(
            args.scale_documents,
            args.accounts,
            args.regions,
            args.plan_runs,
        )
        .await?;
        return write_json(&args.out, &result);
    }
    let binary = match args.binary {
        Some(binary) => binary,
        None => controller_binary("release", true)?,
    };
    let options = Options {
        documents: args.documents,
        accounts: args.accounts,
        regions: args.regions,
        throttle: !args.no_throttle,
        poll_seconds: args.poll,
        concurrency: args.concurrency,
        drift_samples: args.drift_samples,
        plan_documents: args.plan_documents,
        plan_runs: args.plan_runs,
        binary,
        work_dir: args.work_dir.unwrap_or_else(|| {
            target_dir()
                .join("bench")
                .join(format!("run-{}", args.documents))
        }),
        converge_limit: Duration::from_secs(args.converge_limit),
        daemon_env: args.daemon_env,
        events: args.compare_events.then_some(EventsOptions {
            poll_seconds: args.events_poll,
            delivery_delay: args.events_delay,
            debounce: args.events_debounce,
            poll_cycles: args.poll_window_passes,
            events_cycles: args.events_window_polls,
            drift_samples: args.events_drift_samples,
            drift_spread_seconds: args.events_drift_spread,
        }),
    };
    let emulator = ecs_topology_testkit::emulator();
    let report = run(emulator, &options).await?;
    std::fs::write(&args.out, serde_json::to_string_pretty(&report)?)?;
    println!("{}", table::render(&report));
    println!("report: {}", args.out.display());
    Ok(())
}

/// Writes `result` to `out` as JSON and prints it.
fn write_json(out: &std::path::Path, result: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(result)?;
    std::fs::write(out, &text)?;
    println!("{text}");
    Ok(())
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

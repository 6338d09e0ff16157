//! `ecs-topology-chaos`: runs one chaos campaign against a fresh emulator, writes its JSON report
//! and prints a summary. Exits 1 when the census finds a duplicate, a leak, a changed unowned
//! object or a document not converged.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use ecs_topology_bench::run::{controller_binary, target_dir};
use ecs_topology_chaos::campaigns::{self, Common};
use ecs_topology_chaos::world::INTERFACE;

/// Chaos campaigns: SIGKILL under a fault storm, leader failover, a fault-rate sweep and source
/// faults, each judged by an independent census of the emulator.
#[derive(Debug, Parser)]
struct Args {
    #[command(subcommand)]
    campaign: Campaign,
    /// Namespaces (and their shares) per (account, region).
    #[arg(long, global = true, default_value_t = 1)]
    cells: usize,
    /// The interface services of each endpoint set (besides the `s3` gateway), comma-separated;
    /// more than four per set make the world's creates wait on EC2's `CreateVpcEndpoint` bucket
    /// (4, then 0.3 a second), so that the fault sweep runs against a throttle-bound minimum.
    #[arg(long, global = true, value_delimiter = ',', default_values_t = INTERFACE.map(String::from))]
    interface: Vec<String>,
    /// The seed of every random choice (kill moments, edits, fault draws).
    #[arg(long, global = true, default_value_t = 17)]
    seed: u64,
    /// The ecs-topology binary; default: target/release/ecs-topology, built first.
    #[arg(long, global = true)]
    binary: Option<PathBuf>,
    /// The JSON report; default: chaos-<campaign>.json.
    #[arg(long, global = true)]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Campaign {
    /// SIGKILL `apply --once` and `run` at random moments under the fault storm.
    Kill {
        #[arg(long, default_value_t = 50)]
        kills: usize,
        /// Share of calls faulted during the storm.
        #[arg(long, default_value_t = 0.1)]
        fault_rate: f64,
        #[arg(long, default_value_t = 300)]
        min_delay_ms: u64,
        #[arg(long, default_value_t = 6_000)]
        max_delay_ms: u64,
        /// Share of the kills aimed at a change: killed just after the process's first call
        /// that changes AWS (or at --max-delay-ms when none comes).
        #[arg(long, default_value_t = 0.5)]
        aimed: f64,
    },
    /// Replicas of `run` on one lease; the leader killed or cut off from the lease table.
    Failover {
        #[arg(long, default_value_t = 3)]
        replicas: usize,
        #[arg(long, default_value_t = 6)]
        kills: usize,
        #[arg(long, default_value_t = 4)]
        cuts: usize,
        #[arg(long, default_value_t = 3)]
        lease_seconds: u64,
    },
    /// The initial convergence at several fault rates, next to the throttle-bound minimum.
    Faults {
        /// Shares of calls faulted, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [0.0, 0.05, 0.2])]
        rates: Vec<f64>,
        #[arg(long, default_value_t = 600)]
        limit_seconds: u64,
    },
    /// The S3 source emptied, swapped, unreadable, partially listed and edited in a burst.
    Sources,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = match args.binary {
        Some(binary) => binary,
        None => controller_binary("release", true)?,
    };
    let common = Common {
        binary,
        work_dir: target_dir().join("chaos"),
        cells: args.cells,
        interface: args.interface,
        seed: args.seed,
    };
    let emulator = ecs_topology_testkit::emulator();
    let (name, report, summary, failures) = match args.campaign {
        Campaign::Kill {
            kills,
            fault_rate,
            min_delay_ms,
            max_delay_ms,
            aimed,
        } => {
            let options = campaigns::kill::KillOptions {
                kills,
                fault_rate,
                min_delay_ms,
                max_delay_ms,
                aimed,
            };
            let report = campaigns::kill::run(emulator, &common, &options).await?;
            let failures = report.census.failures();
            (
                "kill",
                serde_json::to_value(&report)?,
                report.summary(),
                failures,
            )
        }
        Campaign::Failover {
            replicas,
            kills,
            cuts,
            lease_seconds,
        } => {
            let options = campaigns::failover::FailoverOptions {
                replicas,
                kills,
                cuts,
                lease_seconds,
            };
            let report = campaigns::failover::run(emulator, &common, &options).await?;
            let failures = report.failures();
            (
                "failover",
                serde_json::to_value(&report)?,
                report.summary(),
                failures,
            )
        }
        Campaign::Faults {
            rates,
            limit_seconds,
        } => {
            let options = campaigns::faults::FaultsOptions {
                rates,
                limit_seconds,
            };
            let report = campaigns::faults::run(emulator, &common, &options).await?;
            let failures = report.failures();
            (
                "faults",
                serde_json::to_value(&report)?,
                report.summary(),
                failures,
            )
        }
        Campaign::Sources => {
            let report = campaigns::sources::run(emulator, &common).await?;
            let failures = report.failures();
            (
                "sources",
                serde_json::to_value(&report)?,
                report.summary(),
                failures,
            )
        }
    };
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("chaos-{name}.json")));
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    println!("{summary}");
    println!("report: {}", out.display());
    let failed = failures;
    if !failed.is_empty() {
        for line in &failed {
            eprintln!("  {line}");
        }
        std::process::exit(1);
    }
    Ok(())
}

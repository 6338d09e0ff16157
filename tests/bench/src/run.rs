//! One benchmark run: the topology in the emulator, the real daemon against it, and the
//! measurements of the report.

pub use crate::daemon::{controller_binary, target_dir};
pub use crate::meter::total;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use ecs_topology_testkit::Emulator;
use serde_json::{Value, json};

use crate::compare::{
    Comparison, EventsOptions, ModeReport, calls_over_cycles, events_mode, polling_hourly,
};
use crate::daemon::Daemon;
pub use crate::drift::DriftReport;
use crate::drift::{Sampling, measure_drift};
use crate::events::OwnAccount;
use crate::limits;
pub use crate::memory::MemoryReport;
use crate::memory::RssSampler;
use crate::meter::Meter;
use crate::planning::{PlanningResult, bench_planning};
use crate::steady::{self, PassSample};
use crate::topology::{Account, Mix, Networks, Topology};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub documents: usize,
    pub accounts: usize,
    pub regions: usize,
    /// Apply `{"throttle": true}` (AWS's published rates) to every account.
    pub throttle: bool,
    /// The daemon's `pollInterval`.
    pub poll_seconds: u64,
    /// The daemon's `concurrency`.
    pub concurrency: usize,
    pub drift_samples: usize,
    /// Documents of the in-process planning benchmark; 0 skips it.
    pub plan_documents: usize,
    pub plan_runs: usize,
    /// The `ecs-topology` binary to run.
    pub binary: PathBuf,
    /// Where documents, config, status and the daemon's log go.
    pub work_dir: PathBuf,
    /// How long the initial convergence may take.
    pub converge_limit: Duration,
    /// Environment variables of the daemon beyond the emulator's.
    pub daemon_env: Vec<(String, String)>,
    /// Also run the topology with change events and compare (see [`crate::compare`]).
    pub events: Option<EventsOptions>,
}

/// The report: every figure with the limit it is judged against.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub machine: Value,
    pub shape: Value,
    pub mix: Mix,
    /// AWS objects managed: namespaces + shares + VPC endpoints + Express services.
    pub objects: usize,
    pub setup_network_seconds: f64,
    pub observation_pass: PassReport,
    pub convergence: ConvergenceReport,
    pub drift: DriftReport,
    pub memory: MemoryReport,
    pub planning: Option<PlanningResult>,
    /// Polling versus change events, when asked.
    pub comparison: Option<Comparison>,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PassReport {
    /// Calls the emulator served during one full observation pass of the settled topology.
    pub calls: u64,
    pub by_operation: BTreeMap<String, u64>,
    pub mutating: u64,
    pub throttled: u64,
    /// One list call per kind at the page sizes of AWS's limits (`aws-limits.md`'s formula).
    pub batch_minimum: usize,
    pub batch_minimum_by_operation: BTreeMap<String, usize>,
    /// `calls / batch_minimum` (target ≤ 1.1).
    pub ratio_to_minimum: f64,
    /// The batch minimum plus the reads AWS's APIs force for what the plan compares (tags of
    /// namespaces, both association types, the shares' permission): see `limits::read_minimum_of`.
    pub read_minimum: usize,
    pub read_minimum_by_operation: BTreeMap<String, usize>,
    /// `calls / read_minimum`.
    pub ratio_to_read_minimum: f64,
    pub calls_per_object: f64,
    /// One describe per object per pass.
    pub naive_calls: usize,
    pub naive_by_operation: BTreeMap<String, usize>,
    pub naive_calls_per_object: f64,
    /// From the first to the last call of the pass.
    pub seconds: f64,
    /// CPU time the daemon spent during the pass (its observation and the reconciles it
    /// enqueued).
    pub daemon_cpu_seconds: f64,
    /// Every pass measured after convergence, in order; the figures above are the last's.
    pub passes: Vec<PassSample>,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConvergenceReport {
    pub throttled_profile: bool,
    /// From the daemon's start until every document is Ready.
    pub seconds: f64,
    /// The throttle-bound minimum of the creates the topology needs.
    pub throttle_minimum_seconds: f64,
    pub bound_by: Option<String>,
    /// `seconds / throttle_minimum_seconds` (target ≤ 1.25).
    pub ratio_to_minimum: Option<f64>,
    pub calls: u64,
    pub throttled_calls: u64,
    /// Mutating calls served (not throttled), per operation.
    pub mutating_served: BTreeMap<String, u64>,
    /// Creates the topology needs, per operation.
    pub creates_needed: BTreeMap<String, usize>,
}

/// Runs the benchmark against `emulator`.
pub async fn run(emulator: &Emulator, options: &Options) -> anyhow::Result<Report> {
    let accounts: Vec<Account> = (0..options.accounts)
        .map(|i| Account {
            alias: format!("a{i:02}"),
            id: emulator.new_account(),
        })
        .collect();
    let topology = Topology::generate(
        options.documents,
        accounts,
        options.regions,
        Networks::Emulator(emulator),
    )
    .await?;
    let docs = options.work_dir.join("docs");
    claim_work_dir(&options.work_dir)?;
    topology.write(&docs)?;
    let config = options.work_dir.join("config.yaml");
    std::fs::write(
        &config,
        topology.config(
            &options.work_dir.join("status"),
            options.poll_seconds,
            options.concurrency,
        ),
    )?;
    eprintln!(
        "bench: {} documents over {} scopes ready ({:.1} s of network setup); starting the daemon",
        options.documents,
        topology.scopes.len(),
        topology.network_seconds
    );

    if options.throttle {
        emulator
            .set_profile(&["*"], json!({"throttle": true}))
            .await;
    }
    let own = OwnAccount::new(emulator).await?;
    let meter = Meter::new(
        emulator,
        topology
            .accounts
            .iter()
            .map(|a| a.id.clone())
            .chain([own.id.clone()]),
    );
    let result = measure(&meter, &own, options, &topology, &docs, &config).await;
    if options.throttle {
        emulator.set_profile(&["*"], Value::Null).await;
    }
    let (pass, convergence, drift, memory, comparison) = result?;

    let planning = if options.plan_documents > 0 {
        eprintln!(
            "bench: planning {} documents in process",
            options.plan_documents
        );
        Some(
            bench_planning(
                options.plan_documents,
                options.accounts,
                options.regions,
                options.plan_runs,
            )
            .await?,
        )
    } else {
        None
    };

    Ok(Report {
        machine: machine(),
        shape: json!({
            "documents": options.documents,
            "accounts": options.accounts,
            "regions": options.regions,
            "scopes": topology.scopes.len(),
            "throttle": options.throttle,
            "pollSeconds": options.poll_seconds,
            "concurrency": options.concurrency,
            "daemonEnv": options
                .daemon_env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>(),
        }),
        mix: topology.mix,
        objects: limits::objects(&topology),
        setup_network_seconds: topology.network_seconds,
        observation_pass: pass,
        convergence,
        drift,
        memory,
        planning,
        comparison,
    })
}

type Measured = (
    PassReport,
    ConvergenceReport,
    DriftReport,
    MemoryReport,
    Option<Comparison>,
);

async fn measure(
    meter: &Meter<'_>,
    own: &OwnAccount,
    options: &Options,
    topology: &Topology,
    docs: &Path,
    config: &Path,
) -> anyhow::Result<Measured> {
    let emulator = meter.emulator();
    let before = meter.calls().await;
    let started = Instant::now();
    let mut daemon = Daemon::start(emulator, options, "daemon", docs, config, &own.env)?;
    let sampler = RssSampler::start(daemon.child.id());
    let mut memory = MemoryReport::default();

    // (b) Initial convergence.
    let documents = topology.mix.total();
    loop {
        let counts = daemon.status_counts();
        if counts.is_some() && memory.rss_start_kib == 0 {
            memory.rss_start_kib = daemon.rss_and_peak().0;
        }
        let (listed, ready) = counts.unwrap_or_default();
        if listed >= documents && memory.rss_after_first_pass_kib == 0 {
            memory.rss_after_first_pass_kib = daemon.rss_and_peak().0;
        }
        if ready >= documents {
            break;
        }
        if let Some(status) = daemon.child.try_wait()? {
            anyhow::bail!("the daemon exited ({status}); log {}", daemon.log.display());
        }
        anyhow::ensure!(
            started.elapsed() < options.converge_limit,
            "not converged within {:?}: {ready} of {documents} Ready; log {}",
            options.converge_limit,
            daemon.log.display()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let converge_seconds = started.elapsed().as_secs_f64();
    let converged = meter.calls().await.since(&before);
    eprintln!("bench: converged in {converge_seconds:.1} s");
    let creates = limits::creates(topology);
    let (throttle_minimum_seconds, bound_by) = limits::throttle_minimum(&creates);
    let mut mutating_served = BTreeMap::new();
    for row in &converged.rows {
        let served = row.calls - row.throttled - row.faulted;
        if !limits::is_read(&row.operation) && served > 0 {
            *mutating_served.entry(row.operation.clone()).or_insert(0) += served;
        }
    }
    let mut creates_needed = BTreeMap::new();
    for ((_, _, _, op), n) in &creates {
        *creates_needed.entry(op.clone()).or_insert(0) += n;
    }
    let convergence = ConvergenceReport {
        throttled_profile: options.throttle,
        seconds: converge_seconds,
        throttle_minimum_seconds,
        bound_by,
        ratio_to_minimum: (throttle_minimum_seconds > 0.0)
            .then(|| converge_seconds / throttle_minimum_seconds),
        calls: total(&converged),
        throttled_calls: converged.rows.iter().map(|r| r.throttled).sum(),
        mutating_served,
        creates_needed,
    };

    // (a) Observation passes on the converged topology, each from one quiet moment to the next;
    // the figure is the last, when what convergence created has been seen once.
    let passes =
        steady::passes(meter, &daemon, options.poll_seconds, steady::SETTLED_PASSES).await?;
    let last = passes
        .last()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no observation pass measured"))?;
    let minimum = limits::batch_minimum(topology);
    let minimum_total: usize = minimum.values().sum();
    let reads = limits::read_minimum(topology);
    let reads_total: usize = reads.values().sum();
    let naive = limits::naive(topology);
    let naive_total: usize = naive.values().sum();
    let objects = limits::objects(topology);
    let pass_total = last.calls;
    #[allow(clippy::cast_precision_loss)]
    let pass_report = PassReport {
        calls: pass_total,
        mutating: last.mutating,
        throttled: last.throttled,
        by_operation: last.by_operation.clone(),
        batch_minimum: minimum_total,
        batch_minimum_by_operation: minimum,
        ratio_to_minimum: pass_total as f64 / minimum_total.max(1) as f64,
        read_minimum: reads_total,
        read_minimum_by_operation: reads,
        ratio_to_read_minimum: pass_total as f64 / reads_total.max(1) as f64,
        calls_per_object: pass_total as f64 / objects.max(1) as f64,
        naive_calls: naive_total,
        naive_by_operation: naive,
        naive_calls_per_object: naive_total as f64 / objects.max(1) as f64,
        seconds: last.seconds,
        daemon_cpu_seconds: last.daemon_cpu_seconds,
        passes,
    };
    eprintln!(
        "bench: one pass = {pass_total} calls (batch minimum {minimum_total}, read minimum {reads_total})"
    );

    // (c) Drift to correction.
    #[allow(clippy::cast_precision_loss)]
    let drift = measure_drift(
        meter,
        topology,
        Sampling {
            samples: options.drift_samples,
            spread_seconds: options.poll_seconds as f64,
            limit: Duration::from_secs(options.poll_seconds * 3 + 30),
            poll_seconds: options.poll_seconds,
        },
    )
    .await?;

    // (d) With events to compare: polling's calls per hour over whole passes.
    let polling = match &options.events {
        Some(events) => {
            let limit = Duration::from_secs(options.poll_seconds * 3 + 60);
            let window = calls_over_cycles(meter, events.poll_cycles, limit).await?;
            eprintln!(
                "bench: polling window: {} calls over {:.1} s",
                window.calls, window.seconds
            );
            Some(ModeReport {
                poll_seconds: options.poll_seconds,
                drift: drift.clone(),
                calls_per_hour: polling_hourly(window),
            })
        }
        None => None,
    };

    // (e) Memory with the topology converged.
    let (rss, hwm) = daemon.rss_and_peak();
    #[allow(clippy::cast_precision_loss)]
    let hwm_mib = (hwm as f64 / 1024.0 * 10.0).round() / 10.0;
    let memory = MemoryReport {
        vm_hwm_kib: hwm,
        vm_rss_kib: rss,
        vm_hwm_mib: hwm_mib,
        rss_end_kib: rss,
        timeline: sampler.timeline(),
        ..memory
    };
    drop(sampler);
    daemon.stop();

    // (f) The same topology with events and the rare poll.
    let comparison = match (polling, &options.events) {
        (Some(polling), Some(events)) => {
            let per_pass = polling.calls_per_hour.pass_calls;
            let (with_events, queue_left) =
                events_mode(meter, own, options, events, topology, docs, per_pass).await?;
            Some(Comparison {
                calls_ratio: with_events.calls_per_hour.per_hour
                    / polling.calls_per_hour.per_hour.max(f64::EPSILON),
                polling,
                events: with_events,
                delivery_delay_seconds: events.delivery_delay,
                debounce: events.debounce.clone().unwrap_or_else(|| "default".into()),
                queue_left,
            })
        }
        _ => None,
    };
    Ok((pass_report, convergence, drift, memory, comparison))
}

fn machine() -> Value {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mem_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| proc_field(&t, "MemTotal:"))
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_default();
    #[allow(clippy::cast_precision_loss)]
    let mem_gib = mem_kib as f64 / 1024.0 / 1024.0;
    json!({"cores": cores, "memoryGiB": (mem_gib * 10.0).round() / 10.0, "cpu": cpu,
           "note": "the emulator runs on the same machine"})
}

pub(crate) fn proc_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// The file in a work directory naming the benchmark process that uses it.
const CLAIM: &str = "bench.pid";

/// Empties `dir` for this run and records this process in it, unless another live process
/// recorded itself there first: two benchmarks of the same size would otherwise share the default
/// directory, and the second would delete the first's documents and statuses mid-run.
pub fn claim_work_dir(dir: &Path) -> anyhow::Result<()> {
    if let Ok(text) = std::fs::read_to_string(dir.join(CLAIM)) {
        let pid: u32 = text.trim().parse().unwrap_or(0);
        if pid != 0 && pid != std::process::id() && same_program(pid) {
            anyhow::bail!(
                "{} is in use by another benchmark (pid {pid}); give this one its own --work-dir",
                dir.display()
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(CLAIM), std::process::id().to_string())?;
    Ok(())
}

/// Whether process `pid` is alive and runs the same program as this one (a pid left in a claim
/// by a benchmark that died may since name another program).
fn same_program(pid: u32) -> bool {
    let comm = |p: &str| std::fs::read_to_string(format!("/proc/{p}/comm")).ok();
    matches!((comm(&pid.to_string()), comm("self")), (Some(theirs), Some(ours)) if theirs == ours)
}

#[cfg(test)]
mod tests {
    use std::io::BufRead;

    use super::*;

    /// Not a check: the process that holds a claim in the test below.
    #[test]
    #[ignore = "run by a_directory_claimed_by_a_live_benchmark_is_refused"]
    fn holds_a_claim() {
        println!("holding");
        std::thread::sleep(Duration::from_secs(60));
    }

    #[test]
    fn a_directory_claimed_by_a_live_benchmark_is_refused_and_a_dead_ones_is_taken() {
        let dir = std::env::temp_dir().join(format!("bench-claim-{}", std::process::id()));
        claim_work_dir(&dir).unwrap();
        std::fs::write(dir.join("docs"), "kept from the run before").unwrap();
        // This process's own claim is taken again, emptied.
        claim_work_dir(&dir).unwrap();
        assert!(!dir.join("docs").exists());

        // A live process of this program holds it: refused, nothing deleted.
        let mut other = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "run::tests::holds_a_claim",
                "--nocapture",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Running this program (not still the fork that will become it) once it says so.
        let mut said = std::io::BufReader::new(other.stdout.take().unwrap()).lines();
        assert!(said.any(|line| line.unwrap().contains("holding")));
        std::fs::write(dir.join(CLAIM), other.id().to_string()).unwrap();
        std::fs::write(dir.join("docs"), "the other run's").unwrap();
        let refused = claim_work_dir(&dir).unwrap_err().to_string();
        assert!(
            refused.contains(&format!("pid {}", other.id())),
            "{refused}"
        );
        assert!(dir.join("docs").exists());

        // Once it is gone, the directory is this run's.
        other.kill().unwrap();
        other.wait().unwrap();
        claim_work_dir(&dir).unwrap();
        assert!(!dir.join("docs").exists());
        assert_eq!(
            std::fs::read_to_string(dir.join(CLAIM)).unwrap(),
            std::process::id().to_string()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

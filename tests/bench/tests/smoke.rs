//! A small benchmark run, so that the benchmark keeps working: 24 documents, two accounts, one
//! region, no throttling.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ecs_topology_bench::run::{Options, controller_binary, run, target_dir};

/// A generous bound on the daemon's peak RSS (`VmHWM`) for 24 documents, the debug binary,
/// which measured 51.6 MiB (46 MiB of it at start, before the first pass).
const SMOKE_MEMORY_BUDGET_KIB: u64 = 96 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_run_produces_a_sane_report_and_a_converged_pass_changes_nothing() {
    // The debug binary the workspace's tests build; built here when missing.
    let binary = std::env::var_os("ECS_TOPOLOGY_BIN")
        .map(Into::into)
        .or_else(|| controller_binary("debug", false).ok())
        .unwrap_or_else(|| controller_binary("debug", true).unwrap());
    let emulator = ecs_topology_testkit::emulator();
    let options = Options {
        documents: 24,
        accounts: 2,
        regions: 1,
        throttle: false,
        poll_seconds: 3,
        concurrency: 8,
        drift_samples: 2,
        plan_documents: 200,
        plan_runs: 3,
        binary,
        work_dir: target_dir()
            .join("bench")
            .join(format!("smoke-{}", std::process::id())),
        converge_limit: Duration::from_secs(180),
        daemon_env: Vec::new(),
    };
    let report = run(emulator, &options).await.unwrap();
    let text = serde_json::to_string_pretty(&report).unwrap();
    eprintln!("{}", ecs_topology_bench::table::render(&report));
    let _ = std::fs::remove_dir_all(&options.work_dir);

    assert_eq!(report.mix.total(), 24, "{text}");
    let pass = &report.observation_pass;
    assert_eq!(pass.mutating, 0, "a converged pass changes nothing: {text}");
    assert!(pass.batch_minimum > 0, "{text}");
    assert!(pass.calls >= pass.batch_minimum as u64, "{text}");
    // The budget: a converged pass makes exactly the reads the plan needs, page by page.
    assert_eq!(pass.calls, pass.read_minimum as u64, "{text}");
    assert_eq!(pass.naive_calls, report.objects, "{text}");
    assert!(report.convergence.seconds > 0.0, "{text}");
    assert!(
        report
            .convergence
            .mutating_served
            .get("CreateHttpNamespace")
            >= Some(&9),
        "{text}"
    );
    assert_eq!(report.drift.samples.len(), 2, "{text}");
    // Settled passes, each measured; the budget above holds for the last.
    assert_eq!(
        pass.passes.len(),
        ecs_topology_bench::steady::SETTLED_PASSES,
        "{text}"
    );
    assert_eq!(
        pass.passes.last().map(|p| p.calls),
        Some(pass.calls),
        "{text}"
    );
    // The memory budget of a small topology, on the kernel's count of the daemon's peak
    // resident set (the debug binary).
    let memory = &report.memory;
    assert!(memory.vm_hwm_kib > 0, "{text}");
    assert!(
        memory.vm_hwm_kib <= SMOKE_MEMORY_BUDGET_KIB,
        "peak RSS {} KiB over the budget of {SMOKE_MEMORY_BUDGET_KIB} KiB: {text}",
        memory.vm_hwm_kib
    );
    assert!(memory.rss_start_kib > 0, "{text}");
    assert!(memory.rss_after_first_pass_kib > 0, "{text}");
    assert!(memory.rss_end_kib > 0, "{text}");
    assert!(!memory.timeline.is_empty(), "{text}");
    let planning = report.planning.as_ref().unwrap();
    assert_eq!(planning.documents, 200, "{text}");
    assert!(planning.median_ms > 0.0, "{text}");
    assert!(!ecs_topology_bench::table::render(&report).is_empty());
}

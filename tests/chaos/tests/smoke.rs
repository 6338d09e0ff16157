//! Each chaos campaign at a small size, so that `tests/run` keeps them working and their
//! promises kept: a few kills under the storm, one failover of each kind, one fault rate, every
//! source scenario. Asserted on counts only (the census, the calls), never on wall time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use ecs_topology_bench::run::{controller_binary, target_dir};
use ecs_topology_chaos::campaigns::{self, Common};
use ecs_topology_chaos::world::INTERFACE;

/// The debug binary the workspace's tests build (`ECS_TOPOLOGY_BIN` overrides it); built here
/// when missing.
fn common(campaign: &str) -> Common {
    let binary: PathBuf = std::env::var_os("ECS_TOPOLOGY_BIN")
        .map(Into::into)
        .or_else(|| controller_binary("debug", false).ok())
        .unwrap_or_else(|| controller_binary("debug", true).unwrap());
    Common {
        binary,
        work_dir: target_dir()
            .join("chaos-smoke")
            .join(format!("{campaign}-{}", std::process::id())),
        cells: 1,
        interface: INTERFACE.map(String::from).to_vec(),
        seed: 7,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_kills_under_the_storm_leave_no_duplicate_leak_or_changed_look_alike() {
    let common = common("kill");
    let options = campaigns::kill::KillOptions {
        kills: 4,
        fault_rate: 0.1,
        min_delay_ms: 300,
        max_delay_ms: 3_000,
        aimed: 0.5,
    };
    let report = campaigns::kill::run(ecs_topology_testkit::emulator(), &common, &options)
        .await
        .unwrap();
    let text = serde_json::to_string_pretty(&report).unwrap();
    assert_eq!(report.kills_apply + report.kills_run, 4, "{text}");
    assert!(report.kills_run >= 1, "{text}");
    // Half the rounds are aimed at a change: the seed draws at least one among the kills.
    assert!(report.kills_aimed >= 1, "{text}");
    assert!(
        report.storm.faulted > 0,
        "the storm injected faults: {text}"
    );
    assert_eq!(report.census.failures(), Vec::<String>::new(), "{text}");
    assert!(report.census.owned_objects >= report.documents, "{text}");
    let _ = std::fs::remove_dir_all(&common.work_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_and_a_cut_off_leader_hand_over_and_no_call_follows_an_expired_lease() {
    let common = common("failover");
    let options = campaigns::failover::FailoverOptions {
        replicas: 2,
        kills: 1,
        cuts: 1,
        lease_seconds: 3,
    };
    let report = campaigns::failover::run(ecs_topology_testkit::emulator(), &common, &options)
        .await
        .unwrap();
    let text = serde_json::to_string_pretty(&report).unwrap();
    assert_eq!(report.takeovers.len(), 2, "{text}");
    assert_eq!(report.failovers(), 2, "{text}");
    assert!(
        report.mutating_calls > 0,
        "the proxies saw the replicas' changes: {text}"
    );
    assert_eq!(report.failures(), Vec::<String>::new(), "{text}");
    let _ = std::fs::remove_dir_all(&common.work_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_world_converges_with_five_percent_of_calls_failing() {
    let common = common("faults");
    let options = campaigns::faults::FaultsOptions {
        rates: vec![0.05],
        limit_seconds: 240,
    };
    let report = campaigns::faults::run(ecs_topology_testkit::emulator(), &common, &options)
        .await
        .unwrap();
    let text = serde_json::to_string_pretty(&report).unwrap();
    assert_eq!(report.runs.len(), 1, "{text}");
    assert!(report.runs[0].calls.faulted > 0, "{text}");
    assert_eq!(report.failures(), Vec::<String>::new(), "{text}");
    let _ = std::fs::remove_dir_all(&common.work_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emptied_swapped_unreadable_or_partial_source_deletes_nothing_and_a_burst_is_applied() {
    let common = common("sources");
    let report = campaigns::sources::run(ecs_topology_testkit::emulator(), &common)
        .await
        .unwrap();
    let text = serde_json::to_string_pretty(&report).unwrap();
    let names: Vec<&str> = report.phases.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "converged",
            "emptied",
            "swapped",
            "swapped back",
            "unreadable",
            "partially listed",
            "burst"
        ]
    );
    for faulted in ["unreadable", "partially listed"] {
        let phase = report.phases.iter().find(|p| p.name == faulted).unwrap();
        assert!(phase.source_faults > 0, "{faulted}: {text}");
    }
    assert_eq!(report.failures(), Vec::<String>::new(), "{text}");
    let _ = std::fs::remove_dir_all(&common.work_dir);
}

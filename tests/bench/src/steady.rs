//! The converged daemon's observation passes, measured one after another once every document is
//! Ready, so that the figure is a pass over a settled topology and not the first look at objects
//! created just before (an Express service created in the last minutes is described once by the
//! next pass, then never again while it does not change).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::daemon::Daemon;
use crate::limits;
use crate::meter::{Meter, total};

/// Passes measured after convergence; the report's figure is the last of them.
pub const SETTLED_PASSES: usize = 3;

/// One observation pass, from one quiet moment of the emulator (no call for 1.5 s) to the next.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PassSample {
    /// Calls the emulator served, all accounts.
    pub calls: u64,
    pub by_operation: BTreeMap<String, u64>,
    pub mutating: u64,
    pub throttled: u64,
    /// From the first to the last call of the pass.
    pub seconds: f64,
    /// CPU time the daemon spent from the quiet moment before the pass to the one after it (its
    /// observation and the reconciles it enqueued).
    pub daemon_cpu_seconds: f64,
}

/// `count` consecutive passes of the converged daemon, each measured on its own.
///
/// # Errors
/// No pass begins, or the emulator never goes quiet, within three polls and a minute.
pub(crate) async fn passes(
    meter: &Meter<'_>,
    daemon: &Daemon,
    poll_seconds: u64,
    count: usize,
) -> anyhow::Result<Vec<PassSample>> {
    let quiet = Duration::from_millis(1_500);
    let limit = Duration::from_secs(poll_seconds * 3 + 60);
    let (mut start_calls, _) = meter.wait_quiet(quiet, limit).await?;
    let mut cpu_before = daemon.cpu_seconds();
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let start_total = total(&start_calls);
        let deadline = Instant::now() + limit;
        let began = loop {
            if total(&meter.calls().await) != start_total {
                break Instant::now();
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "no observation pass within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let (end_calls, last_change) = meter.wait_quiet(quiet, limit).await?;
        let cpu_after = daemon.cpu_seconds();
        let pass = end_calls.since(&start_calls);
        let mut by_operation = BTreeMap::new();
        for row in &pass.rows {
            *by_operation.entry(row.operation.clone()).or_insert(0) += row.calls;
        }
        let sample = PassSample {
            calls: total(&pass),
            by_operation,
            mutating: pass
                .rows
                .iter()
                .filter(|r| !limits::is_read(&r.operation))
                .map(|r| r.calls)
                .sum(),
            throttled: pass.rows.iter().map(|r| r.throttled).sum(),
            seconds: last_change.duration_since(began).as_secs_f64(),
            daemon_cpu_seconds: cpu_after - cpu_before,
        };
        eprintln!(
            "bench: settled pass {} of {count}: {} calls, {:.2} s of the daemon's CPU",
            out.len() + 1,
            sample.calls,
            sample.daemon_cpu_seconds
        );
        out.push(sample);
        start_calls = end_calls;
        cpu_before = cpu_after;
    }
    Ok(out)
}

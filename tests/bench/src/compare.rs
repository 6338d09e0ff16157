//! Polling versus change events, side by side on the same converged topology: drift to
//! correction and API calls per hour, (a) polling every `--poll` seconds without events and (b)
//! with change events (the emulator's CloudTrail delivery delayed as told) and a rare poll.
//!
//! # Calls per hour
//! Counted by the emulator over a window of whole cycles of the converged, undisturbed daemon:
//! from just before the first call of one cycle to just before the first call of the cycle
//! `cycles` later (a cycle starts with the first call after 1.5 s without any). Polling: a
//! cycle is one poll pass, so the window holds exactly `cycles` passes and everything else the
//! daemon calls meanwhile; calls per hour = window calls × 3,600 / window seconds. Events: a
//! cycle is one long poll of the queue (`ReceiveMessage`, up to 20 s), so the window holds the
//! long polls and anything else the idle daemon calls, but not its rare poll pass; that pass is
//! added at what one poll cycle cost in polling's window (the same observers over the same
//! topology): calls per hour = window calls × 3,600 / window seconds + 3,600 / poll × (polling's
//! window calls / its passes).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::daemon::Daemon;
use crate::drift::{DriftReport, Sampling, measure_drift};
use crate::events::{OwnAccount, config_line, wire};
use crate::meter::{Meter, total};
use crate::run::Options;
use crate::topology::Topology;

/// What the events side of the comparison runs with.
#[derive(Debug, Clone)]
pub struct EventsOptions {
    /// The daemon's `pollInterval` with events (the safety net).
    pub poll_seconds: u64,
    /// The emulator's `events.delivery_delay`: seconds from a call to its event on the bus.
    pub delivery_delay: f64,
    /// `events.debounce` of the daemon's config; the controller's default when `None`.
    pub debounce: Option<String>,
    /// Poll passes in the polling window.
    pub poll_cycles: usize,
    /// Long polls in the events window.
    pub events_cycles: usize,
    /// Drift samples with events.
    pub drift_samples: usize,
    /// Before each drift sample with events, a pause spread over `[0, this)` seconds: the
    /// phases of the daemon's long poll (20 s).
    pub drift_spread_seconds: f64,
}

/// How long a drift may wait for its correction with events: far beyond any delivery delay,
/// so that a run whose event path is broken fails instead of waiting for the rare poll.
const EVENT_CORRECTION_LIMIT: Duration = Duration::from_secs(90);

/// The comparison.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    pub polling: ModeReport,
    pub events: ModeReport,
    pub delivery_delay_seconds: f64,
    /// The daemon's `events.debounce` (`default`: not set, the controller's default).
    pub debounce: String,
    /// `events.callsPerHour / polling.callsPerHour` (target ≤ 1/8).
    pub calls_ratio: f64,
    /// Messages left in the events queue, visible or in flight, after the last correction.
    pub queue_left: u64,
}

/// One way of running.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModeReport {
    pub poll_seconds: u64,
    pub drift: DriftReport,
    pub calls_per_hour: HourlyCalls,
}

/// API calls per hour of the converged topology and how they were derived.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HourlyCalls {
    pub per_hour: f64,
    /// The formula, in words.
    pub derivation: String,
    pub window: Window,
    /// Full observation passes per hour added to the window's rate (0 for polling: its window
    /// holds its passes).
    pub passes_added_per_hour: f64,
    /// Calls of one poll cycle (a full observation pass and whatever else the daemon called
    /// meanwhile), averaged over polling's window.
    pub pass_calls: f64,
}

/// The emulator's count over whole cycles of the daemon.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    pub cycles: usize,
    pub seconds: f64,
    pub calls: u64,
    pub by_operation: BTreeMap<String, u64>,
}

impl Window {
    fn calls_per_cycle(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let per_cycle = self.calls as f64 / self.cycles.max(1) as f64;
        per_cycle
    }

    fn per_hour(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let calls = self.calls as f64;
        calls * 3_600.0 / self.seconds.max(f64::EPSILON)
    }
}

const QUIET: Duration = Duration::from_millis(1_500);

/// The calls of `cycles` whole cycles, each at most `limit` long.
pub(crate) async fn calls_over_cycles(
    meter: &Meter<'_>,
    cycles: usize,
    limit: Duration,
) -> anyhow::Result<Window> {
    meter.wait_quiet(QUIET, limit).await?;
    let (first, started) = next_cycle(meter, limit).await?;
    let mut last = (first.clone(), started);
    for _ in 0..cycles {
        meter.wait_quiet(QUIET, limit).await?;
        last = next_cycle(meter, limit).await?;
    }
    let calls = last.0.since(&first);
    let mut by_operation = BTreeMap::new();
    for row in &calls.rows {
        *by_operation.entry(row.operation.clone()).or_insert(0) += row.calls;
    }
    Ok(Window {
        cycles,
        seconds: last.1.duration_since(started).as_secs_f64(),
        calls: total(&calls),
        by_operation,
    })
}

/// Waits for the first call after a quiet moment: the count just before it, and when it came.
async fn next_cycle(
    meter: &Meter<'_>,
    limit: Duration,
) -> anyhow::Result<(ecs_topology_testkit::Calls, Instant)> {
    let deadline = Instant::now() + limit;
    let mut before = meter.calls().await;
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = meter.calls().await;
        if total(&now) != total(&before) {
            return Ok((before, Instant::now()));
        }
        before = now;
        anyhow::ensure!(Instant::now() < deadline, "no call within {limit:?}");
    }
}

/// Polling's calls per hour: its window holds its passes.
pub(crate) fn polling_hourly(window: Window) -> HourlyCalls {
    let pass_calls = window.calls_per_cycle();
    HourlyCalls {
        per_hour: window.per_hour(),
        derivation: format!(
            "measured: {} calls over {} whole poll cycles ({:.1} s) x 3600 / {:.1}",
            window.calls, window.cycles, window.seconds, window.seconds
        ),
        window,
        passes_added_per_hour: 0.0,
        pass_calls,
    }
}

/// Events' calls per hour: the idle window's rate plus the rare poll's passes, each costing
/// what a poll cycle cost in polling's window.
fn events_hourly(window: Window, poll_seconds: u64, pass_calls: f64) -> HourlyCalls {
    #[allow(clippy::cast_precision_loss)]
    let passes = 3_600.0 / poll_seconds.max(1) as f64;
    let per_hour = window.per_hour() + passes * pass_calls;
    HourlyCalls {
        per_hour,
        derivation: format!(
            "{} calls over {} whole long polls ({:.1} s) x 3600 / {:.1}, measured, \
             + {passes:.1} poll passes per hour x {pass_calls:.1} calls per poll cycle \
             (measured in polling's window)",
            window.calls, window.cycles, window.seconds, window.seconds
        ),
        window,
        passes_added_per_hour: passes,
        pass_calls,
    }
}

/// The events side: wires the event path, runs the daemon with events and the rare poll on
/// the converged topology, measures its idle window and its drift to correction.
pub(crate) async fn events_mode(
    meter: &Meter<'_>,
    own: &OwnAccount,
    options: &Options,
    events: &EventsOptions,
    topology: &Topology,
    docs: &Path,
    pass_calls: f64,
) -> anyhow::Result<(ModeReport, u64)> {
    let emulator = meter.emulator();
    let queue = wire(emulator, own, topology).await;
    let targets: Vec<&str> = topology.accounts.iter().map(|a| a.id.as_str()).collect();
    emulator
        .set_settings(
            &targets,
            json!({"events.delivery_delay": events.delivery_delay}),
        )
        .await;
    let config = options.work_dir.join("config-events.yaml");
    let mut text = topology.config(
        &options.work_dir.join("status-events"),
        events.poll_seconds,
        options.concurrency,
    );
    text.push_str(&config_line(&queue, events.debounce.as_deref()));
    std::fs::write(&config, text)?;
    eprintln!(
        "bench: events wired (queue {}); starting the daemon with events and a {} s poll",
        queue.url, events.poll_seconds
    );
    let mut daemon = Daemon::start(emulator, options, "daemon-events", docs, &config, &own.env)?;
    daemon
        .until_ready(topology.mix.total(), options.converge_limit)
        .await?;
    let window = calls_over_cycles(meter, events.events_cycles, Duration::from_secs(60)).await?;
    eprintln!(
        "bench: events idle window: {} calls over {:.1} s {:?}",
        window.calls, window.seconds, window.by_operation
    );
    let hourly = events_hourly(window, events.poll_seconds, pass_calls);
    let drift = measure_drift(
        meter,
        topology,
        Sampling {
            samples: events.drift_samples,
            spread_seconds: events.drift_spread_seconds,
            limit: EVENT_CORRECTION_LIMIT,
            poll_seconds: events.poll_seconds,
        },
    )
    .await?;
    // The corrections' own events are read and deleted too.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut left = queue.queued().await;
    while left > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        left = queue.queued().await;
    }
    daemon.stop();
    emulator
        .set_settings(&targets, json!({"events.delivery_delay": 0}))
        .await;
    Ok((
        ModeReport {
            poll_seconds: events.poll_seconds,
            drift,
            calls_per_hour: hourly,
        },
        left,
    ))
}

//! `kill`: the controller killed with SIGKILL at random moments, under the fault storm.
//!
//! On a fresh world, with the storm on every account of it: half the kills hit `apply --once`
//! runs, the other half `run` daemons. Before each start the documents get a random edit with
//! even odds, so that kills land in creates, updates and prunes, not only in quiet passes. Each
//! process is killed after a random delay (seeded), unless it finished first (counted apart).
//! A share of the kills (`aimed`) is aimed at a change instead: those rounds always edit, and the
//! process is killed a random moment (up to half a second) after the emulator has seen its first
//! call that changes AWS, so that kills land between the calls of a change, not in the quiet
//! passes that make up most of a process's life.
//! Then the storm stops, `apply --once` settles the world, and the census judges it.

use std::time::{Duration, Instant};

use ecs_topology_testkit::Emulator;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::Serialize;

use super::{Common, Counted, counted, random_edit, secs, settle, storm};
use crate::census::Census;
use crate::controller::Controller;
use crate::world::PRUNE_FREELY;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KillOptions {
    /// SIGKILLs in all; the first half to `apply --once`, the rest to `run`.
    pub kills: usize,
    /// Share of calls faulted during the storm.
    pub fault_rate: f64,
    /// A process is killed between these many milliseconds after its start.
    pub min_delay_ms: u64,
    pub max_delay_ms: u64,
    /// Share of the kills aimed at a change (killed just after the process's first call that
    /// changes AWS, or at `max_delay_ms` when none comes).
    pub aimed: f64,
}

/// How often an aimed kill looks at the emulator's calls for the process's first change.
const AIM_POLL: Duration = Duration::from_millis(50);
/// An aimed kill lands between 0 and this long after the first change was seen.
const AIM_SPREAD_MS: u64 = 500;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KillReport {
    pub options: KillOptions,
    pub seed: u64,
    pub documents: usize,
    pub kills_apply: usize,
    pub kills_run: usize,
    /// Kills with a call that changes AWS in the second before them: kills that cut a change
    /// short.
    pub kills_mid_change: usize,
    /// Kills aimed at a change (see `aimed`), and of those the ones whose process made no change
    /// before `max_delay_ms` (killed then, unaimed).
    pub kills_aimed: usize,
    pub aimed_without_change: usize,
    /// Processes that finished before their kill came (not counted as kills).
    pub finished_first: usize,
    pub edits: Vec<String>,
    /// Calls in the world's accounts during the storm.
    pub storm: Counted,
    pub storm_seconds: f64,
    /// `apply --once` runs it took to settle.
    pub settle_runs: usize,
    pub census: Census,
}

impl KillReport {
    pub fn summary(&self) -> String {
        format!(
            "kill: {} kills ({} apply --once, {} run; {} in the second after a call that changes AWS; {} aimed at a change, {} of them saw none; {} finished first), {} edits, {:.0} s of storm: {} calls, {} faulted, {} throttled; settled in {} apply run(s)\ncensus: {}",
            self.kills_apply + self.kills_run,
            self.kills_apply,
            self.kills_run,
            self.kills_mid_change,
            self.kills_aimed,
            self.aimed_without_change,
            self.finished_first,
            self.edits.len(),
            self.storm_seconds,
            self.storm.calls,
            self.storm.faulted,
            self.storm.throttled,
            self.settle_runs,
            self.census.summary()
        )
    }
}

pub async fn run(
    emulator: &Emulator,
    common: &Common,
    options: &KillOptions,
) -> anyhow::Result<KillReport> {
    let (mut world, lookalikes) = common.world(emulator, "kill").await?;
    let config = world.write_config("2s", PRUNE_FREELY, "")?;
    let mut controller = Controller::new(emulator, &world, &common.binary, config).await?;
    let source = world.docs_dir().display().to_string();
    let mut rng = StdRng::seed_from_u64(common.seed);

    emulator
        .set_profile(
            &world.all_accounts(),
            storm(options.fault_rate, common.seed),
        )
        .await;
    let before = emulator.calls().await;
    let started = Instant::now();
    let mut report = KillReport {
        options: options.clone(),
        seed: common.seed,
        documents: 0,
        kills_apply: 0,
        kills_run: 0,
        kills_mid_change: 0,
        kills_aimed: 0,
        aimed_without_change: 0,
        finished_first: 0,
        edits: Vec::new(),
        storm: Counted::default(),
        storm_seconds: 0.0,
        settle_runs: 0,
        census: Census::default(),
    };
    let apply_kills = options.kills - options.kills / 2;
    let mut round = 0;
    while report.kills_apply + report.kills_run < options.kills && round < options.kills * 4 {
        round += 1;
        let aimed = rng.random_bool(options.aimed.clamp(0.0, 1.0));
        if aimed || rng.random_bool(0.5) {
            let edit = random_edit(&mut world, &mut rng, round);
            world.write_docs()?;
            report.edits.push(edit);
        }
        let daemon = report.kills_apply >= apply_kills;
        let start = emulator.calls().await;
        let mut process = if daemon {
            controller.run(emulator, &source, None)?
        } else {
            controller.apply(emulator, &source)?
        };
        let delay = rng.random_range(options.min_delay_ms..=options.max_delay_ms);
        let spread = rng.random_range(0..=AIM_SPREAD_MS);
        // Whether the process made a change in the moments before its kill.
        let (killed, changing) = if aimed {
            // Killed `spread` after the first change the emulator sees, or at `max_delay_ms`.
            let deadline = Instant::now() + Duration::from_millis(options.max_delay_ms);
            let mut saw = false;
            while Instant::now() < deadline && process.running() {
                let now = emulator.calls().await.since(&start);
                if world.target_accounts().iter().any(|a| now.mutating(a) > 0) {
                    saw = true;
                    break;
                }
                tokio::time::sleep(AIM_POLL).await;
            }
            if saw {
                tokio::time::sleep(Duration::from_millis(spread)).await;
            }
            // Seen a change at most half a second (and a poll) before the kill.
            (process.kill(), saw)
        } else {
            // The calls of the last second before the kill tell whether it cut a change short.
            let last_second = delay.min(1_000);
            tokio::time::sleep(Duration::from_millis(delay - last_second)).await;
            let window = emulator.calls().await;
            tokio::time::sleep(Duration::from_millis(last_second)).await;
            let killed = process.kill();
            let last = emulator.calls().await.since(&window);
            let changing = world.target_accounts().iter().any(|a| last.mutating(a) > 0);
            (killed, changing)
        };
        if killed && aimed {
            report.kills_aimed += 1;
            if !changing {
                report.aimed_without_change += 1;
            }
        }
        match (killed, daemon) {
            (true, true) => report.kills_run += 1,
            (true, false) => report.kills_apply += 1,
            (false, _) => report.finished_first += 1,
        }
        if killed && changing {
            report.kills_mid_change += 1;
        }
    }
    report.storm_seconds = secs(started.elapsed());
    report.storm = counted(&world, &emulator.calls().await.since(&before));
    let (census, runs) = settle(emulator, &world, &mut controller, &lookalikes, 6).await?;
    report.documents = world.docs.len();
    report.settle_runs = runs;
    report.census = census;
    Ok(report)
}

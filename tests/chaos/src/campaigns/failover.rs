//! `failover`: replicas of `run` on one DynamoDB lease; the leader killed with SIGKILL, or cut off
//! from the lease table, again and again while the world converges.
//!
//! Every replica talks to AWS through its own [`Proxy`], which can answer that replica's lease
//! writes with HTTP 500 while the others' pass (the lease table lives in the replicas' own
//! account, which the emulator faults as a whole). Each round: wait for exactly one leader,
//! edit the documents and let the change start, then kill the leader (a replacement replica
//! starts in its place) or cut it off (its lease writes fail until the round ends). Measured:
//! the time until another replica leads, and every call that changes AWS a cut-off replica made
//! after its lease had expired (from the cut plus one lease duration, the latest its last
//! renewal can hold, until it is let back). Then the replicas converge the world and the census
//! judges it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ecs_topology_testkit::{Emulator, create_table};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::Serialize;

use super::{Common, p50_max, random_edit, secs, until_converged};
use crate::census::Census;
use crate::controller::{Controller, Process};
use crate::proxy::Proxy;
use crate::world::{PRUNE_FREELY, REGIONS};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverOptions {
    pub replicas: usize,
    /// Leaders killed.
    pub kills: usize,
    /// Leaders cut off from the lease table.
    pub cuts: usize,
    pub lease_seconds: u64,
}

/// One hand-over.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Takeover {
    /// `kill` or `cut`.
    pub cause: &'static str,
    /// From the kill or cut until another replica leads; `None`: no one took over in time.
    pub seconds: Option<f64>,
    pub edit: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverReport {
    pub options: FailoverOptions,
    pub seed: u64,
    pub documents: usize,
    pub takeovers: Vec<Takeover>,
    /// p50 and max of the takeover seconds after kills, and after cuts.
    pub kill_takeover_p50_max: (f64, f64),
    pub cut_takeover_p50_max: (f64, f64),
    /// Calls that change AWS made by a cut-off replica after its lease expired (must be none).
    pub mutating_after_expiry: Vec<String>,
    /// Calls that change AWS all replicas made through their proxies (what the count above is
    /// taken from).
    pub mutating_calls: usize,
    /// Cut-off replicas still reporting themselves leader after their lease expired.
    pub leading_after_expiry: usize,
    pub converge_seconds: f64,
    pub census: Census,
}

impl FailoverReport {
    pub fn failovers(&self) -> usize {
        self.takeovers
            .iter()
            .filter(|t| t.seconds.is_some())
            .count()
    }

    /// The census's findings, calls after a lease expired, leaders that stayed, hand-overs
    /// that did not happen.
    pub fn failures(&self) -> Vec<String> {
        let mut out = self.census.failures();
        out.extend(
            self.mutating_after_expiry
                .iter()
                .map(|op| format!("a change after the lease expired: {op}")),
        );
        if self.leading_after_expiry > 0 {
            out.push(format!(
                "{} cut-off leaders still leading after their lease expired",
                self.leading_after_expiry
            ));
        }
        out.extend(
            self.takeovers
                .iter()
                .filter(|t| t.seconds.is_none())
                .map(|t| format!("no takeover after a {}", t.cause)),
        );
        out
    }

    pub fn summary(&self) -> String {
        format!(
            "failover: {} replicas, {} of {} hand-overs taken ({} kills, {} cuts); takeover after a kill p50 {:.1} s, max {:.1} s; after a cut p50 {:.1} s, max {:.1} s; {} calls changing AWS after a lease expired (of {} in all), {} cut-off leaders still leading; converged {:.0} s after the last round\ncensus: {}",
            self.options.replicas,
            self.failovers(),
            self.takeovers.len(),
            self.options.kills,
            self.options.cuts,
            self.kill_takeover_p50_max.0,
            self.kill_takeover_p50_max.1,
            self.cut_takeover_p50_max.0,
            self.cut_takeover_p50_max.1,
            self.mutating_after_expiry.len(),
            self.mutating_calls,
            self.leading_after_expiry,
            self.converge_seconds,
            self.census.summary()
        )
    }
}

/// The replicas: one process and one proxy per slot.
struct Replicas {
    slots: Vec<(Option<Process>, Proxy)>,
}

impl Replicas {
    fn leaders(&self) -> Vec<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, (p, _))| p.as_ref().is_some_and(Process::leading))
            .map(|(i, _)| i)
            .collect()
    }

    /// Waits, at most `limit`, until exactly one replica other than `not` leads.
    async fn one_leader(&self, not: Option<usize>, limit: Duration) -> Option<usize> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let [leader] = self.leaders()[..]
                && Some(leader) != not
            {
                return Some(leader);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
}

pub async fn run(
    emulator: &Emulator,
    common: &Common,
    options: &FailoverOptions,
) -> anyhow::Result<FailoverReport> {
    let (mut world, lookalikes) = common.world(emulator, "failover").await?;
    let table = format!("lease-{}", world.own);
    let dynamodb =
        aws_sdk_dynamodb::Client::new(&emulator.sdk_config(&world.own, REGIONS[0]).await);
    create_table(&dynamodb, &table).await;
    let lease = Duration::from_secs(options.lease_seconds);
    let config = world.write_config(
        "2s",
        PRUNE_FREELY,
        &format!(
            "lease: {{dynamodbTable: {table}, duration: {}s}}\n",
            options.lease_seconds
        ),
    )?;
    let mut controller = Controller::new(emulator, &world, &common.binary, config).await?;
    let source = world.docs_dir().display().to_string();
    let mut rng = StdRng::seed_from_u64(common.seed);

    let mut replicas = Replicas { slots: Vec::new() };
    for _ in 0..options.replicas {
        let proxy = Proxy::start(emulator.endpoint_url()).await?;
        let process = controller.run(emulator, &source, Some(&proxy.url))?;
        replicas.slots.push((Some(process), proxy));
    }
    let started_campaign = Instant::now();
    let mut takeovers = Vec::new();
    let mut mutating_after_expiry = Vec::new();
    let mut leading_after_expiry = 0;
    let (mut kills, mut cuts) = (0, 0);
    let settle_limit = lease * 4 + Duration::from_secs(20);
    for round in 1..=options.kills + options.cuts {
        let Some(leader) = replicas.one_leader(None, settle_limit).await else {
            takeovers.push(Takeover {
                cause: "none",
                seconds: None,
                edit: "no leader before the round".into(),
            });
            continue;
        };
        let edit = random_edit(&mut world, &mut rng, round);
        world.write_docs()?;
        tokio::time::sleep(Duration::from_millis(rng.random_range(500..=2_500))).await;
        let kill = cuts >= options.cuts || (kills < options.kills && rng.random_bool(0.5));
        let started = Instant::now();
        if kill {
            kills += 1;
            if let Some(process) = replicas.slots[leader].0.as_mut() {
                process.kill();
            }
        } else {
            cuts += 1;
            replicas.slots[leader].1.cut(true);
        }
        let next = replicas.one_leader(Some(leader), settle_limit).await;
        takeovers.push(Takeover {
            cause: if kill { "kill" } else { "cut" },
            seconds: next.map(|_| secs(started.elapsed())),
            edit,
        });
        let (process, proxy) = &mut replicas.slots[leader];
        if kill {
            *process = Some(controller.run(emulator, &source, Some(&proxy.url))?);
        } else {
            // The cut replica's last renewal was before the cut: its lease is over by
            // `started + lease`. Watch it a while longer before letting it back.
            tokio::time::sleep_until((started + lease + Duration::from_secs(3)).into()).await;
            if process.as_ref().is_some_and(Process::leading) {
                leading_after_expiry += 1;
            }
            let until = Instant::now();
            proxy.cut(false);
            for op in proxy.mutating_between(started + lease, until) {
                mutating_after_expiry.push(format!("round {round}: {op}"));
            }
        }
    }
    let converging = Instant::now();
    let census = until_converged(emulator, &world, &lookalikes, Duration::from_secs(240)).await?;
    let converge_seconds = secs(converging.elapsed());
    let mut mutating_calls = 0;
    for (process, proxy) in &mut replicas.slots {
        if let Some(p) = process.as_mut() {
            p.kill();
        }
        mutating_calls += proxy
            .mutating_between(started_campaign, Instant::now())
            .len();
    }
    let samples = |cause: &str| -> Vec<f64> {
        takeovers
            .iter()
            .filter(|t| t.cause == cause)
            .filter_map(|t| t.seconds)
            .collect()
    };
    let by_cause: BTreeMap<&str, Vec<f64>> =
        [("kill", samples("kill")), ("cut", samples("cut"))].into();
    Ok(FailoverReport {
        options: options.clone(),
        seed: common.seed,
        documents: world.docs.len(),
        kill_takeover_p50_max: p50_max(&by_cause["kill"]),
        cut_takeover_p50_max: p50_max(&by_cause["cut"]),
        takeovers,
        mutating_after_expiry,
        mutating_calls,
        leading_after_expiry,
        converge_seconds,
        census,
    })
}

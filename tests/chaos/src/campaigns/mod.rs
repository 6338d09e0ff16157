//! The campaigns and what they share: the fault storm, random edits, settling and counting.

pub mod failover;
pub mod faults;
pub mod kill;
pub mod sources;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ecs_topology_testkit::{Calls, Emulator};
use rand::Rng as _;
use rand::rngs::StdRng;
use serde::Serialize;
use serde_json::{Value, json};

use crate::census::Census;
use crate::controller::Controller;
use crate::world::{Doc, EXTRA_INTERFACE, Scope, World};

/// What every campaign is given.
#[derive(Debug, Clone)]
pub struct Common {
    /// The `ecs-topology` binary.
    pub binary: PathBuf,
    /// Where worlds are made (one directory each).
    pub work_dir: PathBuf,
    /// Namespaces (and shares) per scope.
    pub cells: usize,
    /// The interface services of each endpoint set (besides the `s3` gateway).
    pub interface: Vec<String>,
    pub seed: u64,
}

impl Common {
    /// The world of the campaign `name`, built in `<work_dir>/<name>-<seed>`, and its look-alikes
    /// as recorded before the campaign (see [`Census::lookalikes`]).
    pub async fn world(
        &self,
        emulator: &Emulator,
        name: &str,
    ) -> anyhow::Result<(World, BTreeMap<String, String>)> {
        let dir = self.work_dir.join(format!("{name}-{}", self.seed));
        let world = World::build(emulator, &dir, self.cells, &self.interface).await?;
        let lookalikes = Census::lookalikes(emulator, &world).await?;
        Ok((world, lookalikes))
    }
}

/// The emulator profile of the fault storm: AWS's throttling on, and `rate` of calls faulted
/// (spread over HTTP 500, 503, resets before and after processing, and slow replies).
pub fn storm(rate: f64, seed: u64) -> Value {
    json!({
        "throttle": true,
        "faults": {
            "http500": rate * 0.3,
            "http503": rate * 0.2,
            "reset": rate * 0.15,
            "reset_after": rate * 0.15,
            "slow": rate * 0.2,
            "slow_ms": 1500,
        },
        "seed": seed,
    })
}

/// Calls in the world's accounts since `before`: (calls, throttled, faulted, mutating).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Counted {
    pub calls: u64,
    pub throttled: u64,
    pub faulted: u64,
    pub mutating: u64,
}

pub fn counted(world: &World, calls: &Calls) -> Counted {
    let mut out = Counted::default();
    for account in world.all_accounts() {
        out.calls += calls.total(account);
        out.throttled += calls.throttled(account);
        out.faulted += calls.faulted(account);
        out.mutating += calls.mutating(account);
    }
    out
}

/// `Delete*` calls served in the target accounts, per operation.
pub fn deletes(world: &World, calls: &Calls) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for account in world.target_accounts() {
        for (op, n) in calls.operations(account) {
            if op.starts_with("Delete") || op.starts_with("Disassociate") {
                *out.entry(op).or_insert(0) += n;
            }
        }
    }
    out
}

/// Turns the storm off and runs `apply --once` from the world's directory until it exits 0 and
/// the census finds every document converged (at most `attempts` runs); the census and the runs.
pub async fn settle(
    emulator: &Emulator,
    world: &World,
    controller: &mut Controller,
    lookalikes: &BTreeMap<String, String>,
    attempts: usize,
) -> anyhow::Result<(Census, usize)> {
    emulator
        .set_profile(&world.all_accounts(), Value::Null)
        .await;
    let source = world.docs_dir().display().to_string();
    let mut census = Census::default();
    for run in 1..=attempts {
        let code = controller
            .apply_to_end(emulator, &source, Duration::from_secs(300))
            .await?;
        census = Census::take(emulator, world, lookalikes).await?;
        if code == Some(0) && census.converged() {
            return Ok((census, run));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    Ok((census, attempts))
}

/// Takes the census every two seconds until every document is converged, at most `limit`.
pub async fn until_converged(
    emulator: &Emulator,
    world: &World,
    lookalikes: &BTreeMap<String, String>,
    limit: Duration,
) -> anyhow::Result<Census> {
    let deadline = Instant::now() + limit;
    loop {
        let census = Census::take(emulator, world, lookalikes).await?;
        if census.converged() || Instant::now() > deadline {
            return Ok(census);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// One random edit of the documents, as a GitOps pipeline would make it: a namespace's
/// description, an Express service's image, an endpoint set's `logs` endpoint added or removed,
/// or a namespace of its own added or removed (a create or a prune). Returns what it did.
pub fn random_edit(world: &mut World, rng: &mut StdRng, round: usize) -> String {
    let pick = |world: &World, rng: &mut StdRng, kind: &str| -> Option<String> {
        let names: Vec<&String> = world
            .docs
            .iter()
            .filter(|(_, d)| d.kind() == kind)
            .map(|(n, _)| n)
            .collect();
        (!names.is_empty()).then(|| names[rng.random_range(0..names.len())].clone())
    };
    let choice = rng.random_range(0..4);
    let target = match choice {
        0 => pick(world, rng, "CloudMapNamespace"),
        1 => pick(world, rng, "ExpressService"),
        2 => pick(world, rng, "VpcEndpointSet"),
        _ => None,
    };
    match (
        target.and_then(|name| world.docs.get_mut(&name).map(|d| (name, d))),
        choice,
    ) {
        (Some((name, Doc::Namespace { description, .. })), _) => {
            *description = format!("Edited in round {round}");
            format!("{name}: description")
        }
        (Some((name, Doc::Express { image, .. })), _) => {
            *image = format!("public.ecr.aws/example/web:r{round}");
            format!("{name}: image")
        }
        (Some((name, Doc::Endpoints { interface, .. })), _) => {
            if let Some(at) = interface.iter().position(|i| i == EXTRA_INTERFACE) {
                interface.remove(at);
                format!("{name}: -{EXTRA_INTERFACE}")
            } else {
                interface.push(EXTRA_INTERFACE.to_owned());
                format!("{name}: +{EXTRA_INTERFACE}")
            }
        }
        _ => {
            let churn: Vec<String> = world
                .docs
                .keys()
                .filter(|n| n.starts_with("churn-"))
                .cloned()
                .collect();
            if !churn.is_empty() && rng.random_bool(0.5) {
                let name = &churn[rng.random_range(0..churn.len())];
                world.docs.remove(name);
                format!("{name}: removed")
            } else {
                let scopes: Vec<Scope> = Scope::all().collect();
                let scope = scopes[rng.random_range(0..scopes.len())];
                let name = format!("churn-{round}");
                world.docs.insert(
                    name.clone(),
                    Doc::Namespace {
                        scope,
                        cloud_map_name: format!("{name}.chaos.internal"),
                        description: format!("Added in round {round}"),
                    },
                );
                format!("{name}: added")
            }
        }
    }
}

/// p50 and max of some durations, in seconds (0 when none).
pub fn p50_max(samples: &[f64]) -> (f64, f64) {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let p50 = sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0.0);
    (p50, sorted.last().copied().unwrap_or(0.0))
}

/// Seconds rounded to a tenth.
pub fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p50_is_the_lower_middle_and_max_the_largest() {
        assert_eq!(p50_max(&[3.0, 1.0, 2.0]), (2.0, 3.0));
        assert_eq!(p50_max(&[4.0, 1.0]), (1.0, 4.0));
        assert_eq!(p50_max(&[]), (0.0, 0.0));
    }

    #[test]
    fn the_storm_faults_the_rate_asked_for() {
        let profile = storm(0.2, 1);
        let total: f64 = ["http500", "http503", "reset", "reset_after", "slow"]
            .iter()
            .map(|f| profile["faults"][f].as_f64().unwrap_or_default())
            .sum();
        assert!((total - 0.2).abs() < 1e-9, "{total}");
    }
}

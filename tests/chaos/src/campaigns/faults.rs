//! `faults`: the initial convergence of a fresh world at several fault rates, next to the
//! throttle-bound minimum.
//!
//! For each rate, a fresh world (same shape) and a `run` daemon with AWS's throttling on and that
//! share of calls faulted on every account of the world: the time from the daemon's start until
//! `/status` shows every document Ready, the calls, throttles and faults meanwhile; then the
//! storm stops and the census judges the world. The throttle-bound minimum takes the creates and
//! updates the topology needs through the emulator's token buckets
//! ([`ecs_topology_bench::limits::throttle_minimum`]).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ecs_topology_bench::limits::throttle_minimum;
use ecs_topology_testkit::Emulator;
use serde::Serialize;
use serde_json::Value;

use super::{Common, Counted, counted, secs, storm, until_converged};
use crate::census::Census;
use crate::controller::Controller;
use crate::world::{Doc, PRUNE_FREELY, Scope, World};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultsOptions {
    /// Shares of calls faulted, e.g. `[0.0, 0.05, 0.2]`.
    pub rates: Vec<f64>,
    /// How long a convergence may take.
    pub limit_seconds: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRun {
    pub rate: f64,
    /// Until every document was Ready; `None`: not within the limit.
    pub seconds: Option<f64>,
    /// `seconds` over the throttle-bound minimum.
    pub over_minimum: Option<f64>,
    pub calls: Counted,
    pub census: Census,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultsReport {
    pub options: FaultsOptions,
    pub seed: u64,
    pub documents: usize,
    pub throttle_minimum_seconds: f64,
    pub bound_by: Option<String>,
    pub runs: Vec<FaultRun>,
}

impl FaultsReport {
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        for run in &self.runs {
            let rate = run.rate * 100.0;
            if run.seconds.is_none() {
                out.push(format!(
                    "{rate:.0} % faulted: not Ready within {} s",
                    self.options.limit_seconds
                ));
            }
            out.extend(
                run.census
                    .failures()
                    .into_iter()
                    .map(|f| format!("{rate:.0} % faulted: {f}")),
            );
        }
        out
    }

    pub fn summary(&self) -> String {
        let mut text = format!(
            "faults: {} documents; throttle-bound minimum {:.1} s ({})\n",
            self.documents,
            self.throttle_minimum_seconds,
            self.bound_by
                .as_deref()
                .unwrap_or("every bucket within its burst")
        );
        for run in &self.runs {
            let seconds = run
                .seconds
                .map_or("not Ready".to_owned(), |s| format!("{s:.1} s"));
            text.push_str(&format!(
                "  {:>4.0} % faulted: {seconds}, {} calls, {} faulted, {} throttled; census: {}\n",
                run.rate * 100.0,
                run.calls.calls,
                run.calls.faulted,
                run.calls.throttled,
                run.census.summary()
            ));
        }
        text
    }
}

/// The creates and updates a world needs, per (account, region, service, operation).
pub fn changes_needed(
    world: &World,
    cells: usize,
) -> BTreeMap<(String, String, String, String), usize> {
    let mut out = BTreeMap::new();
    for scope in Scope::all() {
        let account = world.accounts[scope.account].clone();
        let mut add = |service: &str, op: &str, n: usize| {
            *out.entry((
                account.clone(),
                scope.region().to_owned(),
                service.to_owned(),
                op.to_owned(),
            ))
            .or_insert(0) += n;
        };
        add("servicediscovery", "CreateHttpNamespace", cells);
        add("ram", "CreateResourceShare", cells);
        let endpoints = world.docs.values().find_map(|doc| match doc {
            Doc::Endpoints {
                scope: at,
                interface,
            } if *at == scope => Some(interface.len() + 1),
            _ => None,
        });
        add("ec2", "CreateVpcEndpoint", endpoints.unwrap_or(0));
        add("ecs", "CreateExpressGatewayService", 1);
        // The scope's own bound service and the client of the previous account's namespace.
        add("ecs", "UpdateService", 2);
        let side = if scope.region == 0 {
            "CreateVpcPeeringConnection"
        } else {
            "AcceptVpcPeeringConnection"
        };
        add("ec2", side, 1);
        add("ec2", "CreateRoute", 1);
    }
    out
}

pub async fn run(
    emulator: &Emulator,
    common: &Common,
    options: &FaultsOptions,
) -> anyhow::Result<FaultsReport> {
    let mut report = FaultsReport {
        options: options.clone(),
        seed: common.seed,
        documents: 0,
        throttle_minimum_seconds: 0.0,
        bound_by: None,
        runs: Vec::new(),
    };
    for &rate in &options.rates {
        let dir = common
            .work_dir
            .join(format!("faults-{}-{:.0}", common.seed, rate * 100.0));
        let world = World::build(emulator, &dir, common.cells, &common.interface).await?;
        let (minimum, bound_by) = throttle_minimum(&changes_needed(&world, common.cells));
        report.documents = world.docs.len();
        report.throttle_minimum_seconds = secs(Duration::from_secs_f64(minimum));
        report.bound_by = bound_by;
        let lookalikes = Census::lookalikes(emulator, &world).await?;
        let config = world.write_config("2s", PRUNE_FREELY, "")?;
        let mut controller = Controller::new(emulator, &world, &common.binary, config).await?;
        emulator
            .set_profile(&world.all_accounts(), storm(rate, common.seed))
            .await;
        let before = emulator.calls().await;
        let started = Instant::now();
        let mut daemon = controller.run(emulator, &world.docs_dir().display().to_string(), None)?;
        let deadline = started + Duration::from_secs(options.limit_seconds);
        let mut seconds = None;
        while Instant::now() < deadline && daemon.running() {
            if daemon.ready() == (world.docs.len(), world.docs.len()) {
                seconds = Some(secs(started.elapsed()));
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let calls = counted(&world, &emulator.calls().await.since(&before));
        emulator
            .set_profile(&world.all_accounts(), Value::Null)
            .await;
        let census =
            until_converged(emulator, &world, &lookalikes, Duration::from_secs(60)).await?;
        daemon.kill();
        report.runs.push(FaultRun {
            rate,
            seconds,
            over_minimum: seconds
                .filter(|_| minimum > 0.0)
                .map(|s| (s / minimum * 100.0).round() / 100.0),
            calls,
            census,
        });
    }
    Ok(report)
}

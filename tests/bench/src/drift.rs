//! Drift to correction: a namespace description changed by hand through the emulator, until the
//! emulator counts the controller's corrective `UpdateHttpNamespace` in that account.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_servicediscovery::types::HttpNamespaceChange;
use ecs_topology_testkit::Calls;

use crate::meter::Meter;
use crate::topology::Topology;

/// The samples of one way of running and their percentiles.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftReport {
    pub poll_seconds: u64,
    /// Seconds from the hand-made `UpdateHttpNamespace` until the emulator saw the controller's.
    pub samples: Vec<f64>,
    /// Per sample, the (account, region) scopes whose namespaces the controller listed between
    /// the change and its correction: 1 when the change's event led to a targeted observation of
    /// its scope, every scope when a poll pass found it.
    pub scopes_listed: Vec<usize>,
    /// Nearest-rank percentiles of `samples`.
    pub p50_seconds: f64,
    pub p95_seconds: f64,
    pub max_seconds: f64,
}

/// How the samples are taken.
#[derive(Debug, Clone, Copy)]
pub struct Sampling {
    pub samples: usize,
    /// Before each change, a pause spread evenly over `[0, spread)` seconds (golden-ratio
    /// steps), so that the changes fall on every phase of the daemon's cycle (its poll, or its
    /// long poll of the events queue).
    pub spread_seconds: f64,
    /// How long one correction may take.
    pub limit: Duration,
    /// Reported as the mode's poll interval.
    pub poll_seconds: u64,
}

/// Changes `sampling.samples` namespaces of `topology` by hand, one after the other, and times
/// each correction.
pub async fn measure_drift(
    meter: &Meter<'_>,
    topology: &Topology,
    sampling: Sampling,
) -> anyhow::Result<DriftReport> {
    let mut samples = Vec::new();
    let mut scopes_listed = Vec::new();
    let emulator = meter.emulator();
    let count = topology.namespaces.len();
    for k in 0..sampling.samples.min(count) {
        let ns = &topology.namespaces[(k * 7919) % count];
        let client = aws_sdk_servicediscovery::Client::new(
            &emulator.sdk_config(&ns.account, &ns.region).await,
        );
        let id = namespace_id(&client, &ns.cloud_map_name).await?;
        #[allow(clippy::cast_precision_loss)]
        let phase = ((k as f64) * 0.382).fract() * sampling.spread_seconds;
        tokio::time::sleep(Duration::from_secs_f64(phase)).await;
        let change = HttpNamespaceChange::builder()
            .description(format!("changed by hand {k}"))
            .build()?;
        let before = meter.calls().await;
        client
            .update_http_namespace()
            .id(&id)
            .namespace(change)
            .send()
            .await?;
        let drifted = Instant::now();
        let made = meter
            .calls()
            .await
            .count(&ns.account, "UpdateHttpNamespace");
        let deadline = drifted + sampling.limit;
        loop {
            let now = meter.calls().await;
            if now.count(&ns.account, "UpdateHttpNamespace") > made {
                samples.push(drifted.elapsed().as_secs_f64());
                scopes_listed.push(scopes_listing_namespaces(&now.since(&before)));
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "drift of {} not corrected within {:?}",
                ns.name,
                sampling.limit
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!(
            "bench: drift {k} corrected after {:.2} s ({} scope(s) listed)",
            samples[samples.len() - 1],
            scopes_listed[scopes_listed.len() - 1]
        );
    }
    let mut sorted = samples.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(DriftReport {
        poll_seconds: sampling.poll_seconds,
        p50_seconds: percentile(&sorted, 0.50),
        p95_seconds: percentile(&sorted, 0.95),
        max_seconds: sorted.last().copied().unwrap_or(0.0),
        samples,
        scopes_listed,
    })
}

/// The (account, region) pairs in which `calls` hold a `ListNamespaces`.
fn scopes_listing_namespaces(calls: &Calls) -> usize {
    calls
        .rows
        .iter()
        .filter(|r| r.operation == "ListNamespaces")
        .map(|r| (&r.account, &r.region))
        .collect::<BTreeSet<_>>()
        .len()
}

/// The nearest-rank percentile `p` (0..=1) of `sorted`; 0 when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn namespace_id(
    client: &aws_sdk_servicediscovery::Client,
    name: &str,
) -> anyhow::Result<String> {
    let mut token = None;
    loop {
        let reply = client
            .list_namespaces()
            .set_next_token(token)
            .send()
            .await?;
        if let Some(id) = reply
            .namespaces()
            .iter()
            .find(|n| n.name() == Some(name))
            .and_then(|n| n.id())
        {
            return Ok(id.to_owned());
        }
        token = reply.next_token;
        anyhow::ensure!(token.is_some(), "namespace {name} not found");
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_are_nearest_rank() {
        let seven = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        assert!((percentile(&seven, 0.5) - 4.0).abs() < 1e-9);
        assert!((percentile(&seven, 0.95) - 7.0).abs() < 1e-9);
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert!((percentile(&twenty, 0.5) - 10.0).abs() < 1e-9);
        assert!((percentile(&twenty, 0.95) - 19.0).abs() < 1e-9);
        assert!((percentile(&[], 0.5)).abs() < 1e-9);
    }
}

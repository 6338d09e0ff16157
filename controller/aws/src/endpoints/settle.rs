//! Waiting on endpoints: until they are gone, or until they are no longer `pending`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ecs_topology_core::observed::ObservedEndpoint;

use super::observe::by_id;
use crate::call::{Aws, AwsError};

/// How long endpoints are waited on (AWS takes one to a few minutes to make one available).
pub(super) const SETTLE_TIMEOUT: Duration = Duration::from_secs(600);

/// The longest pause between two looks.
const MAX_PAUSE: Duration = Duration::from_secs(15);

/// Waits until the endpoints are gone (deleted, or no longer listed), within [`SETTLE_TIMEOUT`];
/// after that the caller goes on and AWS tells what is in the way.
pub(super) async fn wait_gone(aws: Aws<'_>, ids: &BTreeSet<String>) -> Result<(), AwsError> {
    if ids.is_empty() {
        return Ok(());
    }
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(500);
    loop {
        let left = by_id(aws, ids).await?;
        if left.iter().all(|ep| ep.state == "deleted") || started.elapsed() >= SETTLE_TIMEOUT {
            return Ok(());
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 3 / 2).min(MAX_PAUSE);
    }
}

/// Reads the endpoints whose state is unknown at once, then those still `pending` after a
/// growing pause, until none is pending or [`SETTLE_TIMEOUT`] has passed. An endpoint no longer
/// listed is left out of the result.
pub(super) async fn settle(
    aws: Aws<'_>,
    mut endpoints: BTreeMap<String, Option<ObservedEndpoint>>,
) -> Result<BTreeMap<String, ObservedEndpoint>, AwsError> {
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(500);
    let mut look: BTreeSet<String> = endpoints
        .iter()
        .filter(|(_, ep)| ep.is_none())
        .map(|(id, _)| id.clone())
        .collect();
    loop {
        if !look.is_empty() {
            let found: BTreeMap<String, ObservedEndpoint> = by_id(aws, &look)
                .await?
                .into_iter()
                .map(|ep| (ep.id.clone(), ep))
                .collect();
            for id in &look {
                match found.get(id) {
                    Some(ep) => endpoints.insert(id.clone(), Some(ep.clone())),
                    None => endpoints.remove(id),
                };
            }
        }
        look = endpoints
            .iter()
            .filter(|(_, ep)| ep.as_ref().is_some_and(|ep| ep.state == "pending"))
            .map(|(id, _)| id.clone())
            .collect();
        if look.is_empty() || started.elapsed() >= SETTLE_TIMEOUT {
            break;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 3 / 2).min(MAX_PAUSE);
    }
    Ok(endpoints
        .into_iter()
        .filter_map(|(id, ep)| ep.map(|ep| (id, ep)))
        .collect())
}

//! Observing the Express services of some clusters: batched reads for every service, and the
//! per-service reads only for the services that changed since the last pass.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_ecs::types::{ExpressGatewayServiceInclude, ResourceManagementType, Service};
use ecs_topology_core::observed::ObservedExpressService;
use futures::stream::{self, StreamExt, TryStreamExt};

use super::convert;
use super::{ExpressCache, Fingerprint, Seen};
use crate::ApiFamily;
use crate::call::{Aws, AwsError};
use crate::ecs;

/// `ListServices` page size (AWS's maximum).
const LIST_PAGE: i32 = 100;
/// `DescribeServiceRevisions` and `DescribeServiceDeployments` take at most twenty ARNs.
const REVISION_BATCH: usize = 20;
/// `DescribeExpressGatewayService` calls in flight at once (each within the rate budget).
const DESCRIBE_CONCURRENCY: usize = 8;

/// Every Express service of `clusters`, INACTIVE ones left out, ordered by ARN.
///
/// Per cluster: every page of `ListServices` (`resourceManagementType=ECS`), and
/// `DescribeServices` with tags ten at a time. For a service whose [`Fingerprint`] differs from
/// the one `cache` holds (or that it has never seen): `DescribeExpressGatewayService`, and, in
/// batches of twenty for all of them, `DescribeServiceRevisions` (the resources ECS manages) and
/// `DescribeServiceDeployments` (whether the last deployment failed). An unchanged service costs
/// nothing beyond the batched reads.
///
/// # Errors
/// The first failed call; a missing cluster is not an error (it has no services).
pub async fn observe(
    aws: Aws<'_>,
    clusters: &BTreeSet<String>,
    cache: &ExpressCache,
) -> Result<Vec<ObservedExpressService>, AwsError> {
    // By ARN: one cluster may be named both by its name and by its ARN.
    let mut out = std::collections::BTreeMap::new();
    for cluster in clusters {
        for service in observe_cluster(aws, cluster, cache).await? {
            out.insert(service.arn.clone(), service);
        }
    }
    Ok(out.into_values().collect())
}

async fn observe_cluster(
    aws: Aws<'_>,
    cluster: &str,
    cache: &ExpressCache,
) -> Result<Vec<ObservedExpressService>, AwsError> {
    let arns = list(aws, cluster).await?;
    let services = describe_services(aws, cluster, &arns).await?;
    let key = (
        aws.clients.account_id.clone(),
        aws.clients.region.clone(),
        cluster.to_owned(),
    );
    let previous = cache.cluster(&key);
    let mut seen = HashMap::new();
    let mut changed = Vec::new();
    for service in &services {
        let Some(arn) = service.service_arn() else {
            continue;
        };
        let fingerprint = Fingerprint::of(service);
        match previous.get(arn) {
            Some(before) if before.fingerprint == fingerprint => {
                let mut observed = before.service.clone();
                observed.tags = convert::tags(service.tags());
                seen.insert(
                    arn.to_owned(),
                    Seen {
                        fingerprint,
                        service: observed,
                    },
                );
            }
            _ => changed.push((service, fingerprint)),
        }
    }
    let mut described = describe_changed(aws, &changed).await?;
    for (fingerprint, service) in described.drain(..) {
        seen.insert(
            service.arn.clone(),
            Seen {
                fingerprint,
                service,
            },
        );
    }
    let observed = seen.values().map(|s| s.service.clone()).collect();
    cache.replace(key, seen);
    Ok(observed)
}

/// ARNs of the ECS-managed services of `cluster`, every page.
async fn list(aws: Aws<'_>, cluster: &str) -> Result<Vec<String>, AwsError> {
    let ecs = &aws.clients.ecs;
    let mut out = Vec::new();
    let listed = aws
        .pages(
            "ListServices",
            ApiFamily::EcsRead,
            |token| {
                ecs.list_services()
                    .cluster(cluster)
                    .resource_management_type(ResourceManagementType::Ecs)
                    .max_results(LIST_PAGE)
                    .set_next_token(token)
                    .send()
            },
            |reply| {
                out.extend(reply.service_arns().iter().cloned());
                reply.next_token
            },
        )
        .await;
    match listed {
        Ok(()) => Ok(out),
        Err(e) if e.is_code("ClusterNotFoundException") => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The services with their tags, ten at a time; INACTIVE ones left out.
async fn describe_services(
    aws: Aws<'_>,
    cluster: &str,
    arns: &[String],
) -> Result<Vec<Service>, AwsError> {
    let mut found = ecs::describe_services(aws, cluster, arns).await?;
    found.retain(|s| s.status() != Some("INACTIVE"));
    Ok(found)
}

/// The per-service reads of the services that changed.
async fn describe_changed(
    aws: Aws<'_>,
    changed: &[(&Service, Fingerprint)],
) -> Result<Vec<(Fingerprint, ObservedExpressService)>, AwsError> {
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    let reads: Vec<_> = changed
        .iter()
        .map(|(service, fingerprint)| describe_one(aws, service, fingerprint))
        .collect();
    let described: Vec<Option<(Fingerprint, ObservedExpressService)>> = stream::iter(reads)
        .buffer_unordered(DESCRIBE_CONCURRENCY)
        .try_collect()
        .await?;
    let (fingerprints, mut services): (Vec<Fingerprint>, Vec<ObservedExpressService>) =
        described.into_iter().flatten().unzip();
    attach_managed(aws, &mut services).await?;
    let deployments: Vec<String> = changed
        .iter()
        .filter_map(|(s, _)| s.current_service_deployment())
        .map(str::to_owned)
        .collect();
    let failures = deployment_failures(aws, &deployments).await?;
    let sources: HashMap<&str, &Service> = changed
        .iter()
        .filter_map(|(s, _)| Some((s.service_arn()?, *s)))
        .collect();
    for service in &mut services {
        if let Some(source) = sources.get(service.arn.as_str()) {
            service.failed_deployment = failed_deployment(source, &failures);
        }
    }
    Ok(fingerprints.into_iter().zip(services).collect())
}

/// A changed service as `DescribeExpressGatewayService` reports it, with the tags of the batched
/// read (the same read that saw its fingerprint).
async fn describe_one(
    aws: Aws<'_>,
    service: &Service,
    fingerprint: &Fingerprint,
) -> Result<Option<(Fingerprint, ObservedExpressService)>, AwsError> {
    let arn = service.service_arn().unwrap_or_default();
    Ok(describe_express(aws, arn, false).await?.map(|mut s| {
        s.tags = convert::tags(service.tags());
        (fingerprint.clone(), s)
    }))
}

/// The service as `DescribeExpressGatewayService` reports it (with tags when asked); `None` when
/// it no longer exists.
pub(super) async fn describe_express(
    aws: Aws<'_>,
    arn: &str,
    with_tags: bool,
) -> Result<Option<ObservedExpressService>, AwsError> {
    let ecs = &aws.clients.ecs;
    let reply = aws
        .call(
            "DescribeExpressGatewayService",
            ApiFamily::EcsExpress,
            || {
                ecs.describe_express_gateway_service()
                    .service_arn(arn)
                    .set_include(with_tags.then(|| vec![ExpressGatewayServiceInclude::Tags]))
                    .send()
            },
        )
        .await;
    match reply {
        Ok(reply) => Ok(reply.service().map(convert::service)),
        Err(e) if gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether an error says the service (or its cluster) no longer exists.
pub(super) fn gone(e: &AwsError) -> bool {
    e.is_code("ServiceNotFoundException")
        || e.is_code("ResourceNotFoundException")
        || e.is_code("ClusterNotFoundException")
        || (e.is_code("InvalidParameterException") && e.message.contains("not found"))
}

/// Fills in the ECS-managed resources of each service's newest configuration, twenty revisions a
/// call. A service whose revisions ECS no longer describes (it went INACTIVE meanwhile) keeps none.
pub(super) async fn attach_managed(
    aws: Aws<'_>,
    services: &mut [ObservedExpressService],
) -> Result<(), AwsError> {
    let revisions: Vec<String> = services
        .iter()
        .filter_map(|s| s.config.as_ref())
        .map(|c| c.service_revision_arn.clone())
        .filter(|arn| !arn.is_empty())
        .collect();
    let mut found = HashMap::new();
    for batch in revisions.chunks(REVISION_BATCH) {
        match describe_revisions(aws, batch).await {
            Ok(map) => found.extend(map),
            // One revision of an INACTIVE service fails the whole batch: ask one by one.
            Err(e) if e.is_code("InvalidParameterException") && batch.len() > 1 => {
                for arn in batch {
                    match describe_revisions(aws, std::slice::from_ref(arn)).await {
                        Ok(map) => found.extend(map),
                        Err(e) if e.is_code("InvalidParameterException") => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) if e.is_code("InvalidParameterException") => {}
            Err(e) => return Err(e),
        }
    }
    for service in services {
        let Some(config) = &service.config else {
            continue;
        };
        if let Some((managed, groups)) = found.remove(&config.service_revision_arn) {
            service.managed = managed.into();
            service.managed_security_groups = groups.into();
        }
    }
    Ok(())
}

type Managed = (std::collections::BTreeMap<String, String>, BTreeSet<String>);

async fn describe_revisions(
    aws: Aws<'_>,
    arns: &[String],
) -> Result<HashMap<String, Managed>, AwsError> {
    let ecs = &aws.clients.ecs;
    let reply = aws
        .call("DescribeServiceRevisions", ApiFamily::EcsRead, || {
            ecs.describe_service_revisions()
                .set_service_revision_arns(Some(arns.to_vec()))
                .send()
        })
        .await?;
    Ok(reply
        .service_revisions()
        .iter()
        .filter_map(|r| {
            let arn = r.service_revision_arn()?;
            let managed = r.ecs_managed_resources().map(convert::managed)?;
            Some((arn.to_owned(), managed))
        })
        .collect())
}

/// Service deployment ARN to why it failed (`None`: it did not), for those ECS described.
type Failures = HashMap<String, Option<String>>;

/// The outcome of each of `arns` (service deployments), twenty a call.
async fn deployment_failures(aws: Aws<'_>, arns: &[String]) -> Result<Failures, AwsError> {
    let ecs = &aws.clients.ecs;
    let mut out = HashMap::new();
    for batch in arns.chunks(REVISION_BATCH) {
        let reply = aws
            .call("DescribeServiceDeployments", ApiFamily::EcsRead, || {
                ecs.describe_service_deployments()
                    .set_service_deployment_arns(Some(batch.to_vec()))
                    .send()
            })
            .await?;
        for d in reply.service_deployments() {
            if let Some(arn) = d.service_deployment_arn() {
                out.insert(arn.to_owned(), convert::failure(d));
            }
        }
    }
    Ok(out)
}

/// Why the service's most recent deployment failed, if it did: as its service deployment reports
/// it when ECS described that, else from a `FAILED` rollout among the deployments
/// `DescribeServices` lists.
fn failed_deployment(s: &Service, failures: &Failures) -> Option<String> {
    use aws_sdk_ecs::types::DeploymentRolloutState;
    if let Some(outcome) = s.current_service_deployment().and_then(|d| failures.get(d)) {
        return outcome.clone();
    }
    s.deployments()
        .iter()
        .find(|d| d.rollout_state() == Some(&DeploymentRolloutState::Failed))
        .map(|d| {
            d.rollout_state_reason()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .unwrap_or("the deployment failed")
                .to_owned()
        })
}

/// The clusters holding ECS services tagged as owned by `owner`: every page of one
/// `tag:GetResources` search by the owner tag (`ecs:service`), never a call per cluster.
///
/// # Errors
/// The first failed call.
pub async fn owned_clusters(aws: Aws<'_>, owner: &str) -> Result<BTreeSet<String>, AwsError> {
    let owned = [crate::tagging::filter(
        ecs_topology_core::model::OWNER_TAG,
        &[owner],
    )];
    let found = crate::tagging::tagged(aws, "ecs:service", &owned).await?;
    Ok(found
        .iter()
        .filter_map(|(arn, _)| service_cluster(arn))
        .collect())
}

/// The cluster of a service ARN (`arn:aws:ecs:<region>:<account>:service/<cluster>/<name>`).
pub(crate) fn service_cluster(arn: &str) -> Option<String> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let mut parts = resource.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("service"), Some(cluster), Some(_)) if !cluster.is_empty() => {
            Some(cluster.to_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::service_cluster;

    #[test]
    fn the_cluster_of_a_service_arn() {
        assert_eq!(
            service_cluster("arn:aws:ecs:eu-west-1:111122223333:service/payments/api").as_deref(),
            Some("payments")
        );
        // The old ARN format has no cluster.
        assert_eq!(
            service_cluster("arn:aws:ecs:eu-west-1:111122223333:service/api"),
            None
        );
        assert_eq!(service_cluster("not an arn"), None);
    }
}

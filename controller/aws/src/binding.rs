//! `ServiceConnectBinding` on AWS: the services bindings name, observed ten at a time, and the
//! one field a binding changes, `serviceConnectConfiguration`, with the claim tags.
//!
//! # Guarantees
//! - Observation per (account, region): when asked, one `tag:GetResources` search for the
//!   services this controller claimed (every page), then per cluster `DescribeServices` with
//!   `include: [TAGS]` ten services a call. Nothing per service beyond that.
//! - A change tags the claim first (so that the target-account policy, which allows
//!   `UpdateService` only on claimed services, admits it), then sends `UpdateService` with
//!   `serviceConnectConfiguration` alone, then removes claim tags. The service is never created
//!   or deleted.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ecs::types::{
    self as ecs_types, DeploymentRolloutState, ResourceManagementType, Service,
};
use ecs_topology_core::engine::Change;
use ecs_topology_core::kinds::binding::{
    BindingField, Bindings, ObservedBoundService, ObservedDeployment, ObservedServiceConnect,
};
use ecs_topology_core::model::{
    ClientAlias, OWNER_TAG, SERVICE_CONNECT_TAG, ServiceConnectService, cluster_name,
};
use ecs_topology_core::plan::{TagEdits, Verb};

use crate::call::{Aws, AwsError};
use crate::ecs;
use crate::express::convert;
use crate::express::observe::service_cluster;
use crate::tagging;
use crate::{ApiFamily, ErrorClass};

/// The services `named` lists (cluster to service names) and, when `claimed_by` names a
/// controller, those it claimed; ordered by ARN; missing services and clusters are left out.
///
/// # Errors
/// The first failed call.
pub async fn observe(
    aws: Aws<'_>,
    named: &BTreeMap<String, BTreeSet<String>>,
    claimed_by: Option<&str>,
) -> Result<Vec<ObservedBoundService>, AwsError> {
    // By cluster name: a cluster may be named by its name and by its ARN.
    let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (cluster, services) in named {
        wanted
            .entry(cluster_name(cluster).to_owned())
            .or_default()
            .extend(services.iter().cloned());
    }
    let claims = match claimed_by {
        Some(owner) => claimed(aws, owner).await?,
        None => Vec::new(),
    };
    for arn in claims {
        if let Some(cluster) = service_cluster(&arn) {
            wanted.entry(cluster).or_default().insert(arn);
        }
    }
    let mut out = BTreeMap::new();
    for (cluster, services) in &wanted {
        let services: Vec<String> = services.iter().cloned().collect();
        for s in describe(aws, cluster, &services).await? {
            out.insert(s.arn.clone(), s);
        }
    }
    Ok(out.into_values().collect())
}

/// ARNs of the ECS services that carry a claim of `owner`: every page of one search by tag.
async fn claimed(aws: Aws<'_>, owner: &str) -> Result<Vec<String>, AwsError> {
    let filters = [
        tagging::filter(OWNER_TAG, &[owner]),
        tagging::filter(SERVICE_CONNECT_TAG, &[]),
    ];
    let found = tagging::tagged(aws, "ecs:service", &filters).await?;
    Ok(found.into_iter().map(|(arn, _)| arn).collect())
}

/// The services of `cluster` (names or ARNs) with their tags, ten a call; missing ones and a
/// missing cluster are left out.
async fn describe(
    aws: Aws<'_>,
    cluster: &str,
    services: &[String],
) -> Result<Vec<ObservedBoundService>, AwsError> {
    match ecs::describe_services(aws, cluster, services).await {
        Ok(found) => Ok(found.iter().filter_map(observed).collect()),
        Err(e) if e.is_code("ClusterNotFoundException") => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// A service as a binding observes it.
pub fn observed(s: &Service) -> Option<ObservedBoundService> {
    let mut out = ObservedBoundService::new(
        s.service_arn()?,
        s.cluster_arn().unwrap_or_default(),
        s.service_name().unwrap_or_default(),
        convert::tags(s.tags()),
    );
    out.status = s.status().unwrap_or_default().to_owned();
    out.express = s.resource_management_type() == Some(&ResourceManagementType::Ecs);
    let primary = s
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"));
    out.primary = primary.map(|d| ObservedDeployment {
        id: d.id().unwrap_or_default().to_owned(),
        rollout_state: d
            .rollout_state()
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
        config: d.service_connect_configuration().map(config),
    });
    out.failed_deployment = failed_deployment(s, out.primary.as_ref().map(|d| d.id.as_str()));
    Some(out)
}

fn config(c: &ecs_types::ServiceConnectConfiguration) -> ObservedServiceConnect {
    ObservedServiceConnect {
        enabled: c.enabled(),
        namespace: c.namespace().filter(|n| !n.is_empty()).map(str::to_owned),
        services: c
            .services()
            .iter()
            .map(|s| ServiceConnectService {
                port_name: s.port_name().to_owned(),
                discovery_name: s.discovery_name().map(str::to_owned),
                client_aliases: s
                    .client_aliases()
                    .iter()
                    .map(|a| ClientAlias {
                        port: u16::try_from(a.port()).unwrap_or_default(),
                        dns_name: a.dns_name().map(str::to_owned),
                    })
                    .collect(),
                ingress_port_override: s
                    .ingress_port_override()
                    .and_then(|p| u16::try_from(p).ok()),
            })
            .collect(),
    }
}

/// Why the most recent deployment failed, while it matters: a `FAILED` deployment is listed,
/// or ECS rolled back to the PRIMARY one (its newest rollback event names it; the failure event
/// beside it says why).
fn failed_deployment(s: &Service, primary: Option<&str>) -> Option<String> {
    if let Some(d) = s
        .deployments()
        .iter()
        .find(|d| d.rollout_state() == Some(&DeploymentRolloutState::Failed))
    {
        return Some(
            d.rollout_state_reason()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .unwrap_or("the deployment failed")
                .to_owned(),
        );
    }
    let events = s.events();
    let (i, target) = events.iter().enumerate().find_map(|(i, e)| {
        let message = e.message()?;
        let (_, rest) = message.split_once("rolling back to deployment ")?;
        Some((i, rest.trim_end_matches('.').trim()))
    })?;
    if Some(target) != primary {
        return None;
    }
    let why = events
        .iter()
        .skip(i + 1)
        .filter_map(|e| e.message())
        .find(|m| m.contains("deployment failed"))
        .unwrap_or("the deployment failed");
    Some(format!("{why} (ECS rolled back to {target})"))
}

/// Carries out a binding change; returns the service as it now is.
///
/// # Errors
/// The first failed call; nothing is created.
pub async fn apply(
    aws: Aws<'_>,
    change: &Change<'_, Bindings>,
) -> Result<Option<ObservedBoundService>, AwsError> {
    let Some(service) = change.subject.first() else {
        return Err(AwsError::local(
            "UpdateService",
            ErrorClass::Other,
            "a binding change without its service",
        ));
    };
    let ecs = &aws.clients.ecs;
    let arn = service.arn.as_str();
    let tags = TagEdits::of(change.edits);
    ecs::tag(aws, arn, &tags.put).await?;
    if change.edits.iter().any(|e| e.field.is_config()) {
        let wanted = match change.verb {
            Verb::Delete => ObservedServiceConnect::default(),
            _ => merged(service, change),
        };
        let sdk = sdk_config(&wanted)?;
        aws.call("UpdateService", ApiFamily::EcsMutate, || {
            ecs.update_service()
                .cluster(&service.cluster)
                .service(arn)
                .service_connect_configuration(sdk)
                .send()
        })
        .await?;
    }
    ecs::untag(aws, arn, &tags.remove).await?;
    Ok(
        describe(aws, &service.cluster, std::slice::from_ref(&service.arn))
            .await?
            .into_iter()
            .next(),
    )
}

/// The configuration to send: the PRIMARY deployment's, with the change's edits applied.
fn merged(service: &ObservedBoundService, change: &Change<'_, Bindings>) -> ObservedServiceConnect {
    let mut out = service.config().cloned().unwrap_or_default();
    let mut services: BTreeMap<String, ServiceConnectService> = out
        .services
        .drain(..)
        .map(|s| (s.port_name.clone(), s))
        .collect();
    for edit in change.edits {
        match &edit.field {
            BindingField::Enabled => {
                out.enabled = edit.to.as_ref().and_then(|v| v.as_bool()).unwrap_or(false);
            }
            BindingField::Namespace => {
                out.namespace = edit.to.as_ref().and_then(|v| v.as_str()).map(str::to_owned);
            }
            BindingField::Service(port) => {
                match edit
                    .to
                    .clone()
                    .and_then(|v| serde_json::from_value::<ServiceConnectService>(v).ok())
                {
                    Some(entry) => {
                        services.insert(port.clone(), entry);
                    }
                    None => {
                        services.remove(port);
                    }
                }
            }
            BindingField::Claim(_) => {}
        }
    }
    out.services = services.into_values().collect();
    out
}

fn sdk_config(
    c: &ObservedServiceConnect,
) -> Result<ecs_types::ServiceConnectConfiguration, AwsError> {
    let invalid = |e: aws_sdk_ecs::error::BuildError| {
        AwsError::local("UpdateService", ErrorClass::Other, e.to_string())
    };
    let mut services = Vec::new();
    for s in &c.services {
        let mut aliases = Vec::new();
        for a in &s.client_aliases {
            aliases.push(
                ecs_types::ServiceConnectClientAlias::builder()
                    .port(i32::from(a.port))
                    .set_dns_name(a.dns_name.clone())
                    .build()
                    .map_err(invalid)?,
            );
        }
        services.push(
            ecs_types::ServiceConnectService::builder()
                .port_name(&s.port_name)
                .set_discovery_name(s.discovery_name.clone())
                .set_client_aliases((!aliases.is_empty()).then_some(aliases))
                .set_ingress_port_override(s.ingress_port_override.map(i32::from))
                .build()
                .map_err(invalid)?,
        );
    }
    Ok(ecs_types::ServiceConnectConfiguration::builder()
        .enabled(c.enabled)
        .set_namespace(c.namespace.clone().filter(|_| c.enabled))
        .set_services((c.enabled && !services.is_empty()).then_some(services))
        .build())
}

//! Carrying out the plan of one Express service.
//!
//! A create sends every field the document sets; an update sends only the groups of fields the
//! plan found different (all of the primary container when any part of it differs, since ECS
//! replaces the whole container), and tags go through ECS `TagResource`/`UntagResource`. Neither
//! waits for the deployment ECS starts: the plan reports it as running until it is done.

use std::collections::BTreeSet;

use ecs_topology_core::engine::Change;
use ecs_topology_core::kinds::express::{ExpressField, ExpressGroup, ExpressServices, is_named_by};
use ecs_topology_core::model::{ExpressServiceSpec, cluster_name};
use ecs_topology_core::observed::ObservedExpressService;
use ecs_topology_core::plan::{Edit, TagEdits, Verb};

use super::convert;
use super::observe::{attach_managed, describe_express, gone};
use crate::call::{Aws, AwsError};
use crate::ecs;
use crate::{ApiFamily, ErrorClass};

/// Carries out an Express plan; returns the service as ECS now describes it (`None` once
/// deleted).
///
/// # Errors
/// The first failed call; a plan without the service or spec it needs is an
/// [`ErrorClass::Other`] error.
pub async fn apply(
    aws: Aws<'_>,
    change: &Change<'_, ExpressServices>,
) -> Result<Option<ObservedExpressService>, AwsError> {
    match (change.verb, change.subject.first(), change.spec) {
        (Verb::Create, _, Some(spec)) => {
            let arn = create(aws, spec, &change.tags).await?;
            described(aws, &arn).await.map(Some)
        }
        (Verb::Update | Verb::Adopt, Some(service), Some(spec)) => {
            if !is_named_by(service, spec) {
                return Err(AwsError::local(
                    "apply",
                    ErrorClass::Validation,
                    format!(
                        "the service to change, `{}` in cluster `{}` ({}), is not the document's \
                         `{}` in cluster `{}`; nothing was changed",
                        service.service_name,
                        cluster_name(&service.cluster),
                        service.arn,
                        spec.service_name,
                        cluster_name(&spec.cluster)
                    ),
                ));
            }
            // Tags first: an adopted service is ours before it is changed.
            let tags = retag(aws, service, change.edits).await?;
            if reconfigure(aws, service, spec, change.edits).await? {
                described(aws, &service.arn).await.map(Some)
            } else {
                Ok(Some(ObservedExpressService {
                    tags,
                    ..service.clone()
                }))
            }
        }
        (Verb::Delete, Some(service), _) => delete(aws, service).await.map(|()| None),
        (verb, _, _) => Err(AwsError::local(
            "apply",
            ErrorClass::Other,
            format!("nothing to do for a {verb:?} plan without its Express service"),
        )),
    }
}

/// Creates the service with every field the document sets; returns its ARN.
async fn create(
    aws: Aws<'_>,
    spec: &ExpressServiceSpec,
    tags: &ecs_topology_core::compact::Tags,
) -> Result<String, AwsError> {
    const OP: &str = "CreateExpressGatewayService";
    let ecs = &aws.clients.ecs;
    let container = convert::primary_container(OP, &spec.primary_container)?;
    let network = spec.network.as_ref().map(|n| convert::network(n, &[]));
    let scaling = spec
        .scaling
        .as_ref()
        .map(|s| convert::scaling(OP, s))
        .transpose()?;
    let request = ecs
        .create_express_gateway_service()
        .cluster(&spec.cluster)
        .service_name(&spec.service_name)
        .execution_role_arn(&spec.execution_role_arn)
        .infrastructure_role_arn(&spec.infrastructure_role_arn)
        .set_task_role_arn(spec.task_role_arn.clone())
        .primary_container(container)
        .set_network_configuration(network)
        .set_cpu(spec.cpu.map(|c| c.to_string()))
        .set_memory(spec.memory.map(|m| m.to_string()))
        .set_cpu_architecture(convert::cpu_architecture(spec))
        .set_health_check_path(spec.health_check_path.clone())
        .set_scaling_target(scaling)
        .set_tags(Some(convert::ecs_tags(tags)));
    let reply = aws
        .call(OP, ApiFamily::EcsExpress, move || request.send())
        .await?;
    reply
        .service()
        .and_then(|s| s.service_arn())
        .map(str::to_owned)
        .ok_or_else(|| AwsError::local(OP, ErrorClass::Other, "ECS returned no service ARN"))
}

/// Sends the groups of fields that `edits` change; `false` when none but tags differ.
async fn reconfigure(
    aws: Aws<'_>,
    service: &ObservedExpressService,
    spec: &ExpressServiceSpec,
    edits: &[Edit<ExpressField>],
) -> Result<bool, AwsError> {
    const OP: &str = "UpdateExpressGatewayService";
    let groups: BTreeSet<ExpressGroup> = edits.iter().filter_map(|e| e.field.group()).collect();
    let touched = |group: ExpressGroup| groups.contains(&group);
    let mut request = aws
        .clients
        .ecs
        .update_express_gateway_service()
        .service_arn(&service.arn);
    let mut any = false;
    if touched(ExpressGroup::ExecutionRole) {
        request = request.execution_role_arn(&spec.execution_role_arn);
        any = true;
    }
    if touched(ExpressGroup::TaskRole) {
        // An empty role removes it.
        request = request.task_role_arn(spec.task_role_arn.clone().unwrap_or_default());
        any = true;
    }
    if touched(ExpressGroup::PrimaryContainer) {
        request =
            request.primary_container(convert::primary_container(OP, &spec.primary_container)?);
        any = true;
    }
    if let Some(network) = spec
        .network
        .as_ref()
        .filter(|_| touched(ExpressGroup::Network))
    {
        request = request.network_configuration(convert::network(network, &own_groups(service)));
        any = true;
    }
    if touched(ExpressGroup::Size) {
        // Sent together: Fargate accepts only some pairs.
        request = request
            .set_cpu(spec.cpu.map(|c| c.to_string()))
            .set_memory(spec.memory.map(|m| m.to_string()));
        any = true;
    }
    if let Some(path) = spec
        .health_check_path
        .as_ref()
        .filter(|_| touched(ExpressGroup::HealthCheckPath))
    {
        request = request.health_check_path(path);
        any = true;
    }
    if let Some(scaling) = spec
        .scaling
        .as_ref()
        .filter(|_| touched(ExpressGroup::Scaling))
    {
        request = request.scaling_target(convert::scaling(OP, scaling)?);
        any = true;
    }
    if any {
        aws.call(OP, ApiFamily::EcsExpress, move || request.send())
            .await?;
    }
    Ok(any)
}

/// The service's security groups other than those ECS attached itself.
fn own_groups(service: &ObservedExpressService) -> Vec<String> {
    let ecs_ids: Vec<&str> = service
        .managed
        .values()
        .filter_map(|v| v.rsplit('/').next())
        .collect();
    service
        .config
        .iter()
        .flat_map(|c| &c.security_groups)
        .filter(|g| {
            !service.managed_security_groups.contains(g.as_str()) && !ecs_ids.contains(&g.as_str())
        })
        .cloned()
        .collect()
}

/// Puts and removes the tags the edits say (ECS's own and AWS's reserved tags are never among
/// them); returns the tags the service now has.
async fn retag(
    aws: Aws<'_>,
    service: &ObservedExpressService,
    edits: &[Edit<ExpressField>],
) -> Result<ecs_topology_core::compact::Tags, AwsError> {
    let arn = service.arn.as_str();
    let tags = TagEdits::of(edits);
    ecs::tag(aws, arn, &tags.put).await?;
    ecs::untag(aws, arn, &tags.remove).await?;
    Ok(tags.applied_to(&service.tags))
}

async fn delete(aws: Aws<'_>, service: &ObservedExpressService) -> Result<(), AwsError> {
    let ecs = &aws.clients.ecs;
    let reply = aws
        .call("DeleteExpressGatewayService", ApiFamily::EcsExpress, || {
            ecs.delete_express_gateway_service()
                .service_arn(&service.arn)
                .send()
        })
        .await;
    match reply {
        Ok(_) => Ok(()),
        // Already draining or gone.
        Err(e) if gone(&e) || e.is_code("ServiceNotActiveException") => Ok(()),
        Err(e) => Err(e),
    }
}

/// The service as ECS now describes it, with tags and the resources it manages.
async fn described(aws: Aws<'_>, arn: &str) -> Result<ObservedExpressService, AwsError> {
    let Some(service) = describe_express(aws, arn, true).await? else {
        return Err(AwsError::local(
            "DescribeExpressGatewayService",
            ErrorClass::NotFound,
            format!("{arn} is not found right after it was changed"),
        ));
    };
    let mut services = [service];
    attach_managed(aws, &mut services).await?;
    let [service] = services;
    Ok(service)
}

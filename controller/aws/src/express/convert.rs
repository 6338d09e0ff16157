//! Between ECS's shapes and the controller's: what ECS reports of an Express service as observed
//! data, and a document's spec as the inputs of `Create`/`UpdateExpressGatewayService`.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ecs::types::{
    EcsExpressGatewayService, EcsManagedResources, ExpressCpuArchitecture, ExpressGatewayContainer,
    ExpressGatewayRepositoryCredentials, ExpressGatewayScalingTarget,
    ExpressGatewayServiceAwsLogsConfiguration, ExpressGatewayServiceConfiguration,
    ExpressGatewayServiceNetworkConfiguration, ExpressGatewayServiceScalingMetric, KeyValuePair,
    Secret, ServiceDeployment, ServiceDeploymentStatus, Tag,
};
use ecs_topology_core::model::{
    AwsLogs, Container, CpuArchitecture, EnvVar, ExpressServiceSpec, Network, Scaling, SecretRef,
};
use ecs_topology_core::observed::{
    ExpressStatus, ObservedExpressConfig, ObservedExpressContainer, ObservedExpressScaling,
    ObservedExpressService, ObservedIngressPath,
};

use crate::ErrorClass;
use crate::call::AwsError;

/// A service as `DescribeExpressGatewayService` reports it; its ECS-managed resources and the
/// outcome of its last deployment are read elsewhere.
pub(super) fn service(s: &EcsExpressGatewayService) -> ObservedExpressService {
    ObservedExpressService {
        arn: s.service_arn().unwrap_or_default().to_owned(),
        cluster: s.cluster().unwrap_or_default().to_owned(),
        service_name: s.service_name().unwrap_or_default().to_owned(),
        status: ExpressStatus::parse(
            s.status()
                .and_then(|st| st.status_code())
                .map_or("", |c| c.as_str()),
        ),
        deploying: s.current_deployment().is_some_and(|d| !d.is_empty()),
        failed_deployment: None,
        updated_at: s.updated_at().map(|t| t.secs()),
        infrastructure_role_arn: s.infrastructure_role_arn().unwrap_or_default().to_owned(),
        config: s.active_configurations().first().map(config),
        tags: tags(s.tags()),
        managed: ecs_topology_core::compact::Tags::new(),
        managed_security_groups: ecs_topology_core::compact::Ids::new(),
    }
}

/// One entry of `activeConfigurations`, as ECS spells it.
fn config(c: &ExpressGatewayServiceConfiguration) -> ObservedExpressConfig {
    let network = c.network_configuration();
    let scaling = c.scaling_target().map(|t| ObservedExpressScaling {
        min: t.min_task_count().map(i64::from),
        max: t.max_task_count().map(i64::from),
        metric: t.auto_scaling_metric().map(|m| m.as_str().to_owned()),
        target: t.auto_scaling_target_value().map(f64::from),
    });
    ObservedExpressConfig {
        service_revision_arn: c.service_revision_arn().unwrap_or_default().to_owned(),
        execution_role_arn: c.execution_role_arn().map(str::to_owned),
        task_role_arn: c.task_role_arn().map(str::to_owned),
        cpu: c.cpu().map(str::to_owned),
        memory: c.memory().map(str::to_owned),
        cpu_architecture: c.cpu_architecture().map(|a| a.as_str().to_owned()),
        subnets: network.map(|n| n.subnets().to_vec()).unwrap_or_default(),
        security_groups: network
            .map(|n| n.security_groups().to_vec())
            .unwrap_or_default(),
        health_check_path: c.health_check_path().map(str::to_owned),
        primary_container: c.primary_container().map(container).unwrap_or_default(),
        scaling,
        ingress_paths: c
            .ingress_paths()
            .iter()
            .map(|p| ObservedIngressPath {
                access_type: p.access_type().as_str().to_owned(),
                endpoint: p.endpoint().to_owned(),
            })
            .collect(),
    }
}

fn container(c: &ExpressGatewayContainer) -> ObservedExpressContainer {
    ObservedExpressContainer {
        image: c.image().to_owned(),
        port: c.container_port().map(i64::from),
        command: c.command().to_vec(),
        environment: c
            .environment()
            .iter()
            .map(|e| EnvVar {
                name: e.name().unwrap_or_default().to_owned(),
                value: e.value().unwrap_or_default().to_owned(),
            })
            .collect(),
        secrets: c
            .secrets()
            .iter()
            .map(|s| SecretRef {
                name: s.name().to_owned(),
                value_from: s.value_from().to_owned(),
            })
            .collect(),
        logs: c.aws_logs_configuration().map(|l| AwsLogs {
            log_group: l.log_group().to_owned(),
            log_stream_prefix: l.log_stream_prefix().to_owned(),
        }),
        repository_credentials: c
            .repository_credentials()
            .and_then(|r| r.credentials_parameter())
            .map(str::to_owned),
    }
}

pub(crate) fn tags(list: &[Tag]) -> ecs_topology_core::compact::Tags {
    crate::tagging::tag_map(list.iter().map(|t| (t.key(), t.value())))
}

/// The resources ECS manages for a service (type to ARN or URL, see
/// [`ObservedExpressService::managed`]) and the ids of the security groups among them that ECS
/// attaches to the service's tasks.
pub(super) fn managed(r: &EcsManagedResources) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let mut out = BTreeMap::new();
    let mut put = |kind: &str, value: Option<&str>| {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return;
        };
        let key = (1..)
            .map(|n| match n {
                1 => kind.to_owned(),
                n => format!("{kind}.{n}"),
            })
            .find(|k| !out.contains_key(k))
            .unwrap_or_else(|| kind.to_owned());
        out.insert(key, value.to_owned());
    };
    for path in r.ingress_paths() {
        put("endpoint", Some(path.endpoint()));
        put("loadBalancer", path.load_balancer().and_then(|l| l.arn()));
        for group in path.load_balancer_security_groups() {
            put("loadBalancerSecurityGroup", group.arn());
        }
        put("listener", path.listener().and_then(|l| l.arn()));
        put("listenerRule", path.rule().and_then(|l| l.arn()));
        put("certificate", path.certificate().and_then(|c| c.arn()));
        for group in path.target_groups() {
            put("targetGroup", group.arn());
        }
    }
    if let Some(scaling) = r.auto_scaling() {
        put(
            "autoScaling",
            scaling.scalable_target().and_then(|t| t.arn()),
        );
        for policy in scaling.application_auto_scaling_policies() {
            put("autoScalingPolicy", policy.arn());
        }
    }
    for alarm in r.metric_alarms() {
        put("metricAlarm", alarm.arn());
    }
    let mut groups = BTreeSet::new();
    for group in r.service_security_groups() {
        put("securityGroup", group.arn());
        if let Some(id) = group.arn().and_then(security_group_id) {
            groups.insert(id.to_owned());
        }
    }
    for group in r.log_groups() {
        put("logGroup", group.arn());
    }
    (out, groups)
}

/// `sg-...` from a security group's id or ARN (`arn:aws:ec2:R:A:security-group/sg-...`).
fn security_group_id(arn: &str) -> Option<&str> {
    let id = arn.rsplit('/').next().unwrap_or(arn);
    id.starts_with("sg-").then_some(id)
}

/// Why a service deployment failed, when it did: ECS rolled it back or is rolling it back.
pub(super) fn failure(d: &ServiceDeployment) -> Option<String> {
    let failed = matches!(
        d.status(),
        Some(
            ServiceDeploymentStatus::RollbackRequested
                | ServiceDeploymentStatus::RollbackInProgress
                | ServiceDeploymentStatus::RollbackSuccessful
                | ServiceDeploymentStatus::RollbackFailed
        )
    );
    failed.then(|| {
        d.rollback()
            .and_then(|r| r.reason())
            .or(d.status_reason())
            .filter(|r| !r.trim().is_empty())
            .map_or_else(
                || "the deployment was rolled back".to_owned(),
                |r| r.trim().to_owned(),
            )
    })
}

// --- the document's side ---------------------------------------------------------------------

fn invalid(operation: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::local(operation, ErrorClass::Validation, message)
}

/// The whole primary container the document asks for (an update that carries a container
/// replaces all of it).
pub(super) fn primary_container(
    operation: &'static str,
    c: &Container,
) -> Result<ExpressGatewayContainer, AwsError> {
    let port = c
        .port
        .map(|p| i32::try_from(p).map_err(|_| invalid(operation, format!("port {p} is too large"))))
        .transpose()?;
    let logs = c
        .logs
        .as_ref()
        .map(|l| {
            ExpressGatewayServiceAwsLogsConfiguration::builder()
                .log_group(&l.log_group)
                .log_stream_prefix(&l.log_stream_prefix)
                .build()
                .map_err(|e| invalid(operation, e.to_string()))
        })
        .transpose()?;
    let secrets = c
        .secrets
        .iter()
        .map(|s| {
            Secret::builder()
                .name(&s.name)
                .value_from(&s.value_from)
                .build()
                .map_err(|e| invalid(operation, e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let environment = c
        .environment
        .iter()
        .map(|e| {
            KeyValuePair::builder()
                .name(&e.name)
                .value(&e.value)
                .build()
        })
        .collect::<Vec<_>>();
    let command = c.command.clone().filter(|cmd| !cmd.is_empty());
    ExpressGatewayContainer::builder()
        .image(&c.image)
        .set_container_port(port)
        .set_command(command)
        .set_environment((!environment.is_empty()).then_some(environment))
        .set_secrets((!secrets.is_empty()).then_some(secrets))
        .set_aws_logs_configuration(logs)
        .set_repository_credentials(c.repository_credentials.as_ref().map(|r| {
            ExpressGatewayRepositoryCredentials::builder()
                .credentials_parameter(r)
                .build()
        }))
        .build()
        .map_err(|e| invalid(operation, e.to_string()))
}

/// The network configuration: the document's subnets, and its security groups or, when it lists
/// none, `keep` (the service's own groups, without the one ECS attached itself).
pub(super) fn network(n: &Network, keep: &[String]) -> ExpressGatewayServiceNetworkConfiguration {
    let groups = if n.security_groups.is_empty() {
        keep.to_vec()
    } else {
        n.security_groups.clone()
    };
    ExpressGatewayServiceNetworkConfiguration::builder()
        .set_subnets(Some(n.subnets.clone()))
        .set_security_groups((!groups.is_empty()).then_some(groups))
        .build()
}

pub(super) fn scaling(
    operation: &'static str,
    s: &Scaling,
) -> Result<ExpressGatewayScalingTarget, AwsError> {
    let count = |what: &str, n: i64| {
        i32::try_from(n).map_err(|_| invalid(operation, format!("scaling {what} {n} is too large")))
    };
    Ok(ExpressGatewayScalingTarget::builder()
        .min_task_count(count("min", s.min)?)
        .max_task_count(count("max", s.max)?)
        .set_auto_scaling_metric(
            s.metric
                .map(|m| ExpressGatewayServiceScalingMetric::from(m.as_aws())),
        )
        .set_auto_scaling_target_value(s.target.map(|t| count("target", t)).transpose()?)
        .build())
}

pub(super) fn cpu_architecture(spec: &ExpressServiceSpec) -> Option<ExpressCpuArchitecture> {
    spec.cpu_architecture.map(|a| match a {
        CpuArchitecture::X86_64 => ExpressCpuArchitecture::X8664,
        CpuArchitecture::Arm64 => ExpressCpuArchitecture::Arm64,
    })
}

pub(crate) fn ecs_tags(tags: &ecs_topology_core::compact::Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k.as_str()).value(v.as_str()).build())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{
        ManagedIngressPath, ManagedLoadBalancer, ManagedResourceStatus, ManagedSecurityGroup,
        ManagedTargetGroup,
    };
    use aws_smithy_types::DateTime;

    #[test]
    fn a_second_resource_of_one_type_gets_a_numbered_key_and_ecs_groups_are_known_by_id() {
        let now = DateTime::from_secs(0);
        let tg = |arn: &str| {
            ManagedTargetGroup::builder()
                .arn(arn)
                .status(ManagedResourceStatus::Active)
                .updated_at(now)
                .health_check_path("/")
                .health_check_port(80)
                .port(80)
                .build()
                .unwrap()
        };
        let resources = EcsManagedResources::builder()
            .ingress_paths(
                ManagedIngressPath::builder()
                    .access_type(aws_sdk_ecs::types::AccessType::Private)
                    .endpoint("we-1.ecs.eu-west-1.on.aws")
                    .load_balancer(
                        ManagedLoadBalancer::builder()
                            .arn("arn:lb")
                            .status(ManagedResourceStatus::Active)
                            .updated_at(now)
                            .scheme("internal")
                            .build()
                            .unwrap(),
                    )
                    .target_groups(tg("arn:tg-1"))
                    .target_groups(tg("arn:tg-2"))
                    .build()
                    .unwrap(),
            )
            .service_security_groups(
                ManagedSecurityGroup::builder()
                    .arn("arn:aws:ec2:eu-west-1:1:security-group/sg-ecs")
                    .status(ManagedResourceStatus::Active)
                    .updated_at(now)
                    .build()
                    .unwrap(),
            )
            .build();
        let (managed, groups) = managed(&resources);
        assert_eq!(managed["loadBalancer"], "arn:lb");
        assert_eq!(managed["targetGroup"], "arn:tg-1");
        assert_eq!(managed["targetGroup.2"], "arn:tg-2");
        assert_eq!(managed["endpoint"], "we-1.ecs.eu-west-1.on.aws");
        assert_eq!(groups, BTreeSet::from(["sg-ecs".to_owned()]));
    }

    #[test]
    fn a_rolled_back_deployment_is_a_failure_and_a_successful_one_is_not() {
        use aws_sdk_ecs::types::Rollback;
        let rolled_back = ServiceDeployment::builder()
            .status(ServiceDeploymentStatus::RollbackSuccessful)
            .status_reason("Service deployment rolled back.")
            .rollback(
                Rollback::builder()
                    .reason("tasks failed to start: CannotPullContainerError")
                    .build(),
            )
            .build();
        assert_eq!(
            failure(&rolled_back).as_deref(),
            Some("tasks failed to start: CannotPullContainerError")
        );
        let rolling_back = ServiceDeployment::builder()
            .status(ServiceDeploymentStatus::RollbackInProgress)
            .build();
        assert_eq!(
            failure(&rolling_back).as_deref(),
            Some("the deployment was rolled back")
        );
        for status in [
            ServiceDeploymentStatus::Successful,
            ServiceDeploymentStatus::InProgress,
            ServiceDeploymentStatus::Stopped,
        ] {
            let d = ServiceDeployment::builder().status(status).build();
            assert_eq!(failure(&d), None);
        }
    }

    #[test]
    fn an_empty_command_is_left_out_so_the_image_keeps_its_own() {
        let c = Container {
            image: "web:1".into(),
            port: Some(8080),
            command: Some(vec![]),
            environment: vec![],
            secrets: vec![],
            logs: None,
            repository_credentials: None,
        };
        let sent = primary_container("CreateExpressGatewayService", &c).unwrap();
        assert_eq!(sent.command, None);
        assert_eq!(sent.container_port(), Some(8080));
    }
}

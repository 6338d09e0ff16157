//! The rules of an `ExpressService`, beyond its schema.

use std::collections::BTreeSet;

use super::ExpressServices;
use crate::config::ControllerConfig;
use crate::engine::Rules;
use crate::model::ExpressServiceSpec;
use crate::validate::rules::{self, FARGATE_CPUS};
use crate::validate::{Identity, Report, SetView, check_ids};

impl Rules for ExpressServices {
    fn check(spec: &ExpressServiceSpec, _view: &SetView<'_>, report: &mut Report<'_>) {
        if !rules::is_ecs_name(&spec.service_name) {
            report.error(
                "spec.serviceName",
                "a service name has 1 to 255 letters, digits, '-' and '_'",
            );
        }
        if !rules::is_cluster(&spec.cluster) {
            report.error("spec.cluster", "a cluster name or cluster ARN");
        }
        for (path, arn) in [
            ("spec.executionRoleArn", Some(&spec.execution_role_arn)),
            (
                "spec.infrastructureRoleArn",
                Some(&spec.infrastructure_role_arn),
            ),
            ("spec.taskRoleArn", spec.task_role_arn.as_ref()),
        ] {
            if let Some(arn) = arn
                && !rules::is_role_arn(arn)
            {
                report.error(
                    path,
                    format!("`{arn}` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
                );
            }
        }
        let container = &spec.primary_container;
        if container.image.trim().is_empty() {
            report.error("spec.primaryContainer.image", "an image is required");
        }
        if let Some(port) = container.port
            && !(1..=65535).contains(&port)
        {
            report.error(
                "spec.primaryContainer.port",
                format!("{port} is not a port (1-65535)"),
            );
        }
        let mut names = BTreeSet::new();
        for (i, var) in container.environment.iter().enumerate() {
            if var.name.is_empty() {
                report.error(
                    format!("spec.primaryContainer.environment[{i}].name"),
                    "is empty",
                );
            } else if !names.insert(var.name.as_str()) {
                report.error(
                    format!("spec.primaryContainer.environment[{i}].name"),
                    format!("`{}` is set twice", var.name),
                );
            }
        }
        for (i, secret) in container.secrets.iter().enumerate() {
            if !names.insert(secret.name.as_str()) {
                report.error(
                    format!("spec.primaryContainer.secrets[{i}].name"),
                    format!(
                        "`{}` is also set as a variable or another secret",
                        secret.name
                    ),
                );
            }
        }
        if let Some(network) = &spec.network {
            if network.subnets.is_empty() {
                report.error("spec.network.subnets", "at least one subnet is required");
            }
            check_ids("subnet", "spec.network.subnets", &network.subnets, report);
            check_ids(
                "sg",
                "spec.network.securityGroups",
                &network.security_groups,
                report,
            );
        }
        // With one of the two absent, ECS picks the other; only a given pair is checked as a pair.
        if let Some(cpu) = spec.cpu.map(|c| c.0) {
            if !FARGATE_CPUS.contains(&cpu) {
                report.error(
                    "spec.cpu",
                    format!(
                        "{cpu} is not a Fargate CPU value; one of {}",
                        FARGATE_CPUS.map(|c| c.to_string()).join(", ")
                    ),
                );
            } else if let Some(memory) = spec.memory.map(|m| m.0)
                && !rules::is_fargate_pair(cpu, memory)
            {
                report.error(
                    "spec.memory",
                    format!("{memory} MiB is not a Fargate memory size for {cpu} CPU units"),
                );
            }
        }
        if let Some(path) = &spec.health_check_path
            && !path.starts_with('/')
        {
            report.error(
                "spec.healthCheckPath",
                format!("`{path}` must start with `/`"),
            );
        }
        if let Some(scaling) = &spec.scaling {
            if scaling.max < 1 {
                report.error("spec.scaling.max", "must be at least 1");
            }
            if scaling.min < 0 {
                report.error("spec.scaling.min", "must not be negative");
            }
            if scaling.min > scaling.max {
                report.error(
                    "spec.scaling.min",
                    format!("{} is more than max ({})", scaling.min, scaling.max),
                );
            }
            if let Some(target) = scaling.target
                && target < 1
            {
                report.error("spec.scaling.target", "must be positive");
            }
        }
    }

    /// The service in its cluster.
    fn identities(
        spec: &ExpressServiceSpec,
        account: &str,
        region: &str,
        _config: &ControllerConfig,
    ) -> Vec<Identity> {
        vec![Identity {
            id: format!(
                "svc|{account}|{region}|{}|{}",
                spec.cluster, spec.service_name
            ),
            what: format!(
                "service `{}` of cluster `{}`",
                spec.service_name, spec.cluster
            ),
            path: "spec.serviceName",
        }]
    }
}

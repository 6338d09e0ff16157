//! The rules of a `VpcEndpointSet`, beyond its schema.

use std::collections::BTreeSet;

use super::EndpointSets;
use crate::config::ControllerConfig;
use crate::engine::Rules;
use crate::model::VpcEndpointSetSpec;
use crate::validate::{Identity, Report, SetView, check_ids, rules};

const ECS_TRIO: [&str; 3] = ["ecs-agent", "ecs-telemetry", "ecs"];

/// Gateway endpoint services.
pub const GATEWAY_SERVICES: [&str; 2] = ["s3", "dynamodb"];

/// Interface endpoint services known by short name (`com.amazonaws.REGION.<name>`).
pub const INTERFACE_SERVICES: [&str; 20] = [
    "ecs-agent",
    "ecs-telemetry",
    "ecs",
    "ecr.api",
    "ecr.dkr",
    "logs",
    "secretsmanager",
    "ssm",
    "ssmmessages",
    "ec2messages",
    "kms",
    "sts",
    "monitoring",
    "xray",
    "servicediscovery",
    "elasticloadbalancing",
    "elasticfilesystem",
    "sqs",
    "sns",
    "s3",
];

impl Rules for EndpointSets {
    fn check(spec: &VpcEndpointSetSpec, _view: &SetView<'_>, report: &mut Report<'_>) {
        if !rules::is_ec2_id("vpc", &spec.vpc_id) {
            report.error(
                "spec.vpcId",
                format!("`{}` is not a VPC id (vpc-...)", spec.vpc_id),
            );
        }
        check_ids("subnet", "spec.subnetIds", &spec.subnet_ids, report);
        check_ids(
            "sg",
            "spec.securityGroupIds",
            &spec.security_group_ids,
            report,
        );
        if spec.interface_services.is_empty() && spec.gateway_services.is_empty() {
            report.error(
                "spec",
                "an endpoint set needs interfaceServices or gatewayServices",
            );
        }
        let mut seen = BTreeSet::new();
        for (i, service) in spec.interface_services.iter().enumerate() {
            let path = format!("spec.interfaceServices[{i}]");
            listed_once(
                service,
                "interface",
                &INTERFACE_SERVICES,
                &mut seen,
                path,
                report,
            );
        }
        let present: Vec<_> = ECS_TRIO.iter().filter(|s| seen.contains(**s)).collect();
        if !present.is_empty() && present.len() < ECS_TRIO.len() {
            let missing: Vec<_> = ECS_TRIO
                .iter()
                .filter(|s| !seen.contains(**s))
                .copied()
                .collect();
            report.error(
                "spec.interfaceServices",
                format!(
                    "ecs-agent, ecs-telemetry and ecs come together or not at all; missing: {}",
                    missing.join(", ")
                ),
            );
        }
        if !spec.interface_services.is_empty() {
            if spec.subnet_ids.is_empty() {
                report.error(
                    "spec.subnetIds",
                    "interface endpoints need at least one subnet",
                );
            }
            if spec.security_group_ids.is_empty() {
                report.error(
                    "spec.securityGroupIds",
                    "interface endpoints need at least one security group",
                );
            }
        }
        let mut gateways = BTreeSet::new();
        for (i, gateway) in spec.gateway_services.iter().enumerate() {
            let path = format!("spec.gatewayServices[{i}]");
            listed_once(
                &gateway.service,
                "gateway",
                &GATEWAY_SERVICES,
                &mut gateways,
                format!("{path}.service"),
                report,
            );
            if gateway.route_table_ids.is_empty() {
                report.error(
                    format!("{path}.routeTableIds"),
                    "a gateway endpoint needs at least one route table",
                );
            }
            check_ids(
                "rtb",
                &format!("{path}.routeTableIds"),
                &gateway.route_table_ids,
                report,
            );
        }
        let pulls_images = seen.contains("ecr.api") || seen.contains("ecr.dkr");
        if pulls_images && !gateways.contains("s3") && !seen.contains("s3") {
            report.warning(
                "spec.gatewayServices",
                "ecr.api/ecr.dkr without an s3 gateway endpoint: image layers are pulled from S3, so \
                 tasks in private subnets cannot pull images",
            );
        }
        if let Some(policy) = &spec.policy {
            let parsed = match policy {
                serde_json::Value::String(s) => serde_json::from_str(s).ok(),
                other => Some(other.clone()),
            };
            match parsed {
                Some(serde_json::Value::Object(map)) if map.contains_key("Statement") => {}
                Some(serde_json::Value::Object(_)) => {
                    report.error("spec.policy", "an endpoint policy needs a `Statement`")
                }
                _ => report.error(
                    "spec.policy",
                    "an endpoint policy is a JSON object (a mapping, or a string holding JSON)",
                ),
            }
        }
    }

    /// Each service's endpoint in the VPC.
    fn identities(
        spec: &VpcEndpointSetSpec,
        account: &str,
        region: &str,
        _config: &ControllerConfig,
    ) -> Vec<Identity> {
        spec.interface_services
            .iter()
            .chain(spec.gateway_services.iter().map(|g| &g.service))
            .map(|service| Identity {
                id: format!("vpce|{account}|{region}|{}|{service}", spec.vpc_id),
                what: format!("the `{service}` endpoint of {}", spec.vpc_id),
                path: "spec.vpcId",
            })
            .collect()
    }
}

/// Reports `service` at `path` unless it is one of the `known` services of its kind (`interface`,
/// `gateway`) and not in `listed` yet; adds it to `listed`.
fn listed_once<'s>(
    service: &'s str,
    kind: &str,
    known: &[&str],
    listed: &mut BTreeSet<&'s str>,
    path: String,
    report: &mut Report<'_>,
) {
    if !known.contains(&service) {
        report.error(
            path,
            format!(
                "unknown {kind} service `{service}`; known: {}",
                known.join(", ")
            ),
        );
    } else if !listed.insert(service) {
        report.error(path, format!("`{service}` is listed twice"));
    }
}

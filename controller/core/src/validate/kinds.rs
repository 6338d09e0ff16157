//! The rules of each kind.

use std::collections::{BTreeMap, BTreeSet};

use super::rules::{self, FARGATE_CPUS};
use super::{Report, SetView};
use crate::config::ControllerConfig;
use crate::model::{
    ANNOTATION_PREFIX, CLOUD_MAP_ECS_PERMISSION, CloudMapNamespaceSpec, Document,
    ExpressServiceSpec, Key, Kind, NamespaceShareSpec, VpcEndpointSetSpec, VpcPeeringSpec,
};

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

/// Gateway endpoint services.
pub const GATEWAY_SERVICES: [&str; 2] = ["s3", "dynamodb"];

const ECS_TRIO: [&str; 3] = ["ecs-agent", "ecs-telemetry", "ecs"];
const RESERVED_TAG_PREFIXES: [&str; 2] = ["aws:", ANNOTATION_PREFIX];

pub(crate) fn check_common(doc: &Document, view: &SetView<'_>, report: &mut Report<'_>) {
    let metadata = doc.metadata();
    if !rules::is_dns_label(&metadata.name) {
        report.error(
            "metadata.name",
            format!(
                "`{}` is not a DNS label: lower-case letters, digits and '-', starting and ending \
                 with a letter or digit, at most 63 characters",
                metadata.name
            ),
        );
    }
    let (_, annotation_errors) = metadata.policies();
    for e in annotation_errors {
        report.error(format!("metadata.annotations.{}", e.key), e.reason);
    }
    // A peering lives where its requester is: its place is checked at `spec.requester`.
    let at = match doc {
        Document::VpcPeering(_) => "spec.requester",
        _ => "spec",
    };
    check_place(doc.account(), doc.region(), at, view, report);
    let tags = match doc {
        Document::CloudMapNamespace(m) => &m.spec.tags,
        Document::NamespaceShare(m) => &m.spec.tags,
        Document::VpcEndpointSet(m) => &m.spec.tags,
        Document::ExpressService(m) => &m.spec.tags,
        Document::VpcPeering(m) => &m.spec.tags,
        Document::ServiceConnectBinding(_) => &crate::model::NO_TAGS,
    };
    check_tags(tags, report);
}

/// Checks an account and a region, reported at `{at}.account` and `{at}.region`.
fn check_place(account: &str, region: &str, at: &str, view: &SetView<'_>, report: &mut Report<'_>) {
    if view.config.resolve_account(account).is_none() {
        report.error(
            format!("{at}.account"),
            format!(
                "`{account}` is neither an account alias of the controller config ({}) nor a \
                 12-digit account id",
                aliases(view.config)
            ),
        );
    }
    if !rules::is_region(region) {
        report.error(
            format!("{at}.region"),
            format!("`{region}` is not a region name such as `eu-west-1`"),
        );
    } else if !view.config.regions.is_empty() && !view.config.regions.iter().any(|r| r == region) {
        report.error(
            format!("{at}.region"),
            format!(
                "`{region}` is not one of the regions of the controller config: {}",
                view.config.regions.join(", ")
            ),
        );
    }
}

pub(crate) fn check_peering(spec: &VpcPeeringSpec, view: &SetView<'_>, report: &mut Report<'_>) {
    check_place(
        &spec.accepter.account,
        &spec.accepter.region,
        "spec.accepter",
        view,
        report,
    );
    for (at, side) in [
        ("spec.requester", &spec.requester),
        ("spec.accepter", &spec.accepter),
    ] {
        if !rules::is_ec2_id("vpc", &side.vpc_id) {
            report.error(
                format!("{at}.vpcId"),
                format!("`{}` is not a VPC id (vpc-...)", side.vpc_id),
            );
        }
        check_ids(
            "rtb",
            &format!("{at}.routeTableIds"),
            &side.route_table_ids,
            report,
        );
    }
    if spec.requester.vpc_id == spec.accepter.vpc_id {
        report.error(
            "spec.accepter.vpcId",
            format!(
                "`{}` is the requester's VPC; a VPC cannot peer with itself",
                spec.accepter.vpc_id
            ),
        );
    }
}

fn aliases(config: &ControllerConfig) -> String {
    if config.accounts.is_empty() {
        "it has none".to_owned()
    } else {
        let names: Vec<_> = config.accounts.keys().map(String::as_str).collect();
        format!("known: {}", names.join(", "))
    }
}

fn check_tags(tags: &BTreeMap<String, String>, report: &mut Report<'_>) {
    // AWS allows 50 tags; the controller's two ownership tags count too.
    if tags.len() > 48 {
        report.error(
            "spec.tags",
            format!(
                "{} tags; at most 48 (AWS allows 50, two are the controller's)",
                tags.len()
            ),
        );
    }
    for (key, value) in tags {
        let path = format!("spec.tags.{key}");
        if let Some(prefix) = RESERVED_TAG_PREFIXES.iter().find(|p| key.starts_with(**p)) {
            report.error(
                path,
                format!("tag keys starting with `{prefix}` are reserved"),
            );
        } else if key.is_empty() || key.chars().count() > 128 {
            report.error(path, "a tag key has 1 to 128 characters");
        } else if value.chars().count() > 256 {
            report.error(path, "a tag value has at most 256 characters");
        }
    }
}

pub(crate) fn check_namespace(spec: &CloudMapNamespaceSpec, report: &mut Report<'_>) {
    if !rules::is_http_namespace_name(&spec.name) {
        report.error(
            "spec.name",
            "a namespace name has 1 to 1,024 printable ASCII characters and no spaces",
        );
    }
    if let Some(d) = &spec.description
        && d.chars().count() > 1024
    {
        report.error("spec.description", "at most 1,024 characters");
    }
}

pub(crate) fn check_share(spec: &NamespaceShareSpec, view: &SetView<'_>, report: &mut Report<'_>) {
    let owner = view.config.resolve_account(&spec.account);
    match view.by_key.get(&Key::new(
        Kind::CloudMapNamespace,
        spec.namespace_ref.clone(),
    )) {
        None => report.error(
            "spec.namespaceRef",
            format!(
                "names no CloudMapNamespace of this document set: `{}`",
                spec.namespace_ref
            ),
        ),
        Some(loaded) => {
            let ns_account = view.config.resolve_account(loaded.document.account());
            if ns_account != owner || loaded.document.region() != spec.region {
                report.error(
                    "spec.namespaceRef",
                    format!(
                        "CloudMapNamespace/{} lives in account {} region {}; a share must be in \
                         the namespace's account and region",
                        spec.namespace_ref,
                        loaded.document.account(),
                        loaded.document.region()
                    ),
                );
            }
        }
    }
    if spec.principals.is_empty() {
        report.error("spec.principals", "at least one principal is required");
    }
    let mut seen = BTreeSet::new();
    for (i, principal) in spec.principals.iter().enumerate() {
        let path = format!("spec.principals[{i}]");
        let resolved = if rules::is_organization_arn(principal) || rules::is_ou_arn(principal) {
            Some(principal.clone())
        } else {
            view.config.resolve_account(principal)
        };
        let Some(resolved) = resolved else {
            report.error(
                path,
                format!(
                    "`{principal}` is not a 12-digit account id, an account alias of the controller \
                     config, or an Organization or OU ARN"
                ),
            );
            continue;
        };
        if owner.as_deref() == Some(resolved.as_str()) {
            report.error(
                path,
                "is the owner account; a namespace is shared with other accounts",
            );
        } else if !seen.insert(resolved) {
            report.warning(path, format!("`{principal}` is listed twice"));
        }
    }
    if let Some(permission) = &spec.permission {
        let name = permission.rsplit('/').next().unwrap_or(permission);
        if name != CLOUD_MAP_ECS_PERMISSION {
            report.warning(
                "spec.permission",
                format!(
                    "ECS Service Connect needs {CLOUD_MAP_ECS_PERMISSION}; with `{permission}` \
                     the consumer accounts may not be able to use the namespace"
                ),
            );
        }
    }
}

pub(crate) fn check_endpoints(spec: &VpcEndpointSetSpec, report: &mut Report<'_>) {
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
        if !INTERFACE_SERVICES.contains(&service.as_str()) {
            report.error(
                path,
                format!(
                    "unknown interface service `{service}`; known: {}",
                    INTERFACE_SERVICES.join(", ")
                ),
            );
        } else if !seen.insert(service.as_str()) {
            report.error(path, format!("`{service}` is listed twice"));
        }
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
        if !GATEWAY_SERVICES.contains(&gateway.service.as_str()) {
            report.error(
                format!("{path}.service"),
                format!(
                    "unknown gateway service `{}`; known: {}",
                    gateway.service,
                    GATEWAY_SERVICES.join(", ")
                ),
            );
        } else if !gateways.insert(gateway.service.as_str()) {
            report.error(
                format!("{path}.service"),
                format!("`{}` is listed twice", gateway.service),
            );
        }
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

fn check_ids(prefix: &str, path: &str, ids: &[String], report: &mut Report<'_>) {
    let mut seen = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        if !rules::is_ec2_id(prefix, id) {
            report.error(
                format!("{path}[{i}]"),
                format!("`{id}` is not an id of the form {prefix}-..."),
            );
        } else if !seen.insert(id) {
            report.error(format!("{path}[{i}]"), format!("`{id}` is listed twice"));
        }
    }
}

pub(crate) fn check_express(spec: &ExpressServiceSpec, report: &mut Report<'_>) {
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

/// The AWS identities a document claims, with a description and the field that names them; two
/// documents may not claim the same one.
pub(crate) fn aws_identities(
    doc: &Document,
    config: &ControllerConfig,
) -> Vec<(String, String, &'static str)> {
    let account = config
        .resolve_account(doc.account())
        .unwrap_or_else(|| doc.account().to_owned());
    let region = doc.region();
    match doc {
        Document::CloudMapNamespace(m) => vec![(
            format!("ns|{account}|{region}|{}", m.spec.name),
            format!("namespace `{}` in {account} {region}", m.spec.name),
            "spec.name",
        )],
        Document::NamespaceShare(_) => Vec::new(),
        Document::VpcEndpointSet(m) => m
            .spec
            .interface_services
            .iter()
            .chain(m.spec.gateway_services.iter().map(|g| &g.service))
            .map(|service| {
                (
                    format!("vpce|{account}|{region}|{}|{service}", m.spec.vpc_id),
                    format!("the `{service}` endpoint of {}", m.spec.vpc_id),
                    "spec.vpcId",
                )
            })
            .collect(),
        Document::ExpressService(m) => vec![(
            format!(
                "svc|{account}|{region}|{}|{}",
                m.spec.cluster, m.spec.service_name
            ),
            format!(
                "service `{}` of cluster `{}`",
                m.spec.service_name, m.spec.cluster
            ),
            "spec.serviceName",
        )],
        Document::VpcPeering(m) => {
            // The same two VPCs, whichever requests: one identity.
            let side = |s: &crate::model::PeeringSide| {
                let account = config
                    .resolve_account(&s.account)
                    .unwrap_or_else(|| s.account.clone());
                format!("{account}|{}|{}", s.region, s.vpc_id)
            };
            let mut pair = [side(&m.spec.requester), side(&m.spec.accepter)];
            pair.sort();
            vec![(
                format!("pcx|{}|{}", pair[0], pair[1]),
                format!(
                    "the peering of {} and {}",
                    m.spec.requester.vpc_id, m.spec.accepter.vpc_id
                ),
                "spec.accepter.vpcId",
            )]
        }
        Document::ServiceConnectBinding(m) => vec![(
            format!(
                "sc|{account}|{region}|{}|{}",
                crate::model::cluster_name(&m.spec.cluster),
                m.spec.service
            ),
            format!(
                "the Service Connect configuration of service `{}` of cluster `{}`",
                m.spec.service, m.spec.cluster
            ),
            "spec.service",
        )],
    }
}

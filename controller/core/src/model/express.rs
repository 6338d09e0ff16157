use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, Spec, Units};

/// An ECS Express Mode service with its ECS-managed load balancer. The fields mirror the inputs
/// of `CreateExpressGatewayService` that an operator sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ExpressServiceSpec {
    /// The account of the service (alias or 12-digit id).
    pub account: String,
    /// The region of the service.
    pub region: String,
    /// The cluster; ECS creates `default` when it is absent.
    #[serde(default = "default_cluster")]
    pub cluster: String,
    /// The ECS service name (letters, digits, '-' and '_', at most 255 characters).
    pub service_name: String,
    /// The task execution role: pulls the image, writes logs, reads secrets.
    pub execution_role_arn: String,
    /// The infrastructure role ECS uses to manage the load balancer, target groups and scaling.
    pub infrastructure_role_arn: String,
    /// The role the application's containers assume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_role_arn: Option<String>,
    /// The application container.
    pub primary_container: Container,
    /// Subnets and security groups of the tasks (and of the ALB ECS creates); absent means the
    /// default VPC's public subnets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
    /// CPU units of a task, e.g. `256`, `1024` (Fargate pairs with `memory`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Units>,
    /// Memory of a task in MiB, e.g. `512`, `2048`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Units>,
    /// `X86_64` (default) or `ARM64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_architecture: Option<CpuArchitecture>,
    /// The path the load balancer's health check requests, e.g. `/healthz`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_path: Option<String>,
    /// Auto scaling of the task count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<Scaling>,
    /// Tags on the service; the controller adds its ownership tags.
    #[serde(default, skip_serializing_if = "crate::compact::Tags::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub tags: crate::compact::Tags,
}

fn default_cluster() -> String {
    "default".to_owned()
}

/// The application container of an Express service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Container {
    /// The image, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2`.
    pub image: String,
    /// The port the application listens on (1-65535); ECS defaults it to 80.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    /// The command, replacing the image's; absent keeps the image's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment: Vec<EnvVar>,
    /// Secrets from Secrets Manager or SSM Parameter Store, injected as environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretRef>,
    /// Where the container's logs go; absent lets ECS create a log group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<AwsLogs>,
    /// The Secrets Manager secret holding private registry credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_credentials: Option<String>,
}

/// One environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

/// One secret, injected as the environment variable `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SecretRef {
    pub name: String,
    /// The ARN of the Secrets Manager secret or SSM parameter.
    pub value_from: String,
}

/// The awslogs destination of the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct AwsLogs {
    pub log_group: String,
    pub log_stream_prefix: String,
}

/// Subnets and security groups of the tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Network {
    /// Subnets, `subnet-...`; services on the same subnets share one load balancer.
    pub subnets: Vec<String>,
    /// Security groups, `sg-...`; ECS adds one of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
}

/// Auto scaling of an Express service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Scaling {
    /// The fewest tasks.
    pub min: i64,
    /// The most tasks (at least 1).
    pub max: i64,
    /// The metric that drives scaling; `AVERAGE_CPU` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<ScalingMetric>,
    /// The target value of the metric (percent, or requests per target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<i64>,
}

/// The metric of Express auto scaling, as AWS spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScalingMetric {
    AverageCpu,
    AverageMemory,
    RequestCountPerTarget,
}

impl ScalingMetric {
    pub fn as_aws(self) -> &'static str {
        match self {
            ScalingMetric::AverageCpu => "AVERAGE_CPU",
            ScalingMetric::AverageMemory => "AVERAGE_MEMORY",
            ScalingMetric::RequestCountPerTarget => "REQUEST_COUNT_PER_TARGET",
        }
    }
}

/// The CPU architecture of the tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CpuArchitecture {
    #[serde(rename = "X86_64")]
    X86_64,
    #[serde(rename = "ARM64")]
    Arm64,
}

impl Spec for ExpressServiceSpec {
    const KIND: Kind = Kind::ExpressService;
    const PLURAL: &'static str = "expressservices";
    const SHORT_NAMES: &'static [&'static str] = &["xsvc"];
    const DESCRIPTION: &'static str =
        "An ECS Express Mode service with its ECS-managed load balancer.";
    fn account(&self) -> &str {
        &self.account
    }
    fn region(&self) -> &str {
        &self.region
    }
}

/// A cluster's name, whether written as a name or as an ARN (`arn:aws:ecs:R:A:cluster/NAME`);
/// surrounding space is ignored.
pub fn cluster_name(name_or_arn: &str) -> &str {
    let s = name_or_arn.trim();
    match s.split_once(":cluster/") {
        Some((prefix, name)) if prefix.starts_with("arn:") => name,
        _ => s,
    }
}

#[cfg(test)]
mod cluster_tests {
    use super::cluster_name;

    #[test]
    fn a_cluster_reads_the_same_by_name_or_by_arn() {
        assert_eq!(cluster_name("payments"), "payments");
        assert_eq!(
            cluster_name(" arn:aws:ecs:eu-west-1:111111111111:cluster/payments "),
            "payments"
        );
        assert_eq!(cluster_name("team/payments"), "team/payments");
    }
}

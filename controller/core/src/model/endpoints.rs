use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, Spec};

/// The VPC endpoints that let tasks in private subnets reach AWS services without a NAT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct VpcEndpointSetSpec {
    /// The account of the VPC (alias or 12-digit id).
    pub account: String,
    /// The region of the VPC; endpoints are only made for services of this region.
    pub region: String,
    /// The VPC, `vpc-...`.
    pub vpc_id: String,
    /// Subnets of the interface endpoints (one per Availability Zone), `subnet-...`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnet_ids: Vec<String>,
    /// Security groups of the interface endpoints; they must admit TCP 443 from the task subnets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_group_ids: Vec<String>,
    /// Private DNS on the interface endpoints (needs DNS support and hostnames on the VPC).
    #[serde(default = "default_true")]
    pub private_dns: bool,
    /// Interface endpoints by short service name: `ecs-agent`, `ecs-telemetry`, `ecs`, `ecr.api`,
    /// `ecr.dkr`, `logs`, `secretsmanager`, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interface_services: Vec<String>,
    /// Gateway endpoints (`s3`, `dynamodb`) and the route tables they serve.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gateway_services: Vec<GatewayService>,
    /// An endpoint policy for every endpoint of the set (an IAM policy document); absent means
    /// AWS's default full-access policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<serde_json::Value>,
    /// Tags on every endpoint; the controller adds its ownership tags.
    #[serde(default, skip_serializing_if = "crate::compact::Tags::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub tags: crate::compact::Tags,
}

fn default_true() -> bool {
    true
}

/// A gateway endpoint and its route tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct GatewayService {
    /// `s3` or `dynamodb`.
    pub service: String,
    /// Route tables that get a route to the service, `rtb-...`.
    pub route_table_ids: Vec<String>,
}

impl Spec for VpcEndpointSetSpec {
    const KIND: Kind = Kind::VpcEndpointSet;
    const PLURAL: &'static str = "vpcendpointsets";
    const SHORT_NAMES: &'static [&'static str] = &["vpces"];
    const DESCRIPTION: &'static str = "The interface and gateway VPC endpoints that let ECS tasks in private subnets reach AWS services without a NAT.";
    fn account(&self) -> &str {
        &self.account
    }
    fn region(&self) -> &str {
        &self.region
    }
}

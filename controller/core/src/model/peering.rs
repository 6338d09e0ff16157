use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, Spec};

/// A VPC peering connection between two VPCs, possibly of two accounts and two regions, with
/// the routes to each VPC's CIDR blocks in the other's route tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct VpcPeeringSpec {
    /// The side that requests the peering; the connection lives in its account and region.
    pub requester: PeeringSide,
    /// The side that accepts it (the controller accepts through this account's role).
    pub accepter: PeeringSide,
    /// Whether each side resolves the other's private DNS host names to private addresses
    /// (each side's option, set from that side's account; needs DNS support and host names on
    /// both VPCs).
    #[serde(default)]
    pub dns_resolution: bool,
    /// Tags on the peering connection (the requester's view of it); the controller adds its
    /// ownership tags.
    #[serde(default, skip_serializing_if = "crate::compact::Tags::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub tags: crate::compact::Tags,
}

/// One side of a peering: a VPC and the route tables that get routes to the other side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PeeringSide {
    /// The account of the VPC (alias or 12-digit id).
    pub account: String,
    /// The region of the VPC.
    pub region: String,
    /// The VPC, `vpc-...`.
    pub vpc_id: String,
    /// Route tables of this VPC that get a route to every IPv4 CIDR block of the other VPC,
    /// through the peering connection; empty for none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route_table_ids: Vec<String>,
}

impl Spec for VpcPeeringSpec {
    const KIND: Kind = Kind::VpcPeering;
    const PLURAL: &'static str = "vpcpeerings";
    const SHORT_NAMES: &'static [&'static str] = &["pcx"];
    const DESCRIPTION: &'static str = "A VPC peering connection between two VPCs (across accounts and regions) with the routes to each VPC's CIDR blocks in the other's route tables.";
    fn account(&self) -> &str {
        &self.requester.account
    }
    fn region(&self) -> &str {
        &self.requester.region
    }
}

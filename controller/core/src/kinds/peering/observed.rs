//! Peering connections, route tables and VPCs as observed, normalised.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::observed::Tagged;

/// A VPC peering connection as its requester's account sees it (both sides' status, options and
/// CIDR blocks; the requester's tags only: tags are per account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedPeering {
    /// `pcx-...`.
    pub id: String,
    /// The status code, lower case (`pending-acceptance`, `active`, `failed`, ...).
    pub status: String,
    /// AWS's status message (`Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR
    /// range`).
    pub message: Option<String>,
    pub requester: PeeringEnd,
    pub accepter: PeeringEnd,
    pub tags: crate::compact::Tags,
}

/// One side of an observed connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeeringEnd {
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    /// Whether this side resolves the other's private DNS names (its `PeeringOptions`).
    pub dns_resolution: bool,
}

impl Tagged for ObservedPeering {
    fn tags(&self) -> &crate::compact::Tags {
        &self.tags
    }
}

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PeeringLife {
    /// `initiating-request`: AWS is still checking the request.
    Initiating,
    /// `pending-acceptance`: waiting for the accepter's account.
    Pending,
    /// `provisioning`: accepted, not yet usable.
    Provisioning,
    /// `active`.
    Active,
    /// `failed`: AWS refused the request (overlapping CIDRs, a wrong VPC or account).
    Failed,
    /// `rejected`, `expired`, `deleting`, `deleted`: as if absent.
    Ended,
}

impl ObservedPeering {
    pub fn life(&self) -> PeeringLife {
        match self.status.as_str() {
            "initiating-request" => PeeringLife::Initiating,
            "pending-acceptance" => PeeringLife::Pending,
            "provisioning" => PeeringLife::Provisioning,
            "active" => PeeringLife::Active,
            "failed" => PeeringLife::Failed,
            _ => PeeringLife::Ended,
        }
    }

    /// Whether the connection may still carry traffic or become able to (what a create must
    /// never duplicate).
    pub fn is_live(&self) -> bool {
        matches!(
            self.life(),
            PeeringLife::Initiating
                | PeeringLife::Pending
                | PeeringLife::Provisioning
                | PeeringLife::Active
        )
    }
}

/// What a route sends its traffic to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type", content = "id")]
pub enum RouteTarget {
    /// A VPC peering connection, `pcx-...`.
    Peering(String),
    /// Anything else: a gateway (`igw-`, `vgw-`, `local`), a NAT gateway, a transit gateway, a
    /// network interface, an instance, ... (its id).
    Other(String),
}

impl RouteTarget {
    pub fn id(&self) -> &str {
        match self {
            RouteTarget::Peering(id) | RouteTarget::Other(id) => id,
        }
    }
}

/// One IPv4 route of a route table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedRoute {
    pub target: RouteTarget,
    /// `active` or `blackhole`.
    pub state: String,
}

/// A route table with its IPv4 routes by destination CIDR block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedRouteTable {
    pub id: String,
    pub vpc_id: String,
    pub routes: BTreeMap<String, ObservedRoute>,
}

/// A VPC with its associated IPv4 CIDR blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedVpc {
    pub id: String,
    pub cidrs: crate::compact::Ids,
}

/// The VPC side of one (account, region): the route tables and VPCs the peering documents name
/// there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    pub route_tables: BTreeMap<String, ObservedRouteTable>,
    pub vpcs: BTreeMap<String, ObservedVpc>,
}

/// Whether two IPv4 CIDR blocks overlap (a block that does not parse overlaps nothing).
pub fn cidrs_overlap(a: &str, b: &str) -> bool {
    match (range(a), range(b)) {
        (Some((a0, a1)), Some((b0, b1))) => a0 <= b1 && b0 <= a1,
        _ => false,
    }
}

/// The first and last address of an IPv4 CIDR block.
fn range(cidr: &str) -> Option<(u32, u32)> {
    let (addr, len) = cidr.split_once('/')?;
    let addr: std::net::Ipv4Addr = addr.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    let first = u32::from(addr) & mask;
    Some((first, first | !mask))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_overlap_when_one_contains_the_other_or_they_share_addresses() {
        assert!(cidrs_overlap("10.0.0.0/16", "10.0.128.0/17"));
        assert!(cidrs_overlap("10.0.0.0/8", "10.200.0.0/16"));
        assert!(!cidrs_overlap("10.0.0.0/16", "172.31.0.0/16"));
        assert!(!cidrs_overlap("10.0.0.0/16", "10.1.0.0/16"));
        assert!(!cidrs_overlap("10.0.0.0/16", "not a block"));
    }
}

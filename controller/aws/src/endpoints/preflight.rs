//! Preflight of an endpoint set: what would make it fail or not work, found before any change and
//! reported as sentences, never as a silent failure.
//!
//! # Rules
//! - The document's region is the region the calls go to (endpoint service names are regional).
//! - Only for a set with interface services:
//!   - private DNS needs the VPC attributes `enableDnsSupport` and `enableDnsHostnames`
//!     (`DescribeVpcAttribute`, once for each);
//!   - the subnets and security groups exist and are in the set's VPC;
//!   - every subnet's IPv4 CIDR is admitted on TCP 443 by the set's security groups taken
//!     together, since an interface admits what any of its groups admits. An inbound rule admits
//!     a subnet when its protocol is TCP (or all traffic), its port range holds 443, and
//!     - one of its IPv4 ranges contains the whole subnet CIDR (a range that covers only part of
//!       the subnet does not count), or
//!     - it names a security group or a prefix list as its source: which tasks will carry that
//!       group, and what a customer-managed list holds, is not known here, so such a rule is
//!       taken as admitting rather than blocking the set on a guess.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{IpPermission, SecurityGroup, VpcAttributeName};
use ecs_topology_core::model::VpcEndpointSetSpec;

use crate::ApiFamily;
use crate::call::{Aws, AwsError};
use crate::ec2::filter;

const HTTPS: i32 = 443;

pub(super) async fn check(
    aws: Aws<'_>,
    spec: &VpcEndpointSetSpec,
) -> Result<Vec<String>, AwsError> {
    let mut problems = Vec::new();
    if spec.region != aws.clients.region {
        problems.push(format!(
            "the document's region {} is not the region of the calls ({}): endpoint services \
             are regional, and a set is made only in its own region",
            spec.region, aws.clients.region
        ));
        return Ok(problems);
    }
    if spec.interface_services.is_empty() {
        return Ok(problems);
    }
    if spec.private_dns {
        match dns_attributes(aws, &spec.vpc_id).await? {
            None => {
                problems.push(format!(
                    "the VPC {} does not exist in account {} region {}",
                    spec.vpc_id, aws.clients.account_id, aws.clients.region
                ));
                return Ok(problems);
            }
            Some((support, hostnames)) => {
                let off: Vec<&str> = [
                    ("enableDnsSupport", support),
                    ("enableDnsHostnames", hostnames),
                ]
                .into_iter()
                .filter(|(_, on)| !on)
                .map(|(name, _)| name)
                .collect();
                if !off.is_empty() {
                    problems.push(format!(
                        "private DNS needs the VPC attributes enableDnsSupport and \
                         enableDnsHostnames, and {} of {} {} off (turn it on, or set \
                         privateDns: false)",
                        off.join(" and "),
                        spec.vpc_id,
                        if off.len() == 1 { "is" } else { "are" }
                    ));
                }
            }
        }
    }
    let subnets = subnets(aws, spec, &mut problems).await?;
    let groups = security_groups(aws, spec, &mut problems).await?;
    if !groups.is_empty() {
        let refused: Vec<String> = spec
            .subnet_ids
            .iter()
            .filter_map(|id| Some((id, *subnets.get(id)?)))
            .filter(|(_, cidr)| !groups.iter().any(|g| admits_https(g, *cidr)))
            .map(|(id, cidr)| format!("{id} ({})", show(cidr)))
            .collect();
        if !refused.is_empty() {
            problems.push(format!(
                "the security groups {} do not admit TCP 443 from {}: tasks there could not \
                 reach the interface endpoints",
                spec.security_group_ids.join(", "),
                refused.join(", ")
            ));
        }
    }
    Ok(problems)
}

/// `(enableDnsSupport, enableDnsHostnames)` of a VPC; `None` when the VPC does not exist.
async fn dns_attributes(aws: Aws<'_>, vpc: &str) -> Result<Option<(bool, bool)>, AwsError> {
    let ec2 = &aws.clients.ec2;
    let mut values = [false; 2];
    for (value, attribute) in values.iter_mut().zip([
        VpcAttributeName::EnableDnsSupport,
        VpcAttributeName::EnableDnsHostnames,
    ]) {
        let reply = aws
            .call(
                "DescribeVpcAttribute",
                ApiFamily::Ec2Describe("DescribeVpcAttribute"),
                || {
                    ec2.describe_vpc_attribute()
                        .vpc_id(vpc)
                        .attribute(attribute.clone())
                        .send()
                },
            )
            .await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(e) if e.is_code("InvalidVpcID.NotFound") => return Ok(None),
            Err(e) => return Err(e),
        };
        let flag = match attribute {
            VpcAttributeName::EnableDnsSupport => reply.enable_dns_support(),
            _ => reply.enable_dns_hostnames(),
        };
        *value = flag.and_then(|f| f.value()).unwrap_or(false);
    }
    Ok(Some((values[0], values[1])))
}

/// The IPv4 CIDR of each subnet of the set that exists in its VPC; the others are problems.
async fn subnets(
    aws: Aws<'_>,
    spec: &VpcEndpointSetSpec,
    problems: &mut Vec<String>,
) -> Result<BTreeMap<String, Cidr>, AwsError> {
    let mut found = BTreeMap::new();
    if spec.subnet_ids.is_empty() {
        return Ok(found);
    }
    let ec2 = &aws.clients.ec2;
    let wanted = vec![filter("subnet-id", spec.subnet_ids.iter().cloned())];
    let mut listed: BTreeSet<String> = BTreeSet::new();
    let operation = "DescribeSubnets";
    aws.pages(
        operation,
        ApiFamily::Ec2Describe(operation),
        |token| {
            ec2.describe_subnets()
                .set_filters(Some(wanted.clone()))
                .set_next_token(token)
                .send()
        },
        |reply| {
            for subnet in reply.subnets() {
                let Some(id) = subnet.subnet_id() else {
                    continue;
                };
                listed.insert(id.to_owned());
                let vpc = subnet.vpc_id().unwrap_or_default();
                if vpc != spec.vpc_id {
                    problems.push(format!(
                        "the subnet {id} is in {vpc}, not in {}",
                        spec.vpc_id
                    ));
                    continue;
                }
                if let Some(cidr) = subnet.cidr_block().and_then(Cidr::parse) {
                    found.insert(id.to_owned(), cidr);
                }
            }
            reply.next_token
        },
    )
    .await?;
    for id in &spec.subnet_ids {
        if !listed.contains(id) {
            problems.push(format!("the subnet {id} does not exist"));
        }
    }
    Ok(found)
}

/// The security groups of the set that exist in its VPC; the others are problems.
async fn security_groups(
    aws: Aws<'_>,
    spec: &VpcEndpointSetSpec,
    problems: &mut Vec<String>,
) -> Result<Vec<SecurityGroup>, AwsError> {
    let mut found = Vec::new();
    if spec.security_group_ids.is_empty() {
        return Ok(found);
    }
    let ec2 = &aws.clients.ec2;
    let wanted = vec![filter("group-id", spec.security_group_ids.iter().cloned())];
    let operation = "DescribeSecurityGroups";
    aws.pages(
        operation,
        ApiFamily::Ec2Describe(operation),
        |token| {
            ec2.describe_security_groups()
                .set_filters(Some(wanted.clone()))
                .set_next_token(token)
                .send()
        },
        |reply| {
            found.extend(reply.security_groups().iter().cloned());
            reply.next_token
        },
    )
    .await?;
    for id in &spec.security_group_ids {
        match found.iter().find(|g| g.group_id() == Some(id.as_str())) {
            None => problems.push(format!("the security group {id} does not exist")),
            Some(g) if g.vpc_id() != Some(spec.vpc_id.as_str()) => problems.push(format!(
                "the security group {id} is in {}, not in {}",
                g.vpc_id().unwrap_or("another VPC"),
                spec.vpc_id
            )),
            Some(_) => {}
        }
    }
    found.retain(|g| g.vpc_id() == Some(spec.vpc_id.as_str()));
    Ok(found)
}

/// Whether an inbound rule of `group` admits TCP 443 from the whole of `subnet` (see the module's
/// rules).
fn admits_https(group: &SecurityGroup, subnet: Cidr) -> bool {
    group
        .ip_permissions()
        .iter()
        .filter(|rule| covers_https(rule))
        .any(|rule| {
            !rule.user_id_group_pairs().is_empty()
                || !rule.prefix_list_ids().is_empty()
                || rule
                    .ip_ranges()
                    .iter()
                    .filter_map(|r| r.cidr_ip().and_then(Cidr::parse))
                    .any(|range| range.contains(subnet))
        })
}

/// Whether a rule's protocol and ports take in TCP 443.
fn covers_https(rule: &IpPermission) -> bool {
    match rule.ip_protocol().map(str::to_ascii_lowercase).as_deref() {
        Some("-1" | "all") => true,
        Some("tcp" | "6") => {
            rule.from_port().is_none_or(|from| from <= HTTPS)
                && rule.to_port().is_none_or(|to| to == -1 || HTTPS <= to)
        }
        _ => false,
    }
}

/// An IPv4 CIDR block: the network address and the prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    address: u32,
    length: u8,
}

impl Cidr {
    fn parse(text: &str) -> Option<Cidr> {
        let (address, length) = text.trim().split_once('/')?;
        let address: std::net::Ipv4Addr = address.parse().ok()?;
        let length: u8 = length.parse().ok().filter(|l| *l <= 32)?;
        Some(Cidr {
            address: u32::from(address) & mask(length),
            length,
        })
    }

    /// Whether every address of `other` is in this block.
    fn contains(self, other: Cidr) -> bool {
        self.length <= other.length && other.address & mask(self.length) == self.address
    }
}

fn mask(length: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(length)).unwrap_or(0)
}

fn show(cidr: Cidr) -> String {
    format!("{}/{}", std::net::Ipv4Addr::from(cidr.address), cidr.length)
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{IpRange, UserIdGroupPair};

    use super::*;

    fn cidr(text: &str) -> Cidr {
        Cidr::parse(text).unwrap_or_else(|| panic!("{text} is a CIDR"))
    }

    fn group(rules: Vec<IpPermission>) -> SecurityGroup {
        SecurityGroup::builder()
            .group_id("sg-1")
            .set_ip_permissions(Some(rules))
            .build()
    }

    fn rule(protocol: &str, ports: Option<(i32, i32)>, ranges: &[&str]) -> IpPermission {
        IpPermission::builder()
            .ip_protocol(protocol)
            .set_from_port(ports.map(|p| p.0))
            .set_to_port(ports.map(|p| p.1))
            .set_ip_ranges(Some(
                ranges
                    .iter()
                    .map(|r| IpRange::builder().cidr_ip(*r).build())
                    .collect(),
            ))
            .build()
    }

    #[test]
    fn a_range_admits_a_subnet_only_when_it_contains_all_of_it() {
        assert!(cidr("10.0.0.0/16").contains(cidr("10.0.1.0/24")));
        assert!(cidr("10.0.1.0/24").contains(cidr("10.0.1.0/24")));
        assert!(cidr("0.0.0.0/0").contains(cidr("192.168.7.0/24")));
        assert!(!cidr("10.0.1.0/25").contains(cidr("10.0.1.0/24")));
        assert!(!cidr("10.1.0.0/16").contains(cidr("10.0.1.0/24")));
        assert_eq!(show(cidr("10.0.1.7/24")), "10.0.1.0/24");
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
    }

    #[test]
    fn only_tcp_rules_whose_ports_hold_443_admit_https() {
        let subnet = cidr("10.0.1.0/24");
        let admits = |r: IpPermission| admits_https(&group(vec![r]), subnet);
        assert!(admits(rule("tcp", Some((443, 443)), &["10.0.0.0/16"])));
        assert!(admits(rule("tcp", Some((0, 65535)), &["10.0.1.0/24"])));
        assert!(admits(rule("-1", None, &["10.0.0.0/8"])));
        assert!(!admits(rule("tcp", Some((80, 80)), &["10.0.0.0/16"])));
        assert!(!admits(rule("udp", Some((443, 443)), &["10.0.0.0/16"])));
        assert!(!admits(rule("tcp", Some((443, 443)), &["10.0.1.128/25"])));
    }

    #[test]
    fn a_rule_from_another_security_group_is_taken_as_admitting() {
        let from_tasks = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(443)
            .to_port(443)
            .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-tasks").build())
            .build();
        assert!(admits_https(&group(vec![from_tasks]), cidr("10.0.1.0/24")));
    }
}

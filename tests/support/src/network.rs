//! The network the controller's documents stand on, made in the emulator: a VPC with DNS
//! support and host names, its subnets, route tables, and the security group interface
//! endpoints are made with (HTTPS from the subnets).

use anyhow::anyhow;
use aws_sdk_ec2::types::{AttributeBooleanValue, IpPermission, IpRange};

/// What [`endpoint_vpc`] made.
#[derive(Debug, Clone)]
pub struct EndpointVpc {
    pub vpc: String,
    /// The subnets, in the order they were asked for.
    pub subnets: Vec<String>,
    /// The security group `endpoints`, open on TCP 443 from every subnet.
    pub security_group: String,
}

/// Creates a VPC of `cidr` with DNS support and DNS host names, a subnet of each `(cidr,
/// availability zone)` of `subnets`, and a security group `endpoints` open on TCP 443 from
/// those subnets.
///
/// # Errors
/// When a call fails or answers no id.
pub async fn endpoint_vpc(
    ec2: &aws_sdk_ec2::Client,
    cidr: &str,
    subnets: &[(String, String)],
) -> anyhow::Result<EndpointVpc> {
    let vpc = ec2
        .create_vpc()
        .cidr_block(cidr)
        .send()
        .await?
        .vpc
        .and_then(|v| v.vpc_id)
        .ok_or_else(|| anyhow!("CreateVpc: no id"))?;
    let on = AttributeBooleanValue::builder().value(true).build();
    ec2.modify_vpc_attribute()
        .vpc_id(&vpc)
        .enable_dns_support(on.clone())
        .send()
        .await?;
    ec2.modify_vpc_attribute()
        .vpc_id(&vpc)
        .enable_dns_hostnames(on)
        .send()
        .await?;
    let mut subnet_ids = Vec::new();
    let mut https = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(443)
        .to_port(443);
    for (block, zone) in subnets {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(block)
            .availability_zone(zone)
            .send()
            .await?
            .subnet
            .and_then(|s| s.subnet_id)
            .ok_or_else(|| anyhow!("CreateSubnet: no id"))?;
        subnet_ids.push(subnet);
        https = https.ip_ranges(IpRange::builder().cidr_ip(block).build());
    }
    let security_group = ec2
        .create_security_group()
        .vpc_id(&vpc)
        .group_name("endpoints")
        .description("HTTPS from the task subnets")
        .send()
        .await?
        .group_id
        .ok_or_else(|| anyhow!("CreateSecurityGroup: no id"))?;
    ec2.authorize_security_group_ingress()
        .group_id(&security_group)
        .ip_permissions(https.build())
        .send()
        .await?;
    Ok(EndpointVpc {
        vpc,
        subnets: subnet_ids,
        security_group,
    })
}

/// Creates a route table in `vpc`; its id.
///
/// # Errors
/// When the call fails or answers no id.
pub async fn route_table(ec2: &aws_sdk_ec2::Client, vpc: &str) -> anyhow::Result<String> {
    ec2.create_route_table()
        .vpc_id(vpc)
        .send()
        .await?
        .route_table
        .and_then(|t| t.route_table_id)
        .ok_or_else(|| anyhow!("CreateRouteTable: no id"))
}

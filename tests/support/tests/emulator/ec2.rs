//! EC2 VPC endpoints as the emulator serves them to the Rust SDK: paging, filters, client-token
//! idempotency, the pending and deleted states, service-name and private-DNS validation, the
//! interface endpoint's DNS entries, network interfaces and groups, gateway routes, modify and
//! tags.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_ec2 as ec2;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, ResourceType, Tag, TagSpecification, VpcEndpoint,
    VpcEndpointType,
};
use ecs_topology_testkit::{Pages, emulator, sent_pages};
use serde_json::json;
use tokio::task::JoinSet;

const REGION: &str = "eu-west-1";

const DEFAULT_POLICY: &str = r#"{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}"#;

async fn client(account: &str) -> ec2::Client {
    ec2::Client::new(&emulator().sdk_config(account, REGION).await)
}

fn service(short: &str) -> String {
    format!("com.amazonaws.{REGION}.{short}")
}

use crate::{assert_fails_with, assert_fails_with_status, first_of};

pub(crate) fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

pub(crate) fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

/// The tags `pairs` given to a new resource of type `resource`.
pub(crate) fn tags_of(resource: ResourceType, pairs: &[(&str, &str)]) -> TagSpecification {
    let mut spec = TagSpecification::builder().resource_type(resource);
    for (key, value) in pairs {
        spec = spec.tags(tag(key, value));
    }
    spec.build()
}

fn tags(pairs: &[(&str, &str)]) -> TagSpecification {
    tags_of(ResourceType::VpcEndpoint, pairs)
}

fn state(endpoint: &VpcEndpoint) -> String {
    endpoint
        .state()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default()
}

fn id(endpoint: &VpcEndpoint) -> String {
    endpoint.vpc_endpoint_id().unwrap_or_default().to_owned()
}

/// A VPC with two subnets in different zones, a route table and a security group.
pub(crate) struct Network {
    pub(crate) vpc: String,
    pub(crate) subnets: Vec<String>,
    pub(crate) route_table: String,
    pub(crate) group: String,
}

/// The EC2 client of a fresh account and a [`network`] made in it.
async fn new_network(octet: u8, dns: bool) -> (ec2::Client, Network) {
    let client = client(&emulator().new_account()).await;
    let net = network(&client, octet, dns).await;
    (client, net)
}

/// Creates a VPC with `cidr`; `dns` turns on DNS support and DNS hostnames.
pub(crate) async fn vpc(client: &ec2::Client, cidr: &str, dns: bool) -> String {
    let vpc = client
        .create_vpc()
        .cidr_block(cidr)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create vpc {cidr}: {e:?}"))
        .vpc
        .and_then(|v| v.vpc_id)
        .unwrap_or_else(|| panic!("create vpc: no id"));
    if dns {
        for (support, hostnames) in [(Some(true), None), (None, Some(true))] {
            client
                .modify_vpc_attribute()
                .vpc_id(&vpc)
                .set_enable_dns_support(
                    support.map(|v| AttributeBooleanValue::builder().value(v).build()),
                )
                .set_enable_dns_hostnames(
                    hostnames.map(|v| AttributeBooleanValue::builder().value(v).build()),
                )
                .send()
                .await
                .unwrap_or_else(|e| panic!("modify vpc attribute: {e:?}"));
        }
    }
    vpc
}

/// Creates a route table of `vpc`; its id.
pub(crate) async fn route_table(client: &ec2::Client, vpc: &str) -> String {
    ecs_topology_testkit::network::route_table(client, vpc)
        .await
        .unwrap_or_else(|e| panic!("create route table: {e:?}"))
}

/// Creates a VPC `10.<octet>.0.0/16`; `dns` turns on DNS support and hostnames.
pub(crate) async fn network(client: &ec2::Client, octet: u8, dns: bool) -> Network {
    let vpc = vpc(client, &format!("10.{octet}.0.0/16"), dns).await;
    let mut subnets = Vec::new();
    for (i, zone) in ["a", "b", "c"].iter().enumerate() {
        let subnet = client
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.{octet}.{i}.0/24"))
            .availability_zone(format!("{REGION}{zone}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("create subnet: {e:?}"))
            .subnet
            .and_then(|s| s.subnet_id)
            .unwrap_or_else(|| panic!("create subnet: no id"));
        subnets.push(subnet);
    }
    let route_table = route_table(client, &vpc).await;
    let group = client
        .create_security_group()
        .vpc_id(&vpc)
        .group_name("endpoints")
        .description("HTTPS from the task subnets")
        .send()
        .await
        .unwrap_or_else(|e| panic!("create security group: {e:?}"))
        .group_id
        .unwrap_or_else(|| panic!("create security group: no id"));
    Network {
        vpc,
        subnets,
        route_table,
        group,
    }
}

/// A gateway endpoint (the default type) for `short` routed in `net`'s route table.
async fn routed(client: &ec2::Client, net: &Network, short: &str) -> VpcEndpoint {
    create(client, net, service(short))
        .route_table_ids(&net.route_table)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {short}: {e:?}"))
        .vpc_endpoint
        .unwrap_or_else(|| panic!("create {short}: no endpoint"))
}

async fn gateway(client: &ec2::Client, net: &Network, short: &str, owner: &str) -> VpcEndpoint {
    create(client, net, service(short))
        .vpc_endpoint_type(VpcEndpointType::Gateway)
        .tag_specifications(tags(&[("owner", owner)]))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create gateway endpoint: {e:?}"))
        .vpc_endpoint
        .unwrap_or_else(|| panic!("create gateway endpoint: no endpoint"))
}

async fn interface(client: &ec2::Client, net: &Network, short: &str) -> VpcEndpoint {
    create(client, net, service(short))
        .vpc_endpoint_type(VpcEndpointType::Interface)
        .subnet_ids(&net.subnets[0])
        .subnet_ids(&net.subnets[1])
        .security_group_ids(&net.group)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create interface endpoint {short}: {e:?}"))
        .vpc_endpoint
        .unwrap_or_else(|| panic!("create interface endpoint: no endpoint"))
}

async fn describe_one(client: &ec2::Client, endpoint_id: &str) -> VpcEndpoint {
    let call = client
        .describe_vpc_endpoints()
        .vpc_endpoint_ids(endpoint_id);
    first_of(&format!("describe {endpoint_id}"), call.send(), |r| {
        r.vpc_endpoints()
    })
    .await
}

type CreateEndpoint = ec2::operation::create_vpc_endpoint::builders::CreateVpcEndpointFluentBuilder;

/// `CreateVpcEndpoint` of the service `name` (its full name) in the VPC of `net`, not yet sent.
fn create(client: &ec2::Client, net: &Network, name: impl Into<String>) -> CreateEndpoint {
    client
        .create_vpc_endpoint()
        .vpc_id(&net.vpc)
        .service_name(name)
}

type ModifyEndpoint = ec2::operation::modify_vpc_endpoint::builders::ModifyVpcEndpointFluentBuilder;

/// `ModifyVpcEndpoint` of `endpoint`, as `change` changes the call.
async fn modify(
    client: &ec2::Client,
    endpoint: &VpcEndpoint,
    change: impl FnOnce(ModifyEndpoint) -> ModifyEndpoint,
) {
    let endpoint_id = id(endpoint);
    change(client.modify_vpc_endpoint().vpc_endpoint_id(&endpoint_id))
        .send()
        .await
        .unwrap_or_else(|e| panic!("modify {endpoint_id}: {e:?}"));
}

/// The ids of every endpoint matching `filters`, `max` a page.
async fn endpoint_pages(client: &ec2::Client, filters: Vec<Filter>, max: i32) -> Pages<String> {
    sent_pages(
        "describe page",
        |token| {
            client
                .describe_vpc_endpoints()
                .set_filters(Some(filters.clone()))
                .max_results(max)
                .set_next_token(token)
                .send()
        },
        |page| {
            (
                page.vpc_endpoints().iter().map(id).collect(),
                page.next_token,
            )
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn describe_vpc_endpoints_pages_a_thousand_at_a_time() {
    let (client, net) = new_network(10, false).await;
    let mut tasks = JoinSet::new();
    for worker in 0..8 {
        let client = client.clone();
        let vpc = net.vpc.clone();
        tasks.spawn(async move {
            for _ in (worker..1003).step_by(8) {
                client
                    .create_vpc_endpoint()
                    .vpc_id(&vpc)
                    .service_name(service("s3"))
                    .vpc_endpoint_type(VpcEndpointType::Gateway)
                    .tag_specifications(tags(&[("owner", "bulk")]))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("create: {e:?}"));
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap_or_else(|e| panic!("worker: {e:?}"));
    }

    let pages = endpoint_pages(&client, vec![filter("tag:owner", "bulk")], 1000).await;
    assert_eq!(pages.sizes(), vec![1000, 3]);
    assert_eq!(pages.items().iter().collect::<BTreeSet<_>>().len(), 1003);

    let capped = client
        .describe_vpc_endpoints()
        .max_results(5000)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    assert_eq!(capped.vpc_endpoints().len(), 1000);
    assert!(capped.next_token().is_some());
}

#[tokio::test]
async fn describe_vpc_endpoints_pages_with_max_results_and_next_token() {
    let (client, net) = new_network(11, false).await;
    let mut created = BTreeSet::new();
    for _ in 0..12 {
        created.insert(id(&gateway(&client, &net, "s3", "paged").await));
    }
    let pages = endpoint_pages(&client, vec![filter("tag:owner", "paged")], 5).await;
    assert_eq!(pages.sizes(), vec![5, 5, 2]);
    let ids = pages.items();
    assert_eq!(ids.len(), 12);
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), created);
}

#[tokio::test]
async fn describe_vpc_endpoints_without_max_results_returns_everything_in_one_reply() {
    let (client, net) = new_network(12, false).await;
    for _ in 0..7 {
        gateway(&client, &net, "dynamodb", "one-reply").await;
    }
    let reply = client
        .describe_vpc_endpoints()
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    assert_eq!(reply.vpc_endpoints().len(), 7);
    assert!(reply.next_token().is_none());
}

#[tokio::test]
async fn describe_vpc_endpoints_rejects_max_results_below_five() {
    let account = emulator().new_account();
    let client = client(&account).await;
    assert_fails_with_status(
        client.describe_vpc_endpoints().max_results(4).send().await,
        "InvalidParameterValue",
        400,
        "MaxResults 4 is below the minimum",
    );
}

#[tokio::test]
async fn describe_vpc_endpoints_filters_by_vpc_endpoint_id() {
    let (client, net) = new_network(13, false).await;
    let first = gateway(&client, &net, "s3", "x").await;
    gateway(&client, &net, "dynamodb", "x").await;
    let reply = client
        .describe_vpc_endpoints()
        .filters(filter("vpc-endpoint-id", &id(&first)))
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    let ids: Vec<String> = reply.vpc_endpoints().iter().map(id).collect();
    assert_eq!(ids, vec![id(&first)]);
}

#[tokio::test]
async fn describe_vpc_endpoints_filters_by_vpc_service_name_and_type() {
    let (client, net) = new_network(14, true).await;
    let other = network(&client, 15, true).await;
    let s3 = gateway(&client, &net, "s3", "x").await;
    let logs = interface(&client, &net, "logs").await;
    gateway(&client, &other, "s3", "x").await;

    let by = |name: &'static str, value: String| {
        let client = client.clone();
        async move {
            let reply = client
                .describe_vpc_endpoints()
                .filters(filter(name, &value))
                .send()
                .await
                .unwrap_or_else(|e| panic!("describe by {name}: {e:?}"));
            reply
                .vpc_endpoints()
                .iter()
                .map(id)
                .collect::<BTreeSet<_>>()
        }
    };
    assert_eq!(
        by("vpc-id", net.vpc.clone()).await,
        BTreeSet::from([id(&s3), id(&logs)])
    );
    assert_eq!(
        by("service-name", service("logs")).await,
        BTreeSet::from([id(&logs)])
    );
    assert_eq!(
        by("vpc-endpoint-type", "Interface".into()).await,
        BTreeSet::from([id(&logs)])
    );
    assert_eq!(by("vpc-endpoint-type", "Gateway".into()).await.len(), 2);
    assert_eq!(
        by("service-name", format!("com.amazonaws.{REGION}.s*"))
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn describe_vpc_endpoints_filters_by_tag_and_tag_key() {
    let (client, net) = new_network(16, false).await;
    let mine = gateway(&client, &net, "s3", "controller-a").await;
    let theirs = gateway(&client, &net, "dynamodb", "controller-b").await;
    let untagged = create(&client, &net, service("s3"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create: {e:?}"))
        .vpc_endpoint
        .unwrap_or_else(|| panic!("no endpoint"));

    let tagged = client
        .describe_vpc_endpoints()
        .filters(filter("tag:owner", "controller-a"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    assert_eq!(
        tagged.vpc_endpoints().iter().map(id).collect::<Vec<_>>(),
        vec![id(&mine)]
    );

    let keyed = client
        .describe_vpc_endpoints()
        .filters(filter("tag-key", "owner"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    let keyed: BTreeSet<String> = keyed.vpc_endpoints().iter().map(id).collect();
    assert_eq!(keyed, BTreeSet::from([id(&mine), id(&theirs)]));
    assert!(!keyed.contains(&id(&untagged)));
}

#[tokio::test]
async fn describe_vpc_endpoints_rejects_an_unknown_filter() {
    let account = emulator().new_account();
    let client = client(&account).await;
    let message = assert_fails_with_status(
        client
            .describe_vpc_endpoints()
            .filters(filter("owner", "x"))
            .send()
            .await,
        "InvalidParameterValue",
        400,
        "owner is not a filter of DescribeVpcEndpoints",
    );
    assert!(message.contains("owner"), "{message}");
}

#[tokio::test]
async fn create_vpc_endpoint_with_the_same_client_token_returns_the_same_endpoint() {
    let (client, net) = new_network(17, false).await;
    let create = || {
        create(&client, &net, service("s3"))
            .route_table_ids(&net.route_table)
            .client_token("ecs-topology/VpcEndpointSet/a@1")
            .send()
    };
    let first = create().await.unwrap_or_else(|e| panic!("first: {e:?}"));
    let second = create().await.unwrap_or_else(|e| panic!("retry: {e:?}"));
    assert_eq!(
        first.vpc_endpoint().map(id),
        second.vpc_endpoint().map(id),
        "a retry with the same token must not make a second endpoint"
    );
    assert_eq!(
        second.client_token(),
        Some("ecs-topology/VpcEndpointSet/a@1")
    );
    let all = client
        .describe_vpc_endpoints()
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    assert_eq!(all.vpc_endpoints().len(), 1);
}

#[tokio::test]
async fn create_vpc_endpoint_with_a_reused_client_token_and_other_parameters_fails() {
    let (client, net) = new_network(18, false).await;
    create(&client, &net, service("s3"))
        .client_token("token-1")
        .send()
        .await
        .unwrap_or_else(|e| panic!("first: {e:?}"));
    assert_fails_with_status(
        create(&client, &net, service("dynamodb"))
            .client_token("token-1")
            .send()
            .await,
        "IdempotentParameterMismatch",
        400,
        "same token, other service",
    );
}

#[tokio::test]
async fn new_endpoints_are_available_at_once_by_default() {
    let (client, net) = new_network(19, false).await;
    let endpoint = gateway(&client, &net, "s3", "x").await;
    assert_eq!(state(&endpoint), "available");
}

#[tokio::test]
async fn new_endpoints_are_pending_for_the_configured_time_then_available() {
    let account = emulator().new_account();
    emulator()
        .set_settings(&[&account], json!({"ec2.vpc_endpoint_pending": 1.5}))
        .await;
    let client = client(&account).await;
    let net = network(&client, 20, true).await;
    let started = Instant::now();
    let endpoint = interface(&client, &net, "ecr.api").await;
    assert_eq!(state(&endpoint), "pending");
    let pending = client
        .describe_vpc_endpoints()
        .filters(filter("vpc-endpoint-state", "pending"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    assert_eq!(pending.vpc_endpoints().len(), 1);
    loop {
        let now = describe_one(&client, &id(&endpoint)).await;
        if state(&now) == "available" {
            break;
        }
        assert_eq!(state(&now), "pending");
        assert!(started.elapsed() < Duration::from_secs(10), "still pending");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(started.elapsed() >= Duration::from_millis(1400));
}

#[tokio::test]
async fn create_vpc_endpoint_rejects_an_unknown_service_name() {
    let (client, net) = new_network(21, true).await;
    let name = service("ecs-agnet");
    let message = assert_fails_with_status(
        create(&client, &net, &name)
            .vpc_endpoint_type(VpcEndpointType::Interface)
            .subnet_ids(&net.subnets[0])
            .send()
            .await,
        "InvalidServiceName",
        400,
        "no such service",
    );
    assert_eq!(
        message,
        format!("The Vpc Endpoint Service '{name}' does not exist")
    );
}

#[tokio::test]
async fn create_vpc_endpoint_rejects_a_type_the_service_does_not_offer() {
    let (client, net) = new_network(22, false).await;
    let message = assert_fails_with(
        create(&client, &net, service("logs"))
            .vpc_endpoint_type(VpcEndpointType::Gateway)
            .route_table_ids(&net.route_table)
            .send()
            .await,
        "InvalidParameter",
        "logs has no gateway endpoints",
    );
    assert_eq!(
        message,
        "Endpoint type (Gateway) does not match available service types ([Interface])."
    );
}

#[tokio::test]
async fn interface_endpoints_get_dns_entries_network_interfaces_and_groups() {
    let (client, net) = new_network(23, true).await;
    let endpoint = interface(&client, &net, "secretsmanager").await;

    assert_eq!(
        endpoint.vpc_endpoint_type(),
        Some(&VpcEndpointType::Interface)
    );
    assert_eq!(endpoint.subnet_ids(), &net.subnets[..2]);
    assert_eq!(endpoint.network_interface_ids().len(), 2);
    let groups: Vec<_> = endpoint
        .groups()
        .iter()
        .filter_map(|g| g.group_id())
        .collect();
    assert_eq!(groups, vec![net.group.as_str()]);
    assert_eq!(endpoint.private_dns_enabled(), Some(true));
    let names: Vec<&str> = endpoint
        .dns_entries()
        .iter()
        .filter_map(|d| d.dns_name())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(
        names[0].starts_with(&format!("{}-", id(&endpoint))),
        "{names:?}"
    );
    assert!(names[0].ends_with(&format!(".secretsmanager.{REGION}.vpce.amazonaws.com")));
    assert!(names[1].contains(&format!("-{REGION}a.")), "{names:?}");
    assert!(names[2].contains(&format!("-{REGION}b.")), "{names:?}");
    assert_eq!(names[3], format!("secretsmanager.{REGION}.amazonaws.com"));
    assert!(
        endpoint
            .dns_entries()
            .iter()
            .all(|d| d.hosted_zone_id().is_some())
    );

    let enis = client
        .describe_network_interfaces()
        .set_network_interface_ids(Some(endpoint.network_interface_ids().to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe network interfaces: {e:?}"));
    assert_eq!(enis.network_interfaces().len(), 2);
}

#[tokio::test]
async fn interface_endpoints_use_the_vpc_default_security_group_when_none_is_given() {
    let (client, net) = new_network(24, true).await;
    let endpoint = create(&client, &net, service("ecs"))
        .vpc_endpoint_type(VpcEndpointType::Interface)
        .subnet_ids(&net.subnets[0])
        .send()
        .await
        .unwrap_or_else(|e| panic!("create: {e:?}"))
        .vpc_endpoint
        .unwrap_or_else(|| panic!("no endpoint"));
    let names: Vec<_> = endpoint
        .groups()
        .iter()
        .filter_map(|g| g.group_name())
        .collect();
    assert_eq!(names, vec!["default"]);
}

#[tokio::test]
async fn private_dns_requires_dns_support_and_hostnames_on_the_vpc() {
    let (client, net) = new_network(25, false).await;
    let message = assert_fails_with_status(
        create(&client, &net, service("ecs-agent"))
            .vpc_endpoint_type(VpcEndpointType::Interface)
            .subnet_ids(&net.subnets[0])
            .send()
            .await,
        "InvalidParameter",
        400,
        "private DNS is on by default and the VPC has no DNS hostnames",
    );
    assert_eq!(
        message,
        format!(
            "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC \
             attributes set to true for {}",
            net.vpc
        )
    );

    let without = create(&client, &net, service("ecs-agent"))
        .vpc_endpoint_type(VpcEndpointType::Interface)
        .subnet_ids(&net.subnets[0])
        .private_dns_enabled(false)
        .send()
        .await
        .unwrap_or_else(|e| panic!("without private DNS: {e:?}"))
        .vpc_endpoint
        .unwrap_or_else(|| panic!("no endpoint"));
    assert_eq!(without.private_dns_enabled(), Some(false));

    assert_fails_with(
        client
            .modify_vpc_endpoint()
            .vpc_endpoint_id(id(&without))
            .private_dns_enabled(true)
            .send()
            .await,
        "InvalidParameter",
        "turning private DNS on needs the VPC attributes too",
    );
}

#[tokio::test]
async fn a_second_private_dns_endpoint_for_a_service_in_the_same_vpc_is_rejected() {
    let (client, net) = new_network(26, true).await;
    interface(&client, &net, "logs").await;
    let message = assert_fails_with(
        create(&client, &net, service("logs"))
            .vpc_endpoint_type(VpcEndpointType::Interface)
            .subnet_ids(&net.subnets[2])
            .send()
            .await,
        "InvalidParameter",
        "the private DNS name is taken",
    );
    assert!(message.contains("conflicting DNS domain"), "{message}");
}

#[tokio::test]
async fn modify_vpc_endpoint_applies_private_dns_enabled() {
    let (client, net) = new_network(27, true).await;
    let endpoint = interface(&client, &net, "ecr.dkr").await;
    modify(&client, &endpoint, |call| call.private_dns_enabled(false)).await;
    let off = describe_one(&client, &id(&endpoint)).await;
    assert_eq!(off.private_dns_enabled(), Some(false));
    assert_eq!(
        off.dns_entries().len(),
        3,
        "regional and two zonal names remain"
    );

    modify(&client, &endpoint, |call| call.private_dns_enabled(true)).await;
    let on = describe_one(&client, &id(&endpoint)).await;
    assert_eq!(on.private_dns_enabled(), Some(true));
    let last = on.dns_entries().last().and_then(|d| d.dns_name());
    assert_eq!(
        last,
        Some(format!("*.dkr.ecr.{REGION}.amazonaws.com").as_str())
    );
}

#[tokio::test]
async fn modify_vpc_endpoint_reset_policy_restores_the_default_policy() {
    let (client, net) = new_network(28, false).await;
    let endpoint = gateway(&client, &net, "s3", "x").await;
    let custom = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
    modify(&client, &endpoint, |call| call.policy_document(custom)).await;
    assert_eq!(
        describe_one(&client, &id(&endpoint))
            .await
            .policy_document(),
        Some(custom)
    );
    modify(&client, &endpoint, |call| call.reset_policy(true)).await;
    assert_eq!(
        describe_one(&client, &id(&endpoint))
            .await
            .policy_document(),
        Some(DEFAULT_POLICY)
    );
}

#[tokio::test]
async fn modify_vpc_endpoint_adds_and_removes_subnets_and_security_groups() {
    let (client, net) = new_network(29, true).await;
    let endpoint = interface(&client, &net, "ecs-telemetry").await;
    let extra = client
        .create_security_group()
        .vpc_id(&net.vpc)
        .group_name("extra")
        .description("extra")
        .send()
        .await
        .unwrap_or_else(|e| panic!("group: {e:?}"))
        .group_id
        .unwrap_or_else(|| panic!("no group id"));
    modify(&client, &endpoint, |call| {
        call.add_subnet_ids(&net.subnets[2])
            .remove_subnet_ids(&net.subnets[0])
            .add_security_group_ids(&extra)
            .remove_security_group_ids(&net.group)
    })
    .await;
    let now = describe_one(&client, &id(&endpoint)).await;
    assert_eq!(
        now.subnet_ids(),
        &[net.subnets[1].clone(), net.subnets[2].clone()]
    );
    assert_eq!(now.network_interface_ids().len(), 2);
    let groups: Vec<_> = now.groups().iter().filter_map(|g| g.group_id()).collect();
    assert_eq!(groups, vec![extra.as_str()]);
}

#[tokio::test]
async fn gateway_endpoints_route_the_service_prefix_list_in_their_route_tables() {
    let (client, net) = new_network(30, false).await;
    let endpoint = routed(&client, &net, "dynamodb").await;
    assert_eq!(
        endpoint.route_table_ids(),
        std::slice::from_ref(&net.route_table)
    );
    let routes = client
        .describe_route_tables()
        .route_table_ids(&net.route_table)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe route tables: {e:?}"));
    let via: Vec<_> = routes.route_tables()[0]
        .routes()
        .iter()
        .filter(|r| r.destination_prefix_list_id().is_some())
        .filter_map(|r| r.gateway_id())
        .collect();
    assert_eq!(via, vec![id(&endpoint).as_str()]);
}

#[tokio::test]
async fn modify_vpc_endpoint_adds_and_removes_route_tables_with_their_routes() {
    let (client, net) = new_network(31, false).await;
    let second = client
        .create_route_table()
        .vpc_id(&net.vpc)
        .send()
        .await
        .unwrap_or_else(|e| panic!("route table: {e:?}"))
        .route_table
        .and_then(|r| r.route_table_id)
        .unwrap_or_else(|| panic!("no route table id"));
    let endpoint = routed(&client, &net, "s3").await;
    modify(&client, &endpoint, |call| {
        call.add_route_table_ids(&second)
            .remove_route_table_ids(&net.route_table)
    })
    .await;
    assert_eq!(
        describe_one(&client, &id(&endpoint))
            .await
            .route_table_ids(),
        std::slice::from_ref(&second)
    );
    let endpoint_routes = |table: String| {
        let client = client.clone();
        async move {
            client
                .describe_route_tables()
                .route_table_ids(table)
                .send()
                .await
                .unwrap_or_else(|e| panic!("describe route tables: {e:?}"))
                .route_tables()[0]
                .routes()
                .iter()
                .filter(|r| r.destination_prefix_list_id().is_some())
                .count()
        }
    };
    assert_eq!(endpoint_routes(net.route_table.clone()).await, 0);
    assert_eq!(endpoint_routes(second).await, 1);
}

#[tokio::test]
async fn tag_specifications_on_create_are_returned_by_describe() {
    let (client, net) = new_network(32, false).await;
    let created = create(&client, &net, service("s3"))
        .tag_specifications(tags(&[
            ("ecs-topology.dev/owner", "prod-controller"),
            ("ecs-topology.dev/key", "VpcEndpointSet/private"),
        ]))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create: {e:?}"))
        .vpc_endpoint
        .unwrap_or_else(|| panic!("no endpoint"));
    assert_eq!(created.tags().len(), 2);
    let described = describe_one(&client, &id(&created)).await;
    let pairs: BTreeSet<(&str, &str)> = described
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?, t.value()?)))
        .collect();
    assert_eq!(
        pairs,
        BTreeSet::from([
            ("ecs-topology.dev/owner", "prod-controller"),
            ("ecs-topology.dev/key", "VpcEndpointSet/private"),
        ])
    );
}

#[tokio::test]
async fn deleted_endpoints_are_gone_from_describe_by_default() {
    let (client, net) = new_network(33, false).await;
    let endpoint = routed(&client, &net, "s3").await;
    let reply = client
        .delete_vpc_endpoints()
        .vpc_endpoint_ids(id(&endpoint))
        .send()
        .await
        .unwrap_or_else(|e| panic!("delete: {e:?}"));
    assert!(reply.unsuccessful().is_empty());
    let all = client
        .describe_vpc_endpoints()
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    assert!(all.vpc_endpoints().is_empty());
    assert_fails_with(
        client
            .describe_vpc_endpoints()
            .vpc_endpoint_ids(id(&endpoint))
            .send()
            .await,
        "InvalidVpcEndpointId.NotFound",
        "a deleted endpoint is unknown",
    );
    let routes = client
        .describe_route_tables()
        .route_table_ids(&net.route_table)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe route tables: {e:?}"));
    assert!(
        routes.route_tables()[0]
            .routes()
            .iter()
            .all(|r| r.destination_prefix_list_id().is_none())
    );
}

#[tokio::test]
async fn deleted_endpoints_stay_listed_as_deleted_for_the_configured_time() {
    let account = emulator().new_account();
    emulator()
        .set_settings(
            &[&account],
            json!({"ec2.vpc_endpoint_deleted_visible": 1.5}),
        )
        .await;
    let client = client(&account).await;
    let net = network(&client, 34, false).await;
    let endpoint = gateway(&client, &net, "s3", "x").await;
    client
        .delete_vpc_endpoints()
        .vpc_endpoint_ids(id(&endpoint))
        .send()
        .await
        .unwrap_or_else(|e| panic!("delete: {e:?}"));
    let deleted = client
        .describe_vpc_endpoints()
        .filters(filter("vpc-endpoint-state", "deleted"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    assert_eq!(
        deleted.vpc_endpoints().iter().map(id).collect::<Vec<_>>(),
        vec![id(&endpoint)]
    );
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let later = client
        .describe_vpc_endpoints()
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    assert!(later.vpc_endpoints().is_empty());
}

#[tokio::test]
async fn delete_vpc_endpoints_reports_unknown_ids_as_unsuccessful() {
    let account = emulator().new_account();
    let client = client(&account).await;
    let reply = client
        .delete_vpc_endpoints()
        .vpc_endpoint_ids("vpce-0123456789abcdef0")
        .send()
        .await
        .unwrap_or_else(|e| panic!("delete: {e:?}"));
    let failed = reply.unsuccessful();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].resource_id(), Some("vpce-0123456789abcdef0"));
    assert_eq!(
        failed[0].error().and_then(|e| e.code()),
        Some("InvalidVpcEndpoint.NotFound")
    );
}

//! VPC endpoint sets end to end: the binary against the emulator's EC2.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{Tag, TagSpecification, VpcEndpoint, VpcEndpointType};
use ecs_topology_testkit::emulator;
use serde_json::{Value, json};

use crate::world::*;

/// Endpoint changes as fast as the emulator takes them (AWS allows a burst of 4, then 0.3/s).
const FAST: &str =
    "rateBudgets:\n  'ec2:vpc-endpoint-mutate': {burst: 1000, refillPerSecond: 1000}\n";

const NO_PRIVATE_DNS: &str = "  privateDns: false\n";

/// `endpoint_set_doc` in the server account, with nothing added to the metadata or spec.
fn set_doc(name: &str, net: &Network, interface: &[&str], gateway: &[&str]) -> String {
    endpoint_set_doc(name, "server", net, interface, gateway, "", "")
}

/// A world and a [`Network`] `10.{n}.0.0/16` of the server account, with the set `name` written
/// to `endpoints.yaml` (not applied).
async fn set_written(n: u8, name: &str, interface: &[&str], gateway: &[&str]) -> (World, Network) {
    let w = World::new();
    let net = w.network(&w.server, n, true).await;
    w.write("endpoints.yaml", &set_doc(name, &net, interface, gateway));
    (w, net)
}

fn short(e: &VpcEndpoint) -> String {
    let name = e.service_name().unwrap();
    name.splitn(4, '.').nth(3).unwrap().to_owned()
}

fn state(e: &VpcEndpoint) -> &str {
    e.state().unwrap().as_str()
}

fn tags(e: &VpcEndpoint) -> BTreeMap<String, String> {
    e.tags()
        .iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect()
}

fn policy(e: &VpcEndpoint) -> Value {
    serde_json::from_str(e.policy_document().unwrap()).unwrap()
}

/// Asserts that `e` carries the controller's ownership tags for `key` and the document's tag.
#[track_caller]
fn assert_owned(w: &World, e: &VpcEndpoint, key: &str) {
    let tags = tags(e);
    assert_eq!(tags["ecs-topology.dev/owner"], w.controller);
    assert_eq!(tags["ecs-topology.dev/key"], key);
    assert_eq!(tags["team"], "platform");
}

/// The short service names of the endpoints of `net`, sorted.
async fn services(w: &World, net: &Network) -> Vec<String> {
    let mut services: Vec<String> = w.vpc_endpoints(net).await.iter().map(short).collect();
    services.sort();
    services
}

#[tokio::test]
async fn a_private_vpc_gets_its_endpoints_in_order_and_a_converged_rerun_only_reads() {
    let (w, net) = set_written(
        10,
        "private",
        &["ecs", "ecs-telemetry", "ecs-agent"],
        &["s3"],
    )
    .await;

    let plan = w.plan_exits(2);
    assert_has(&plan, "create VpcEndpointSet/private");
    let at = |s: &str| plan.find(s).unwrap_or_else(|| panic!("{s} in {plan}"));
    assert!(at("+ endpoints.ecs-agent:") < at("+ endpoints.ecs-telemetry:"));
    assert!(at("+ endpoints.ecs-telemetry:") < at("+ endpoints.ecs:"));

    // Four endpoints fit AWS's burst of endpoint changes: the default budget is used.
    let out = w.apply_exits(0);
    assert_has(&out, "VpcEndpointSet/private: created");
    let endpoints = w.vpc_endpoints(&net).await;
    assert_eq!(endpoints.len(), 4, "{endpoints:?}");
    assert!(endpoints.iter().all(|e| state(e) == "available"));
    let ecs_order: Vec<String> = endpoints
        .iter()
        .map(short)
        .filter(|s| s.starts_with("ecs"))
        .collect();
    assert_eq!(
        ecs_order,
        ["ecs-agent", "ecs-telemetry", "ecs"],
        "created in the order AWS needs"
    );
    for e in &endpoints {
        assert_owned(&w, e, "VpcEndpointSet/private");
        if e.vpc_endpoint_type() == Some(&VpcEndpointType::Interface) {
            assert_eq!(e.private_dns_enabled(), Some(true));
            let mut subnets = e.subnet_ids().to_vec();
            subnets.sort();
            let mut want = net.subnets.clone();
            want.sort();
            assert_eq!(subnets, want);
            assert_eq!(e.groups().len(), 2);
        } else {
            assert_eq!(e.route_table_ids(), std::slice::from_ref(&net.route_table));
        }
    }
    let status = w.status("VpcEndpointSet/private");
    let ready = condition(&status, "Ready");
    assert_eq!(ready["status"], "True", "{status}");
    assert_eq!(
        ready["message"], "all 4 endpoints are available",
        "{status}"
    );

    // A converged set plans nothing, and applying it makes one observation pass.
    w.plan_exits(0);
    let (_, calls) = w.apply_counted(0).await;
    calls.assert_read_only(&w.server);
    assert_eq!(
        calls.count(&w.server, "DescribeVpcEndpoints"),
        1,
        "one observation pass: {:?}",
        calls.operations(&w.server)
    );
}

#[tokio::test]
async fn endpoints_pending_for_a_while_are_waited_on_until_available() {
    let (w, net) = set_written(11, "slow", &["logs", "secretsmanager"], &["s3"]).await;
    emulator()
        .set_settings(&[&w.server], json!({"ec2.vpc_endpoint_pending": 2}))
        .await;
    let started = Instant::now();
    let (_, calls) = w.apply_counted(0).await;
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2), "it waited: {took:?}");
    let endpoints = w.vpc_endpoints(&net).await;
    assert_eq!(endpoints.len(), 3);
    assert!(endpoints.iter().all(|e| state(e) == "available"));
    w.assert_condition("VpcEndpointSet/slow", "Ready", "True");
    assert_eq!(calls.count(&w.server, "CreateVpcEndpoint"), 3);
    assert!(
        calls.count(&w.server, "DescribeVpcEndpoints") > 2,
        "polled while pending: {:?}",
        calls.operations(&w.server)
    );
}

#[tokio::test]
async fn drift_by_another_client_is_planned_field_by_field_and_corrected_in_place() {
    let (w, net) = set_written(12, "drifting", &["ecr.api", "ecr.dkr", "logs"], &["s3"]).await;
    w.apply_exits(0);
    let ids: BTreeMap<String, String> = w
        .vpc_endpoints(&net)
        .await
        .iter()
        .map(|e| (short(e), e.vpc_endpoint_id().unwrap().to_owned()))
        .collect();

    // Another client removes a security group, turns private DNS off and changes a policy.
    let ec2 = w.ec2(&w.server).await;
    let modify = |service: &str| ec2.modify_vpc_endpoint().vpc_endpoint_id(&ids[service]);
    let deny = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]});
    for change in [
        modify("logs").remove_security_group_ids(&net.security_groups[1]),
        modify("ecr.api").private_dns_enabled(false),
        modify("ecr.dkr").policy_document(deny.to_string()),
    ] {
        change.send().await.unwrap();
    }

    let plan = w.plan_exits(2);
    assert_has(&plan, "update VpcEndpointSet/drifting");
    let mut groups = net.security_groups.clone();
    groups.sort();
    assert_has(
        &plan,
        &format!(
            "~ endpoints.logs.securityGroupIds: [\"{}\"] -> {}",
            net.security_groups[0],
            json!(groups)
        ),
    );
    assert_has(&plan, "~ endpoints.ecr.api.privateDns: false -> true");
    assert_has(&plan, "- endpoints.ecr.dkr.policy: ");
    assert_eq!(
        change_paths(&w.planned("VpcEndpointSet", "drifting")),
        [
            "endpoints.ecr.api.privateDns",
            "endpoints.ecr.dkr.policy",
            "endpoints.logs.securityGroupIds"
        ]
    );

    let (out, calls) = w.apply_counted(0).await;
    assert_has(&out, "VpcEndpointSet/drifting: updated");
    let ops = calls.operations(&w.server);
    assert_eq!(ops.get("ModifyVpcEndpoint"), Some(&3), "{ops:?}");
    assert_eq!(ops.get("CreateVpcEndpoint"), None, "in place: {ops:?}");
    assert_eq!(ops.get("DeleteVpcEndpoints"), None, "in place: {ops:?}");

    // Corrected.
    w.plan_exits(0);
    let now: BTreeMap<String, VpcEndpoint> = w
        .vpc_endpoints(&net)
        .await
        .into_iter()
        .map(|e| (short(&e), e))
        .collect();
    for (service, id) in &ids {
        assert_eq!(now[service].vpc_endpoint_id(), Some(id.as_str()));
    }
    assert_eq!(now["logs"].groups().len(), 2);
    assert_eq!(now["ecr.api"].private_dns_enabled(), Some(true));
    assert_eq!(
        policy(&now["ecr.dkr"])["Statement"][0]["Effect"],
        "Allow",
        "back to AWS's default policy"
    );
}

#[tokio::test]
async fn a_policy_differing_only_in_formatting_or_statement_order_is_not_drift() {
    let w = World::new();
    let net = w.network(&w.server, 13, true).await;
    let policy_yaml = "  policy:\n    Version: '2012-10-17'\n    Statement:\n      - {Sid: Pull, Effect: Allow, Principal: '*', Action: [ecr:BatchGetImage, ecr:GetDownloadUrlForLayer], Resource: '*'}\n      - {Sid: Logs, Effect: Allow, Principal: '*', Action: logs:PutLogEvents, Resource: '*'}\n";
    let doc = endpoint_set_doc(
        "policed",
        "server",
        &net,
        &["ecr.api"],
        &["s3"],
        "",
        policy_yaml,
    );
    w.write("endpoints.yaml", &doc);
    w.apply_exits(0);
    w.plan_exits(0);

    // The same policy, reordered and reformatted by another client.
    let same = "{\n  \"Statement\": [\n    {\"Resource\": [\"*\"], \"Action\": [\"logs:putlogevents\"], \"Principal\": {\"AWS\": \"*\"}, \"Effect\": \"Allow\", \"Sid\": \"Logs\"},\n    {\"Sid\": \"Pull\", \"Effect\": \"Allow\", \"Principal\": {\"AWS\": [\"*\"]},\n     \"Action\": [\"ecr:GetDownloadUrlForLayer\", \"ecr:BatchGetImage\"], \"Resource\": \"*\"}\n  ],\n  \"Version\": \"2012-10-17\"\n}";
    let ec2 = w.ec2(&w.server).await;
    let api = w.vpc_endpoint(&net, "ecr.api").await;
    let set_policy = |policy: &str| {
        ec2.modify_vpc_endpoint()
            .vpc_endpoint_id(api.vpc_endpoint_id().unwrap())
            .policy_document(policy)
            .send()
    };
    set_policy(same).await.unwrap();
    assert_eq!(
        w.vpc_endpoint(&net, "ecr.api").await.policy_document(),
        Some(same)
    );
    // Not drift.
    w.plan_exits(0);
    let (_, calls) = w.apply_counted(0).await;
    calls.assert_read_only(&w.server);

    // A change of meaning is drift.
    let denied = same.replacen(
        "\"Effect\": \"Allow\", \"Sid\": \"Logs\"",
        "\"Effect\": \"Deny\", \"Sid\": \"Logs\"",
        1,
    );
    assert_ne!(denied, same);
    set_policy(&denied).await.unwrap();
    let plan = w.plan_exits(2);
    assert_has(&plan, "~ endpoints.ecr.api.policy: ");
}

#[tokio::test]
async fn a_removed_set_is_pruned_and_one_recording_retain_is_kept() {
    let w = World::new();
    let pruned = w.network(&w.server, 14, true).await;
    let kept = w.network(&w.server, 15, true).await;
    let stays = w.network(&w.server, 16, true).await;
    w.write(
        "pruned.yaml",
        &set_doc("pruned", &pruned, &["logs"], &["s3"]),
    );
    w.write(
        "kept.yaml",
        &endpoint_set_doc("kept", "server", &kept, &["logs"], &[], RETAIN, ""),
    );
    w.write("stays.yaml", &set_doc("stays", &stays, &[], &["dynamodb"]));
    w.apply_exits(0);
    assert_eq!(w.vpc_endpoints(&pruned).await.len(), 2);
    assert_eq!(w.vpc_endpoints(&kept).await.len(), 1);

    w.remove("pruned.yaml");
    w.remove("kept.yaml");
    let plan = w.plan_exits(2);
    assert_has(&plan, "delete VpcEndpointSet/pruned");
    assert_has(&plan, "- endpoints.logs: ");
    assert_has(&plan, "- endpoints.s3: ");
    assert_has(&plan, "retain VpcEndpointSet/kept");

    let (out, calls) = w.apply_counted(0).await;
    assert_has(&out, "VpcEndpointSet/pruned: deleted");
    assert_has(&out, "VpcEndpointSet/kept: retained");
    assert_eq!(
        calls.count(&w.server, "DeleteVpcEndpoints"),
        1,
        "both endpoints in one call: {:?}",
        calls.operations(&w.server)
    );
    assert!(w.vpc_endpoints(&pruned).await.is_empty());
    let left = w.vpc_endpoints(&kept).await;
    assert_eq!(left.len(), 1);
    assert_eq!(state(&left[0]), "available");
    assert_eq!(w.vpc_endpoints(&stays).await.len(), 1);
    w.plan_exits(0);
}

#[tokio::test]
async fn an_unowned_look_alike_is_left_alone_unless_the_document_says_adopt() {
    let w = World::new();
    let net = w.network(&w.server, 17, true).await;
    let ec2 = w.ec2(&w.server).await;
    let manual = ec2
        .create_vpc_endpoint()
        .vpc_id(&net.vpc)
        .vpc_endpoint_type(VpcEndpointType::Interface)
        .service_name(format!("com.amazonaws.{REGION}.logs"))
        .set_subnet_ids(Some(net.subnets.clone()))
        .security_group_ids(&net.security_groups[0])
        .private_dns_enabled(true)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::VpcEndpoint)
                .tags(Tag::builder().key("team").value("manual").build())
                .build(),
        )
        .send()
        .await
        .unwrap()
        .vpc_endpoint
        .unwrap()
        .vpc_endpoint_id
        .unwrap();
    let doc = |meta: &str| endpoint_set_doc("logs", "server", &net, &["logs"], &["s3"], meta, "");
    w.write("endpoints.yaml", &doc(""));

    let plan = w.plan_exits(2);
    assert_has(&plan, "blocked VpcEndpointSet/logs");
    assert_has(&plan, &manual);
    assert_has(&plan, "not managed by ecs-topology");
    let (out, calls) = w.apply_counted(1).await;
    assert_has(&out, "VpcEndpointSet/logs: blocked");
    calls.assert_read_only(&w.server);
    let endpoints = w.vpc_endpoints(&net).await;
    assert_eq!(endpoints.len(), 1, "nothing created beside it");
    assert_eq!(
        tags(&endpoints[0]),
        BTreeMap::from([("team".to_owned(), "manual".to_owned())])
    );

    w.write("endpoints.yaml", &doc(ADOPT));
    let plan = w.plan_exits(2);
    assert_has(&plan, "adopt VpcEndpointSet/logs");
    let out = w.apply_exits(0);
    assert_has(&out, "VpcEndpointSet/logs: adopted");
    let logs = w.vpc_endpoint(&net, "logs").await;
    assert_eq!(logs.vpc_endpoint_id(), Some(manual.as_str()), "taken over");
    assert_owned(&w, &logs, "VpcEndpointSet/logs");
    assert_eq!(logs.groups().len(), 2, "its fields follow the document");
    assert_eq!(w.vpc_endpoints(&net).await.len(), 2);
    w.plan_exits(0);
}

#[tokio::test]
async fn preflight_problems_fail_the_set_with_a_clear_message_and_change_nothing() {
    let w = World::new();
    let net = w.network(&w.server, 18, false).await;
    w.write("endpoints.yaml", &set_doc("no-dns", &net, &["logs"], &[]));
    let (out, calls) = w.apply_counted(1).await;
    assert_has(&out, "VpcEndpointSet/no-dns: failed");
    let expected = format!(
        "private DNS needs the VPC attributes enableDnsSupport and enableDnsHostnames, and \
         enableDnsHostnames of {} is off",
        net.vpc
    );
    assert_has(&out, &expected);
    calls.assert_read_only(&w.server);
    let status = w.status("VpcEndpointSet/no-dns");
    let synced = condition(&status, "Synced");
    assert_eq!(synced["status"], "False", "{status}");
    assert!(
        synced["message"].as_str().unwrap().contains(&expected),
        "{status}"
    );
    assert_eq!(condition(&status, "Ready")["status"], "False", "{status}");

    // Only the group admitting nothing: the subnets cannot reach the endpoints.
    let without_dns =
        endpoint_set_doc("no-dns", "server", &net, &["logs"], &[], "", NO_PRIVATE_DNS);
    let audit_only = without_dns.replace(
        &format!("securityGroupIds: [{}]", net.security_groups.join(", ")),
        &format!("securityGroupIds: [{}]", net.security_groups[1]),
    );
    w.write("endpoints.yaml", &audit_only);
    let out = w.apply_exits(1);
    assert_has(
        &out,
        &format!(
            "the security groups {} do not admit TCP 443 from {} (10.18.1.0/24), {} (10.18.2.0/24)",
            net.security_groups[1], net.subnets[0], net.subnets[1]
        ),
    );
    assert!(w.vpc_endpoints(&net).await.is_empty());

    // Without private DNS and with the group that admits 443, the set is made.
    w.write("endpoints.yaml", &without_dns);
    w.apply_exits(0);
    let logs = w.vpc_endpoint(&net, "logs").await;
    assert_eq!(logs.private_dns_enabled(), Some(false));
}

/// The interface services of the large test: all known ones but `s3` (a gateway here) and
/// `elasticfilesystem`: eighteen.
fn eighteen() -> Vec<&'static str> {
    let services: Vec<&str> = ecs_topology_core::validate::INTERFACE_SERVICES
        .into_iter()
        .filter(|s| !["s3", "elasticfilesystem"].contains(s))
        .collect();
    assert_eq!(services.len(), 18);
    services
}

#[tokio::test]
async fn two_hundred_endpoints_in_one_account_region_converge_and_a_rerun_reads_one_page() {
    let w = World::new();
    w.write_config(FAST);
    let eighteen = eighteen();
    for n in 0..10u8 {
        let net = w.network(&w.server, 100 + n, true).await;
        let name = format!("set-{n}");
        let doc = set_doc(&name, &net, &eighteen, &["s3", "dynamodb"]);
        w.write(&format!("{name}.yaml"), &doc);
    }
    let started = Instant::now();
    let (_, first) = w.apply_counted(0).await;
    let took = started.elapsed();
    let ours = ec2_filter("tag:ecs-topology.dev/owner", &w.controller);
    let owned = w.vpc_endpoints_where(&w.server, REGION, ours).await;
    assert_eq!(owned.len(), 200);
    assert!(owned.iter().all(|e| state(e) == "available"));

    w.plan_exits(0);
    let (_, rerun) = w.apply_counted(0).await;
    assert_eq!(
        rerun.count(&w.server, "DescribeVpcEndpoints"),
        1,
        "{:?}",
        rerun.operations(&w.server)
    );
    rerun.assert_read_only(&w.server);
    eprintln!(
        "200 endpoints: first apply {took:?}, {:?}; re-run {:?}",
        first.operations(&w.server),
        rerun.operations(&w.server)
    );
}

#[tokio::test]
async fn the_private_vpc_example_converges_with_its_ids_replaced_by_the_emulators() {
    let w = World::new();
    w.write_config_with(&[("workloads", &w.server)], &["eu-west-1"], FAST);
    let net = w.network_in(&w.server, "eu-west-1", 20, true).await;
    let ids = [
        ("vpc-0a1b2c3d4e5f60718", net.vpc.as_str()),
        ("subnet-0a1b2c3d4e5f60711", net.subnets[0].as_str()),
        ("subnet-0a1b2c3d4e5f60712", net.subnets[1].as_str()),
        ("sg-0a1b2c3d4e5f60713", net.security_groups[0].as_str()),
        ("rtb-0a1b2c3d4e5f60714", net.route_table.as_str()),
    ];
    w.write(
        "endpoints.yaml",
        &example_doc("private-vpc/endpoints.yaml", &ids),
    );

    let plan = w.plan_exits(2);
    assert_has(&plan, "create VpcEndpointSet/workloads-private");
    w.apply_exits(0);
    assert_eq!(
        services(&w, &net).await,
        [
            "dynamodb",
            "ecr.api",
            "ecr.dkr",
            "ecs",
            "ecs-agent",
            "ecs-telemetry",
            "logs",
            "s3",
            "secretsmanager"
        ]
    );
    let endpoints = w.vpc_endpoints(&net).await;
    assert!(endpoints.iter().all(|e| state(e) == "available"));
    w.assert_condition("VpcEndpointSet/workloads-private", "Ready", "True");
    w.plan_exits(0);
}

#[tokio::test]
async fn services_added_and_dropped_change_the_set_and_a_move_to_another_vpc_replaces_it() {
    let w = World::new();
    let first = w.network(&w.server, 19, true).await;
    let second = w.network(&w.server, 21, true).await;
    let doc = |net: &Network, interface: &[&str]| set_doc("moving", net, interface, &["s3"]);
    w.write("endpoints.yaml", &doc(&first, &["logs", "secretsmanager"]));
    w.apply_exits(0);
    let logs = w.vpc_endpoint(&first, "logs").await;

    w.write("endpoints.yaml", &doc(&first, &["logs", "sts"]));
    let plan = w.plan_exits(2);
    assert_has(&plan, "- endpoints.secretsmanager: ");
    assert_has(&plan, "+ endpoints.sts: ");
    w.apply_exits(0);
    assert_eq!(services(&w, &first).await, ["logs", "s3", "sts"]);
    assert_eq!(
        w.vpc_endpoint(&first, "logs").await.vpc_endpoint_id(),
        logs.vpc_endpoint_id(),
        "the endpoint kept is not touched"
    );

    w.write("endpoints.yaml", &doc(&second, &["logs", "sts"]));
    let plan = w.plan_exits(2);
    assert_has(&plan, "an endpoint cannot move to another VPC");
    let (_, calls) = w.apply_counted(0).await;
    let ops = calls.operations(&w.server);
    assert_eq!(ops.get("DeleteVpcEndpoints"), Some(&1), "{ops:?}");
    assert_eq!(ops.get("CreateVpcEndpoint"), Some(&3), "{ops:?}");
    assert!(w.vpc_endpoints(&first).await.is_empty());
    assert_eq!(services(&w, &second).await, ["logs", "s3", "sts"]);
    w.assert_condition("VpcEndpointSet/moving", "Ready", "True");
    w.plan_exits(0);
}

#[tokio::test]
async fn an_endpoint_whose_type_changes_is_replaced_in_the_same_vpc() {
    let w = World::new();
    let net = w.network(&w.server, 22, true).await;
    let doc = |interface: &[&str], gateway: &[&str]| {
        endpoint_set_doc("s3", "server", &net, interface, gateway, "", NO_PRIVATE_DNS)
    };
    w.write("endpoints.yaml", &doc(&["s3"], &[]));
    w.apply_exits(0);
    let old = w.vpc_endpoint(&net, "s3").await;
    assert_eq!(old.vpc_endpoint_type(), Some(&VpcEndpointType::Interface));

    w.write("endpoints.yaml", &doc(&[], &["s3"]));
    let plan = w.plan_exits(2);
    assert_has(&plan, "an endpoint cannot change its type");
    assert_has(
        &plan,
        &format!("\"replaces\":\"{}\"", old.vpc_endpoint_id().unwrap()),
    );
    w.apply_exits(0);
    let endpoints = w.vpc_endpoints(&net).await;
    assert_eq!(endpoints.len(), 1, "{endpoints:?}");
    assert_eq!(
        endpoints[0].vpc_endpoint_type(),
        Some(&VpcEndpointType::Gateway)
    );
    assert_ne!(endpoints[0].vpc_endpoint_id(), old.vpc_endpoint_id());
    assert_eq!(
        endpoints[0].route_table_ids(),
        std::slice::from_ref(&net.route_table)
    );
    w.plan_exits(0);
}

#[tokio::test]
async fn an_endpoint_deleted_by_hand_is_created_again_though_its_token_names_the_deleted_one() {
    let (w, net) = set_written(23, "again", &["logs"], &["s3"]).await;
    // Deleted endpoints stay listed as `deleted`, and EC2 still answers their create token.
    emulator()
        .set_settings(
            &[&w.server],
            json!({"ec2.vpc_endpoint_deleted_visible": 60}),
        )
        .await;
    w.apply_exits(0);
    let logs = w.vpc_endpoint(&net, "logs").await;
    w.ec2(&w.server)
        .await
        .delete_vpc_endpoints()
        .vpc_endpoint_ids(logs.vpc_endpoint_id().unwrap())
        .send()
        .await
        .unwrap();

    let plan = w.plan_exits(2);
    assert_has(&plan, "+ endpoints.logs: ");
    let (_, calls) = w.apply_counted(0).await;
    let ops = calls.operations(&w.server);
    assert_eq!(
        ops.get("CreateVpcEndpoint"),
        Some(&2),
        "the first token answered the deleted endpoint: {ops:?}"
    );
    let again = w.vpc_endpoint(&net, "logs").await;
    assert_ne!(again.vpc_endpoint_id(), logs.vpc_endpoint_id());
    assert_eq!(state(&again), "available");
    w.plan_exits(0);
}

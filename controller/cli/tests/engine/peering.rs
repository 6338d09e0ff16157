//! VPC peerings end to end: the binary against the emulator's EC2, across the two accounts of
//! the reference topology (the server VPC 10.0.0.0/16, the client VPC 172.31.0.0/16).

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{PeeringConnectionOptionsRequest, VpcPeeringConnection};

use crate::world::*;

/// One side of a peering: a VPC with DNS support and host names, and one route table.
#[derive(Debug, Clone)]
struct Side {
    account: String,
    vpc: String,
    route_table: String,
}

impl World {
    async fn peering_side(&self, account: &str, cidr: &str) -> Side {
        let ec2 = self.ec2(account).await;
        let vpc = dns_vpc(&ec2, cidr, true).await;
        let route_table = new_route_table(&ec2, &vpc).await;
        Side {
            account: account.to_owned(),
            vpc,
            route_table,
        }
    }

    /// The server side (10.0.0.0/16) and the client side (`client_cidr`), with the peering
    /// `server-to-client` of the two written to `peering.yaml` (not applied).
    async fn peering_written(&self, client_cidr: &str) -> (Side, Side) {
        let server = self.peering_side(&self.server, "10.0.0.0/16").await;
        let client = self.peering_side(&self.client, client_cidr).await;
        self.write(
            "peering.yaml",
            &peering_doc("server-to-client", &server, &client),
        );
        (server, client)
    }

    /// Every peering connection `account` sees, whatever its state.
    async fn peerings(&self, account: &str) -> Vec<VpcPeeringConnection> {
        self.ec2(account)
            .await
            .describe_vpc_peering_connections()
            .send()
            .await
            .unwrap()
            .vpc_peering_connections()
            .to_vec()
    }

    /// The routes of a side's route table: destination to (target, state).
    async fn routes(&self, side: &Side) -> BTreeMap<String, (String, String)> {
        let reply = self
            .ec2(&side.account)
            .await
            .describe_route_tables()
            .filters(ec2_filter("route-table-id", &side.route_table))
            .send()
            .await
            .unwrap();
        reply.route_tables()[0]
            .routes()
            .iter()
            .map(|r| {
                let target = r
                    .vpc_peering_connection_id()
                    .or(r.gateway_id())
                    .unwrap_or("?")
                    .to_owned();
                let state = r.state().map(|s| s.as_str().to_owned()).unwrap_or_default();
                (
                    r.destination_cidr_block().unwrap().to_owned(),
                    (target, state),
                )
            })
            .collect()
    }
}

fn peering_doc(name: &str, server: &Side, client: &Side) -> String {
    format!(
        "apiVersion: ecs-topology.dev/v1alpha1\nkind: VpcPeering\nmetadata: {{name: {name}}}\nspec:\n  requester: {{account: server, region: {REGION}, vpcId: {}, routeTableIds: [{}]}}\n  accepter: {{account: client, region: {REGION}, vpcId: {}, routeTableIds: [{}]}}\n  dnsResolution: true\n  tags: {{team: payments}}\n",
        server.vpc, server.route_table, client.vpc, client.route_table
    )
}

fn status_code(c: &VpcPeeringConnection) -> &str {
    c.status().and_then(|s| s.code()).unwrap().as_str()
}

fn dns(info: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>) -> Option<bool> {
    info.and_then(|i| i.peering_options())
        .and_then(|o| o.allow_dns_resolution_from_remote_vpc())
}

/// The one active connection the server account requested, after asserting it is the only one.
async fn the_connection(w: &World) -> VpcPeeringConnection {
    let all = w.peerings(&w.server).await;
    assert_eq!(all.len(), 1, "{all:?}");
    all[0].clone()
}

/// A world where `server-to-client` was applied and is Ready; its two sides and connection id.
async fn peering_applied() -> (World, Side, Side, String) {
    let w = World::new();
    let (server, client) = w.peering_written("172.31.0.0/16").await;
    let out = w.apply_exits(0);
    assert_has(&out, "VpcPeering/server-to-client: created");
    let pcx = the_connection(&w).await.vpc_peering_connection_id.unwrap();
    (w, server, client, pcx)
}

#[tokio::test]
async fn a_peering_across_two_accounts_goes_from_nothing_to_ready_and_a_rerun_only_reads() {
    let w = World::new();
    let (server, client) = w.peering_written("172.31.0.0/16").await;

    let plan = w.plan_exits(2);
    assert_has(&plan, "create VpcPeering/server-to-client");
    assert_has(
        &plan,
        &format!("routes.accepter.{}.10.0.0.0/16", client.route_table),
    );
    let (out, calls) = w.apply_counted(0).await;
    assert_has(&out, "VpcPeering/server-to-client: created");
    assert_eq!(
        calls.mutating_operations(&w.client),
        [
            "AcceptVpcPeeringConnection",
            "CreateRoute",
            "ModifyVpcPeeringConnectionOptions",
        ],
        "the accepter's calls are made in its own account (operations by name)"
    );

    let c = the_connection(&w).await;
    assert_eq!(status_code(&c), "active");
    let pcx = c.vpc_peering_connection_id().unwrap().to_owned();
    let tags: BTreeMap<&str, &str> = c
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert_eq!(tags["ecs-topology.dev/owner"], w.controller);
    assert_eq!(tags["ecs-topology.dev/key"], "VpcPeering/server-to-client");
    assert_eq!(tags["team"], "payments");
    assert_eq!(dns(c.requester_vpc_info()), Some(true));
    assert_eq!(dns(c.accepter_vpc_info()), Some(true));
    let active = (pcx.clone(), "active".to_owned());
    assert_eq!(w.routes(&server).await["172.31.0.0/16"], active);
    assert_eq!(w.routes(&client).await["10.0.0.0/16"], active);
    // The accepter sees the connection, without the requester's tags.
    let seen = w.peerings(&w.client).await;
    assert_eq!(seen.len(), 1);
    assert!(seen[0].tags().is_empty(), "{seen:?}");

    let status = w.status("VpcPeering/server-to-client");
    assert_eq!(condition(&status, "Ready")["status"], "True", "{status}");
    assert_eq!(
        status["status"]["aws"]["connectionId"],
        pcx.as_str(),
        "{status}"
    );
    assert_eq!(status["status"]["aws"]["state"], "active", "{status}");
    assert_eq!(
        status["status"]["aws"][format!("route.accepter.{}.10.0.0.0/16", client.route_table)],
        "active",
        "{status}"
    );

    w.plan_exits(0);
    let (_, calls) = w.apply_counted(0).await;
    calls.assert_read_only(&w.server);
    calls.assert_read_only(&w.client);
    // One batched read of each kind per account: nothing per connection, nothing per table.
    for account in [&w.server, &w.client] {
        for operation in [
            "DescribeVpcPeeringConnections",
            "DescribeRouteTables",
            "DescribeVpcs",
        ] {
            assert_eq!(
                calls.count(account, operation),
                1,
                "{operation} in {account}: {calls:?}"
            );
        }
    }
}

/// Deletes the client's route to the server VPC and turns the requester's DNS option off, by hand.
async fn drift_by_hand(w: &World, client: &Side, pcx: &str) {
    w.ec2(&w.client)
        .await
        .delete_route()
        .route_table_id(&client.route_table)
        .destination_cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap();
    w.ec2(&w.server)
        .await
        .modify_vpc_peering_connection_options()
        .vpc_peering_connection_id(pcx)
        .requester_peering_connection_options(
            PeeringConnectionOptionsRequest::builder()
                .allow_dns_resolution_from_remote_vpc(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_route_deleted_and_a_dns_option_flipped_by_hand_are_planned_and_corrected() {
    let (w, server, client, pcx) = peering_applied().await;
    drift_by_hand(&w, &client, &pcx).await;

    let plan = w.planned("VpcPeering", "server-to-client");
    assert_eq!(plan["verb"], "update", "{plan}");
    assert_eq!(
        change_paths(&plan),
        [
            "requester.dnsResolution".to_owned(),
            format!("routes.accepter.{}.10.0.0.0/16", client.route_table),
        ]
    );
    let (_, calls) = w.apply_counted(0).await;
    assert_eq!(
        calls.mutating_operations(&w.server),
        ["ModifyVpcPeeringConnectionOptions"]
    );
    assert_eq!(calls.mutating_operations(&w.client), ["CreateRoute"]);
    assert_eq!(
        w.routes(&client).await["10.0.0.0/16"],
        (pcx.clone(), "active".to_owned())
    );
    assert_eq!(
        dns(the_connection(&w).await.requester_vpc_info()),
        Some(true)
    );
    assert_eq!(
        w.routes(&server).await["172.31.0.0/16"],
        (pcx, "active".to_owned())
    );
    w.plan_exits(0);
}

#[tokio::test]
async fn a_removed_peering_takes_its_routes_on_both_sides_then_its_connection() {
    let (w, server, client, pcx) = peering_applied().await;
    // A source that lists nothing deletes nothing: another document stays.
    w.write(
        "namespace.yaml",
        &namespace_doc("kept", "server", "", "Kept"),
    );
    w.apply_exits(0);
    w.remove("peering.yaml");
    let plan = w.plan_exits(2);
    assert_has(&plan, "delete VpcPeering/server-to-client");

    let (_, calls) = w.apply_counted(0).await;
    assert_eq!(
        calls.mutating_operations(&w.server),
        ["DeleteRoute", "DeleteVpcPeeringConnection"]
    );
    assert_eq!(calls.mutating_operations(&w.client), ["DeleteRoute"]);
    assert!(!w.routes(&server).await.contains_key("172.31.0.0/16"));
    assert!(!w.routes(&client).await.contains_key("10.0.0.0/16"));
    let c = the_connection(&w).await;
    assert_eq!(c.vpc_peering_connection_id(), Some(pcx.as_str()));
    assert_eq!(status_code(&c), "deleted");
    w.plan_exits(0);
}

#[tokio::test]
async fn a_route_to_the_peer_through_a_gateway_is_left_alone_and_blocks() {
    let w = World::new();
    let (server, client) = w.peering_written("172.31.0.0/16").await;
    let client_ec2 = w.ec2(&w.client).await;
    let igw = client_ec2
        .create_internet_gateway()
        .send()
        .await
        .unwrap()
        .internet_gateway
        .unwrap()
        .internet_gateway_id
        .unwrap();
    client_ec2
        .attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&client.vpc)
        .send()
        .await
        .unwrap();
    client_ec2
        .create_route()
        .route_table_id(&client.route_table)
        .destination_cidr_block("10.0.0.0/16")
        .gateway_id(&igw)
        .send()
        .await
        .unwrap();

    let plan = w.plan_exits(2);
    assert_has(&plan, "blocked VpcPeering/server-to-client");
    assert_has(
        &plan,
        &format!(
            "the route to 10.0.0.0/16 in {} targets {igw}, not a peering connection",
            client.route_table
        ),
    );
    let (out, calls) = w.apply_counted(1).await;
    assert_has(&out, "VpcPeering/server-to-client: blocked");
    calls.assert_read_only(&w.server);
    calls.assert_read_only(&w.client);
    assert!(w.peerings(&w.server).await.is_empty(), "nothing requested");
    assert_eq!(w.routes(&client).await["10.0.0.0/16"].0, igw);
    assert!(!w.routes(&server).await.contains_key("172.31.0.0/16"));
}

#[tokio::test]
async fn overlapping_vpcs_are_refused_at_plan_time_with_both_blocks() {
    let w = World::new();
    w.peering_written("10.0.128.0/17").await;
    let plan = w.plan_exits(2);
    assert_has(&plan, "blocked VpcPeering/server-to-client");
    assert!(
        plan.contains("overlap: 10.0.0.0/16 of vpc-") && plan.contains("and 10.0.128.0/17 of vpc-"),
        "{plan}"
    );
    let (_, calls) = w.apply_counted(1).await;
    calls.assert_read_only(&w.server);
    calls.assert_read_only(&w.client);
    assert!(w.peerings(&w.server).await.is_empty(), "nothing requested");
}

#[tokio::test]
async fn the_service_connect_example_peering_converges_with_the_emulators_ids() {
    let w = World::new();
    let server = w.peering_side(&w.server, "10.0.0.0/16").await;
    let client = w.peering_side(&w.client, "172.31.0.0/16").await;
    let ids = [
        ("vpc-0a1b2c3d4e5f60811", server.vpc.as_str()),
        ("rtb-0a1b2c3d4e5f60812", server.route_table.as_str()),
        ("vpc-0b1b2c3d4e5f60821", client.vpc.as_str()),
        ("rtb-0b1b2c3d4e5f60822", client.route_table.as_str()),
    ];
    w.write(
        "peering.yaml",
        &example_doc("service-connect/peering.yaml", &ids),
    );
    w.apply_exits(0);
    let status = w.status("VpcPeering/server-to-client");
    assert_eq!(condition(&status, "Ready")["status"], "True", "{status}");
    w.plan_exits(0);
}

/// `ecs-topology run` on the world's documents; killed when dropped.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_same_drift_is_corrected_by_run_within_one_poll() {
    let (w, _server, client, pcx) = peering_applied().await;
    w.write_config("pollInterval: 3s\n");
    let port = ecs_topology_testkit::free_port();
    let (docs, config) = (w.docs(), w.dir.join("config.yaml"));
    let listen = format!("127.0.0.1:{port}");
    let _daemon = Running(
        w.command(&[
            "run",
            "--source",
            docs.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--listen",
            &listen,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap(),
    );
    let ready = || ecs_topology_testkit::http::get(port, "/readyz").is_ok_and(|(s, _)| s == 200);
    let started = std::time::Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "never ready"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    drift_by_hand(&w, &client, &pcx).await;
    let drifted = std::time::Instant::now();
    loop {
        let route = w.routes(&client).await.get("10.0.0.0/16").cloned();
        let dns_on = dns(the_connection(&w).await.requester_vpc_info()) == Some(true);
        if route == Some((pcx.clone(), "active".to_owned())) && dns_on {
            break;
        }
        // A poll (3 s), and the reconcile after it.
        assert!(
            drifted.elapsed() < std::time::Duration::from_secs(10),
            "not corrected within one poll: route {route:?}, DNS on: {dns_on}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

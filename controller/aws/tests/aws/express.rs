//! Express services observed as a long-running controller observes them: the batched reads every
//! pass, the per-service reads only for what changed.

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_sdk_ecs::types::{ExpressGatewayContainer, ExpressGatewayServiceNetworkConfiguration};
use ecs_topology_aws::{ApiBudgets, AwsCloud, NoObserver};
use ecs_topology_core::kinds::express::ExpressCloud;
use ecs_topology_testkit::emulator;

use super::{WEST, World};

/// Two private subnets and a security group of one VPC in `account`.
async fn private_network(account: &str) -> (Vec<String>, String) {
    let ec2 = aws_sdk_ec2::Client::new(&emulator().sdk_config(account, WEST).await);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.20.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
    let mut subnets = Vec::new();
    for cidr in ["10.20.1.0/24", "10.20.2.0/24"] {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .send()
            .await
            .unwrap();
        subnets.push(subnet.subnet().unwrap().subnet_id().unwrap().to_owned());
    }
    let group = ec2
        .create_security_group()
        .group_name("app")
        .description("the application")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    (subnets, group.group_id().unwrap().to_owned())
}

async fn create_service(ecs: &aws_sdk_ecs::Client, name: &str, subnets: &[String], group: &str) {
    ecs.create_express_gateway_service()
        .service_name(name)
        .execution_role_arn("arn:aws:iam::123456789012:role/ecsTaskExecutionRole")
        .infrastructure_role_arn("arn:aws:iam::123456789012:role/ecsInfrastructureRole")
        .primary_container(
            ExpressGatewayContainer::builder()
                .image("public.ecr.aws/nginx/nginx:1.27")
                .container_port(8080)
                .build()
                .unwrap(),
        )
        .network_configuration(
            ExpressGatewayServiceNetworkConfiguration::builder()
                .set_subnets(Some(subnets.to_vec()))
                .security_groups(group)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_repeated_observation_describes_only_the_express_services_that_changed() {
    let (world, ids) = World::new(&["workloads"]);
    let account = ids[0].clone();
    let (subnets, group) = private_network(&account).await;
    let ecs = aws_sdk_ecs::Client::new(&emulator().sdk_config(&account, WEST).await);
    for name in ["web", "admin", "api"] {
        create_service(&ecs, name, &subnets, &group).await;
    }
    let budgets = Arc::new(ApiBudgets::new(&world.config, Arc::new(NoObserver)).unwrap());
    let cloud = AwsCloud::new(world.accounts().await, budgets);
    let scope = ecs_topology_core::engine::Scope::new(account.clone(), WEST);
    let clusters = BTreeSet::from(["default".to_owned(), "absent".to_owned()]);

    // First sight: every service is described once.
    let before = emulator().calls().await;
    let first = cloud.observe_express(&scope, &clusters).await.unwrap();
    let made = emulator().calls().await.since(&before);
    assert_eq!(first.len(), 3);
    assert_eq!(made.count(&account, "DescribeExpressGatewayService"), 3);
    assert_eq!(made.count(&account, "DescribeServices"), 1, "{made:?}");
    assert_eq!(made.count(&account, "DescribeServiceRevisions"), 1);
    let web = first.iter().find(|s| s.service_name == "web").unwrap();
    let config = web.config.as_ref().unwrap();
    assert_eq!(config.primary_container.command, Vec::<String>::new());
    assert_eq!(config.primary_container.port, Some(8080));
    assert_eq!(
        web.status,
        ecs_topology_core::observed::ExpressStatus::Active
    );
    assert!(!web.deploying);
    assert_eq!(web.failed_deployment, None);
    assert!(web.updated_at.is_some());
    assert!(
        web.managed
            .get("loadBalancer")
            .unwrap()
            .contains(":loadbalancer/app/ecs-express-gateway-alb-")
    );
    assert!(
        web.managed
            .get("endpoint")
            .unwrap()
            .ends_with(".ecs.eu-west-1.on.aws")
    );
    assert!(web.managed.contains_key("listenerRule"));
    assert!(web.managed.contains_key("targetGroup"));
    assert!(web.managed.contains_key("certificate"));
    assert_eq!(web.managed_security_groups.len(), 1);
    let ecs_group = web.managed_security_groups.iter().next().unwrap();
    assert!(config.security_groups.iter().any(|g| g == ecs_group));
    assert!(config.security_groups.contains(&group));
    let balancers: BTreeSet<&str> = first
        .iter()
        .map(|s| s.managed.get("loadBalancer").unwrap().as_str())
        .collect();
    assert_eq!(
        balancers.len(),
        1,
        "services on one subnet set share one load balancer"
    );

    // Nothing changed: the batched reads only.
    let before = emulator().calls().await;
    let second = cloud.observe_express(&scope, &clusters).await.unwrap();
    let made = emulator().calls().await.since(&before);
    assert_eq!(made.count(&account, "DescribeExpressGatewayService"), 0);
    assert_eq!(made.count(&account, "DescribeServiceRevisions"), 0);
    assert_eq!(made.count(&account, "DescribeServiceDeployments"), 0);
    assert_eq!(
        made.operations(&account).into_keys().collect::<Vec<_>>(),
        ["DescribeServices", "ListServices"]
    );
    let sorted = |mut v: Vec<ecs_topology_core::observed::ObservedExpressService>| {
        v.sort_by(|a, b| a.arn.cmp(&b.arn));
        v
    };
    assert_eq!(sorted(second), sorted(first.clone()));

    // Another client changes one service and retags another: one service is described again, and
    // the new tag is seen without describing.
    let update = ecs
        .update_express_gateway_service()
        .service_arn(&web.arn)
        .cpu("2048")
        .memory("4096")
        .send()
        .await
        .unwrap();
    assert!(update.service().is_some());
    let admin = first.iter().find(|s| s.service_name == "admin").unwrap();
    ecs.tag_resource()
        .resource_arn(&admin.arn)
        .tags(
            aws_sdk_ecs::types::Tag::builder()
                .key("team")
                .value("ops")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let before = emulator().calls().await;
    let third = cloud.observe_express(&scope, &clusters).await.unwrap();
    let made = emulator().calls().await.since(&before);
    assert_eq!(made.count(&account, "DescribeExpressGatewayService"), 1);
    let web = third.iter().find(|s| s.service_name == "web").unwrap();
    assert_eq!(web.config.as_ref().unwrap().cpu.as_deref(), Some("2048"));
    let admin = third.iter().find(|s| s.service_name == "admin").unwrap();
    assert_eq!(admin.tags.get("team").unwrap(), "ops");
}

#[tokio::test]
async fn a_running_deployment_is_seen_to_finish_without_being_changed() {
    let (world, ids) = World::new(&["workloads"]);
    let account = ids[0].clone();
    emulator()
        .set_settings(&[&account], serde_json::json!({"ecs.express_deploy": 2}))
        .await;
    let (subnets, group) = private_network(&account).await;
    let ecs = aws_sdk_ecs::Client::new(&emulator().sdk_config(&account, WEST).await);
    create_service(&ecs, "web", &subnets, &group).await;
    let budgets = Arc::new(ApiBudgets::new(&world.config, Arc::new(NoObserver)).unwrap());
    let cloud = AwsCloud::new(world.accounts().await, budgets);
    let scope = ecs_topology_core::engine::Scope::new(account.clone(), WEST);
    let clusters = BTreeSet::from(["default".to_owned()]);

    let first = cloud.observe_express(&scope, &clusters).await.unwrap();
    assert!(first[0].deploying, "{:?}", first[0]);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let second = cloud.observe_express(&scope, &clusters).await.unwrap();
    assert!(!second[0].deploying, "{:?}", second[0]);
    assert_eq!(second[0].failed_deployment, None);
}

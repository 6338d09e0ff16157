//! ECS as the emulator serves it to the Rust SDK: Express Mode services (defaults, `command`,
//! revisions, deployments and their failure and rollback, ECS-managed resources, the shared load
//! balancer, deletion), Express
//! services seen as regular ECS services, `ListServices` paging, Service Connect in
//! `deployments[]` and awsvpc configurations without security groups.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_ec2 as ec2;
use aws_sdk_ecs as ecs;
use aws_sdk_ecs::types::builders::ContainerDefinitionBuilder;
use aws_sdk_ecs::types::{
    AwsVpcConfiguration, ContainerDefinition, EcsExpressGatewayService, ExpressGatewayContainer,
    ExpressGatewayScalingTarget, ExpressGatewayServiceConfiguration, ExpressGatewayServiceInclude,
    ExpressGatewayServiceNetworkConfiguration, ExpressGatewayServiceScalingMetric,
    ExpressGatewayServiceStatusCode, KeyValuePair, LaunchType, ManagedResourceStatus,
    NetworkConfiguration, ResourceManagementType, ServiceField, Tag,
};
use ecs_topology_testkit::{emulator, sent_pages};
use serde_json::json;

use crate::cloudmap::create_namespace_arn;
use crate::ec2::{Network, network};
use crate::service_connect::connect_to;

const REGION: &str = "eu-west-1";

async fn clients(account: &str) -> (ecs::Client, ec2::Client) {
    let config = emulator().sdk_config(account, REGION).await;
    (ecs::Client::new(&config), ec2::Client::new(&config))
}

use crate::{assert_fails_with, assert_fails_with_status, first_of};

fn role(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

fn container(image: &str) -> ExpressGatewayContainer {
    ExpressGatewayContainer::builder()
        .image(image)
        .container_port(8080)
        .build()
        .unwrap_or_else(|e| panic!("container: {e}"))
}

/// A container of `image` without a port; `command` is left unset when `None`.
fn app(image: &str, command: Option<&[&str]>) -> ExpressGatewayContainer {
    ExpressGatewayContainer::builder()
        .image(image)
        .set_command(command.map(|c| c.iter().map(|&a| a.to_owned()).collect()))
        .build()
        .unwrap_or_else(|e| panic!("container: {e}"))
}

fn on_subnets(subnets: &[String]) -> ExpressGatewayServiceNetworkConfiguration {
    ExpressGatewayServiceNetworkConfiguration::builder()
        .set_subnets(Some(subnets.to_vec()))
        .build()
}

/// Makes the route table of `net` route 0.0.0.0/0 to an internet gateway and associates it with
/// every subnet of `net`, so the subnets are public.
async fn make_public(client: &ec2::Client, net: &Network) {
    let igw = client
        .create_internet_gateway()
        .send()
        .await
        .unwrap_or_else(|e| panic!("create igw: {e:?}"))
        .internet_gateway
        .and_then(|g| g.internet_gateway_id)
        .unwrap_or_else(|| panic!("create igw: no id"));
    client
        .attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&net.vpc)
        .send()
        .await
        .unwrap_or_else(|e| panic!("attach igw: {e:?}"));
    client
        .create_route()
        .route_table_id(&net.route_table)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create route: {e:?}"));
    for subnet in &net.subnets {
        client
            .associate_route_table()
            .route_table_id(&net.route_table)
            .subnet_id(subnet)
            .send()
            .await
            .unwrap_or_else(|e| panic!("associate route table: {e:?}"));
    }
}

type CreateExpress =
    ecs::operation::create_express_gateway_service::builders::CreateExpressGatewayServiceFluentBuilder;

type UpdateExpress =
    ecs::operation::update_express_gateway_service::builders::UpdateExpressGatewayServiceFluentBuilder;

struct Express {
    account: String,
    ecs: ecs::Client,
    ec2: ec2::Client,
    net: Network,
}

impl Express {
    async fn new(octet: u8) -> Self {
        let account = emulator().new_account();
        let (ecs, ec2) = clients(&account).await;
        let net = network(&ec2, octet, true).await;
        Self {
            account,
            ecs,
            ec2,
            net,
        }
    }

    fn create(&self, name: &str) -> CreateExpress {
        self.ecs
            .create_express_gateway_service()
            .service_name(name)
            .infrastructure_role_arn(role(
                &self.account,
                "ecsInfrastructureRoleForExpressServices",
            ))
            .execution_role_arn(role(&self.account, "ecsTaskExecutionRole"))
            .primary_container(container("public.ecr.aws/nginx/nginx:1.27"))
            .network_configuration(on_subnets(&self.net.subnets[..2]))
    }

    async fn created(&self, name: &str) -> EcsExpressGatewayService {
        self.created_with(name, |call| call).await
    }

    /// The service that `create(name)`, as `change` changes the call, creates.
    async fn created_with(
        &self,
        name: &str,
        change: impl FnOnce(CreateExpress) -> CreateExpress,
    ) -> EcsExpressGatewayService {
        change(self.create(name))
            .send()
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e:?}"))
            .service
            .unwrap_or_else(|| panic!("create {name}: no service"))
    }

    fn update(&self, arn: &str) -> UpdateExpress {
        self.ecs.update_express_gateway_service().service_arn(arn)
    }

    /// The service as `update(arn)`, as `change` changes the call, answers it.
    async fn updated(
        &self,
        arn: &str,
        change: impl FnOnce(UpdateExpress) -> UpdateExpress,
    ) -> ecs::types::UpdatedExpressGatewayService {
        change(self.update(arn))
            .send()
            .await
            .unwrap_or_else(|e| panic!("update {arn}: {e:?}"))
            .service
            .unwrap_or_else(|| panic!("update {arn}: no service"))
    }

    /// The service as `DeleteExpressGatewayService` of `arn` answers it.
    async fn deleted(&self, arn: &str) -> EcsExpressGatewayService {
        self.ecs
            .delete_express_gateway_service()
            .service_arn(arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("delete {arn}: {e:?}"))
            .service
            .unwrap_or_else(|| panic!("delete {arn}: no service"))
    }

    /// The account's clusters named `default`, as `DescribeClusters` answers.
    async fn default_clusters(&self) -> Vec<ecs::types::Cluster> {
        self.ecs
            .describe_clusters()
            .clusters("default")
            .send()
            .await
            .unwrap_or_else(|e| panic!("describe clusters: {e:?}"))
            .clusters()
            .to_vec()
    }

    async fn describe(&self, arn: &str) -> EcsExpressGatewayService {
        self.ecs
            .describe_express_gateway_service()
            .service_arn(arn)
            .include(ExpressGatewayServiceInclude::Tags)
            .send()
            .await
            .unwrap_or_else(|e| panic!("describe {arn}: {e:?}"))
            .service
            .unwrap_or_else(|| panic!("describe {arn}: no service"))
    }

    /// The revision of `service`'s first active configuration.
    async fn current_revision(
        &self,
        service: &EcsExpressGatewayService,
    ) -> ecs::types::ServiceRevision {
        self.revision(
            &first_config(service)
                .service_revision_arn
                .unwrap_or_default(),
        )
        .await
    }

    async fn revision(&self, arn: &str) -> ecs::types::ServiceRevision {
        let call = self
            .ecs
            .describe_service_revisions()
            .service_revision_arns(arn);
        first_of(&format!("describe revision {arn}"), call.send(), |r| {
            r.service_revisions()
        })
        .await
    }
}

fn arn_of(service: &EcsExpressGatewayService) -> String {
    service.service_arn().unwrap_or_default().to_owned()
}

fn status_of(service: &EcsExpressGatewayService) -> Option<ExpressGatewayServiceStatusCode> {
    service.status().and_then(|s| s.status_code()).cloned()
}

/// The primary container of `service`'s first active configuration.
fn primary_of(service: &EcsExpressGatewayService) -> ExpressGatewayContainer {
    first_config(service)
        .primary_container
        .unwrap_or_else(|| panic!("no primary container: {service:?}"))
}

fn first_config(service: &EcsExpressGatewayService) -> ExpressGatewayServiceConfiguration {
    service
        .active_configurations()
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no active configuration: {service:?}"))
}

fn load_balancer_of(revision: &ecs::types::ServiceRevision) -> ecs::types::ManagedLoadBalancer {
    revision
        .ecs_managed_resources()
        .and_then(|r| r.ingress_paths().first())
        .and_then(|p| p.load_balancer())
        .cloned()
        .unwrap_or_else(|| panic!("no managed load balancer: {revision:?}"))
}

async fn wait_until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn create_express_gateway_service_returns_an_active_service_with_aws_defaults() {
    let world = Express::new(40).await;
    let service = world
        .ecs
        .create_express_gateway_service()
        .service_name("web")
        .infrastructure_role_arn(role(&world.account, "infra"))
        .execution_role_arn(role(&world.account, "exec"))
        .primary_container(
            ExpressGatewayContainer::builder()
                .image("public.ecr.aws/nginx/nginx:1.27")
                .build()
                .unwrap_or_else(|e| panic!("container: {e}")),
        )
        .network_configuration(on_subnets(&world.net.subnets[..2]))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create: {e:?}"))
        .service
        .unwrap_or_else(|| panic!("no service"));

    assert_eq!(
        service.service_arn(),
        Some(format!("arn:aws:ecs:{REGION}:{}:service/default/web", world.account).as_str())
    );
    assert_eq!(
        service.cluster(),
        Some(format!("arn:aws:ecs:{REGION}:{}:cluster/default", world.account).as_str())
    );
    assert_eq!(
        status_of(&service),
        Some(ExpressGatewayServiceStatusCode::Active)
    );
    assert_eq!(
        service.infrastructure_role_arn(),
        Some(role(&world.account, "infra").as_str())
    );
    assert!(service.created_at().is_some() && service.updated_at().is_some());
    assert_eq!(service.active_configurations().len(), 1);
    let config = first_config(&service);
    assert!(
        config
            .service_revision_arn()
            .is_some_and(|a| a.contains(":service-revision/default/web/"))
    );
    assert_eq!(config.cpu(), Some("1024"));
    assert_eq!(config.memory(), Some("2048"));
    assert_eq!(config.health_check_path(), Some("/"));
    assert_eq!(
        config.cpu_architecture().map(|a| a.as_str()),
        Some("X86_64")
    );
    assert!(
        config
            .task_definition_arn()
            .is_some_and(|a| a.ends_with(":task-definition/default-web:1"))
    );
    let scaling = config
        .scaling_target()
        .unwrap_or_else(|| panic!("no scaling target"));
    assert_eq!(
        (
            scaling.min_task_count(),
            scaling.max_task_count(),
            scaling.auto_scaling_target_value()
        ),
        (Some(1), Some(20), Some(60))
    );
    assert_eq!(
        scaling.auto_scaling_metric(),
        Some(&ExpressGatewayServiceScalingMetric::AverageCpuUtilization)
    );
    let primary = config
        .primary_container()
        .unwrap_or_else(|| panic!("no container"));
    assert_eq!(primary.container_port(), Some(80));
    let logs = primary
        .aws_logs_configuration()
        .unwrap_or_else(|| panic!("no logs configuration"));
    assert!(
        logs.log_group().starts_with("/aws/ecs/default/web-"),
        "{logs:?}"
    );
    let ingress = config
        .ingress_paths()
        .first()
        .unwrap_or_else(|| panic!("no ingress path"));
    assert!(
        ingress.endpoint().starts_with("we-")
            && ingress
                .endpoint()
                .ends_with(&format!(".ecs.{REGION}.on.aws")),
        "{ingress:?}"
    );
}

#[tokio::test]
async fn an_express_primary_container_without_command_reads_back_an_empty_command() {
    let world = Express::new(41).await;
    let service = world.created("no-command").await;
    let config = first_config(&service);
    let primary = config
        .primary_container()
        .unwrap_or_else(|| panic!("no container"));
    assert_eq!(primary.command, Some(Vec::new()), "AWS answers command: []");
    let described = world.describe(&arn_of(&service)).await;
    let primary = primary_of(&described);
    assert_eq!(primary.command, Some(Vec::new()));
}

#[tokio::test]
async fn express_environment_variables_read_back_sorted_by_name() {
    let world = Express::new(42).await;
    let service = world
        .created_with("env", |call| {
            call.primary_container(
                ExpressGatewayContainer::builder()
                    .image("app:1")
                    .environment(KeyValuePair::builder().name("ZONE").value("b").build())
                    .environment(KeyValuePair::builder().name("API_URL").value("a").build())
                    .command("serve")
                    .command("--port=80")
                    .build()
                    .unwrap_or_else(|e| panic!("container: {e}")),
            )
        })
        .await;
    let primary = primary_of(&service);
    let names: Vec<_> = primary
        .environment()
        .iter()
        .filter_map(|e| e.name())
        .collect();
    assert_eq!(names, vec!["API_URL", "ZONE"]);
    assert_eq!(
        primary.command(),
        &["serve".to_owned(), "--port=80".to_owned()]
    );
}

#[tokio::test]
async fn updating_the_primary_container_without_command_clears_the_command() {
    let world = Express::new(43).await;
    let service = world
        .created_with("update-command", |call| {
            call.primary_container(app("app:1", Some(&["worker"])))
        })
        .await;
    let arn = arn_of(&service);
    let updated = world
        .updated(&arn, |call| call.primary_container(app("app:2", None)))
        .await;
    let target = updated
        .target_configuration()
        .and_then(|c| c.primary_container.clone())
        .unwrap_or_else(|| panic!("no target configuration"));
    assert_eq!(target.image(), "app:2");
    assert_eq!(target.command, Some(Vec::new()));
    let described = world.describe(&arn).await;
    let primary = primary_of(&described);
    assert_eq!(primary.command, Some(Vec::new()));
}

#[tokio::test]
async fn updating_without_a_primary_container_keeps_the_command() {
    let world = Express::new(44).await;
    let service = world
        .created_with("keep-command", |call| {
            call.primary_container(app("app:1", Some(&["worker"])))
        })
        .await;
    let arn = arn_of(&service);
    world
        .updated(&arn, |call| {
            call.health_check_path("/healthz").scaling_target(
                ExpressGatewayScalingTarget::builder()
                    .max_task_count(4)
                    .build(),
            )
        })
        .await;
    let config = first_config(&world.describe(&arn).await);
    assert_eq!(config.health_check_path(), Some("/healthz"));
    let primary = config
        .primary_container()
        .unwrap_or_else(|| panic!("no container"));
    assert_eq!(primary.command(), &["worker".to_owned()]);
    assert_eq!(primary.image(), "app:1");
    let scaling = config
        .scaling_target()
        .unwrap_or_else(|| panic!("no scaling"));
    assert_eq!(
        (scaling.min_task_count(), scaling.max_task_count()),
        (Some(1), Some(4))
    );
}

#[tokio::test]
async fn updating_an_express_service_makes_a_new_revision_and_deployment() {
    let world = Express::new(45).await;
    let service = world.created("revisions").await;
    let arn = arn_of(&service);
    let first_revision = first_config(&service)
        .service_revision_arn
        .unwrap_or_default();
    let updated = world
        .updated(&arn, |call| call.cpu("2048").memory("4096"))
        .await;
    let target = updated
        .target_configuration()
        .cloned()
        .unwrap_or_else(|| panic!("no target"));
    assert_ne!(target.service_revision_arn(), Some(first_revision.as_str()));
    assert_eq!(
        (target.cpu(), target.memory()),
        (Some("2048"), Some("4096"))
    );
    assert!(
        target
            .task_definition_arn()
            .is_some_and(|a| a.ends_with(":task-definition/default-revisions:2"))
    );
    let deployments = world
        .ecs
        .list_service_deployments()
        .service(&arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("list deployments: {e:?}"));
    let briefs = deployments.service_deployments();
    assert_eq!(briefs.len(), 2);
    assert_eq!(
        briefs[0].target_service_revision_arn(),
        target.service_revision_arn()
    );
    let described = world
        .ecs
        .describe_service_deployments()
        .service_deployment_arns(briefs[0].service_deployment_arn().unwrap_or_default())
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe deployments: {e:?}"));
    let deployment = &described.service_deployments()[0];
    assert_eq!(
        deployment
            .source_service_revisions()
            .first()
            .and_then(|r| r.arn()),
        Some(first_revision.as_str())
    );
    assert_eq!(deployment.status().map(|s| s.as_str()), Some("SUCCESSFUL"));
}

#[tokio::test]
async fn express_deployments_take_the_configured_time() {
    let world = Express::new(46).await;
    emulator()
        .set_settings(&[&world.account], json!({"ecs.express_deploy": 1.5}))
        .await;
    let service = world.created("slow").await;
    let arn = arn_of(&service);
    assert!(
        service
            .current_deployment()
            .is_some_and(|d| d.contains(":service-deployment/default/slow/"))
    );
    let revision = world.current_revision(&service).await;
    assert_eq!(
        load_balancer_of(&revision).status(),
        &ManagedResourceStatus::Provisioning
    );
    wait_until(
        "the first deployment is done",
        Duration::from_secs(10),
        || async { world.describe(&arn).await.current_deployment().is_none() },
    )
    .await;

    world
        .updated(&arn, |call| call.primary_container(container("app:2")))
        .await;
    let during = world.describe(&arn).await;
    assert!(during.current_deployment().is_some());
    let images: Vec<_> = during
        .active_configurations()
        .iter()
        .filter_map(|c| c.primary_container().map(|p| p.image().to_owned()))
        .collect();
    assert_eq!(
        images,
        vec![
            "app:2".to_owned(),
            "public.ecr.aws/nginx/nginx:1.27".to_owned()
        ]
    );
    let ecs_view = ecs_service(&world, &arn).await;
    let rollouts: Vec<_> = ecs_view
        .deployments()
        .iter()
        .filter_map(|d| d.rollout_state().map(|r| r.as_str().to_owned()))
        .collect();
    assert_eq!(
        rollouts,
        vec!["IN_PROGRESS".to_owned(), "COMPLETED".to_owned()]
    );

    wait_until(
        "the update is deployed",
        Duration::from_secs(10),
        || async { world.describe(&arn).await.current_deployment().is_none() },
    )
    .await;
    assert_eq!(world.describe(&arn).await.active_configurations().len(), 1);
}

#[tokio::test]
async fn express_services_on_the_same_subnets_share_one_load_balancer() {
    let world = Express::new(47).await;
    let first = world.created("alpha").await;
    let second = world
        .created_with("beta", |call| {
            call.network_configuration(on_subnets(&[
                world.net.subnets[1].clone(),
                world.net.subnets[0].clone(),
            ]))
        })
        .await;
    let a = world.current_revision(&first).await;
    let b = world.current_revision(&second).await;
    assert_eq!(load_balancer_of(&a).arn(), load_balancer_of(&b).arn());
    let a_path = &a
        .ecs_managed_resources()
        .unwrap_or_else(|| panic!("none"))
        .ingress_paths()[0];
    let b_path = &b
        .ecs_managed_resources()
        .unwrap_or_else(|| panic!("none"))
        .ingress_paths()[0];
    assert_eq!(
        a_path.listener().and_then(|l| l.arn()),
        b_path.listener().and_then(|l| l.arn())
    );
    assert_ne!(
        a_path.rule().and_then(|r| r.arn()),
        b_path.rule().and_then(|r| r.arn())
    );
    assert_ne!(a_path.endpoint(), b_path.endpoint());
}

#[tokio::test]
async fn express_services_on_other_subnets_get_another_load_balancer() {
    let world = Express::new(48).await;
    let first = world.created("alpha").await;
    let second = world
        .created_with("gamma", |call| {
            call.network_configuration(on_subnets(&world.net.subnets[1..]))
        })
        .await;
    let a = world.current_revision(&first).await;
    let b = world.current_revision(&second).await;
    assert_ne!(load_balancer_of(&a).arn(), load_balancer_of(&b).arn());
}

#[tokio::test]
async fn express_services_in_private_subnets_get_an_internal_load_balancer() {
    let world = Express::new(49).await;
    let service = world.created("private").await;
    let config = first_config(&service);
    assert_eq!(config.ingress_paths()[0].access_type().as_str(), "PRIVATE");
    let revision = world.current_revision(&service).await;
    let lb = load_balancer_of(&revision);
    assert_eq!(lb.scheme(), "internal");
    let mut subnets = lb.subnet_ids().to_vec();
    subnets.sort();
    let mut expected = world.net.subnets[..2].to_vec();
    expected.sort();
    assert_eq!(subnets, expected);
}

#[tokio::test]
async fn express_services_in_public_subnets_get_an_internet_facing_load_balancer() {
    let world = Express::new(50).await;
    make_public(&world.ec2, &world.net).await;
    let public = world.created("public").await;
    let config = first_config(&public);
    assert_eq!(config.ingress_paths()[0].access_type().as_str(), "PUBLIC");
    let revision = world.current_revision(&public).await;
    assert_eq!(load_balancer_of(&revision).scheme(), "internet-facing");
}

#[tokio::test]
async fn express_service_managed_resources_carry_arns() {
    let world = Express::new(51).await;
    let service = world.created("resources").await;
    let revision = world.current_revision(&service).await;
    let resources = revision
        .ecs_managed_resources()
        .cloned()
        .unwrap_or_else(|| panic!("no managed resources"));
    let path = &resources.ingress_paths()[0];
    let lb = path
        .load_balancer()
        .unwrap_or_else(|| panic!("no load balancer"));
    assert!(
        lb.arn()
            .is_some_and(|a| a.contains(":loadbalancer/app/ecs-express-gateway-alb-")),
        "{lb:?}"
    );
    assert_eq!(lb.status(), &ManagedResourceStatus::Active);
    assert!(
        path.listener()
            .and_then(|l| l.arn())
            .is_some_and(|a| a.contains(":listener/app/"))
    );
    assert!(
        path.rule()
            .and_then(|r| r.arn())
            .is_some_and(|a| a.contains(":listener-rule/app/"))
    );
    let certificate = path
        .certificate()
        .unwrap_or_else(|| panic!("no certificate"));
    assert!(certificate.arn().is_some_and(|a| a.contains(":acm:")));
    assert_eq!(certificate.domain_name(), path.endpoint());
    let groups = path.target_groups();
    assert_eq!(groups.len(), 1);
    assert!(
        groups[0]
            .arn()
            .is_some_and(|a| a.contains(":targetgroup/ecs-gateway-tg-"))
    );
    assert_eq!(
        (groups[0].port(), groups[0].health_check_port()),
        (8080, 8080)
    );
    assert_eq!(groups[0].health_check_path(), "/");
    assert_eq!(path.load_balancer_security_groups().len(), 1);
    let scaling = resources
        .auto_scaling()
        .unwrap_or_else(|| panic!("no auto scaling"));
    assert!(
        scaling
            .scalable_target()
            .and_then(|t| t.arn())
            .is_some_and(|a| a.contains(":application-autoscaling:"))
    );
    assert_eq!(
        scaling.application_auto_scaling_policies()[0].metric(),
        "ECSServiceAverageCPUUtilization"
    );
    assert_eq!(resources.metric_alarms().len(), 1);
    assert_eq!(resources.service_security_groups().len(), 1);
    assert!(
        resources.log_groups()[0]
            .log_group_name()
            .starts_with("/aws/ecs/default/resources-")
    );
    assert_eq!(revision.load_balancers()[0].container_name(), Some("Main"));
}

#[tokio::test]
async fn express_services_add_their_managed_security_group_to_the_network_configuration() {
    let world = Express::new(52).await;
    let service = world
        .created_with("groups", |call| {
            call.network_configuration(
                ExpressGatewayServiceNetworkConfiguration::builder()
                    .set_subnets(Some(world.net.subnets[..2].to_vec()))
                    .security_groups(&world.net.group)
                    .build(),
            )
        })
        .await;
    let groups = first_config(&service)
        .network_configuration
        .map(|n| n.security_groups().to_vec())
        .unwrap_or_default();
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert_eq!(groups[0], world.net.group);
    let managed = world
        .ec2
        .describe_security_groups()
        .group_ids(&groups[1])
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe security groups: {e:?}"));
    let tags = managed.security_groups()[0].tags();
    assert!(
        tags.iter()
            .any(|t| t.key() == Some("AmazonECSManaged") && t.value() == Some("true"))
    );
}

#[tokio::test]
async fn creating_an_express_service_creates_the_default_cluster() {
    let world = Express::new(53).await;
    let before = world.default_clusters().await;
    assert!(before.is_empty());
    world.created("first").await;
    let after = world.default_clusters().await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].status(), Some("ACTIVE"));
    assert!(
        after[0]
            .capacity_providers()
            .contains(&"FARGATE".to_owned())
    );
}

#[tokio::test]
async fn creating_an_express_service_in_a_missing_named_cluster_fails_with_cluster_not_found() {
    let world = Express::new(54).await;
    assert_fails_with_status(
        world.create("nowhere").cluster("payments").send().await,
        "ClusterNotFoundException",
        400,
        "the cluster payments does not exist",
    );
}

#[tokio::test]
async fn creating_an_express_service_with_an_invalid_cpu_and_memory_fails_with_client_exception() {
    let world = Express::new(55).await;
    let message = assert_fails_with(
        world.create("tiny").cpu("256").memory("8192").send().await,
        "ClientException",
        "256 CPU units cannot have 8 GiB",
    );
    assert!(
        message.starts_with("No Fargate configuration exists for given values"),
        "{message}"
    );
}

#[tokio::test]
async fn creating_an_express_service_with_a_task_definition_and_a_primary_container_fails() {
    let world = Express::new(56).await;
    assert_fails_with(
        world
            .create("both")
            .task_definition_arn(format!(
                "arn:aws:ecs:{REGION}:{}:task-definition/x:1",
                world.account
            ))
            .send()
            .await,
        "InvalidParameterException",
        "taskDefinitionArn excludes primaryContainer",
    );
}

#[tokio::test]
async fn creating_an_express_service_with_the_name_of_an_active_service_fails() {
    let world = Express::new(57).await;
    world.created("twice").await;
    let message = assert_fails_with(
        world.create("twice").send().await,
        "InvalidParameterException",
        "the name is taken",
    );
    assert_eq!(message, "Creation of service was not idempotent.");
}

#[tokio::test]
async fn an_inactive_express_service_name_can_be_reused() {
    let world = Express::new(58).await;
    let first = world.created("again").await;
    world.deleted(&arn_of(&first)).await;
    let second = world.created("again").await;
    assert_eq!(arn_of(&second), arn_of(&first));
    assert_eq!(
        status_of(&second),
        Some(ExpressGatewayServiceStatusCode::Active)
    );
    assert_ne!(
        first_config(&second).service_revision_arn(),
        first_config(&first).service_revision_arn()
    );
}

#[tokio::test]
async fn describing_an_unknown_express_service_fails_with_invalid_parameter() {
    let world = Express::new(59).await;
    world.created("known").await;
    let message = assert_fails_with_status(
        world
            .ecs
            .describe_express_gateway_service()
            .service_arn(format!(
                "arn:aws:ecs:{REGION}:{}:service/default/unknown",
                world.account
            ))
            .send()
            .await,
        "InvalidParameterException",
        400,
        "no such service",
    );
    assert!(message.contains("Resource not found"), "{message}");
}

#[tokio::test]
async fn deleting_an_express_service_makes_it_inactive_at_once_by_default() {
    let world = Express::new(60).await;
    let service = world.created("gone").await;
    let arn = arn_of(&service);
    let deleted = world.deleted(&arn).await;
    assert_eq!(
        status_of(&deleted),
        Some(ExpressGatewayServiceStatusCode::Inactive)
    );
    let described = world.describe(&arn).await;
    assert_eq!(
        status_of(&described),
        Some(ExpressGatewayServiceStatusCode::Inactive)
    );
    let message = assert_fails_with(
        world
            .ecs
            .delete_express_gateway_service()
            .service_arn(&arn)
            .send()
            .await,
        "ServiceNotActiveException",
        "already inactive",
    );
    assert_eq!(
        message,
        "Cannot perform this operation on a service in INACTIVE status"
    );
    assert_fails_with(
        world
            .ecs
            .describe_service_revisions()
            .service_revision_arns(
                first_config(&service)
                    .service_revision_arn
                    .unwrap_or_default(),
            )
            .send()
            .await,
        "InvalidParameterException",
        "revisions of inactive services are not described",
    );
}

#[tokio::test]
async fn deleting_an_express_service_drains_for_the_configured_time_then_goes_inactive() {
    let world = Express::new(61).await;
    emulator()
        .set_settings(&[&world.account], json!({"ecs.express_drain": 1.5}))
        .await;
    let service = world.created("draining").await;
    let arn = arn_of(&service);
    let deleted = world.deleted(&arn).await;
    assert_eq!(
        status_of(&deleted),
        Some(ExpressGatewayServiceStatusCode::Draining)
    );
    let ecs_view = ecs_service(&world, &arn).await;
    assert_eq!(ecs_view.status(), Some("DRAINING"));
    let message = assert_fails_with(
        world.update(&arn).cpu("2048").memory("4096").send().await,
        "ServiceNotActiveException",
        "a draining service cannot be updated",
    );
    assert_eq!(message, "Service is in DRAINING status");
    wait_until(
        "the service is inactive",
        Duration::from_secs(10),
        || async {
            status_of(&world.describe(&arn).await)
                == Some(ExpressGatewayServiceStatusCode::Inactive)
        },
    )
    .await;
}

#[tokio::test]
async fn deleting_the_last_express_service_of_a_load_balancer_removes_its_security_groups() {
    let world = Express::new(62).await;
    let service = world.created("last").await;
    let revision = world.current_revision(&service).await;
    let lb_group = load_balancer_of(&revision).security_group_ids()[0].clone();
    world.deleted(&arn_of(&service)).await;
    assert_fails_with(
        world
            .ec2
            .describe_security_groups()
            .group_ids(&lb_group)
            .send()
            .await,
        "InvalidGroup.NotFound",
        "the load balancer's group is gone with its last service",
    );
}

#[tokio::test]
async fn express_services_are_listed_and_filtered_by_resource_management_type() {
    let world = Express::new(63).await;
    let express = world.created("express").await;
    let definition = task_definition(&world.ecs).await;
    let regular = created_arn(create_service(
        &world.ecs,
        &world.net,
        &definition,
        "regular",
    ))
    .await;

    let all = list(&world.ecs, "default", None).await;
    assert_eq!(all, BTreeSet::from([arn_of(&express), regular.clone()]));
    assert_eq!(
        list(&world.ecs, "default", Some(ResourceManagementType::Ecs)).await,
        BTreeSet::from([arn_of(&express)])
    );
    assert_eq!(
        list(
            &world.ecs,
            "default",
            Some(ResourceManagementType::Customer)
        )
        .await,
        BTreeSet::from([regular])
    );
}

#[tokio::test]
async fn describe_services_returns_an_express_service_with_its_tags_when_asked() {
    let world = Express::new(64).await;
    let service = world
        .created_with("tagged", |call| {
            call.tags(
                Tag::builder()
                    .key("ecs-topology.dev/owner")
                    .value("ctl")
                    .build(),
            )
        })
        .await;
    let arn = arn_of(&service);
    let with_tags = world
        .ecs
        .describe_services()
        .cluster("default")
        .services(&arn)
        .include(ServiceField::Tags)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe services: {e:?}"));
    let seen = &with_tags.services()[0];
    assert_eq!(
        seen.resource_management_type(),
        Some(&ResourceManagementType::Ecs)
    );
    assert_eq!(seen.status(), Some("ACTIVE"));
    assert!(seen.created_at().is_some());
    assert_eq!(seen.tags().len(), 1);
    assert_eq!(seen.tags()[0].value(), Some("ctl"));
    assert!(seen.launch_type().is_none());
    assert_eq!(
        seen.capacity_provider_strategy()
            .first()
            .map(|c| c.capacity_provider()),
        Some("FARGATE")
    );
    assert_eq!(seen.load_balancers()[0].container_name(), Some("Main"));
    assert_eq!(seen.desired_count(), 1);
    let without = ecs_service(&world, &arn).await;
    assert!(without.tags().is_empty());
    let express = world.describe(&arn).await;
    assert_eq!(express.tags().len(), 1);
}

#[tokio::test]
async fn inactive_services_are_not_listed() {
    let world = Express::new(65).await;
    let service = world.created("listed").await;
    world.deleted(&arn_of(&service)).await;
    assert!(list(&world.ecs, "default", None).await.is_empty());
}

// --- regular services ------------------------------------------------------------------------

/// The container `app` of `image`, its port 8080 named `http` (what Service Connect offers).
pub(crate) fn app_container(image: &str) -> ContainerDefinitionBuilder {
    ContainerDefinition::builder()
        .name("app")
        .image(image)
        .port_mappings(
            ecs::types::PortMapping::builder()
                .container_port(8080)
                .name("http")
                .build(),
        )
}

async fn task_definition(client: &ecs::Client) -> String {
    client
        .register_task_definition()
        .family("app")
        .network_mode(ecs::types::NetworkMode::Awsvpc)
        .requires_compatibilities(ecs::types::Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .container_definitions(app_container("app:1").build())
        .send()
        .await
        .unwrap_or_else(|e| panic!("register task definition: {e:?}"))
        .task_definition
        .and_then(|t| t.task_definition_arn)
        .unwrap_or_else(|| panic!("no task definition arn"))
}

pub(crate) async fn ensure_cluster(client: &ecs::Client, cluster: &str) {
    client
        .create_cluster()
        .cluster_name(cluster)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create cluster: {e:?}"));
}

fn awsvpc(net: &Network, with_groups: bool) -> NetworkConfiguration {
    let mut config = AwsVpcConfiguration::builder().subnets(&net.subnets[0]);
    if with_groups {
        config = config.security_groups(&net.group);
    }
    NetworkConfiguration::builder()
        .awsvpc_configuration(config.build().unwrap_or_else(|e| panic!("awsvpc: {e}")))
        .build()
}

/// `CreateService` of `name` in the cluster `default`: one Fargate task of `definition` on the
/// first subnet of `net`, with its security group.
fn create_service(
    client: &ecs::Client,
    net: &Network,
    definition: &str,
    name: &str,
) -> CreateService {
    client
        .create_service()
        .service_name(name)
        .task_definition(definition)
        .desired_count(1)
        .launch_type(LaunchType::Fargate)
        .network_configuration(awsvpc(net, true))
}

pub(crate) type CreateService =
    ecs::operation::create_service::builders::CreateServiceFluentBuilder;

/// The service `call` creates.
async fn created_service(call: CreateService) -> ecs::types::Service {
    call.send()
        .await
        .unwrap_or_else(|e| panic!("create service: {e:?}"))
        .service
        .unwrap_or_else(|| panic!("no service"))
}

/// The ARN of the service `call` creates.
pub(crate) async fn created_arn(call: CreateService) -> String {
    created_service(call)
        .await
        .service_arn
        .unwrap_or_else(|| panic!("create service: no arn"))
}

/// A fresh account with the network `10.<octet>.0.0/16`, the cluster `cluster` and the task
/// definition `app` (awsvpc, Fargate): where regular services are made.
struct Regular {
    account: String,
    ecs: ecs::Client,
    net: Network,
    definition: String,
}

impl Regular {
    async fn new(octet: u8, cluster: &str) -> Self {
        let account = emulator().new_account();
        let (ecs, ec2) = clients(&account).await;
        let net = network(&ec2, octet, false).await;
        ensure_cluster(&ecs, cluster).await;
        let definition = task_definition(&ecs).await;
        Self {
            account,
            ecs,
            net,
            definition,
        }
    }

    /// `CreateService` of `name`, as [`create_service`] makes it.
    fn create(&self, name: &str) -> CreateService {
        create_service(&self.ecs, &self.net, &self.definition, name)
    }
}

async fn list(
    client: &ecs::Client,
    cluster: &str,
    management: Option<ResourceManagementType>,
) -> BTreeSet<String> {
    let pages = sent_pages(
        "list services",
        |token| {
            client
                .list_services()
                .cluster(cluster)
                .set_resource_management_type(management.clone())
                .max_results(100)
                .set_next_token(token)
                .send()
        },
        |page| (page.service_arns().to_vec(), page.next_token),
    )
    .await;
    pages.items().into_iter().collect()
}

#[tokio::test]
async fn list_services_pages_with_max_results_and_returns_ten_by_default() {
    let world = Regular::new(66, "paged").await;
    let client = &world.ecs;
    let mut created = BTreeSet::new();
    for i in 0..12 {
        let arn = created_arn(
            world
                .create(&format!("svc-{i:02}"))
                .cluster("paged")
                .desired_count(0),
        )
        .await;
        created.insert(arn);
    }
    let first = client
        .list_services()
        .cluster("paged")
        .send()
        .await
        .unwrap_or_else(|e| panic!("list: {e:?}"));
    assert_eq!(first.service_arns().len(), 10);
    assert!(first.next_token().is_some());

    let pages = sent_pages(
        "list",
        |token| {
            client
                .list_services()
                .cluster("paged")
                .max_results(5)
                .set_next_token(token)
                .send()
        },
        |page| (page.service_arns().to_vec(), page.next_token),
    )
    .await;
    assert_eq!(pages.sizes(), vec![5, 5, 2]);
    assert_eq!(pages.items().into_iter().collect::<BTreeSet<_>>(), created);
}

#[tokio::test]
async fn list_services_rejects_more_than_a_hundred_results() {
    let account = emulator().new_account();
    let (client, _) = clients(&account).await;
    ensure_cluster(&client, "default").await;
    assert_fails_with(
        client.list_services().max_results(101).send().await,
        "InvalidParameterException",
        "maxResults is 1..100",
    );
}

#[tokio::test]
async fn regular_services_read_customer_resource_management_and_a_creation_time() {
    let world = Regular::new(67, "default").await;
    let arn = created_arn(world.create("plain")).await;
    let described = world
        .ecs
        .describe_services()
        .services(&arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    let service = &described.services()[0];
    assert_eq!(
        service.resource_management_type(),
        Some(&ResourceManagementType::Customer)
    );
    assert!(service.created_at().is_some());
}

#[tokio::test]
async fn create_service_without_security_groups_succeeds() {
    let world = Regular::new(68, "default").await;
    let net = &world.net;
    let service = created_service(
        world
            .create("no-groups")
            .network_configuration(awsvpc(net, false)),
    )
    .await;
    let awsvpc = service
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .unwrap_or_else(|| panic!("no awsvpc configuration"));
    assert_eq!(awsvpc.subnets(), &[net.subnets[0].clone()]);
    assert_eq!(
        awsvpc.assign_public_ip().map(|a| a.as_str()),
        Some("DISABLED")
    );
}

/// The deployment of `service` whose status is `PRIMARY`.
fn primary_deployment(service: &ecs::types::Service) -> &ecs::types::Deployment {
    service
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .unwrap_or_else(|| panic!("no primary deployment: {service:?}"))
}

/// Creates the Cloud Map HTTP namespace `name` in `account`; returns its ARN (a Service Connect
/// namespace must exist and be visible to the account).
async fn own_namespace(account: &str, name: &str) -> String {
    let config = emulator().sdk_config(account, REGION).await;
    create_namespace_arn(&aws_sdk_servicediscovery::Client::new(&config), name).await
}

#[tokio::test]
async fn create_service_keeps_service_connect_configuration_in_the_primary_deployment() {
    let world = Regular::new(69, "default").await;
    let client = &world.ecs;
    let namespace = own_namespace(&world.account, "connected").await;
    let service = created_service(
        world
            .create("connected")
            .service_connect_configuration(connect_to(&namespace, Some((8080, "http")))),
    )
    .await;
    let primary = primary_deployment(&service);
    let config = primary
        .service_connect_configuration()
        .unwrap_or_else(|| panic!("no Service Connect configuration"));
    assert!(config.enabled());
    assert_eq!(config.namespace(), Some(namespace.as_str()));
    assert_eq!(config.services()[0].port_name(), "http");
    assert_eq!(config.services()[0].discovery_name(), Some("http"));

    let described = client
        .describe_services()
        .services("connected")
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    let again = described.services()[0]
        .deployments()
        .iter()
        .find_map(|d| d.service_connect_configuration())
        .unwrap_or_else(|| panic!("no Service Connect configuration on describe"));
    assert_eq!(again.services()[0].client_aliases()[0].port(), 8080);
}

#[tokio::test]
async fn update_service_replaces_the_service_connect_configuration_of_the_primary_deployment() {
    let world = Regular::new(70, "default").await;
    let namespace = own_namespace(&world.account, "reconnected").await;
    created_service(world.create("reconnected")).await;
    let updated = world
        .ecs
        .update_service()
        .service("reconnected")
        .service_connect_configuration(connect_to(&namespace, Some((9090, "http"))))
        .send()
        .await
        .unwrap_or_else(|e| panic!("update service: {e:?}"))
        .service
        .unwrap_or_else(|| panic!("no service"));
    let config = primary_deployment(&updated)
        .service_connect_configuration()
        .unwrap_or_else(|| panic!("no Service Connect configuration"));
    assert_eq!(config.services()[0].client_aliases()[0].port(), 9090);
}

#[tokio::test]
async fn service_connect_to_a_namespace_of_the_account_reads_back_its_arn_and_cloud_map_service() {
    let world = Regular::new(71, "default").await;
    let config = emulator().sdk_config(&world.account, REGION).await;
    let cloud_map = aws_sdk_servicediscovery::Client::new(&config);
    cloud_map
        .create_http_namespace()
        .name("payments")
        .send()
        .await
        .unwrap_or_else(|e| panic!("create namespace: {e:?}"));
    let started = Instant::now();
    let namespace_arn = loop {
        let listed = cloud_map
            .list_namespaces()
            .send()
            .await
            .unwrap_or_else(|e| panic!("list namespaces: {e:?}"));
        let found = listed
            .namespaces()
            .iter()
            .find(|n| n.name() == Some("payments"))
            .and_then(|n| n.arn().map(str::to_owned));
        if let Some(arn) = found {
            break arn;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no namespace payments"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let service = created_service(
        world
            .create("ledger")
            .service_connect_configuration(connect_to("payments", Some((8080, "http")))),
    )
    .await;
    let primary = primary_deployment(&service);
    assert_eq!(
        primary
            .service_connect_configuration()
            .and_then(|c| c.namespace()),
        Some(namespace_arn.as_str())
    );
    let resources = primary.service_connect_resources();
    assert_eq!(resources.len(), 1);
    assert_eq!(resources[0].discovery_name(), Some("http"));
    assert!(
        resources[0]
            .discovery_arn()
            .is_some_and(|a| a.contains(":servicediscovery:") && a.contains(":service/srv-")),
        "{resources:?}"
    );
}

#[tokio::test]
async fn create_service_with_the_same_client_token_returns_the_existing_service() {
    let world = Regular::new(72, "default").await;
    let create = |token: Option<&str>| {
        world
            .create("retried")
            .set_client_token(token.map(str::to_owned))
            .send()
    };
    let first = create(Some("ecs-topology/svc@3"))
        .await
        .unwrap_or_else(|e| panic!("create: {e:?}"));
    let retry = create(Some("ecs-topology/svc@3"))
        .await
        .unwrap_or_else(|e| panic!("retry: {e:?}"));
    assert_eq!(
        first.service().and_then(|s| s.service_arn()),
        retry.service().and_then(|s| s.service_arn())
    );
    let message = assert_fails_with(
        create(None).await,
        "InvalidParameterException",
        "without the token the name is taken",
    );
    assert_eq!(message, "Creation of service was not idempotent.");
}

#[tokio::test]
async fn a_load_balancer_serves_at_most_twenty_five_express_services() {
    let world = Express::new(73).await;
    let mut balancers = Vec::new();
    for i in 0..26 {
        let service = world.created(&format!("svc-{i:02}")).await;
        let revision = world.current_revision(&service).await;
        balancers.push(
            load_balancer_of(&revision)
                .arn()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let distinct: BTreeSet<&String> = balancers.iter().collect();
    assert_eq!(distinct.len(), 2);
    assert!(balancers[..25].iter().all(|b| b == &balancers[0]));
    assert_ne!(balancers[25], balancers[0]);
}

#[tokio::test]
async fn delete_service_on_an_express_service_drains_it_like_delete_express_gateway_service() {
    let world = Express::new(74).await;
    let service = world.created("via-ecs").await;
    let arn = arn_of(&service);
    world
        .ecs
        .delete_service()
        .cluster("default")
        .service(&arn)
        .force(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("delete service: {e:?}"));
    let described = world.describe(&arn).await;
    assert_eq!(
        status_of(&described),
        Some(ExpressGatewayServiceStatusCode::Inactive)
    );
    assert!(list(&world.ecs, "default", None).await.is_empty());
}

#[tokio::test]
async fn an_express_primary_container_with_an_empty_command_reads_back_an_empty_command() {
    let world = Express::new(75).await;
    let service = world
        .created_with("empty-command", |call| {
            call.primary_container(app("app:1", Some(&[])))
        })
        .await;
    let described = world.describe(&arn_of(&service)).await;
    let primary = primary_of(&described);
    assert_eq!(primary.command, Some(Vec::new()));
}

/// The service as `DescribeServices` shows it.
async fn ecs_service(world: &Express, arn: &str) -> ecs::types::Service {
    let call = world
        .ecs
        .describe_services()
        .cluster("default")
        .services(arn);
    first_of(&format!("describe services {arn}"), call.send(), |r| {
        r.services()
    })
    .await
}

/// The service deployment `DescribeServices` names as the service's current one, as
/// `DescribeServiceDeployments` describes it (how the controller reads a deployment's outcome).
async fn current_deployment(world: &Express, arn: &str) -> ecs::types::ServiceDeployment {
    let service = ecs_service(world, arn).await;
    let current = service
        .current_service_deployment()
        .unwrap_or_else(|| panic!("no current service deployment: {service:?}"));
    let call = world
        .ecs
        .describe_service_deployments()
        .service_deployment_arns(current);
    first_of(
        &format!("describe deployments {current}"),
        call.send(),
        |r| r.service_deployments(),
    )
    .await
}

fn images_of(service: &EcsExpressGatewayService) -> Vec<String> {
    service
        .active_configurations()
        .iter()
        .filter_map(|c| c.primary_container().map(|p| p.image().to_owned()))
        .collect()
}

async fn update_image(world: &Express, arn: &str, image: &str) {
    world
        .update(arn)
        .primary_container(container(image))
        .send()
        .await
        .unwrap_or_else(|e| panic!("update {arn}: {e:?}"));
}

async fn wait_deployed(world: &Express, arn: &str) {
    wait_until(
        "no deployment of the service runs",
        Duration::from_secs(20),
        || async { world.describe(arn).await.current_deployment().is_none() },
    )
    .await;
}

#[tokio::test]
async fn an_update_of_a_listed_express_service_fails_and_rolls_back_while_an_unlisted_one_succeeds()
{
    let world = Express::new(76).await;
    let flaky = world.created("flaky").await;
    let steady = world.created("steady").await;
    let (flaky, steady) = (arn_of(&flaky), arn_of(&steady));
    let before = world.describe(&flaky).await;
    let first_revision = first_config(&before)
        .service_revision_arn
        .unwrap_or_default();
    let first_task_definition = ecs_service(&world, &flaky)
        .await
        .task_definition()
        .unwrap_or_default()
        .to_owned();
    emulator()
        .set_settings(
            &[&world.account],
            json!({"ecs.express_deploy": 1, "ecs.express_fail_services": ["flaky"]}),
        )
        .await;

    update_image(&world, &flaky, "app:2").await;
    update_image(&world, &steady, "app:2").await;
    let running = current_deployment(&world, &flaky).await;
    assert_eq!(running.status().map(|s| s.as_str()), Some("IN_PROGRESS"));
    wait_deployed(&world, &flaky).await;
    wait_deployed(&world, &steady).await;

    let failed = current_deployment(&world, &flaky).await;
    assert_eq!(
        failed.service_deployment_arn(),
        running.service_deployment_arn()
    );
    assert_eq!(
        failed.status().map(|s| s.as_str()),
        Some("ROLLBACK_SUCCESSFUL")
    );
    assert!(failed.status_reason().is_some_and(|r| !r.is_empty()));
    assert!(failed.finished_at().is_some());
    let rollback = failed
        .rollback()
        .unwrap_or_else(|| panic!("no rollback: {failed:?}"));
    assert_eq!(
        rollback.reason(),
        Some("ECS deployment circuit breaker: tasks failed to start.")
    );
    assert_eq!(
        rollback.service_revision_arn(),
        Some(first_revision.as_str())
    );
    assert!(rollback.started_at().is_some());
    let breaker = failed
        .deployment_circuit_breaker()
        .unwrap_or_else(|| panic!("no circuit breaker: {failed:?}"));
    assert_eq!(breaker.status().map(|s| s.as_str()), Some("TRIGGERED"));
    assert_eq!(breaker.failure_count(), breaker.threshold());
    assert_eq!(
        failed
            .target_service_revision()
            .map(|r| r.running_task_count()),
        Some(0)
    );

    // The previous configuration is the active one again, in every view.
    let after = world.describe(&flaky).await;
    assert_eq!(images_of(&after), vec!["public.ecr.aws/nginx/nginx:1.27"]);
    assert_eq!(
        first_config(&after).service_revision_arn(),
        Some(first_revision.as_str())
    );
    let classic = ecs_service(&world, &flaky).await;
    assert_eq!(
        classic.task_definition(),
        Some(first_task_definition.as_str())
    );
    let rollouts: Vec<_> = classic
        .deployments()
        .iter()
        .map(|d| {
            (
                d.status().unwrap_or_default().to_owned(),
                d.rollout_state().map(|r| r.as_str().to_owned()),
            )
        })
        .collect();
    assert_eq!(
        rollouts,
        vec![("PRIMARY".to_owned(), Some("COMPLETED".to_owned()))]
    );
    let listed = world
        .ecs
        .list_service_deployments()
        .service(&flaky)
        .send()
        .await
        .unwrap_or_else(|e| panic!("list deployments: {e:?}"));
    let statuses: Vec<_> = listed
        .service_deployments()
        .iter()
        .filter_map(|d| d.status().map(|s| s.as_str().to_owned()))
        .collect();
    assert_eq!(statuses, vec!["ROLLBACK_SUCCESSFUL", "SUCCESSFUL"]);

    // The unlisted service deployed its update.
    let succeeded = current_deployment(&world, &steady).await;
    assert_eq!(succeeded.status().map(|s| s.as_str()), Some("SUCCESSFUL"));
    assert!(succeeded.rollback().is_none());
    assert_eq!(images_of(&world.describe(&steady).await), vec!["app:2"]);
}

#[tokio::test]
async fn after_a_rollback_an_update_starts_from_the_restored_configuration() {
    let world = Express::new(77).await;
    let arn = arn_of(&world.created("restored").await);
    emulator()
        .set_settings(
            &[&world.account],
            json!({"ecs.express_fail_services": ["restored"]}),
        )
        .await;
    update_image(&world, &arn, "app:2").await;
    wait_deployed(&world, &arn).await;
    emulator()
        .set_settings(&[&world.account], json!({"ecs.express_fail_services": []}))
        .await;

    world
        .updated(&arn, |call| call.cpu("2048").memory("4096"))
        .await;
    wait_deployed(&world, &arn).await;

    let service = world.describe(&arn).await;
    assert_eq!(images_of(&service), vec!["public.ecr.aws/nginx/nginx:1.27"]);
    assert_eq!(first_config(&service).cpu(), Some("2048"));
    assert_eq!(
        current_deployment(&world, &arn)
            .await
            .status()
            .map(|s| s.as_str()),
        Some("SUCCESSFUL")
    );
}

#[tokio::test]
async fn a_create_of_a_listed_express_service_fails_and_stalls_with_nothing_to_roll_back_to() {
    let world = Express::new(78).await;
    emulator()
        .set_settings(
            &[&world.account],
            json!({"ecs.express_deploy": 0.5, "ecs.express_fail_services": ["doomed"]}),
        )
        .await;
    let arn = arn_of(&world.created("doomed").await);
    wait_deployed(&world, &arn).await;

    let failed = current_deployment(&world, &arn).await;
    assert_eq!(failed.status().map(|s| s.as_str()), Some("ROLLBACK_FAILED"));
    let rollback = failed
        .rollback()
        .unwrap_or_else(|| panic!("no rollback: {failed:?}"));
    assert_eq!(rollback.service_revision_arn(), None);
    let service = world.describe(&arn).await;
    assert_eq!(
        status_of(&service),
        Some(ExpressGatewayServiceStatusCode::Active)
    );
    assert_eq!(images_of(&service), vec!["public.ecr.aws/nginx/nginx:1.27"]);
    let classic = ecs_service(&world, &arn).await;
    assert_eq!(classic.running_count(), 0);
    let rollouts: Vec<_> = classic
        .deployments()
        .iter()
        .map(|d| {
            (
                d.rollout_state().map(|r| r.as_str().to_owned()),
                d.rollout_state_reason().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        rollouts,
        vec![(
            Some("FAILED".to_owned()),
            Some("ECS deployment circuit breaker: tasks failed to start.".to_owned())
        )]
    );
}

//! Service Connect on classic ECS services as the emulator serves it to the Rust SDK: the
//! deployment an `UpdateService` starts (in progress, completed, failed and rolled back), the
//! defaults ECS fills in, which namespaces an account may join (its own by name or ARN, another
//! account's only by ARN once shared through RAM), `DescribeServices` limits, failures and tags,
//! the tag operations by service ARN, and the throttling family of these calls.

use std::time::{Duration, Instant};

use aws_sdk_ecs as ecs;
use aws_sdk_ecs::types::{
    Deployment, DeploymentRolloutState, ServiceConnectClientAlias, ServiceConnectConfiguration,
    ServiceConnectService, ServiceField, Tag,
};
use aws_sdk_ram as ram;
use aws_sdk_servicediscovery as sd;
use ecs_topology_testkit::emulator;
use serde_json::json;

use crate::cloudmap::create_namespace_arn;
use crate::ecs::{app_container, created_arn, ensure_cluster};
use crate::ram::share;
use crate::{assert_fails_with, assert_fails_with_status, first_of, refused};

const REGION: &str = "eu-central-1";
const CLUSTER: &str = "apps";
const NAMESPACE_NOT_FOUND: &str = "The specified namespace wasn't found.";
const CIRCUIT_BREAKER: &str = "ECS deployment circuit breaker: tasks failed to start.";

/// An account with a cluster and a task definition whose container has the port `http`.
struct World {
    account: String,
    ecs: ecs::Client,
    cloud_map: sd::Client,
    ram: ram::Client,
}

impl World {
    /// A fresh account whose deployments take `deploy` seconds.
    async fn new(deploy: f64) -> Self {
        let account = emulator().new_account();
        emulator()
            .set_settings(&[&account], json!({"ecs.service_deploy": deploy}))
            .await;
        let config = emulator().sdk_config(&account, REGION).await;
        let world = Self {
            ecs: ecs::Client::new(&config),
            cloud_map: sd::Client::new(&config),
            ram: ram::Client::new(&config),
            account,
        };
        ensure_cluster(&world.ecs, CLUSTER).await;
        for image in ["app:1", "app:2"] {
            world.register(image).await;
        }
        world
    }

    async fn register(&self, image: &str) {
        self.ecs
            .register_task_definition()
            .family("app")
            .container_definitions(app_container(image).memory(512).build())
            .send()
            .await
            .unwrap_or_else(|e| panic!("register task definition: {e:?}"));
    }

    /// Creates the HTTP namespace `name`; returns its ARN.
    async fn namespace(&self, name: &str) -> String {
        create_namespace_arn(&self.cloud_map, name).await
    }

    /// Shares the namespace with `consumer` with the Cloud Map ECS permission; returns the share.
    async fn share(&self, namespace_arn: &str, consumer: &str) -> String {
        share(&self.ram, "service-connect", namespace_arn, &[consumer]).await
    }

    /// Creates the service `name` (task definition `app:1`, one task); returns its ARN.
    async fn service(&self, name: &str) -> String {
        let call = self
            .ecs
            .create_service()
            .cluster(CLUSTER)
            .service_name(name)
            .task_definition("app:1")
            .desired_count(1)
            .tags(Tag::builder().key("team").value("payments").build());
        created_arn(call).await
    }

    fn update(
        &self,
        name: &str,
    ) -> ecs::operation::update_service::builders::UpdateServiceFluentBuilder {
        self.ecs.update_service().cluster(CLUSTER).service(name)
    }

    /// `UpdateService` with `config`; returns the deployments of the reply.
    async fn connect(&self, name: &str, config: ServiceConnectConfiguration) -> Vec<Deployment> {
        self.update(name)
            .service_connect_configuration(config)
            .send()
            .await
            .unwrap_or_else(|e| panic!("update service {name}: {e:?}"))
            .service
            .map(|s| s.deployments().to_vec())
            .unwrap_or_default()
    }

    async fn described(&self, name: &str) -> ecs::types::Service {
        let call = self.ecs.describe_services().cluster(CLUSTER).services(name);
        first_of(&format!("describe {name}"), call.send(), |r| r.services()).await
    }

    /// `TagResource` of `arn` with the tag `key`=`value`, not yet sent.
    fn tagging(
        &self,
        arn: &str,
        key: &str,
        value: &str,
    ) -> ecs::operation::tag_resource::builders::TagResourceFluentBuilder {
        let tag = Tag::builder().key(key).value(value).build();
        self.ecs.tag_resource().resource_arn(arn).tags(tag)
    }

    /// Removes the tag `key` from `arn`.
    async fn untag(&self, arn: &str, key: &str) {
        self.ecs
            .untag_resource()
            .resource_arn(arn)
            .tag_keys(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("untag {key} of {arn}: {e:?}"));
    }

    async fn deployments(&self, name: &str) -> Vec<Deployment> {
        self.described(name).await.deployments().to_vec()
    }

    /// Waits until the service has one deployment and it is in `state`.
    async fn settled(&self, name: &str, state: DeploymentRolloutState) -> Vec<Deployment> {
        let started = Instant::now();
        loop {
            let deployments = self.deployments(name).await;
            if deployments.len() == 1 && deployments[0].rollout_state() == Some(&state) {
                return deployments;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{name} never settled in {state:?}: {deployments:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Asserts that the first of `resources` was registered as a Cloud Map service of `account`.
#[track_caller]
fn assert_discovered_in(resources: &[ecs::types::ServiceConnectServiceResource], account: &str) {
    let prefix = format!("arn:aws:servicediscovery:{REGION}:{account}:service/srv-");
    assert!(
        resources[0]
            .discovery_arn()
            .is_some_and(|a| a.starts_with(&prefix)),
        "not a Cloud Map service of {account}: {resources:?}"
    );
}

/// Service Connect in `namespace` offering the port `http` under `alias` (if any; an empty DNS
/// name leaves it to ECS).
pub(crate) fn connect_to(
    namespace: &str,
    alias: Option<(i32, &str)>,
) -> ServiceConnectConfiguration {
    let mut service = ServiceConnectService::builder().port_name("http");
    if let Some((port, dns)) = alias {
        let mut alias = ServiceConnectClientAlias::builder().port(port);
        if !dns.is_empty() {
            alias = alias.dns_name(dns);
        }
        service = service.client_aliases(alias.build().unwrap_or_else(|e| panic!("alias: {e}")));
    }
    ServiceConnectConfiguration::builder()
        .enabled(true)
        .namespace(namespace)
        .services(service.build().unwrap_or_else(|e| panic!("service: {e}")))
        .build()
}

fn roles(deployments: &[Deployment]) -> Vec<(String, String)> {
    deployments
        .iter()
        .map(|d| {
            (
                d.status().unwrap_or_default().to_owned(),
                d.rollout_state()
                    .map(|r| r.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn pair(status: &str, rollout: &str) -> (String, String) {
    (status.to_owned(), rollout.to_owned())
}

fn namespace_of(deployment: &Deployment) -> Option<&str> {
    deployment
        .service_connect_configuration()
        .and_then(|c| c.namespace())
}

#[tokio::test]
async fn update_service_with_service_connect_starts_a_primary_deployment_that_completes_in_time() {
    let world = World::new(1.0).await;
    let namespace = world.namespace("payments").await;
    world.service("ledger").await;
    let first = world
        .settled("ledger", DeploymentRolloutState::Completed)
        .await;

    let started = world
        .connect("ledger", connect_to("payments", Some((80, "ledger"))))
        .await;
    assert_eq!(
        roles(&started),
        vec![pair("PRIMARY", "IN_PROGRESS"), pair("ACTIVE", "COMPLETED")]
    );
    assert_ne!(started[0].id(), first[0].id(), "a new deployment");
    assert_eq!(
        started[1].id(),
        first[0].id(),
        "the old one serves meanwhile"
    );
    assert_eq!(namespace_of(&started[0]), Some(namespace.as_str()));
    assert!(started[1].service_connect_configuration().is_none());

    let done = world
        .settled("ledger", DeploymentRolloutState::Completed)
        .await;
    assert_eq!(done[0].id(), started[0].id());
    assert_eq!(done[0].status(), Some("PRIMARY"));
    assert_eq!(namespace_of(&done[0]), Some(namespace.as_str()));
    assert_eq!(done[0].running_count(), 1);
}

#[tokio::test]
async fn service_connect_reads_back_with_the_defaults_ecs_fills_in() {
    let world = World::new(0.0).await;
    let namespace = world.namespace("orders").await;
    world.service("basket").await;
    let deployments = world
        .connect("basket", connect_to("orders", Some((8080, ""))))
        .await;
    let primary = &deployments[0];
    let config = primary
        .service_connect_configuration()
        .unwrap_or_else(|| panic!("no Service Connect configuration: {primary:?}"));
    assert!(config.enabled());
    assert_eq!(
        config.namespace(),
        Some(namespace.as_str()),
        "the namespace as its ARN"
    );
    let service = &config.services()[0];
    assert_eq!(service.port_name(), "http");
    assert_eq!(
        service.discovery_name(),
        Some("http"),
        "discoveryName defaults to portName"
    );
    assert_eq!(service.client_aliases()[0].port(), 8080);
    assert_eq!(
        service.client_aliases()[0].dns_name(),
        Some("http.orders"),
        "dnsName defaults to discoveryName.namespace"
    );
    assert_eq!(service.ingress_port_override(), None);
    let resources = primary.service_connect_resources();
    assert_eq!(resources.len(), 1);
    assert_eq!(resources[0].discovery_name(), Some("http"));
    assert_discovered_in(resources, &world.account);
}

#[tokio::test]
async fn an_own_namespace_is_found_by_its_arn_too() {
    let world = World::new(0.0).await;
    let namespace = world.namespace("inventory").await;
    world.service("stock").await;
    let deployments = world.connect("stock", connect_to(&namespace, None)).await;
    assert_eq!(namespace_of(&deployments[0]), Some(namespace.as_str()));
}

#[tokio::test]
async fn a_namespace_shared_with_the_cloud_map_ecs_permission_is_joined_by_arn() {
    let owner = World::new(0.0).await;
    let consumer = World::new(0.0).await;
    let namespace = owner.namespace("shared-payments").await;
    consumer.service("checkout").await;

    assert_eq!(
        refused(
            consumer
                .update("checkout")
                .service_connect_configuration(connect_to(&namespace, None))
                .send()
                .await,
            "not shared yet"
        ),
        (
            "NamespaceNotFoundException".to_owned(),
            NAMESPACE_NOT_FOUND.to_owned(),
            400
        )
    );

    owner.share(&namespace, &consumer.account).await;
    let deployments = consumer
        .connect("checkout", connect_to(&namespace, Some((443, "payments"))))
        .await;
    assert_eq!(namespace_of(&deployments[0]), Some(namespace.as_str()));
    let resources = deployments[0].service_connect_resources();
    // The Cloud Map service belongs to the consumer.
    assert_discovered_in(resources, &consumer.account);
}

#[tokio::test]
async fn a_shared_namespace_named_by_name_is_not_found() {
    let owner = World::new(0.0).await;
    let consumer = World::new(0.0).await;
    let namespace = owner.namespace("by-name-only-own").await;
    owner.share(&namespace, &consumer.account).await;
    consumer.service("checkout").await;
    let message = assert_fails_with(
        consumer
            .update("checkout")
            .service_connect_configuration(connect_to("by-name-only-own", None))
            .send()
            .await,
        "NamespaceNotFoundException",
        "a shared namespace is named by ARN",
    );
    assert_eq!(message, NAMESPACE_NOT_FOUND);
}

#[tokio::test]
async fn a_namespace_no_longer_shared_is_not_found() {
    let owner = World::new(0.0).await;
    let consumer = World::new(0.0).await;
    let namespace = owner.namespace("withdrawn").await;
    let share = owner.share(&namespace, &consumer.account).await;
    owner
        .ram
        .disassociate_resource_share()
        .resource_share_arn(&share)
        .principals(&consumer.account)
        .send()
        .await
        .unwrap_or_else(|e| panic!("disassociate: {e:?}"));
    assert_fails_with(
        consumer
            .ecs
            .create_service()
            .cluster(CLUSTER)
            .service_name("late")
            .task_definition("app:1")
            .service_connect_configuration(connect_to(&namespace, None))
            .send()
            .await,
        "NamespaceNotFoundException",
        "the share no longer reaches the consumer",
    );
    let listed = consumer
        .ecs
        .list_services()
        .cluster(CLUSTER)
        .send()
        .await
        .unwrap_or_else(|e| panic!("list: {e:?}"));
    assert!(listed.service_arns().is_empty(), "nothing was created");
}

#[tokio::test]
async fn a_namespace_of_another_region_is_not_found() {
    let world = World::new(0.0).await;
    let namespace = world.namespace("regional").await;
    world.service("elsewhere").await;
    let other_region = namespace.replace(REGION, "us-west-2");
    assert_fails_with(
        world
            .update("elsewhere")
            .service_connect_configuration(connect_to(&other_region, None))
            .send()
            .await,
        "NamespaceNotFoundException",
        "the namespace must be in the service's Region",
    );
}

#[tokio::test]
async fn a_port_name_missing_from_the_task_definition_is_refused() {
    let world = World::new(0.0).await;
    world.namespace("ports").await;
    world.service("portless").await;
    let config = ServiceConnectConfiguration::builder()
        .enabled(true)
        .namespace("ports")
        .services(
            ServiceConnectService::builder()
                .port_name("grpc")
                .build()
                .unwrap_or_else(|e| panic!("service: {e}")),
        )
        .build();
    assert_fails_with(
        world
            .update("portless")
            .service_connect_configuration(config)
            .send()
            .await,
        "InvalidParameterException",
        "grpc is no port mapping of the task definition",
    );
}

#[tokio::test]
async fn a_new_deployment_without_service_connect_keeps_the_current_configuration() {
    let world = World::new(0.0).await;
    let namespace = world.namespace("kept").await;
    world.service("steady").await;
    let connected = world.connect("steady", connect_to("kept", None)).await;
    let forced = world
        .update("steady")
        .force_new_deployment(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("force new deployment: {e:?}"))
        .service
        .map(|s| s.deployments().to_vec())
        .unwrap_or_default();
    assert_ne!(forced[0].id(), connected[0].id());
    assert_eq!(namespace_of(&forced[0]), Some(namespace.as_str()));
}

#[tokio::test]
async fn a_desired_count_change_starts_no_deployment() {
    let world = World::new(0.0).await;
    world.service("scaled").await;
    let before = world
        .settled("scaled", DeploymentRolloutState::Completed)
        .await;
    world
        .update("scaled")
        .desired_count(3)
        .send()
        .await
        .unwrap_or_else(|e| panic!("scale: {e:?}"));
    let after = world.deployments("scaled").await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id(), before[0].id());
    assert_eq!(after[0].desired_count(), 3);
}

#[tokio::test]
async fn a_failing_deployment_fails_and_rolls_back_to_the_last_completed_one() {
    let world = World::new(1.0).await;
    world.namespace("fragile").await;
    world.service("flaky").await;
    let first = world
        .settled("flaky", DeploymentRolloutState::Completed)
        .await;
    emulator()
        .set_settings(
            &[&world.account],
            json!({"ecs.service_fail_services": ["flaky"]}),
        )
        .await;
    let started = world
        .update("flaky")
        .task_definition("app:2")
        .service_connect_configuration(connect_to("fragile", None))
        .send()
        .await
        .unwrap_or_else(|e| panic!("update: {e:?}"))
        .service
        .map(|s| s.deployments().to_vec())
        .unwrap_or_default();
    assert_eq!(
        roles(&started),
        vec![pair("PRIMARY", "IN_PROGRESS"), pair("ACTIVE", "COMPLETED")]
    );

    // The circuit breaker fails it; ECS rolls back to the deployment that completed.
    let started_at = Instant::now();
    let rolling_back = loop {
        let now = world.deployments("flaky").await;
        if now
            .iter()
            .any(|d| d.rollout_state() == Some(&DeploymentRolloutState::Failed))
        {
            break now;
        }
        assert!(
            started_at.elapsed() < Duration::from_secs(10),
            "never failed: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        roles(&rolling_back),
        vec![pair("PRIMARY", "IN_PROGRESS"), pair("ACTIVE", "FAILED")]
    );
    assert_eq!(
        rolling_back[0].id(),
        first[0].id(),
        "the restored deployment"
    );
    assert_eq!(rolling_back[1].id(), started[0].id(), "the failed one");
    assert_eq!(
        rolling_back[1].rollout_state_reason(),
        Some(CIRCUIT_BREAKER)
    );
    assert!(rolling_back[1].failed_tasks() > 0);
    assert!(namespace_of(&rolling_back[1]).is_some());

    let done = world
        .settled("flaky", DeploymentRolloutState::Completed)
        .await;
    assert_eq!(done[0].id(), first[0].id());
    assert!(
        done[0].service_connect_configuration().is_none(),
        "Service Connect rolled back"
    );
    let service = world.described("flaky").await;
    assert!(
        service
            .task_definition()
            .is_some_and(|t| t.ends_with("app:1")),
        "{:?}",
        service.task_definition()
    );
    let events: Vec<&str> = service
        .events()
        .iter()
        .filter_map(|e| e.message())
        .collect();
    assert!(
        events
            .iter()
            .any(|m| m.contains("deployment failed: tasks failed to start.")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|m| m.contains("rolling back to deployment")),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_failing_first_deployment_stays_failed_with_nothing_to_roll_back_to() {
    let world = World::new(0.2).await;
    emulator()
        .set_settings(
            &[&world.account],
            json!({"ecs.service_fail_services": ["doomed"]}),
        )
        .await;
    world.service("doomed").await;
    let failed = world
        .settled("doomed", DeploymentRolloutState::Failed)
        .await;
    assert_eq!(failed[0].status(), Some("PRIMARY"));
    assert_eq!(failed[0].rollout_state_reason(), Some(CIRCUIT_BREAKER));
    assert_eq!(failed[0].running_count(), 0);
}

#[tokio::test]
async fn describe_services_takes_at_most_ten_services_and_reports_missing_ones() {
    let world = World::new(0.0).await;
    let arn = world.service("present").await;
    let reply = world
        .ecs
        .describe_services()
        .cluster(CLUSTER)
        .services(&arn)
        .services("absent")
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    assert_eq!(reply.services().len(), 1);
    let failures = reply.failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].reason(), Some("MISSING"));
    assert_eq!(
        failures[0].arn(),
        Some(arn.replace("present", "absent").as_str())
    );

    let eleven: Vec<String> = (0..11).map(|i| format!("svc-{i}")).collect();
    let message = assert_fails_with_status(
        world
            .ecs
            .describe_services()
            .cluster(CLUSTER)
            .set_services(Some(eleven))
            .send()
            .await,
        "InvalidParameterException",
        400,
        "ten services at most",
    );
    assert_eq!(message, "service names can have at most 10 items.");
}

#[tokio::test]
async fn describe_services_returns_tags_only_when_asked() {
    let world = World::new(0.0).await;
    world.service("tagged").await;
    let plain = world.described("tagged").await;
    assert!(plain.tags().is_empty(), "{:?}", plain.tags());
    let with_tags = world
        .ecs
        .describe_services()
        .cluster(CLUSTER)
        .services("tagged")
        .include(ServiceField::Tags)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe: {e:?}"));
    let tags = with_tags.services()[0].tags();
    assert_eq!(tags.len(), 1);
    assert_eq!(
        (tags[0].key(), tags[0].value()),
        (Some("team"), Some("payments"))
    );
}

#[tokio::test]
async fn service_tags_are_added_listed_and_removed_by_service_arn() {
    let world = World::new(0.0).await;
    let arn = world.service("labelled").await;
    world
        .tagging(&arn, "ecs-topology.dev/owner", "ctl")
        .send()
        .await
        .unwrap_or_else(|e| panic!("tag: {e:?}"));
    world.untag(&arn, "team").await;
    let listed = world
        .ecs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("list tags: {e:?}"));
    let tags: Vec<(Option<&str>, Option<&str>)> =
        listed.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, vec![(Some("ecs-topology.dev/owner"), Some("ctl"))]);

    assert_fails_with(
        world
            .tagging(&arn.replace("labelled", "unknown"), "k", "v")
            .send()
            .await,
        "ResourceNotFoundException",
        "no such service",
    );
}

#[tokio::test]
async fn service_changes_share_one_bucket_and_reads_another() {
    let world = World::new(0.0).await;
    world.service("busy").await;
    emulator()
        .set_profile(
            &[&world.account],
            json!({"throttle": {"families": {
                "ecs:service-changes": {"burst": 1, "refill": 0.0001},
                "ecs:service-reads": {"burst": 1, "refill": 0.0001},
            }}}),
        )
        .await;
    let before = emulator().calls().await;
    world
        .update("busy")
        .desired_count(2)
        .send()
        .await
        .unwrap_or_else(|e| panic!("the first change passes: {e:?}"));
    assert_fails_with(
        world
            .ecs
            .create_service()
            .cluster(CLUSTER)
            .service_name("second")
            .task_definition("app:1")
            .send()
            .await,
        "ThrottlingException",
        "CreateService draws on the bucket UpdateService emptied",
    );
    world
        .ecs
        .list_services()
        .cluster(CLUSTER)
        .send()
        .await
        .unwrap_or_else(|e| panic!("reads have their own bucket: {e:?}"));
    assert_fails_with(
        world
            .ecs
            .describe_services()
            .cluster(CLUSTER)
            .services("busy")
            .send()
            .await,
        "ThrottlingException",
        "DescribeServices shares the bucket ListServices emptied",
    );
    emulator().set_profile(&[&world.account], json!(null)).await;

    let calls = emulator().calls().await.since(&before);
    assert_eq!(calls.count(&world.account, "UpdateService"), 1);
    assert_eq!(calls.count(&world.account, "CreateService"), 1);
    assert_eq!(calls.throttled(&world.account), 2);
}

//! A failed Express deployment in the daemon: the update ECS rolled back is not sent again on
//! every poll, only when the document changes (`last_applied` and `spec_digest` in the Express
//! plan). The emulator fails the deployments of the services listed in
//! `ecs.express_fail_services` and rolls them back as ECS's circuit breaker does; its call
//! counter is the independent count of the updates the daemon sent.

use std::time::Duration;

use aws_sdk_ecs::types::ServiceDeploymentStatus;
use ecs_topology_testkit::emulator;
use serde_json::json;

use crate::harness::*;

const SERVICE: &str = "web";
/// How many observation passes (polls of one second) the daemon makes after a failed deployment
/// before the test counts the updates it sent.
const POLLS: u64 = 5;

fn express_doc(account_id: &str, image: &str) -> String {
    format!(
        "apiVersion: ecs-topology.dev/v1alpha1\nkind: ExpressService\nmetadata: {{name: {SERVICE}}}\nspec:\n  account: server\n  region: {REGION}\n  serviceName: {SERVICE}\n  executionRoleArn: arn:aws:iam::{account_id}:role/ecsTaskExecutionRole\n  infrastructureRoleArn: arn:aws:iam::{account_id}:role/ecsInfrastructureRoleForExpressServices\n  primaryContainer: {{image: '{image}', port: 8080}}\n"
    )
}

/// The server account's view of the service through the SDK.
struct Service {
    ecs: aws_sdk_ecs::Client,
    arn: String,
}

impl Service {
    async fn of(setup: &Setup) -> Service {
        let config = emulator().sdk_config(&setup.server, REGION).await;
        Service {
            ecs: aws_sdk_ecs::Client::new(&config),
            arn: format!(
                "arn:aws:ecs:{REGION}:{}:service/default/{SERVICE}",
                setup.server
            ),
        }
    }

    /// The images of the active configurations, when the service exists and no deployment of it
    /// runs.
    async fn settled_images(&self) -> Option<Vec<String>> {
        let reply = self
            .ecs
            .describe_express_gateway_service()
            .service_arn(&self.arn)
            .send()
            .await
            .ok()?;
        let service = reply.service()?;
        if service.current_deployment().is_some() {
            return None;
        }
        Some(
            service
                .active_configurations()
                .iter()
                .filter_map(|c| c.primary_container().map(|p| p.image().to_owned()))
                .collect(),
        )
    }

    /// How many of the service's deployments ended rolled back.
    async fn rolled_back(&self) -> usize {
        self.ecs
            .list_service_deployments()
            .cluster("default")
            .service(&self.arn)
            .status(ServiceDeploymentStatus::RollbackSuccessful)
            .max_results(100)
            .send()
            .await
            .map(|r| r.service_deployments().len())
            .unwrap_or(0)
    }
}

/// The last lines of the daemon's log, for a failure message.
fn log_tail(daemon: &Daemon) -> String {
    let log = daemon.log();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

async fn updates_since(setup: &Setup, before: &ecs_topology_testkit::Calls) -> u64 {
    emulator()
        .calls()
        .await
        .since(before)
        .count(&setup.server, "UpdateExpressGatewayService")
}

/// Waits until the daemon has made `POLLS` more observation passes of the service's cluster
/// (its `ListServices` calls, counted by the emulator).
async fn let_the_daemon_poll(setup: &Setup) {
    let start = emulator().calls().await;
    eventually(
        Duration::from_secs(60),
        "the daemon polls the cluster again",
        || async {
            emulator()
                .calls()
                .await
                .since(&start)
                .count(&setup.server, "ListServices")
                >= POLLS
        },
    )
    .await;
}

/// Writes the document with `image`, waits until its deployment has failed and been rolled
/// back (the `nth` rollback of the test), lets the daemon poll, and returns how many updates
/// were sent meanwhile.
async fn fail_deployment(setup: &Setup, service: &Service, image: &str, nth: usize) -> u64 {
    let before = emulator().calls().await;
    setup
        .put("web.yaml", &express_doc(&setup.server, image))
        .await;
    eventually(
        Duration::from_secs(60),
        &format!("the update to {image} is sent, fails and is rolled back"),
        || async { service.rolled_back().await >= nth },
    )
    .await;
    let_the_daemon_poll(setup).await;
    updates_since(setup, &before).await
}

#[tokio::test]
async fn a_failed_express_deployment_is_sent_once_per_document_revision_not_once_per_poll() {
    let setup = Setup::new("").await;
    let service = Service::of(&setup).await;
    setup
        .put("web.yaml", &express_doc(&setup.server, "app:1"))
        .await;
    let daemon = setup.start(&setup.s3_source());
    eventually(
        Duration::from_secs(60),
        "the service runs app:1",
        || async { service.settled_images().await == Some(vec!["app:1".to_owned()]) },
    )
    .await;

    // From now on every deployment of the service runs a second, then fails and rolls back.
    emulator()
        .set_settings(
            &[setup.server.as_str()],
            json!({"ecs.express_deploy": 1, "ecs.express_fail_services": [SERVICE]}),
        )
        .await;

    let before = emulator().calls().await;
    let sent = fail_deployment(&setup, &service, "app:2", 1).await;
    assert_eq!(
        sent,
        1,
        "one UpdateExpressGatewayService for the revision with app:2, not one per poll; \
         {} deployments rolled back\n{}",
        service.rolled_back().await,
        log_tail(&daemon)
    );
    assert_eq!(
        service.settled_images().await,
        Some(vec!["app:1".to_owned()]),
        "ECS keeps the configuration it rolled back to"
    );

    assert_eq!(
        fail_deployment(&setup, &service, "app:3", 2).await,
        1,
        "one more UpdateExpressGatewayService for the revision with app:3\n{}",
        log_tail(&daemon)
    );
    assert_eq!(updates_since(&setup, &before).await, 2);
    assert_eq!(
        service.settled_images().await,
        Some(vec!["app:1".to_owned()])
    );
}

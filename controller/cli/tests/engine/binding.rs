//! `ServiceConnectBinding` end to end: existing ECS services (made here as an operator's stack
//! would) join a namespace of their own account or one another account shares, in order, and
//! are changed only when they differ.

use std::time::Duration;

use aws_sdk_ecs::types::{ContainerDefinition, PortMapping, Service, ServiceField};
use ecs_topology_testkit::emulator;

use crate::world::{REGION, World, condition};

const CLUSTER: &str = "apps";

impl World {
    /// Creates, in `account`, the cluster `apps`, a task definition whose container offers the
    /// port `app`, and the service `name` running it; returns the service's ARN.
    async fn operator_service(&self, account: &str, name: &str) -> String {
        self.cluster(account, CLUSTER).await;
        let ecs = self.ecs(account).await;
        ecs.register_task_definition()
            .family(name)
            .container_definitions(
                ContainerDefinition::builder()
                    .name("app")
                    .image("public.ecr.aws/example/app:1")
                    .memory(512)
                    .port_mappings(
                        PortMapping::builder()
                            .container_port(8080)
                            .name("app")
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
        ecs.create_service()
            .cluster(CLUSTER)
            .service_name(name)
            .task_definition(name)
            .desired_count(1)
            .send()
            .await
            .unwrap()
            .service
            .unwrap()
            .service_arn
            .unwrap()
    }

    /// The service `name` of the cluster `apps` of `account`, with its tags.
    async fn operator_service_now(&self, account: &str, name: &str) -> Service {
        let reply = self
            .ecs(account)
            .await
            .describe_services()
            .cluster(CLUSTER)
            .services(name)
            .include(ServiceField::Tags)
            .send()
            .await
            .unwrap();
        reply.services()[0].clone()
    }
}

/// A binding of the service `service` of `account` (an alias) to the namespace document
/// `namespace`; `services` is the YAML flow list of its entries.
fn binding_doc(
    name: &str,
    account: &str,
    service: &str,
    namespace: &str,
    services: &str,
) -> String {
    format!(
        "apiVersion: ecs-topology.dev/v1alpha1\nkind: ServiceConnectBinding\nmetadata:\n  name: {name}\nspec:\n  account: {account}\n  region: {REGION}\n  cluster: {CLUSTER}\n  service: {service}\n  namespaceRef: {namespace}\n  services: {services}\n"
    )
}

const SERVER_ENTRIES: &str = "[{portName: app, clientAliases: [{port: 80}]}]";

/// The PRIMARY deployment's Service Connect namespace and whether it is enabled.
fn primary_config(s: &Service) -> (Option<String>, bool) {
    let primary = s
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .unwrap();
    let config = primary.service_connect_configuration();
    (
        config.and_then(|c| c.namespace().map(str::to_owned)),
        config.is_some_and(|c| c.enabled()),
    )
}

fn tag<'a>(s: &'a Service, key: &str) -> Option<&'a str> {
    s.tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// Waits out the emulator's deployment (0.5 s by default).
async fn deployed() {
    tokio::time::sleep(Duration::from_millis(1200)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn namespace_share_and_binding_applied_together_join_without_namespace_not_found() {
    let w = World::new();
    w.operator_service(&w.client, "client-service").await;
    w.write_shared_namespace("payments", "Payments");
    w.write(
        "binding.yaml",
        &binding_doc(
            "client-service",
            "client",
            "client-service",
            "payments",
            "[]",
        ),
    );
    let mut updates = 0;
    for _ in 0..4 {
        let (out, calls) = w.apply_counted_any().await;
        assert!(!out.contains("NamespaceNotFound"), "{out}");
        let status = w.status("ServiceConnectBinding/client-service");
        assert!(
            !status.to_string().contains("NamespaceNotFound"),
            "{status}"
        );
        updates += calls.count(&w.client, "UpdateService");
        deployed().await;
    }
    assert_eq!(
        updates, 1,
        "one UpdateService, once the client saw the namespace"
    );
    let arn = &w.namespaces(&w.server).await["payments.internal"].1;
    let service = w.operator_service_now(&w.client, "client-service").await;
    assert_eq!(primary_config(&service), (Some(arn.clone()), true));
    assert_eq!(
        tag(&service, "ecs-topology.dev/service-connect"),
        Some("ServiceConnectBinding/client-service")
    );
    w.assert_condition("ServiceConnectBinding/client-service", "Ready", "True");
    let status = w.status("ServiceConnectBinding/client-service");
    assert_eq!(
        status["status"]["aws"]["namespaceArn"],
        arn.as_str(),
        "{status}"
    );
    assert_eq!(
        status["status"]["aws"]["rolloutState"], "COMPLETED",
        "{status}"
    );
}

/// A world whose server account's service `sample-ecs-app` joined its own namespace `payments`
/// with the port `app` (`bound.yaml`), deployed.
async fn bound_server() -> World {
    let w = World::new();
    w.operator_service(&w.server, "sample-ecs-app").await;
    w.write_server_binding("sample-ecs-app", "payments", SERVER_ENTRIES);
    w.apply_exits(0);
    deployed().await;
    w
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_passes_over_a_converged_binding_make_no_update_service() {
    let w = bound_server().await;
    w.plan_exits(0);
    for _ in 0..10 {
        let (_, calls) = w.apply_counted(0).await;
        assert_eq!(calls.mutating_operations(&w.server), Vec::<String>::new());
    }
    w.assert_condition("ServiceConnectBinding/sample-ecs-app", "Ready", "True");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_rollout_is_not_sent_again_until_the_document_changes() {
    let w = World::new();
    let deploy = serde_json::json!({"ecs.service_deploy": 0.2});
    emulator().set_settings(&[&w.server], deploy).await;
    // The service's own first deployment completes: there is something to roll back to.
    w.operator_service(&w.server, "sample-ecs-app").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let failing = serde_json::json!({
        "ecs.service_deploy": 0.2,
        "ecs.service_fail_services": ["sample-ecs-app"]
    });
    emulator().set_settings(&[&w.server], failing).await;
    w.write_server_binding("sample-ecs-app", "payments", SERVER_ENTRIES);
    let (_, calls) = w.apply_counted_any().await;
    assert_eq!(calls.count(&w.server, "UpdateService"), 1);
    // Failed, then rolled back.
    tokio::time::sleep(Duration::from_millis(800)).await;
    for _ in 0..3 {
        let (out, calls) = w.apply_counted_any().await;
        assert_eq!(calls.count(&w.server, "UpdateService"), 0, "{out}");
    }
    w.assert_planned_because(
        "ServiceConnectBinding",
        "sample-ecs-app",
        "blocked",
        "deployment failed",
    );
    w.assert_condition("ServiceConnectBinding/sample-ecs-app", "Ready", "False");
    // A changed document is sent at once.
    w.write_bound(
        "sample-ecs-app",
        "payments",
        "[{portName: app, discoveryName: api}]",
    );
    let (_, calls) = w.apply_counted_any().await;
    assert_eq!(calls.count(&w.server, "UpdateService"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_binding_disables_service_connect_and_drops_the_claim() {
    let w = bound_server().await;
    w.remove("bound.yaml");
    let (_, calls) = w.apply_counted_any().await;
    assert_eq!(calls.count(&w.server, "UpdateService"), 1);
    let service = w.operator_service_now(&w.server, "sample-ecs-app").await;
    assert!(!primary_config(&service).1, "Service Connect disabled");
    assert_eq!(tag(&service, "ecs-topology.dev/service-connect"), None);
    assert_eq!(tag(&service, "ecs-topology.dev/owner"), None);
    // The service itself stays.
    assert_eq!(service.status(), Some("ACTIVE"));
    assert_eq!(calls.count(&w.server, "DeleteService"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_claimed_by_another_controller_is_blocked_and_names_it() {
    let w = bound_server().await;
    let second = World::same_accounts(&w, "second-controller");
    second.write_server_binding("sample-ecs-app", "payments2", "[]");
    let (_, calls) = second.apply_counted_any().await;
    assert_eq!(calls.count(&w.server, "UpdateService"), 0);
    second.assert_planned_because(
        "ServiceConnectBinding",
        "sample-ecs-app",
        "blocked",
        &format!("`{}`", w.controller),
    );
    // The first claimant keeps the service, in sync and ready.
    w.apply_exits(0);
    let ready = condition(&w.status("ServiceConnectBinding/sample-ecs-app"), "Ready").clone();
    assert_eq!(ready["status"], "True", "{ready}");
    let service = w.operator_service_now(&w.server, "sample-ecs-app").await;
    assert_eq!(
        tag(&service, "ecs-topology.dev/owner"),
        Some(w.controller.as_str())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_service_is_reported_and_never_created() {
    let w = World::new();
    w.write_server_binding("ghost", "payments", "[]");
    let (_, calls) = w.apply_counted_any().await;
    assert_eq!(calls.count(&w.server, "CreateService"), 0);
    w.assert_planned_because(
        "ServiceConnectBinding",
        "ghost",
        "waiting",
        "never creates it",
    );
}

impl World {
    /// Writes the namespace document `namespace` of the server account (`ns.yaml`) and the
    /// binding of the server's service `service` to it (`bound.yaml`, see [`World::write_bound`]).
    fn write_server_binding(&self, service: &str, namespace: &str, services: &str) {
        self.write(
            "ns.yaml",
            &crate::world::namespace_doc(namespace, "server", "", "Payments"),
        );
        self.write_bound(service, namespace, services);
    }

    /// Writes `bound.yaml`: the binding `service` of the server's service `service` to the
    /// namespace document `namespace`, with the entries `services` (a YAML flow list).
    fn write_bound(&self, service: &str, namespace: &str, services: &str) {
        self.write(
            "bound.yaml",
            &binding_doc(service, "server", service, namespace, services),
        );
    }

    /// Runs `apply --once` whatever its exit code; what it printed and the calls it made.
    async fn apply_counted_any(&self) -> (String, ecs_topology_testkit::Calls) {
        let before = self.calls().await;
        let (_, out) = self.apply();
        (out, self.calls().await.since(&before))
    }
}

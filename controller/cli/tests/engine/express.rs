//! Express services end to end: created, kept in sync, pruned, and left alone when not ours; the
//! resources ECS manages for them shown, never changed.

use aws_sdk_ecs::types::{
    ExpressGatewayContainer, ExpressGatewayScalingTarget,
    ExpressGatewayServiceNetworkConfiguration, KeyValuePair,
};

use ecs_topology_testkit::emulator;

use crate::world::*;

/// Creates, by hand, an Express service no document owns: `name` in `cluster` on `net`, of
/// `image` (port 8080, the first security group).
async fn create_unowned(w: &World, net: &Network, cluster: &str, name: &str, image: &str) {
    w.ecs(&w.server)
        .await
        .create_express_gateway_service()
        .cluster(cluster)
        .service_name(name)
        .execution_role_arn(format!(
            "arn:aws:iam::{}:role/ecsTaskExecutionRole",
            w.server
        ))
        .infrastructure_role_arn(format!(
            "arn:aws:iam::{}:role/ecsInfrastructureRoleForExpressServices",
            w.server
        ))
        .primary_container(
            ExpressGatewayContainer::builder()
                .image(image)
                .container_port(8080)
                .build()
                .unwrap(),
        )
        .network_configuration(
            ExpressGatewayServiceNetworkConfiguration::builder()
                .set_subnets(Some(net.subnets.clone()))
                .security_groups(&net.security_groups[0])
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// A world whose server account runs the Express service `checkout` of [`express_doc`] on a
/// network `10.{n}.0.0/16`, applied.
async fn checkout_applied(n: u8) -> World {
    let w = World::new();
    let net = w.network(&w.server, n, true).await;
    w.write("web.yaml", &express_doc("checkout", "server", &net, "", ""));
    w.apply_exits(0);
    w
}

/// The load balancer of the Express service `name` of the server account's default cluster.
async fn balancer(w: &World, name: &str) -> String {
    let arn = w.express_arn(name).await;
    w.load_balancer_of(&w.server, REGION, &arn).await
}

/// The image of the newest configuration of the Express service `arn` in the server account.
async fn image_of(w: &World, arn: &str) -> String {
    let (config, _) = w.express_config(&w.server, REGION, arn).await;
    config.primary_container().unwrap().image().to_owned()
}

#[tokio::test]
async fn an_express_service_goes_from_nothing_to_ready() {
    let w = World::new();
    let net = w.network(&w.server, 31, true).await;
    w.write("web.yaml", &express_doc("checkout", "server", &net, "", ""));

    let plan = w.plan_exits(2);
    assert_has(&plan, "create ExpressService/checkout");
    assert_has(
        &plan,
        "+ primaryContainer.image: \"public.ecr.aws/example/checkout:1.4.2\"",
    );

    let (out, calls) = w.apply_counted(0).await;
    assert_has(&out, "ExpressService/checkout: created");
    assert_eq!(
        calls.mutating_operations(&w.server),
        ["CreateExpressGatewayService"],
        "one create, nothing else changed: {:?}",
        calls.operations(&w.server)
    );

    let services = w.express_services(&w.server, REGION, "default").await;
    let service = &services["checkout"];
    let tags: Vec<(&str, &str)> = service
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert!(tags.contains(&("ecs-topology.dev/owner", w.controller.as_str())));
    assert!(tags.contains(&("ecs-topology.dev/key", "ExpressService/checkout")));
    assert!(tags.contains(&("team", "checkout")));
    let (config, _) = w
        .express_config(&w.server, REGION, service.service_arn().unwrap())
        .await;
    assert_eq!(config.cpu(), Some("512"));
    assert_eq!(config.memory(), Some("1024"));
    assert_eq!(config.health_check_path(), Some("/healthz"));
    let container = config.primary_container().unwrap();
    assert_eq!(container.container_port(), Some(8080));
    assert_eq!(container.command(), [] as [String; 0]);

    let status = w.status("ExpressService/checkout");
    let ready = condition(&status, "Ready");
    assert_eq!(ready["status"], "True", "{status}");
    assert!(
        ready["message"]
            .as_str()
            .unwrap()
            .starts_with("active at ch-"),
        "{status}"
    );
    assert_eq!(condition(&status, "Synced")["status"], "True", "{status}");

    // The security group and defaults ECS added are not drift.
    w.plan_exits(0);
}

#[tokio::test]
async fn the_load_balancer_ecs_manages_is_shown_in_status() {
    let w = checkout_applied(32).await;
    let arn = w.express_arn("checkout").await;
    let balancer = w.load_balancer_of(&w.server, REGION, &arn).await;
    let status = w.status("ExpressService/checkout");
    let shown: Vec<&str> = status["status"]["aws"]
        .as_object()
        .map(|m| m.values().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    assert!(shown.contains(&balancer.as_str()), "{status}");
}

#[tokio::test]
async fn two_services_on_the_same_subnets_share_one_load_balancer() {
    let w = World::new();
    let net = w.network(&w.server, 33, true).await;
    w.write("web.yaml", &express_doc("web", "server", &net, "", ""));
    w.write("admin.yaml", &express_doc("admin", "server", &net, "", ""));
    w.apply_exits(0);

    let services = w.express_services(&w.server, REGION, "default").await;
    assert_eq!(services.keys().collect::<Vec<_>>(), ["admin", "web"]);
    assert_eq!(balancer(&w, "web").await, balancer(&w, "admin").await);
    w.plan_exits(0);
    for key in ["ExpressService/web", "ExpressService/admin"] {
        w.assert_condition(key, "Ready", "True");
    }
}

#[tokio::test]
async fn drift_made_by_another_client_is_planned_field_by_field_and_corrected() {
    let w = checkout_applied(34).await;
    let arn = w.express_arn("checkout").await;

    // Another client deploys another image and gives the service more cpu and scaling room.
    let container = ExpressGatewayContainer::builder()
        .image("public.ecr.aws/example/checkout:hotfix")
        .container_port(8080)
        .environment(
            KeyValuePair::builder()
                .name("LOG_LEVEL")
                .value("info")
                .build(),
        )
        .build()
        .unwrap();
    w.ecs(&w.server)
        .await
        .update_express_gateway_service()
        .service_arn(&arn)
        .primary_container(container)
        .cpu("1024")
        .memory("2048")
        .scaling_target(
            ExpressGatewayScalingTarget::builder()
                .max_task_count(20)
                .build(),
        )
        .send()
        .await
        .unwrap();

    // And removes a tag.
    w.ecs(&w.server)
        .await
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();

    let plan = w.plan_exits(2);
    assert_has(&plan, "update ExpressService/checkout");
    for line in [
        "+ tags.team: \"checkout\"",
        "~ primaryContainer.image: \"public.ecr.aws/example/checkout:hotfix\" -> \"public.ecr.aws/example/checkout:1.4.2\"",
        "~ cpu: 1024 -> 512",
        "~ memory: 2048 -> 1024",
        "~ scaling.max: 20 -> 6",
    ] {
        assert!(plan.contains(line), "{line} in {plan}");
    }
    let express = w.planned("ExpressService", "checkout");
    assert_eq!(express["verb"], "update");
    assert_eq!(
        change_paths(&express),
        [
            "primaryContainer.image",
            "cpu",
            "memory",
            "scaling.max",
            "tags.team"
        ],
        "nothing ECS manages is drift"
    );

    let (out, calls) = w.apply_counted(0).await;
    assert_has(&out, "ExpressService/checkout: updated");
    assert_eq!(
        calls.mutating_operations(&w.server),
        ["TagResource", "UpdateExpressGatewayService"]
    );
    assert_eq!(calls.count(&w.server, "UpdateExpressGatewayService"), 1);
    assert_eq!(calls.count(&w.server, "TagResource"), 1);
    let (config, _) = w.express_config(&w.server, REGION, &arn).await;
    let container = config.primary_container().unwrap();
    assert_eq!(container.image(), "public.ecr.aws/example/checkout:1.4.2");
    assert_eq!(container.container_port(), Some(8080));
    assert_eq!(container.environment().len(), 1);
    assert_eq!(config.cpu(), Some("512"));
    assert_eq!(config.scaling_target().unwrap().max_task_count(), Some(6));
    w.assert_condition("ExpressService/checkout", "Synced", "True");
    w.plan_exits(0);
}

#[tokio::test]
async fn an_express_spec_without_a_command_is_stable_over_ten_passes() {
    let w = checkout_applied(35).await;

    let before = w.calls().await;
    for pass in 0..10 {
        let (code, out) = w.apply();
        assert_eq!(code, 0, "pass {pass}: {out}");
        assert_has(&out, "ExpressService/checkout: in sync");
    }
    let calls = w.calls().await.since(&before);
    assert_eq!(calls.count(&w.server, "UpdateExpressGatewayService"), 0);
    calls.assert_read_only(&w.server);
    // Each pass is a new process: it describes the one service once.
    assert_eq!(calls.count(&w.server, "DescribeExpressGatewayService"), 10);
}

#[tokio::test]
async fn a_removed_service_is_deleted_or_retained_by_its_policy_and_ecs_resources_stay_with_ecs() {
    let w = World::new();
    let net = w.network(&w.server, 36, true).await;
    w.write("gone.yaml", &express_doc("gone", "server", &net, "", ""));
    w.write(
        "kept.yaml",
        &express_doc("kept", "server", &net, RETAIN, ""),
    );
    w.write("stays.yaml", &express_doc("stays", "server", &net, "", ""));
    w.apply_exits(0);
    let shared = balancer(&w, "stays").await;

    w.remove("gone.yaml");
    w.remove("kept.yaml");
    let plan = w.plan_exits(2);
    assert_has(&plan, "delete ExpressService/gone");
    assert!(!plan.contains("delete ExpressService/kept"), "{plan}");

    let (_, calls) = w.apply_counted(0).await;
    assert_eq!(
        calls.mutating_operations(&w.server),
        ["DeleteExpressGatewayService"],
        "the controller deletes the service and nothing ECS manages for it"
    );
    let services = w.express_services(&w.server, REGION, "default").await;
    assert_eq!(services.keys().collect::<Vec<_>>(), ["kept", "stays"]);
    assert_eq!(
        balancer(&w, "stays").await,
        shared,
        "the shared load balancer stays for the services still on it"
    );
    w.plan_exits(0);
}

#[tokio::test]
async fn an_unowned_look_alike_is_left_alone_unless_the_document_says_adopt() {
    let w = World::new();
    let net = w.network(&w.server, 37, true).await;
    let legacy = "public.ecr.aws/example/legacy:0.9";
    create_unowned(&w, &net, "default", "legacy", legacy).await;

    w.write(
        "legacy.yaml",
        &express_doc("legacy", "server", &net, "", ""),
    );
    let (out, calls) = w.apply_counted(1).await;
    assert_has(&out, "ExpressService/legacy: blocked");
    assert_has(&out, "not managed by ecs-topology");
    calls.assert_read_only(&w.server);
    let services = w.express_services(&w.server, REGION, "default").await;
    assert!(services["legacy"].tags().is_empty(), "untouched");

    w.write(
        "legacy.yaml",
        &express_doc("legacy", "server", &net, ADOPT, ""),
    );
    let plan = w.plan_exits(2);
    assert_has(&plan, "adopt ExpressService/legacy");
    assert_has(
        &plan,
        "~ primaryContainer.image: \"public.ecr.aws/example/legacy:0.9\"",
    );
    let out = w.apply_exits(0);
    assert_has(&out, "ExpressService/legacy: adopted");
    let services = w.express_services(&w.server, REGION, "default").await;
    let service = &services["legacy"];
    assert!(
        service
            .tags()
            .iter()
            .any(|t| t.key() == Some("ecs-topology.dev/owner")
                && t.value() == Some(w.controller.as_str()))
    );
    assert_eq!(
        image_of(&w, service.service_arn().unwrap()).await,
        "public.ecr.aws/example/checkout:1.4.2"
    );
    w.plan_exits(0);
}

#[tokio::test]
async fn the_express_example_converges_on_real_subnets_and_security_groups() {
    // The example names fixed subnet and security group ids; the emulator generates its own ids
    // (moto takes a chosen id only for a few services, not EC2), so a copy of the example runs
    // with the ids of a network made for it.
    let w = World::new();
    let region = "eu-west-1";
    let net = w.network_in(&w.server, region, 38, true).await;
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/express/services.yaml"),
    )
    .unwrap();
    let copy = example
        .replace("subnet-0a1b2c3d4e5f60711", &net.subnets[0])
        .replace("subnet-0a1b2c3d4e5f60712", &net.subnets[1])
        .replace("sg-0a1b2c3d4e5f60715", &net.security_groups[0]);
    assert_ne!(copy, example);
    w.write("services.yaml", &copy);
    w.write_config_with(&[("workloads", &w.server)], &[region], "");

    w.apply_exits(0);
    let services = w.express_services(&w.server, region, "default").await;
    assert_eq!(
        services.keys().collect::<Vec<_>>(),
        ["checkout-admin", "checkout-web"]
    );
    let arn = |name: &str| services[name].service_arn().unwrap();
    let web = w.load_balancer_of(&w.server, region, arn("checkout-web"));
    let admin = w.load_balancer_of(&w.server, region, arn("checkout-admin"));
    assert_eq!(web.await, admin.await, "one load balancer for both");
    let (admin, _) = w
        .express_config(&w.server, region, arn("checkout-admin"))
        .await;
    assert_eq!(
        admin.primary_container().unwrap().command(),
        ["node", "server.js", "--admin"]
    );
    for key in [
        "ExpressService/checkout-web",
        "ExpressService/checkout-admin",
    ] {
        w.assert_condition(key, "Ready", "True");
    }
    w.plan_exits(0);
}

#[tokio::test]
async fn a_service_whose_deployment_is_running_is_not_ready_and_nothing_is_sent_again() {
    let w = World::new();
    emulator()
        .set_settings(&[&w.server], serde_json::json!({"ecs.express_deploy": 600}))
        .await;
    let net = w.network(&w.server, 39, true).await;
    w.write("web.yaml", &express_doc("checkout", "server", &net, "", ""));
    let (code, out) = w.apply();
    assert_eq!(code, 0, "created and in sync while ECS deploys: {out}");
    let status = w.status("ExpressService/checkout");
    let ready = condition(&status, "Ready");
    assert_eq!(ready["status"], "False", "{status}");
    assert_eq!(ready["message"], "a deployment is in progress", "{status}");

    let (out, calls) = w.apply_counted(0).await;
    assert_has(&out, "ExpressService/checkout: in sync");
    calls.assert_read_only(&w.server);
}

#[tokio::test]
async fn a_service_of_the_same_name_in_another_cluster_is_never_changed() {
    let w = World::new();
    let net = w.network(&w.server, 40, true).await;
    w.cluster(&w.server, "web").await;
    for cluster in ["default", "web"] {
        create_unowned(&w, &net, cluster, "api", "public.ecr.aws/example/api:0.1").await;
    }
    w.write(
        "api.yaml",
        &express_doc("api", "server", &net, ADOPT, "  cluster: web\n"),
    );
    let before = w.calls().await;
    let (_, out) = w.apply();
    let services = w.express_services(&w.server, REGION, "default").await;
    let other = &services["api"];
    assert!(other.tags().is_empty(), "{out}");
    assert_eq!(
        image_of(&w, other.service_arn().unwrap()).await,
        "public.ecr.aws/example/api:0.1",
        "{out}"
    );
    let calls = w.calls().await.since(&before);
    assert!(
        calls.count(&w.server, "UpdateExpressGatewayService") <= 1,
        "{:?}",
        calls.operations(&w.server)
    );
}

#[tokio::test]
async fn a_document_change_updates_only_what_changed_and_keeps_the_rest_of_the_container() {
    let w = World::new();
    let net = w.network(&w.server, 41, true).await;
    let health = "  healthCheckPath: /healthz\n";
    let doc = |image: &str, max: u32, path: &str| {
        express_doc("checkout", "server", &net, "", "")
            .replace(
                "image: public.ecr.aws/example/checkout:1.4.2",
                &format!("image: {image}"),
            )
            .replace(
                "    port: 8080\n",
                "    port: 8080\n    command: [serve, --fast]\n",
            )
            .replace(
                "scaling: {min: 1, max: 6}",
                &format!("scaling: {{min: 1, max: {max}}}"),
            )
            .replace(health, &format!("  healthCheckPath: {path}\n"))
    };
    w.write("web.yaml", &doc("checkout:1", 6, "/healthz"));
    w.apply_exits(0);
    let arn = w.express_arn("checkout").await;

    // Scaling and the health check only.
    w.write("web.yaml", &doc("checkout:1", 8, "/ready"));
    w.plan_exits(2);
    assert_eq!(
        change_paths(&w.planned("ExpressService", "checkout")),
        ["healthCheckPath", "scaling.max"]
    );
    w.apply_exits(0);
    let (config, _) = w.express_config(&w.server, REGION, &arn).await;
    assert_eq!(config.health_check_path(), Some("/ready"));
    assert_eq!(config.scaling_target().unwrap().max_task_count(), Some(8));
    assert_eq!(config.scaling_target().unwrap().min_task_count(), Some(1));
    assert_eq!(
        config.primary_container().unwrap().command(),
        ["serve", "--fast"]
    );

    // A new image: ECS replaces the whole container, so all of it is sent.
    w.write("web.yaml", &doc("checkout:2", 8, "/ready"));
    let (_, calls) = w.apply_counted(0).await;
    assert_eq!(calls.count(&w.server, "UpdateExpressGatewayService"), 1);
    let (config, _) = w.express_config(&w.server, REGION, &arn).await;
    let container = config.primary_container().unwrap();
    assert_eq!(container.image(), "checkout:2");
    assert_eq!(container.command(), ["serve", "--fast"]);
    assert_eq!(container.container_port(), Some(8080));
    assert_eq!(container.environment()[0].name(), Some("LOG_LEVEL"));
    assert_eq!(config.cpu(), Some("512"));
    w.plan_exits(0);
}

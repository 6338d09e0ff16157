use serde_json::json;

use super::*;
use crate::model::{CpuArchitecture, EnvVar, KEY_TAG, Kind, OWNER_TAG, SecretRef};
use crate::observed::{
    ObservedExpressConfig, ObservedExpressContainer, ObservedExpressScaling, ObservedIngressPath,
};
use crate::plan::DocumentPlan;
use crate::plan::MANAGED_TAGS;

const CLUSTER_ARN: &str = "arn:aws:ecs:eu-west-1:111111111111:cluster/web";
const EXEC_ROLE: &str = "arn:aws:iam::111111111111:role/ecsTaskExecutionRole";
const INFRA_ROLE: &str = "arn:aws:iam::111111111111:role/ecsInfrastructureRole";
const ECS_GROUP: &str = "sg-0ecs0managed";

/// A document as an operator writes it: cpu as a number, environment out of order, no
/// command, no port, no health check path, scaling without metric or target.
fn spec() -> ExpressServiceSpec {
    serde_json::from_value(json!({
        "account": "server",
        "region": "eu-west-1",
        "cluster": "web",
        "serviceName": "checkout",
        "executionRoleArn": EXEC_ROLE,
        "infrastructureRoleArn": INFRA_ROLE,
        "primaryContainer": {
            "image": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/checkout:1.4.2",
            "environment": [
                {"name": "LOG_LEVEL", "value": "info"},
                {"name": "DB_HOST", "value": "db.internal"}
            ],
            "secrets": [
                {"name": "TOKEN", "valueFrom": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:t"},
                {"name": "API_KEY", "valueFrom": "arn:aws:ssm:eu-west-1:111111111111:parameter/k"}
            ]
        },
        "network": {
            "subnets": ["subnet-b", "subnet-a"],
            "securityGroups": ["sg-app"]
        },
        "cpu": 512,
        "memory": "1024",
        "scaling": {"min": 2, "max": 6},
        "tags": {"team": "payments"}
    }))
    .unwrap()
}

/// A document that sets every field.
fn full_spec() -> ExpressServiceSpec {
    let mut spec = spec();
    spec.task_role_arn = Some("arn:aws:iam::111111111111:role/checkout".into());
    spec.cpu_architecture = Some(CpuArchitecture::Arm64);
    spec.health_check_path = Some("/healthz".into());
    spec.scaling =
        serde_json::from_value(json!({"min": 2, "max": 6, "metric": "AVERAGE_CPU", "target": 70}))
            .unwrap();
    let c = &mut spec.primary_container;
    c.port = Some(8080);
    c.command = Some(vec!["serve".into(), "--fast".into()]);
    c.logs = Some(crate::model::AwsLogs {
        log_group: "/ecs/checkout".into(),
        log_stream_prefix: "web".into(),
    });
    c.repository_credentials =
        Some("arn:aws:secretsmanager:eu-west-1:111111111111:secret:registry".into());
    spec
}

fn key() -> Key {
    Key::new(Kind::ExpressService, "checkout")
}

fn ours_tags() -> crate::compact::Tags {
    crate::compact::Tags::from([
        (OWNER_TAG.to_owned(), "ctl".to_owned()),
        (KEY_TAG.to_owned(), "ExpressService/checkout".to_owned()),
        (MANAGED_TAGS.to_owned(), "team".to_owned()),
        ("team".to_owned(), "payments".to_owned()),
    ])
}

/// The service as ECS reads back `spec()`: ARNs, strings, its own order, its own security
/// group, `command: []`, and defaults filled in for everything the document left out.
fn converged() -> ObservedExpressService {
    ObservedExpressService {
        arn: "arn:aws:ecs:eu-west-1:111111111111:service/web/checkout".into(),
        cluster: CLUSTER_ARN.into(),
        service_name: "checkout".into(),
        status: ExpressStatus::Active,
        deploying: false,
        failed_deployment: None,
        updated_at: Some(1_760_000_000),
        infrastructure_role_arn: INFRA_ROLE.into(),
        config: Some(ObservedExpressConfig {
            service_revision_arn: "arn:aws:ecs:eu-west-1:111111111111:service-revision/web/checkout/1".into(),
            execution_role_arn: Some(EXEC_ROLE.into()),
            task_role_arn: None,
            cpu: Some("512".into()),
            memory: Some("1024".into()),
            cpu_architecture: Some("X86_64".into()),
            subnets: vec!["subnet-a".into(), "subnet-b".into()],
            security_groups: vec![ECS_GROUP.into(), "sg-app".into()],
            health_check_path: Some("/".into()),
            primary_container: ObservedExpressContainer {
                image: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/checkout:1.4.2".into(),
                port: Some(80),
                command: vec![],
                environment: vec![
                    EnvVar {
                        name: "DB_HOST".into(),
                        value: "db.internal".into(),
                    },
                    EnvVar {
                        name: "LOG_LEVEL".into(),
                        value: "info".into(),
                    },
                ],
                secrets: vec![
                    SecretRef {
                        name: "API_KEY".into(),
                        value_from: "arn:aws:ssm:eu-west-1:111111111111:parameter/k".into(),
                    },
                    SecretRef {
                        name: "TOKEN".into(),
                        value_from: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:t"
                            .into(),
                    },
                ],
                logs: Some(crate::model::AwsLogs {
                    log_group: "/aws/ecs/web/checkout".into(),
                    log_stream_prefix: "ecs".into(),
                }),
                repository_credentials: None,
            },
            scaling: Some(ObservedExpressScaling {
                min: Some(2),
                max: Some(6),
                metric: Some("AVERAGE_CPU".into()),
                target: Some(60.0),
            }),
            ingress_paths: vec![ObservedIngressPath {
                access_type: "PUBLIC".into(),
                endpoint: "ch-1234.ecs.eu-west-1.on.aws".into(),
            }],
        }),
        tags: ours_tags(),
        managed: crate::compact::Tags::from([
            (
                "loadBalancer".to_owned(),
                "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/ecs-express-gateway-alb-1/abc".to_owned(),
            ),
            ("endpoint".to_owned(), "ch-1234.ecs.eu-west-1.on.aws".to_owned()),
        ]),
        managed_security_groups: crate::compact::Ids::from([ECS_GROUP.to_owned()]),
    }
}

fn config(s: &mut ObservedExpressService) -> &mut ObservedExpressConfig {
    s.config.as_mut().unwrap()
}

fn plan_with(
    spec: &ExpressServiceSpec,
    policies: &Policies,
    last_applied: Option<&str>,
    observed: &[ObservedExpressService],
) -> DocumentPlan {
    plan_express(
        "ctl",
        &key(),
        Some(DesiredExpressService {
            spec,
            policies,
            last_applied,
        }),
        observed,
        &PruneGate::Allowed,
    )
    .display()
}

fn plan(spec: &ExpressServiceSpec, observed: &[ObservedExpressService]) -> DocumentPlan {
    plan_with(spec, &Policies::default(), None, observed)
}

#[test]
fn a_missing_service_is_created_with_every_field() {
    let plan = plan(&full_spec(), &[]);
    assert_eq!(plan.verb, Verb::Create);
    assert_eq!(
        plan.drifted_fields(),
        [
            "cluster",
            "serviceName",
            "executionRoleArn",
            "infrastructureRoleArn",
            "taskRoleArn",
            "primaryContainer.image",
            "primaryContainer.port",
            "primaryContainer.command",
            "primaryContainer.environment.DB_HOST",
            "primaryContainer.environment.LOG_LEVEL",
            "primaryContainer.secrets.API_KEY",
            "primaryContainer.secrets.TOKEN",
            "primaryContainer.logs.logGroup",
            "primaryContainer.logs.logStreamPrefix",
            "primaryContainer.repositoryCredentials",
            "network.subnets",
            "network.securityGroups",
            "cpu",
            "memory",
            "cpuArchitecture",
            "healthCheckPath",
            "scaling.min",
            "scaling.max",
            "scaling.metric",
            "scaling.target",
            "tags.ecs-topology.dev/key",
            "tags.ecs-topology.dev/owner",
            "tags.ecs-topology.dev/tags",
            "tags.team",
        ]
    );
    assert!(plan.changes.iter().all(|c| c.from.is_none()));
    let cpu = plan.changes.iter().find(|c| c.path == "cpu").unwrap();
    assert_eq!(cpu.to, Some(json!(512)));
}

#[test]
fn a_converged_service_is_in_sync_however_ecs_reads_it_back() {
    // `command` absent against `[]`, cpu 512 against "512", environment and secrets in
    // another order, ECS's own security group, ECS's defaults for port, health check path,
    // architecture, logs and the scaling metric and target.
    assert_eq!(
        plan(&spec(), &[converged()]),
        DocumentPlan::new(key(), Verb::InSync)
    );
}

#[test]
fn an_absent_command_matches_the_empty_list_ecs_reads_back() {
    let mut spec = spec();
    spec.primary_container.command = Some(vec![]);
    assert_eq!(plan(&spec, &[converged()]).verb, Verb::InSync);
    spec.primary_container.command = None;
    assert_eq!(plan(&spec, &[converged()]).verb, Verb::InSync);
    let mut service = converged();
    config(&mut service).primary_container.command = vec!["sh".into()];
    let plan = plan(&spec, &[service]);
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(plan.drifted_fields(), ["primaryContainer.command"]);
    assert_eq!(plan.changes[0].to, None);
}

#[test]
fn cpu_and_memory_compare_as_whole_numbers_whatever_their_spelling() {
    let mut service = converged();
    config(&mut service).cpu = Some(" 0.5 vCPU".into());
    config(&mut service).memory = Some("1 GB".into());
    assert_eq!(plan(&spec(), &[service]).verb, Verb::InSync);
}

#[test]
fn environment_and_secrets_compare_by_name_whatever_the_order() {
    let mut service = converged();
    config(&mut service).primary_container.environment.reverse();
    config(&mut service).primary_container.secrets.reverse();
    assert_eq!(
        plan(&spec(), std::slice::from_ref(&service)).verb,
        Verb::InSync
    );
    config(&mut service).primary_container.environment[0].value = "debug".into();
    let plan = plan(&spec(), &[service]);
    assert_eq!(
        plan.drifted_fields(),
        ["primaryContainer.environment.LOG_LEVEL"]
    );
    assert_eq!(plan.changes[0].from, Some(json!("debug")));
    assert_eq!(plan.changes[0].to, Some(json!("info")));
}

#[test]
fn the_security_group_ecs_adds_is_never_drift() {
    // Known only from the service's ECS-managed resources, by ARN.
    let mut service = converged();
    service.managed_security_groups.clear();
    service.managed.insert(
        "securityGroup",
        format!("arn:aws:ec2:eu-west-1:111111111111:security-group/{ECS_GROUP}"),
    );
    assert_eq!(
        plan(&spec(), std::slice::from_ref(&service)).verb,
        Verb::InSync
    );
    // A group added by hand is drift; ECS's own is still not.
    config(&mut service)
        .security_groups
        .push("sg-by-hand".into());
    let plan = plan(&spec(), &[service]);
    assert_eq!(plan.drifted_fields(), ["network.securityGroups"]);
    assert_eq!(plan.changes[0].from, Some(json!(["sg-app", "sg-by-hand"])));
    assert_eq!(plan.changes[0].to, Some(json!(["sg-app"])));
}

#[test]
fn defaults_ecs_fills_in_for_absent_fields_are_never_drift() {
    let mut spec = spec();
    spec.network = None;
    spec.cpu = None;
    spec.memory = None;
    spec.scaling = None;
    let mut service = converged();
    let c = config(&mut service);
    c.cpu = Some("1024".into());
    c.memory = Some("2048".into());
    c.subnets = vec!["subnet-default-1".into(), "subnet-default-2".into()];
    c.security_groups = vec!["sg-default".into()];
    c.scaling = Some(ObservedExpressScaling {
        min: Some(1),
        max: Some(20),
        metric: Some("AVERAGE_CPU".into()),
        target: Some(60.0),
    });
    assert_eq!(plan(&spec, &[service]).verb, Verb::InSync);
}

#[test]
fn enum_values_and_the_cluster_arn_compare_whatever_their_spelling() {
    let mut spec = full_spec();
    spec.cluster = CLUSTER_ARN.into();
    spec.cpu_architecture = Some(CpuArchitecture::X86_64);
    let mut service = converged();
    service.cluster = "web".into();
    let c = config(&mut service);
    c.cpu_architecture = Some("x86_64".into());
    c.scaling.as_mut().unwrap().metric = Some("average_cpu".into());
    c.scaling.as_mut().unwrap().target = Some(70.0);
    c.task_role_arn = spec.task_role_arn.clone();
    c.health_check_path = Some("/healthz".into());
    c.primary_container.port = Some(8080);
    c.primary_container.command = vec!["serve".into(), "--fast".into()];
    c.primary_container.logs = spec.primary_container.logs.clone();
    c.primary_container.repository_credentials =
        spec.primary_container.repository_credentials.clone();
    assert_eq!(
        plan(&spec, std::slice::from_ref(&service)).verb,
        Verb::InSync
    );
    config(&mut service).scaling.as_mut().unwrap().metric = Some("AverageCpu".into());
    assert_eq!(plan(&spec, &[service]).verb, Verb::InSync);
}

#[test]
fn an_image_changed_by_hand_is_updated_back() {
    let mut service = converged();
    config(&mut service).primary_container.image = "nginx:latest".into();
    let plan = plan(&spec(), &[service]);
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(plan.drifted_fields(), ["primaryContainer.image"]);
    assert_eq!(plan.changes[0].from, Some(json!("nginx:latest")));
}

#[test]
fn a_changed_cpu_or_scaling_maximum_is_drift() {
    let mut service = converged();
    config(&mut service).cpu = Some("1024".into());
    config(&mut service).scaling.as_mut().unwrap().max = Some(10);
    let plan = plan(&spec(), &[service]);
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(plan.drifted_fields(), ["cpu", "scaling.max"]);
    assert_eq!(plan.changes[0].from, Some(json!(1024)));
    assert_eq!(plan.changes[0].to, Some(json!(512)));
    assert_eq!(plan.changes[1].to, Some(json!(6)));
}

#[test]
fn a_field_ecs_takes_only_at_creation_is_blocked_not_updated() {
    let mut service = converged();
    service.infrastructure_role_arn = "arn:aws:iam::111111111111:role/other".into();
    config(&mut service).primary_container.image = "nginx:latest".into();
    let plan = plan(&spec(), &[service]);
    assert_eq!(plan.verb, Verb::Blocked);
    assert_eq!(
        plan.drifted_fields(),
        ["infrastructureRoleArn", "primaryContainer.image"]
    );
    assert!(
        plan.reason
            .unwrap()
            .contains("infrastructureRoleArn cannot be changed")
    );
}

#[test]
fn an_unowned_look_alike_is_left_alone_unless_adopted() {
    let mut service = converged();
    service.tags = crate::compact::Tags::from([("team".to_owned(), "payments".to_owned())]);
    let plan = plan(&spec(), std::slice::from_ref(&service));
    assert_eq!(plan.verb, Verb::Blocked);
    assert!(plan.reason.unwrap().contains("not managed by ecs-topology"));
    let adopt = Policies {
        adopt: true,
        ..Policies::default()
    };
    let plan = plan_with(&spec(), &adopt, None, std::slice::from_ref(&service));
    assert_eq!(plan.verb, Verb::Adopt);
    assert_eq!(
        plan.drifted_fields(),
        [
            "tags.ecs-topology.dev/key",
            "tags.ecs-topology.dev/owner",
            "tags.ecs-topology.dev/tags"
        ]
    );
    service.tags.insert(OWNER_TAG, "someone-else");
    assert_eq!(
        plan_with(&spec(), &adopt, None, &[service]).verb,
        Verb::Blocked
    );
}

#[test]
fn a_removed_document_is_pruned_retained_or_held_back() {
    let service = converged();
    let prune = |observed: &[ObservedExpressService], gate: &PruneGate| {
        plan_express("ctl", &key(), None, observed, gate).display()
    };
    assert_eq!(
        prune(std::slice::from_ref(&service), &PruneGate::Allowed).verb,
        Verb::Delete
    );
    let held = PruneGate::HeldBack("the source listed no documents".into());
    assert_eq!(
        prune(std::slice::from_ref(&service), &held).verb,
        Verb::Blocked
    );
    let mut retained = service.clone();
    retained
        .tags
        .insert("ecs-topology.dev/deletion-policy", "Retain");
    assert_eq!(prune(&[retained], &PruneGate::Allowed).verb, Verb::Retain);
    let mut draining = service.clone();
    draining.status = ExpressStatus::Draining;
    assert_eq!(prune(&[draining], &PruneGate::Allowed).verb, Verb::Waiting);
    let mut unowned = service;
    unowned.tags.clear();
    assert_eq!(prune(&[unowned], &PruneGate::Allowed).verb, Verb::InSync);
}

#[test]
fn a_draining_service_of_the_same_name_makes_a_create_wait() {
    let mut old = converged();
    old.status = ExpressStatus::Draining;
    let plan = plan(&spec(), &[old]);
    assert_eq!(plan.verb, Verb::Waiting);
    assert!(
        plan.reason
            .unwrap()
            .contains("waiting for the previous service `checkout`")
    );
}

#[test]
fn an_inactive_service_counts_as_absent() {
    let mut old = converged();
    old.status = ExpressStatus::Inactive;
    assert_eq!(plan(&spec(), std::slice::from_ref(&old)).verb, Verb::Create);
    assert_eq!(
        plan_express("ctl", &key(), None, &[old], &PruneGate::Allowed).verb,
        Verb::InSync
    );
}

#[test]
fn a_renamed_service_is_blocked_not_created_twice() {
    let mut spec = spec();
    spec.service_name = "checkout-v2".into();
    let plan = plan(&spec, &[converged()]);
    assert_eq!(plan.verb, Verb::Blocked);
    assert!(plan.reason.unwrap().contains("cannot be renamed"));
}

#[test]
fn a_failed_deployment_of_the_last_requested_spec_is_not_sent_again() {
    let mut wanted = spec();
    wanted.primary_container.image = "checkout:1.5.0".into();
    let sent = spec_digest(&wanted);
    // ECS rolled back to the previous image.
    let mut service = converged();
    service.failed_deployment = Some("tasks failed to start".into());
    let p = Policies::default();
    let plan = plan_with(&wanted, &p, Some(&sent), std::slice::from_ref(&service));
    assert_eq!(plan.verb, Verb::Blocked);
    assert_eq!(plan.drifted_fields(), ["primaryContainer.image"]);
    assert!(plan.reason.unwrap().starts_with(
        "the last update did not converge (deployment failed); retrying with backoff"
    ));
    // The caller's retry after its backoff.
    let retry = plan_with(&wanted, &p, None, std::slice::from_ref(&service));
    assert_eq!(retry.verb, Verb::Update);
    // A new spec is sent at once.
    let mut newer = wanted.clone();
    newer.primary_container.image = "checkout:1.5.1".into();
    let plan = plan_with(&newer, &p, Some(&sent), &[service]);
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(plan.drifted_fields(), ["primaryContainer.image"]);
}

#[test]
fn a_running_deployment_of_the_last_requested_spec_is_waited_for() {
    let mut wanted = spec();
    wanted.memory = Some(crate::model::Units(2048));
    let sent = spec_digest(&wanted);
    let mut service = converged();
    service.deploying = true;
    let p = Policies::default();
    let plan = plan_with(&wanted, &p, Some(&sent), &[service]);
    assert_eq!(plan.verb, Verb::Waiting);
    assert_eq!(plan.drifted_fields(), ["memory"]);
}

#[test]
fn a_suspended_document_reports_drift_and_changes_nothing() {
    let p = Policies {
        suspend: true,
        ..Policies::default()
    };
    let mut service = converged();
    config(&mut service).primary_container.image = "nginx:latest".into();
    let plan = plan_with(&spec(), &p, None, &[service]);
    assert_eq!(plan.verb, Verb::Suspended);
    assert_eq!(plan.drifted_fields(), ["primaryContainer.image"]);
    assert_eq!(plan_with(&spec(), &p, None, &[]).verb, Verb::Suspended);
}

#[test]
fn the_spec_digest_is_stable_and_changes_with_any_field() {
    let digest = spec_digest(&spec());
    assert_eq!(digest.len(), 16);
    assert_eq!(digest, spec_digest(&spec()));
    // Written differently, meaning the same.
    let mut same = spec();
    same.cpu = serde_json::from_value(json!("512")).unwrap();
    same.primary_container.environment.reverse();
    same.primary_container.command = Some(vec![]);
    same.network.as_mut().unwrap().subnets.reverse();
    assert_eq!(spec_digest(&same), digest);
    let changes: [fn(&mut ExpressServiceSpec); 5] = [
        |s| s.primary_container.image.push('x'),
        |s| s.cpu = Some(crate::model::Units(1024)),
        |s| s.scaling.as_mut().unwrap().max = 7,
        |s| s.primary_container.environment[0].value = "debug".into(),
        |s| {
            s.tags.insert("env", "prod");
        },
    ];
    for change in changes {
        let mut changed = spec();
        change(&mut changed);
        assert_ne!(spec_digest(&changed), digest);
    }
}

#[test]
fn readiness_needs_an_active_service_with_no_deployment_running() {
    assert_eq!(
        express_ready(&converged()),
        (true, "active at ch-1234.ecs.eu-west-1.on.aws".to_owned())
    );
    let mut deploying = converged();
    deploying.deploying = true;
    assert_eq!(
        express_ready(&deploying),
        (false, "a deployment is in progress".to_owned())
    );
    let mut draining = converged();
    draining.status = ExpressStatus::Draining;
    draining.config = None;
    let (ready, message) = express_ready(&draining);
    assert!(!ready);
    assert_eq!(
        message,
        "the service is DRAINING, not ACTIVE; ECS reports no active configuration"
    );
}

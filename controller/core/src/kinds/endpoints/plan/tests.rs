use super::*;
use crate::model::{DELETION_POLICY_ANNOTATION, GatewayService, KEY_TAG, Kind, OWNER_TAG};
use crate::plan::DocumentPlan;
use crate::plan::MANAGED_TAGS;
use crate::policy::default_endpoint_policy;

const REGION: &str = "eu-west-1";

fn spec() -> VpcEndpointSetSpec {
    VpcEndpointSetSpec {
        account: "workloads".into(),
        region: REGION.into(),
        vpc_id: "vpc-1".into(),
        subnet_ids: vec!["subnet-a".into(), "subnet-b".into(), "subnet-c".into()],
        security_group_ids: vec!["sg-endpoints".into(), "sg-audit".into()],
        private_dns: true,
        // Deliberately not in creation order.
        interface_services: [
            "logs",
            "ecr.dkr",
            "ecs",
            "ecr.api",
            "ecs-telemetry",
            "ecs-agent",
        ]
        .map(str::to_owned)
        .to_vec(),
        gateway_services: vec![GatewayService {
            service: "s3".into(),
            route_table_ids: vec!["rtb-a".into(), "rtb-b".into()],
        }],
        policy: None,
        tags: crate::compact::Tags::from([("team", "platform")]),
    }
}

fn key() -> Key {
    Key::new(Kind::VpcEndpointSet, "private-ecs")
}

fn plan(
    spec: &VpcEndpointSetSpec,
    policies: &Policies,
    observed: &[ObservedEndpoint],
) -> DocumentPlan {
    let desired = DesiredEndpointSet {
        spec,
        policies,
        region: REGION,
    };
    plan_endpoint_set("ctl", &key(), Some(desired), observed, &PruneGate::Allowed).display()
}

fn ours() -> crate::compact::Tags {
    crate::compact::Tags::from([
        (OWNER_TAG.to_owned(), "ctl".to_owned()),
        (KEY_TAG.to_owned(), "VpcEndpointSet/private-ecs".to_owned()),
        (MANAGED_TAGS.to_owned(), "team".to_owned()),
        ("team".to_owned(), "platform".to_owned()),
    ])
}

/// What AWS lists once the spec has been applied: lists in another order, the default policy
/// where none was given.
fn converged(spec: &VpcEndpointSetSpec) -> Vec<ObservedEndpoint> {
    let reversed = |ids: &[String]| ids.iter().rev().cloned().collect();
    let endpoint = |n: usize, short: &str, endpoint_type| ObservedEndpoint {
        id: format!("vpce-{n}"),
        vpc_id: spec.vpc_id.clone(),
        service_name: service_name(REGION, short),
        endpoint_type,
        state: "available".into(),
        subnet_ids: crate::compact::Ids::new(),
        security_group_ids: crate::compact::Ids::new(),
        route_table_ids: crate::compact::Ids::new(),
        private_dns_enabled: false,
        policy: Some(
            spec.policy
                .as_ref()
                .map(policy_document)
                .unwrap_or_else(default_endpoint_policy)
                .into(),
        ),
        tags: ours(),
    };
    let interfaces = spec
        .interface_services
        .iter()
        .enumerate()
        .map(|(n, short)| ObservedEndpoint {
            subnet_ids: reversed(&spec.subnet_ids),
            security_group_ids: reversed(&spec.security_group_ids),
            private_dns_enabled: spec.private_dns,
            ..endpoint(n, short, EndpointType::Interface)
        });
    let gateways = spec
        .gateway_services
        .iter()
        .enumerate()
        .map(|(n, g)| ObservedEndpoint {
            route_table_ids: reversed(&g.route_table_ids),
            ..endpoint(100 + n, &g.service, EndpointType::Gateway)
        });
    interfaces.chain(gateways).collect()
}

fn find<'a>(observed: &'a mut [ObservedEndpoint], short: &str) -> &'a mut ObservedEndpoint {
    let name = service_name(REGION, short);
    observed
        .iter_mut()
        .find(|ep| ep.service_name == name)
        .expect("the endpoint is listed")
}

/// Asserts that the first change of `plan` deletes the endpoint `id`.
#[track_caller]
fn assert_first_change_deletes(plan: &DocumentPlan, id: &str) {
    assert_eq!(
        plan.changes[0].from.as_ref().map(|f| &f["id"]),
        Some(&json!(id))
    );
    assert_eq!(plan.changes[0].to, None);
}

#[test]
fn service_names_and_short_names_are_each_others_inverse() {
    assert_eq!(
        service_name("eu-west-1", "ecr.dkr"),
        "com.amazonaws.eu-west-1.ecr.dkr"
    );
    assert_eq!(
        short_service_name("eu-west-1", "com.amazonaws.eu-west-1.ecr.dkr"),
        Some("ecr.dkr")
    );
    assert_eq!(
        short_service_name("eu-west-2", "com.amazonaws.eu-west-1.ecr.dkr"),
        None
    );
    assert_eq!(
        short_service_name("eu-west-1", "com.amazonaws.eu-west-1."),
        None
    );
    assert_eq!(
        short_service_name("eu-west-1", "aws.sagemaker.eu-west-1.notebook"),
        None
    );
}

#[test]
fn a_new_set_creates_the_ecs_endpoints_first_in_the_order_aws_needs() {
    let plan = plan(&spec(), &Policies::default(), &[]);
    assert_eq!(plan.verb, Verb::Create);
    assert_eq!(
        plan.drifted_fields(),
        [
            "endpoints.ecs-agent",
            "endpoints.ecs-telemetry",
            "endpoints.ecs",
            "endpoints.ecr.api",
            "endpoints.ecr.dkr",
            "endpoints.logs",
            "endpoints.s3"
        ]
    );
    assert!(plan.changes.iter().all(|c| c.from.is_none()));
    let agent = plan.changes[0].to.clone().expect("an endpoint to create");
    assert_eq!(agent["serviceName"], "com.amazonaws.eu-west-1.ecs-agent");
    assert_eq!(agent["type"], "Interface");
    assert_eq!(
        agent["subnetIds"],
        json!(["subnet-a", "subnet-b", "subnet-c"])
    );
    assert_eq!(agent["privateDns"], true);
    assert_eq!(agent["tags"][OWNER_TAG], "ctl");
    assert!(agent.get("policy").is_none());
    let s3 = plan.changes[6].to.clone().expect("an endpoint to create");
    assert_eq!(s3["type"], "Gateway");
    assert_eq!(s3["routeTableIds"], json!(["rtb-a", "rtb-b"]));
    assert!(s3.get("subnetIds").is_none() && s3.get("privateDns").is_none());
}

#[test]
fn a_converged_set_is_in_sync_whatever_order_and_formatting_aws_reports() {
    let mut spec = spec();
    spec.policy = Some(Value::String(
        r#"{"Version": "2012-10-17", "Statement": [
            {"Sid": "Pull", "Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": "*"},
            {"Sid": "Logs", "Effect": "Allow", "Principal": "*", "Action": "logs:PutLogEvents", "Resource": "*"}
        ]}"#
        .into(),
    ));
    let mut observed = converged(&spec);
    let aws_form = json!({
        "Statement": [
            {"Resource": ["*"], "Action": ["logs:putlogevents"], "Principal": {"AWS": "*"}, "Effect": "Allow", "Sid": "Logs"},
            {"Resource": "*", "Action": ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], "Principal": {"AWS": ["*"]}, "Effect": "Allow", "Sid": "Pull"}
        ],
        "Version": "2012-10-17"
    });
    for ep in &mut observed {
        ep.policy = Some(aws_form.clone().into());
        ep.tags.insert("aws:cloudformation:stack-name", "net");
    }
    assert_eq!(
        plan(&spec, &Policies::default(), &observed),
        DocumentPlan::new(key(), Verb::InSync)
    );
}

#[test]
fn a_security_group_removed_by_another_client_is_drift_of_that_endpoint() {
    let spec = spec();
    let mut observed = converged(&spec);
    find(&mut observed, "logs")
        .security_group_ids
        .remove("sg-audit");
    let plan = plan(&spec, &Policies::default(), &observed);
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(plan.drifted_fields(), ["endpoints.logs.securityGroupIds"]);
    assert_eq!(plan.changes[0].from, Some(json!(["sg-endpoints"])));
    assert_eq!(
        plan.changes[0].to,
        Some(json!(["sg-audit", "sg-endpoints"]))
    );
}

#[test]
fn private_dns_turned_off_is_drift() {
    let spec = spec();
    let mut observed = converged(&spec);
    find(&mut observed, "ecr.api").private_dns_enabled = false;
    let plan = plan(&spec, &Policies::default(), &observed);
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(plan.drifted_fields(), ["endpoints.ecr.api.privateDns"]);
    assert_eq!(plan.changes[0].to, Some(Value::Bool(true)));
}

#[test]
fn subnets_route_tables_and_tags_drift_per_endpoint() {
    let spec = spec();
    let mut observed = converged(&spec);
    find(&mut observed, "ecs").subnet_ids.insert("subnet-z");
    find(&mut observed, "s3").route_table_ids.remove("rtb-b");
    find(&mut observed, "ecs-agent").tags.remove("team");
    let plan = plan(&spec, &Policies::default(), &observed);
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(
        plan.drifted_fields(),
        [
            "endpoints.ecs-agent.tags.team",
            "endpoints.ecs.subnetIds",
            "endpoints.s3.routeTableIds"
        ]
    );
}

#[test]
fn gateway_endpoints_have_no_subnets_security_groups_or_private_dns() {
    let spec = spec();
    let observed = converged(&spec);
    let s3 = observed
        .iter()
        .find(|ep| ep.endpoint_type == EndpointType::Gateway)
        .expect("the s3 gateway endpoint");
    assert!(!s3.private_dns_enabled && s3.subnet_ids.is_empty());
    assert!(spec.private_dns);
    assert_eq!(
        plan(&spec, &Policies::default(), &observed).verb,
        Verb::InSync
    );
}

#[test]
fn a_changed_policy_is_drift_but_a_reformatted_one_is_not() {
    let mut spec = spec();
    spec.gateway_services.clear();
    spec.interface_services = vec!["logs".into()];
    spec.policy = Some(json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]
    }));
    let mut observed = converged(&spec);
    observed[0].policy = Some(json!({
        "Statement": {"Action": ["logs:PutLogEvents", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*", "Effect": "Allow", "Principal": {"AWS": "*"}},
        "Version": "2012-10-17"
    }).into());
    assert_eq!(
        plan(&spec, &Policies::default(), &observed).verb,
        Verb::InSync
    );
    let widened = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "logs:*", "Resource": "*"}]
    });
    observed[0].policy = Some(widened.clone().into());
    let plan = plan(&spec, &Policies::default(), &observed);
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(plan.drifted_fields(), ["endpoints.logs.policy"]);
    assert_eq!(plan.changes[0].from, Some(widened));
    assert_eq!(plan.changes[0].to, spec.policy);
}

#[test]
fn no_policy_in_the_document_is_the_default_policy_aws_reports() {
    let spec = spec();
    let mut observed = converged(&spec);
    assert!(
        observed
            .iter()
            .all(|ep| ep.policy.as_deref() == Some(&default_endpoint_policy()))
    );
    assert_eq!(
        plan(&spec, &Policies::default(), &observed).verb,
        Verb::InSync
    );
    find(&mut observed, "logs").policy = None;
    assert_eq!(
        plan(&spec, &Policies::default(), &observed).verb,
        Verb::InSync
    );
    let narrow = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "logs:*", "Resource": "*"}]});
    find(&mut observed, "logs").policy = Some(narrow.into());
    let plan = plan(&spec, &Policies::default(), &observed);
    assert_eq!(plan.drifted_fields(), ["endpoints.logs.policy"]);
    assert_eq!(plan.changes[0].to, None);
}

#[test]
fn an_unowned_look_alike_endpoint_blocks_the_set_unless_adopted() {
    let spec = spec();
    let mut observed = converged(&spec);
    let logs = find(&mut observed, "logs");
    logs.tags = crate::compact::Tags::from([("team", "platform")]);
    let plan_of = |adopt| {
        let policies = Policies {
            adopt,
            ..Policies::default()
        };
        plan(&spec, &policies, &observed)
    };
    let blocked = plan_of(false);
    assert_eq!(blocked.verb, Verb::Blocked);
    let reason = blocked.reason.expect("a reason");
    assert!(reason.contains("`logs` endpoint vpce-0"), "{reason}");
    assert!(reason.contains("ecs-topology.dev/adopt"), "{reason}");
    let adopted = plan_of(true);
    assert_eq!(adopted.verb, Verb::Adopt);
    assert_eq!(
        adopted.drifted_fields(),
        [
            "endpoints.logs.tags.ecs-topology.dev/key",
            "endpoints.logs.tags.ecs-topology.dev/owner",
            "endpoints.logs.tags.ecs-topology.dev/tags",
        ]
    );
}

#[test]
fn another_documents_endpoint_is_never_adopted() {
    let spec = spec();
    let mut observed = converged(&spec);
    find(&mut observed, "ecr.dkr")
        .tags
        .insert(KEY_TAG, "VpcEndpointSet/other");
    let policies = Policies {
        adopt: true,
        ..Policies::default()
    };
    let plan = plan(&spec, &policies, &observed);
    assert_eq!(plan.verb, Verb::Blocked);
    assert!(
        plan.reason
            .expect("a reason")
            .contains("VpcEndpointSet/other")
    );
}

#[test]
fn an_endpoint_of_the_same_service_but_another_type_is_not_a_look_alike() {
    let spec = spec();
    let mut observed = converged(&spec);
    let s3 = find(&mut observed, "s3").clone();
    let logs = find(&mut observed, "logs").clone();
    observed.push(ObservedEndpoint {
        id: "vpce-theirs".into(),
        endpoint_type: EndpointType::Interface,
        subnet_ids: crate::compact::Ids::from(["subnet-a"]),
        tags: crate::compact::Tags::new(),
        ..s3
    });
    observed.push(ObservedEndpoint {
        id: "vpce-elsewhere".into(),
        vpc_id: "vpc-2".into(),
        tags: crate::compact::Tags::new(),
        ..logs
    });
    assert_eq!(
        plan(&spec, &Policies::default(), &observed).verb,
        Verb::InSync
    );
}

#[test]
fn deleted_and_deleting_endpoints_count_as_absent() {
    let spec = spec();
    let mut observed = converged(&spec);
    find(&mut observed, "logs").state = "deleting".into();
    let mut theirs = find(&mut observed, "ecr.api").clone();
    find(&mut observed, "ecr.api").state = "deleted".into();
    theirs.id = "vpce-old".into();
    theirs.state = "deleted".into();
    theirs.tags.clear();
    observed.push(theirs);
    let plan = plan(&spec, &Policies::default(), &observed);
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(
        plan.drifted_fields(),
        ["endpoints.ecr.api", "endpoints.logs"]
    );
    assert!(plan.changes.iter().all(|c| c.from.is_none()));
}

#[test]
fn a_failed_endpoint_is_replaced() {
    let spec = spec();
    let mut observed = converged(&spec);
    find(&mut observed, "ecs-telemetry").state = "failed".into();
    let plan = plan(&spec, &Policies::default(), &observed);
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(plan.drifted_fields(), ["endpoints.ecs-telemetry"]);
    let change = &plan.changes[0];
    assert_eq!(
        change.from.as_ref().map(|f| &f["state"]),
        Some(&json!("failed"))
    );
    let to = change.to.as_ref().expect("a new endpoint");
    assert_eq!(to["replaces"], "vpce-4");
    assert_eq!(to["serviceName"], "com.amazonaws.eu-west-1.ecs-telemetry");
    let reason = plan.reason.expect("a reason");
    assert!(reason.contains("vpce-4 (it is failed)"), "{reason}");
}

#[test]
fn an_endpoint_left_in_another_vpc_or_of_another_type_is_replaced() {
    let mut spec = spec();
    let observed = converged(&spec);
    spec.vpc_id = "vpc-2".into();
    let plan = plan(&spec, &Policies::default(), &observed);
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(plan.changes.len(), 7);
    assert!(
        plan.changes
            .iter()
            .all(|c| c.to.as_ref().is_some_and(|t| t["vpcId"] == "vpc-2"))
    );
    assert!(
        plan.reason
            .expect("a reason")
            .contains("cannot move to another VPC")
    );

    let mut spec = self::spec();
    let observed = converged(&spec);
    spec.gateway_services.clear();
    spec.interface_services.push("s3".into());
    let plan = self::plan(&spec, &Policies::default(), &observed);
    assert_eq!(plan.drifted_fields(), ["endpoints.s3"]);
    assert_eq!(
        plan.changes[0].to.as_ref().map(|t| &t["type"]),
        Some(&json!("Interface"))
    );
    assert!(
        plan.reason
            .expect("a reason")
            .contains("cannot change its type")
    );
}

#[test]
fn a_service_dropped_from_the_spec_deletes_its_endpoint_as_an_update() {
    let mut spec = spec();
    let observed = converged(&spec);
    spec.interface_services.retain(|s| s != "ecr.dkr");
    let plan = plan(&spec, &Policies::default(), &observed);
    assert_eq!(plan.verb, Verb::Update);
    assert_eq!(plan.drifted_fields(), ["endpoints.ecr.dkr"]);
    assert_first_change_deletes(&plan, "vpce-1");
}

#[test]
fn a_second_endpoint_of_the_set_for_one_service_is_deleted() {
    let spec = spec();
    let mut observed = converged(&spec);
    let mut twin = find(&mut observed, "logs").clone();
    twin.id = "vpce-twin".into();
    twin.state = "pending".into();
    observed.push(twin);
    let plan = plan(&spec, &Policies::default(), &observed);
    assert_eq!(plan.drifted_fields(), ["endpoints.logs"]);
    assert_first_change_deletes(&plan, "vpce-twin");
}

#[test]
fn a_removed_document_deletes_retains_or_holds_back_its_endpoints() {
    let observed = converged(&spec());
    let removed = |observed: &[ObservedEndpoint], gate: &PruneGate| {
        plan_endpoint_set("ctl", &key(), None, observed, gate).display()
    };
    let plan = removed(&observed, &PruneGate::Allowed);
    assert_eq!(plan.verb, Verb::Delete);
    assert_eq!(plan.changes.len(), 7);
    assert_eq!(plan.changes[0].path, "endpoints.ecs-agent");
    assert!(plan.changes.iter().all(|c| c.to.is_none()));

    let held = PruneGate::HeldBack("the source listed no documents".into());
    let plan = removed(&observed, &held);
    assert_eq!(plan.verb, Verb::Blocked);
    assert!(plan.reason.expect("a reason").contains("held back"));

    let mut retained = observed.clone();
    for ep in &mut retained {
        ep.tags.insert(DELETION_POLICY_ANNOTATION, "Retain");
    }
    assert_eq!(removed(&retained, &PruneGate::Allowed).verb, Verb::Retain);

    retained[5].tags.remove(DELETION_POLICY_ANNOTATION);
    let plan = removed(&retained, &PruneGate::Allowed);
    assert_eq!(plan.verb, Verb::Delete);
    assert_eq!(plan.drifted_fields(), ["endpoints.ecs-agent"]);
    assert!(plan.reason.expect("a reason").contains("Retain keeps"));

    let mut theirs = observed.clone();
    for ep in &mut theirs {
        ep.tags.clear();
    }
    assert_eq!(removed(&theirs, &PruneGate::Allowed).verb, Verb::InSync);
}

#[test]
fn a_suspended_set_reports_drift_and_changes_nothing() {
    let spec = spec();
    let mut observed = converged(&spec);
    find(&mut observed, "logs").private_dns_enabled = false;
    let policies = Policies {
        suspend: true,
        ..Policies::default()
    };
    let plan = plan(&spec, &policies, &observed);
    assert_eq!(plan.verb, Verb::Suspended);
    assert_eq!(plan.drifted_fields(), ["endpoints.logs.privateDns"]);
    let fresh = self::plan(&spec, &policies, &[]);
    assert_eq!(fresh.verb, Verb::Suspended);
    assert_eq!(fresh.reason.as_deref(), Some("suspended; would create"));
}

#[test]
fn the_set_is_ready_only_when_every_endpoint_is_available() {
    let mut observed = converged(&spec());
    let spec = spec();
    assert_eq!(
        endpoints_ready(&spec, &observed),
        (true, "all 7 endpoints are available".to_owned())
    );
    find(&mut observed, "logs").state = "pending".into();
    find(&mut observed, "ecs").state = "pending".into();
    let (ready, message) = endpoints_ready(&spec, &observed);
    assert!(!ready);
    assert_eq!(
        message,
        "waiting for endpoints: ecs (vpce-2 pending), logs (vpce-0 pending)"
    );
    assert_eq!(
        endpoints_ready(&spec, &[]),
        (false, "no endpoints yet".to_owned())
    );
}

#[test]
fn a_set_missing_an_endpoint_is_not_ready_though_the_others_are_available() {
    let spec = spec();
    let mut observed = converged(&spec);
    observed.retain(|ep| !ep.service_name.ends_with(".logs") && !ep.service_name.ends_with(".s3"));
    let (ready, message) = endpoints_ready(&spec, &observed);
    assert!(!ready);
    assert_eq!(message, "endpoints not created yet: logs, s3");
}

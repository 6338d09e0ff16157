//! Events first, polls as the safety net: each target account forwards the CloudTrail events of
//! the calls that change a managed object (and no read-only call) to the controller's central
//! bus, which admits the Organization's accounts only and queues those events for the
//! controller on an encrypted queue with a dead-letter queue that admits that one rule; the task
//! role may consume that queue and no other, and the controller config names it. All of it is
//! optional on both sides.
//!
//! The event names follow the API references of the services (Cloud Map, RAM, EC2, ECS); the
//! `source` / `eventSource` pairs follow the EventBridge events reference, e.g.
//! <https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-servicediscovery.html>.

use std::collections::{BTreeMap, BTreeSet};

use ecs_topology_core::events::{events_of, observed_events};
use ecs_topology_core::model::Kind;

use serde_json::{Value, json};

use crate::{actions, resource, resources_of_type, statements, strings, template};

const API_CALL: &str = "AWS API Call via CloudTrail";

/// The calls that change an object of a managed kind, by service, as the kinds list them
/// (`Resource::EVENTS`, what the events consumer observes again for): `source`, `eventSource`
/// and the event names. The one list the templates are checked against.
fn mutating_calls() -> Vec<(String, &'static str, Vec<&'static str>)> {
    let mut by_source: BTreeMap<&'static str, BTreeSet<&'static str>> = BTreeMap::new();
    for (event_source, name) in observed_events() {
        by_source.entry(event_source).or_default().insert(name);
    }
    by_source
        .into_iter()
        .map(|(event_source, names)| {
            let service = event_source.trim_end_matches(".amazonaws.com");
            (
                format!("aws.{service}"),
                event_source,
                names.into_iter().collect(),
            )
        })
        .collect()
}

/// The forwarding rules of a template on the default bus, by their `source`.
fn forwarding_rules(template: &Value) -> Vec<(&String, &Value)> {
    resources_of_type(template, "AWS::Events::Rule")
        .into_iter()
        .filter(|(_, rule)| rule["Properties"]["EventBusName"] == "default")
        .collect()
}

fn sorted(values: &Value) -> Vec<&str> {
    let mut out = strings(values);
    out.sort_unstable();
    out
}

fn read_only(name: &str) -> bool {
    ["Describe", "List", "Get"]
        .iter()
        .any(|verb| name.starts_with(verb))
}

/// Asserts that a template's default-bus rules forward exactly the mutating calls, one rule per
/// service, to `bus` through `role`, only under `condition`.
fn assert_forwards_exactly_the_mutating_calls(
    template: &Value,
    condition: &str,
    bus: &Value,
    role: &str,
) {
    let rules = forwarding_rules(template);
    let calls = mutating_calls();
    assert_eq!(rules.len(), calls.len(), "one rule per service");
    for (source, event_source, names) in calls {
        let (name, rule) = rules
            .iter()
            .find(|(_, rule)| rule["Properties"]["EventPattern"]["source"] == json!([source]))
            .unwrap_or_else(|| panic!("no rule forwards {source}"));
        assert_eq!(rule["Condition"], condition, "{name}");
        let properties = &rule["Properties"];
        assert_eq!(properties["State"], "ENABLED", "{name}");
        assert!(properties.get("Name").is_none(), "{name} has a name");
        let pattern = &properties["EventPattern"];
        assert_eq!(pattern["detail-type"], json!([API_CALL]), "{name}");
        assert_eq!(
            pattern["detail"]["eventSource"],
            json!([event_source]),
            "{name}"
        );
        let forwarded = sorted(&pattern["detail"]["eventName"]);
        let mut expected = names.to_vec();
        expected.sort_unstable();
        assert_eq!(forwarded, expected, "{name} forwards other calls");
        for call in forwarded {
            assert!(!read_only(call), "{name} forwards the read-only {call}");
        }
        assert_eq!(
            pattern.as_object().unwrap().len(),
            3,
            "{name} matches on more than detail-type, source and detail"
        );
        let targets = properties["Targets"].as_array().unwrap();
        assert_eq!(targets.len(), 1, "{name}");
        assert_eq!(&targets[0]["Arn"], bus, "{name}");
        assert_eq!(
            targets[0]["RoleArn"],
            json!({"Fn::GetAtt": [role, "Arn"]}),
            "{name}"
        );
    }
}

/// Asserts that `role` is assumed by EventBridge of its own account only and may put events on
/// `bus` and nothing else.
fn assert_role_only_puts_events_on(template: &Value, role: &str, bus: &Value, condition: &str) {
    let role_resource = resource(template, role);
    assert_eq!(role_resource["Condition"], condition);
    let properties = &role_resource["Properties"];
    assert!(
        properties.get("RoleName").is_none(),
        "{role} has a name, which collides between the regions of an account"
    );
    let trust = statements(&properties["AssumeRolePolicyDocument"]);
    assert_eq!(trust.len(), 1);
    assert_eq!(
        trust[0]["Principal"],
        json!({"Service": "events.amazonaws.com"})
    );
    assert_eq!(trust[0]["Action"], "sts:AssumeRole");
    assert_eq!(
        trust[0]["Condition"]["StringEquals"]["aws:SourceAccount"],
        json!({"Ref": "AWS::AccountId"})
    );
    let allowed = statements(&properties["Policies"]);
    assert_eq!(allowed.len(), 1, "{allowed:?}");
    assert_eq!(allowed[0]["Effect"], "Allow");
    assert_eq!(actions(allowed[0]), ["events:PutEvents"]);
    assert_eq!(&allowed[0]["Resource"], bus);
    assert!(properties.get("ManagedPolicyArns").is_none());
}

#[test]
fn each_target_account_forwards_exactly_the_mutating_calls_of_the_managed_services() {
    let target = template("target-account-role.yaml");
    assert_forwards_exactly_the_mutating_calls(
        &target,
        "ForwardsEvents",
        &json!({"Ref": "CentralEventBusArn"}),
        "EventForwardingRole",
    );
    assert_role_only_puts_events_on(
        &target,
        "EventForwardingRole",
        &json!({"Ref": "CentralEventBusArn"}),
        "ForwardsEvents",
    );
}

#[test]
fn each_kind_lists_its_mutating_calls_once_and_none_is_read_only() {
    for kind in Kind::ALL {
        let names: Vec<&str> = events_of(kind).map(|(_, name)| name).collect();
        let distinct: BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(distinct.len(), names.len(), "{kind} lists a call twice");
        assert!(!names.iter().any(|n| read_only(n)), "{kind}: {names:?}");
    }
}

#[test]
fn a_target_account_stack_forwards_nothing_without_the_central_bus() {
    let target = template("target-account-role.yaml");
    let bus = &target["Parameters"]["CentralEventBusArn"];
    assert_eq!(bus["Default"], "");
    assert_eq!(
        target["Conditions"]["ForwardsEvents"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "CentralEventBusArn"}, ""]}]})
    );
    for (name, resource) in target["Resources"].as_object().unwrap() {
        let of_events = resource["Type"]
            .as_str()
            .is_some_and(|t| t.starts_with("AWS::Events::"))
            || name == "EventForwardingRole";
        if of_events {
            assert_eq!(resource["Condition"], "ForwardsEvents", "{name}");
        }
    }
}

#[test]
fn one_stackset_may_place_the_target_stack_in_every_region_of_an_account() {
    let target = template("target-account-role.yaml");
    // The role's name is the same in every account, and IAM is global: in an account with
    // stacks in several regions, only the stack of RoleRegion creates it (and its policies).
    assert_eq!(target["Parameters"]["RoleRegion"]["Default"], "");
    assert_eq!(
        target["Conditions"]["CreatesRole"],
        json!({"Fn::Or": [
            {"Fn::Equals": [{"Ref": "RoleRegion"}, ""]},
            {"Fn::Equals": [{"Ref": "RoleRegion"}, {"Ref": "AWS::Region"}]},
        ]})
    );
    for name in [
        "TargetRole",
        "NamespacesPolicy",
        "EndpointsPolicy",
        "ExpressPolicy",
    ] {
        assert_eq!(
            resource(&target, name)["Condition"],
            "CreatesRole",
            "{name}"
        );
    }
    assert_eq!(target["Outputs"]["RoleArn"]["Condition"], "CreatesRole");
    // Everything else is named by CloudFormation, so the stacks of two regions never collide.
    for (name, resource) in target["Resources"].as_object().unwrap() {
        if resource["Condition"] == "CreatesRole" {
            continue;
        }
        for key in ["RoleName", "Name", "ManagedPolicyName"] {
            assert!(
                resource["Properties"].get(key).is_none(),
                "{name} has a fixed {key}"
            );
        }
    }
}

#[test]
fn the_controller_forwards_its_own_account_with_the_same_rules() {
    let controller = template("controller.yaml");
    let target = template("target-account-role.yaml");
    let bus = json!({"Fn::GetAtt": ["EventBus", "Arn"]});
    assert_forwards_exactly_the_mutating_calls(
        &controller,
        "ForwardsOwnAccountEvents",
        &bus,
        "OwnAccountEventForwardingRole",
    );
    assert_role_only_puts_events_on(
        &controller,
        "OwnAccountEventForwardingRole",
        &bus,
        "ForwardsOwnAccountEvents",
    );
    assert_eq!(
        controller["Conditions"]["ForwardsOwnAccountEvents"],
        json!({"Fn::And": [{"Condition": "UseEvents"}, {"Condition": "ManagesOwnAccount"}]})
    );
    for (name, rule) in forwarding_rules(&target) {
        let own = resource(&controller, &format!("OwnAccount{name}"));
        assert_eq!(
            own["Properties"]["EventPattern"], rule["Properties"]["EventPattern"],
            "the {name} patterns differ"
        );
    }
}

/// The one resource of the policy type `kind` in `template`, asserted to be made only when events
/// are used and to be attached, by its property `property`, to `target`.
fn events_policy<'a>(template: &'a Value, kind: &str, property: &str, target: Value) -> &'a Value {
    let policies = resources_of_type(template, kind);
    assert_eq!(policies.len(), 1, "{kind}");
    let (name, policy) = policies[0];
    assert_eq!(policy["Condition"], "UseEvents", "{name}");
    assert_eq!(policy["Properties"][property], target);
    policy
}

#[test]
fn the_central_bus_admits_put_events_from_the_organization_only() {
    let controller = template("controller.yaml");
    let bus = json!({"Ref": "EventBus"});
    let policy = events_policy(
        &controller,
        "AWS::Events::EventBusPolicy",
        "EventBusName",
        bus,
    );
    let statement = &policy["Properties"]["Statement"];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], "events:PutEvents");
    assert_eq!(
        statement["Resource"],
        json!({"Fn::GetAtt": ["EventBus", "Arn"]})
    );
    assert_eq!(
        statement["Condition"],
        json!({"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}),
        "anyone outside the Organization could put events"
    );
    assert!(
        resource(&controller, "EventBus")["Properties"]
            .get("Policy")
            .is_none(),
        "a second policy on the bus"
    );
    // No Organization, no bus.
    let rule = &controller["Rules"]["EventsNeedTheOrganization"];
    assert_eq!(
        rule["RuleCondition"],
        json!({"Fn::Equals": [{"Ref": "Events"}, "Enabled"]})
    );
    assert_eq!(
        rule["Assertions"][0]["Assert"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "OrganizationId"}, ""]}]})
    );
}

#[test]
fn the_central_bus_queues_the_api_calls_of_the_managed_services() {
    let controller = template("controller.yaml");
    let rule = resource(&controller, "ApiCallsToQueueRule");
    assert_eq!(rule["Condition"], "UseEvents");
    let properties = &rule["Properties"];
    assert_eq!(properties["EventBusName"], json!({"Ref": "EventBus"}));
    assert_eq!(properties["State"], "ENABLED");
    let pattern = &properties["EventPattern"];
    assert_eq!(pattern["detail-type"], json!([API_CALL]));
    let sources: BTreeSet<&str> = strings(&pattern["source"]).into_iter().collect();
    let calls = mutating_calls();
    let expected: BTreeSet<&str> = calls.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(sources, expected);
    assert_eq!(
        properties["Targets"],
        json!([{"Id": "controller-queue", "Arn": {"Fn::GetAtt": ["EventQueue", "Arn"]}}])
    );
}

#[test]
fn the_event_queue_is_encrypted_and_has_a_dead_letter_queue() {
    let controller = template("controller.yaml");
    let queues = resources_of_type(&controller, "AWS::SQS::Queue");
    assert_eq!(queues.len(), 2);
    for (name, queue) in &queues {
        assert_eq!(queue["Condition"], "UseEvents", "{name}");
        let properties = &queue["Properties"];
        assert!(
            properties["SqsManagedSseEnabled"] == true
                || properties.get("KmsMasterKeyId").is_some(),
            "{name} is not encrypted"
        );
    }
    let queue = &resource(&controller, "EventQueue")["Properties"];
    let redrive = &queue["RedrivePolicy"];
    assert_eq!(
        redrive["deadLetterTargetArn"],
        json!({"Fn::GetAtt": ["EventDeadLetterQueue", "Arn"]})
    );
    let receives = redrive["maxReceiveCount"].as_u64().unwrap();
    assert!((2..=10).contains(&receives), "maxReceiveCount {receives}");
    let dead = &resource(&controller, "EventDeadLetterQueue")["Properties"];
    assert!(
        dead["MessageRetentionPeriod"].as_u64().unwrap()
            > queue["MessageRetentionPeriod"].as_u64().unwrap(),
        "a dead letter expires before it could be looked at"
    );
    // The controller long-polls for 20 s.
    assert_eq!(queue["ReceiveMessageWaitTimeSeconds"], 20);
}

#[test]
fn the_event_queue_admits_messages_from_the_central_rule_only() {
    let controller = template("controller.yaml");
    let queues = json!([{"Ref": "EventQueue"}]);
    let policy = events_policy(&controller, "AWS::SQS::QueuePolicy", "Queues", queues);
    let allowed: Vec<&Value> = statements(policy)
        .into_iter()
        .filter(|s| s["Effect"] == "Allow")
        .collect();
    assert_eq!(allowed.len(), 1, "{allowed:?}");
    let statement = allowed[0];
    assert_eq!(
        statement["Principal"],
        json!({"Service": "events.amazonaws.com"})
    );
    assert_eq!(actions(statement), ["sqs:SendMessage"]);
    assert_eq!(
        statement["Resource"],
        json!({"Fn::GetAtt": ["EventQueue", "Arn"]})
    );
    assert_eq!(
        statement["Condition"],
        json!({"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ApiCallsToQueueRule", "Arn"]}}}),
        "the queue admits more than the central rule"
    );
}

#[test]
fn the_task_role_may_consume_the_event_queue_and_no_other() {
    let controller = template("controller.yaml");
    // Identity policies' statements: those of resource policies name a principal.
    let consumers: Vec<&Value> = statements(&controller)
        .into_iter()
        .filter(|s| s["Effect"] == "Allow" && s.get("Principal").is_none())
        .filter(|s| actions(s).iter().any(|a| a.starts_with("sqs:")))
        .collect();
    assert_eq!(consumers.len(), 1, "{consumers:?}");
    let statement = consumers[0];
    let task_role = statements(resource(&controller, "TaskRole"));
    assert!(
        task_role.iter().any(|s| std::ptr::eq(*s, statement)),
        "not the task role"
    );
    let mut granted = actions(statement);
    granted.sort_unstable();
    assert_eq!(
        granted,
        [
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage",
        ]
    );
    assert_eq!(
        statement["Resource"],
        json!({"Fn::GetAtt": ["EventQueue", "Arn"]})
    );
}

/// The config the secret holds, with `Events` expanded to the given branch and a queue URL.
fn config_with(events_branch: usize) -> Value {
    let controller = template("controller.yaml");
    let (text, variables) = crate::controller_config(&controller);
    let events = &variables["Events"]["Fn::If"];
    assert_eq!(events[0], "UseEvents");
    let line = match &events[events_branch] {
        Value::String(line) => line.clone(),
        other => other["Fn::Sub"].as_str().expect("a line").to_owned(),
    };
    let line = line.replace(
        "${EventQueue}",
        "https://sqs.eu-west-1.amazonaws.com/111111111111/ecs-topology-EventQueue-abc",
    );
    let rendered = text
        .replace("${Events}", &line)
        .replace("${Accounts}", "{}")
        .replace("${Lease}", "null")
        .replace("${ControllerName}", "ecs-topology")
        .replace("${StateTable}", "table");
    serde_saphyr::from_str(&rendered).unwrap_or_else(|e| panic!("{rendered}: {e}"))
}

#[test]
fn the_controller_config_names_the_queue_only_with_events() {
    let with = config_with(1);
    assert_eq!(
        with["events"],
        json!({"queueUrl": "https://sqs.eu-west-1.amazonaws.com/111111111111/ecs-topology-EventQueue-abc"})
    );
    let without = config_with(2);
    assert!(
        without.get("events").is_none(),
        "without events the config changed: {without}"
    );
    assert_eq!(without["metricsAddress"], "0.0.0.0:9464");
}

#[test]
fn the_events_parts_of_the_controller_stack_exist_only_with_events() {
    let controller = template("controller.yaml");
    assert_eq!(controller["Parameters"]["Events"]["Default"], "Disabled");
    for (name, resource) in controller["Resources"].as_object().unwrap() {
        let kind = resource["Type"].as_str().unwrap();
        if kind.starts_with("AWS::Events::") || kind.starts_with("AWS::SQS::") {
            assert!(
                ["UseEvents", "ForwardsOwnAccountEvents"]
                    .contains(&resource["Condition"].as_str().unwrap_or("")),
                "{name} exists without events"
            );
        }
    }
    for output in ["EventBusArn", "EventQueueUrl", "EventDeadLetterQueueUrl"] {
        assert_eq!(
            controller["Outputs"][output]["Condition"], "UseEvents",
            "{output}"
        );
    }
    assert_eq!(
        controller["Outputs"]["EventQueueUrl"]["Value"],
        json!({"Ref": "EventQueue"})
    );
}

#[test]
fn the_deploy_readme_names_every_forwarded_call() {
    let readme = std::fs::read_to_string(crate::root().join("deploy/README.md")).unwrap();
    let (_, section) = readme
        .split_once("## Events")
        .expect("the README has an events section");
    for (source, _, names) in mutating_calls() {
        for name in names {
            assert!(
                section.contains(&format!("`{name}`")),
                "the README does not name {source} {name}"
            );
        }
    }
}

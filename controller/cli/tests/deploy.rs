//! The deployment artefacts: the CloudFormation templates in `deploy/` pass cfn-lint and grant
//! least privilege (no wildcard action is ever allowed, deletions need the owner tag), the
//! desired-state bucket is versioned, encrypted, private and TLS-only, a deployment never runs two
//! controllers without the lease; the alert rules pass promtool and their unit tests; the
//! Dockerfile passes hadolint. The alert rules and their tests use only label values the
//! controller emits (`deploy/alerts.rs`); the target-account role changes only what its
//! controller owns or a person marked adoptable (`deploy/ownership.rs`); the CloudTrail events of
//! changes reach the controller's queue from the Organization's accounts only
//! (`deploy/events.rs`). The checkers are installed by the project's own scripts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::{Value, json};

#[path = "deploy/alerts.rs"]
mod alerts;
#[path = "deploy/dashboard.rs"]
mod dashboard;
#[path = "deploy/events.rs"]
mod events;
/// The metrics code's own lists of families, labels and label values.
#[path = "../src/metrics/labels.rs"]
#[allow(dead_code)]
mod labels;
#[path = "deploy/ownership.rs"]
mod ownership;

const TEMPLATES: [&str; 2] = ["controller.yaml", "target-account-role.yaml"];

const OWNER_TAG_CONDITION: &str = "aws:ResourceTag/ecs-topology.dev/owner";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn succeeds(command: &mut Command) -> Output {
    let output = command
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A program of the checkers' environment (`tests/tools/.venv`), created on first use.
fn checker(name: &str) -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        succeeds(Command::new(root().join("tests/setup-venv")).arg("tests/tools"));
        root().join("tests/tools/.venv/bin")
    })
    .join(name)
}

/// Prometheus's `promtool`, installed on first use.
fn promtool() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let output = succeeds(&mut Command::new(root().join("tests/tools/setup-promtool")));
        let stdout = String::from_utf8(output.stdout).unwrap();
        PathBuf::from(
            stdout
                .lines()
                .next_back()
                .expect("setup-promtool prints a path"),
        )
    })
    .clone()
}

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).expect(path);
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn template(name: &str) -> Value {
    yaml(&format!("deploy/{name}"))
}

fn resource<'a>(template: &'a Value, name: &str) -> &'a Value {
    let found = &template["Resources"][name];
    assert!(found.is_object(), "no resource {name}");
    found
}

fn resources_of_type<'a>(template: &'a Value, kind: &str) -> Vec<(&'a String, &'a Value)> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

/// The values a property may take: both branches of an `Fn::If`, without `AWS::NoValue`.
fn branches(value: &Value) -> Vec<&Value> {
    match value.get("Fn::If").and_then(Value::as_array) {
        Some(args) if args.len() == 3 => args[1..].iter().flat_map(branches).collect(),
        _ if value == &json!({"Ref": "AWS::NoValue"}) => vec![],
        _ => vec![value],
    }
}

/// Every policy statement anywhere in a template (trust policies, inline and managed policies,
/// bucket policies), whichever branch of a condition it is in.
fn statements(value: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    collect_statements(value, &mut out);
    out
}

/// Every policy statement of every template, as (template, `Sid` or `(no Sid)`, statement).
fn all_statements() -> Vec<(&'static str, String, Value)> {
    TEMPLATES
        .iter()
        .flat_map(|name| {
            let template = template(name);
            statements(&template)
                .into_iter()
                .map(|statement| {
                    let sid = statement["Sid"].as_str().unwrap_or("(no Sid)").to_owned();
                    (*name, sid, statement.clone())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn collect_statements<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            if map.contains_key("Effect") {
                out.push(value);
            }
            map.values().for_each(|v| collect_statements(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_statements(v, out)),
        _ => {}
    }
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

fn actions(statement: &Value) -> Vec<&str> {
    strings(&statement["Action"])
}

#[test]
fn both_cloudformation_templates_pass_cfn_lint() {
    let mut cfn_lint = Command::new(checker("cfn-lint"));
    for name in TEMPLATES {
        cfn_lint.arg(format!("deploy/{name}"));
    }
    succeeds(&mut cfn_lint);
}

#[test]
fn no_policy_statement_allows_a_wildcard_action() {
    let mut checked = 0;
    for (name, sid, statement) in all_statements() {
        // A deny may name a whole service: it only ever takes permissions away.
        if statement["Effect"] == "Deny" {
            continue;
        }
        assert_eq!(statement["Effect"], "Allow", "{name}: {sid}");
        assert!(
            statement.get("NotAction").is_none(),
            "{name}: {sid} allows everything but a list of actions"
        );
        let allowed = actions(&statement);
        assert!(!allowed.is_empty(), "{name}: {sid} names no action");
        for action in allowed {
            assert!(
                !action.contains('*') && !action.contains('?'),
                "{name}: {sid} allows the wildcard action `{action}`"
            );
        }
        checked += 1;
    }
    assert!(checked > 30, "only {checked} statements found");
}

/// Whether an action deletes an AWS object of a kind the controller manages (or its tags).
fn deletes_a_managed_object(action: &str) -> bool {
    let (service, verb) = action.split_once(':').unwrap_or(("", action));
    // A route is no tagged object: IAM cannot tell a route through the controller's peering from
    // another one of the operator's route table; the controller deletes only routes that target
    // its own connection (the peering plan's guarantee, tested there).
    ["ec2", "ecs", "ram", "servicediscovery"].contains(&service)
        && verb.starts_with("Delete")
        && verb != "DeleteRoute"
}

#[test]
fn only_objects_carrying_the_owner_tag_may_be_deleted() {
    let mut checked = 0;
    for (name, sid, statement) in all_statements() {
        if statement["Effect"] != "Allow"
            || !actions(&statement)
                .into_iter()
                .any(deletes_a_managed_object)
        {
            continue;
        }
        assert_eq!(
            statement["Condition"]["StringEquals"][OWNER_TAG_CONDITION],
            json!({"Ref": "ControllerName"}),
            "{name}: {sid} deletes without requiring the owner tag"
        );
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} statements delete anything");
}

#[test]
fn the_controller_in_its_own_account_has_exactly_the_target_role_permissions() {
    let controller = template("controller.yaml");
    let target = template("target-account-role.yaml");
    for kind in ["Namespaces", "Endpoints", "Express"] {
        let own = resource(&controller, &format!("OwnAccount{kind}Policy"));
        let theirs = resource(&target, &format!("{kind}Policy"));
        assert_eq!(own["Condition"], "ManagesOwnAccount");
        assert_eq!(
            own["Properties"]["PolicyDocument"], theirs["Properties"]["PolicyDocument"],
            "the {kind} policies differ"
        );
        assert_eq!(
            theirs["Properties"]["Roles"],
            json!([{"Ref": "TargetRole"}])
        );
    }
    let attached = &resource(&controller, "TaskRole")["Properties"]["ManagedPolicyArns"];
    assert_eq!(attached["Fn::If"][0], "ManagesOwnAccount");
}

#[test]
fn the_target_role_trusts_only_the_controller_task_role_and_asks_for_the_external_id() {
    let target = template("target-account-role.yaml");
    let role = resource(&target, "TargetRole");
    let trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    assert_eq!(trust.len(), 1);
    let statement = &trust[0];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], "sts:AssumeRole");
    assert_eq!(
        statement["Condition"]["StringEquals"]["sts:ExternalId"],
        json!({"Ref": "ExternalId"})
    );
    assert_eq!(
        statement["Condition"]["ArnEquals"]["aws:PrincipalArn"],
        json!({"Ref": "ControllerTaskRoleArn"})
    );
    assert_eq!(target["Parameters"]["ExternalId"]["NoEcho"], true);
    let text = std::fs::read_to_string(root().join("deploy/target-account-role.yaml")).unwrap();
    assert!(
        !text
            .chars()
            .collect::<Vec<_>>()
            .windows(12)
            .any(|w| w.iter().all(char::is_ascii_digit)),
        "the target role template names an account id; StackSets deploy it everywhere"
    );
}

#[test]
fn the_desired_state_bucket_is_versioned_encrypted_private_and_tls_only() {
    let controller = template("controller.yaml");
    let buckets = resources_of_type(&controller, "AWS::S3::Bucket");
    assert!(!buckets.is_empty(), "no bucket");
    for (name, bucket) in buckets {
        let properties = &bucket["Properties"];
        assert_eq!(
            properties["VersioningConfiguration"]["Status"], "Enabled",
            "{name} is not versioned"
        );
        let rules = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is not encrypted"));
        let algorithms: Vec<&Value> = rules
            .iter()
            .flat_map(branches)
            .map(|rule| &rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"])
            .collect();
        assert!(!algorithms.is_empty(), "{name} is not encrypted");
        for algorithm in algorithms {
            assert!(
                ["AES256", "aws:kms", "aws:kms:dsse"].contains(&algorithm.as_str().unwrap_or("")),
                "{name} encrypts with {algorithm}"
            );
        }
        let block = &properties["PublicAccessBlockConfiguration"];
        for flag in [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(block[flag], true, "{name}: {flag} is not set");
        }
        let policies = resources_of_type(&controller, "AWS::S3::BucketPolicy");
        let policy = policies
            .iter()
            .find(|(_, p)| p["Properties"]["Bucket"] == json!({"Ref": name}))
            .unwrap_or_else(|| panic!("{name} has no bucket policy"));
        let tls_only = statements(policy.1).into_iter().any(|s| {
            s["Effect"] == "Deny"
                && s["Principal"] == "*"
                && matches!(
                    &s["Condition"]["Bool"]["aws:SecureTransport"],
                    Value::String(v) if v == "false"
                )
        });
        assert!(tls_only, "{name} does not refuse requests without TLS");
    }
}

#[test]
fn the_state_table_is_keyed_by_pk_on_demand_with_point_in_time_recovery_and_encryption() {
    let controller = template("controller.yaml");
    let table = &resource(&controller, "StateTable")["Properties"];
    assert_eq!(
        table["KeySchema"],
        json!([{"AttributeName": "pk", "KeyType": "HASH"}])
    );
    assert_eq!(
        table["AttributeDefinitions"],
        json!([{"AttributeName": "pk", "AttributeType": "S"}])
    );
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(table["SSESpecification"]["SSEEnabled"], true);
}

#[test]
fn the_controller_runs_read_only_as_non_root_with_its_health_check_and_time_to_shut_down() {
    let controller = template("controller.yaml");
    let task = &resource(&controller, "TaskDefinition")["Properties"];
    let containers = task["ContainerDefinitions"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let container = &containers[0];
    assert_eq!(container["ReadonlyRootFilesystem"], true);
    let user = container["User"].as_str().expect("a user is set");
    assert!(
        !["0", "root"].contains(&user.split(':').next().unwrap()),
        "runs as {user}"
    );
    assert_eq!(
        container["HealthCheck"]["Command"],
        json!(["CMD", "/usr/local/bin/ecs-topology", "healthcheck"])
    );
    // The daemon's shutdown grace is 30 s; ECS kills it after StopTimeout.
    assert!(container["StopTimeout"].as_u64().unwrap() > 30);
    assert_eq!(container["PortMappings"][0]["ContainerPort"], 9464);
    assert_eq!(container["Command"][0], "run");
    assert_eq!(
        container["Secrets"],
        json!([{"Name": "ECS_TOPOLOGY_CONFIG_YAML", "ValueFrom": {"Ref": "ConfigSecret"}}]),
        "the config is passed in ECS_TOPOLOGY_CONFIG_YAML"
    );
    let (text, _) = controller_config(&controller);
    assert!(text.contains("metricsAddress: 0.0.0.0:9464"), "{text}");
    assert!(
        text.contains("status: {dynamodbTable: ${StateTable}}"),
        "{text}"
    );
}

/// The controller config the stack writes into its config secret: the text and the variables
/// of its `Fn::Sub`.
fn controller_config(controller: &Value) -> (&str, &Value) {
    let sub = &resource(controller, "ConfigSecret")["Properties"]["SecretString"]["Fn::Sub"];
    (sub[0].as_str().expect("the config is YAML text"), &sub[1])
}

/// Where `parameter` is used in `value`: the path of every `Ref` to it and of every string that
/// substitutes it.
fn uses_of(parameter: &str, value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map.get("Ref").and_then(Value::as_str) == Some(parameter) {
                out.push(path.to_owned());
            }
            for (key, v) in map {
                uses_of(parameter, v, &format!("{path}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                uses_of(parameter, v, &format!("{path}/{i}"), out);
            }
        }
        Value::String(text) if text.contains(&format!("${{{parameter}}}")) => {
            out.push(path.to_owned());
        }
        _ => {}
    }
}

#[test]
fn the_external_ids_reach_the_task_only_through_its_config_secret() {
    let controller = template("controller.yaml");
    assert_eq!(controller["Parameters"]["Accounts"]["NoEcho"], true);
    let mut uses = Vec::new();
    uses_of("Accounts", &controller["Resources"], "", &mut uses);
    uses_of("Accounts", &controller["Outputs"], "/Outputs", &mut uses);
    assert_eq!(
        uses,
        ["/ConfigSecret/Properties/SecretString/Fn::Sub/0"],
        "Accounts (with the ExternalIds) is used outside the config secret"
    );
    let (text, _) = controller_config(&controller);
    assert!(text.contains("accounts: ${Accounts}"), "{text}");

    let container =
        &resource(&controller, "TaskDefinition")["Properties"]["ContainerDefinitions"][0];
    assert_eq!(
        container["Secrets"],
        json!([{"Name": "ECS_TOPOLOGY_CONFIG_YAML", "ValueFrom": {"Ref": "ConfigSecret"}}])
    );
    let readers: Vec<&Value> = statements(&controller)
        .into_iter()
        .filter(|s| actions(s).iter().any(|a| a.starts_with("secretsmanager:")))
        .collect();
    assert_eq!(readers.len(), 1, "{readers:?}");
    assert_eq!(readers[0]["Action"], "secretsmanager:GetSecretValue");
    assert_eq!(readers[0]["Resource"], json!({"Ref": "ConfigSecret"}));
    let execution_role = statements(resource(&controller, "ExecutionRole"));
    assert!(
        execution_role.iter().any(|s| std::ptr::eq(*s, readers[0])),
        "only the execution role (ECS, at task start) reads the config secret"
    );
}

#[test]
fn without_the_lease_a_deployment_never_runs_two_controllers() {
    let controller = template("controller.yaml");
    let service = &resource(&controller, "Service")["Properties"];
    let deployment = &service["DeploymentConfiguration"];
    assert_eq!(
        deployment["MinimumHealthyPercent"],
        json!({"Fn::If": ["UseLease", 100, 0]})
    );
    assert_eq!(
        deployment["MaximumPercent"],
        json!({"Fn::If": ["UseLease", 200, 100]})
    );
    assert_eq!(service["DesiredCount"]["Fn::If"][0], "UseLease");
    assert_eq!(service["DesiredCount"]["Fn::If"][2], 1);
    assert_eq!(
        deployment["DeploymentCircuitBreaker"],
        json!({"Enable": true, "Rollback": true})
    );
    // The lease the deployment relies on is the lease the controller is configured with.
    let (text, variables) = controller_config(&controller);
    let lease = &variables["Lease"]["Fn::If"];
    assert_eq!(lease[0], "UseLease");
    assert_eq!(lease[2], "null");
    assert!(text.contains("lease: ${Lease}"), "{text}");
}

/// Runs `promtool <command> rules <file>` and asserts that it succeeds.
fn promtool_rules(command: &str, file: &str) {
    succeeds(Command::new(promtool()).args([command, "rules", file]));
}

#[test]
fn the_alert_rules_pass_promtool_check_rules() {
    promtool_rules("check", "deploy/alerts.yaml");
}

#[test]
fn every_alert_fires_and_stays_quiet_in_its_promtool_unit_tests() {
    promtool_rules("test", "deploy/alerts.test.yaml");
    let rules = yaml("deploy/alerts.yaml");
    let tests = yaml("deploy/alerts.test.yaml");
    let cases: Vec<&Value> = tests["tests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["alert_rule_test"].as_array().unwrap())
        .collect();
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let alert = rule["alert"].as_str().unwrap();
            let of_alert = || cases.iter().filter(|c| c["alertname"] == alert);
            let fires = of_alert().any(|c| {
                c["exp_alerts"]
                    .as_array()
                    .is_some_and(|alerts| !alerts.is_empty())
            });
            let quiet = of_alert().any(|c| {
                c["exp_alerts"]
                    .as_array()
                    .is_some_and(|alerts| alerts.is_empty())
            });
            assert!(fires, "no unit test shows {alert} firing");
            assert!(quiet, "no unit test shows {alert} staying quiet");
            assert!(rule["for"].is_string(), "{alert} has no `for:`");
            assert!(
                rule["labels"]["severity"].is_string(),
                "{alert} has no severity"
            );
            assert!(
                rule["annotations"]["summary"].is_string(),
                "{alert} has no summary"
            );
        }
    }
}

#[test]
fn the_alerts_rely_only_on_the_metrics_the_controller_exports() {
    let rules = yaml("deploy/alerts.yaml");
    let mut used = BTreeSet::new();
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let expr = rule["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(at) = rest.find("ecs_topology_") {
                let name: String = rest[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                rest = &rest[at + name.len()..];
                used.insert(name);
            }
        }
    }
    assert!(used.len() > 5, "{used:?}");
    for name in &used {
        assert!(
            labels::FAMILIES.iter().any(|family| family.name == name),
            "{name} is not exported"
        );
    }
}

#[test]
fn the_dockerfile_passes_hadolint_and_runs_the_binary_as_a_non_root_user() {
    succeeds(Command::new(checker("hadolint")).arg("Dockerfile"));
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let last_stage = dockerfile.rsplit_once("\nFROM ").unwrap().1;
    for line in [
        "EXPOSE 9464",
        "ENTRYPOINT [\"/usr/local/bin/ecs-topology\"]",
        "CMD [\"run\"]",
    ] {
        assert!(
            last_stage.lines().any(|l| l.trim() == line),
            "the runtime stage lacks `{line}`"
        );
    }
    let user = last_stage
        .lines()
        .filter_map(|l| l.trim().strip_prefix("USER "))
        .next_back()
        .expect("the runtime stage sets a user");
    assert!(
        !["0", "root"].contains(&user.split(':').next().unwrap()),
        "runs as {user}"
    );
}

//! The target-account role changes only what its controller owns: requests the controller makes
//! (and requests it must never be able to make) are evaluated against the role's policies with
//! IAM's rules for the condition operators the templates use, so a policy edit that lets the
//! role claim, change or re-tag someone else's object fails here, as does one that blocks the
//! controller's own creates. The controller's own-account policies are the same statements (see
//! `the_controller_in_its_own_account_has_exactly_the_target_role_permissions`).
//!
//! The model of each request follows the Service Authorization Reference: Cloud Map's
//! `TagResource` / `UntagResource` authorise on no resource (no `aws:ResourceTag`), EC2 and ECS
//! tag calls made as part of a create carry `ec2:CreateAction` / `ecs:CreateAction`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::{actions, resource, statements, template};

const CONTROLLER: &str = "ecs-topology";
const OWNER: &str = "ecs-topology.dev/owner";
const KEY: &str = "ecs-topology.dev/key";
const ADOPTABLE: &str = "ecs-topology.dev/adoptable";
const RETAIN: &str = "ecs-topology.dev/deletion-policy";

const NAMESPACE: &str = "arn:aws:servicediscovery:eu-west-1:111111111111:namespace/ns-1";
const SHARE: &str = "arn:aws:ram:eu-west-1:111111111111:resource-share/s-1";
const ENDPOINT: &str = "arn:aws:ec2:eu-west-1:111111111111:vpc-endpoint/vpce-1";
const SERVICE: &str = "arn:aws:ecs:eu-west-1:111111111111:service/apps/web";
const PEERING: &str = "arn:aws:ec2:eu-west-1:111111111111:vpc-peering-connection/pcx-1";

// ---------------------------------------------------------------------------------------------
// The role's statements, with the template's intrinsic functions resolved

/// Every statement of the target role's three policies, resolved with the parameters' defaults
/// in account 111111111111 (partition `aws`).
fn role_statements() -> Vec<Value> {
    let target = template("target-account-role.yaml");
    ["NamespacesPolicy", "EndpointsPolicy", "ExpressPolicy"]
        .into_iter()
        .flat_map(|policy| {
            let document = &resource(&target, policy)["Properties"]["PolicyDocument"];
            let resolved = resolve(document, &target["Parameters"], &BTreeMap::new());
            statements(&resolved)
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect()
}

fn parameter(name: &str, parameters: &Value) -> Value {
    match name {
        "AWS::Partition" => json!("aws"),
        "AWS::AccountId" => json!("111111111111"),
        "AWS::Region" => json!("eu-west-1"),
        _ => {
            let p = &parameters[name];
            let default = p["Default"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: no default"));
            if p["Type"] == "CommaDelimitedList" {
                json!(default.split(',').collect::<Vec<_>>())
            } else {
                json!(default)
            }
        }
    }
}

fn resolve(value: &Value, parameters: &Value, vars: &BTreeMap<String, Value>) -> Value {
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string())
    };
    match value {
        Value::Object(map) if map.len() == 1 => {
            let (function, args) = map.iter().next().unwrap();
            match function.as_str() {
                "Ref" => parameter(args.as_str().unwrap(), parameters),
                "Fn::Sub" => {
                    let (pattern, vars) = match args {
                        Value::String(s) => (s.clone(), vars.clone()),
                        _ => {
                            let mut more = vars.clone();
                            for (k, v) in args[1].as_object().unwrap() {
                                more.insert(k.clone(), resolve(v, parameters, vars));
                            }
                            (args[0].as_str().unwrap().to_owned(), more)
                        }
                    };
                    let mut out = pattern;
                    while let Some(at) = out.find("${") {
                        let end = at + out[at..].find('}').unwrap();
                        let name = out[at + 2..end].to_owned();
                        let value = vars
                            .get(&name)
                            .cloned()
                            .unwrap_or_else(|| parameter(&name, parameters));
                        out.replace_range(at..=end, &text(&value));
                    }
                    json!(out)
                }
                "Fn::Join" => {
                    let list = resolve(&args[1], parameters, vars);
                    let parts: Vec<String> = list.as_array().unwrap().iter().map(text).collect();
                    json!(parts.join(args[0].as_str().unwrap()))
                }
                "Fn::Split" => {
                    let joined = resolve(&args[1], parameters, vars);
                    json!(
                        joined
                            .as_str()
                            .unwrap()
                            .split(args[0].as_str().unwrap())
                            .collect::<Vec<_>>()
                    )
                }
                _ => Value::Object(
                    map.iter()
                        .map(|(k, v)| (k.clone(), resolve(v, parameters, vars)))
                        .collect(),
                ),
            }
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(v, parameters, vars)))
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| resolve(v, parameters, vars)).collect())
        }
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Requests and IAM's evaluation of them

/// One API request as IAM sees it: the action, the resource and the condition keys.
#[derive(Debug, Clone)]
struct Request {
    action: String,
    resource: String,
    keys: BTreeMap<String, Vec<String>>,
}

type Tags<'a> = &'a [(&'a str, &'a str)];

impl Request {
    fn new(action: &str, resource: &str) -> Request {
        Request {
            action: action.to_owned(),
            resource: resource.to_owned(),
            keys: BTreeMap::new(),
        }
    }

    /// The object's tags (`aws:ResourceTag/...`).
    fn on(mut self, tags: Tags<'_>) -> Request {
        for (k, v) in tags {
            self.keys
                .insert(format!("aws:ResourceTag/{k}"), vec![(*v).to_owned()]);
        }
        self
    }

    /// Tags the request sets (`aws:RequestTag/...` and `aws:TagKeys`).
    fn setting(mut self, tags: Tags<'_>) -> Request {
        for (k, v) in tags {
            self.keys
                .insert(format!("aws:RequestTag/{k}"), vec![(*v).to_owned()]);
        }
        self.keys.insert(
            "aws:TagKeys".into(),
            tags.iter().map(|(k, _)| (*k).to_owned()).collect(),
        );
        self
    }

    /// Tag keys the request removes (`aws:TagKeys`).
    fn removing(mut self, keys: &[&str]) -> Request {
        self.keys.insert(
            "aws:TagKeys".into(),
            keys.iter().map(|k| (*k).to_owned()).collect(),
        );
        self
    }

    fn with(mut self, key: &str, value: &str) -> Request {
        self.keys.insert(key.to_owned(), vec![value.to_owned()]);
        self
    }
}

/// `*` and `?` wildcards, as `StringLike` and resource ARNs use them.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().flat_map(list).collect(),
        Value::String(s) => vec![s.clone()],
        other => vec![other.to_string()],
    }
}

/// Whether one condition operator block holds for `request`, by IAM's rules: a missing key makes
/// a positive operator false and a negated one true, `...IfExists` true; `ForAnyValue` needs one
/// request value to match (false without the key), `ForAllValues` every one (true without it).
fn holds(operator: &str, block: &Value, request: &Request) -> bool {
    let (set, operator) = match operator.split_once(':') {
        Some((set @ ("ForAnyValue" | "ForAllValues"), op)) => (Some(set), op),
        _ => (None, operator),
    };
    let (operator, if_exists) = match operator.strip_suffix("IfExists") {
        Some(op) => (op, true),
        None => (operator, false),
    };
    block.as_object().unwrap().iter().all(|(key, expected)| {
        let expected = list(expected);
        let actual = request.keys.get(key);
        if operator == "Null" {
            return actual.is_none() == (expected == ["true"]);
        }
        let (negated, matches): (bool, fn(&str, &str) -> bool) = match operator {
            "StringEquals" | "ArnEquals" => (false, |e, a| e == a),
            "StringNotEquals" => (true, |e, a| e == a),
            "StringLike" | "ArnLike" => (false, glob),
            "StringNotLike" => (true, glob),
            "Bool" => (false, |e, a| e.eq_ignore_ascii_case(a)),
            other => panic!("no model of the condition operator {other}"),
        };
        let one = |a: &String| {
            let any = expected.iter().any(|e| matches(e, a));
            any != negated
        };
        match (set, actual) {
            (Some("ForAnyValue"), None) => false,
            (Some(_), None) => true,
            (Some("ForAnyValue"), Some(values)) => values.iter().any(one),
            (Some(_), Some(values)) => values.iter().all(one),
            (None, None) => if_exists || negated,
            (None, Some(values)) => values.iter().all(one),
        }
    })
}

fn applies(statement: &Value, request: &Request) -> bool {
    actions(statement)
        .iter()
        .any(|a| a.eq_ignore_ascii_case(&request.action))
        && list(&statement["Resource"])
            .iter()
            .any(|r| glob(r, &request.resource))
        && statement["Condition"]
            .as_object()
            .is_none_or(|c| c.iter().all(|(op, block)| holds(op, block, request)))
}

/// IAM's decision: an explicit deny wins, else any allow allows.
fn allowed(statements: &[Value], request: &Request) -> bool {
    let any = |effect: &str| {
        statements
            .iter()
            .any(|s| s["Effect"] == effect && applies(s, request))
    };
    !any("Deny") && any("Allow")
}

/// Whether a deny statement refuses the request whatever else the role is given.
fn refused_outright(statements: &[Value], request: &Request) -> bool {
    statements
        .iter()
        .any(|s| s["Effect"] == "Deny" && applies(s, request))
}

fn expect(statements: &[Value], request: &Request, allow: bool) {
    assert_eq!(
        allowed(statements, request),
        allow,
        "{} {request:?}",
        if allow {
            "refused, should be allowed:"
        } else {
            "allowed, should be refused:"
        }
    );
}

// ---------------------------------------------------------------------------------------------
// The objects and tags of the scenarios

const OURS: Tags<'static> = &[(OWNER, CONTROLLER), (KEY, "Kind/name"), ("team", "a")];
const THEIRS: Tags<'static> = &[(OWNER, "another-controller"), (KEY, "Kind/name")];
const UNOWNED: Tags<'static> = &[("team", "a")];
const ADOPTABLE_BY_A_PERSON: Tags<'static> = &[("team", "a"), (ADOPTABLE, "true")];
const THEIRS_MARKED_ADOPTABLE: Tags<'static> =
    &[(OWNER, "another-controller"), (ADOPTABLE, "true")];
const CLAIM: Tags<'static> = &[(OWNER, CONTROLLER), (KEY, "Kind/name")];

/// Per kind, with tag-based authorisation on the object: (object ARN, a change, tag, untag).
const TAG_AUTHORISED: [(&str, &str, &str, &str); 4] = [
    (
        SHARE,
        "ram:UpdateResourceShare",
        "ram:TagResource",
        "ram:UntagResource",
    ),
    (
        ENDPOINT,
        "ec2:ModifyVpcEndpoint",
        "ec2:CreateTags",
        "ec2:DeleteTags",
    ),
    (
        SERVICE,
        "ecs:UpdateExpressGatewayService",
        "ecs:TagResource",
        "ecs:UntagResource",
    ),
    (
        PEERING,
        "ec2:ModifyVpcPeeringConnectionOptions",
        "ec2:CreateTags",
        "ec2:DeleteTags",
    ),
];

#[test]
fn the_controller_creates_its_objects_with_its_owner_tag_and_nothing_without_it() {
    let role = role_statements();
    let namespace = Request::new("servicediscovery:CreateHttpNamespace", NAMESPACE);
    let share = Request::new("ram:CreateResourceShare", SHARE)
        .with("ram:RequestedResourceType", "servicediscovery:Namespace")
        .with("ram:RequestedAllowsExternalPrincipals", "false");
    let endpoint =
        Request::new("ec2:CreateVpcEndpoint", ENDPOINT).with("ec2:VpceServiceOwner", "amazon");
    let endpoint_tags =
        Request::new("ec2:CreateTags", ENDPOINT).with("ec2:CreateAction", "CreateVpcEndpoint");
    let service = Request::new("ecs:CreateExpressGatewayService", SERVICE);
    let service_tags = Request::new("ecs:TagResource", SERVICE)
        .with("ecs:CreateAction", "CreateExpressGatewayService");
    let peering = Request::new("ec2:CreateVpcPeeringConnection", PEERING);
    let peering_tags = Request::new("ec2:CreateTags", PEERING)
        .with("ec2:CreateAction", "CreateVpcPeeringConnection");
    for create in [
        namespace,
        share,
        endpoint,
        endpoint_tags,
        service,
        service_tags,
        peering,
        peering_tags,
    ] {
        expect(&role, &create.clone().setting(CLAIM), true);
        expect(&role, &create.clone().setting(UNOWNED), false);
        expect(
            &role,
            &create.setting(&[(OWNER, "another-controller"), (KEY, "Kind/name")]),
            false,
        );
    }
}

#[test]
fn the_controller_changes_re_tags_and_deletes_only_what_carries_its_owner_tag() {
    let role = role_statements();
    let deletes = [
        ("servicediscovery:DeleteNamespace", NAMESPACE),
        ("servicediscovery:UpdateHttpNamespace", NAMESPACE),
        ("ram:DeleteResourceShare", SHARE),
        ("ec2:DeleteVpcEndpoints", ENDPOINT),
        ("ecs:DeleteExpressGatewayService", SERVICE),
        ("ec2:DeleteVpcPeeringConnection", PEERING),
    ];
    for (action, arn) in deletes {
        expect(&role, &Request::new(action, arn).on(OURS), true);
        for other in [THEIRS, UNOWNED, ADOPTABLE_BY_A_PERSON] {
            expect(&role, &Request::new(action, arn).on(other), false);
        }
    }
    for (arn, change, tag, untag) in TAG_AUTHORISED {
        expect(&role, &Request::new(change, arn).on(OURS), true);
        let retag = Request::new(tag, arn).setting(&[("team", "b"), (RETAIN, "Retain")]);
        expect(&role, &retag.clone().on(OURS), true);
        expect(&role, &retag.on(THEIRS), false);
        let untag = Request::new(untag, arn).removing(&["team", RETAIN]);
        expect(&role, &untag.clone().on(OURS), true);
        expect(&role, &untag.on(THEIRS), false);
        // Its objects stay its own: it cannot hand them to another controller.
        let hand_over = Request::new(tag, arn).setting(&[(OWNER, "another-controller")]);
        expect(&role, &hand_over.on(OURS), false);
    }
}

#[test]
fn an_object_without_an_owner_is_changed_and_claimed_only_once_a_person_marks_it_adoptable() {
    let role = role_statements();
    for (arn, change, tag, _) in TAG_AUTHORISED {
        let change = Request::new(change, arn);
        expect(&role, &change.clone().on(UNOWNED), false);
        expect(&role, &change.clone().on(ADOPTABLE_BY_A_PERSON), true);
        expect(&role, &change.on(THEIRS_MARKED_ADOPTABLE), false);
        let claim = Request::new(tag, arn).setting(CLAIM);
        expect(&role, &claim.clone().on(UNOWNED), false);
        expect(&role, &claim.clone().on(ADOPTABLE_BY_A_PERSON), true);
        expect(&role, &claim.on(THEIRS_MARKED_ADOPTABLE), false);
        // A claim is for this controller only.
        let for_another = Request::new(tag, arn).setting(&[(OWNER, "another-controller")]);
        expect(&role, &for_another.on(ADOPTABLE_BY_A_PERSON), false);
    }
    // Cloud Map's tag calls cannot see a namespace's tags, so the role never claims one: a
    // person hands a namespace over by writing its ownership tags.
    let update = Request::new("servicediscovery:UpdateHttpNamespace", NAMESPACE);
    expect(&role, &update.on(ADOPTABLE_BY_A_PERSON), false);
    let claim = Request::new("servicediscovery:TagResource", NAMESPACE).setting(CLAIM);
    expect(&role, &claim, false);
}

#[test]
fn a_binding_updates_only_a_service_it_claimed_and_claims_only_one_marked_adoptable() {
    const SERVICE_CONNECT: &str = "ecs-topology.dev/service-connect";
    const CLAIMED: Tags<'static> = &[
        (OWNER, CONTROLLER),
        (SERVICE_CONNECT, "ServiceConnectBinding/b"),
    ];
    const CLAIMED_BY_ANOTHER: Tags<'static> = &[
        (OWNER, "another-controller"),
        (SERVICE_CONNECT, "ServiceConnectBinding/b"),
    ];
    let role = role_statements();
    let update = Request::new("ecs:UpdateService", SERVICE);
    expect(&role, &update.clone().on(CLAIMED), true);
    // Not an Express service of its own, nor anyone's unclaimed service.
    for other in [
        OURS,
        UNOWNED,
        ADOPTABLE_BY_A_PERSON,
        THEIRS,
        CLAIMED_BY_ANOTHER,
    ] {
        expect(&role, &update.clone().on(other), false);
    }
    let claim = Request::new("ecs:TagResource", SERVICE).setting(CLAIMED);
    expect(&role, &claim.clone().on(ADOPTABLE_BY_A_PERSON), true);
    expect(&role, &claim.clone().on(UNOWNED), false);
    expect(&role, &claim.on(CLAIMED_BY_ANOTHER), false);
    let release = Request::new("ecs:UntagResource", SERVICE).removing(&[OWNER, SERVICE_CONNECT]);
    expect(&role, &release.clone().on(CLAIMED), true);
    expect(&role, &release.on(CLAIMED_BY_ANOTHER), false);
}

#[test]
fn ownership_tags_are_never_written_to_an_object_the_controller_does_not_own() {
    let role = role_statements();
    for (arn, _, tag, untag) in TAG_AUTHORISED {
        for object in [UNOWNED, THEIRS] {
            for key in [OWNER, KEY, ADOPTABLE, RETAIN] {
                let write = Request::new(tag, arn).on(object).setting(&[(key, "x")]);
                assert!(refused_outright(&role, &write), "{write:?}");
                let remove = Request::new(untag, arn).on(object).removing(&[key]);
                assert!(refused_outright(&role, &remove), "{remove:?}");
            }
        }
        // The adoption opt-in is a person's to give: the role cannot mark an object adoptable.
        let mark = Request::new(tag, arn)
            .on(UNOWNED)
            .setting(&[(ADOPTABLE, "true")]);
        assert!(refused_outright(&role, &mark), "{mark:?}");
    }
    // Cloud Map: the operator's tags and a Retain (which only keeps a namespace) on any
    // namespace, never an ownership tag, never a removal of a controller's tag.
    let tag = Request::new("servicediscovery:TagResource", NAMESPACE);
    let untag = Request::new("servicediscovery:UntagResource", NAMESPACE);
    expect(&role, &tag.clone().setting(&[("team", "b")]), true);
    expect(&role, &tag.clone().setting(&[(RETAIN, "Retain")]), true);
    expect(&role, &tag.clone().setting(&[(RETAIN, "Delete")]), false);
    expect(&role, &untag.clone().removing(&["team"]), true);
    for key in [OWNER, KEY, ADOPTABLE] {
        let write = tag.clone().setting(&[("team", "b"), (key, CONTROLLER)]);
        assert!(refused_outright(&role, &write), "{write:?}");
        let remove = untag.clone().removing(&["team", key]);
        assert!(refused_outright(&role, &remove), "{remove:?}");
    }
    expect(&role, &untag.removing(&[RETAIN]), false);
}

/// The guard of an allow statement that changes a managed object, if it has one.
fn guard(statement: &Value) -> Option<&'static str> {
    let condition = &statement["Condition"];
    let controller = json!({"Ref": "ControllerName"});
    let owner_on_object = format!("aws:ResourceTag/{OWNER}");
    let owner_in_request = format!("aws:RequestTag/{OWNER}");
    let adoptable_on_object = format!("aws:ResourceTag/{ADOPTABLE}");
    if condition["StringEquals"][&owner_on_object] == controller {
        return Some("the object carries the owner tag");
    }
    let writes_tags = actions(statement)
        .iter()
        .any(|a| a.ends_with(":TagResource") || a.ends_with(":CreateTags"));
    if condition["Null"][&owner_on_object] == "true"
        && condition["StringEquals"][&adoptable_on_object] == "true"
        && (!writes_tags || condition["StringEquals"][&owner_in_request] == controller)
    {
        return Some("the object has no owner and a person marked it adoptable");
    }
    // The accepter cannot see the requester's tags: it accepts, and sets its own side's
    // option, only on connections into its own account's VPCs.
    let accepts = actions(statement).iter().all(|a| {
        [
            "ec2:AcceptVpcPeeringConnection",
            "ec2:ModifyVpcPeeringConnectionOptions",
        ]
        .contains(a)
    });
    if accepts && condition["ArnLike"]["ec2:AccepterVpc"].is_object() {
        return Some("the connection is accepted into the account's own VPC");
    }
    let creates = actions(statement).iter().all(|a| {
        let verb = a.split_once(':').map_or(*a, |(_, verb)| verb);
        verb.starts_with("Create") && verb != "CreateTags"
    });
    let at_creation = ["ec2:CreateAction", "ecs:CreateAction"]
        .iter()
        .any(|key| condition["StringEquals"][*key].is_string());
    if condition["StringEquals"][&owner_in_request] == controller && (creates || at_creation) {
        return Some("the object is created with the owner tag");
    }
    let cloud_map_tags = actions(statement).iter().all(|a| {
        [
            "servicediscovery:TagResource",
            "servicediscovery:UntagResource",
        ]
        .contains(a)
    });
    let keeps_off = |op: &str| {
        let keys = list(&condition[op]["aws:TagKeys"]);
        keys.iter().any(|k| k == "ecs-topology.dev/*")
            || [OWNER, KEY, ADOPTABLE]
                .iter()
                .all(|k| keys.iter().any(|key| key == k))
    };
    if cloud_map_tags
        && (keeps_off("ForAllValues:StringNotEquals") || keeps_off("ForAllValues:StringNotLike"))
    {
        return Some("no ownership tag is in the request");
    }
    None
}

#[test]
fn every_statement_that_changes_a_managed_object_names_the_owner_tag_or_the_adoption_opt_in() {
    let mut checked = 0;
    for name in crate::TEMPLATES {
        let template = template(name);
        for statement in statements(&template) {
            let resources = statement["Resource"].to_string();
            let on_managed_objects = resources == "\"*\""
                || [
                    "vpc-endpoint/",
                    ":service/",
                    "resource-share/",
                    "namespace/",
                    "vpc-peering-connection/",
                ]
                .iter()
                .any(|p| resources.contains(p));
            let changes = actions(statement).into_iter().any(|a| {
                let (service, verb) = a.split_once(':').unwrap_or(("", a));
                ["ec2", "ecs", "ram", "servicediscovery"].contains(&service)
                    && !["Describe", "List", "Get"]
                        .iter()
                        .any(|read| verb.starts_with(read))
            });
            if statement["Effect"] != "Allow" || !on_managed_objects || !changes {
                continue;
            }
            let sid = statement["Sid"].as_str().unwrap_or("(no Sid)");
            assert!(
                guard(statement).is_some(),
                "{name}: {sid} changes objects without asking for the owner tag or the adoption \
                 opt-in: {statement}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} statements change anything");
}

#[test]
fn the_accepter_accepts_and_sets_its_option_only_for_its_own_accounts_vpcs() {
    let role = role_statements();
    let own_vpc = "arn:aws:ec2:eu-west-1:111111111111:vpc/vpc-1";
    let other_vpc = "arn:aws:ec2:eu-west-1:999999999999:vpc/vpc-9";
    for action in [
        "ec2:AcceptVpcPeeringConnection",
        "ec2:ModifyVpcPeeringConnectionOptions",
    ] {
        let request = Request::new(action, PEERING).on(UNOWNED);
        expect(
            &role,
            &request.clone().with("ec2:AccepterVpc", own_vpc),
            true,
        );
        expect(
            &role,
            &request.clone().with("ec2:AccepterVpc", other_vpc),
            false,
        );
    }
    // Deleting stays the owner's: the accepter's view carries no owner tag.
    let delete = Request::new("ec2:DeleteVpcPeeringConnection", PEERING)
        .on(UNOWNED)
        .with("ec2:AccepterVpc", own_vpc);
    expect(&role, &delete, false);
}

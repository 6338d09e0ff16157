use serde_json::json;

use super::*;
use crate::kinds::binding::ObservedDeployment;
use crate::model::{ADOPT_ANNOTATION, Kind};
use crate::plan::DocumentPlan;

const NS_ARN: &str = "arn:aws:servicediscovery:ap-northeast-1:111111111111:namespace/ns-pay";
const SERVICE_ARN: &str = "arn:aws:ecs:ap-northeast-1:222222222222:service/client-cluster/client";
const CLUSTER_ARN: &str = "arn:aws:ecs:ap-northeast-1:222222222222:cluster/client-cluster";

fn key() -> Key {
    Key::new(Kind::ServiceConnectBinding, "client-service")
}

/// A server binding as an operator writes it: one port, no discovery name, one alias without a
/// DNS name.
fn spec() -> ServiceConnectBindingSpec {
    serde_json::from_value(json!({
        "account": "client",
        "region": "ap-northeast-1",
        "cluster": "client-cluster",
        "service": "client",
        "namespaceRef": "payments",
        "services": [
            {"portName": "app", "clientAliases": [{"port": 80}]},
            {"portName": "admin"}
        ]
    }))
    .unwrap()
}

fn ready() -> NamespaceState {
    NamespaceState::Ready {
        arn: NS_ARN.into(),
        name: None,
    }
}

fn desired<'a>(
    spec: &'a ServiceConnectBindingSpec,
    policies: &'a Policies,
    last: Option<&'a str>,
) -> DesiredBinding<'a> {
    DesiredBinding {
        spec,
        policies,
        namespace: ready(),
        last_applied: last,
    }
}

/// The service as ECS reads it back after the document was applied: namespace as ARN,
/// services in another order, defaults filled in.
fn configured() -> ObservedServiceConnect {
    serde_json::from_value::<Vec<ServiceConnectService>>(json!([
        {"portName": "admin", "discoveryName": "admin"},
        {"portName": "app", "discoveryName": "app",
         "clientAliases": [{"port": 80, "dnsName": "app.payments.internal"}]}
    ]))
    .map(|services| ObservedServiceConnect {
        enabled: true,
        namespace: Some(NS_ARN.into()),
        services,
    })
    .unwrap()
}

fn service(claim: &[(&str, &str)], config: Option<ObservedServiceConnect>) -> ObservedBoundService {
    let tags = claim
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .chain([("stack".to_owned(), "client-stack".to_owned())])
        .collect();
    let mut s = ObservedBoundService::new(SERVICE_ARN, CLUSTER_ARN, "client", tags);
    s.primary = Some(ObservedDeployment {
        id: "ecs-svc/1".into(),
        rollout_state: "COMPLETED".into(),
        config,
    });
    s
}

/// A service the controller `owner` claimed for the binding `binding` (`Kind/name`).
fn claimed_by(
    owner: &str,
    binding: &str,
    config: Option<ObservedServiceConnect>,
) -> ObservedBoundService {
    service(
        &[(OWNER_TAG, owner), (SERVICE_CONNECT_TAG, binding)],
        config,
    )
}

fn ours(config: Option<ObservedServiceConnect>) -> ObservedBoundService {
    claimed_by("ctl", "ServiceConnectBinding/client-service", config)
}

/// [`ours`], configured, with the tag `key: value` besides.
fn ours_tagged(key: &str, value: &str) -> ObservedBoundService {
    let mut s = ours(Some(configured()));
    let mut tags = s.tags.clone();
    tags.insert(key, value);
    s.set_tags(tags);
    s
}

fn plan(want: Option<&DesiredBinding<'_>>, observed: &[ObservedBoundService]) -> DocumentPlan {
    plan_binding("ctl", &key(), want, observed, &PruneGate::Allowed).display()
}

/// The plan of the reference binding (`spec()`, default policies, nothing sent before) over
/// `observed`.
fn plan_of_spec(observed: &[ObservedBoundService]) -> DocumentPlan {
    let (s, p) = (spec(), Policies::default());
    plan(Some(&desired(&s, &p, None)), observed)
}

/// Asserts that a plan is blocked for a reason that contains `part`.
#[track_caller]
fn assert_blocked(plan: DocumentPlan, part: &str) {
    assert_eq!(plan.verb, Verb::Blocked);
    let reason = plan.reason.unwrap();
    assert!(reason.contains(part), "{reason}");
}

#[test]
fn a_bound_service_as_ecs_reads_it_back_is_in_sync() {
    let (s, p) = (spec(), Policies::default());
    let plan = plan(Some(&desired(&s, &p, None)), &[ours(Some(configured()))]);
    assert_eq!(plan, DocumentPlan::new(key(), Verb::InSync));
}

#[test]
fn an_own_namespace_given_by_name_is_the_same_namespace_as_its_arn() {
    let (s, p) = (spec(), Policies::default());
    let mut want = desired(&s, &p, None);
    want.namespace = NamespaceState::Ready {
        arn: NS_ARN.into(),
        name: Some("payments.internal".into()),
    };
    let mut config = configured();
    config.namespace = Some("payments.internal".into());
    let plan = plan(Some(&want), &[ours(Some(config))]);
    assert_eq!(plan.verb, Verb::InSync);
}

#[test]
fn an_empty_client_alias_list_is_the_same_as_none() {
    let mut s = spec();
    s.services = serde_json::from_value(json!([{"portName": "app", "clientAliases": []}])).unwrap();
    let p = Policies::default();
    let mut config = configured();
    config.services =
        serde_json::from_value(json!([{"portName": "app", "discoveryName": "app"}])).unwrap();
    assert_eq!(
        plan(Some(&desired(&s, &p, None)), &[ours(Some(config))]).verb,
        Verb::InSync
    );
}

#[test]
fn a_client_only_binding_matches_a_configuration_without_services() {
    let mut s = spec();
    s.services.clear();
    let p = Policies::default();
    let mut config = configured();
    config.services.clear();
    assert_eq!(
        plan(Some(&desired(&s, &p, None)), &[ours(Some(config))]).verb,
        Verb::InSync
    );
}

#[test]
fn a_changed_alias_port_or_a_disabled_configuration_is_an_update_of_that_field_only() {
    let (s, p) = (spec(), Policies::default());
    type Drift = fn(&mut ObservedServiceConnect);
    let cases: [(&str, Drift, &str); 2] = [
        (
            "a changed alias port",
            |c| c.services[1].client_aliases[0].port = 8080,
            "services.app",
        ),
        ("a disabled configuration", |c| c.enabled = false, "enabled"),
    ];
    for (case, drift, field) in cases {
        let mut config = configured();
        drift(&mut config);
        let plan = plan(Some(&desired(&s, &p, None)), &[ours(Some(config))]);
        assert_eq!(plan.verb, Verb::Update, "{case}");
        assert_eq!(plan.drifted_fields(), [field], "{case}");
    }
}

#[test]
fn an_unclaimed_service_without_service_connect_is_claimed_and_configured() {
    let (s, p) = (spec(), Policies::default());
    let plan = plan(Some(&desired(&s, &p, None)), &[service(&[], None)]);
    assert_eq!(plan.verb, Verb::Create);
    assert_eq!(
        plan.drifted_fields(),
        [
            "tags.ecs-topology.dev/owner",
            "tags.ecs-topology.dev/service-connect",
            "enabled",
            "namespace",
            "services.admin",
            "services.app"
        ]
    );
}

#[test]
fn the_binding_waits_for_the_share_and_sends_nothing() {
    let (s, p) = (spec(), Policies::default());
    let mut want = desired(&s, &p, None);
    let share = Key::new(Kind::NamespaceShare, "payments-to-client");
    want.namespace = NamespaceState::Waiting {
        reason: "waiting for NamespaceShare/payments-to-client to reach account 222222222222"
            .into(),
        on: Some(share.clone()),
    };
    let plan = plan(Some(&want), &[service(&[], None)]);
    assert_eq!(plan.verb, Verb::Waiting);
    assert_eq!(plan.waiting_for, Some(share));
    assert!(plan.changes.is_empty());
}

#[test]
fn a_service_claimed_by_another_document_is_blocked_and_names_it() {
    let other = claimed_by(
        "ctl",
        "ServiceConnectBinding/someone-else",
        Some(configured()),
    );
    assert_blocked(plan_of_spec(&[other]), "ServiceConnectBinding/someone-else");
}

#[test]
fn a_service_claimed_by_another_controller_is_blocked_and_names_it() {
    let other = claimed_by("staging", "ServiceConnectBinding/client-service", None);
    assert_blocked(plan_of_spec(&[other]), "`staging`");
}

#[test]
fn an_unclaimed_service_connect_configuration_is_taken_over_only_with_adopt() {
    let s = spec();
    let existing = service(&[], Some(configured()));
    let p = Policies::default();
    assert_eq!(
        plan(
            Some(&desired(&s, &p, None)),
            std::slice::from_ref(&existing)
        )
        .verb,
        Verb::Blocked
    );
    let adopting = Policies {
        adopt: true,
        ..Policies::default()
    };
    let plan = plan(Some(&desired(&s, &adopting, None)), &[existing]);
    assert_eq!(plan.verb, Verb::Adopt, "{ADOPT_ANNOTATION}");
    // Only the claim: the configuration is already the document's.
    assert_eq!(
        plan.drifted_fields(),
        [
            "tags.ecs-topology.dev/owner",
            "tags.ecs-topology.dev/service-connect"
        ]
    );
}

#[test]
fn a_failed_rollout_is_not_sent_again_until_the_document_changes() {
    let (s, p) = (spec(), Policies::default());
    let mut rolled_back = ours(None);
    rolled_back.failed_deployment = Some("tasks failed to start".into());
    let digest = spec_digest(&s);
    let blocked = plan(
        Some(&desired(&s, &p, Some(&digest))),
        std::slice::from_ref(&rolled_back),
    );
    assert_blocked(blocked, "deployment failed");
    // A new document is sent at once.
    let mut changed = spec();
    changed.services.pop();
    let plan = plan(Some(&desired(&changed, &p, Some(&digest))), &[rolled_back]);
    assert_eq!(plan.verb, Verb::Update);
}

#[test]
fn the_digest_ignores_the_order_of_services() {
    let mut reordered = spec();
    reordered.services.reverse();
    assert_eq!(spec_digest(&spec()), spec_digest(&reordered));
}

#[test]
fn a_removed_binding_disables_service_connect_and_drops_the_claim() {
    let plan = plan(None, &[ours(Some(configured()))]);
    assert_eq!(plan.verb, Verb::Delete);
    assert_eq!(
        plan.drifted_fields(),
        [
            "enabled",
            "tags.ecs-topology.dev/owner",
            "tags.ecs-topology.dev/service-connect"
        ]
    );
}

#[test]
fn a_removed_binding_of_an_owned_express_style_service_keeps_the_owner_tag() {
    let plan = plan(None, &[ours_tagged(KEY_TAG, "ExpressService/client")]);
    assert_eq!(
        plan.drifted_fields(),
        ["enabled", "tags.ecs-topology.dev/service-connect"]
    );
}

#[test]
fn a_removed_binding_with_retain_leaves_the_configuration() {
    let plan = plan(None, &[ours_tagged(DELETION_POLICY_ANNOTATION, "Retain")]);
    assert_eq!(plan.verb, Verb::Retain);
    assert!(plan.changes.is_empty());
}

#[test]
fn a_removed_binding_is_held_back_by_the_prune_gate() {
    let gate = PruneGate::HeldBack("the source failed to load".into());
    let observed = [ours(Some(configured()))];
    let plan = plan_binding("ctl", &key(), None, &observed, &gate).display();
    assert_eq!(plan.verb, Verb::Blocked);
}

#[test]
fn a_missing_service_is_reported_and_never_created() {
    let plan = plan_of_spec(&[]);
    assert_eq!(plan.verb, Verb::Waiting);
    assert!(plan.changes.is_empty());
    assert!(plan.reason.unwrap().contains("never creates it"));
}

#[test]
fn a_binding_moved_to_another_service_releases_the_one_it_claimed_first() {
    let mut s = spec();
    s.service = "other".into();
    let p = Policies::default();
    let plan = plan(Some(&desired(&s, &p, None)), &[ours(Some(configured()))]);
    assert_eq!(plan.verb, Verb::Delete);
}

#[test]
fn a_suspended_binding_reports_and_changes_nothing() {
    let s = spec();
    let p = Policies {
        suspend: true,
        ..Policies::default()
    };
    let plan = plan(Some(&desired(&s, &p, None)), &[service(&[], None)]);
    assert_eq!(plan.verb, Verb::Suspended);
}

#[test]
fn a_retain_policy_is_recorded_in_the_claim() {
    let s = spec();
    let p = Policies {
        deletion: DeletionPolicy::Retain,
        ..Policies::default()
    };
    let plan = plan(Some(&desired(&s, &p, None)), &[ours(Some(configured()))]);
    assert_eq!(
        plan.drifted_fields(),
        ["tags.ecs-topology.dev/deletion-policy"]
    );
}

//! The plan of a `CloudMapNamespace`.

use serde_json::Value;

use super::NamespaceField;
use crate::model::{CloudMapNamespaceSpec, Key, Policies};
use crate::observed::{ObservedNamespace, Seen, normalise_text};
use crate::plan::{
    Edit, KindPlan, PruneGate, Verb, adopt_or_block, desired_tags, only_own, removed, tag_edits,
    unless_suspended,
};

/// The typed plan of a namespace document.
pub type NamespacePlan<'o> = KindPlan<'o, NamespaceField, ObservedNamespace>;

/// A namespace document as planning needs it.
#[derive(Debug, Clone, Copy)]
pub struct DesiredNamespace<'a> {
    pub spec: &'a CloudMapNamespaceSpec,
    pub policies: &'a Policies,
}

/// Plans one namespace document. `observed` are the namespaces of the document's account and
/// region (or, for a removed document, of where its object was seen); `desired` is `None` when the
/// document was removed from the source.
pub fn plan_namespace<'o>(
    controller: &str,
    key: &Key,
    desired: Option<DesiredNamespace<'_>>,
    observed: impl Into<Seen<'o, ObservedNamespace>>,
    gate: &PruneGate,
) -> NamespacePlan<'o> {
    let observed = observed.into();
    let mine = match only_own(key, observed.ours(controller, key).collect(), |ns| &ns.id) {
        Ok(mine) => mine,
        Err(blocked) => return *blocked,
    };
    let Some(desired) = desired else {
        return match mine {
            Some(ns) => removed(key, &ns.tags, ns, gate),
            None => KindPlan::new(key.clone(), Verb::InSync),
        };
    };
    let spec = desired.spec;
    let want_tags = desired_tags(&spec.tags, controller, key, desired.policies);
    let want_description = normalise_text(spec.description.as_deref());
    let plan = match mine {
        Some(ns) if ns.name != spec.name => KindPlan::new(key.clone(), Verb::Blocked).because(format!(
            "the namespace is named `{}`; a namespace cannot be renamed to `{}` (remove the document \
             and add one with a new name)",
            ns.name, spec.name
        )),
        Some(ns) => {
            let edits = differences(ns, want_description.as_deref(), &want_tags);
            let verb = if edits.is_empty() { Verb::InSync } else { Verb::Update };
            KindPlan::new(key.clone(), verb).with_edits(edits).on([ns])
        }
        None => match observed.all().iter().find(|ns| ns.name == spec.name) {
            Some(ns) => {
                let what = format!("namespace `{}` ({})", ns.name, ns.id);
                adopt_or_block(controller, key, &what, ns, desired.policies.adopt, |ns| {
                    differences(ns, want_description.as_deref(), &want_tags)
                })
            }
            None => {
                let mut edits = vec![Edit::new(
                    NamespaceField::Name,
                    None,
                    Some(Value::String(spec.name.clone())),
                )];
                if let Some(d) = &want_description {
                    edits.push(Edit::new(
                        NamespaceField::Description,
                        None,
                        Some(Value::String(d.clone())),
                    ));
                }
                edits.extend(tag_edits(&Default::default(), &want_tags, NamespaceField::Tag));
                KindPlan::new(key.clone(), Verb::Create).with_edits(edits)
            }
        },
    };
    unless_suspended(plan, desired.policies)
}

fn differences(
    ns: &ObservedNamespace,
    description: Option<&str>,
    tags: &crate::compact::Tags,
) -> Vec<Edit<NamespaceField>> {
    let mut edits = Vec::new();
    let observed = normalise_text(ns.description.as_deref());
    if observed.as_deref() != description {
        edits.push(Edit::new(
            NamespaceField::Description,
            observed.map(Value::String),
            description.map(|d| Value::String(d.to_owned())),
        ));
    }
    edits.extend(tag_edits(&ns.tags, tags, NamespaceField::Tag));
    edits
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::model::{KEY_TAG, Kind, OWNER_TAG};

    fn spec() -> CloudMapNamespaceSpec {
        CloudMapNamespaceSpec {
            account: "server".into(),
            region: "eu-west-1".into(),
            name: "payments.internal".into(),
            description: Some("Payments ".into()),
            tags: crate::compact::Tags::from([("team", "payments")]),
        }
    }

    /// The plan of the document `spec()` under `policies` against `observed`.
    fn desired_plan(
        policies: &Policies,
        observed: &[ObservedNamespace],
    ) -> crate::plan::DocumentPlan {
        let desired = DesiredNamespace {
            spec: &spec(),
            policies,
        };
        plan_namespace("ctl", &key(), Some(desired), observed, &PruneGate::Allowed).display()
    }

    fn key() -> Key {
        Key::new(Kind::CloudMapNamespace, "payments")
    }

    fn observed(tags: &[(&str, &str)], description: Option<&str>) -> ObservedNamespace {
        ObservedNamespace {
            id: "ns-1".into(),
            arn: "arn:aws:servicediscovery:eu-west-1:111111111111:namespace/ns-1".into(),
            name: "payments.internal".into(),
            description: description.map(str::to_owned),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    const OURS: [(&str, &str); 4] = [
        (OWNER_TAG, "ctl"),
        (KEY_TAG, "CloudMapNamespace/payments"),
        (crate::plan::MANAGED_TAGS, "team"),
        ("team", "payments"),
    ];

    #[test]
    fn a_missing_namespace_is_created_with_every_field() {
        let p = Policies::default();
        let plan = desired_plan(&p, &[]);
        assert_eq!(plan.verb, Verb::Create);
        let paths = plan.drifted_fields();
        assert_eq!(
            paths,
            [
                "name",
                "description",
                "tags.ecs-topology.dev/key",
                "tags.ecs-topology.dev/owner",
                "tags.ecs-topology.dev/tags",
                "tags.team"
            ]
        );
    }

    #[test]
    fn a_matching_namespace_is_in_sync_despite_whitespace_and_tag_order() {
        let p = Policies::default();
        let ns = observed(&OURS, Some("Payments"));
        let plan = desired_plan(&p, &[ns]);
        assert_eq!(plan, crate::plan::DocumentPlan::new(key(), Verb::InSync));
    }

    #[test]
    fn drift_is_reported_field_by_field() {
        let p = Policies::default();
        let ns = observed(&OURS[..3], Some("changed by hand"));
        let plan = desired_plan(&p, &[ns]);
        assert_eq!(plan.verb, Verb::Update);
        assert_eq!(plan.drifted_fields(), ["description", "tags.team"]);
        assert_eq!(
            plan.changes[0].from,
            Some(Value::String("changed by hand".into()))
        );
    }

    #[test]
    fn an_unowned_namespace_of_the_same_name_is_left_alone_unless_adopted() {
        let ns = observed(&[("team", "payments")], Some("Payments"));
        let p = Policies::default();
        let plan = desired_plan(&p, std::slice::from_ref(&ns));
        assert_eq!(plan.verb, Verb::Blocked);
        assert!(plan.reason.unwrap().contains("not managed by ecs-topology"));
        let adopt = Policies {
            adopt: true,
            ..Policies::default()
        };
        let plan = desired_plan(&adopt, &[ns]);
        assert_eq!(plan.verb, Verb::Adopt);
        assert_eq!(
            plan.drifted_fields(),
            [
                "tags.ecs-topology.dev/key",
                "tags.ecs-topology.dev/owner",
                "tags.ecs-topology.dev/tags"
            ]
        );
    }

    #[test]
    fn another_controllers_namespace_is_never_adopted() {
        let ns = observed(
            &[
                (OWNER_TAG, "someone-else"),
                (KEY_TAG, "CloudMapNamespace/payments"),
            ],
            None,
        );
        let adopt = Policies {
            adopt: true,
            ..Policies::default()
        };
        let plan = desired_plan(&adopt, &[ns]);
        assert_eq!(plan.verb, Verb::Blocked);
    }

    #[test]
    fn a_removed_document_is_pruned_retained_or_held_back() {
        let ns = observed(&OURS, None);
        let plan = plan_namespace(
            "ctl",
            &key(),
            None,
            std::slice::from_ref(&ns),
            &PruneGate::Allowed,
        )
        .display();
        assert_eq!(plan.verb, Verb::Delete);
        let held = PruneGate::HeldBack("the source listed no documents".into());
        assert_eq!(
            plan_namespace("ctl", &key(), None, std::slice::from_ref(&ns), &held).verb,
            Verb::Blocked
        );
        let mut retained = ns.clone();
        retained
            .tags
            .insert("ecs-topology.dev/deletion-policy", "Retain");
        assert_eq!(
            plan_namespace("ctl", &key(), None, &[retained], &PruneGate::Allowed).verb,
            Verb::Retain
        );
        let unowned = observed(&[], None);
        assert_eq!(
            plan_namespace("ctl", &key(), None, &[unowned], &PruneGate::Allowed).verb,
            Verb::InSync
        );
    }

    #[test]
    fn a_suspended_document_reports_drift_and_changes_nothing() {
        let p = Policies {
            suspend: true,
            ..Policies::default()
        };
        let ns = observed(&OURS[..3], Some("Payments"));
        let plan = desired_plan(&p, &[ns]);
        assert_eq!(plan.verb, Verb::Suspended);
        assert_eq!(plan.drifted_fields(), ["tags.team"]);
    }
}

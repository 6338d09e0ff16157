//! The plan of a `NamespaceShare`.

use std::collections::BTreeSet;

use serde_json::Value;

use super::ShareField;
use crate::model::{Key, Kind, NamespaceShareSpec, Policies};
use crate::observed::{Ids, ObservedShare, Seen};
use crate::plan::{
    Edit, KindPlan, PruneGate, Verb, adopt_or_block, desired_tags, only_own, removed, tag_edits,
    unless_suspended,
};

/// The typed plan of a share document.
pub type SharePlan<'o> = KindPlan<'o, ShareField, ObservedShare>;

/// A share document as planning needs it, with its references resolved.
#[derive(Debug, Clone)]
pub struct DesiredShare<'a> {
    pub spec: &'a NamespaceShareSpec,
    pub policies: &'a Policies,
    /// Principals as RAM takes them: account ids (aliases resolved) and Organization / OU ARNs.
    pub principals: BTreeSet<String>,
    /// The ARN of the namespace to share; `None` while it does not exist yet.
    pub namespace_arn: Option<String>,
    /// The permission ARN, without a version.
    pub permission_arn: String,
}

/// Plans one share document; `observed` are the shares the document's account owns in its region.
pub fn plan_share<'o>(
    controller: &str,
    key: &Key,
    desired: Option<&DesiredShare<'_>>,
    observed: impl Into<Seen<'o, ObservedShare>>,
    gate: &PruneGate,
) -> SharePlan<'o> {
    let observed = observed.into();
    let mine = match only_own(key, observed.ours(controller, key).collect(), |s| &s.arn) {
        Ok(mine) => mine,
        Err(blocked) => return *blocked,
    };
    let Some(desired) = desired else {
        return match mine {
            Some(share) => removed(key, &share.tags, share, gate),
            None => KindPlan::new(key.clone(), Verb::InSync),
        };
    };
    let Some(namespace_arn) = &desired.namespace_arn else {
        return KindPlan::new(key.clone(), Verb::Waiting)
            .because(format!(
                "waiting for CloudMapNamespace/{} to exist",
                desired.spec.namespace_ref
            ))
            .waiting_for(Key::new(
                Kind::CloudMapNamespace,
                desired.spec.namespace_ref.clone(),
            ));
    };
    let want = Wanted {
        resources: BTreeSet::from([namespace_arn.clone()]),
        principals: &desired.principals,
        permissions: BTreeSet::from([desired.permission_arn.clone()]),
        tags: desired_tags(&desired.spec.tags, controller, key, desired.policies),
    };
    let plan = match mine {
        Some(share) => {
            let edits = want.differences(share);
            let verb = if edits.is_empty() {
                Verb::InSync
            } else {
                Verb::Update
            };
            KindPlan::new(key.clone(), verb)
                .with_edits(edits)
                .on([share])
        }
        None => match observed.all().iter().find(|s| s.name == key.name) {
            Some(share) => {
                let what = format!("resource share `{}` ({})", share.name, share.arn);
                adopt_or_block(
                    controller,
                    key,
                    &what,
                    share,
                    desired.policies.adopt,
                    |share| want.differences(share),
                )
            }
            None => {
                let empty = ObservedShare {
                    arn: String::new(),
                    name: String::new(),
                    tags: Default::default(),
                    allow_external_principals: false,
                    resources: Default::default(),
                    principals: Default::default(),
                    permissions: Default::default(),
                };
                let mut edits = vec![Edit::new(
                    ShareField::Name,
                    None,
                    Some(Value::String(key.name.clone())),
                )];
                edits.extend(want.differences(&empty));
                KindPlan::new(key.clone(), Verb::Create).with_edits(edits)
            }
        },
    };
    unless_suspended(plan, desired.policies)
}

struct Wanted<'a> {
    resources: BTreeSet<String>,
    principals: &'a BTreeSet<String>,
    permissions: BTreeSet<String>,
    tags: crate::compact::Tags,
}

impl Wanted<'_> {
    fn differences(&self, share: &ObservedShare) -> Vec<Edit<ShareField>> {
        let mut edits = Vec::new();
        set_edit(
            &mut edits,
            ShareField::Resources,
            &share.resources,
            &self.resources,
        );
        set_edit(
            &mut edits,
            ShareField::Principals,
            &share.principals,
            self.principals,
        );
        let observed_permissions: Ids = share
            .permissions
            .iter()
            .map(|p| crate::observed::permission_base_arn(p).to_owned())
            .collect();
        set_edit(
            &mut edits,
            ShareField::Permissions,
            &observed_permissions,
            &self.permissions,
        );
        if share.allow_external_principals {
            edits.push(Edit::new(
                ShareField::AllowExternalPrincipals,
                Some(Value::Bool(true)),
                Some(Value::Bool(false)),
            ));
        }
        edits.extend(tag_edits(&share.tags, &self.tags, ShareField::Tag));
        edits
    }
}

fn strings<'a, S: AsRef<str> + 'a>(s: impl IntoIterator<Item = &'a S>) -> Option<Value> {
    let all: Vec<Value> = s
        .into_iter()
        .map(|v| Value::String(v.as_ref().to_owned()))
        .collect();
    (!all.is_empty()).then_some(Value::Array(all))
}

fn set_edit(
    edits: &mut Vec<Edit<ShareField>>,
    field: ShareField,
    from: &Ids,
    to: &BTreeSet<String>,
) {
    if from != to {
        edits.push(Edit::new(field, strings(from), strings(to)));
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::model::{CLOUD_MAP_ECS_PERMISSION, KEY_TAG, Kind, OWNER_TAG};
    use crate::observed::permission_arn;

    const NS_ARN: &str = "arn:aws:servicediscovery:eu-west-1:111111111111:namespace/ns-1";

    fn spec() -> NamespaceShareSpec {
        NamespaceShareSpec {
            account: "server".into(),
            region: "eu-west-1".into(),
            namespace_ref: "payments".into(),
            principals: vec!["client".into()],
            permission: None,
            tags: crate::compact::Tags::new(),
        }
    }

    fn key() -> Key {
        Key::new(Kind::NamespaceShare, "payments-to-client")
    }

    fn desired<'a>(
        spec: &'a NamespaceShareSpec,
        policies: &'a Policies,
        arn: Option<&str>,
    ) -> DesiredShare<'a> {
        DesiredShare {
            spec,
            policies,
            principals: BTreeSet::from(["222222222222".to_owned()]),
            namespace_arn: arn.map(str::to_owned),
            permission_arn: permission_arn(CLOUD_MAP_ECS_PERMISSION),
        }
    }

    /// The plan of `spec` under `policies`, its namespace at `arn`, against `observed`.
    fn desired_plan(
        spec: &NamespaceShareSpec,
        policies: &Policies,
        arn: Option<&str>,
        observed: &[ObservedShare],
    ) -> crate::plan::DocumentPlan {
        let want = desired(spec, policies, arn);
        plan_share("ctl", &key(), Some(&want), observed, &PruneGate::Allowed).display()
    }

    fn ours() -> ObservedShare {
        ObservedShare {
            arn: "arn:aws:ram:eu-west-1:111111111111:resource-share/abc".into(),
            name: "payments-to-client".into(),
            tags: crate::compact::Tags::from([
                (OWNER_TAG.to_owned(), "ctl".to_owned()),
                (
                    KEY_TAG.to_owned(),
                    "NamespaceShare/payments-to-client".to_owned(),
                ),
            ]),
            allow_external_principals: false,
            resources: crate::compact::Ids::from([NS_ARN.to_owned()]),
            principals: crate::compact::Ids::from(["222222222222".to_owned()]),
            permissions: crate::compact::Ids::from([format!(
                "{}/v1",
                permission_arn(CLOUD_MAP_ECS_PERMISSION)
            )]),
        }
    }

    #[test]
    fn a_share_waits_for_its_namespace() {
        let (s, p) = (spec(), Policies::default());
        let plan = desired_plan(&s, &p, None, &[]);
        assert_eq!(plan.verb, Verb::Waiting);
    }

    #[test]
    fn a_matching_share_is_in_sync_whatever_the_permission_version() {
        let (s, p) = (spec(), Policies::default());
        let plan = desired_plan(&s, &p, Some(NS_ARN), &[ours()]);
        assert_eq!(plan, crate::plan::DocumentPlan::new(key(), Verb::InSync));
    }

    #[test]
    fn a_disassociated_principal_is_drift() {
        let (s, p) = (spec(), Policies::default());
        let mut share = ours();
        share.principals.clear();
        let plan = desired_plan(&s, &p, Some(NS_ARN), &[share]);
        assert_eq!(plan.verb, Verb::Update);
        assert_eq!(plan.drifted_fields(), ["principals"]);
        assert_eq!(plan.changes[0].from, None);
    }

    #[test]
    fn a_new_share_is_created_with_its_namespace_principals_and_permission() {
        let (s, p) = (spec(), Policies::default());
        let plan = desired_plan(&s, &p, Some(NS_ARN), &[]);
        assert_eq!(plan.verb, Verb::Create);
        assert_eq!(
            plan.drifted_fields(),
            [
                "name",
                "resources",
                "principals",
                "permissions",
                "tags.ecs-topology.dev/key",
                "tags.ecs-topology.dev/owner"
            ]
        );
    }

    #[test]
    fn an_unowned_share_of_the_same_name_is_left_alone() {
        let (s, p) = (spec(), Policies::default());
        let mut share = ours();
        share.tags.clear();
        let plan = desired_plan(&s, &p, Some(NS_ARN), &[share]);
        assert_eq!(plan.verb, Verb::Blocked);
    }

    #[test]
    fn a_key_that_owns_two_shares_is_blocked_and_names_both() {
        let (s, p) = (spec(), Policies::default());
        let mut second = ours();
        second.arn = "arn:aws:ram:eu-west-1:111111111111:resource-share/def".into();
        let plan = desired_plan(&s, &p, Some(NS_ARN), &[ours(), second]);
        assert_eq!(plan.verb, Verb::Blocked);
        assert!(plan.owns_several, "counted in the metric of such documents");
        let reason = plan.reason.unwrap_or_default();
        assert!(
            reason.contains("owns 2 objects")
                && reason.contains("share/abc")
                && reason.contains("share/def"),
            "{reason}"
        );
    }
}

//! The rules of a `NamespaceShare`, beyond its schema.

use std::collections::BTreeSet;

use super::Shares;
use crate::engine::Rules;
use crate::model::{CLOUD_MAP_ECS_PERMISSION, Key, Kind, NamespaceShareSpec};
use crate::validate::{Report, SetView, rules};

impl Rules for Shares {
    fn check(spec: &NamespaceShareSpec, view: &SetView<'_>, report: &mut Report<'_>) {
        let owner = view.config.resolve_account(&spec.account);
        match view.by_key.get(&Key::new(
            Kind::CloudMapNamespace,
            spec.namespace_ref.clone(),
        )) {
            None => report.error(
                "spec.namespaceRef",
                format!(
                    "names no CloudMapNamespace of this document set: `{}`",
                    spec.namespace_ref
                ),
            ),
            Some(loaded) => {
                let ns_account = view.config.resolve_account(loaded.document.account());
                if ns_account != owner || loaded.document.region() != spec.region {
                    report.error(
                        "spec.namespaceRef",
                        format!(
                            "CloudMapNamespace/{} lives in account {} region {}; a share must be in \
                             the namespace's account and region",
                            spec.namespace_ref,
                            loaded.document.account(),
                            loaded.document.region()
                        ),
                    );
                }
            }
        }
        if spec.principals.is_empty() {
            report.error("spec.principals", "at least one principal is required");
        }
        let mut seen = BTreeSet::new();
        for (i, principal) in spec.principals.iter().enumerate() {
            let path = format!("spec.principals[{i}]");
            let resolved = if rules::is_organization_arn(principal) || rules::is_ou_arn(principal) {
                Some(principal.clone())
            } else {
                view.config.resolve_account(principal)
            };
            let Some(resolved) = resolved else {
                report.error(
                    path,
                    format!(
                        "`{principal}` is not a 12-digit account id, an account alias of the controller \
                         config, or an Organization or OU ARN"
                    ),
                );
                continue;
            };
            if owner.as_deref() == Some(resolved.as_str()) {
                report.error(
                    path,
                    "is the owner account; a namespace is shared with other accounts",
                );
            } else if !seen.insert(resolved) {
                report.warning(path, format!("`{principal}` is listed twice"));
            }
        }
        if let Some(permission) = &spec.permission {
            let name = permission.rsplit('/').next().unwrap_or(permission);
            if name != CLOUD_MAP_ECS_PERMISSION {
                report.warning(
                    "spec.permission",
                    format!(
                        "ECS Service Connect needs {CLOUD_MAP_ECS_PERMISSION}; with `{permission}` \
                         the consumer accounts may not be able to use the namespace"
                    ),
                );
            }
        }
    }
}

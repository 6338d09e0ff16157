//! The rules of a `CloudMapNamespace`, beyond its schema.

use super::Namespaces;
use crate::config::ControllerConfig;
use crate::engine::Rules;
use crate::model::CloudMapNamespaceSpec;
use crate::validate::{Identity, Report, SetView, rules};

impl Rules for Namespaces {
    fn check(spec: &CloudMapNamespaceSpec, _view: &SetView<'_>, report: &mut Report<'_>) {
        if !rules::is_http_namespace_name(&spec.name) {
            report.error(
                "spec.name",
                "a namespace name has 1 to 1,024 printable ASCII characters and no spaces",
            );
        }
        if let Some(d) = &spec.description
            && d.chars().count() > 1024
        {
            report.error("spec.description", "at most 1,024 characters");
        }
    }

    /// The namespace's name in its account and region.
    fn identities(
        spec: &CloudMapNamespaceSpec,
        account: &str,
        region: &str,
        _config: &ControllerConfig,
    ) -> Vec<Identity> {
        vec![Identity {
            id: format!("ns|{account}|{region}|{}", spec.name),
            what: format!("namespace `{}` in {account} {region}", spec.name),
            path: "spec.name",
        }]
    }
}

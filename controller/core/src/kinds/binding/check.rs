//! The rules of a `ServiceConnectBinding`.

use std::collections::BTreeSet;

use super::Bindings;
use crate::config::ControllerConfig;
use crate::engine::Rules;
use crate::model::{
    Document, Key, Kind, ServiceConnectBindingSpec, cluster_name, namespace_arn_parts,
};
use crate::validate::{Identity, Report, SetView, rules};

/// The most client aliases ECS takes for one service entry.
const MAX_CLIENT_ALIASES: usize = 1;

impl Rules for Bindings {
    fn check(spec: &ServiceConnectBindingSpec, view: &SetView<'_>, report: &mut Report<'_>) {
        if !rules::is_cluster(&spec.cluster) {
            report.error(
                "spec.cluster",
                format!(
                    "`{}` is neither a cluster name (letters, digits, '-' and '_', at most 255 \
                     characters) nor a cluster ARN",
                    spec.cluster
                ),
            );
        }
        if !rules::is_ecs_name(&spec.service) {
            report.error(
                "spec.service",
                format!(
                    "`{}` is not an ECS service name (letters, digits, '-' and '_', at most 255 \
                     characters)",
                    spec.service
                ),
            );
        }
        if let Some(region) = spec
            .cluster
            .starts_with("arn:")
            .then(|| spec.cluster.split(':').nth(3))
            .flatten()
            .filter(|r| *r != spec.region)
        {
            report.error(
                "spec.cluster",
                format!(
                    "cluster `{}` is in region {region}, not {}",
                    cluster_name(&spec.cluster),
                    spec.region
                ),
            );
        }
        match (&spec.namespace_ref, &spec.namespace_arn) {
            (Some(_), Some(_)) => report.error(
                "spec.namespaceArn",
                "give either namespaceRef or namespaceArn, not both",
            ),
            (None, None) => report.error(
                "spec.namespaceRef",
                "one of namespaceRef (a CloudMapNamespace of this set) or namespaceArn is required",
            ),
            (Some(name), None) => check_namespace_ref(spec, name, view, report),
            (None, Some(arn)) => match namespace_arn_parts(arn) {
                None => report.error(
                    "spec.namespaceArn",
                    format!(
                        "`{arn}` is not a Cloud Map namespace ARN \
                         (arn:aws:servicediscovery:REGION:ACCOUNT:namespace/ns-...)"
                    ),
                ),
                Some((region, _)) if region != spec.region => report.error(
                    "spec.namespaceArn",
                    format!(
                        "the namespace is in region {region}; Service Connect joins a namespace of \
                         the service's region {}",
                        spec.region
                    ),
                ),
                Some(_) => {}
            },
        }
        check_services(spec, report);
    }

    /// The Service Connect configuration of the service.
    fn identities(
        spec: &ServiceConnectBindingSpec,
        account: &str,
        region: &str,
        _config: &ControllerConfig,
    ) -> Vec<Identity> {
        vec![Identity {
            id: format!(
                "sc|{account}|{region}|{}|{}",
                cluster_name(&spec.cluster),
                spec.service
            ),
            what: format!(
                "the Service Connect configuration of service `{}` of cluster `{}`",
                spec.service, spec.cluster
            ),
            path: "spec.service",
        }]
    }
}

/// A namespace of this set, in the binding's region, and shared with the binding's account by a
/// share of this set when another account owns it.
fn check_namespace_ref(
    spec: &ServiceConnectBindingSpec,
    name: &str,
    view: &SetView<'_>,
    report: &mut Report<'_>,
) {
    let path = "spec.namespaceRef";
    let Some(ns) = view.by_key.get(&Key::new(Kind::CloudMapNamespace, name)) else {
        report.error(
            path,
            format!("names no CloudMapNamespace of this document set: `{name}`"),
        );
        return;
    };
    if ns.document.region() != spec.region {
        report.error(
            path,
            format!(
                "CloudMapNamespace/{name} is in region {}; Service Connect joins a namespace of \
                 the service's region {}",
                ns.document.region(),
                spec.region
            ),
        );
        return;
    }
    let (Some(owner), Some(me)) = (
        view.config.resolve_account(ns.document.account()),
        view.config.resolve_account(&spec.account),
    ) else {
        return;
    };
    if owner == me {
        return;
    }
    let shared = view.by_key.values().any(|d| match &d.document {
        Document::NamespaceShare(m) => {
            m.spec.namespace_ref == name
                && m.spec.principals.iter().any(|p| {
                    rules::is_organization_arn(p)
                        || rules::is_ou_arn(p)
                        || view.config.resolve_account(p).as_deref() == Some(me.as_str())
                })
        }
        _ => false,
    });
    if !shared {
        report.error(
            path,
            format!(
                "CloudMapNamespace/{name} belongs to account {}; no NamespaceShare of this \
                 document set shares it with account {}",
                ns.document.account(),
                spec.account
            ),
        );
    }
}

fn check_services(spec: &ServiceConnectBindingSpec, report: &mut Report<'_>) {
    let mut ports = BTreeSet::new();
    let mut discovery = BTreeSet::new();
    for (i, entry) in spec.services.iter().enumerate() {
        let path = format!("spec.services[{i}]");
        if entry.port_name.trim().is_empty() {
            report.error(format!("{path}.portName"), "is required");
        } else if !ports.insert(entry.port_name.as_str()) {
            report.error(
                format!("{path}.portName"),
                format!("`{}` is listed twice", entry.port_name),
            );
        }
        if !rules::is_dns_label(entry.discovery()) && entry.discovery_name.is_some() {
            report.error(
                format!("{path}.discoveryName"),
                format!(
                    "`{}` is not a DNS label: lower-case letters, digits and '-', at most 63 \
                     characters",
                    entry.discovery()
                ),
            );
        } else if !discovery.insert(entry.discovery()) {
            report.error(
                format!("{path}.discoveryName"),
                format!(
                    "the discovery name `{}` is used twice (it defaults to portName)",
                    entry.discovery()
                ),
            );
        }
        if entry.client_aliases.len() > MAX_CLIENT_ALIASES {
            report.error(
                format!("{path}.clientAliases"),
                format!(
                    "{} client aliases; ECS takes at most {MAX_CLIENT_ALIASES}",
                    entry.client_aliases.len()
                ),
            );
        }
        for (j, alias) in entry.client_aliases.iter().enumerate() {
            if alias.port == 0 {
                report.error(
                    format!("{path}.clientAliases[{j}].port"),
                    "a port is 1 to 65535",
                );
            }
            if let Some(dns) = &alias.dns_name {
                let valid = !dns.is_empty()
                    && dns.len() <= 253
                    && dns.split('.').all(|l| {
                        !l.is_empty()
                            && l.len() <= 63
                            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    });
                if !valid {
                    report.error(
                        format!("{path}.clientAliases[{j}].dnsName"),
                        format!("`{dns}` is not a DNS name"),
                    );
                }
            }
        }
    }
}

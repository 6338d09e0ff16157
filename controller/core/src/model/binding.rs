use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, Spec};

/// Tag key of the claim on an ECS service: the `Kind/name` of the binding that manages its
/// Service Connect configuration (next to the owner tag naming the controller).
pub const SERVICE_CONNECT_TAG: &str = "ecs-topology.dev/service-connect";

/// An existing ECS service joining a Cloud Map namespace through Service Connect. The controller
/// manages only the service's `serviceConnectConfiguration`; it never creates or deletes the
/// service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ServiceConnectBindingSpec {
    /// The account of the service (alias or 12-digit id).
    pub account: String,
    /// The region of the service (and of the namespace).
    pub region: String,
    /// The cluster of the service, by name or ARN.
    pub cluster: String,
    /// The name of an existing ECS service (not an Express service).
    pub service: String,
    /// The `metadata.name` of the `CloudMapNamespace` to join (any account, same region); a
    /// namespace of another account must be shared with this one by a `NamespaceShare`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_ref: Option<String>,
    /// The ARN of a namespace not managed here (instead of `namespaceRef`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_arn: Option<String>,
    /// The ports the service offers in the namespace; empty (the default) for a client only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceConnectService>,
}

/// A port of the service offered in the namespace (an entry of
/// `serviceConnectConfiguration.services`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ServiceConnectService {
    /// The name of a port mapping of the service's task definition.
    pub port_name: String,
    /// The name registered in Cloud Map; ECS defaults it to `portName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery_name: Option<String>,
    /// How clients reach the port (ECS takes at most one); absent or empty for none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_aliases: Vec<ClientAlias>,
    /// The port the Service Connect proxy listens on, when not the container's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_port_override: Option<u16>,
}

impl ServiceConnectService {
    /// The discovery name, or `portName` as ECS defaults it.
    pub fn discovery(&self) -> &str {
        self.discovery_name.as_deref().unwrap_or(&self.port_name)
    }
}

/// A client alias: the port and DNS name clients use.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ClientAlias {
    pub port: u16,
    /// ECS defaults it to `discoveryName.namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_name: Option<String>,
}

/// The tags of a binding document's own: none (the claim tags are the controller's).
pub static NO_TAGS: crate::compact::Tags = crate::compact::Tags::new();

impl Spec for ServiceConnectBindingSpec {
    const KIND: Kind = Kind::ServiceConnectBinding;
    const PLURAL: &'static str = "serviceconnectbindings";
    const SHORT_NAMES: &'static [&'static str] = &["scb"];
    const DESCRIPTION: &'static str = "The Service Connect configuration of an existing ECS service: the namespace it joins, by reference, once it is visible.";
    fn account(&self) -> &str {
        &self.account
    }
    fn region(&self) -> &str {
        &self.region
    }
}

/// The region and account of a Cloud Map namespace ARN
/// (`arn:<partition>:servicediscovery:<region>:<account>:namespace/<id>`); `None` for anything
/// else.
pub fn namespace_arn_parts(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("servicediscovery"), Some(region), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let id = rest.strip_prefix("namespace/")?;
    let valid = !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && id.starts_with("ns-");
    valid.then_some((region, account))
}

#[cfg(test)]
mod tests {
    use super::namespace_arn_parts;

    #[test]
    fn a_namespace_arn_names_its_region_and_account() {
        assert_eq!(
            namespace_arn_parts(
                "arn:aws:servicediscovery:ap-northeast-1:111111111111:namespace/ns-abc"
            ),
            Some(("ap-northeast-1", "111111111111"))
        );
        assert_eq!(
            namespace_arn_parts("arn:aws:servicediscovery:eu-west-1:1111:namespace/ns-abc"),
            None
        );
        assert_eq!(namespace_arn_parts("payments.internal"), None);
    }
}

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, Spec};

/// A Cloud Map HTTP namespace: the namespace behind ECS Service Connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct CloudMapNamespaceSpec {
    /// The account the namespace lives in: an alias of the controller config or a 12-digit id.
    pub account: String,
    /// The region the namespace lives in, e.g. `ap-northeast-1`.
    pub region: String,
    /// The namespace name, unique per account and region.
    pub name: String,
    /// A description of the namespace (at most 1,024 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags on the namespace; the controller adds its ownership tags.
    #[serde(default, skip_serializing_if = "crate::compact::Tags::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub tags: crate::compact::Tags,
}

impl Spec for CloudMapNamespaceSpec {
    const KIND: Kind = Kind::CloudMapNamespace;
    const PLURAL: &'static str = "cloudmapnamespaces";
    const SHORT_NAMES: &'static [&'static str] = &["cmns"];
    const DESCRIPTION: &'static str =
        "A Cloud Map HTTP namespace, the namespace behind ECS Service Connect.";
    fn account(&self) -> &str {
        &self.account
    }
    fn region(&self) -> &str {
        &self.region
    }
}

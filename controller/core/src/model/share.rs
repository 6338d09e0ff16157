use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, Spec};

/// The RAM managed permission that cross-account Service Connect needs.
pub const CLOUD_MAP_ECS_PERMISSION: &str = "AWSRAMPermissionCloudMapECSFullPermission";

/// A RAM resource share of a Cloud Map namespace with other accounts of the Organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct NamespaceShareSpec {
    /// The account that owns the namespace and the share (alias or 12-digit id).
    pub account: String,
    /// The region of the namespace and the share.
    pub region: String,
    /// The `metadata.name` of the `CloudMapNamespace` to share (same account and region).
    pub namespace_ref: String,
    /// Who the namespace is shared with: 12-digit account ids, account aliases of the controller
    /// config, or Organization / OU ARNs. External principals are never allowed.
    pub principals: Vec<String>,
    /// The RAM permission, by name or ARN; defaults to
    /// `AWSRAMPermissionCloudMapECSFullPermission`, which Service Connect needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
    /// Tags on the resource share; the controller adds its ownership tags.
    #[serde(default, skip_serializing_if = "crate::compact::Tags::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub tags: crate::compact::Tags,
}

impl NamespaceShareSpec {
    /// The permission asked for, or the Cloud Map ECS full permission.
    pub fn permission_or_default(&self) -> &str {
        self.permission
            .as_deref()
            .unwrap_or(CLOUD_MAP_ECS_PERMISSION)
    }
}

impl Spec for NamespaceShareSpec {
    const KIND: Kind = Kind::NamespaceShare;
    const PLURAL: &'static str = "namespaceshares";
    const SHORT_NAMES: &'static [&'static str] = &["nsshare"];
    const DESCRIPTION: &'static str = "A RAM share of a Cloud Map namespace with other accounts of the Organization, for cross-account Service Connect.";
    fn account(&self) -> &str {
        &self.account
    }
    fn region(&self) -> &str {
        &self.region
    }
}

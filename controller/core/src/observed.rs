//! Live AWS state as observers report it: plain data, normalised where AWS is inconsistent.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::{KEY_TAG, Key, OWNER_TAG};

/// A Cloud Map HTTP namespace as listed (with its tags, read in batch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedNamespace {
    pub id: String,
    pub arn: String,
    pub name: String,
    /// `None` when AWS returns no description or an empty one.
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// A RAM resource share owned by the account, with its associations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedShare {
    pub arn: String,
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub allow_external_principals: bool,
    /// ARNs of the associated resources (ASSOCIATED or ASSOCIATING).
    pub resources: BTreeSet<String>,
    /// Associated principals: account ids or Organization / OU ARNs.
    pub principals: BTreeSet<String>,
    /// ARNs of the permissions, without version suffixes.
    pub permissions: BTreeSet<String>,
}

/// Who owns an AWS object, by its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// Tagged by this controller for this document.
    Ours,
    /// Tagged by this controller for another document.
    OtherDocument(Key),
    /// Tagged by another controller (its name).
    OtherController(String),
    /// No ownership tag.
    Unowned,
}

/// Reads ownership from tags: `controller` is this controller's configured name.
pub fn ownership(tags: &BTreeMap<String, String>, controller: &str, key: &Key) -> Ownership {
    match tags.get(OWNER_TAG) {
        None => Ownership::Unowned,
        Some(owner) if owner != controller => Ownership::OtherController(owner.clone()),
        Some(_) => match tags.get(KEY_TAG).and_then(|k| Key::parse(k)) {
            Some(k) if &k == key => Ownership::Ours,
            Some(k) => Ownership::OtherDocument(k),
            None => Ownership::Unowned,
        },
    }
}

/// The tags an operator wrote, without the controller's own and AWS's reserved ones.
pub fn user_tags(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|(k, _)| !k.starts_with(crate::model::ANNOTATION_PREFIX) && !k.starts_with("aws:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Trims surrounding whitespace and treats empty as absent, as Cloud Map and RAM store text.
pub fn normalise_text(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Removes a `/version` suffix from a RAM permission ARN
/// (`arn:aws:ram::aws:permission/NAME/v2` becomes `arn:aws:ram::aws:permission/NAME`).
pub fn permission_base_arn(arn: &str) -> &str {
    match arn.rsplit_once('/') {
        Some((base, v))
            if v.starts_with('v')
                && v[1..].chars().all(|c| c.is_ascii_digit())
                && base.contains("permission/") =>
        {
            base
        }
        _ => arn,
    }
}

/// The ARN of a RAM permission given by name or ARN.
pub fn permission_arn(name_or_arn: &str) -> String {
    if name_or_arn.starts_with("arn:") {
        permission_base_arn(name_or_arn).to_owned()
    } else {
        format!("arn:aws:ram::aws:permission/{name_or_arn}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn ownership_needs_both_the_controller_name_and_the_document_key() {
        let key = Key::new(Kind::CloudMapNamespace, "payments");
        let ours = tags(&[(OWNER_TAG, "ctl"), (KEY_TAG, "CloudMapNamespace/payments")]);
        assert_eq!(ownership(&ours, "ctl", &key), Ownership::Ours);
        assert_eq!(
            ownership(&ours, "other", &key),
            Ownership::OtherController("ctl".into())
        );
        let sibling = tags(&[(OWNER_TAG, "ctl"), (KEY_TAG, "CloudMapNamespace/orders")]);
        assert_eq!(
            ownership(&sibling, "ctl", &key),
            Ownership::OtherDocument(Key::new(Kind::CloudMapNamespace, "orders"))
        );
        assert_eq!(
            ownership(&tags(&[("team", "a")]), "ctl", &key),
            Ownership::Unowned
        );
    }

    #[test]
    fn permission_arns_compare_without_their_version() {
        assert_eq!(
            permission_arn(
                "arn:aws:ram::aws:permission/AWSRAMPermissionCloudMapECSFullPermission/v1"
            ),
            "arn:aws:ram::aws:permission/AWSRAMPermissionCloudMapECSFullPermission"
        );
        assert_eq!(
            permission_arn("AWSRAMPermissionCloudMapECSFullPermission"),
            "arn:aws:ram::aws:permission/AWSRAMPermissionCloudMapECSFullPermission"
        );
    }

    #[test]
    fn empty_and_padded_text_normalise_as_aws_stores_it() {
        assert_eq!(normalise_text(Some("  a b ")), Some("a b".into()));
        assert_eq!(normalise_text(Some("   ")), None);
        assert_eq!(normalise_text(None), None);
    }
}

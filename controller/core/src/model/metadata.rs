//! `metadata`: the name, labels, and the annotations that steer the controller.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Prefix of the annotations the controller reads; any other annotation under it is an error.
pub const ANNOTATION_PREFIX: &str = "ecs-topology.dev/";
/// `Delete` (default) or `Retain`: what happens to the AWS object when the document is removed.
pub const DELETION_POLICY_ANNOTATION: &str = "ecs-topology.dev/deletion-policy";
/// `"true"`: observe and report, change nothing.
pub const SUSPEND_ANNOTATION: &str = "ecs-topology.dev/suspend";
/// `"true"`: take over an existing unmanaged object of the same identity.
pub const ADOPT_ANNOTATION: &str = "ecs-topology.dev/adopt";

/// Standard object metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Metadata {
    /// Unique per kind; a DNS label (lower-case letters, digits, '-', at most 63 characters).
    pub name: String,
    /// Free-form labels, for selection by the operator's tooling.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations; those under `ecs-topology.dev/` steer the controller: `deletion-policy`
    /// (`Delete` | `Retain`), `suspend` (`"true"` | `"false"`), `adopt` (`"true"` | `"false"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// What happens to the AWS object when its document is removed from the source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeletionPolicy {
    #[default]
    Delete,
    Retain,
}

/// The controller's reading of a document's annotations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policies {
    pub deletion: DeletionPolicy,
    pub suspend: bool,
    pub adopt: bool,
}

/// A problem with one annotation: its key and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationError {
    pub key: String,
    pub reason: String,
}

impl Metadata {
    /// Reads the controller annotations. Problems are returned alongside the best reading:
    /// an unreadable annotation keeps its safe default (Retain is not safer than Delete for
    /// an operator who asked for Delete, but a typo never deletes: see `validate`).
    pub fn policies(&self) -> (Policies, Vec<AnnotationError>) {
        let mut policies = Policies::default();
        let mut errors = Vec::new();
        for (key, value) in &self.annotations {
            let Some(_) = key.strip_prefix(ANNOTATION_PREFIX) else {
                continue;
            };
            match key.as_str() {
                DELETION_POLICY_ANNOTATION => match value.as_str() {
                    "Delete" => policies.deletion = DeletionPolicy::Delete,
                    "Retain" => policies.deletion = DeletionPolicy::Retain,
                    _ => {
                        policies.deletion = DeletionPolicy::Retain;
                        errors.push(AnnotationError {
                            key: key.clone(),
                            reason: format!("must be `Delete` or `Retain`, not `{value}`"),
                        });
                    }
                },
                SUSPEND_ANNOTATION | ADOPT_ANNOTATION => {
                    let flag = match value.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            errors.push(AnnotationError {
                                key: key.clone(),
                                reason: format!("must be \"true\" or \"false\", not `{value}`"),
                            });
                            // An unreadable suspend suspends; an unreadable adopt does not adopt.
                            key == SUSPEND_ANNOTATION
                        }
                    };
                    if key == SUSPEND_ANNOTATION {
                        policies.suspend = flag;
                    } else {
                        policies.adopt = flag;
                    }
                }
                _ => errors.push(AnnotationError {
                    key: key.clone(),
                    reason: format!(
                        "unknown controller annotation; known: {DELETION_POLICY_ANNOTATION}, \
                         {SUSPEND_ANNOTATION}, {ADOPT_ANNOTATION}"
                    ),
                }),
            }
        }
        (policies, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(pairs: &[(&str, &str)]) -> Metadata {
        Metadata {
            name: "x".into(),
            labels: BTreeMap::new(),
            annotations: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn no_annotations_means_delete_not_suspended_not_adopting() {
        let (p, errors) = meta(&[]).policies();
        assert_eq!(p, Policies::default());
        assert!(errors.is_empty());
    }

    #[test]
    fn a_misspelt_deletion_policy_retains_and_is_reported() {
        let (p, errors) = meta(&[(DELETION_POLICY_ANNOTATION, "delete")]).policies();
        assert_eq!(p.deletion, DeletionPolicy::Retain);
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn an_unreadable_suspend_suspends() {
        let (p, errors) = meta(&[(SUSPEND_ANNOTATION, "yes")]).policies();
        assert!(p.suspend);
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn other_annotations_are_left_to_their_owners() {
        let (_, errors) = meta(&[("example.com/team", "a")]).policies();
        assert!(errors.is_empty());
    }
}

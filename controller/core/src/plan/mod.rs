//! The plan: what would change for each document, field by field. Pure functions of the desired
//! documents and the observed AWS state; no I/O.
//!
//! # Guarantees
//! - A plan of an in-sync document is [`Verb::InSync`] with no changes, whatever order AWS lists
//!   things in and however it spells absent values: nothing flaps.
//! - Nothing owned by someone else is ever planned for change or deletion, except an unowned
//!   object whose document says `adopt`.

mod endpoints;
mod express;
mod namespace;
mod share;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::model::{DELETION_POLICY_ANNOTATION, DeletionPolicy, KEY_TAG, Key, OWNER_TAG, Policies};
use crate::observed::Ownership;

pub use endpoints::{
    DesiredEndpointSet, endpoints_ready, plan_endpoint_set, service_name, short_service_name,
};
pub use express::{DesiredExpressService, express_ready, plan_express, spec_digest};
pub use namespace::{DesiredNamespace, plan_namespace};
pub use share::{DesiredShare, plan_share};

/// What the controller would do for one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    /// AWS matches the document.
    InSync,
    /// The object does not exist; it would be created.
    Create,
    /// The object is ours and has drifted; it would be changed in place.
    Update,
    /// An unowned object of the same identity would be taken over (its document says adopt).
    Adopt,
    /// The document was removed; the object would be deleted.
    Delete,
    /// The document was removed; the object is kept (deletion policy Retain).
    Retain,
    /// The document is suspended: drift is reported, nothing is changed.
    Suspended,
    /// Something the controller must not or cannot do (an object it does not own, a prune held
    /// back); `reason` says what.
    Blocked,
    /// Waiting for something else first (a share for its namespace's ARN).
    Waiting,
}

impl Verb {
    /// Whether carrying out the plan changes AWS.
    pub fn changes_aws(self) -> bool {
        matches!(
            self,
            Verb::Create | Verb::Update | Verb::Adopt | Verb::Delete
        )
    }
}

/// One field that differs: its path in the document's terms, and the observed and desired values
/// (`None` for absent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub from: Option<Value>,
    pub to: Option<Value>,
}

/// The plan of one document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentPlan {
    pub key: Key,
    pub verb: Verb,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl DocumentPlan {
    pub fn new(key: Key, verb: Verb) -> DocumentPlan {
        DocumentPlan {
            key,
            verb,
            changes: Vec::new(),
            reason: None,
        }
    }

    pub fn with_changes(mut self, changes: Vec<FieldChange>) -> DocumentPlan {
        self.changes = changes;
        self
    }

    pub fn because(mut self, reason: impl Into<String>) -> DocumentPlan {
        self.reason = Some(reason.into());
        self
    }

    /// The drifted field paths (for status and metrics).
    pub fn drifted_fields(&self) -> Vec<String> {
        self.changes.iter().map(|c| c.path.clone()).collect()
    }
}

/// What pruning is allowed to do in this pass (decided for the whole set, see [`crate::prune`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PruneGate {
    Allowed,
    HeldBack(String),
}

/// The full set of tags an object of `key` carries: the operator's, the ownership tags, and the
/// deletion policy when it is Retain (so that it survives the document's removal).
pub fn desired_tags(
    user: &BTreeMap<String, String>,
    controller: &str,
    key: &Key,
    policies: &Policies,
) -> BTreeMap<String, String> {
    let mut tags = user.clone();
    tags.insert(OWNER_TAG.to_owned(), controller.to_owned());
    tags.insert(KEY_TAG.to_owned(), key.to_string());
    if policies.deletion == DeletionPolicy::Retain {
        tags.insert(DELETION_POLICY_ANNOTATION.to_owned(), "Retain".to_owned());
    }
    tags
}

/// The deletion policy an orphaned object recorded in its tags.
pub fn recorded_deletion_policy(tags: &BTreeMap<String, String>) -> DeletionPolicy {
    match tags.get(DELETION_POLICY_ANNOTATION).map(String::as_str) {
        Some("Retain") => DeletionPolicy::Retain,
        _ => DeletionPolicy::Delete,
    }
}

/// Field changes between two tag maps (AWS's reserved `aws:` tags are never compared).
pub fn tag_changes(
    observed: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let keys: std::collections::BTreeSet<&String> = observed
        .keys()
        .chain(desired.keys())
        .filter(|k| !k.starts_with("aws:"))
        .collect();
    for key in keys {
        let (from, to) = (observed.get(key), desired.get(key));
        if from != to {
            changes.push(FieldChange {
                path: format!("tags.{key}"),
                from: from.map(|v| Value::String(v.clone())),
                to: to.map(|v| Value::String(v.clone())),
            });
        }
    }
    changes
}

/// The plan when an object of the same identity exists but is not this document's.
pub(crate) fn not_ours(
    key: &Key,
    what: &str,
    ownership: &Ownership,
    adopt: bool,
) -> Option<DocumentPlan> {
    let reason = match ownership {
        Ownership::Ours => return None,
        Ownership::Unowned if adopt => return None,
        Ownership::Unowned => format!(
            "{what} exists and is not managed by ecs-topology; left alone (annotate the document with \
             ecs-topology.dev/adopt: \"true\" to take it over)"
        ),
        Ownership::OtherDocument(other) => format!("{what} belongs to {other}; left alone"),
        Ownership::OtherController(owner) => {
            format!("{what} is managed by the controller `{owner}`; left alone")
        }
    };
    Some(DocumentPlan::new(key.clone(), Verb::Blocked).because(reason))
}

/// The plan of a document whose object exists, is ours and is no longer wanted.
pub(crate) fn removed(
    key: &Key,
    tags: &BTreeMap<String, String>,
    gate: &PruneGate,
) -> DocumentPlan {
    if recorded_deletion_policy(tags) == DeletionPolicy::Retain {
        return DocumentPlan::new(key.clone(), Verb::Retain)
            .because("the document was removed; deletion policy Retain keeps the object");
    }
    match gate {
        PruneGate::Allowed => {
            DocumentPlan::new(key.clone(), Verb::Delete).because("the document was removed")
        }
        PruneGate::HeldBack(why) => DocumentPlan::new(key.clone(), Verb::Blocked).because(format!(
            "the document was removed, but pruning is held back: {why}"
        )),
    }
}

/// Applies suspension: a suspended document reports its drift and changes nothing.
pub(crate) fn unless_suspended(plan: DocumentPlan, policies: &Policies) -> DocumentPlan {
    if policies.suspend && plan.verb.changes_aws() {
        let verb = plan.verb;
        DocumentPlan {
            verb: Verb::Suspended,
            reason: Some(format!(
                "suspended; would {}",
                format!("{verb:?}").to_lowercase()
            )),
            ..plan
        }
    } else {
        plan
    }
}

//! The plan's shared vocabulary: what would change for a document, as typed operations from
//! which the field-level display is derived. Each kind's own plan lives in its module under
//! [`crate::kinds`]; everything here is pure.
//!
//! # Guarantees
//! - A plan of an in-sync document is [`Verb::InSync`] with no changes, whatever order AWS lists
//!   things in and however it spells absent values: nothing flaps.
//! - Nothing owned by someone else is ever planned for change or deletion, except an unowned
//!   object whose document says `adopt`.
//! - The display ([`DocumentPlan`], what `plan` prints and status shows) is computed from the
//!   typed plan ([`KindPlan`]); nothing ever parses it back into instructions.

use std::fmt::Debug;

use serde::Serialize;
use serde_json::Value;

use crate::model::{DELETION_POLICY_ANNOTATION, DeletionPolicy, KEY_TAG, Key, OWNER_TAG, Policies};
use crate::observed::{Ownership, Tagged};

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

    /// The verb as `plan` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::InSync => "in sync",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Adopt => "adopt",
            Verb::Delete => "delete",
            Verb::Retain => "retain",
            Verb::Suspended => "suspended",
            Verb::Blocked => "blocked",
            Verb::Waiting => "waiting",
        }
    }
}

/// A field of a kind's object, typed: what an actuator matches on. Its path is only for people.
pub trait Field: Clone + Debug + PartialEq + Send + Sync + 'static {
    /// The field's path in the document's terms (`description`, `tags.team`,
    /// `endpoints.ecr.api.subnetIds`): the display.
    fn path(&self) -> String;
    /// The tag key, when this is a tag field.
    fn tag_key(&self) -> Option<&str>;
}

/// One field that differs, typed: the observed and the desired value (`None` for absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Edit<F> {
    pub field: F,
    pub from: Option<Value>,
    pub to: Option<Value>,
}

impl<F: Field> Edit<F> {
    pub fn new(field: F, from: Option<Value>, to: Option<Value>) -> Edit<F> {
        Edit { field, from, to }
    }

    /// The field's path (the display).
    pub fn path(&self) -> String {
        self.field.path()
    }

    /// The change as `plan` shows it.
    pub fn display(&self) -> FieldChange {
        FieldChange {
            path: self.field.path(),
            from: self.from.clone(),
            to: self.to.clone(),
        }
    }
}

/// The strings of a list value of an edit (`None`, or anything but a list of strings, as none).
pub fn string_set(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    value
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The tags a set of edits puts and removes, read from the typed tag fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagEdits {
    /// Keys to set, with their new values.
    pub put: crate::compact::Tags,
    /// Keys to remove.
    pub remove: Vec<String>,
}

impl TagEdits {
    pub fn of<'e, F: Field>(edits: impl IntoIterator<Item = &'e Edit<F>>) -> TagEdits {
        let mut out = TagEdits::default();
        for edit in edits {
            let Some(key) = edit.field.tag_key() else {
                continue;
            };
            match &edit.to {
                Some(Value::String(v)) => {
                    out.put.insert(key.to_owned(), v.clone());
                }
                Some(other) => {
                    out.put.insert(key.to_owned(), other.to_string());
                }
                None => out.remove.push(key.to_owned()),
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.put.is_empty() && self.remove.is_empty()
    }

    /// `tags` with these edits applied.
    pub fn applied_to(&self, tags: &crate::compact::Tags) -> crate::compact::Tags {
        let mut now = tags.clone();
        now.retain(|k, _| !self.remove.iter().any(|r| r == k));
        now.extend(self.put.iter().map(|(k, v)| (k.clone(), v.clone())));
        now
    }
}

/// The typed plan of one document of a kind whose fields are `F` and whose observed objects are
/// `O`: the verb, the edits that carry it out, and the observed objects it acts upon.
#[derive(Debug, Clone, PartialEq)]
pub struct KindPlan<'o, F, O> {
    pub key: Key,
    pub verb: Verb,
    pub edits: Vec<Edit<F>>,
    pub reason: Option<String>,
    /// For [`Verb::Waiting`]: the document waited for, when it is one.
    pub waiting_for: Option<Key>,
    /// The observed objects the change acts upon (the document's own, or the one being
    /// adopted); empty for a create.
    pub subject: Vec<&'o O>,
    /// The document's key tags more than one object where it manages one (see
    /// [`owns_several`]).
    pub owns_several: bool,
}

impl<'o, F: Field, O> KindPlan<'o, F, O> {
    pub fn new(key: Key, verb: Verb) -> Self {
        KindPlan {
            key,
            verb,
            edits: Vec::new(),
            reason: None,
            waiting_for: None,
            subject: Vec::new(),
            owns_several: false,
        }
    }

    pub fn with_edits(mut self, edits: Vec<Edit<F>>) -> Self {
        self.edits = edits;
        self
    }

    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn on(mut self, subject: impl IntoIterator<Item = &'o O>) -> Self {
        self.subject = subject.into_iter().collect();
        self
    }

    pub fn waiting_for(mut self, key: Key) -> Self {
        self.waiting_for = Some(key);
        self
    }

    /// The drifted field paths.
    pub fn drifted_fields(&self) -> Vec<String> {
        self.edits.iter().map(Edit::path).collect()
    }

    /// The plan as `plan` prints it and status records it.
    pub fn display(&self) -> DocumentPlan {
        DocumentPlan {
            key: self.key.clone(),
            verb: self.verb,
            changes: self.edits.iter().map(Edit::display).collect(),
            reason: self.reason.clone(),
            waiting_for: self.waiting_for.clone(),
            owns_several: self.owns_several,
        }
    }
}

/// One field that differs, as displayed: its path in the document's terms, and the observed and
/// desired values (`None` for absent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub from: Option<Value>,
    pub to: Option<Value>,
}

/// The plan of one document as displayed (by `plan`, in status and in metrics).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentPlan {
    pub key: Key,
    pub verb: Verb,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For [`Verb::Waiting`]: the document waited for, when it is one.
    #[serde(skip)]
    pub waiting_for: Option<Key>,
    /// Blocked because the document's key tags more than one object (for the metric of such
    /// documents; the reason names them).
    #[serde(skip)]
    pub owns_several: bool,
}

impl DocumentPlan {
    pub fn new(key: Key, verb: Verb) -> DocumentPlan {
        DocumentPlan {
            key,
            verb,
            changes: Vec::new(),
            reason: None,
            waiting_for: None,
            owns_several: false,
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

/// Tag key listing, comma-separated and sorted, the operator's tag keys the controller applied
/// to an object: what it removes again when a document drops one. Other tags are other people's.
pub const MANAGED_TAGS: &str = "ecs-topology.dev/tags";

/// The longest tag value AWS takes (Cloud Map, RAM, EC2 and ECS alike).
const MAX_TAG_VALUE: usize = 256;

/// The tags an object of `key` must carry: the operator's, the ownership tags, the list of the
/// operator's keys (when there are any and it fits in a tag value), and the deletion policy when
/// it is Retain (so that it survives the document's removal).
pub fn desired_tags(
    user: &crate::compact::Tags,
    controller: &str,
    key: &Key,
    policies: &Policies,
) -> crate::compact::Tags {
    let mut tags = user.clone();
    let keys: Vec<&str> = user
        .keys()
        .map(|k| k.as_str())
        .filter(|k| !k.starts_with(crate::model::ANNOTATION_PREFIX))
        .collect();
    let list = keys.join(",");
    if !keys.is_empty() && list.len() <= MAX_TAG_VALUE {
        tags.insert(MANAGED_TAGS, list);
    }
    tags.insert(OWNER_TAG, controller);
    tags.insert(KEY_TAG, key.to_string());
    if policies.deletion == DeletionPolicy::Retain {
        tags.insert(DELETION_POLICY_ANNOTATION, "Retain");
    }
    tags
}

/// The deletion policy an orphaned object recorded in its tags.
pub fn recorded_deletion_policy(tags: &crate::compact::Tags) -> DeletionPolicy {
    match tags.get(DELETION_POLICY_ANNOTATION).map(|v| v.as_str()) {
        Some("Retain") => DeletionPolicy::Retain,
        _ => DeletionPolicy::Delete,
    }
}

/// Edits between an object's tags and the tags its document asks for, each tag key made a field
/// by `field`. Compared are only the keys the controller manages: those the document asks for,
/// the controller's own (`ecs-topology.dev/...`), and those the object's [`MANAGED_TAGS`] says the
/// controller applied before (so that a key dropped from the document is removed). Tags other
/// automation added are never drift and never removed; AWS's reserved `aws:` tags neither.
pub fn tag_edits<F: Field>(
    observed: &crate::compact::Tags,
    desired: &crate::compact::Tags,
    field: impl Fn(String) -> F,
) -> Vec<Edit<F>> {
    let applied: std::collections::BTreeSet<&str> = observed
        .get(MANAGED_TAGS)
        .map(|list| list.split(',').filter(|k| !k.is_empty()).collect())
        .unwrap_or_default();
    let ours = |k: &str| {
        desired.contains_key(k)
            || k.starts_with(crate::model::ANNOTATION_PREFIX)
            || applied.contains(k)
    };
    let keys: std::collections::BTreeSet<&str> = observed
        .keys()
        .chain(desired.keys())
        .map(|k| k.as_str())
        .filter(|k| !k.starts_with("aws:") && ours(k))
        .collect();
    keys.into_iter()
        .filter_map(|key| {
            let (from, to) = (observed.get(key), desired.get(key));
            (from != to).then(|| {
                Edit::new(
                    field(key.to_owned()),
                    from.map(|v| Value::String(v.to_string())),
                    to.map(|v| Value::String(v.to_string())),
                )
            })
        })
        .collect()
}

/// The plan when an object of the same identity exists but is not this document's.
pub(crate) fn not_ours<'o, F: Field, O>(
    key: &Key,
    what: &str,
    ownership: &Ownership,
    adopt: bool,
) -> Option<KindPlan<'o, F, O>> {
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
    Some(KindPlan::new(key.clone(), Verb::Blocked).because(reason))
}

/// The plan when a document's key tags more than one object (`ids`): blocked, naming them,
/// rather than silently managing the first.
pub(crate) fn owns_several<'o, F: Field, O>(key: &Key, ids: &[&str]) -> KindPlan<'o, F, O> {
    let mut plan = KindPlan::new(key.clone(), Verb::Blocked);
    plan.owns_several = true;
    plan.because(format!(
        "{key} owns {} objects ({}), where it manages one; left alone until all but one are \
         removed by hand",
        ids.len(),
        ids.join(", ")
    ))
}

/// The document's one object among `ours` (`None` when it has none); when it owns several, the
/// plan that blocks it instead (see [`owns_several`]), naming each by `id`.
pub(crate) fn only_own<'o, F: Field, O>(
    key: &Key,
    ours: Vec<&'o O>,
    id: impl Fn(&O) -> &str,
) -> Result<Option<&'o O>, Box<KindPlan<'o, F, O>>> {
    if ours.len() > 1 {
        let ids: Vec<&str> = ours.iter().map(|o| id(o)).collect();
        return Err(Box::new(owns_several(key, &ids)));
    }
    Ok(ours.first().copied())
}

/// The plan for `found`, an object of the document's identity that is not its own (`what` names
/// it): blocked unless it is unowned and the document says `adopt` (see [`not_ours`]), else
/// adopted with the `edits` that make it as desired.
pub(crate) fn adopt_or_block<'o, F: Field, O: Tagged>(
    controller: &str,
    key: &Key,
    what: &str,
    found: &'o O,
    adopt: bool,
    edits: impl FnOnce(&'o O) -> Vec<Edit<F>>,
) -> KindPlan<'o, F, O> {
    let owner = crate::observed::ownership(found.tags(), controller, key);
    match not_ours(key, what, &owner, adopt) {
        Some(blocked) => blocked,
        None => KindPlan::new(key.clone(), Verb::Adopt)
            .with_edits(edits(found))
            .on([found]),
    }
}

/// The plan of a document whose object `object` exists, is ours and is no longer wanted.
pub(crate) fn removed<'o, F: Field, O>(
    key: &Key,
    tags: &crate::compact::Tags,
    object: &'o O,
    gate: &PruneGate,
) -> KindPlan<'o, F, O> {
    if recorded_deletion_policy(tags) == DeletionPolicy::Retain {
        return KindPlan::new(key.clone(), Verb::Retain)
            .because("the document was removed; deletion policy Retain keeps the object");
    }
    match gate {
        PruneGate::Allowed => KindPlan::new(key.clone(), Verb::Delete)
            .because("the document was removed")
            .on([object]),
        PruneGate::HeldBack(why) => KindPlan::new(key.clone(), Verb::Blocked).because(format!(
            "the document was removed, but pruning is held back: {why}"
        )),
    }
}

/// Applies suspension: a suspended document reports its drift and changes nothing.
pub(crate) fn unless_suspended<'o, F: Field, O>(
    plan: KindPlan<'o, F, O>,
    policies: &Policies,
) -> KindPlan<'o, F, O> {
    if policies.suspend && plan.verb.changes_aws() {
        let verb = plan.verb;
        KindPlan {
            verb: Verb::Suspended,
            reason: Some(format!("suspended; would {}", verb.as_str())),
            subject: Vec::new(),
            ..plan
        }
    } else {
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::namespace::NamespaceField;
    use crate::model::Kind;

    fn tags(pairs: &[(&str, &str)]) -> crate::compact::Tags {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn only_the_tags_the_controller_manages_are_compared() {
        let key = Key::new(Kind::CloudMapNamespace, "ledger");
        let want = desired_tags(&tags(&[("env", "prod")]), "ctl", &key, &Policies::default());
        assert_eq!(want.get(MANAGED_TAGS).map(|v| v.as_str()), Some("env"));
        // The object carries the document's tags, a tag the controller applied before and that
        // the document dropped (`team`), and another's (`cost-center`).
        let mut observed: crate::compact::Tags = want.clone();
        observed.insert("team", "payments");
        observed.insert(MANAGED_TAGS, "env,team");
        observed.insert("cost-center", "42");
        let edits: Vec<String> = tag_edits(&observed, &want, NamespaceField::Tag)
            .iter()
            .map(Edit::path)
            .collect();
        assert_eq!(edits, ["tags.ecs-topology.dev/tags", "tags.team"]);
    }
}

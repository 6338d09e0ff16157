//! The status of a document, as an operator reads it: conditions `Ready`, `Synced` and `Drifted`,
//! the drifted fields, the last error, the observed revision and what AWS calls the object.
//!
//! # Guarantees
//! A condition's `lastTransitionTime` changes only when its status changes; recomputing the same
//! status yields an equal value, so a status store writes only when something changed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::plan::{DocumentPlan, Verb};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ConditionType {
    /// The AWS object exists and is usable (for a share: every principal sees the namespace).
    Ready,
    /// AWS matches the document (nothing left to change).
    Synced,
    /// AWS was found to differ from the document in the last pass.
    Drifted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: ConditionType,
    pub status: ConditionStatus,
    /// A CamelCase word: `Created`, `InSync`, `Drift`, `NotOwned`, `Waiting`, `Error`, ...
    pub reason: String,
    pub message: String,
    /// Seconds since the Unix epoch when `status` last changed.
    pub last_transition_time: u64,
}

pub use crate::error::{ErrorClass, ErrorInfo};

/// Where releases before the typed field kept [`DocumentStatus::last_applied_digest`].
const LEGACY_LAST_APPLIED: &str = "lastAppliedDigest";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentStatus {
    /// The revision of the document last reconciled (a digest of its content).
    pub observed_revision: String,
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drifted_fields: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<ErrorInfo>,
    /// Identifiers of the AWS objects (ids, ARNs) and what AWS manages itself, read-only.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aws: BTreeMap<String, String>,
    /// The digest of the spec last sent to AWS and accepted (for Express services: a failed
    /// deployment of it is not sent again until the document changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_digest: Option<String>,
    /// Set between a plan that changes AWS and its outcome; never stored.
    #[serde(skip)]
    changing: bool,
}

/// A document's state at a glance, as the topology page and `get` show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum DocumentState {
    /// In sync and usable.
    Ready,
    /// Not usable yet: being created, waiting for another document or for AWS.
    Waiting,
    /// AWS differs from the document (the drifted fields say where).
    Drifted,
    /// Left alone for a reason the status gives (not ours, prune held back, …).
    Blocked,
    /// Suspended by its annotation: observed, never changed.
    Suspended,
    /// The last attempt failed (the last error says why).
    Failed,
}

impl DocumentState {
    pub const ALL: [DocumentState; 6] = [
        DocumentState::Ready,
        DocumentState::Waiting,
        DocumentState::Drifted,
        DocumentState::Blocked,
        DocumentState::Suspended,
        DocumentState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentState::Ready => "Ready",
            DocumentState::Waiting => "Waiting",
            DocumentState::Drifted => "Drifted",
            DocumentState::Blocked => "Blocked",
            DocumentState::Suspended => "Suspended",
            DocumentState::Failed => "Failed",
        }
    }
}

impl DocumentStatus {
    /// The state at a glance: failed (a last error), else drifted (a suspended document too:
    /// drift is a finding, suspension a setting), suspended, blocked, ready (ready and in sync),
    /// else waiting.
    pub fn state(&self) -> DocumentState {
        let is = |kind, status| self.condition(kind).is_some_and(|c| c.status == status);
        let synced_reason = self
            .condition(ConditionType::Synced)
            .map(|c| c.reason.as_str());
        if self.last_error.is_some() {
            DocumentState::Failed
        } else if is(ConditionType::Drifted, ConditionStatus::True) {
            DocumentState::Drifted
        } else if synced_reason == Some("Suspended") {
            DocumentState::Suspended
        } else if synced_reason == Some("Blocked") {
            DocumentState::Blocked
        } else if is(ConditionType::Ready, ConditionStatus::True)
            && is(ConditionType::Synced, ConditionStatus::True)
        {
            DocumentState::Ready
        } else {
            DocumentState::Waiting
        }
    }

    /// The digest of the spec last sent; read from where earlier releases kept it
    /// (`aws.lastAppliedDigest`) when the field is not set.
    pub fn last_applied(&self) -> Option<&str> {
        self.last_applied_digest
            .as_deref()
            .or_else(|| self.aws.get(LEGACY_LAST_APPLIED).map(String::as_str))
    }

    pub fn condition(&self, kind: ConditionType) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }

    /// Sets a condition, keeping its transition time when its status did not change.
    pub fn set(
        &mut self,
        kind: ConditionType,
        status: ConditionStatus,
        reason: &str,
        message: impl Into<String>,
        now: u64,
    ) {
        let message = message.into();
        match self.conditions.iter_mut().find(|c| c.kind == kind) {
            Some(c) => {
                if c.status != status {
                    c.last_transition_time = now;
                }
                c.status = status;
                c.reason = reason.to_owned();
                c.message = message;
            }
            None => {
                self.conditions.push(Condition {
                    kind,
                    status,
                    reason: reason.to_owned(),
                    message,
                    last_transition_time: now,
                });
                self.conditions.sort_by_key(|c| c.kind);
            }
        }
    }

    /// Records what a pass found: the plan before acting, and whether acting succeeded.
    pub fn record_plan(&mut self, plan: &DocumentPlan, revision: &str, now: u64) {
        use ConditionStatus::{False, True};
        self.observed_revision = revision.to_owned();
        let drifted =
            matches!(plan.verb, Verb::Update | Verb::Suspended) && !plan.changes.is_empty();
        if drifted {
            self.drifted_fields = plan.drifted_fields();
            self.set(
                ConditionType::Drifted,
                True,
                "Drift",
                format!("{} field(s) differ", plan.changes.len()),
                now,
            );
        } else {
            self.drifted_fields.clear();
            self.set(ConditionType::Drifted, False, "NoDrift", "", now);
        }
        // A plan that changes AWS is Synced or not by its outcome (see `record_outcome`), so that
        // a pass that fixes drift does not flip the condition twice.
        let (synced, reason) = match plan.verb {
            Verb::Create | Verb::Update | Verb::Adopt | Verb::Delete => {
                self.changing = true;
                return;
            }
            Verb::InSync | Verb::Retain => (True, "InSync"),
            Verb::Suspended => (False, "Suspended"),
            Verb::Blocked => (False, "Blocked"),
            Verb::Waiting => (False, "Waiting"),
        };
        self.changing = false;
        self.set(
            ConditionType::Synced,
            synced,
            reason,
            plan.reason.clone().unwrap_or_default(),
            now,
        );
    }

    /// Notes that a change was carried out in this pass after a plan that did not itself change
    /// AWS (a share that waited for its namespace, then was created).
    pub fn mark_changing(&mut self) {
        self.changing = true;
    }

    /// Records the outcome of acting on the plan: `None` when the pass ended without acting
    /// (blocked, waiting), which keeps the plan's reason in `Synced`.
    pub fn record_outcome(
        &mut self,
        result: Option<Result<(), ErrorInfo>>,
        ready: Option<(bool, String)>,
        now: u64,
    ) {
        use ConditionStatus::{False, True, Unknown};
        let changing = std::mem::take(&mut self.changing);
        match result {
            None => {}
            Some(Ok(())) => {
                self.last_error = None;
                if changing {
                    self.set(ConditionType::Synced, True, "Applied", "", now);
                }
            }
            Some(Err(error)) => {
                self.set(
                    ConditionType::Synced,
                    False,
                    "Error",
                    error.message.clone(),
                    now,
                );
                self.last_error = Some(error);
            }
        }
        match ready {
            Some((true, message)) => self.set(ConditionType::Ready, True, "Ready", message, now),
            Some((false, message)) => {
                self.set(ConditionType::Ready, False, "NotReady", message, now)
            }
            None => self.set(ConditionType::Ready, Unknown, "Unknown", "", now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Key, Kind};
    use crate::plan::FieldChange;

    fn drift() -> DocumentPlan {
        DocumentPlan::new(Key::new(Kind::CloudMapNamespace, "a"), Verb::Update).with_changes(vec![
            FieldChange {
                path: "description".into(),
                from: None,
                to: Some(serde_json::json!("x")),
            },
        ])
    }

    #[test]
    fn the_state_at_a_glance_follows_the_plan_and_the_outcome() {
        let key = Key::new(Kind::CloudMapNamespace, "a");
        let mut status = DocumentStatus::default();
        assert_eq!(status.state(), DocumentState::Waiting, "not reconciled yet");
        let plan = |verb, reason: &str| DocumentPlan::new(key.clone(), verb).because(reason);
        status.record_plan(&plan(Verb::InSync, ""), "r1", 1);
        status.record_outcome(Some(Ok(())), Some((true, String::new())), 1);
        assert_eq!(status.state(), DocumentState::Ready);
        status.record_plan(&drift(), "r1", 2);
        assert_eq!(status.state(), DocumentState::Drifted);
        status.record_outcome(
            Some(Err(ErrorInfo::new(ErrorClass::AccessDenied, "no"))),
            None,
            2,
        );
        assert_eq!(status.state(), DocumentState::Failed);
        status.record_plan(&plan(Verb::Blocked, "not ours"), "r1", 3);
        status.record_outcome(None, Some((false, "no object".into())), 3);
        status.last_error = None;
        assert_eq!(status.state(), DocumentState::Blocked);
        status.record_plan(&plan(Verb::Suspended, "suspended"), "r1", 4);
        assert_eq!(status.state(), DocumentState::Suspended);
        status.record_plan(&plan(Verb::Waiting, "the namespace"), "r1", 5);
        assert_eq!(status.state(), DocumentState::Waiting);
    }

    #[test]
    fn transition_times_move_only_when_the_status_changes() {
        let mut status = DocumentStatus::default();
        status.record_plan(&drift(), "r1", 100);
        status.record_plan(&drift(), "r1", 200);
        let drifted = status.condition(ConditionType::Drifted).unwrap();
        assert_eq!(
            (drifted.status, drifted.last_transition_time),
            (ConditionStatus::True, 100)
        );
        assert_eq!(status.drifted_fields, ["description"]);
        let in_sync = DocumentPlan::new(Key::new(Kind::CloudMapNamespace, "a"), Verb::InSync);
        status.record_plan(&in_sync, "r1", 300);
        let drifted = status.condition(ConditionType::Drifted).unwrap();
        assert_eq!(
            (drifted.status, drifted.last_transition_time),
            (ConditionStatus::False, 300)
        );
        assert!(status.drifted_fields.is_empty());
    }

    #[test]
    fn the_same_pass_twice_yields_an_equal_status() {
        let mut a = DocumentStatus::default();
        a.record_plan(&drift(), "r1", 100);
        a.record_outcome(Some(Ok(())), Some((true, String::new())), 100);
        assert_eq!(
            a.condition(ConditionType::Synced).unwrap().status,
            ConditionStatus::True
        );
        let mut b = a.clone();
        b.record_plan(&drift(), "r1", 150);
        b.record_outcome(Some(Ok(())), Some((true, String::new())), 150);
        assert_eq!(a, b);
    }

    #[test]
    fn an_error_is_kept_with_its_class_until_a_success() {
        let mut status = DocumentStatus::default();
        status.record_plan(&drift(), "r1", 1);
        let error = ErrorInfo::new(ErrorClass::Throttling, "rate exceeded");
        status.record_outcome(Some(Err(error.clone())), None, 1);
        assert_eq!(status.last_error, Some(error));
        assert_eq!(
            status.condition(ConditionType::Synced).unwrap().reason,
            "Error"
        );
        status.record_outcome(Some(Ok(())), None, 2);
        assert_eq!(status.last_error, None);
    }

    #[test]
    fn a_digest_stored_by_an_earlier_release_is_still_read() {
        let old: DocumentStatus = serde_json::from_str(
            r#"{"observedRevision":"r1","conditions":[],"aws":{"lastAppliedDigest":"abc"}}"#,
        )
        .unwrap();
        assert_eq!(old.last_applied(), Some("abc"));
        let new = DocumentStatus {
            last_applied_digest: Some("def".into()),
            ..old
        };
        assert_eq!(new.last_applied(), Some("def"));
    }
}

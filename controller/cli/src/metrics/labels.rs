//! The families the controller exports, the labels of each, and the values every label can
//! take: the contract between the metrics code and whoever reads the metrics (the alert rules in
//! `deploy/`, dashboards).
//!
//! The metrics register their families from these definitions, so a family or label cannot be
//! added without appearing here. `tests/deploy.rs` compiles this file too and checks every series
//! the alert rules and their promtool tests name against it, so an alert can never again wait for
//! a label value the controller does not emit. It depends on nothing else in the binary for that
//! reason.

use ecs_topology_aws::ApiFamily;
use ecs_topology_core::engine::ReconcileResult;
use ecs_topology_core::error::ErrorClass;
use ecs_topology_core::model::Kind;
use ecs_topology_core::status_writer::WriteResult;

/// One exported family: its name and the labels each of its series carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    pub name: &'static str,
    pub labels: &'static [&'static str],
}

const fn family(name: &'static str, labels: &'static [&'static str]) -> Family {
    Family { name, labels }
}

pub const DOCUMENTS: Family = family("ecs_topology_documents", &["kind", "validity"]);
pub const DOCUMENTS_DRIFTED: Family =
    family("ecs_topology_documents_drifted", &["kind", "account"]);
pub const DRIFT_DETECTIONS: Family = family(
    "ecs_topology_drift_detections_total",
    &["kind", "field_class"],
);
pub const RECONCILES: Family = family("ecs_topology_reconcile_total", &["kind", "result"]);
pub const RECONCILE_DURATION: Family = family("ecs_topology_reconcile_duration_seconds", &["kind"]);
pub const QUEUE_DEPTH: Family = family("ecs_topology_workqueue_depth", &[]);
pub const QUEUE_ADDS: Family = family("ecs_topology_workqueue_adds_total", &[]);
pub const QUEUE_RETRIES: Family = family("ecs_topology_workqueue_retries_total", &[]);
pub const QUEUE_DURATION: Family = family("ecs_topology_workqueue_queue_duration_seconds", &[]);
pub const WORK_DURATION: Family = family("ecs_topology_workqueue_work_duration_seconds", &[]);
pub const LONGEST_RUNNING: Family = family("ecs_topology_workqueue_longest_running_seconds", &[]);
pub const AWS_CALLS: Family = family(
    "ecs_topology_aws_calls_total",
    &["service", "operation", "account", "outcome"],
);
pub const AWS_THROTTLES: Family =
    family("ecs_topology_aws_throttles_total", &["service", "account"]);
pub const SOURCE_LAST_SUCCESS: Family = family(
    "ecs_topology_source_last_success_timestamp_seconds",
    &["source"],
);
pub const LEADER: Family = family("ecs_topology_leader", &[]);
pub const PRUNE_BLOCKED: Family = family("ecs_topology_prune_blocked_total", &[]);
pub const CREDENTIALS_EXPIRY: Family =
    family("ecs_topology_credentials_expiry_seconds", &["account"]);
pub const OLDEST_UNSYNCED: Family = family("ecs_topology_oldest_unsynced_document_seconds", &[]);
pub const BUILD_INFO: Family = family("ecs_topology_build_info", &["version"]);
pub const STATUS_WRITES: Family = family("ecs_topology_status_writes_total", &["write"]);
pub const OWNING_SEVERAL: Family = family("ecs_topology_documents_owning_several", &["kind"]);
pub const EVENTS: Family = family("ecs_topology_events_total", &["service", "outcome"]);
pub const EVENTS_IGNORED: Family = family("ecs_topology_events_ignored_total", &[]);
pub const EVENT_LAG: Family = family("ecs_topology_event_lag_seconds", &[]);
pub const EVENT_FAILURES: Family = family("ecs_topology_event_queue_failures_total", &[]);
pub const EVENT_QUEUE_AGE: Family = family("ecs_topology_event_queue_age_seconds", &[]);
pub const TARGETED_OBSERVATIONS: Family =
    family("ecs_topology_targeted_observations_total", &["kind"]);

/// Every family the controller exports.
pub const FAMILIES: [Family; 27] = [
    DOCUMENTS,
    DOCUMENTS_DRIFTED,
    DRIFT_DETECTIONS,
    RECONCILES,
    RECONCILE_DURATION,
    QUEUE_DEPTH,
    QUEUE_ADDS,
    QUEUE_RETRIES,
    QUEUE_DURATION,
    WORK_DURATION,
    LONGEST_RUNNING,
    AWS_CALLS,
    AWS_THROTTLES,
    SOURCE_LAST_SUCCESS,
    LEADER,
    PRUNE_BLOCKED,
    CREDENTIALS_EXPIRY,
    OLDEST_UNSYNCED,
    BUILD_INFO,
    STATUS_WRITES,
    OWNING_SEVERAL,
    EVENTS,
    EVENTS_IGNORED,
    EVENT_LAG,
    EVENT_FAILURES,
    EVENT_QUEUE_AGE,
    TARGETED_OBSERVATIONS,
];

/// The families whose series exist only when change events are configured (`events`): their
/// zeros would otherwise say that a path that does not exist is silent.
pub const ONLY_WITH_EVENTS: [Family; 1] = [EVENTS];

/// The families exported as histograms: each is read as its `_bucket` (with the label `le`),
/// `_sum` and `_count` series.
pub const HISTOGRAMS: [Family; 4] = [RECONCILE_DURATION, QUEUE_DURATION, WORK_DURATION, EVENT_LAG];

/// The `outcome` of a change event the controller read: one it observes again for, or its own
/// change (nothing to observe).
pub const EVENT_OUTCOMES: [&str; 2] = ["mapped", "own"];

/// The `validity` of a document count.
pub const VALIDITY: [&str; 2] = ["valid", "invalid"];

/// The `outcome` of an AWS call that succeeded; a failed call's outcome is its error class.
pub const CALL_OK: &str = "ok";

/// Where a document set was loaded from: the `source` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    Directory,
    S3,
    Dynamodb,
}

impl SourceKind {
    pub const ALL: [SourceKind; 3] = [SourceKind::Directory, SourceKind::S3, SourceKind::Dynamodb];

    /// The kind of a source URI: `s3://...`, `dynamodb://...`, or a directory path.
    pub fn of_uri(uri: &str) -> SourceKind {
        if uri.starts_with("s3://") {
            SourceKind::S3
        } else if uri.starts_with("dynamodb://") {
            SourceKind::Dynamodb
        } else {
            SourceKind::Directory
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Directory => "directory",
            SourceKind::S3 => "s3",
            SourceKind::Dynamodb => "dynamodb",
        }
    }
}

/// The field class of a drifted field path: its first segment (`tags.env` → `tags`,
/// `endpoints.ecr.api.policy` → `endpoints`), or `other` when it is not a plain field name.
pub fn field_class(path: &str) -> &str {
    let first = path.split(['.', '[']).next().unwrap_or_default();
    if is_plain_name(first) { first } else { "other" }
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The values a label can take.
#[derive(Debug, Clone)]
pub enum Values {
    /// Exactly one of these, whatever the deployment.
    OneOf(Vec<&'static str>),
    /// A value that depends on the deployment (an account alias, an SDK operation), of this shape.
    Shaped {
        shape: &'static str,
        accepts: fn(&str) -> bool,
    },
}

impl Values {
    /// Whether the controller can ever emit `value` for the label.
    pub fn admits(&self, value: &str) -> bool {
        match self {
            Values::OneOf(values) => values.contains(&value),
            Values::Shaped { accepts, .. } => accepts(value),
        }
    }
}

/// The values of `label`, a label of some family in [`FAMILIES`]; `None` for any other name.
/// A label means the same in every family that has it.
pub fn values(label: &str) -> Option<Values> {
    let one_of = |values: Vec<&'static str>| Some(Values::OneOf(values));
    match label {
        "kind" => one_of(Kind::ALL.map(Kind::as_str).to_vec()),
        "validity" => one_of(VALIDITY.to_vec()),
        "result" => one_of(
            ReconcileResult::all()
                .map(ReconcileResult::as_str)
                .collect(),
        ),
        "outcome" => one_of(
            std::iter::once(CALL_OK)
                .chain(ErrorClass::ALL.map(ErrorClass::as_str))
                .chain(EVENT_OUTCOMES)
                .collect(),
        ),
        "source" => one_of(SourceKind::ALL.map(SourceKind::as_str).to_vec()),
        "write" => one_of(WriteResult::ALL.map(WriteResult::as_str).to_vec()),
        "service" => one_of(services()),
        "account" => Some(Values::Shaped {
            shape: "an account alias of the controller config, or a 12-digit account id",
            accepts: |v| !v.is_empty() && v.chars().all(|c| c.is_ascii_graphic()),
        }),
        "operation" => Some(Values::Shaped {
            shape: "an SDK operation name such as DescribeVpcEndpoints, or `unknown`",
            accepts: |v| {
                v == "unknown"
                    || (v.starts_with(|c: char| c.is_ascii_uppercase())
                        && v.chars().all(|c| c.is_ascii_alphanumeric()))
            },
        }),
        "field_class" => Some(Values::Shaped {
            shape: "the first segment of a field path, or `other`",
            accepts: |v| field_class(v) == v,
        }),
        "version" => Some(Values::Shaped {
            shape: "the controller's version",
            accepts: |v| !v.is_empty(),
        }),
        _ => None,
    }
}

/// The `service` of every API family the controller calls through.
fn services() -> Vec<&'static str> {
    let mut services: Vec<&'static str> = ApiFamily::FIXED.iter().map(ApiFamily::service).collect();
    services.dedup();
    services
}

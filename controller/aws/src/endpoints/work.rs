//! An endpoint-set change sorted into the calls that carry it out.
//!
//! The change's typed edits say what to do: a whole endpoint deleted, created, or replaced
//! (delete, then create), or an attribute of one endpoint — named by its id — changed in place.
//! Nothing is read back from the plan's display.

use ecs_topology_core::engine::Change;
use ecs_topology_core::kinds::endpoints::{
    EndpointAttribute, EndpointField, EndpointPart, EndpointSets, NewEndpoint,
};
use ecs_topology_core::observed::ObservedEndpoint;
use ecs_topology_core::plan::Edit;
use serde_json::Value;

use crate::ErrorClass;
use crate::call::AwsError;

/// The ECS services AWS needs created in this order.
const ECS_ORDER: [&str; 3] = ["ecs-agent", "ecs-telemetry", "ecs"];

/// An endpoint to create.
pub(super) struct Create<'a> {
    pub(super) short: &'a str,
    pub(super) endpoint: &'a NewEndpoint,
    /// The endpoint it replaces, and that endpoint's VPC.
    pub(super) replaces: Option<&'a str>,
    pub(super) replaced_vpc: Option<&'a str>,
}

/// The changes in place of one endpoint.
pub(super) struct Update<'a> {
    pub(super) endpoint: &'a ObservedEndpoint,
    pub(super) changes: Vec<(&'a EndpointAttribute, &'a Edit<EndpointField>)>,
}

/// The change, sorted into calls.
pub(super) struct Work<'a> {
    pub(super) deletes: Vec<String>,
    pub(super) creates: Vec<Create<'a>>,
    pub(super) updates: Vec<Update<'a>>,
}

pub(super) enum Job<'w, 'a> {
    /// Creates made one after the other.
    Create(Vec<&'w Create<'a>>),
    Update(&'w Update<'a>),
}

impl<'a> Work<'a> {
    pub(super) fn read(change: &'a Change<'a, EndpointSets>) -> Result<Work<'a>, AwsError> {
        let mut work = Work {
            deletes: Vec::new(),
            creates: Vec::new(),
            updates: Vec::new(),
        };
        let find = |id: &str| change.subject.iter().find(|ep| ep.id == id);
        for edit in change.edits {
            match &edit.field.part {
                EndpointPart::Whole { delete, create } => {
                    if let Some(id) = delete {
                        work.deletes.push(id.clone());
                    }
                    if let Some(endpoint) = create {
                        work.creates.push(Create {
                            short: &edit.field.short,
                            endpoint,
                            replaces: delete.as_deref(),
                            replaced_vpc: delete
                                .as_deref()
                                .and_then(find)
                                .map(|ep| ep.vpc_id.as_str()),
                        });
                    }
                }
                EndpointPart::InPlace {
                    endpoint,
                    attribute,
                } => {
                    let Some(ep) = find(endpoint) else {
                        return Err(AwsError::local(
                            "ModifyVpcEndpoint",
                            ErrorClass::NotFound,
                            format!(
                                "the `{}` endpoint {endpoint} to change is not among those observed",
                                edit.field.short
                            ),
                        ));
                    };
                    match work.updates.iter_mut().find(|u| u.endpoint.id == ep.id) {
                        Some(u) => u.changes.push((attribute, edit)),
                        None => work.updates.push(Update {
                            endpoint: ep,
                            changes: vec![(attribute, edit)],
                        }),
                    }
                }
            }
        }
        Ok(work)
    }

    /// The creates and updates as jobs: the ECS services as one job in creation order, then each
    /// other create and each endpoint's update on its own.
    pub(super) fn jobs(&self) -> Vec<Job<'_, 'a>> {
        let rank = |short: &str| ECS_ORDER.iter().position(|s| *s == short);
        let mut ecs: Vec<&Create<'a>> = self
            .creates
            .iter()
            .filter(|c| rank(c.short).is_some())
            .collect();
        ecs.sort_by_key(|c| rank(c.short));
        let mut jobs = Vec::new();
        if !ecs.is_empty() {
            jobs.push(Job::Create(ecs));
        }
        jobs.extend(
            self.creates
                .iter()
                .filter(|c| rank(c.short).is_none())
                .map(|c| Job::Create(vec![c])),
        );
        jobs.extend(self.updates.iter().map(Job::Update));
        jobs
    }
}

/// A policy document as sent to AWS: compact JSON (a string is sent as it is).
pub(super) fn compact(policy: &Value) -> String {
    match policy {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn gone(ep: &ObservedEndpoint) -> bool {
    matches!(ep.state.as_str(), "deleting" | "deleted")
}

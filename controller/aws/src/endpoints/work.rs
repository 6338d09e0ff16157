//! An endpoint-set plan sorted into the calls that carry it out.
//!
//! The plan's field paths (see `ecs_topology_core::plan`) say what to do: `endpoints.<service>`
//! from nothing is a create, to nothing a delete, from one endpoint to another a replacement
//! (delete, then create); `endpoints.<service>.<field>` is a change in place of the endpoint of
//! that service: the set's own (the one planning keeps), or for an adopt the unowned one of the
//! same VPC, service and type.

use ecs_topology_core::engine::EndpointChange;
use ecs_topology_core::model::{OWNER_TAG, VpcEndpointSetSpec};
use ecs_topology_core::observed::{EndpointType, ObservedEndpoint, Ownership, ownership};
use ecs_topology_core::plan::{FieldChange, service_name};
use serde_json::Value;

use crate::ErrorClass;
use crate::call::AwsError;

/// The ECS services AWS needs created in this order.
const ECS_ORDER: [&str; 3] = ["ecs-agent", "ecs-telemetry", "ecs"];

/// One field of an endpoint changed in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Field {
    SubnetIds,
    SecurityGroupIds,
    RouteTableIds,
    PrivateDns,
    Policy,
    Tag(String),
}

/// The service's short name and the field of a plan path; `None` as the field for the whole
/// endpoint. Short names may hold dots (`ecr.api`), tag keys too.
pub(super) fn parse_path(path: &str) -> Option<(&str, Option<Field>)> {
    let rest = path.strip_prefix("endpoints.")?;
    if let Some((short, key)) = rest.split_once(".tags.") {
        return Some((short, Some(Field::Tag(key.to_owned()))));
    }
    let fields = [
        (".subnetIds", Field::SubnetIds),
        (".securityGroupIds", Field::SecurityGroupIds),
        (".routeTableIds", Field::RouteTableIds),
        (".privateDns", Field::PrivateDns),
        (".policy", Field::Policy),
    ];
    for (suffix, field) in fields {
        if let Some(short) = rest.strip_suffix(suffix) {
            return Some((short, Some(field)));
        }
    }
    Some((rest, None))
}

/// An endpoint to create.
pub(super) struct Create<'a> {
    pub(super) short: &'a str,
    /// The endpoint as the plan shows it (`serviceName`, `type`, `vpcId`, `subnetIds`, ...).
    pub(super) endpoint: &'a Value,
    /// The endpoint it replaces, and that endpoint's VPC.
    pub(super) replaces: Option<String>,
    pub(super) replaced_vpc: Option<&'a str>,
}

/// The changes in place of one endpoint.
pub(super) struct Update<'a> {
    pub(super) endpoint: &'a ObservedEndpoint,
    pub(super) changes: Vec<(Field, &'a FieldChange)>,
}

/// The plan, sorted into calls.
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
    pub(super) fn read(change: &'a EndpointChange<'a>) -> Result<Work<'a>, AwsError> {
        let mut work = Work {
            deletes: Vec::new(),
            creates: Vec::new(),
            updates: Vec::new(),
        };
        for c in &change.plan.changes {
            let Some((short, field)) = parse_path(&c.path) else {
                return Err(unplanned(format!("a change of `{}`", c.path)));
            };
            let Some(field) = field else {
                let old = c
                    .from
                    .as_ref()
                    .map(|old| endpoint_id(old, &c.path))
                    .transpose()?;
                if let Some(id) = &old {
                    work.deletes.push(id.clone());
                }
                if let Some(endpoint) = &c.to {
                    work.creates.push(Create {
                        short,
                        endpoint,
                        replaces: old,
                        replaced_vpc: c.from.as_ref().and_then(|v| text(v, "vpcId")),
                    });
                }
                continue;
            };
            let Some(spec) = change.spec else {
                return Err(unplanned(format!("`{}` without the document", c.path)));
            };
            let targets = targets(change, spec, short, &field);
            if targets.is_empty() {
                return Err(AwsError::local(
                    "ModifyVpcEndpoint",
                    ErrorClass::NotFound,
                    format!("no `{short}` endpoint of {} to change", spec.vpc_id),
                ));
            }
            for ep in targets {
                match work.updates.iter_mut().find(|u| u.endpoint.id == ep.id) {
                    Some(u) => u.changes.push((field.clone(), c)),
                    None => work.updates.push(Update {
                        endpoint: ep,
                        changes: vec![(field.clone(), c)],
                    }),
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

pub(super) fn unplanned(what: String) -> AwsError {
    AwsError::local(
        "apply",
        ErrorClass::Other,
        format!("cannot carry out {what}"),
    )
}

pub(super) fn endpoint_id(summary: &Value, path: &str) -> Result<String, AwsError> {
    text(summary, "id")
        .map(str::to_owned)
        .ok_or_else(|| unplanned(format!("`{path}`: the plan names no endpoint id")))
}

pub(super) fn text<'v>(value: &'v Value, field: &str) -> Option<&'v str> {
    value.get(field).and_then(Value::as_str)
}

pub(super) fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
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

/// Whether an endpoint is the set's. For a removed document the engine hands over only the set's
/// own endpoints (and no tags to compare with).
pub(super) fn is_ours(change: &EndpointChange<'_>, ep: &ObservedEndpoint) -> bool {
    match change.tags.get(OWNER_TAG) {
        Some(controller) => ownership(&ep.tags, controller, &change.plan.key) == Ownership::Ours,
        None => true,
    }
}

/// The endpoints a change in place of `short` applies to, one per endpoint type the field
/// concerns: the set's own (the one planning keeps: usable first, then available, then by id),
/// else the unowned one being adopted.
pub(super) fn targets<'a>(
    change: &EndpointChange<'a>,
    spec: &VpcEndpointSetSpec,
    short: &str,
    field: &Field,
) -> Vec<&'a ObservedEndpoint> {
    let types = match field {
        Field::SubnetIds | Field::SecurityGroupIds | Field::PrivateDns => {
            vec![EndpointType::Interface]
        }
        Field::RouteTableIds => vec![EndpointType::Gateway],
        Field::Policy | Field::Tag(_) => {
            let mut types = Vec::new();
            if spec.interface_services.iter().any(|s| s == short) {
                types.push(EndpointType::Interface);
            }
            if spec.gateway_services.iter().any(|g| g.service == short) {
                types.push(EndpointType::Gateway);
            }
            types
        }
    };
    let name = service_name(&spec.region, short);
    types
        .into_iter()
        .filter_map(|endpoint_type| {
            let serving: Vec<&'a ObservedEndpoint> = change
                .observed
                .iter()
                .copied()
                .filter(|ep| {
                    ep.vpc_id == spec.vpc_id
                        && ep.service_name == name
                        && ep.endpoint_type == endpoint_type
                        && !gone(ep)
                })
                .collect();
            let controller = change.tags.get(OWNER_TAG).map_or("", String::as_str);
            serving
                .iter()
                .copied()
                .filter(|ep| is_ours(change, ep))
                .min_by_key(|ep| {
                    let broken = matches!(ep.state.as_str(), "failed" | "rejected" | "expired");
                    (broken, ep.state != "available", ep.id.clone())
                })
                .or_else(|| {
                    serving.iter().copied().find(|ep| {
                        ownership(&ep.tags, controller, &change.plan.key) == Ownership::Unowned
                    })
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_paths_name_the_service_and_the_field() {
        assert_eq!(parse_path("endpoints.ecr.api"), Some(("ecr.api", None)));
        assert_eq!(
            parse_path("endpoints.ecr.dkr.subnetIds"),
            Some(("ecr.dkr", Some(Field::SubnetIds)))
        );
        assert_eq!(
            parse_path("endpoints.ecs.tags.ecs-topology.dev/owner"),
            Some(("ecs", Some(Field::Tag("ecs-topology.dev/owner".into()))))
        );
        assert_eq!(
            parse_path("endpoints.s3.policy"),
            Some(("s3", Some(Field::Policy)))
        );
        assert_eq!(parse_path("description"), None);
    }
}

//! `VpcEndpointSet`: the interface and gateway VPC endpoints one VPC needs for ECS/Fargate in
//! private subnets, planned as one document.

mod check;
mod plan;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use serde_json::{Map, Value, json};

pub use check::{GATEWAY_SERVICES, INTERFACE_SERVICES};
pub use plan::{
    DesiredEndpointSet, EndpointSetPlan, endpoints_ready, plan_endpoint_set, service_name,
    short_service_name,
};

use crate::engine::{
    Applied, Change, Context, DesiredSet, Input, Observation, Plan, Registered, Resource, Scope,
    Topology,
};
use crate::kinds::Cloud;
use crate::model::{Key, VpcEndpointSetSpec};
use crate::observed::{EndpointType, ObservedEndpoint, Ownership, Seen, ownership};
use crate::plan::{Field, Verb};
use crate::status::{ErrorClass, ErrorInfo};

/// A field of an endpoint set: the endpoint of one service, whole or one of its attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointField {
    /// The service's short name (`ecr.api`, `s3`).
    pub short: String,
    pub part: EndpointPart,
}

/// What of a service's endpoint an edit changes.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointPart {
    /// The whole endpoint: `delete` names the endpoint to delete, `create` the endpoint to create
    /// (both for a replacement: delete first, then create).
    Whole {
        delete: Option<String>,
        create: Option<Box<NewEndpoint>>,
    },
    /// One attribute of the endpoint `endpoint` (its id), changed in place.
    InPlace {
        endpoint: String,
        attribute: EndpointAttribute,
    },
}

/// An attribute of an endpoint that AWS changes in place (`ModifyVpcEndpoint`, tags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointAttribute {
    SubnetIds,
    SecurityGroupIds,
    RouteTableIds,
    PrivateDns,
    Policy,
    Tag(String),
}

impl EndpointAttribute {
    fn path(&self) -> String {
        match self {
            EndpointAttribute::SubnetIds => "subnetIds".into(),
            EndpointAttribute::SecurityGroupIds => "securityGroupIds".into(),
            EndpointAttribute::RouteTableIds => "routeTableIds".into(),
            EndpointAttribute::PrivateDns => "privateDns".into(),
            EndpointAttribute::Policy => "policy".into(),
            EndpointAttribute::Tag(key) => format!("tags.{key}"),
        }
    }
}

/// An endpoint to create, every field as it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEndpoint {
    /// `com.amazonaws.REGION.SERVICE`.
    pub service_name: String,
    pub endpoint_type: EndpointType,
    pub vpc_id: String,
    /// Interface endpoints only (empty for a gateway).
    pub subnet_ids: BTreeSet<String>,
    /// Interface endpoints only.
    pub security_group_ids: BTreeSet<String>,
    /// Gateway endpoints only.
    pub route_table_ids: BTreeSet<String>,
    /// Interface endpoints only.
    pub private_dns: bool,
    /// The policy document; `None` for AWS's default.
    pub policy: Option<Value>,
    pub tags: crate::compact::Tags,
}

impl NewEndpoint {
    /// The endpoint as a plan shows it, naming the endpoint it replaces if any.
    pub fn display(&self, replaces: Option<&str>) -> Value {
        let mut v = Map::new();
        v.insert("serviceName".into(), json!(self.service_name));
        v.insert("type".into(), json!(self.endpoint_type.as_str()));
        v.insert("vpcId".into(), json!(self.vpc_id));
        match self.endpoint_type {
            EndpointType::Interface => {
                v.insert("subnetIds".into(), json!(self.subnet_ids));
                v.insert("securityGroupIds".into(), json!(self.security_group_ids));
                v.insert("privateDns".into(), json!(self.private_dns));
            }
            EndpointType::Gateway => {
                v.insert("routeTableIds".into(), json!(self.route_table_ids));
            }
        }
        if let Some(policy) = &self.policy {
            v.insert("policy".into(), policy.clone());
        }
        v.insert("tags".into(), json!(self.tags));
        if let Some(id) = replaces {
            v.insert("replaces".into(), json!(id));
        }
        Value::Object(v)
    }
}

impl Field for EndpointField {
    fn path(&self) -> String {
        match &self.part {
            EndpointPart::Whole { .. } => format!("endpoints.{}", self.short),
            EndpointPart::InPlace { attribute, .. } => {
                format!("endpoints.{}.{}", self.short, attribute.path())
            }
        }
    }

    fn tag_key(&self) -> Option<&str> {
        match &self.part {
            EndpointPart::InPlace {
                attribute: EndpointAttribute::Tag(key),
                ..
            } => Some(key),
            _ => None,
        }
    }
}

/// What the AWS side does for endpoint sets.
pub trait EndpointCloud {
    /// Every VPC endpoint of the scope tagged by the controller `owner` (one paginated
    /// `DescribeVpcEndpoints` pass, 1,000 a page).
    fn observe_endpoints(
        &self,
        scope: &Scope,
        owner: &str,
    ) -> impl Future<Output = Result<Vec<ObservedEndpoint>, ErrorInfo>> + Send;
    /// Endpoints of the scope in `vpc` that this controller does not own (a targeted read, made
    /// only for a set that misses some endpoints, to find look-alikes).
    fn endpoint_look_alikes(
        &self,
        scope: &Scope,
        vpc: &str,
        owner: &str,
    ) -> impl Future<Output = Result<Vec<ObservedEndpoint>, ErrorInfo>> + Send;
    /// Problems that would make an endpoint set fail or not work (VPC DNS attributes, security
    /// groups that do not admit 443 from the subnets), as sentences; read only before a change.
    fn endpoint_preflight(
        &self,
        scope: &Scope,
        spec: &VpcEndpointSetSpec,
    ) -> impl Future<Output = Result<Vec<String>, ErrorInfo>> + Send;
    /// Carries out an endpoint-set change, waiting until new endpoints are available (within a
    /// bound); returns the endpoints it acted on and created as they now are.
    fn apply_endpoints(
        &self,
        change: Change<'_, EndpointSets>,
    ) -> impl Future<Output = Result<Vec<ObservedEndpoint>, ErrorInfo>> + Send;
}

/// The endpoint sets kind.
#[derive(Debug)]
pub struct EndpointSets;

impl Resource for EndpointSets {
    type Field = EndpointField;
    type Scan = Vec<ObservedEndpoint>;

    // Tags and routes: an endpoint's tags, and a gateway endpoint's routes.
    const LARGE_REPLIES: bool = true;
    const EVENT_SOURCE: &'static str = "ec2.amazonaws.com";
    const EVENTS: &'static [&'static str] = &[
        "CreateVpcEndpoint",
        "ModifyVpcEndpoint",
        "DeleteVpcEndpoints",
        "CreateTags",
        "DeleteTags",
        "CreateRoute",
        "ReplaceRoute",
        "DeleteRoute",
    ];

    fn user_tags(spec: &VpcEndpointSetSpec) -> &crate::compact::Tags {
        &spec.tags
    }

    fn id(object: &ObservedEndpoint) -> &str {
        &object.id
    }

    /// The set's endpoints, and for sets that lack some of theirs the other endpoints of their
    /// VPC, so that an unowned look-alike blocks a create instead of being duplicated. A
    /// converged set costs nothing beyond the listing.
    async fn observe<'a, C: Cloud>(
        cloud: &'a C,
        desired: &'a DesiredSet,
        scope: &'a Scope,
        _sweep: bool,
    ) -> Result<Vec<ObservedEndpoint>, ErrorInfo> {
        let owner = desired.controller.as_str();
        let mut found = cloud.observe_endpoints(scope, owner).await?;
        let mut vpcs: BTreeSet<&str> = BTreeSet::new();
        for (key, d) in desired.in_scope(scope) {
            let Some(spec) = Self::spec(&d.document) else {
                continue;
            };
            let covered: BTreeSet<&str> = found
                .iter()
                .filter(|e| {
                    e.vpc_id == spec.vpc_id && ownership(&e.tags, owner, key) == Ownership::Ours
                })
                .map(|e| e.service_name.as_str())
                .collect();
            let missing = spec
                .interface_services
                .iter()
                .chain(spec.gateway_services.iter().map(|g| &g.service))
                .any(|short| !covered.contains(service_name(&spec.region, short).as_str()));
            if missing {
                vpcs.insert(&spec.vpc_id);
            }
        }
        let mut look_alikes = Vec::new();
        for vpc in vpcs {
            look_alikes.extend(cloud.endpoint_look_alikes(scope, vpc, owner).await?);
        }
        for e in look_alikes {
            if !found.iter().any(|x| x.id == e.id) {
                found.push(e);
            }
        }
        Ok(found)
    }

    fn store(scan: Vec<ObservedEndpoint>, observation: &mut Observation, scope: Scope) {
        observation.endpoints.replace(scope, scan);
    }

    fn plan<'o>(cx: &Context<'o>, input: Input<'o, Self>) -> Plan<'o, Self> {
        let want = input
            .spec
            .zip(input.doc)
            .map(|(spec, d)| DesiredEndpointSet {
                spec,
                policies: &d.policies,
                region: &spec.region,
            });
        plan_endpoint_set(cx.controller(), input.key, want, input.seen, input.gate)
    }

    fn readiness(cx: &Context<'_>, key: &Key, seen: Seen<'_, ObservedEndpoint>) -> (bool, String) {
        let Some(spec) = cx.spec::<Self>(key) else {
            return (false, "the document was removed".into());
        };
        let ours: Vec<ObservedEndpoint> = seen.ours(cx.controller(), key).cloned().collect();
        endpoints_ready(spec, &ours)
    }

    fn facts(
        cx: &Context<'_>,
        key: &Key,
        seen: Seen<'_, ObservedEndpoint>,
    ) -> BTreeMap<String, String> {
        seen.ours(cx.controller(), key)
            .map(|e| {
                (
                    format!("endpoint.{}", e.service_name),
                    format!("{} ({})", e.id, e.state),
                )
            })
            .collect()
    }

    fn topology(_cx: &Context<'_>, _key: &Key, spec: &VpcEndpointSetSpec) -> Topology {
        Topology {
            group: Some(format!("VPC {}", spec.vpc_id)),
            edges: Vec::new(),
        }
    }

    async fn act<'a, C: Cloud>(
        cloud: &'a C,
        change: Change<'a, Self>,
    ) -> Result<Applied<ObservedEndpoint>, ErrorInfo> {
        if let (Some(spec), true) = (change.spec, change.verb != Verb::Delete) {
            let problems = cloud.endpoint_preflight(change.scope, spec).await?;
            if !problems.is_empty() {
                return Err(ErrorInfo::new(ErrorClass::Preflight, problems.join("; ")));
            }
        }
        let subject = change.subject;
        let now = cloud.apply_endpoints(change).await?;
        Ok(Applied::replacing::<Self>(subject, now))
    }
}

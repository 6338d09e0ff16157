//! `ExpressService`: an ECS Express Mode service, with the load balancer ECS manages for it
//! shown read-only.

mod check;
mod plan;
mod shape;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

pub use plan::{DesiredExpressService, ExpressPlan, express_ready, plan_express, spec_digest};

use crate::engine::{
    Applied, Change, Context, DesiredSet, Input, Observation, Plan, Registered, Resource, Scope,
    Topology,
};
use crate::kinds::Cloud;
use crate::model::{ExpressServiceSpec, Key, cluster_name};
use crate::observed::{ObservedExpressService, Seen};
use crate::plan::{Field, Verb};
use crate::status::ErrorInfo;

/// A field of an Express service, in the document's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpressField {
    Cluster,
    ServiceName,
    ExecutionRoleArn,
    InfrastructureRoleArn,
    TaskRoleArn,
    Image,
    Port,
    Command,
    /// The environment variable of this name.
    Environment(String),
    /// The secret of this name.
    Secret(String),
    LogGroup,
    LogStreamPrefix,
    RepositoryCredentials,
    Subnets,
    SecurityGroups,
    Cpu,
    Memory,
    CpuArchitecture,
    HealthCheckPath,
    ScalingMin,
    ScalingMax,
    ScalingMetric,
    ScalingTarget,
    Tag(String),
}

/// The parts of a configuration `UpdateExpressGatewayService` sends whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExpressGroup {
    ExecutionRole,
    TaskRole,
    /// The whole primary container (ECS replaces it whole).
    PrimaryContainer,
    /// Subnets and security groups.
    Network,
    /// CPU and memory, sent together (Fargate accepts only some pairs).
    Size,
    HealthCheckPath,
    Scaling,
    /// The cluster and the service name: set at creation, the service's identity.
    Identity,
    /// Taken only at creation (`infrastructureRoleArn`, `cpuArchitecture`).
    FixedAtCreation,
}

impl ExpressField {
    /// The group the field is sent in; `None` for a tag (sent through `TagResource`).
    pub fn group(&self) -> Option<ExpressGroup> {
        use ExpressField as F;
        Some(match self {
            F::Cluster | F::ServiceName => ExpressGroup::Identity,
            F::ExecutionRoleArn => ExpressGroup::ExecutionRole,
            F::InfrastructureRoleArn | F::CpuArchitecture => ExpressGroup::FixedAtCreation,
            F::TaskRoleArn => ExpressGroup::TaskRole,
            F::Image
            | F::Port
            | F::Command
            | F::Environment(_)
            | F::Secret(_)
            | F::LogGroup
            | F::LogStreamPrefix
            | F::RepositoryCredentials => ExpressGroup::PrimaryContainer,
            F::Subnets | F::SecurityGroups => ExpressGroup::Network,
            F::Cpu | F::Memory => ExpressGroup::Size,
            F::HealthCheckPath => ExpressGroup::HealthCheckPath,
            F::ScalingMin | F::ScalingMax | F::ScalingMetric | F::ScalingTarget => {
                ExpressGroup::Scaling
            }
            F::Tag(_) => return None,
        })
    }

    /// Whether ECS takes the field only when it creates a service.
    pub fn fixed_at_creation(&self) -> bool {
        self.group() == Some(ExpressGroup::FixedAtCreation)
    }
}

impl Field for ExpressField {
    fn path(&self) -> String {
        use ExpressField as F;
        match self {
            F::Cluster => "cluster".into(),
            F::ServiceName => "serviceName".into(),
            F::ExecutionRoleArn => "executionRoleArn".into(),
            F::InfrastructureRoleArn => "infrastructureRoleArn".into(),
            F::TaskRoleArn => "taskRoleArn".into(),
            F::Image => "primaryContainer.image".into(),
            F::Port => "primaryContainer.port".into(),
            F::Command => "primaryContainer.command".into(),
            F::Environment(name) => format!("primaryContainer.environment.{name}"),
            F::Secret(name) => format!("primaryContainer.secrets.{name}"),
            F::LogGroup => "primaryContainer.logs.logGroup".into(),
            F::LogStreamPrefix => "primaryContainer.logs.logStreamPrefix".into(),
            F::RepositoryCredentials => "primaryContainer.repositoryCredentials".into(),
            F::Subnets => "network.subnets".into(),
            F::SecurityGroups => "network.securityGroups".into(),
            F::Cpu => "cpu".into(),
            F::Memory => "memory".into(),
            F::CpuArchitecture => "cpuArchitecture".into(),
            F::HealthCheckPath => "healthCheckPath".into(),
            F::ScalingMin => "scaling.min".into(),
            F::ScalingMax => "scaling.max".into(),
            F::ScalingMetric => "scaling.metric".into(),
            F::ScalingTarget => "scaling.target".into(),
            F::Tag(key) => format!("tags.{key}"),
        }
    }

    fn tag_key(&self) -> Option<&str> {
        match self {
            ExpressField::Tag(key) => Some(key),
            _ => None,
        }
    }
}

/// What the AWS side does for Express services.
pub trait ExpressCloud {
    /// Every Express (ECS-managed) service of `clusters` in the scope, with tags and its active
    /// configuration.
    fn observe_express(
        &self,
        scope: &Scope,
        clusters: &BTreeSet<String>,
    ) -> impl Future<Output = Result<Vec<ObservedExpressService>, ErrorInfo>> + Send;
    /// The clusters of the scope holding services with the owner tag `owner` (one batched
    /// search by tag).
    fn owned_express_clusters(
        &self,
        scope: &Scope,
        owner: &str,
    ) -> impl Future<Output = Result<BTreeSet<String>, ErrorInfo>> + Send;
    /// Carries out an Express change; returns the service as it now is (`None` once deleted).
    fn apply_express(
        &self,
        change: Change<'_, ExpressServices>,
    ) -> impl Future<Output = Result<Option<ObservedExpressService>, ErrorInfo>> + Send;
}

/// The Express services kind.
#[derive(Debug)]
pub struct ExpressServices;

impl Resource for ExpressServices {
    type Field = ExpressField;
    type Scan = Vec<ObservedExpressService>;

    // `UpdateService` too: an Express service is an ECS service.
    const LARGE_REPLIES: bool = true;
    const EVENT_SOURCE: &'static str = "ecs.amazonaws.com";
    const EVENTS: &'static [&'static str] = &[
        "CreateExpressGatewayService",
        "UpdateExpressGatewayService",
        "DeleteExpressGatewayService",
        "UpdateService",
        "TagResource",
        "UntagResource",
    ];

    fn user_tags(spec: &ExpressServiceSpec) -> &crate::compact::Tags {
        &spec.tags
    }

    fn id(object: &ObservedExpressService) -> &str {
        &object.arn
    }

    fn exists(object: &ObservedExpressService) -> bool {
        object.status.exists()
    }

    /// The services of the clusters the scope's documents name, and of `default`.
    fn observe<'a, C: Cloud>(
        cloud: &'a C,
        desired: &'a DesiredSet,
        scope: &'a Scope,
        sweep: bool,
    ) -> impl Future<Output = Result<Vec<ObservedExpressService>, ErrorInfo>> + Send + 'a {
        let mut clusters: BTreeSet<String> = desired
            .in_scope(scope)
            .filter_map(|(_, d)| Self::spec(&d.document))
            .map(|spec| spec.cluster.clone())
            .collect();
        async move {
            if sweep {
                // Services of removed documents, in clusters no document names any more.
                clusters.extend(
                    cloud
                        .owned_express_clusters(scope, &desired.controller)
                        .await?,
                );
            } else {
                // Where a removed document's service most likely is, between sweeps.
                clusters.insert("default".to_owned());
            }
            cloud.observe_express(scope, &clusters).await
        }
    }

    fn store(scan: Vec<ObservedExpressService>, observation: &mut Observation, scope: Scope) {
        observation.express.replace(scope, scan);
    }

    fn plan<'o>(cx: &Context<'o>, input: Input<'o, Self>) -> Plan<'o, Self> {
        let want = input
            .spec
            .zip(input.doc)
            .map(|(spec, d)| DesiredExpressService {
                spec,
                policies: &d.policies,
                last_applied: input.last_applied,
            });
        plan_express(cx.controller(), input.key, want, input.seen, input.gate)
    }

    fn readiness(
        cx: &Context<'_>,
        key: &Key,
        seen: Seen<'_, ObservedExpressService>,
    ) -> (bool, String) {
        match own(cx, key, seen) {
            Some(s) => express_ready(s),
            None => (false, "the service does not exist".into()),
        }
    }

    fn topology(_cx: &Context<'_>, _key: &Key, spec: &ExpressServiceSpec) -> Topology {
        Topology {
            group: Some(format!("cluster {}", cluster_name(&spec.cluster))),
            edges: Vec::new(),
        }
    }

    fn facts(
        cx: &Context<'_>,
        key: &Key,
        seen: Seen<'_, ObservedExpressService>,
    ) -> BTreeMap<String, String> {
        let Some(s) = own(cx, key, seen) else {
            return BTreeMap::new();
        };
        let mut facts = BTreeMap::from([("arn".to_owned(), s.arn.clone())]);
        for (kind, value) in &s.managed {
            facts.insert(format!("managed.{kind}"), value.to_string());
        }
        facts
    }

    async fn act<'a, C: Cloud>(
        cloud: &'a C,
        change: Change<'a, Self>,
    ) -> Result<Applied<ObservedExpressService>, ErrorInfo> {
        let subject = change.subject;
        let now = cloud.apply_express(change).await?;
        Ok(Applied::replacing::<Self>(subject, now))
    }

    fn sent_digest(verb: Verb, spec: &ExpressServiceSpec) -> Option<String> {
        matches!(verb, Verb::Create | Verb::Update | Verb::Adopt).then(|| spec_digest(spec))
    }
}

/// The document's own live service.
fn own<'o>(
    cx: &Context<'_>,
    key: &Key,
    seen: Seen<'o, ObservedExpressService>,
) -> Option<&'o ObservedExpressService> {
    seen.ours(cx.controller(), key).find(|s| s.status.is_live())
}

/// Whether `service` is the one `spec` names: the same service name in the same cluster (by
/// name, whether written as a name or an ARN).
pub fn is_named_by(service: &ObservedExpressService, spec: &ExpressServiceSpec) -> bool {
    service.service_name == spec.service_name
        && cluster_name(&service.cluster) == cluster_name(&spec.cluster)
}

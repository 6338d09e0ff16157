//! The plan of an `ExpressService`.
//!
//! Both sides are brought to one comparable shape before they are compared: the document's spec
//! and the newest configuration ECS reports for the service.
//!
//! # Guarantees
//! - A field the document leaves out is never drift against what ECS filled in: `cpu`, `memory`,
//!   `cpuArchitecture`, `healthCheckPath`, `primaryContainer.port`, `primaryContainer.logs`,
//!   `network` (and its security groups when none are listed) and each field of `scaling`.
//! - Fields ECS never fills in compare with absent equal to empty: `primaryContainer.command`,
//!   `environment` and `secrets` (`[]` is absent), `taskRoleArn`, `repositoryCredentials`.
//! - Values compare as ECS means them: cpu and memory as whole numbers however they are written,
//!   enum values whatever their case, environment variables and secrets by name, subnets and
//!   security groups as sets, the cluster by name whether written as a name or an ARN.
//! - What ECS manages itself (the load balancer, listener, rule, target groups, certificate, its
//!   security group, auto scaling, log group) is read-only: never drift, never pruned, never
//!   adopted. Its security group is left out of both sides of `network.securityGroups`.
//! - A field ECS cannot change on an existing service (`infrastructureRoleArn`,
//!   `cpuArchitecture`) is reported as [`Verb::Blocked`], never as an update that cannot converge.
//! - A configuration whose deployment failed is not sent again on every pass: see
//!   [`DesiredExpressService::last_applied`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::ExpressField as F;
use crate::digest::{digest, sorted_keys};
use crate::model::{CpuArchitecture, ExpressServiceSpec, Key, Policies, cluster_name};
use crate::observed::{ExpressStatus, ObservedExpressService, Ownership, Seen, ownership};
use crate::plan::{
    Edit, KindPlan, PruneGate, Verb, desired_tags, not_ours, removed, tag_edits, unless_suspended,
};

/// The typed plan of an Express service document.
pub type ExpressPlan<'o> = KindPlan<'o, F, ObservedExpressService>;

/// The tag ECS puts on what it manages; never compared.
const ECS_MANAGED_TAG: &str = "AmazonECSManaged";

/// An Express service document as planning needs it.
#[derive(Debug, Clone, Copy)]
pub struct DesiredExpressService<'a> {
    pub spec: &'a ExpressServiceSpec,
    pub policies: &'a Policies,
    /// The [`spec_digest`] of the spec the controller last sent to ECS for this document (by a
    /// create or an update that ECS accepted), as the caller recorded it; `None` when unknown.
    ///
    /// The contract: when it equals the digest of `spec` and the service's most recent
    /// deployment failed ([`ObservedExpressService::failed_deployment`]), the configuration ECS
    /// rolled back from is exactly the one the document asks for, so sending it again would only
    /// start another failing deployment; the plan is then [`Verb::Blocked`] ("the last update did
    /// not converge (deployment failed); retrying with backoff"), with the differences from the
    /// active configuration as its changes. The caller retries by planning with `None` here once
    /// the document's backoff has elapsed, which yields the [`Verb::Update`] again. A spec that
    /// differs from the last one sent (a new digest) is planned as an update at once. While a
    /// deployment of the last sent spec is still running, the plan waits for it.
    pub last_applied: Option<&'a str>,
}

/// Plans one Express service document. `observed` are the Express services of the document's
/// account and region (or, for a removed document, of where its service was seen); `desired` is
/// `None` when the document was removed from the source.
///
/// A service is identified by its cluster (by name, whether written as a name or an ARN) and its
/// service name. An INACTIVE service is gone; a DRAINING one of the same identity makes a create
/// wait until ECS has finished deleting it.
pub fn plan_express<'o>(
    controller: &str,
    key: &Key,
    desired: Option<DesiredExpressService<'_>>,
    observed: impl Into<Seen<'o, ObservedExpressService>>,
    gate: &PruneGate,
) -> ExpressPlan<'o> {
    let observed = observed.into();
    let live = |s: &&ObservedExpressService| s.status.exists();
    let ours = |s: &&ObservedExpressService| ownership(&s.tags, controller, key) == Ownership::Ours;
    // The document's own live services, in observed order.
    let mine = || observed.candidates().filter(live).filter(ours);
    let Some(desired) = desired else {
        // An active service of ours before a draining one: the draining one is already going.
        return match mine().min_by_key(|s| draining(s)) {
            Some(s) if draining(s) => KindPlan::new(key.clone(), Verb::Waiting)
                .because("the service is draining; ECS deletes it once its tasks have stopped"),
            Some(s) => removed(key, &s.tags, s, gate),
            None => KindPlan::new(key.clone(), Verb::InSync),
        };
    };
    let spec = desired.spec;
    let same = |s: &&ObservedExpressService| {
        cluster_name(&s.cluster) == cluster_name(&spec.cluster)
            && s.service_name == spec.service_name
    };
    let want_tags = desired_tags(&spec.tags, controller, key, desired.policies);
    let same_live = || observed.all().iter().filter(live).filter(same);
    let plan = match same_live().find(|s| !draining(s)) {
        Some(s) => match ownership(&s.tags, controller, key) {
            Ownership::Ours => converge(key, s, &desired, &want_tags),
            owner => {
                let what = format!("Express service `{}` ({})", s.service_name, s.arn);
                match not_ours(key, &what, &owner, desired.policies.adopt) {
                    Some(blocked) => blocked,
                    None => {
                        let changes = differences(s, spec, &want_tags);
                        fixed_or(key, changes, Verb::Adopt).on([s])
                    }
                }
            }
        },
        None => match mine().find(|s| !draining(s)) {
            Some(s) => KindPlan::new(key.clone(), Verb::Blocked).because(format!(
                "the service is `{}` in cluster `{}`; an Express service cannot be renamed or \
                 moved to `{}` in cluster `{}` (remove the document and add one for the new service)",
                s.service_name,
                cluster_name(&s.cluster),
                spec.service_name,
                cluster_name(&spec.cluster)
            )),
            None => match same_live().find(|s| draining(s)) {
                Some(s) => KindPlan::new(key.clone(), Verb::Waiting).because(format!(
                    "waiting for the previous service `{}` ({}) to drain",
                    s.service_name, s.arn
                )),
                None => create(key, spec, &want_tags),
            },
        },
    };
    unless_suspended(plan, desired.policies)
}

/// Whether the service is ready: ACTIVE, no deployment running, and a configuration in service.
/// The message says what is missing, or where the service answers.
pub fn express_ready(s: &ObservedExpressService) -> (bool, String) {
    let mut missing = Vec::new();
    if s.status != ExpressStatus::Active {
        missing.push(match s.status.as_str() {
            "" => "ECS reports no status for the service".to_owned(),
            status => format!("the service is {status}, not ACTIVE"),
        });
    }
    if s.deploying {
        missing.push("a deployment is in progress".to_owned());
    }
    let Some(config) = &s.config else {
        missing.push("ECS reports no active configuration".to_owned());
        return (false, missing.join("; "));
    };
    if !missing.is_empty() {
        return (false, missing.join("; "));
    }
    let endpoint = config
        .ingress_paths
        .iter()
        .map(|p| p.endpoint.as_str())
        .chain(s.managed.get("endpoint").map(String::as_str))
        .find(|e| !e.is_empty());
    let mut message = match endpoint {
        Some(endpoint) => format!("active at {endpoint}"),
        None => "active".to_owned(),
    };
    if let Some(why) = &s.failed_deployment {
        message.push_str(&format!("; the last deployment failed: {why}"));
    }
    (true, message)
}

/// A stable digest of a spec: FNV-1a 64 of its canonical JSON (keys sorted, environment and
/// secrets sorted by name, subnets and security groups sorted, an empty command left out), as
/// 16 hex digits.
///
/// # Guarantees
/// The same digest for the same spec however it was written (key order, list order where order
/// has no meaning, `512` or `"512"`), across runs and releases of the same document format; a
/// different digest when any field changes.
pub fn spec_digest(spec: &ExpressServiceSpec) -> String {
    let mut spec = spec.clone();
    let container = &mut spec.primary_container;
    if container.command.as_ref().is_some_and(Vec::is_empty) {
        container.command = None;
    }
    container.environment.sort_by(|a, b| a.name.cmp(&b.name));
    container.secrets.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(network) = &mut spec.network {
        for ids in [&mut network.subnets, &mut network.security_groups] {
            ids.sort();
            ids.dedup();
        }
    }
    let text = match serde_json::to_value(&spec) {
        Ok(value) => sorted_keys(&value).to_string(),
        Err(_) => format!("{spec:?}"),
    };
    digest(&text)
}

/// The plan of a service of ours.
fn converge<'o>(
    key: &Key,
    s: &'o ObservedExpressService,
    desired: &DesiredExpressService<'_>,
    want_tags: &BTreeMap<String, String>,
) -> ExpressPlan<'o> {
    if s.config.is_none() {
        return KindPlan::new(key.clone(), Verb::Waiting)
            .because("waiting for ECS to report the service's configuration");
    }
    let changes = differences(s, desired.spec, want_tags);
    if changes.is_empty() {
        return KindPlan::new(key.clone(), Verb::InSync);
    }
    let reconfigures = changes.iter().any(|c| c.field.group().is_some());
    let sent_already =
        desired.last_applied == Some(spec_digest(desired.spec).as_str()) && reconfigures;
    if sent_already && !is_fixed(&changes) {
        if let Some(why) = &s.failed_deployment {
            let mut reason =
                "the last update did not converge (deployment failed); retrying with backoff"
                    .to_owned();
            if !why.trim().is_empty() {
                reason.push_str(&format!(": {}", why.trim()));
            }
            return KindPlan::new(key.clone(), Verb::Blocked)
                .with_edits(changes)
                .because(reason);
        }
        if s.deploying {
            return KindPlan::new(key.clone(), Verb::Waiting)
                .with_edits(changes)
                .because("waiting for the running deployment of the last requested configuration");
        }
    }
    fixed_or(key, changes, Verb::Update).on([s])
}

/// `verb` with `changes`, unless one of them is to a field ECS takes only at creation.
fn fixed_or<'o>(key: &Key, changes: Vec<Edit<F>>, verb: Verb) -> ExpressPlan<'o> {
    if !is_fixed(&changes) {
        return KindPlan::new(key.clone(), verb).with_edits(changes);
    }
    let fixed: Vec<String> = changes
        .iter()
        .filter(|c| c.field.fixed_at_creation())
        .map(Edit::path)
        .collect();
    let reason = format!(
        "{} cannot be changed on an existing Express service; restore the value, or remove the \
         document and add one for a new service",
        fixed.join(" and ")
    );
    KindPlan::new(key.clone(), Verb::Blocked)
        .with_edits(changes)
        .because(reason)
}

fn is_fixed(changes: &[Edit<F>]) -> bool {
    changes.iter().any(|c| c.field.fixed_at_creation())
}

/// The plan of a service that does not exist: every field the document sets.
fn create<'o>(
    key: &Key,
    spec: &ExpressServiceSpec,
    want_tags: &BTreeMap<String, String>,
) -> ExpressPlan<'o> {
    let mut changes = vec![
        Edit::new(F::Cluster, None, Some(Value::String(spec.cluster.clone()))),
        Edit::new(
            F::ServiceName,
            None,
            Some(Value::String(spec.service_name.clone())),
        ),
    ];
    changes.extend(compare(
        &Shape::default(),
        &Shape::wanted(spec, &BTreeSet::new()),
    ));
    changes.extend(tag_edits(&BTreeMap::new(), want_tags, F::Tag));
    KindPlan::new(key.clone(), Verb::Create).with_edits(changes)
}

/// Every difference between a service and the document, configuration first, then tags.
fn differences(
    s: &ObservedExpressService,
    spec: &ExpressServiceSpec,
    want_tags: &BTreeMap<String, String>,
) -> Vec<Edit<F>> {
    let managed = managed_groups(s);
    let mut changes = compare(
        &Shape::observed(s, &managed),
        &Shape::wanted(spec, &managed),
    );
    let tags: BTreeMap<String, String> = s
        .tags
        .iter()
        .filter(|(k, _)| k.as_str() != ECS_MANAGED_TAG)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    changes.extend(tag_edits(&tags, want_tags, F::Tag));
    changes
}

/// The security groups ECS attached itself: those the observer found tagged as ECS-managed, and
/// any `sg-` id among the service's ECS-managed resources (by id or ARN).
fn managed_groups(s: &ObservedExpressService) -> BTreeSet<String> {
    let listed = s.managed.values().filter_map(|v| {
        let id = v.rsplit('/').next().unwrap_or(v);
        id.starts_with("sg-").then(|| id.to_owned())
    });
    s.managed_security_groups
        .iter()
        .cloned()
        .chain(listed)
        .collect()
}

/// A configuration in the one form both sides are compared in. `None` and empty collections
/// mean absent.
#[derive(Debug, Default)]
struct Shape {
    execution_role_arn: Option<String>,
    infrastructure_role_arn: Option<String>,
    task_role_arn: Option<String>,
    image: Option<String>,
    port: Option<i64>,
    command: Vec<String>,
    environment: BTreeMap<String, String>,
    secrets: BTreeMap<String, String>,
    log_group: Option<String>,
    log_stream_prefix: Option<String>,
    repository_credentials: Option<String>,
    subnets: Option<BTreeSet<String>>,
    security_groups: Option<BTreeSet<String>>,
    cpu: Option<Value>,
    memory: Option<Value>,
    cpu_architecture: Option<String>,
    health_check_path: Option<String>,
    scaling_min: Option<i64>,
    scaling_max: Option<i64>,
    scaling_metric: Option<String>,
    scaling_target: Option<Value>,
}

impl Shape {
    /// The document's side; `managed` groups are left out of the security groups.
    fn wanted(spec: &ExpressServiceSpec, managed: &BTreeSet<String>) -> Shape {
        let c = &spec.primary_container;
        let network = spec.network.as_ref();
        let scaling = spec.scaling.as_ref();
        Shape {
            execution_role_arn: text(Some(&spec.execution_role_arn)),
            infrastructure_role_arn: text(Some(&spec.infrastructure_role_arn)),
            task_role_arn: text(spec.task_role_arn.as_deref()),
            image: text(Some(&c.image)),
            port: c.port,
            command: c.command.clone().unwrap_or_default(),
            environment: c
                .environment
                .iter()
                .map(|e| (e.name.clone(), e.value.clone()))
                .collect(),
            secrets: c
                .secrets
                .iter()
                .map(|s| (s.name.clone(), s.value_from.clone()))
                .collect(),
            log_group: c.logs.as_ref().and_then(|l| text(Some(&l.log_group))),
            log_stream_prefix: c
                .logs
                .as_ref()
                .and_then(|l| text(Some(&l.log_stream_prefix))),
            repository_credentials: text(c.repository_credentials.as_deref()),
            subnets: network.and_then(|n| id_set(&n.subnets, &BTreeSet::new())),
            security_groups: network.and_then(|n| id_set(&n.security_groups, managed)),
            cpu: spec.cpu.map(|u| Value::from(u.0)),
            memory: spec.memory.map(|u| Value::from(u.0)),
            cpu_architecture: spec.cpu_architecture.map(|a| {
                match a {
                    CpuArchitecture::X86_64 => "X86_64",
                    CpuArchitecture::Arm64 => "ARM64",
                }
                .to_owned()
            }),
            health_check_path: text(spec.health_check_path.as_deref()),
            scaling_min: scaling.map(|s| s.min),
            scaling_max: scaling.map(|s| s.max),
            scaling_metric: scaling
                .and_then(|s| s.metric)
                .map(|m| m.as_aws().to_owned()),
            scaling_target: scaling.and_then(|s| s.target).map(Value::from),
        }
    }

    /// ECS's side: the newest configuration of the service; `managed` groups are left out of the
    /// security groups.
    fn observed(s: &ObservedExpressService, managed: &BTreeSet<String>) -> Shape {
        let mut shape = Shape {
            infrastructure_role_arn: text(Some(&s.infrastructure_role_arn)),
            ..Shape::default()
        };
        let Some(config) = &s.config else {
            return shape;
        };
        let c = &config.primary_container;
        let scaling = config.scaling.as_ref();
        shape.execution_role_arn = text(config.execution_role_arn.as_deref());
        shape.task_role_arn = text(config.task_role_arn.as_deref());
        shape.image = text(Some(&c.image));
        shape.port = c.port;
        shape.command = c.command.clone();
        shape.environment = c
            .environment
            .iter()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect();
        shape.secrets = c
            .secrets
            .iter()
            .map(|s| (s.name.clone(), s.value_from.clone()))
            .collect();
        shape.log_group = c.logs.as_ref().and_then(|l| text(Some(&l.log_group)));
        shape.log_stream_prefix = c
            .logs
            .as_ref()
            .and_then(|l| text(Some(&l.log_stream_prefix)));
        shape.repository_credentials = text(c.repository_credentials.as_deref());
        shape.subnets = Some(config.subnets.iter().map(|s| s.trim().to_owned()).collect());
        shape.security_groups = Some(
            config
                .security_groups
                .iter()
                .map(|g| g.trim().to_owned())
                .filter(|g| !managed.contains(g))
                .collect(),
        );
        shape.cpu = config.cpu.as_deref().map(|v| quantity(v, "vcpu"));
        shape.memory = config.memory.as_deref().map(|v| quantity(v, "gb"));
        shape.cpu_architecture = config.cpu_architecture.as_deref().and_then(enum_case);
        shape.health_check_path = text(config.health_check_path.as_deref());
        shape.scaling_min = scaling.and_then(|s| s.min);
        shape.scaling_max = scaling.and_then(|s| s.max);
        shape.scaling_metric = scaling
            .and_then(|s| s.metric.as_deref())
            .and_then(enum_case);
        shape.scaling_target = scaling.and_then(|s| s.target).map(number);
        shape
    }
}

/// The edits from `observed` to `wanted`, in the order of the document.
fn compare(observed: &Shape, wanted: &Shape) -> Vec<Edit<F>> {
    let (o, w) = (observed, wanted);
    let mut d = Diff::default();
    d.always(
        F::ExecutionRoleArn,
        string(&o.execution_role_arn),
        string(&w.execution_role_arn),
    );
    d.if_set(
        F::InfrastructureRoleArn,
        string(&o.infrastructure_role_arn),
        string(&w.infrastructure_role_arn),
    );
    d.always(
        F::TaskRoleArn,
        string(&o.task_role_arn),
        string(&w.task_role_arn),
    );
    d.always(F::Image, string(&o.image), string(&w.image));
    d.if_set(F::Port, o.port.map(Value::from), w.port.map(Value::from));
    d.always(F::Command, strings(&o.command), strings(&w.command));
    d.by_name(F::Environment, &o.environment, &w.environment);
    d.by_name(F::Secret, &o.secrets, &w.secrets);
    d.if_set(F::LogGroup, string(&o.log_group), string(&w.log_group));
    d.if_set(
        F::LogStreamPrefix,
        string(&o.log_stream_prefix),
        string(&w.log_stream_prefix),
    );
    d.always(
        F::RepositoryCredentials,
        string(&o.repository_credentials),
        string(&w.repository_credentials),
    );
    let set = |s: &Option<BTreeSet<String>>| s.as_ref().and_then(strings);
    d.if_set(F::Subnets, set(&o.subnets), set(&w.subnets));
    d.if_set(
        F::SecurityGroups,
        set(&o.security_groups),
        set(&w.security_groups),
    );
    d.if_set(F::Cpu, o.cpu.clone(), w.cpu.clone());
    d.if_set(F::Memory, o.memory.clone(), w.memory.clone());
    d.if_set(
        F::CpuArchitecture,
        string(&o.cpu_architecture),
        string(&w.cpu_architecture),
    );
    d.if_set(
        F::HealthCheckPath,
        string(&o.health_check_path),
        string(&w.health_check_path),
    );
    d.if_set(
        F::ScalingMin,
        o.scaling_min.map(Value::from),
        w.scaling_min.map(Value::from),
    );
    d.if_set(
        F::ScalingMax,
        o.scaling_max.map(Value::from),
        w.scaling_max.map(Value::from),
    );
    d.if_set(
        F::ScalingMetric,
        string(&o.scaling_metric),
        string(&w.scaling_metric),
    );
    d.if_set(
        F::ScalingTarget,
        o.scaling_target.clone(),
        w.scaling_target.clone(),
    );
    d.changes
}

#[derive(Default)]
struct Diff {
    changes: Vec<Edit<F>>,
}

impl Diff {
    /// A field ECS never fills in: compared even when the document leaves it out.
    fn always(&mut self, field: F, from: Option<Value>, to: Option<Value>) {
        if from != to {
            self.changes.push(Edit::new(field, from, to));
        }
    }

    /// A field ECS fills in when the document leaves it out: compared only when it is set.
    fn if_set(&mut self, field: F, from: Option<Value>, to: Option<Value>) {
        if to.is_some() {
            self.always(field, from, to);
        }
    }

    /// Named values (environment variables, secrets): one change per name, whatever the order.
    fn by_name(
        &mut self,
        field: fn(String) -> F,
        from: &BTreeMap<String, String>,
        to: &BTreeMap<String, String>,
    ) {
        let names: BTreeSet<&String> = from.keys().chain(to.keys()).collect();
        for name in names {
            let value = |m: &BTreeMap<String, String>| m.get(name).cloned().map(Value::String);
            self.always(field(name.clone()), value(from), value(to));
        }
    }
}

fn draining(s: &ObservedExpressService) -> bool {
    s.status == ExpressStatus::Draining
}

/// Text trimmed, empty as absent.
fn text(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn string(s: &Option<String>) -> Option<Value> {
    s.clone().map(Value::String)
}

/// A list as JSON, empty as absent.
fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> Option<Value> {
    let items: Vec<Value> = items.into_iter().cloned().map(Value::String).collect();
    (!items.is_empty()).then_some(Value::Array(items))
}

/// Subnet or security group ids as a set, without `exclude`; empty as absent.
fn id_set(ids: &[String], exclude: &BTreeSet<String>) -> Option<BTreeSet<String>> {
    let set: BTreeSet<String> = ids
        .iter()
        .map(|id| id.trim().to_owned())
        .filter(|id| !exclude.contains(id))
        .collect();
    (!set.is_empty()).then_some(set)
}

/// An enum value as AWS spells it: upper case, words joined by `_` (`average_cpu`, `AverageCpu`
/// and `AVERAGE_CPU` are all `AVERAGE_CPU`; `x86_64` is `X86_64`).
fn enum_case(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut previous_lower = false;
    for ch in s.trim().chars() {
        if ch.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = ch.is_ascii_lowercase();
        out.push(match ch {
            '-' | ' ' => '_',
            ch => ch.to_ascii_uppercase(),
        });
    }
    (!out.is_empty()).then_some(out)
}

/// CPU units or MiB as ECS returns them: `"512"`, or with a unit (`"0.5 vCPU"`, `"2 GB"`, a
/// 1,024th of which is one unit). Anything else stays text, unequal to every number.
fn quantity(s: &str, unit: &str) -> Value {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Value::from(n);
    }
    let lower = s.to_ascii_lowercase();
    if let Some(n) = lower
        .strip_suffix(unit)
        .and_then(|n| n.trim().parse::<f64>().ok())
    {
        let units = n * 1024.0;
        if units >= 0.0 && units.fract() == 0.0 && units < u32::MAX as f64 {
            return Value::from(units as u64);
        }
    }
    Value::String(s.to_owned())
}

/// A number as JSON, whole numbers as integers (so that `60.0` equals `60`).
fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{EnvVar, KEY_TAG, Kind, OWNER_TAG, SecretRef};
    use crate::observed::{
        ObservedExpressConfig, ObservedExpressContainer, ObservedExpressScaling,
        ObservedIngressPath,
    };
    use crate::plan::DocumentPlan;

    const CLUSTER_ARN: &str = "arn:aws:ecs:eu-west-1:111111111111:cluster/web";
    const EXEC_ROLE: &str = "arn:aws:iam::111111111111:role/ecsTaskExecutionRole";
    const INFRA_ROLE: &str = "arn:aws:iam::111111111111:role/ecsInfrastructureRole";
    const ECS_GROUP: &str = "sg-0ecs0managed";

    /// A document as an operator writes it: cpu as a number, environment out of order, no
    /// command, no port, no health check path, scaling without metric or target.
    fn spec() -> ExpressServiceSpec {
        serde_json::from_value(json!({
            "account": "server",
            "region": "eu-west-1",
            "cluster": "web",
            "serviceName": "checkout",
            "executionRoleArn": EXEC_ROLE,
            "infrastructureRoleArn": INFRA_ROLE,
            "primaryContainer": {
                "image": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/checkout:1.4.2",
                "environment": [
                    {"name": "LOG_LEVEL", "value": "info"},
                    {"name": "DB_HOST", "value": "db.internal"}
                ],
                "secrets": [
                    {"name": "TOKEN", "valueFrom": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:t"},
                    {"name": "API_KEY", "valueFrom": "arn:aws:ssm:eu-west-1:111111111111:parameter/k"}
                ]
            },
            "network": {
                "subnets": ["subnet-b", "subnet-a"],
                "securityGroups": ["sg-app"]
            },
            "cpu": 512,
            "memory": "1024",
            "scaling": {"min": 2, "max": 6},
            "tags": {"team": "payments"}
        }))
        .unwrap()
    }

    /// A document that sets every field.
    fn full_spec() -> ExpressServiceSpec {
        let mut spec = spec();
        spec.task_role_arn = Some("arn:aws:iam::111111111111:role/checkout".into());
        spec.cpu_architecture = Some(CpuArchitecture::Arm64);
        spec.health_check_path = Some("/healthz".into());
        spec.scaling = serde_json::from_value(
            json!({"min": 2, "max": 6, "metric": "AVERAGE_CPU", "target": 70}),
        )
        .unwrap();
        let c = &mut spec.primary_container;
        c.port = Some(8080);
        c.command = Some(vec!["serve".into(), "--fast".into()]);
        c.logs = Some(crate::model::AwsLogs {
            log_group: "/ecs/checkout".into(),
            log_stream_prefix: "web".into(),
        });
        c.repository_credentials =
            Some("arn:aws:secretsmanager:eu-west-1:111111111111:secret:registry".into());
        spec
    }

    fn key() -> Key {
        Key::new(Kind::ExpressService, "checkout")
    }

    fn ours_tags() -> BTreeMap<String, String> {
        BTreeMap::from([
            (OWNER_TAG.to_owned(), "ctl".to_owned()),
            (KEY_TAG.to_owned(), "ExpressService/checkout".to_owned()),
            ("team".to_owned(), "payments".to_owned()),
        ])
    }

    /// The service as ECS reads back `spec()`: ARNs, strings, its own order, its own security
    /// group, `command: []`, and defaults filled in for everything the document left out.
    fn converged() -> ObservedExpressService {
        ObservedExpressService {
            arn: "arn:aws:ecs:eu-west-1:111111111111:service/web/checkout".into(),
            cluster: CLUSTER_ARN.into(),
            service_name: "checkout".into(),
            status: ExpressStatus::Active,
            deploying: false,
            failed_deployment: None,
            updated_at: Some(1_760_000_000),
            infrastructure_role_arn: INFRA_ROLE.into(),
            config: Some(ObservedExpressConfig {
                service_revision_arn: "arn:aws:ecs:eu-west-1:111111111111:service-revision/web/checkout/1".into(),
                execution_role_arn: Some(EXEC_ROLE.into()),
                task_role_arn: None,
                cpu: Some("512".into()),
                memory: Some("1024".into()),
                cpu_architecture: Some("X86_64".into()),
                subnets: vec!["subnet-a".into(), "subnet-b".into()],
                security_groups: vec![ECS_GROUP.into(), "sg-app".into()],
                health_check_path: Some("/".into()),
                primary_container: ObservedExpressContainer {
                    image: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/checkout:1.4.2".into(),
                    port: Some(80),
                    command: vec![],
                    environment: vec![
                        EnvVar {
                            name: "DB_HOST".into(),
                            value: "db.internal".into(),
                        },
                        EnvVar {
                            name: "LOG_LEVEL".into(),
                            value: "info".into(),
                        },
                    ],
                    secrets: vec![
                        SecretRef {
                            name: "API_KEY".into(),
                            value_from: "arn:aws:ssm:eu-west-1:111111111111:parameter/k".into(),
                        },
                        SecretRef {
                            name: "TOKEN".into(),
                            value_from: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:t"
                                .into(),
                        },
                    ],
                    logs: Some(crate::model::AwsLogs {
                        log_group: "/aws/ecs/web/checkout".into(),
                        log_stream_prefix: "ecs".into(),
                    }),
                    repository_credentials: None,
                },
                scaling: Some(ObservedExpressScaling {
                    min: Some(2),
                    max: Some(6),
                    metric: Some("AVERAGE_CPU".into()),
                    target: Some(60.0),
                }),
                ingress_paths: vec![ObservedIngressPath {
                    access_type: "PUBLIC".into(),
                    endpoint: "ch-1234.ecs.eu-west-1.on.aws".into(),
                }],
            }),
            tags: ours_tags(),
            managed: BTreeMap::from([
                (
                    "loadBalancer".to_owned(),
                    "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/ecs-express-gateway-alb-1/abc".to_owned(),
                ),
                ("endpoint".to_owned(), "ch-1234.ecs.eu-west-1.on.aws".to_owned()),
            ]),
            managed_security_groups: BTreeSet::from([ECS_GROUP.to_owned()]),
        }
    }

    fn config(s: &mut ObservedExpressService) -> &mut ObservedExpressConfig {
        s.config.as_mut().unwrap()
    }

    fn plan_with(
        spec: &ExpressServiceSpec,
        policies: &Policies,
        last_applied: Option<&str>,
        observed: &[ObservedExpressService],
    ) -> DocumentPlan {
        plan_express(
            "ctl",
            &key(),
            Some(DesiredExpressService {
                spec,
                policies,
                last_applied,
            }),
            observed,
            &PruneGate::Allowed,
        )
        .display()
    }

    fn plan(spec: &ExpressServiceSpec, observed: &[ObservedExpressService]) -> DocumentPlan {
        plan_with(spec, &Policies::default(), None, observed)
    }

    #[test]
    fn a_missing_service_is_created_with_every_field() {
        let plan = plan(&full_spec(), &[]);
        assert_eq!(plan.verb, Verb::Create);
        assert_eq!(
            plan.drifted_fields(),
            [
                "cluster",
                "serviceName",
                "executionRoleArn",
                "infrastructureRoleArn",
                "taskRoleArn",
                "primaryContainer.image",
                "primaryContainer.port",
                "primaryContainer.command",
                "primaryContainer.environment.DB_HOST",
                "primaryContainer.environment.LOG_LEVEL",
                "primaryContainer.secrets.API_KEY",
                "primaryContainer.secrets.TOKEN",
                "primaryContainer.logs.logGroup",
                "primaryContainer.logs.logStreamPrefix",
                "primaryContainer.repositoryCredentials",
                "network.subnets",
                "network.securityGroups",
                "cpu",
                "memory",
                "cpuArchitecture",
                "healthCheckPath",
                "scaling.min",
                "scaling.max",
                "scaling.metric",
                "scaling.target",
                "tags.ecs-topology.dev/key",
                "tags.ecs-topology.dev/owner",
                "tags.team",
            ]
        );
        assert!(plan.changes.iter().all(|c| c.from.is_none()));
        let cpu = plan.changes.iter().find(|c| c.path == "cpu").unwrap();
        assert_eq!(cpu.to, Some(json!(512)));
    }

    #[test]
    fn a_converged_service_is_in_sync_however_ecs_reads_it_back() {
        // `command` absent against `[]`, cpu 512 against "512", environment and secrets in
        // another order, ECS's own security group, ECS's defaults for port, health check path,
        // architecture, logs and the scaling metric and target.
        assert_eq!(
            plan(&spec(), &[converged()]),
            DocumentPlan::new(key(), Verb::InSync)
        );
    }

    #[test]
    fn an_absent_command_matches_the_empty_list_ecs_reads_back() {
        let mut spec = spec();
        spec.primary_container.command = Some(vec![]);
        assert_eq!(plan(&spec, &[converged()]).verb, Verb::InSync);
        spec.primary_container.command = None;
        assert_eq!(plan(&spec, &[converged()]).verb, Verb::InSync);
        let mut service = converged();
        config(&mut service).primary_container.command = vec!["sh".into()];
        let plan = plan(&spec, &[service]);
        assert_eq!(plan.verb, Verb::Update);
        assert_eq!(plan.drifted_fields(), ["primaryContainer.command"]);
        assert_eq!(plan.changes[0].to, None);
    }

    #[test]
    fn cpu_and_memory_compare_as_whole_numbers_whatever_their_spelling() {
        let mut service = converged();
        config(&mut service).cpu = Some(" 0.5 vCPU".into());
        config(&mut service).memory = Some("1 GB".into());
        assert_eq!(plan(&spec(), &[service]).verb, Verb::InSync);
    }

    #[test]
    fn environment_and_secrets_compare_by_name_whatever_the_order() {
        let mut service = converged();
        config(&mut service).primary_container.environment.reverse();
        config(&mut service).primary_container.secrets.reverse();
        assert_eq!(
            plan(&spec(), std::slice::from_ref(&service)).verb,
            Verb::InSync
        );
        config(&mut service).primary_container.environment[0].value = "debug".into();
        let plan = plan(&spec(), &[service]);
        assert_eq!(
            plan.drifted_fields(),
            ["primaryContainer.environment.LOG_LEVEL"]
        );
        assert_eq!(plan.changes[0].from, Some(json!("debug")));
        assert_eq!(plan.changes[0].to, Some(json!("info")));
    }

    #[test]
    fn the_security_group_ecs_adds_is_never_drift() {
        // Known only from the service's ECS-managed resources, by ARN.
        let mut service = converged();
        service.managed_security_groups.clear();
        service.managed.insert(
            "securityGroup".into(),
            format!("arn:aws:ec2:eu-west-1:111111111111:security-group/{ECS_GROUP}"),
        );
        assert_eq!(
            plan(&spec(), std::slice::from_ref(&service)).verb,
            Verb::InSync
        );
        // A group added by hand is drift; ECS's own is still not.
        config(&mut service)
            .security_groups
            .push("sg-by-hand".into());
        let plan = plan(&spec(), &[service]);
        assert_eq!(plan.drifted_fields(), ["network.securityGroups"]);
        assert_eq!(plan.changes[0].from, Some(json!(["sg-app", "sg-by-hand"])));
        assert_eq!(plan.changes[0].to, Some(json!(["sg-app"])));
    }

    #[test]
    fn defaults_ecs_fills_in_for_absent_fields_are_never_drift() {
        let mut spec = spec();
        spec.network = None;
        spec.cpu = None;
        spec.memory = None;
        spec.scaling = None;
        let mut service = converged();
        let c = config(&mut service);
        c.cpu = Some("1024".into());
        c.memory = Some("2048".into());
        c.subnets = vec!["subnet-default-1".into(), "subnet-default-2".into()];
        c.security_groups = vec!["sg-default".into()];
        c.scaling = Some(ObservedExpressScaling {
            min: Some(1),
            max: Some(20),
            metric: Some("AVERAGE_CPU".into()),
            target: Some(60.0),
        });
        assert_eq!(plan(&spec, &[service]).verb, Verb::InSync);
    }

    #[test]
    fn enum_values_and_the_cluster_arn_compare_whatever_their_spelling() {
        let mut spec = full_spec();
        spec.cluster = CLUSTER_ARN.into();
        spec.cpu_architecture = Some(CpuArchitecture::X86_64);
        let mut service = converged();
        service.cluster = "web".into();
        let c = config(&mut service);
        c.cpu_architecture = Some("x86_64".into());
        c.scaling.as_mut().unwrap().metric = Some("average_cpu".into());
        c.scaling.as_mut().unwrap().target = Some(70.0);
        c.task_role_arn = spec.task_role_arn.clone();
        c.health_check_path = Some("/healthz".into());
        c.primary_container.port = Some(8080);
        c.primary_container.command = vec!["serve".into(), "--fast".into()];
        c.primary_container.logs = spec.primary_container.logs.clone();
        c.primary_container.repository_credentials =
            spec.primary_container.repository_credentials.clone();
        assert_eq!(
            plan(&spec, std::slice::from_ref(&service)).verb,
            Verb::InSync
        );
        config(&mut service).scaling.as_mut().unwrap().metric = Some("AverageCpu".into());
        assert_eq!(plan(&spec, &[service]).verb, Verb::InSync);
    }

    #[test]
    fn an_image_changed_by_hand_is_updated_back() {
        let mut service = converged();
        config(&mut service).primary_container.image = "nginx:latest".into();
        let plan = plan(&spec(), &[service]);
        assert_eq!(plan.verb, Verb::Update);
        assert_eq!(plan.drifted_fields(), ["primaryContainer.image"]);
        assert_eq!(plan.changes[0].from, Some(json!("nginx:latest")));
    }

    #[test]
    fn a_changed_cpu_or_scaling_maximum_is_drift() {
        let mut service = converged();
        config(&mut service).cpu = Some("1024".into());
        config(&mut service).scaling.as_mut().unwrap().max = Some(10);
        let plan = plan(&spec(), &[service]);
        assert_eq!(plan.verb, Verb::Update);
        assert_eq!(plan.drifted_fields(), ["cpu", "scaling.max"]);
        assert_eq!(plan.changes[0].from, Some(json!(1024)));
        assert_eq!(plan.changes[0].to, Some(json!(512)));
        assert_eq!(plan.changes[1].to, Some(json!(6)));
    }

    #[test]
    fn a_field_ecs_takes_only_at_creation_is_blocked_not_updated() {
        let mut service = converged();
        service.infrastructure_role_arn = "arn:aws:iam::111111111111:role/other".into();
        config(&mut service).primary_container.image = "nginx:latest".into();
        let plan = plan(&spec(), &[service]);
        assert_eq!(plan.verb, Verb::Blocked);
        assert_eq!(
            plan.drifted_fields(),
            ["infrastructureRoleArn", "primaryContainer.image"]
        );
        assert!(
            plan.reason
                .unwrap()
                .contains("infrastructureRoleArn cannot be changed")
        );
    }

    #[test]
    fn an_unowned_look_alike_is_left_alone_unless_adopted() {
        let mut service = converged();
        service.tags = BTreeMap::from([("team".to_owned(), "payments".to_owned())]);
        let plan = plan(&spec(), std::slice::from_ref(&service));
        assert_eq!(plan.verb, Verb::Blocked);
        assert!(plan.reason.unwrap().contains("not managed by ecs-topology"));
        let adopt = Policies {
            adopt: true,
            ..Policies::default()
        };
        let plan = plan_with(&spec(), &adopt, None, std::slice::from_ref(&service));
        assert_eq!(plan.verb, Verb::Adopt);
        assert_eq!(
            plan.drifted_fields(),
            ["tags.ecs-topology.dev/key", "tags.ecs-topology.dev/owner"]
        );
        service.tags.insert(OWNER_TAG.into(), "someone-else".into());
        assert_eq!(
            plan_with(&spec(), &adopt, None, &[service]).verb,
            Verb::Blocked
        );
    }

    #[test]
    fn a_removed_document_is_pruned_retained_or_held_back() {
        let service = converged();
        let prune = |observed: &[ObservedExpressService], gate: &PruneGate| {
            plan_express("ctl", &key(), None, observed, gate).display()
        };
        assert_eq!(
            prune(std::slice::from_ref(&service), &PruneGate::Allowed).verb,
            Verb::Delete
        );
        let held = PruneGate::HeldBack("the source listed no documents".into());
        assert_eq!(
            prune(std::slice::from_ref(&service), &held).verb,
            Verb::Blocked
        );
        let mut retained = service.clone();
        retained
            .tags
            .insert("ecs-topology.dev/deletion-policy".into(), "Retain".into());
        assert_eq!(prune(&[retained], &PruneGate::Allowed).verb, Verb::Retain);
        let mut draining = service.clone();
        draining.status = ExpressStatus::Draining;
        assert_eq!(prune(&[draining], &PruneGate::Allowed).verb, Verb::Waiting);
        let mut unowned = service;
        unowned.tags.clear();
        assert_eq!(prune(&[unowned], &PruneGate::Allowed).verb, Verb::InSync);
    }

    #[test]
    fn a_draining_service_of_the_same_name_makes_a_create_wait() {
        let mut old = converged();
        old.status = ExpressStatus::Draining;
        let plan = plan(&spec(), &[old]);
        assert_eq!(plan.verb, Verb::Waiting);
        assert!(
            plan.reason
                .unwrap()
                .contains("waiting for the previous service `checkout`")
        );
    }

    #[test]
    fn an_inactive_service_counts_as_absent() {
        let mut old = converged();
        old.status = ExpressStatus::Inactive;
        assert_eq!(plan(&spec(), std::slice::from_ref(&old)).verb, Verb::Create);
        assert_eq!(
            plan_express("ctl", &key(), None, &[old], &PruneGate::Allowed).verb,
            Verb::InSync
        );
    }

    #[test]
    fn a_renamed_service_is_blocked_not_created_twice() {
        let mut spec = spec();
        spec.service_name = "checkout-v2".into();
        let plan = plan(&spec, &[converged()]);
        assert_eq!(plan.verb, Verb::Blocked);
        assert!(plan.reason.unwrap().contains("cannot be renamed"));
    }

    #[test]
    fn a_failed_deployment_of_the_last_requested_spec_is_not_sent_again() {
        let mut wanted = spec();
        wanted.primary_container.image = "checkout:1.5.0".into();
        let sent = spec_digest(&wanted);
        // ECS rolled back to the previous image.
        let mut service = converged();
        service.failed_deployment = Some("tasks failed to start".into());
        let p = Policies::default();
        let plan = plan_with(&wanted, &p, Some(&sent), std::slice::from_ref(&service));
        assert_eq!(plan.verb, Verb::Blocked);
        assert_eq!(plan.drifted_fields(), ["primaryContainer.image"]);
        assert!(plan.reason.unwrap().starts_with(
            "the last update did not converge (deployment failed); retrying with backoff"
        ));
        // The caller's retry after its backoff.
        let retry = plan_with(&wanted, &p, None, std::slice::from_ref(&service));
        assert_eq!(retry.verb, Verb::Update);
        // A new spec is sent at once.
        let mut newer = wanted.clone();
        newer.primary_container.image = "checkout:1.5.1".into();
        let plan = plan_with(&newer, &p, Some(&sent), &[service]);
        assert_eq!(plan.verb, Verb::Update);
        assert_eq!(plan.drifted_fields(), ["primaryContainer.image"]);
    }

    #[test]
    fn a_running_deployment_of_the_last_requested_spec_is_waited_for() {
        let mut wanted = spec();
        wanted.memory = Some(crate::model::Units(2048));
        let sent = spec_digest(&wanted);
        let mut service = converged();
        service.deploying = true;
        let p = Policies::default();
        let plan = plan_with(&wanted, &p, Some(&sent), &[service]);
        assert_eq!(plan.verb, Verb::Waiting);
        assert_eq!(plan.drifted_fields(), ["memory"]);
    }

    #[test]
    fn a_suspended_document_reports_drift_and_changes_nothing() {
        let p = Policies {
            suspend: true,
            ..Policies::default()
        };
        let mut service = converged();
        config(&mut service).primary_container.image = "nginx:latest".into();
        let plan = plan_with(&spec(), &p, None, &[service]);
        assert_eq!(plan.verb, Verb::Suspended);
        assert_eq!(plan.drifted_fields(), ["primaryContainer.image"]);
        assert_eq!(plan_with(&spec(), &p, None, &[]).verb, Verb::Suspended);
    }

    #[test]
    fn the_spec_digest_is_stable_and_changes_with_any_field() {
        let digest = spec_digest(&spec());
        assert_eq!(digest.len(), 16);
        assert_eq!(digest, spec_digest(&spec()));
        // Written differently, meaning the same.
        let mut same = spec();
        same.cpu = serde_json::from_value(json!("512")).unwrap();
        same.primary_container.environment.reverse();
        same.primary_container.command = Some(vec![]);
        same.network.as_mut().unwrap().subnets.reverse();
        assert_eq!(spec_digest(&same), digest);
        let changes: [fn(&mut ExpressServiceSpec); 5] = [
            |s| s.primary_container.image.push('x'),
            |s| s.cpu = Some(crate::model::Units(1024)),
            |s| s.scaling.as_mut().unwrap().max = 7,
            |s| s.primary_container.environment[0].value = "debug".into(),
            |s| {
                s.tags.insert("env".into(), "prod".into());
            },
        ];
        for change in changes {
            let mut changed = spec();
            change(&mut changed);
            assert_ne!(spec_digest(&changed), digest);
        }
    }

    #[test]
    fn readiness_needs_an_active_service_with_no_deployment_running() {
        assert_eq!(
            express_ready(&converged()),
            (true, "active at ch-1234.ecs.eu-west-1.on.aws".to_owned())
        );
        let mut deploying = converged();
        deploying.deploying = true;
        assert_eq!(
            express_ready(&deploying),
            (false, "a deployment is in progress".to_owned())
        );
        let mut draining = converged();
        draining.status = ExpressStatus::Draining;
        draining.config = None;
        let (ready, message) = express_ready(&draining);
        assert!(!ready);
        assert_eq!(
            message,
            "the service is DRAINING, not ACTIVE; ECS reports no active configuration"
        );
    }
}

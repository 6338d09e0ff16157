//! An Express service configuration in one comparable form: the document's spec and the newest
//! configuration ECS reports are each brought to a [`Shape`], then compared field by field into
//! typed edits.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::ExpressField as F;
use crate::model::{CpuArchitecture, ExpressServiceSpec};
use crate::observed::ObservedExpressService;
use crate::plan::Edit;

/// A configuration in the one form both sides are compared in. `None` and empty collections
/// mean absent.
#[derive(Debug, Default)]
pub(super) struct Shape {
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
    pub(super) fn wanted(spec: &ExpressServiceSpec, managed: &BTreeSet<String>) -> Shape {
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
    pub(super) fn observed(s: &ObservedExpressService, managed: &BTreeSet<String>) -> Shape {
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
pub(super) fn compare(observed: &Shape, wanted: &Shape) -> Vec<Edit<F>> {
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

/// Text trimmed, empty as absent.
pub(super) fn text(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

pub(super) fn string(s: &Option<String>) -> Option<Value> {
    s.clone().map(Value::String)
}

/// A list as JSON, empty as absent.
pub(super) fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> Option<Value> {
    let items: Vec<Value> = items.into_iter().cloned().map(Value::String).collect();
    (!items.is_empty()).then_some(Value::Array(items))
}

/// Subnet or security group ids as a set, without `exclude`; empty as absent.
pub(super) fn id_set(ids: &[String], exclude: &BTreeSet<String>) -> Option<BTreeSet<String>> {
    let set: BTreeSet<String> = ids
        .iter()
        .map(|id| id.trim().to_owned())
        .filter(|id| !exclude.contains(id))
        .collect();
    (!set.is_empty()).then_some(set)
}

/// An enum value as AWS spells it: upper case, words joined by `_` (`average_cpu`, `AverageCpu`
/// and `AVERAGE_CPU` are all `AVERAGE_CPU`; `x86_64` is `X86_64`).
pub(super) fn enum_case(s: &str) -> Option<String> {
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
pub(super) fn quantity(s: &str, unit: &str) -> Value {
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
pub(super) fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

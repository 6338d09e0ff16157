//! Planning speed: the pure `plan_all` over a generated desired set and a synthetic observed
//! snapshot in which every document's object exists as the controller would have made it.

use std::collections::BTreeMap;
use std::time::Instant;

use ecs_topology_core::config::ControllerConfig;
use ecs_topology_core::engine::{DesiredSet, Observation, Scope, plan_all};
use ecs_topology_core::load::{SourceFile, load};
use ecs_topology_core::model::Document;
use ecs_topology_core::observed::{
    EndpointType, ExpressStatus, ObservedEndpoint, ObservedExpressConfig, ObservedExpressContainer,
    ObservedExpressScaling, ObservedExpressService, ObservedNamespace, ObservedShare,
    permission_arn,
};
use ecs_topology_core::plan::desired_tags;
use ecs_topology_core::policy::{
    default_endpoint_policy, observed_endpoint_policy, policy_document,
};
use ecs_topology_core::validate::validate;

use crate::topology::{Account, Networks, Topology};

/// The result of the planning benchmark.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanningResult {
    pub documents: usize,
    pub observed_objects: usize,
    pub runs: usize,
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    /// Verbs of the planned documents (`InSync` where the synthetic snapshot matches).
    pub verbs: BTreeMap<String, usize>,
}

/// Builds the desired set of a synthetic topology (made-up VPC ids, `accounts` × `regions`).
pub async fn desired_set(
    documents: usize,
    accounts: usize,
    regions: usize,
) -> anyhow::Result<(Topology, DesiredSet, ControllerConfig)> {
    let accounts: Vec<Account> = (0..accounts)
        .map(|i| Account {
            alias: format!("a{i:02}"),
            id: format!("{:012}", 600_000_000_000u64 + i as u64),
        })
        .collect();
    let topology = Topology::generate(documents, accounts, regions, Networks::Synthetic).await?;
    let config_text = topology.config(std::path::Path::new("/nonexistent/status"), 60, 8);
    let config = ControllerConfig::parse("bench.config.yaml", &config_text)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let files: Vec<SourceFile> = topology
        .files
        .iter()
        .map(|(name, text)| SourceFile::new(name.clone(), text.clone()))
        .collect();
    let set = validate(load(&files), &config);
    anyhow::ensure!(
        set.rejected.is_empty(),
        "generated documents rejected: {:?}",
        set.findings.iter().take(5).collect::<Vec<_>>()
    );
    let desired = DesiredSet::from_validated(set, &config);
    anyhow::ensure!(
        desired.documents.len() == documents,
        "{} of {documents} documents in the desired set",
        desired.documents.len()
    );
    Ok((topology, desired, config))
}

/// An endpoint's policy as `DescribeVpcEndpoints` returns it (parsed): the document's, or AWS's
/// default when the document has none.
fn as_aws_returns(policy: Option<&serde_json::Value>) -> serde_json::Value {
    policy.map_or_else(default_endpoint_policy, policy_document)
}

/// An observation in which every document's object exists as the controller makes it.
pub fn synthetic_observation(desired: &DesiredSet) -> Observation {
    let controller = desired.controller.as_str();
    let mut namespaces: BTreeMap<Scope, Vec<ObservedNamespace>> = BTreeMap::new();
    let mut shares: BTreeMap<Scope, Vec<ObservedShare>> = BTreeMap::new();
    let mut endpoints: BTreeMap<Scope, Vec<ObservedEndpoint>> = BTreeMap::new();
    let mut express: BTreeMap<Scope, Vec<ObservedExpressService>> = BTreeMap::new();
    let mut namespace_arns: BTreeMap<String, String> = BTreeMap::new();
    for (n, (key, d)) in desired.documents.iter().enumerate() {
        let scope = d.scope();
        if let Document::CloudMapNamespace(m) = &d.document {
            let id = format!("ns-{n:016x}");
            let arn = format!(
                "arn:aws:servicediscovery:{}:{}:namespace/{id}",
                scope.region, scope.account
            );
            namespace_arns.insert(key.name.clone(), arn.clone());
            namespaces
                .entry(scope)
                .or_default()
                .push(ObservedNamespace {
                    id,
                    arn,
                    name: m.spec.name.clone(),
                    description: m.spec.description.clone(),
                    tags: desired_tags(&m.spec.tags, controller, key, &d.policies),
                });
        }
    }
    for (n, (key, d)) in desired.documents.iter().enumerate() {
        let scope = d.scope();
        match &d.document {
            // The benchmark's document sets hold no peerings and no bindings.
            Document::CloudMapNamespace(_)
            | Document::VpcPeering(_)
            | Document::ServiceConnectBinding(_) => {}
            Document::NamespaceShare(m) => {
                let principals = m
                    .spec
                    .principals
                    .iter()
                    .map(|p| desired.aliases.get(p).cloned().unwrap_or_else(|| p.clone()))
                    .collect();
                shares
                    .entry(scope.clone())
                    .or_default()
                    .push(ObservedShare {
                        arn: format!(
                            "arn:aws:ram:{}:{}:resource-share/{n:08x}-0000-0000-0000-000000000000",
                            scope.region, scope.account
                        ),
                        name: key.name.clone(),
                        tags: desired_tags(&m.spec.tags, controller, key, &d.policies),
                        allow_external_principals: false,
                        resources: namespace_arns
                            .get(&m.spec.namespace_ref)
                            .cloned()
                            .into_iter()
                            .collect(),
                        principals,
                        permissions: ecs_topology_core::compact::Ids::from([permission_arn(
                            m.spec.permission_or_default(),
                        )]),
                    });
            }
            Document::VpcEndpointSet(m) => {
                let s = &m.spec;
                let tags = desired_tags(&s.tags, controller, key, &d.policies);
                let list = endpoints.entry(scope.clone()).or_default();
                for (i, svc) in s.interface_services.iter().enumerate() {
                    list.push(ObservedEndpoint {
                        id: format!("vpce-{n:012x}{i:05x}"),
                        vpc_id: s.vpc_id.clone(),
                        service_name: format!("com.amazonaws.{}.{svc}", scope.region),
                        endpoint_type: EndpointType::Interface,
                        state: "available".into(),
                        subnet_ids: s.subnet_ids.iter().cloned().collect(),
                        security_group_ids: s.security_group_ids.iter().cloned().collect(),
                        route_table_ids: ecs_topology_core::compact::Ids::new(),
                        private_dns_enabled: s.private_dns,
                        policy: Some(observed_endpoint_policy(as_aws_returns(s.policy.as_ref()))),
                        tags: tags.clone(),
                    });
                }
                for (i, g) in s.gateway_services.iter().enumerate() {
                    list.push(ObservedEndpoint {
                        id: format!("vpce-{n:012x}{:05x}", 100 + i),
                        vpc_id: s.vpc_id.clone(),
                        service_name: format!("com.amazonaws.{}.{}", scope.region, g.service),
                        endpoint_type: EndpointType::Gateway,
                        state: "available".into(),
                        subnet_ids: ecs_topology_core::compact::Ids::new(),
                        security_group_ids: ecs_topology_core::compact::Ids::new(),
                        route_table_ids: g.route_table_ids.iter().cloned().collect(),
                        private_dns_enabled: false,
                        policy: Some(observed_endpoint_policy(as_aws_returns(s.policy.as_ref()))),
                        tags: tags.clone(),
                    });
                }
            }
            Document::ExpressService(m) => {
                let s = &m.spec;
                let arn = format!(
                    "arn:aws:ecs:{}:{}:service/{}/{}",
                    scope.region, scope.account, s.cluster, s.service_name
                );
                let (subnets, security_groups) = s
                    .network
                    .as_ref()
                    .map(|n| (n.subnets.clone(), n.security_groups.clone()))
                    .unwrap_or_default();
                express
                    .entry(scope.clone())
                    .or_default()
                    .push(ObservedExpressService {
                        arn: arn.clone(),
                        cluster: format!(
                            "arn:aws:ecs:{}:{}:cluster/{}",
                            scope.region, scope.account, s.cluster
                        ),
                        service_name: s.service_name.clone(),
                        status: ExpressStatus::Active,
                        deploying: false,
                        failed_deployment: None,
                        updated_at: Some(1_700_000_000),
                        infrastructure_role_arn: s.infrastructure_role_arn.clone(),
                        config: Some(ObservedExpressConfig {
                            service_revision_arn: format!("{arn}/1"),
                            execution_role_arn: Some(s.execution_role_arn.clone()),
                            task_role_arn: s.task_role_arn.clone(),
                            cpu: s.cpu.map(|u| u.to_string()),
                            memory: s.memory.map(|u| u.to_string()),
                            cpu_architecture: None,
                            subnets,
                            security_groups,
                            health_check_path: s.health_check_path.clone(),
                            primary_container: ObservedExpressContainer {
                                image: s.primary_container.image.clone(),
                                port: s.primary_container.port,
                                command: s.primary_container.command.clone().unwrap_or_default(),
                                environment: s.primary_container.environment.clone(),
                                secrets: s.primary_container.secrets.clone(),
                                logs: s.primary_container.logs.clone(),
                                repository_credentials: s
                                    .primary_container
                                    .repository_credentials
                                    .clone(),
                            },
                            scaling: s.scaling.as_ref().map(|sc| ObservedExpressScaling {
                                min: Some(sc.min),
                                max: Some(sc.max),
                                metric: sc.metric.map(|m| m.as_aws().to_owned()),
                                #[allow(clippy::cast_precision_loss)]
                                target: sc.target.map(|t| t as f64),
                            }),
                            ingress_paths: Vec::new(),
                        }),
                        tags: desired_tags(&s.tags, controller, key, &d.policies),
                        managed: ecs_topology_core::compact::Tags::new(),
                        managed_security_groups: ecs_topology_core::compact::Ids::new(),
                    });
            }
        }
    }
    let mut obs = Observation::new(controller);
    for (scope, list) in namespaces {
        obs.namespaces.replace(scope, list);
    }
    for (scope, list) in shares {
        obs.shares.replace(scope, list);
    }
    for (scope, list) in endpoints {
        obs.endpoints.replace(scope, list);
    }
    for (scope, list) in express {
        obs.express.replace(scope, list);
    }
    obs
}

/// Objects of every kind the benchmark's topology has, in `observed`.
pub fn objects_in(observed: &Observation) -> usize {
    observed
        .namespaces
        .iter()
        .map(|(_, l)| l.len())
        .sum::<usize>()
        + observed.shares.iter().map(|(_, l)| l.len()).sum::<usize>()
        + observed
            .endpoints
            .iter()
            .map(|(_, l)| l.len())
            .sum::<usize>()
        + observed.express.iter().map(|(_, l)| l.len()).sum::<usize>()
}

/// Times `plan_all` for `documents` documents (median of `runs`), on the calling thread.
pub async fn bench_planning(
    documents: usize,
    accounts: usize,
    regions: usize,
    runs: usize,
) -> anyhow::Result<PlanningResult> {
    let (_, desired, config) = desired_set(documents, accounts, regions).await?;
    let observed = synthetic_observation(&desired);
    let observed_objects = objects_in(&observed);
    let mut verbs = BTreeMap::new();
    let mut times = Vec::with_capacity(runs);
    for run in 0..runs.max(1) {
        let started = Instant::now();
        let planned = plan_all(&desired, &observed, &config.prune, &BTreeMap::new());
        times.push(started.elapsed().as_secs_f64() * 1e3);
        if run == 0 {
            for p in &planned {
                *verbs.entry(format!("{:?}", p.plan.verb)).or_insert(0) += 1;
            }
        }
        drop(planned);
    }
    times.sort_by(f64::total_cmp);
    Ok(PlanningResult {
        documents,
        observed_objects,
        runs: times.len(),
        median_ms: times[times.len() / 2],
        min_ms: times[0],
        max_ms: times[times.len() - 1],
        verbs,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use ecs_topology_core::engine::{orphans, owned, plan_key};
    use ecs_topology_core::model::{KEY_TAG, OWNER_TAG};
    use ecs_topology_core::plan::Verb;
    use ecs_topology_core::prune::prune_gate;

    use ecs_topology_core::engine::Objects;
    use ecs_topology_core::observed::Tagged;

    use super::*;

    /// Applies `f` to the objects of every scope.
    fn each<T: Tagged + Clone>(objects: &mut Objects<T>, mut f: impl FnMut(&mut Vec<T>)) {
        let scopes: Vec<(Scope, Vec<T>)> = objects
            .iter()
            .map(|(scope, list)| (scope.clone(), list.to_vec()))
            .collect();
        for (scope, mut list) in scopes {
            f(&mut list);
            objects.replace(scope, list);
        }
    }

    /// Drifts, removals, strangers, look-alikes and an orphan across the snapshot, so that every
    /// branch of the plans that looks up a document's own objects (or falls back to the others of
    /// its scope) is taken.
    fn perturb(observed: &mut Observation, controller: &str) {
        each(&mut observed.namespaces, |list| {
            let mut look_alikes = Vec::new();
            for (i, ns) in list.iter_mut().enumerate() {
                match i % 5 {
                    1 => ns.description = Some("changed by hand".into()),
                    2 => {
                        ns.tags.insert(OWNER_TAG, "someone-else");
                    }
                    3 => {
                        // The document's namespace is gone; an unowned one has its name.
                        let mut other = ns.clone();
                        other.id.push_str("-other");
                        other.arn.push_str("-other");
                        other.tags.clear();
                        look_alikes.push(other);
                        ns.tags.remove(KEY_TAG);
                        ns.name.push_str(".renamed");
                    }
                    _ => {}
                }
            }
            list.extend(look_alikes);
        });
        each(&mut observed.shares, |list| {
            for (i, share) in list.iter_mut().enumerate() {
                if i % 3 == 1 {
                    share.principals.clear();
                }
            }
        });
        each(&mut observed.endpoints, |list| {
            let mut kept = Vec::new();
            for (i, mut ep) in std::mem::take(list).into_iter().enumerate() {
                match i % 7 {
                    // Missing: the set creates it, or adopts/blocks on an unowned twin.
                    1 => {}
                    2 => {
                        ep.tags.clear();
                        kept.push(ep);
                    }
                    3 => {
                        ep.state = "deleting".into();
                        kept.push(ep);
                    }
                    4 => {
                        ep.private_dns_enabled = !ep.private_dns_enabled;
                        kept.push(ep);
                    }
                    _ => kept.push(ep),
                }
            }
            *list = kept;
        });
        each(&mut observed.express, |list| {
            for (i, s) in list.iter_mut().enumerate() {
                match i % 4 {
                    1 => s.status = ExpressStatus::Draining,
                    2 => s.status = ExpressStatus::Inactive,
                    _ => {}
                }
            }
        });
        let (scope, first) = observed.namespaces.iter().next().unwrap();
        let (scope, mut list) = (scope.clone(), first.to_vec());
        let mut orphan = list[0].clone();
        orphan.id = "ns-orphan".into();
        orphan.arn.push_str("-orphan");
        orphan.name = "orphan.bench.internal".into();
        orphan.tags = ecs_topology_core::compact::Tags::from([
            (OWNER_TAG.to_owned(), controller.to_owned()),
            (KEY_TAG.to_owned(), "CloudMapNamespace/removed".to_owned()),
        ]);
        list.push(orphan);
        observed.namespaces.replace(scope, list);
    }

    #[tokio::test]
    async fn a_pass_plans_each_key_as_planning_it_alone_does() {
        let (_, desired, config) = desired_set(400, 3, 2).await.unwrap();
        let mut observed = synthetic_observation(&desired);
        perturb(&mut observed, &desired.controller);

        let all = plan_all(&desired, &observed, &config.prune, &BTreeMap::new());
        let orphans = orphans(&desired, &observed);
        let gate = prune_gate(&config.prune, desired.health, owned(&desired, &observed));
        assert_eq!(all.len(), desired.documents.len() + orphans.len());
        assert_eq!(orphans.len(), 1);
        let mut verbs = std::collections::BTreeSet::new();
        for p in &all {
            let key = &p.plan.key;
            let alone = plan_key(&desired, &observed, key, orphans.get(key), &gate, None);
            assert_eq!(alone.plan, p.plan, "{key}");
            assert_eq!(alone.scope, p.scope, "{key}");
            verbs.insert(p.plan.verb);
        }
        for verb in [
            Verb::InSync,
            Verb::Create,
            Verb::Update,
            Verb::Blocked,
            Verb::Waiting,
            Verb::Delete,
        ] {
            assert!(verbs.contains(&verb), "no {verb:?} among {verbs:?}");
        }
    }
}

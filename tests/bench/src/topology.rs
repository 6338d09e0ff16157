//! The topology generator: N documents of the four kinds over A accounts and R regions, the
//! network they need, the document files and the controller config.
//!
//! # The mix
//! Of N documents, 40 % are `CloudMapNamespace`, 30 % `NamespaceShare` (share *i* shares
//! namespace *i* with the next account), 20 % `VpcEndpointSet` (each with three interface
//! endpoints, `ecs-agent`, `ecs-telemetry`, `ecs`, and one `s3` gateway endpoint, so four
//! endpoints a set, each set in a VPC of its own) and the rest `ExpressService` (all Express
//! services of an account and region share one VPC, hence one ECS-managed load balancer, in the
//! `default` cluster). Document *i* of a kind lives in scope `i mod (A × R)`, scopes being the
//! (account, region) pairs, so every kind is spread evenly.
//!
//! Cloud Map's quota of 50 namespaces per account and region is not enforced by the emulator:
//! at 10,000 documents over 20 scopes a scope holds 200 namespaces, which real AWS would refuse
//! without a quota increase.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use ecs_topology_testkit::Emulator;
use ecs_topology_testkit::network::{endpoint_vpc, route_table};

/// The regions scopes are drawn from, in order.
pub const REGIONS: [&str; 6] = [
    "ap-northeast-1",
    "eu-west-1",
    "us-east-1",
    "us-west-2",
    "eu-central-1",
    "ap-southeast-2",
];

/// Interface endpoints of every endpoint set.
pub const INTERFACE_SERVICES: [&str; 3] = ["ecs-agent", "ecs-telemetry", "ecs"];
/// Gateway endpoints of every endpoint set.
pub const GATEWAY_SERVICES: [&str; 1] = ["s3"];

/// How many documents of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mix {
    pub namespaces: usize,
    pub shares: usize,
    pub endpoint_sets: usize,
    pub express_services: usize,
}

impl Mix {
    /// 40 % namespaces, 30 % shares, 20 % endpoint sets, the rest Express services.
    pub fn of(documents: usize) -> Mix {
        let namespaces = documents * 40 / 100;
        let shares = (documents * 30 / 100).min(namespaces);
        let endpoint_sets = documents * 20 / 100;
        Mix {
            namespaces,
            shares,
            endpoint_sets,
            express_services: documents - namespaces - shares - endpoint_sets,
        }
    }

    pub fn total(&self) -> usize {
        self.namespaces + self.shares + self.endpoint_sets + self.express_services
    }
}

/// An account of the topology: its alias in the config and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub alias: String,
    pub id: String,
}

/// What one (account, region) holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeCounts {
    pub namespaces: usize,
    pub shares: usize,
    pub endpoint_sets: usize,
    /// VPC endpoints (objects), four per set.
    pub endpoints: usize,
    pub express_services: usize,
    /// Express clusters named by the documents (one: `default`).
    pub express_clusters: usize,
    /// Namespaces other scopes' shares make visible here (listed with the scope's own).
    pub shared_in: usize,
}

/// A namespace document: where it lives and its Cloud Map name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceDoc {
    pub name: String,
    pub account: String,
    pub region: String,
    pub cloud_map_name: String,
    pub description: String,
}

/// A VPC prepared for documents: subnets in two zones, a route table, a security group open on
/// 443 from both subnets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Net {
    pub vpc: String,
    pub subnets: Vec<String>,
    pub route_table: String,
    pub security_group: String,
}

/// A generated topology: accounts, regions, the document files and what each scope holds.
#[derive(Debug, Clone)]
pub struct Topology {
    pub accounts: Vec<Account>,
    pub regions: Vec<String>,
    pub mix: Mix,
    /// (file name, YAML text).
    pub files: Vec<(String, String)>,
    pub scopes: BTreeMap<(String, String), ScopeCounts>,
    pub namespaces: Vec<NamespaceDoc>,
    /// Calls made to create the network, when made against an emulator.
    pub network_seconds: f64,
}

/// What `scopes` holds for `account` in `region` (zero counts the first time).
fn counts_in<'a>(
    scopes: &'a mut BTreeMap<(String, String), ScopeCounts>,
    account: &Account,
    region: &str,
) -> &'a mut ScopeCounts {
    scopes
        .entry((account.id.clone(), region.to_owned()))
        .or_default()
}

/// Where VPCs come from: real ones in the emulator, or made-up ids (planning benchmarks).
#[derive(Debug, Clone, Copy)]
pub enum Networks<'a> {
    Emulator(&'a Emulator),
    Synthetic,
}

/// Documents in one generated file, at most: well under the 1,024 documents of a YAML stream
/// that the loader (`serde-saphyr`) accepts.
pub const DOCUMENTS_PER_FILE: usize = 500;

/// The controller name of every generated config.
pub const CONTROLLER: &str = "ecs-topology-bench";

impl Topology {
    /// Generates `documents` documents over `accounts` (at least two: shares go to the next
    /// account) and the first `regions` of [`REGIONS`], creating the network in the emulator
    /// when `networks` is one.
    pub async fn generate(
        documents: usize,
        accounts: Vec<Account>,
        regions: usize,
        networks: Networks<'_>,
    ) -> anyhow::Result<Topology> {
        anyhow::ensure!(accounts.len() >= 2, "at least two accounts");
        anyhow::ensure!(
            (1..=REGIONS.len()).contains(&regions),
            "1 to {} regions",
            REGIONS.len()
        );
        let regions: Vec<String> = REGIONS[..regions].iter().map(|r| (*r).to_owned()).collect();
        let mix = Mix::of(documents);
        let scope_list: Vec<(usize, String)> = (0..accounts.len())
            .flat_map(|a| regions.iter().map(move |r| (a, r.clone())))
            .collect();
        let scope_count = scope_list.len();
        let sets_in = |s: usize| {
            (0..mix.endpoint_sets)
                .filter(|j| j % scope_count == s)
                .count()
        };

        // The network: per scope one VPC for the Express services and one per endpoint set.
        let started = std::time::Instant::now();
        let made =
            futures::future::join_all(scope_list.iter().enumerate().map(|(s, (a, region))| {
                let account = accounts[*a].id.clone();
                let region = region.clone();
                let sets = sets_in(s);
                async move {
                    let mut nets = Vec::with_capacity(sets + 1);
                    for n in 0..=sets {
                        nets.push(make_net(networks, &account, &region, s, n).await?);
                    }
                    anyhow::Ok(nets)
                }
            }))
            .await
            .into_iter()
            .collect::<anyhow::Result<Vec<Vec<Net>>>>()?;
        let network_seconds = match networks {
            Networks::Emulator(_) => started.elapsed().as_secs_f64(),
            Networks::Synthetic => 0.0,
        };

        let mut scopes: BTreeMap<(String, String), ScopeCounts> = BTreeMap::new();
        let mut texts: BTreeMap<String, String> = BTreeMap::new();
        let mut namespaces = Vec::new();
        let scope_of = |j: usize| {
            let s = j % scope_count;
            let (a, region) = &scope_list[s];
            (s, &accounts[*a], region.as_str())
        };
        // Documents per (kind, scope) so far: a file holds at most `DOCUMENTS_PER_FILE`.
        let mut written: BTreeMap<(String, usize), usize> = BTreeMap::new();
        // Appends document `j` of `kind`, named `{prefix}-{j:05}`, to `{file}-{s:03}.yaml` of its
        // scope `s` (`{file}-{s:03}-{c}.yaml` for its `c`-th further `DOCUMENTS_PER_FILE`);
        // `spec` is what its spec holds besides the scope's account and region.
        let mut add = |j: usize, (file, kind, prefix): (&str, &str, &str), spec: String| {
            let (s, account, region) = scope_of(j);
            let name = format!("{prefix}-{j:05}");
            let n = written.entry((file.to_owned(), s)).or_default();
            let chunk = *n / DOCUMENTS_PER_FILE;
            *n += 1;
            let file_name = if chunk == 0 {
                format!("{file}-{s:03}.yaml")
            } else {
                format!("{file}-{s:03}-{chunk}.yaml")
            };
            let text = texts.entry(file_name).or_default();
            if !text.is_empty() {
                text.push_str("---\n");
            }
            let _ = write!(
                text,
                "apiVersion: ecs-topology.dev/v1alpha1\nkind: {kind}\nmetadata: {{name: {name}}}\nspec:\n  account: {alias}\n  region: {region}\n{spec}",
                alias = account.alias,
            );
        };
        for j in 0..mix.namespaces {
            let (_, account, region) = scope_of(j);
            let name = format!("ns-{j:05}");
            let cloud_map_name = format!("{name}.bench.internal");
            let description = format!("Bench namespace {j}");
            counts_in(&mut scopes, account, region).namespaces += 1;
            let spec = format!(
                "  name: {cloud_map_name}\n  description: {description}\n  tags: {{team: bench}}\n"
            );
            add(j, ("namespaces", "CloudMapNamespace", "ns"), spec);
            namespaces.push(NamespaceDoc {
                name,
                account: account.id.clone(),
                region: region.to_owned(),
                cloud_map_name,
                description,
            });
        }
        for j in 0..mix.shares {
            let (s, account, region) = scope_of(j);
            let a = scope_list[s].0;
            let consumer = &accounts[(a + 1) % accounts.len()];
            counts_in(&mut scopes, account, region).shares += 1;
            counts_in(&mut scopes, consumer, region).shared_in += 1;
            let spec = format!(
                "  namespaceRef: ns-{j:05}\n  principals: [{consumer}]\n",
                consumer = consumer.alias,
            );
            add(j, ("shares", "NamespaceShare", "share"), spec);
        }
        let mut next_net = vec![1usize; scope_count];
        for j in 0..mix.endpoint_sets {
            let (s, account, region) = scope_of(j);
            let net = &made[s][next_net[s]];
            next_net[s] += 1;
            let counts = counts_in(&mut scopes, account, region);
            counts.endpoint_sets += 1;
            counts.endpoints += INTERFACE_SERVICES.len() + GATEWAY_SERVICES.len();
            let mut gateways = String::new();
            for g in GATEWAY_SERVICES {
                let _ = writeln!(
                    gateways,
                    "    - {{service: {g}, routeTableIds: [{}]}}",
                    net.route_table
                );
            }
            let spec = format!(
                "  vpcId: {vpc}\n  subnetIds: [{subnets}]\n  securityGroupIds: [{sg}]\n  privateDns: true\n  interfaceServices: [{interface}]\n  gatewayServices:\n{gateways}  tags: {{team: bench}}\n",
                vpc = net.vpc,
                subnets = net.subnets.join(", "),
                sg = net.security_group,
                interface = INTERFACE_SERVICES.join(", "),
            );
            add(j, ("endpoints", "VpcEndpointSet", "endpoints"), spec);
        }
        for j in 0..mix.express_services {
            let (s, account, region) = scope_of(j);
            let net = &made[s][0];
            let counts = counts_in(&mut scopes, account, region);
            counts.express_services += 1;
            counts.express_clusters = 1;
            let spec = format!(
                "  serviceName: web-{j:05}\n  executionRoleArn: arn:aws:iam::{id}:role/ecsTaskExecutionRole\n  infrastructureRoleArn: arn:aws:iam::{id}:role/ecsInfrastructureRoleForExpressServices\n  primaryContainer:\n    image: public.ecr.aws/example/web:1.0.{j}\n    port: 8080\n    environment:\n      - {{name: LOG_LEVEL, value: info}}\n  network:\n    subnets: [{subnets}]\n    securityGroups: [{sg}]\n  cpu: 512\n  memory: 1024\n  healthCheckPath: /healthz\n  scaling: {{min: 1, max: 4}}\n  tags: {{team: bench}}\n",
                id = account.id,
                subnets = net.subnets.join(", "),
                sg = net.security_group,
            );
            add(j, ("express", "ExpressService", "web"), spec);
        }
        Ok(Topology {
            accounts,
            regions,
            mix,
            files: texts.into_iter().collect(),
            scopes,
            namespaces,
            network_seconds,
        })
    }

    /// The controller config: every account reached by assuming `role/ecs-topology-bench` in it.
    pub fn config(&self, status_dir: &Path, poll_seconds: u64, concurrency: usize) -> String {
        let mut accounts = String::new();
        for a in &self.accounts {
            let _ = writeln!(
                accounts,
                "  {}: {{id: '{}', roleArn: 'arn:aws:iam::{}:role/ecs-topology-bench'}}",
                a.alias, a.id, a.id
            );
        }
        format!(
            "name: {CONTROLLER}\naccounts:\n{accounts}regions: [{regions}]\npollInterval: {poll_seconds}s\nresyncInterval: 30m\nconcurrency: {concurrency}\nstatus: {{directory: '{status}'}}\n",
            regions = self.regions.join(", "),
            status = status_dir.display(),
        )
    }

    /// Writes the document files below `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (name, text) in &self.files {
            std::fs::write(dir.join(name), text)?;
        }
        Ok(())
    }
}

async fn make_net(
    networks: Networks<'_>,
    account: &str,
    region: &str,
    scope: usize,
    n: usize,
) -> anyhow::Result<Net> {
    let emulator = match networks {
        Networks::Synthetic => {
            let id = scope * 10_000 + n;
            return Ok(Net {
                vpc: format!("vpc-{id:017x}"),
                subnets: vec![
                    format!("subnet-{id:013x}0001"),
                    format!("subnet-{id:013x}0002"),
                ],
                route_table: format!("rtb-{id:017x}"),
                security_group: format!("sg-{id:017x}"),
            });
        }
        Networks::Emulator(emulator) => emulator,
    };
    let ec2 = aws_sdk_ec2::Client::new(&emulator.sdk_config(account, region).await);
    // 10.<hi>.<lo*2..>.0/23 per VPC: up to 32,768 VPCs per scope without overlap.
    let (hi, lo) = (n / 128, (n % 128) * 2);
    let subnets: Vec<(String, String)> = ["a", "c"]
        .into_iter()
        .enumerate()
        .map(|(i, zone)| {
            (
                format!("10.{hi}.{lo}.{}/25", i * 128),
                format!("{region}{zone}"),
            )
        })
        .collect();
    let made = endpoint_vpc(&ec2, &format!("10.{hi}.{lo}.0/23"), &subnets).await?;
    let route_table = route_table(&ec2, &made.vpc).await?;
    Ok(Net {
        vpc: made.vpc,
        subnets: made.subnets,
        route_table,
        security_group: made.security_group,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_adds_up_and_never_shares_a_missing_namespace() {
        for n in [1, 7, 24, 1_000, 10_000] {
            let mix = Mix::of(n);
            assert_eq!(mix.total(), n);
            assert!(mix.shares <= mix.namespaces);
        }
        assert_eq!(
            Mix::of(1_000),
            Mix {
                namespaces: 400,
                shares: 300,
                endpoint_sets: 200,
                express_services: 100
            }
        );
    }
}

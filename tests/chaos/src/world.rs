//! The world a campaign runs in: fresh emulator accounts (the controller's own and three
//! targets), two regions, the network and ECS services the documents need, the documents of
//! every kind, and unowned look-alikes nobody's document owns.
//!
//! # The topology
//! A *scope* is one (target account, region): six of them. In each scope `s` of account `a`:
//! - `cells` namespaces `ns-{s}-{i}`, each shared by `share-{s}-{i}` with account `a + 1`;
//! - a VPC `10.{s}.0.0/16` (two subnets, a security group, two route tables) holding the
//!   endpoint set `vpce-{s}` (`ecs-agent`, `ecs-telemetry`, `ecs`, gateway `s3`) and the
//!   Express service `web-{s}` (cluster `default`);
//! - the ECS services `srv-{s}` (bound to `ns-{s}-0` by `bind-srv-{s}`, offering port `app`)
//!   and, in account `a + 1`, `cli-{s}` (bound to the same namespace through its share, by
//!   `bind-cli-{s}`, a client only), in the cluster `apps`.
//!
//! Each account's VPC of the first region is peered with the next account's VPC of the second
//! region (`peer-{a}`: cross-account, cross-region, routes in a route table of each side).
//!
//! # The look-alikes
//! Made with plain SDK calls before the controller first runs, and recorded (see
//! [`crate::census`]): in each scope, a namespace of the same Cloud Map name as `ns-{s}-0` in
//! the consumer account `a + 1`, a `secretsmanager` interface endpoint in the set's VPC without
//! owner tags, and an ECS service `other-{s}` in `apps` that no binding names; per account, a
//! peering without tags from the peered VPC to a VPC of its own.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use aws_sdk_ec2::types::VpcEndpointType;
use aws_sdk_ecs::types::{ContainerDefinition, PortMapping};
use ecs_topology_testkit::Emulator;
use ecs_topology_testkit::network::{endpoint_vpc, route_table};

/// The two regions of every world.
pub const REGIONS: [&str; 2] = ["ap-northeast-1", "eu-west-1"];
/// Target accounts of every world.
pub const ACCOUNTS: usize = 3;
/// The cluster of the bound ECS services.
pub const APPS: &str = "apps";
/// Interface endpoints of every endpoint set.
pub const INTERFACE: [&str; 3] = ["ecs-agent", "ecs-telemetry", "ecs"];
/// The interface endpoint an edit adds to (and removes from) a set.
pub const EXTRA_INTERFACE: &str = "logs";
/// The service of the unowned look-alike endpoint in each set's VPC.
pub const LOOKALIKE_INTERFACE: &str = "secretsmanager";

/// Prune settings that let every removed document go: campaigns that remove documents on
/// purpose, where the census then counts any object left behind as a leak.
pub const PRUNE_FREELY: &str =
    "{maxFraction: 1.0, alwaysAllow: 100, maxDeletionsPerHour: 10000, sweepInterval: 30s}";

/// One (account, region): indexes into [`World::accounts`] and [`REGIONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scope {
    pub account: usize,
    pub region: usize,
}

impl Scope {
    pub fn all() -> impl Iterator<Item = Scope> {
        (0..ACCOUNTS)
            .flat_map(|account| (0..REGIONS.len()).map(move |region| Scope { account, region }))
    }

    /// The scope's number, `0..6`.
    pub fn index(self) -> usize {
        self.account * REGIONS.len() + self.region
    }

    pub fn region(self) -> &'static str {
        REGIONS[self.region]
    }

    /// The same region of the next account: where this scope's shares go.
    pub fn consumer(self) -> Scope {
        Scope {
            account: (self.account + 1) % ACCOUNTS,
            ..self
        }
    }
}

/// A VPC prepared for documents.
#[derive(Debug, Clone)]
pub struct Net {
    pub vpc: String,
    pub cidr: String,
    pub subnets: Vec<String>,
    pub security_group: String,
    /// The route table of the set's gateway endpoint.
    pub route_table: String,
    /// The route table of the peering's routes.
    pub peer_route_table: String,
}

/// One desired document, with what the census needs to judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Doc {
    Namespace {
        scope: Scope,
        cloud_map_name: String,
        description: String,
    },
    Share {
        scope: Scope,
        namespace: String,
    },
    Endpoints {
        scope: Scope,
        interface: Vec<String>,
    },
    Express {
        scope: Scope,
        image: String,
    },
    Peering {
        requester: Scope,
        accepter: Scope,
    },
    Binding {
        scope: Scope,
        service: String,
        namespace: String,
        server: bool,
    },
}

impl Doc {
    pub fn kind(&self) -> &'static str {
        match self {
            Doc::Namespace { .. } => "CloudMapNamespace",
            Doc::Share { .. } => "NamespaceShare",
            Doc::Endpoints { .. } => "VpcEndpointSet",
            Doc::Express { .. } => "ExpressService",
            Doc::Peering { .. } => "VpcPeering",
            Doc::Binding { .. } => "ServiceConnectBinding",
        }
    }
}

/// A world: accounts, networks, documents and look-alikes.
#[derive(Debug, Clone)]
pub struct World {
    /// Where the documents, config, status and logs live.
    pub dir: PathBuf,
    /// The controller's own account: its credentials, lease table and source bucket.
    pub own: String,
    pub accounts: Vec<String>,
    /// The controller name (the owner tag).
    pub controller: String,
    pub nets: BTreeMap<Scope, Net>,
    /// The documents in force, by name.
    pub docs: BTreeMap<String, Doc>,
    /// Per account, the VPC the untagged look-alike peering goes to.
    pub lookalike_vpcs: Vec<String>,
}

impl World {
    /// A fresh world with `cells` namespaces (and shares) per scope and endpoint sets of the
    /// interface services `interface` (and the `s3` gateway), built in the emulator; the
    /// documents are written to `dir/docs`.
    pub async fn build(
        emulator: &Emulator,
        dir: &Path,
        cells: usize,
        interface: &[String],
    ) -> anyhow::Result<World> {
        anyhow::ensure!(cells >= 1, "at least one namespace per scope");
        anyhow::ensure!(
            !interface.iter().any(|i| i == LOOKALIKE_INTERFACE),
            "{LOOKALIKE_INTERFACE} is the look-alike endpoint's service: a set must not claim it"
        );
        let own = emulator.new_account();
        let accounts: Vec<String> = (0..ACCOUNTS).map(|_| emulator.new_account()).collect();
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir.join("docs"))?;
        let mut nets = BTreeMap::new();
        let made = futures::future::try_join_all(Scope::all().map(|scope| {
            let account = accounts[scope.account].clone();
            async move {
                let ec2 = ec2(emulator, &account, scope.region()).await;
                let cidr = format!("10.{}.0.0/16", scope.index());
                anyhow::Ok((
                    scope,
                    make_net(&ec2, &cidr, scope.index(), scope.region()).await?,
                ))
            }
        }))
        .await?;
        nets.extend(made);
        let mut world = World {
            dir: dir.to_owned(),
            own,
            accounts,
            controller: format!("chaos-{}", emulator.new_account()),
            nets,
            docs: BTreeMap::new(),
            lookalike_vpcs: Vec::new(),
        };
        for scope in Scope::all() {
            world.add_scope_docs(scope, cells, interface);
            world.make_services(emulator, scope).await?;
        }
        for a in 0..ACCOUNTS {
            let (requester, accepter) = peering_pair(a);
            world.docs.insert(
                format!("peer-{a}"),
                Doc::Peering {
                    requester,
                    accepter,
                },
            );
        }
        world.make_lookalikes(emulator).await?;
        world.write_docs()?;
        Ok(world)
    }

    fn add_scope_docs(&mut self, scope: Scope, cells: usize, interface: &[String]) {
        let s = scope.index();
        for i in 0..cells {
            self.docs.insert(
                format!("ns-{s}-{i}"),
                Doc::Namespace {
                    scope,
                    cloud_map_name: format!("ns-{s}-{i}.chaos.internal"),
                    description: format!("Namespace {i} of scope {s}"),
                },
            );
            self.docs.insert(
                format!("share-{s}-{i}"),
                Doc::Share {
                    scope,
                    namespace: format!("ns-{s}-{i}"),
                },
            );
        }
        let interface = interface.to_vec();
        self.docs
            .insert(format!("vpce-{s}"), Doc::Endpoints { scope, interface });
        self.docs.insert(
            format!("web-{s}"),
            Doc::Express {
                scope,
                image: format!("public.ecr.aws/example/web:{s}.0"),
            },
        );
        for (service, bound_scope, server) in [
            (format!("srv-{s}"), scope, true),
            (format!("cli-{s}"), scope.consumer(), false),
        ] {
            self.docs.insert(
                format!("bind-{service}"),
                Doc::Binding {
                    scope: bound_scope,
                    service,
                    namespace: format!("ns-{s}-0"),
                    server,
                },
            );
        }
    }

    /// The cluster `apps` of the scope's account with `srv-{s}`, and of the consumer's with
    /// `cli-{s}`; and the unbound look-alike `other-{s}`.
    async fn make_services(&self, emulator: &Emulator, scope: Scope) -> anyhow::Result<()> {
        let s = scope.index();
        for (owner, name) in [
            (scope, format!("srv-{s}")),
            (scope.consumer(), format!("cli-{s}")),
            (scope, format!("other-{s}")),
        ] {
            let ecs = ecs(emulator, &self.accounts[owner.account], owner.region()).await;
            ecs.create_cluster().cluster_name(APPS).send().await?;
            let port = PortMapping::builder()
                .container_port(8080)
                .name("app")
                .build();
            let container = ContainerDefinition::builder()
                .name("app")
                .image("public.ecr.aws/example/app:1")
                .memory(512)
                .port_mappings(port)
                .build();
            ecs.register_task_definition()
                .family(&name)
                .container_definitions(container)
                .send()
                .await?;
            ecs.create_service()
                .cluster(APPS)
                .service_name(&name)
                .task_definition(&name)
                .desired_count(1)
                .send()
                .await?;
        }
        Ok(())
    }

    async fn make_lookalikes(&mut self, emulator: &Emulator) -> anyhow::Result<()> {
        for scope in Scope::all() {
            let s = scope.index();
            let consumer = &self.accounts[scope.consumer().account];
            let cloud_map = aws_sdk_servicediscovery::Client::new(
                &emulator.sdk_config(consumer, scope.region()).await,
            );
            cloud_map
                .create_http_namespace()
                .name(format!("ns-{s}-0.chaos.internal"))
                .description("a look-alike nobody's document owns")
                .creator_request_id(format!("lookalike-{s}"))
                .send()
                .await?;
            let net = &self.nets[&scope];
            ec2(emulator, &self.accounts[scope.account], scope.region())
                .await
                .create_vpc_endpoint()
                .vpc_id(&net.vpc)
                .vpc_endpoint_type(VpcEndpointType::Interface)
                .service_name(format!(
                    "com.amazonaws.{}.{LOOKALIKE_INTERFACE}",
                    scope.region()
                ))
                .set_subnet_ids(Some(net.subnets.clone()))
                .security_group_ids(&net.security_group)
                .private_dns_enabled(false)
                .send()
                .await?;
        }
        for a in 0..ACCOUNTS {
            let (requester, _) = peering_pair(a);
            let ec2 = ec2(emulator, &self.accounts[a], requester.region()).await;
            let other = ec2
                .create_vpc()
                .cidr_block(format!("10.{}.0.0/16", 100 + a))
                .send()
                .await?
                .vpc
                .and_then(|v| v.vpc_id)
                .ok_or_else(|| anyhow!("CreateVpc: no id"))?;
            ec2.create_vpc_peering_connection()
                .vpc_id(&self.nets[&requester].vpc)
                .peer_vpc_id(&other)
                .send()
                .await?;
            self.lookalike_vpcs.push(other);
        }
        Ok(())
    }

    /// The account alias of account index `a` in the config.
    pub fn alias(a: usize) -> String {
        format!("acct{a}")
    }

    /// The YAML text of document `name`.
    pub fn yaml(&self, name: &str, doc: &Doc) -> String {
        let mut text = format!(
            "apiVersion: ecs-topology.dev/v1alpha1\nkind: {}\nmetadata: {{name: {name}}}\nspec:\n",
            doc.kind()
        );
        let at = |scope: Scope| {
            format!(
                "  account: {}\n  region: {}\n",
                Self::alias(scope.account),
                scope.region()
            )
        };
        match doc {
            Doc::Namespace {
                scope,
                cloud_map_name,
                description,
            } => {
                let _ = write!(
                    text,
                    "{}  name: {cloud_map_name}\n  description: {description}\n  tags: {{team: chaos}}\n",
                    at(*scope)
                );
            }
            Doc::Share { scope, namespace } => {
                let _ = write!(
                    text,
                    "{}  namespaceRef: {namespace}\n  principals: [{}]\n",
                    at(*scope),
                    Self::alias(scope.consumer().account)
                );
            }
            Doc::Endpoints { scope, interface } => {
                let net = &self.nets[scope];
                let _ = write!(
                    text,
                    "{}  vpcId: {}\n  subnetIds: [{}]\n  securityGroupIds: [{}]\n  privateDns: true\n  interfaceServices: [{}]\n  gatewayServices:\n    - {{service: s3, routeTableIds: [{}]}}\n  tags: {{team: chaos}}\n",
                    at(*scope),
                    net.vpc,
                    net.subnets.join(", "),
                    net.security_group,
                    interface.join(", "),
                    net.route_table
                );
            }
            Doc::Express { scope, image } => {
                let net = &self.nets[scope];
                let id = &self.accounts[scope.account];
                let _ = write!(
                    text,
                    "{}  serviceName: {name}\n  executionRoleArn: arn:aws:iam::{id}:role/ecsTaskExecutionRole\n  infrastructureRoleArn: arn:aws:iam::{id}:role/ecsInfrastructureRoleForExpressServices\n  primaryContainer: {{image: '{image}', port: 8080}}\n  network: {{subnets: [{}], securityGroups: [{}]}}\n  cpu: 512\n  memory: 1024\n  healthCheckPath: /healthz\n  scaling: {{min: 1, max: 2}}\n  tags: {{team: chaos}}\n",
                    at(*scope),
                    net.subnets.join(", "),
                    net.security_group
                );
            }
            Doc::Peering {
                requester,
                accepter,
            } => {
                let side = |scope: &Scope| {
                    let net = &self.nets[scope];
                    format!(
                        "{{account: {}, region: {}, vpcId: {}, routeTableIds: [{}]}}",
                        Self::alias(scope.account),
                        scope.region(),
                        net.vpc,
                        net.peer_route_table
                    )
                };
                let _ = write!(
                    text,
                    "  requester: {}\n  accepter: {}\n  dnsResolution: true\n  tags: {{team: chaos}}\n",
                    side(requester),
                    side(accepter)
                );
            }
            Doc::Binding {
                scope,
                service,
                namespace,
                server,
            } => {
                let services = if *server {
                    "[{portName: app, clientAliases: [{port: 80}]}]"
                } else {
                    "[]"
                };
                let _ = write!(
                    text,
                    "{}  cluster: {APPS}\n  service: {service}\n  namespaceRef: {namespace}\n  services: {services}\n",
                    at(*scope)
                );
            }
        }
        text
    }

    /// Every document as a file: (file name, text).
    pub fn files(&self) -> Vec<(String, String)> {
        self.docs
            .iter()
            .map(|(name, doc)| (file_name(name, doc), self.yaml(name, doc)))
            .collect()
    }

    pub fn docs_dir(&self) -> PathBuf {
        self.dir.join("docs")
    }

    /// Makes `dir/docs` hold exactly the documents in force (each written atomically).
    pub fn write_docs(&self) -> anyhow::Result<()> {
        let dir = self.docs_dir();
        let files = self.files();
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !files.iter().any(|(f, _)| *f == name) {
                std::fs::remove_file(entry.path())?;
            }
        }
        for (name, text) in files {
            let path = dir.join(&name);
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                let tmp = dir.join(format!(".{name}.tmp"));
                std::fs::write(&tmp, text)?;
                std::fs::rename(&tmp, &path)?;
            }
        }
        Ok(())
    }

    /// The controller config with `prune` settings (e.g. [`PRUNE_FREELY`]); `extra` is appended
    /// (e.g. a lease).
    pub fn config(&self, poll: &str, prune: &str, extra: &str) -> String {
        let mut accounts = String::new();
        for (a, id) in self.accounts.iter().enumerate() {
            let _ = writeln!(
                accounts,
                "  {}: {{id: '{id}', roleArn: 'arn:aws:iam::{id}:role/ecs-topology-chaos'}}",
                Self::alias(a)
            );
        }
        format!(
            "name: {ctl}\naccounts:\n{accounts}regions: [{regions}]\npollInterval: {poll}\nresyncInterval: 1m\nconcurrency: 8\nstatus: {{directory: '{status}'}}\nprune: {prune}\ntimeouts: {{operation: 20s, attempt: 5s}}\n{extra}",
            ctl = self.controller,
            regions = REGIONS.join(", "),
            status = self.dir.join("status").display(),
        )
    }

    /// Writes the config to `dir/config.yaml`; its path.
    pub fn write_config(&self, poll: &str, prune: &str, extra: &str) -> anyhow::Result<PathBuf> {
        let path = self.dir.join("config.yaml");
        std::fs::write(&path, self.config(poll, prune, extra))
            .with_context(|| path.display().to_string())?;
        Ok(path)
    }

    /// Every account of the world, the controller's own first.
    pub fn all_accounts(&self) -> Vec<&str> {
        std::iter::once(self.own.as_str())
            .chain(self.accounts.iter().map(String::as_str))
            .collect()
    }

    pub fn target_accounts(&self) -> Vec<&str> {
        self.accounts.iter().map(String::as_str).collect()
    }
}

/// The file of document `name`: `{Kind}-{name}.yaml`.
pub fn file_name(name: &str, doc: &Doc) -> String {
    format!("{}-{name}.yaml", doc.kind())
}

/// The requester and accepter of the peering `peer-{a}`: account `a` in the first region, the
/// next account in the second.
pub fn peering_pair(a: usize) -> (Scope, Scope) {
    (
        Scope {
            account: a,
            region: 0,
        },
        Scope {
            account: (a + 1) % ACCOUNTS,
            region: 1,
        },
    )
}

pub async fn ec2(emulator: &Emulator, account: &str, region: &str) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&emulator.sdk_config(account, region).await)
}

pub async fn ecs(emulator: &Emulator, account: &str, region: &str) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::new(&emulator.sdk_config(account, region).await)
}

/// A VPC of `cidr` (a /16) with DNS support and host names, subnets `.1.0/24` and `.2.0/24` in
/// zones a and c, two route tables and a security group open on 443 from both subnets.
async fn make_net(
    ec2: &aws_sdk_ec2::Client,
    cidr: &str,
    n: usize,
    region: &str,
) -> anyhow::Result<Net> {
    let subnets: Vec<(String, String)> = ["a", "c"]
        .into_iter()
        .enumerate()
        .map(|(i, zone)| (format!("10.{n}.{}.0/24", i + 1), format!("{region}{zone}")))
        .collect();
    let made = endpoint_vpc(ec2, cidr, &subnets).await?;
    let own_table = route_table(ec2, &made.vpc).await?;
    let peer_table = route_table(ec2, &made.vpc).await?;
    Ok(Net {
        vpc: made.vpc,
        cidr: cidr.to_owned(),
        subnets: made.subnets,
        security_group: made.security_group,
        route_table: own_table,
        peer_route_table: peer_table,
    })
}

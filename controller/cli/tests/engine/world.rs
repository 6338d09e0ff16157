//! A test world: fresh emulator accounts, a document directory, a controller config, and the
//! binary run against them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use aws_sdk_servicediscovery::types::{FilterCondition, NamespaceFilter, NamespaceFilterName};
use ecs_topology_testkit::{Calls, emulator};

pub const REGION: &str = "ap-northeast-1";

pub struct World {
    pub dir: PathBuf,
    pub server: String,
    pub client: String,
    pub controller: String,
}

impl World {
    /// Two fresh accounts (`server`, `client`) and an empty document directory.
    pub fn new() -> World {
        let server = emulator().new_account();
        let client = emulator().new_account();
        let controller = format!("ctl-{server}");
        let dir = std::env::temp_dir().join(format!("ecs-topology-e2e-{server}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        let world = World {
            dir,
            server,
            client,
            controller,
        };
        world.write_config("");
        world
    }

    /// Another world on the same accounts, run by the controller named `controller`, with its
    /// own documents and status.
    pub fn same_accounts(other: &World, controller: &str) -> World {
        let dir = other.dir.with_extension("second");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        let world = World {
            dir,
            server: other.server.clone(),
            client: other.client.clone(),
            controller: controller.to_owned(),
        };
        world.write_config("");
        world
    }

    pub fn docs(&self) -> PathBuf {
        self.dir.join("docs")
    }

    pub fn write_config(&self, extra: &str) {
        let config = format!(
            "name: {ctl}\naccounts:\n  server: {{id: '{s}', roleArn: 'arn:aws:iam::{s}:role/ecs-topology-target', externalId: x}}\n  client: {{id: '{c}', roleArn: 'arn:aws:iam::{c}:role/ecs-topology-target'}}\nregions: [{REGION}]\nstatus: {{directory: '{status}'}}\n{extra}",
            ctl = self.controller,
            s = self.server,
            c = self.client,
            status = self.dir.join("status").display(),
        );
        std::fs::write(self.dir.join("config.yaml"), config).unwrap();
    }

    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.docs().join(file), text).unwrap();
    }

    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.docs().join(file)).unwrap();
    }

    /// Runs the binary with the emulator as AWS and the controller's own credentials.
    pub fn run(&self, args: &[&str]) -> Output {
        let config = self.dir.join("config.yaml");
        let docs = self.docs();
        let mut full: Vec<&str> = args.to_vec();
        full.extend([
            "--source",
            docs.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ]);
        self.command(&full).output().unwrap()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = emulator().command(env!("CARGO_BIN_EXE_ecs-topology"), REGION);
        command.args(args).current_dir(&self.dir);
        command
    }

    pub fn apply(&self) -> (i32, String) {
        self.run_text(&["apply", "--once"])
    }

    pub fn plan(&self) -> (i32, String) {
        self.run_text(&["plan"])
    }

    /// Runs the binary; its exit code and its stdout and stderr as one text.
    fn run_text(&self, args: &[&str]) -> (i32, String) {
        let out = self.run(args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    /// Runs `plan`, asserts that it exits with `code` (0: nothing to do, 2: changes), and
    /// returns what it printed.
    #[track_caller]
    pub fn plan_exits(&self, code: i32) -> String {
        let (actual, plan) = self.plan();
        assert_eq!(actual, code, "plan exit code: {plan}");
        plan
    }

    /// Runs `apply --once`, asserts that it exits with `code`, and returns what it printed.
    #[track_caller]
    pub fn apply_exits(&self, code: i32) -> String {
        let (actual, out) = self.apply();
        assert_eq!(actual, code, "apply exit code: {out}");
        out
    }

    /// Runs `apply --once`, asserts that it exits with `code`, and returns what it printed and
    /// the calls the emulator served meanwhile.
    pub async fn apply_counted(&self, code: i32) -> (String, Calls) {
        let before = self.calls().await;
        let out = self.apply_exits(code);
        (out, self.calls().await.since(&before))
    }

    /// The JSON plan of the object `kind/name`.
    pub fn planned(&self, kind: &str, name: &str) -> serde_json::Value {
        let json = self.plan_json();
        json["plans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"]["kind"] == kind && p["key"]["name"] == name)
            .unwrap_or_else(|| panic!("no plan of {kind}/{name} in {json}"))
            .clone()
    }

    /// Asserts that the plan of the document `kind`/`name` has the verb `verb` and a reason that
    /// contains `reason`.
    pub fn assert_planned_because(&self, kind: &str, name: &str, verb: &str, reason: &str) {
        let plan = self.planned(kind, name);
        assert_eq!(plan["verb"], verb, "{plan}");
        let because = plan["reason"].as_str().unwrap_or_default();
        assert!(because.contains(reason), "{plan}");
    }

    pub fn plan_json(&self) -> serde_json::Value {
        let out = self.run(&["plan", "--output", "json"]);
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub async fn cloud_map(&self, account: &str) -> aws_sdk_servicediscovery::Client {
        aws_sdk_servicediscovery::Client::new(&emulator().sdk_config(account, REGION).await)
    }

    pub async fn ram(&self, account: &str) -> aws_sdk_ram::Client {
        aws_sdk_ram::Client::new(&emulator().sdk_config(account, REGION).await)
    }

    /// Removes the tag `key` from the server account's namespace `arn`, as another client would.
    pub async fn untag_namespace(&self, arn: &str, key: &str) {
        self.cloud_map(&self.server)
            .await
            .untag_resource()
            .resource_arn(arn)
            .tag_keys(key)
            .send()
            .await
            .unwrap();
    }

    /// The namespaces an account owns, by name, with their ids and ARNs.
    pub async fn namespaces(&self, account: &str) -> BTreeMap<String, (String, String)> {
        let filter = owner_filter("SELF");
        let mut out = BTreeMap::new();
        let client = self.cloud_map(account).await;
        let mut token = None;
        loop {
            let reply = client
                .list_namespaces()
                .filters(filter.clone())
                .set_next_token(token)
                .send()
                .await
                .unwrap();
            for ns in reply.namespaces() {
                out.insert(
                    ns.name().unwrap().to_owned(),
                    (ns.id().unwrap().to_owned(), ns.arn().unwrap().to_owned()),
                );
            }
            token = reply.next_token;
            if token.is_none() {
                return out;
            }
        }
    }

    /// ARNs of the namespaces shared with an account.
    pub async fn shared_with(&self, account: &str) -> Vec<String> {
        let reply = self
            .cloud_map(account)
            .await
            .list_namespaces()
            .filters(owner_filter("OTHER_ACCOUNTS"))
            .send()
            .await
            .unwrap();
        reply
            .namespaces()
            .iter()
            .filter_map(|n| n.arn().map(str::to_owned))
            .collect()
    }

    pub async fn calls(&self) -> Calls {
        emulator().calls().await
    }

    pub fn status(&self, key: &str) -> serde_json::Value {
        let (kind, name) = key.split_once('/').unwrap();
        let path = self
            .dir
            .join("status")
            .join(kind)
            .join(format!("{name}.json"));
        serde_json::from_str(
            &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
        .unwrap()
    }
}

/// The namespace filter on the owner: `SELF` or `OTHER_ACCOUNTS`.
pub fn owner_filter(owner: &str) -> NamespaceFilter {
    NamespaceFilter::builder()
        .name(NamespaceFilterName::ResourceOwner)
        .values(owner)
        .condition(FilterCondition::Eq)
        .build()
        .unwrap()
}

/// The EC2 filter on `name` (`vpc-id`, `tag:KEY`, ...) at `value`.
pub fn ec2_filter(name: &str, value: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name(name)
        .values(value)
        .build()
}

/// The example document `examples/{path}` with each of its made-up ids (`fixed`, which it must
/// name) replaced by the emulator's (`real`).
pub fn example_doc(path: &str, ids: &[(&str, &str)]) -> String {
    let example = std::fs::read_to_string(
        ecs_topology_testkit::workspace_root()
            .join("examples")
            .join(path),
    )
    .unwrap();
    let mut doc = example.clone();
    for (fixed, real) in ids {
        assert!(example.contains(fixed), "the example names {fixed}");
        doc = doc.replace(fixed, real);
    }
    doc
}

/// The field paths a JSON plan (see [`World::planned`]) changes, in its order.
pub fn change_paths(plan: &serde_json::Value) -> Vec<String> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts that `text` (what a command printed, a plan, a reason) contains `part`.
#[track_caller]
pub fn assert_has(text: &str, part: &str) {
    assert!(text.contains(part), "{part:?} is not in:\n{text}");
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Document metadata (for the `meta` of the `*_doc` builders) that adopts an unowned look-alike.
pub const ADOPT: &str = "  annotations: {ecs-topology.dev/adopt: \"true\"}\n";
/// Document metadata that keeps what the document made when the document is removed.
pub const RETAIN: &str = "  annotations: {ecs-topology.dev/deletion-policy: Retain}\n";
/// Document metadata that suspends the document: its drift is reported, nothing is changed.
pub const SUSPEND: &str = "  annotations: {ecs-topology.dev/suspend: \"true\"}\n";

pub fn namespace_doc(name: &str, account: &str, extra_meta: &str, description: &str) -> String {
    format!(
        "apiVersion: ecs-topology.dev/v1alpha1\nkind: CloudMapNamespace\nmetadata:\n  name: {name}\n{extra_meta}spec:\n  account: {account}\n  region: {REGION}\n  name: {name}.internal\n  description: {description}\n  tags: {{team: payments}}\n"
    )
}

pub fn share_doc(name: &str, namespace: &str, principals: &str) -> String {
    format!(
        "apiVersion: ecs-topology.dev/v1alpha1\nkind: NamespaceShare\nmetadata:\n  name: {name}\nspec:\n  account: server\n  region: {REGION}\n  namespaceRef: {namespace}\n  principals: [{principals}]\n"
    )
}

impl World {
    /// Writes `ns.yaml`, the namespace `name` of the server account, and `share.yaml`, its share
    /// `{name}-to-client` with the client account.
    pub fn write_shared_namespace(&self, name: &str, description: &str) {
        self.write("ns.yaml", &namespace_doc(name, "server", "", description));
        self.write(
            "share.yaml",
            &share_doc(&format!("{name}-to-client"), name, "client"),
        );
    }

    /// Asserts that the status of `key` (`Kind/name`) has the condition `kind` at `value`.
    #[track_caller]
    pub fn assert_condition(&self, key: &str, kind: &str, value: &str) {
        let status = self.status(key);
        assert_eq!(condition(&status, kind)["status"], value, "{status}");
    }
}

/// A world whose server account holds the namespace `name` (`{name}.internal`, in `ns.yaml`),
/// shared with the client account (in `share.yaml`) when `shared`, applied; with the
/// namespace's id and ARN.
pub async fn namespace_applied(
    name: &str,
    description: &str,
    shared: bool,
) -> (World, String, String) {
    let w = World::new();
    if shared {
        w.write_shared_namespace(name, description);
    } else {
        w.write("ns.yaml", &namespace_doc(name, "server", "", description));
    }
    w.apply_exits(0);
    let (id, arn) = w.namespaces(&w.server).await[&format!("{name}.internal")].clone();
    (w, id, arn)
}

/// Apples (`a.yaml`) and pears (`b.yaml`) converge; then `spoil` breaks `b.yaml` (and may
/// remove `a.yaml`) and plums (`c.yaml`) arrives. The next apply must fail, create plums, and
/// delete nothing while `b.yaml` cannot be used: all three namespaces stay. Returns what that
/// apply printed and the calls it made.
pub async fn spoil_pears_and_apply(w: &World, spoil: impl FnOnce()) -> (String, Calls) {
    w.write("a.yaml", &namespace_doc("apples", "server", "", "Apples"));
    w.write("b.yaml", &namespace_doc("pears", "server", "", "Pears"));
    w.apply_exits(0);
    spoil();
    w.write("c.yaml", &namespace_doc("plums", "server", "", "Plums"));
    let (out, calls) = w.apply_counted(1).await;
    assert_has(&out, "CloudMapNamespace/plums: created");
    let names: Vec<String> = w.namespaces(&w.server).await.into_keys().collect();
    assert_eq!(
        names,
        ["apples.internal", "pears.internal", "plums.internal"]
    );
    (out, calls)
}

pub fn condition<'a>(status: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    status["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} condition in {status}"))
}

/// A VPC made for endpoint sets: two private subnets in two zones, a route table and two
/// security groups, the first admitting TCP 443 from both subnets, the second (`audit`) nothing.
#[derive(Debug, Clone)]
pub struct Network {
    pub account: String,
    pub region: String,
    pub vpc: String,
    pub subnets: Vec<String>,
    pub route_table: String,
    pub security_groups: Vec<String>,
}

impl World {
    pub async fn ec2(&self, account: &str) -> aws_sdk_ec2::Client {
        self.ec2_in(account, REGION).await
    }

    pub async fn ec2_in(&self, account: &str, region: &str) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&emulator().sdk_config(account, region).await)
    }

    /// Writes a config with these accounts (alias, id; reached by assuming a role) and regions.
    pub fn write_config_with(&self, accounts: &[(&str, &str)], regions: &[&str], extra: &str) {
        let accounts: String = accounts
            .iter()
            .map(|(alias, id)| {
                format!("  {alias}: {{id: '{id}', roleArn: 'arn:aws:iam::{id}:role/ecs-topology-target'}}\n")
            })
            .collect();
        let config = format!(
            "name: {ctl}\naccounts:\n{accounts}regions: [{regions}]\nstatus: {{directory: '{status}'}}\n{extra}",
            ctl = self.controller,
            regions = regions.join(", "),
            status = self.dir.join("status").display(),
        );
        std::fs::write(self.dir.join("config.yaml"), config).unwrap();
    }

    /// A [`Network`] `10.{n}.0.0/16` in the test region; see [`World::network_in`].
    pub async fn network(&self, account: &str, n: u8, dns_hostnames: bool) -> Network {
        self.network_in(account, REGION, n, dns_hostnames).await
    }

    /// A [`Network`] `10.{n}.0.0/16` with DNS support, DNS hostnames as asked, and subnets
    /// `10.{n}.1.0/24` (zone a) and `10.{n}.2.0/24` (zone c).
    pub async fn network_in(
        &self,
        account: &str,
        region: &str,
        n: u8,
        dns_hostnames: bool,
    ) -> Network {
        use aws_sdk_ec2::types::{IpPermission, IpRange};
        let ec2 = self.ec2_in(account, region).await;
        let vpc = dns_vpc(&ec2, &format!("10.{n}.0.0/16"), dns_hostnames).await;
        let mut subnets = Vec::new();
        for (i, zone) in ["a", "c"].into_iter().enumerate() {
            let subnet = ec2
                .create_subnet()
                .vpc_id(&vpc)
                .cidr_block(format!("10.{n}.{}.0/24", i + 1))
                .availability_zone(format!("{region}{zone}"))
                .send()
                .await
                .unwrap();
            subnets.push(subnet.subnet.unwrap().subnet_id.unwrap());
        }
        let route_table = new_route_table(&ec2, &vpc).await;
        let mut security_groups = Vec::new();
        for name in ["endpoints", "audit"] {
            let id = ec2
                .create_security_group()
                .vpc_id(&vpc)
                .group_name(name)
                .description(name)
                .send()
                .await
                .unwrap()
                .group_id
                .unwrap();
            security_groups.push(id);
        }
        let https = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(443)
            .to_port(443)
            .ip_ranges(IpRange::builder().cidr_ip(format!("10.{n}.1.0/24")).build())
            .ip_ranges(IpRange::builder().cidr_ip(format!("10.{n}.2.0/24")).build())
            .build();
        ec2.authorize_security_group_ingress()
            .group_id(&security_groups[0])
            .ip_permissions(https)
            .send()
            .await
            .unwrap();
        Network {
            account: account.to_owned(),
            region: region.to_owned(),
            vpc,
            subnets,
            route_table,
            security_groups,
        }
    }

    /// The endpoints (up to a thousand, whatever their state) of `account` in `region` that
    /// `filter` admits.
    pub async fn vpc_endpoints_where(
        &self,
        account: &str,
        region: &str,
        filter: aws_sdk_ec2::types::Filter,
    ) -> Vec<aws_sdk_ec2::types::VpcEndpoint> {
        let reply = self
            .ec2_in(account, region)
            .await
            .describe_vpc_endpoints()
            .filters(filter)
            .max_results(1000)
            .send()
            .await
            .unwrap();
        reply.vpc_endpoints().to_vec()
    }

    /// The endpoints of a VPC that are not deleted, in creation order.
    pub async fn vpc_endpoints(&self, net: &Network) -> Vec<aws_sdk_ec2::types::VpcEndpoint> {
        let filter = ec2_filter("vpc-id", &net.vpc);
        let mut endpoints = self
            .vpc_endpoints_where(&net.account, &net.region, filter)
            .await;
        endpoints.retain(|e| e.state().map(|s| s.as_str()) != Some("deleted"));
        endpoints
    }

    /// The endpoint of `short` (`com.amazonaws.REGION.<short>`) in a VPC.
    pub async fn vpc_endpoint(
        &self,
        net: &Network,
        short: &str,
    ) -> aws_sdk_ec2::types::VpcEndpoint {
        let name = format!("com.amazonaws.{}.{short}", net.region);
        self.vpc_endpoints(net)
            .await
            .into_iter()
            .find(|e| e.service_name() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("no {short} endpoint in {}", net.vpc))
    }
}

/// A new VPC of `cidr` where `ec2` points, with DNS support on and DNS host names as asked; its
/// id.
pub async fn dns_vpc(ec2: &aws_sdk_ec2::Client, cidr: &str, dns_hostnames: bool) -> String {
    use aws_sdk_ec2::types::AttributeBooleanValue;
    let vpc = ec2
        .create_vpc()
        .cidr_block(cidr)
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let on = |v: bool| AttributeBooleanValue::builder().value(v).build();
    let modify = || ec2.modify_vpc_attribute().vpc_id(&vpc);
    for change in [
        modify().enable_dns_support(on(true)),
        modify().enable_dns_hostnames(on(dns_hostnames)),
    ] {
        change.send().await.unwrap();
    }
    vpc
}

/// A new route table of `vpc`; its id.
pub async fn new_route_table(ec2: &aws_sdk_ec2::Client, vpc: &str) -> String {
    ec2.create_route_table()
        .vpc_id(vpc)
        .send()
        .await
        .unwrap()
        .route_table
        .unwrap()
        .route_table_id
        .unwrap()
}

/// A `VpcEndpointSet` document over `net`, in `account` (an alias), with both security groups,
/// the tag `team: platform`; `meta` is added to the metadata and `spec` to the spec (indented
/// by two spaces).
pub fn endpoint_set_doc(
    name: &str,
    account: &str,
    net: &Network,
    interface: &[&str],
    gateway: &[&str],
    meta: &str,
    spec: &str,
) -> String {
    let gateways: String = gateway
        .iter()
        .map(|g| {
            format!(
                "    - {{service: {g}, routeTableIds: [{}]}}\n",
                net.route_table
            )
        })
        .collect();
    let gateways = if gateways.is_empty() {
        String::new()
    } else {
        format!("  gatewayServices:\n{gateways}")
    };
    format!(
        "apiVersion: ecs-topology.dev/v1alpha1\nkind: VpcEndpointSet\nmetadata:\n  name: {name}\n{meta}spec:\n  account: {account}\n  region: {region}\n  vpcId: {vpc}\n  subnetIds: [{subnets}]\n  securityGroupIds: [{groups}]\n  interfaceServices: [{interface}]\n{gateways}  tags: {{team: platform}}\n{spec}",
        region = net.region,
        vpc = net.vpc,
        subnets = net.subnets.join(", "),
        groups = net.security_groups.join(", "),
        interface = interface.join(", "),
    )
}

impl World {
    pub async fn ecs(&self, account: &str) -> aws_sdk_ecs::Client {
        self.ecs_in(account, REGION).await
    }

    /// Creates the ECS cluster `name` in `account` (the test region), as an operator would.
    pub async fn cluster(&self, account: &str, name: &str) {
        self.ecs(account)
            .await
            .create_cluster()
            .cluster_name(name)
            .send()
            .await
            .unwrap();
    }

    pub async fn ecs_in(&self, account: &str, region: &str) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&emulator().sdk_config(account, region).await)
    }

    /// The Express services of a cluster that ECS has not yet deleted, with their tags, by name.
    pub async fn express_services(
        &self,
        account: &str,
        region: &str,
        cluster: &str,
    ) -> BTreeMap<String, aws_sdk_ecs::types::Service> {
        let ecs = self.ecs_in(account, region).await;
        let Ok(list) = ecs
            .list_services()
            .cluster(cluster)
            .resource_management_type(aws_sdk_ecs::types::ResourceManagementType::Ecs)
            .max_results(100)
            .send()
            .await
        else {
            return BTreeMap::new();
        };
        if list.service_arns().is_empty() {
            return BTreeMap::new();
        }
        let reply = ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(list.service_arns().to_vec()))
            .include(aws_sdk_ecs::types::ServiceField::Tags)
            .send()
            .await
            .unwrap();
        reply
            .services()
            .iter()
            .map(|s| (s.service_name().unwrap().to_owned(), s.clone()))
            .collect()
    }

    /// The newest configuration of an Express service and the resources ECS manages for it.
    pub async fn express_config(
        &self,
        account: &str,
        region: &str,
        arn: &str,
    ) -> (
        aws_sdk_ecs::types::ExpressGatewayServiceConfiguration,
        aws_sdk_ecs::types::EcsManagedResources,
    ) {
        let ecs = self.ecs_in(account, region).await;
        let service = ecs
            .describe_express_gateway_service()
            .service_arn(arn)
            .send()
            .await
            .unwrap()
            .service
            .unwrap();
        let config = service.active_configurations()[0].clone();
        let revisions = ecs
            .describe_service_revisions()
            .service_revision_arns(config.service_revision_arn().unwrap())
            .send()
            .await
            .unwrap();
        let managed = revisions.service_revisions()[0]
            .ecs_managed_resources()
            .unwrap()
            .clone();
        (config, managed)
    }

    /// The ARN of the Express service `name` of the server account's default cluster.
    pub async fn express_arn(&self, name: &str) -> String {
        self.express_services(&self.server, REGION, "default").await[name]
            .service_arn()
            .unwrap()
            .to_owned()
    }

    /// The ARN of the load balancer ECS put in front of an Express service.
    pub async fn load_balancer_of(&self, account: &str, region: &str, arn: &str) -> String {
        let (_, managed) = self.express_config(account, region, arn).await;
        managed.ingress_paths()[0]
            .load_balancer()
            .unwrap()
            .arn()
            .unwrap()
            .to_owned()
    }
}

/// An `ExpressService` document named `name` (also its service name) in `account` (an alias), on
/// the subnets and first security group of `net`: image `checkout:1.4.2`, port 8080, one
/// environment variable, cpu 512, memory 1024, health check `/healthz`, scaling 1 to 6, the tag
/// `team: checkout`, and no `command`. `meta` is added to the metadata and `spec` to the spec
/// (indented by two spaces).
pub fn express_doc(name: &str, account: &str, net: &Network, meta: &str, spec: &str) -> String {
    format!(
        "apiVersion: ecs-topology.dev/v1alpha1\nkind: ExpressService\nmetadata:\n  name: {name}\n{meta}spec:\n  account: {account}\n  region: {region}\n  serviceName: {name}\n  executionRoleArn: arn:aws:iam::{id}:role/ecsTaskExecutionRole\n  infrastructureRoleArn: arn:aws:iam::{id}:role/ecsInfrastructureRoleForExpressServices\n  primaryContainer:\n    image: public.ecr.aws/example/checkout:1.4.2\n    port: 8080\n    environment:\n      - {{name: LOG_LEVEL, value: info}}\n  network:\n    subnets: [{subnets}]\n    securityGroups: [{group}]\n  cpu: 512\n  memory: 1024\n  healthCheckPath: /healthz\n  scaling: {{min: 1, max: 6}}\n  tags: {{team: checkout}}\n{spec}",
        region = net.region,
        id = net.account,
        subnets = net.subnets.join(", "),
        group = net.security_groups[0],
    )
}

//! The census: what the emulator holds, read with plain SDK calls in every account and region
//! of the world (never the controller's status), judged against the documents in force.
//!
//! - An object is *owned* when its `ecs-topology.dev/owner` tag names the world's controller; it
//!   belongs to the document its `ecs-topology.dev/key` tag names (a bound ECS service: its
//!   `ecs-topology.dev/service-connect` claim).
//! - *Duplicates*: live owned objects of one document beyond the one expected (per endpoint
//!   service for an endpoint set).
//! - *Leaks*: live owned objects whose document is not in force.
//! - *Not converged*: documents whose objects differ from the spec (missing, another
//!   description or image, a share the consumer does not see, a peering not active or without
//!   its routes, a service not in its namespace, an endpoint missing or not available).
//! - *Unowned changed*: the look-alikes recorded before the campaign ([`Census::lookalikes`])
//!   that changed or vanished since.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{ResourceManagementType, ServiceField};
use aws_sdk_servicediscovery::types::{FilterCondition, NamespaceFilter, NamespaceFilterName};
use ecs_topology_testkit::Emulator;
use serde::Serialize;

use crate::world::{APPS, Doc, REGIONS, World};

pub const OWNER_TAG: &str = "ecs-topology.dev/owner";
pub const KEY_TAG: &str = "ecs-topology.dev/key";
pub const CLAIM_TAG: &str = "ecs-topology.dev/service-connect";

/// One AWS object as the census reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Object {
    /// The document kind it would belong to.
    pub kind: &'static str,
    pub account: String,
    pub region: String,
    pub id: String,
    /// Which part of its document: an endpoint's service (`ecs-agent`, `s3`); empty otherwise.
    pub part: String,
    /// Not deleted, inactive, rejected or failed.
    pub live: bool,
    pub tags: BTreeMap<String, String>,
    /// What the census compares: description, image, status, namespace, ...
    pub state: BTreeMap<String, String>,
}

impl Object {
    fn owned_by(&self, controller: &str) -> Option<&str> {
        if self.tags.get(OWNER_TAG).map(String::as_str) != Some(controller) {
            return None;
        }
        self.tags
            .get(KEY_TAG)
            .or_else(|| self.tags.get(CLAIM_TAG))
            .map(String::as_str)
    }

    fn label(&self) -> String {
        let part = if self.part.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.part)
        };
        format!(
            "{} {}{part} in {}/{}",
            self.kind, self.id, self.account, self.region
        )
    }
}

/// Everything the census read.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub objects: Vec<Object>,
    /// ARNs of the namespaces shared into each (account, region).
    pub shared_in: BTreeMap<(String, String), Vec<String>>,
    /// Route table id → destination CIDR → target.
    pub routes: BTreeMap<String, BTreeMap<String, String>>,
}

/// The verdict of a census.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Census {
    pub documents: usize,
    pub owned_objects: usize,
    pub duplicates: Vec<String>,
    pub leaks: Vec<String>,
    pub not_converged: Vec<String>,
    pub unowned_changed: Vec<String>,
}

impl Census {
    /// Whether the promises held: no duplicate, no leak, no unowned object changed.
    pub fn safe(&self) -> bool {
        self.duplicates.is_empty() && self.leaks.is_empty() && self.unowned_changed.is_empty()
    }

    /// Every finding, each prefixed with what it is.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (what, list) in [
            ("duplicate", &self.duplicates),
            ("leak", &self.leaks),
            ("unowned changed", &self.unowned_changed),
            ("not converged", &self.not_converged),
        ] {
            out.extend(list.iter().map(|line| format!("{what}: {line}")));
        }
        out
    }

    pub fn converged(&self) -> bool {
        self.not_converged.is_empty()
    }

    /// One line: the counts.
    pub fn summary(&self) -> String {
        format!(
            "{} documents, {} owned objects: {} duplicates, {} leaks, {} not converged, {} unowned changed",
            self.documents,
            self.owned_objects,
            self.duplicates.len(),
            self.leaks.len(),
            self.not_converged.len(),
            self.unowned_changed.len()
        )
    }

    /// Reads the emulator and judges it; `lookalikes` as recorded by [`Census::lookalikes`].
    pub async fn take(
        emulator: &Emulator,
        world: &World,
        lookalikes: &BTreeMap<String, String>,
    ) -> anyhow::Result<Census> {
        let snapshot = read(emulator, world).await?;
        Ok(judge(world, &snapshot, lookalikes))
    }

    /// The unowned objects of the world (no owner tag, or not ours and not a bound service),
    /// each with a fingerprint of everything read about it.
    pub async fn lookalikes(
        emulator: &Emulator,
        world: &World,
    ) -> anyhow::Result<BTreeMap<String, String>> {
        Ok(unowned(world, &read(emulator, world).await?))
    }
}

fn unowned(world: &World, snapshot: &Snapshot) -> BTreeMap<String, String> {
    snapshot
        .objects
        .iter()
        .filter(|o| {
            o.tags
                .get(OWNER_TAG)
                .is_none_or(|owner| *owner != world.controller)
        })
        .filter(|o| {
            !(o.kind == "ServiceConnectBinding"
                && world.docs.contains_key(&format!("bind-{}", o.id)))
        })
        .map(|o| {
            (
                o.label(),
                format!("live={} tags={:?} state={:?}", o.live, o.tags, o.state),
            )
        })
        .collect()
}

/// Judges a snapshot against the world's documents.
pub fn judge(world: &World, snapshot: &Snapshot, lookalikes: &BTreeMap<String, String>) -> Census {
    let controller = world.controller.as_str();
    let mut by_key: BTreeMap<String, Vec<&Object>> = BTreeMap::new();
    let mut census = Census {
        documents: world.docs.len(),
        ..Census::default()
    };
    for o in snapshot.objects.iter().filter(|o| o.live) {
        let Some(key) = o.owned_by(controller) else {
            continue;
        };
        census.owned_objects += 1;
        let (kind, name) = key.split_once('/').unwrap_or((key, ""));
        if kind != o.kind || !world.docs.contains_key(name) || world.docs[name].kind() != kind {
            census.leaks.push(format!(
                "{} owned by {key}, which is not in force",
                o.label()
            ));
            continue;
        }
        by_key.entry(name.to_owned()).or_default().push(o);
    }
    for (name, objects) in &by_key {
        let mut parts: BTreeMap<&str, usize> = BTreeMap::new();
        for o in objects {
            *parts.entry(o.part.as_str()).or_default() += 1;
        }
        for (part, n) in parts.into_iter().filter(|(_, n)| *n > 1) {
            let ids: Vec<&str> = objects
                .iter()
                .filter(|o| o.part == part)
                .map(|o| o.id.as_str())
                .collect();
            census
                .duplicates
                .push(format!("{name} {part}: {n} objects {ids:?}"));
        }
    }
    let empty = Vec::new();
    for (name, doc) in &world.docs {
        let objects = by_key.get(name).unwrap_or(&empty);
        if let Err(why) = converged(world, snapshot, &by_key, doc, objects) {
            census
                .not_converged
                .push(format!("{}/{name}: {why}", doc.kind()));
        }
    }
    let now = unowned(world, snapshot);
    for (label, before) in lookalikes {
        match now.get(label) {
            None => census.unowned_changed.push(format!("{label}: gone")),
            Some(after) if after != before => census
                .unowned_changed
                .push(format!("{label}: {before} -> {after}")),
            Some(_) => {}
        }
    }
    census
}

fn converged(
    world: &World,
    snapshot: &Snapshot,
    by_key: &BTreeMap<String, Vec<&Object>>,
    doc: &Doc,
    objects: &[&Object],
) -> Result<(), String> {
    let one = || match objects {
        [o] => Ok(*o),
        _ => Err(format!("{} objects", objects.len())),
    };
    let state = |o: &Object, field: &str| o.state.get(field).cloned().unwrap_or_default();
    let namespace_arn = |namespace: &str| -> Result<String, String> {
        match by_key.get(namespace).map(Vec::as_slice) {
            Some([ns]) => Ok(ns.id.clone()),
            _ => Err(format!("its namespace {namespace} is not there")),
        }
    };
    let want = |what: &str, actual: String, expected: &str| {
        if actual == expected {
            Ok(())
        } else {
            Err(format!("{what} {actual:?}, not {expected:?}"))
        }
    };
    match doc {
        Doc::Namespace { description, .. } => {
            let o = one()?;
            want("description", state(o, "description"), description)?;
            want(
                "tag team",
                o.tags.get("team").cloned().unwrap_or_default(),
                "chaos",
            )
        }
        Doc::Share { scope, namespace } => {
            one()?;
            let arn = namespace_arn(namespace)?;
            let consumer = scope.consumer();
            let seen = snapshot.shared_in.get(&(
                world.accounts[consumer.account].clone(),
                consumer.region().to_owned(),
            ));
            if seen.is_some_and(|arns| arns.contains(&arn)) {
                Ok(())
            } else {
                Err(format!("{arn} not visible to the consumer"))
            }
        }
        Doc::Endpoints { interface, .. } => {
            let mut want_parts: Vec<&str> =
                interface.iter().map(String::as_str).chain(["s3"]).collect();
            want_parts.sort_unstable();
            let mut have: Vec<&str> = objects.iter().map(|o| o.part.as_str()).collect();
            have.sort_unstable();
            have.dedup();
            if have != want_parts {
                return Err(format!("endpoints {have:?}, not {want_parts:?}"));
            }
            match objects.iter().find(|o| state(o, "state") != "available") {
                Some(o) => Err(format!("{} is {}", o.id, state(o, "state"))),
                None => Ok(()),
            }
        }
        Doc::Express { image, .. } => {
            let o = one()?;
            want("status", state(o, "status"), "ACTIVE")?;
            want("image", state(o, "image"), image)
        }
        Doc::Peering {
            requester,
            accepter,
        } => {
            let o = one()?;
            want("status", state(o, "status"), "active")?;
            for (from, to) in [(requester, accepter), (accepter, requester)] {
                let table = &world.nets[from].peer_route_table;
                let target = snapshot
                    .routes
                    .get(table)
                    .and_then(|r| r.get(&world.nets[to].cidr));
                if target != Some(&o.id) {
                    return Err(format!(
                        "{table}: route to {} via {target:?}",
                        world.nets[to].cidr
                    ));
                }
            }
            Ok(())
        }
        Doc::Binding { namespace, .. } => {
            let o = one()?;
            let arn = namespace_arn(namespace)?;
            want("Service Connect namespace", state(o, "namespace"), &arn)?;
            want("enabled", state(o, "enabled"), "true")
        }
    }
}

/// Reads every account and region of the world.
pub async fn read(emulator: &Emulator, world: &World) -> anyhow::Result<Snapshot> {
    let scopes: Vec<(String, &str)> = world
        .accounts
        .iter()
        .flat_map(|a| REGIONS.iter().map(move |r| (a.clone(), *r)))
        .collect();
    let parts = futures::future::try_join_all(
        scopes
            .iter()
            .map(|(account, region)| read_scope(emulator, account, region)),
    )
    .await?;
    let mut snapshot = Snapshot::default();
    for part in parts {
        snapshot.objects.extend(part.objects);
        snapshot.shared_in.extend(part.shared_in);
        snapshot.routes.extend(part.routes);
    }
    Ok(snapshot)
}

fn tags<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn object(kind: &'static str, account: &str, region: &str, id: &str) -> Object {
    Object {
        kind,
        account: account.to_owned(),
        region: region.to_owned(),
        id: id.to_owned(),
        part: String::new(),
        live: true,
        tags: BTreeMap::new(),
        state: BTreeMap::new(),
    }
}

async fn read_scope(emulator: &Emulator, account: &str, region: &str) -> anyhow::Result<Snapshot> {
    let config = emulator.sdk_config(account, region).await;
    let mut out = Snapshot::default();

    // Cloud Map: the account's own namespaces with their tags, and those shared into it.
    let cloud_map = aws_sdk_servicediscovery::Client::new(&config);
    for owner in ["SELF", "OTHER_ACCOUNTS"] {
        let filter = NamespaceFilter::builder()
            .name(NamespaceFilterName::ResourceOwner)
            .values(owner)
            .condition(FilterCondition::Eq)
            .build()?;
        let mut token = None;
        loop {
            let page = cloud_map
                .list_namespaces()
                .filters(filter.clone())
                .set_next_token(token)
                .send()
                .await?;
            for ns in page.namespaces() {
                let arn = ns.arn().unwrap_or_default();
                if owner == "OTHER_ACCOUNTS" {
                    out.shared_in
                        .entry((account.to_owned(), region.to_owned()))
                        .or_default()
                        .push(arn.to_owned());
                    continue;
                }
                let listed = cloud_map
                    .list_tags_for_resource()
                    .resource_arn(arn)
                    .send()
                    .await?;
                let mut o = object("CloudMapNamespace", account, region, arn);
                o.tags = tags(listed.tags().iter().map(|t| (t.key(), t.value())));
                o.state = tags([
                    ("name", ns.name().unwrap_or_default()),
                    ("description", ns.description().unwrap_or_default()),
                ]);
                out.objects.push(o);
            }
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
    }

    // RAM: the shares the account owns.
    let ram = aws_sdk_ram::Client::new(&config);
    let mut token = None;
    loop {
        let page = ram
            .get_resource_shares()
            .resource_owner(aws_sdk_ram::types::ResourceOwner::SelfValue)
            .set_next_token(token)
            .send()
            .await?;
        for share in page.resource_shares() {
            let status = share
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            let mut o = object(
                "NamespaceShare",
                account,
                region,
                share.resource_share_arn().unwrap_or_default(),
            );
            o.live = matches!(status.as_str(), "ACTIVE" | "PENDING");
            o.tags = tags(
                share
                    .tags()
                    .iter()
                    .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())),
            );
            o.state = tags([
                ("name", share.name().unwrap_or_default()),
                ("status", status.as_str()),
            ]);
            out.objects.push(o);
        }
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }

    // EC2: endpoints, peerings, route tables.
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let endpoints = ec2
        .describe_vpc_endpoints()
        .max_results(1000)
        .send()
        .await?;
    let prefix = format!("com.amazonaws.{region}.");
    for ep in endpoints.vpc_endpoints() {
        let state = ep
            .state()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        let mut o = object(
            "VpcEndpointSet",
            account,
            region,
            ep.vpc_endpoint_id().unwrap_or_default(),
        );
        o.part = ep
            .service_name()
            .unwrap_or_default()
            .trim_start_matches(&prefix)
            .to_owned();
        o.live = !matches!(state.as_str(), "deleted" | "failed" | "rejected");
        o.tags = tags(
            ep.tags()
                .iter()
                .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())),
        );
        let mut subnets = ep.subnet_ids().to_vec();
        subnets.sort();
        o.state = tags([
            ("state", state.as_str()),
            ("vpc", ep.vpc_id().unwrap_or_default()),
            ("subnets", &subnets.join(",")),
            ("private_dns", &format!("{:?}", ep.private_dns_enabled())),
            ("policy", ep.policy_document().unwrap_or_default()),
        ]);
        out.objects.push(o);
    }
    let peerings = ec2.describe_vpc_peering_connections().send().await?;
    // The requester's view: tags are the tagging account's own.
    for pcx in peerings
        .vpc_peering_connections()
        .iter()
        .filter(|p| p.requester_vpc_info().and_then(|i| i.owner_id()) == Some(account))
    {
        let status = pcx
            .status()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default();
        let mut o = object(
            "VpcPeering",
            account,
            region,
            pcx.vpc_peering_connection_id().unwrap_or_default(),
        );
        o.live = !matches!(
            status.as_str(),
            "deleted" | "deleting" | "rejected" | "failed" | "expired"
        );
        o.tags = tags(
            pcx.tags()
                .iter()
                .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())),
        );
        let vpc = |info: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>| {
            info.map(|i| {
                format!(
                    "{}/{}",
                    i.vpc_id().unwrap_or_default(),
                    i.owner_id().unwrap_or_default()
                )
            })
            .unwrap_or_default()
        };
        o.state = tags([
            ("status", status.as_str()),
            ("requester", &vpc(pcx.requester_vpc_info())),
            ("accepter", &vpc(pcx.accepter_vpc_info())),
        ]);
        out.objects.push(o);
    }
    let tables = ec2.describe_route_tables().send().await?;
    for table in tables.route_tables() {
        let routes = table
            .routes()
            .iter()
            .filter_map(|r| {
                let target = r
                    .vpc_peering_connection_id()
                    .or(r.gateway_id())
                    .unwrap_or("?");
                Some((r.destination_cidr_block()?.to_owned(), target.to_owned()))
            })
            .collect();
        out.routes.insert(
            table.route_table_id().unwrap_or_default().to_owned(),
            routes,
        );
    }

    // ECS: Express services of `default`, services of `apps`.
    let ecs = aws_sdk_ecs::Client::new(&config);
    let express = ecs
        .list_services()
        .cluster("default")
        .resource_management_type(ResourceManagementType::Ecs)
        .max_results(100)
        .send()
        .await;
    if let Ok(list) = express
        && !list.service_arns().is_empty()
    {
        // Tags come with DescribeServices; the image with DescribeExpressGatewayService.
        let reply = ecs
            .describe_services()
            .cluster("default")
            .set_services(Some(list.service_arns().to_vec()))
            .include(ServiceField::Tags)
            .send()
            .await?;
        for service in reply.services() {
            let arn = service.service_arn().unwrap_or_default();
            let described = ecs
                .describe_express_gateway_service()
                .service_arn(arn)
                .send()
                .await?;
            let Some(express) = described.service else {
                continue;
            };
            let status = express
                .status()
                .and_then(|s| s.status_code())
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default();
            let mut o = object("ExpressService", account, region, arn);
            o.live = status != "INACTIVE";
            o.tags = tags(
                service
                    .tags()
                    .iter()
                    .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())),
            );
            let image = express
                .active_configurations()
                .first()
                .and_then(|c| c.primary_container())
                .map(|c| c.image().to_owned())
                .unwrap_or_default();
            o.state = tags([("status", status.as_str()), ("image", &image)]);
            out.objects.push(o);
        }
    }
    if let Ok(list) = ecs
        .list_services()
        .cluster(APPS)
        .max_results(100)
        .send()
        .await
        && !list.service_arns().is_empty()
    {
        let reply = ecs
            .describe_services()
            .cluster(APPS)
            .set_services(Some(list.service_arns().to_vec()))
            .include(ServiceField::Tags)
            .send()
            .await?;
        for service in reply.services() {
            let mut o = object(
                "ServiceConnectBinding",
                account,
                region,
                service.service_name().unwrap_or_default(),
            );
            o.live = service.status() != Some("INACTIVE");
            o.tags = tags(
                service
                    .tags()
                    .iter()
                    .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())),
            );
            // What the service is configured with, not how far ECS has rolled it out (a
            // deployment completes on its own).
            let primary = service
                .deployments()
                .iter()
                .find(|d| d.status() == Some("PRIMARY"));
            let config = primary.and_then(|d| d.service_connect_configuration());
            o.state = tags([
                (
                    "namespace",
                    config.and_then(|c| c.namespace()).unwrap_or_default(),
                ),
                ("enabled", &config.is_some_and(|c| c.enabled()).to_string()),
                (
                    "task_definition",
                    service.task_definition().unwrap_or_default(),
                ),
            ]);
            out.objects.push(o);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::Scope;

    #[test]
    fn an_object_belongs_to_its_key_only_under_this_controller() {
        let mut o = object("CloudMapNamespace", "1", "r", "arn");
        o.tags = tags([(OWNER_TAG, "ctl"), (KEY_TAG, "CloudMapNamespace/ns")]);
        assert_eq!(o.owned_by("ctl"), Some("CloudMapNamespace/ns"));
        assert_eq!(o.owned_by("another"), None);
        let mut service = object("ServiceConnectBinding", "1", "r", "srv");
        service.tags = tags([(OWNER_TAG, "ctl"), (CLAIM_TAG, "ServiceConnectBinding/b")]);
        assert_eq!(service.owned_by("ctl"), Some("ServiceConnectBinding/b"));
    }

    #[test]
    fn scopes_cover_three_accounts_in_two_regions() {
        assert_eq!(Scope::all().count(), 6);
        assert_eq!(
            Scope::all().map(Scope::index).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 5]
        );
    }
}

//! `sources`: the S3 source of a converged `run` daemon emptied, swapped to another prefix, made
//! unreadable, partially listed and given a burst of edits.
//!
//! The documents live in `s3://<bucket>/topology/` of the world's own account; the prune limits
//! are the defaults an operator would keep (a quarter of what the controller owns, at least
//! two). Each phase ends with a census of the documents that should be in force and the
//! `Delete*`/`Disassociate*` calls the target accounts served during it, against the deletions
//! the phase legitimately asks for (only the swap back, which removes the swapped-in prefix's
//! two namespaces).
//! - *emptied*: every object under the prefix deleted, for five polls;
//! - *swapped*: the daemon restarted on `other/`, which holds two new namespaces: they are
//!   created, nothing of `topology/` is deleted; then back on `topology/`, the two go;
//! - *unreadable*: `ListObjectsV2` and `GetObject` of the bucket's account fail (HTTP 500) for
//!   five polls while a namespace's description is edited; afterwards the edit is applied;
//! - *partially listed*: filler objects (not documents) put before the documents so that the
//!   listing takes two pages, the second holding the last two documents (a removal small
//!   enough for the prune limit), and half the `ListObjectsV2` calls failing, for eight polls
//!   and then until at least two listings failed on their second page (the emulator counts the
//!   calls that carry a continuation token apart), at most thirty polls;
//! - *burst*: twenty edits (descriptions, images) and a broken file written within seconds;
//!   afterwards the last value of every edit is applied, the broken file changes nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use ecs_topology_testkit::{Calls, Emulator};
use futures::{StreamExt as _, TryStreamExt as _};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Common, deletes, until_converged};
use crate::census::Census;
use crate::controller::Controller;
use crate::world::{Doc, REGIONS, Scope, World, file_name};

/// The prune limits of this campaign: AWS-operator defaults.
const PRUNE: &str =
    "{maxFraction: 0.25, alwaysAllow: 2, maxDeletionsPerHour: 100, sweepInterval: 30s}";
const POLL: Duration = Duration::from_secs(2);
/// The phase whose listing must fail after its first page.
const PARTIAL: &str = "partially listed";

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Phase {
    pub name: &'static str,
    /// `Delete*` / `Disassociate*` calls served in the target accounts during the phase.
    pub deletes: BTreeMap<String, u64>,
    /// The deletions the phase asks for.
    pub expected_deletes: BTreeMap<String, u64>,
    /// Faults injected on the source's calls.
    pub source_faults: u64,
    /// Of those, `ListObjectsV2` calls for a page after the first: listings that failed after
    /// their first page had been read.
    pub later_pages_failed: u64,
    pub census: Census,
}

/// Listings that must fail on their second page before the partial-listing phase ends.
const LATER_PAGES_FAILED: u64 = 2;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourcesReport {
    pub seed: u64,
    pub documents: usize,
    pub phases: Vec<Phase>,
}

impl SourcesReport {
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        for phase in &self.phases {
            if phase.name == PARTIAL && phase.later_pages_failed == 0 {
                out.push(format!(
                    "{PARTIAL}: no listing failed after its first page; the phase did not show a partial listing"
                ));
            }
            if phase.deletes != phase.expected_deletes {
                out.push(format!(
                    "{}: deleted {:?}, expected {:?}",
                    phase.name, phase.deletes, phase.expected_deletes
                ));
            }
            out.extend(
                phase
                    .census
                    .failures()
                    .into_iter()
                    .map(|f| format!("{}: {f}", phase.name)),
            );
        }
        out
    }

    pub fn summary(&self) -> String {
        let mut text = format!("sources: {} documents\n", self.documents);
        for phase in &self.phases {
            text.push_str(&format!(
                "  {:<16} deletes {:?} (expected {:?}), {} source faults ({} on a later page); census: {}\n",
                phase.name,
                phase.deletes,
                phase.expected_deletes,
                phase.source_faults,
                phase.later_pages_failed,
                phase.census.summary()
            ));
        }
        text
    }
}

/// The bucket of the world's own account and what it holds.
struct Bucket {
    s3: aws_sdk_s3::Client,
    name: String,
}

impl Bucket {
    async fn put(&self, key: &str, text: &str) -> anyhow::Result<()> {
        self.s3
            .put_object()
            .bucket(&self.name)
            .key(key)
            .body(text.as_bytes().to_vec().into())
            .send()
            .await?;
        Ok(())
    }

    /// Writes the document `name` alone (no listing: the source's reads may be failing).
    async fn put_document(&self, world: &World, prefix: &str, name: &str) -> anyhow::Result<()> {
        let doc = world
            .docs
            .get(name)
            .ok_or_else(|| anyhow::anyhow!("no document {name}"))?;
        self.put(
            &format!("{prefix}{}", file_name(name, doc)),
            &world.yaml(name, doc),
        )
        .await
    }

    async fn keys(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .s3
                .list_objects_v2()
                .bucket(&self.name)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
            token = page
                .next_continuation_token
                .filter(|_| page.is_truncated == Some(true));
            if token.is_none() {
                return Ok(keys);
            }
        }
    }

    /// Makes `prefix` hold exactly the world's documents (and the `keep`-prefixed objects).
    async fn publish(&self, world: &World, prefix: &str, keep: &str) -> anyhow::Result<()> {
        self.sync(prefix, &world.files(), keep).await
    }

    async fn empty(&self, prefix: &str) -> anyhow::Result<()> {
        self.sync(prefix, &[], "").await
    }

    /// Makes `prefix` hold exactly `files` (name, text), and the `keep`-prefixed objects.
    async fn sync(
        &self,
        prefix: &str,
        files: &[(String, String)],
        keep: &str,
    ) -> anyhow::Result<()> {
        for key in self.keys(prefix).await? {
            let name = key.trim_start_matches(prefix);
            if (keep.is_empty() || !name.starts_with(keep)) && !files.iter().any(|(f, _)| f == name)
            {
                self.s3
                    .delete_object()
                    .bucket(&self.name)
                    .key(&key)
                    .send()
                    .await?;
            }
        }
        for (file, text) in files {
            self.put(&format!("{prefix}{file}"), text).await?;
        }
        Ok(())
    }
}

/// Faults served on the own account's S3 calls.
fn source_faults(world: &World, calls: &Calls) -> u64 {
    calls
        .rows
        .iter()
        .filter(|r| r.account == world.own && r.service == "s3")
        .map(|r| r.faulted)
        .sum()
}

fn namespace(scope: Scope, name: &str, description: &str) -> Doc {
    Doc::Namespace {
        scope,
        cloud_map_name: format!("{name}.chaos.internal"),
        description: description.to_owned(),
    }
}

pub async fn run(emulator: &Emulator, common: &Common) -> anyhow::Result<SourcesReport> {
    let (mut world, lookalikes) = common.world(emulator, "sources").await?;
    let config = world.write_config("2s", PRUNE, "")?;
    let mut controller = Controller::new(emulator, &world, &common.binary, config).await?;
    let sdk = emulator.sdk_config(&world.own, REGIONS[0]).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let bucket = Bucket {
        s3,
        name: format!("chaos-{}", world.own),
    };
    let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
            REGIONS[0],
        ))
        .build();
    bucket
        .s3
        .create_bucket()
        .bucket(&bucket.name)
        .create_bucket_configuration(location)
        .send()
        .await?;
    let source = |prefix: &str| format!("s3://{}/{prefix}", bucket.name);
    let mut rng = StdRng::seed_from_u64(common.seed);
    let converge = Duration::from_secs(240);
    let mut report = SourcesReport {
        seed: common.seed,
        documents: world.docs.len(),
        phases: Vec::new(),
    };

    bucket.publish(&world, "topology/", "").await?;
    let mut daemon = controller.run(emulator, &source("topology/"), None)?;
    let mut before = emulator.calls().await;
    let census = until_converged(emulator, &world, &lookalikes, converge).await?;
    report
        .phases
        .push(phase(emulator, &world, "converged", census, &[], &mut before).await);

    // Emptied: five polls of nothing.
    bucket.empty("topology/").await?;
    tokio::time::sleep(POLL * 5).await;
    let census = Census::take(emulator, &world, &lookalikes).await?;
    bucket.publish(&world, "topology/", "").await?;
    report
        .phases
        .push(phase(emulator, &world, "emptied", census, &[], &mut before).await);

    // Swapped: another prefix with two new namespaces, then back.
    let swapped: Vec<String> = (0..2).map(|i| format!("swap-{i}")).collect();
    let mut other = World {
        docs: BTreeMap::new(),
        ..world.clone()
    };
    for (i, name) in swapped.iter().enumerate() {
        let doc = namespace(
            Scope {
                account: i,
                region: 0,
            },
            name,
            "Swapped in",
        );
        other.docs.insert(name.clone(), doc.clone());
        world.docs.insert(name.clone(), doc);
    }
    bucket.publish(&other, "other/", "").await?;
    daemon.kill();
    daemon = controller.run(emulator, &source("other/"), None)?;
    let census = until_converged(emulator, &world, &lookalikes, converge).await?;
    tokio::time::sleep(POLL * 3).await;
    report
        .phases
        .push(phase(emulator, &world, "swapped", census, &[], &mut before).await);
    daemon.kill();
    daemon = controller.run(emulator, &source("topology/"), None)?;
    for name in &swapped {
        world.docs.remove(name);
    }
    let census = until_converged(emulator, &world, &lookalikes, converge).await?;
    let census = if census.leaks.is_empty() {
        census
    } else {
        until_clean(emulator, &world, &lookalikes).await?
    };
    report.phases.push(
        phase(
            emulator,
            &world,
            "swapped back",
            census,
            &[("DeleteNamespace", 2)],
            &mut before,
        )
        .await,
    );

    // Unreadable: the source's reads fail while a description is edited.
    let unreadable =
        json!({"faults": {"http500": 1.0, "operations": ["s3:ListObjectsV2", "s3:GetObject"]}});
    emulator.set_profile(&[&world.own], unreadable).await;
    edit_description(&mut world, "ns-0-0", "Edited while unreadable");
    bucket.put_document(&world, "topology/", "ns-0-0").await?;
    tokio::time::sleep(POLL * 5).await;
    emulator.set_profile(&[&world.own], Value::Null).await;
    let census = until_converged(emulator, &world, &lookalikes, converge).await?;
    report
        .phases
        .push(phase(emulator, &world, "unreadable", census, &[], &mut before).await);

    // Partially listed: two pages, the second holding the last two documents, and half the
    // listings failing.
    let fillers = 1_000 - (world.docs.len() - 2);
    futures::stream::iter((0..fillers).map(|i| {
        let bucket = &bucket;
        async move {
            bucket
                .put(&format!("topology/0-filler-{i:04}.txt"), "not a document")
                .await
        }
    }))
    .buffer_unordered(16)
    .try_collect::<Vec<()>>()
    .await?;
    edit_description(&mut world, "ns-1-0", "Edited while partially listed");
    bucket.publish(&world, "topology/", "0-filler-").await?;
    let partial = json!({"faults": {"http500": 0.5, "operations": ["s3:ListObjectsV2"]}, "seed": common.seed});
    let listed = emulator.calls().await;
    emulator.set_profile(&[&world.own], partial).await;
    tokio::time::sleep(POLL * 8).await;
    for _ in 8..30 {
        let since = emulator.calls().await.since(&listed);
        if since.continued(&world.own, "ListObjectsV2").1 >= LATER_PAGES_FAILED {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    emulator.set_profile(&[&world.own], Value::Null).await;
    let census = until_converged(emulator, &world, &lookalikes, converge).await?;
    report
        .phases
        .push(phase(emulator, &world, PARTIAL, census, &[], &mut before).await);

    // A burst of edits and a broken file.
    bucket
        .put(
            "topology/broken.yaml",
            "apiVersion: ecs-topology.dev/v1alpha1\nkind: [unclosed\n",
        )
        .await?;
    for round in 0..20 {
        let name = burst_edit(&mut world, &mut rng, round);
        bucket.put_document(&world, "topology/", &name).await?;
        bucket
            .put(
                "topology/broken.yaml",
                "apiVersion: ecs-topology.dev/v1alpha1\nkind: [unclosed\n",
            )
            .await?;
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..300))).await;
    }
    let census = until_converged(emulator, &world, &lookalikes, converge).await?;
    report
        .phases
        .push(phase(emulator, &world, "burst", census, &[], &mut before).await);
    daemon.kill();
    report.documents = world.docs.len();
    Ok(report)
}

/// Ends a phase: the deletes and source faults since `before` (which moves on), and the census.
async fn phase(
    emulator: &Emulator,
    world: &World,
    name: &'static str,
    census: Census,
    expected: &[(&str, u64)],
    before: &mut Calls,
) -> Phase {
    let now = emulator.calls().await;
    let since = now.since(before);
    *before = now;
    Phase {
        name,
        deletes: deletes(world, &since),
        expected_deletes: expected
            .iter()
            .map(|(op, n)| ((*op).to_owned(), *n))
            .collect(),
        source_faults: source_faults(world, &since),
        later_pages_failed: since.continued(&world.own, "ListObjectsV2").1,
        census,
    }
}

/// The census once the owned objects of removed documents are gone (at most two minutes).
async fn until_clean(
    emulator: &Emulator,
    world: &World,
    lookalikes: &BTreeMap<String, String>,
) -> anyhow::Result<Census> {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let census = Census::take(emulator, world, lookalikes).await?;
        if census.leaks.is_empty() || std::time::Instant::now() > deadline {
            return Ok(census);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn edit_description(world: &mut World, name: &str, to: &str) {
    if let Some(Doc::Namespace { description, .. }) = world.docs.get_mut(name) {
        *description = to.to_owned();
    }
}

/// A namespace's description or an Express service's image, changed; the document's name.
fn burst_edit(world: &mut World, rng: &mut StdRng, round: usize) -> String {
    let names: Vec<String> = world
        .docs
        .iter()
        .filter(|(_, d)| matches!(d, Doc::Namespace { .. } | Doc::Express { .. }))
        .map(|(n, _)| n.clone())
        .collect();
    let name = names[rng.random_range(0..names.len())].clone();
    match world.docs.get_mut(&name) {
        Some(Doc::Namespace { description, .. }) => *description = format!("Burst edit {round}"),
        Some(Doc::Express { image, .. }) => *image = format!("public.ecr.aws/example/web:b{round}"),
        _ => {}
    }
    name
}

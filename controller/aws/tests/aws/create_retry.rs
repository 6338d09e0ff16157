//! A create whose reply was lost, retried after the document changed, makes no second object:
//! create tokens come from the document's key, not its revision.

use std::sync::{Arc, RwLock};

use ecs_topology_aws::{ApiBudgets, AwsCloud};
use ecs_topology_core::engine::{Daemon, Leadership, Outcome, PassView, Silent};
use ecs_topology_core::load::SourceFile;
use ecs_topology_core::model::{Key, Kind};
use ecs_topology_core::store::desired_store;
use ecs_topology_testkit::emulator;
use tokio::sync::mpsc;

use super::{WEST, World};

fn documents(team: &str) -> Vec<SourceFile> {
    vec![
        SourceFile::new(
            "ns.yaml",
            format!(
                "apiVersion: ecs-topology.dev/v1alpha1\nkind: CloudMapNamespace\nmetadata: {{name: payments}}\nspec: {{account: server, region: {WEST}, name: payments.internal}}\n"
            ),
        ),
        SourceFile::new(
            "share.yaml",
            format!(
                "apiVersion: ecs-topology.dev/v1alpha1\nkind: NamespaceShare\nmetadata: {{name: payments-to-client}}\nspec: {{account: server, region: {WEST}, namespaceRef: payments, principals: [client], tags: {{team: {team}}}}}\n"
            ),
        ),
    ]
}

/// The shares `account` owns in [`WEST`] that are not deleted.
async fn live_shares(account: &str) -> Vec<aws_sdk_ram::types::ResourceShare> {
    let ram = aws_sdk_ram::Client::new(&emulator().sdk_config(account, WEST).await);
    let reply = ram
        .get_resource_shares()
        .resource_owner(aws_sdk_ram::types::ResourceOwner::SelfValue)
        .resource_share_status(aws_sdk_ram::types::ResourceShareStatus::Active)
        .send()
        .await
        .unwrap();
    reply.resource_shares().to_vec()
}

#[tokio::test]
async fn a_share_whose_create_reply_was_lost_is_not_created_again_after_an_edit() {
    let (world, ids) = World::new(&["server", "client"]);
    let server = ids[0].clone();
    let mut config = world.config.clone();
    config.regions = vec![WEST.to_owned()];
    let budgets =
        Arc::new(ApiBudgets::new(&config, Arc::new(ecs_topology_aws::NoObserver)).unwrap());
    let cloud = Arc::new(AwsCloud::new(world.accounts().await, budgets));
    let (mut writer, reader) = desired_store(1, config.clone());
    writer.replace(0, documents("a"));
    let (status_changes, _statuses) = mpsc::unbounded_channel();
    let daemon = Daemon {
        cloud,
        config,
        desired: reader,
        queue: Daemon::<AwsCloud>::queue(Arc::new(ecs_topology_core::queue::NoObserver)),
        view: Arc::new(RwLock::new(PassView::default())),
        statuses: Arc::default(),
        leadership: Leadership::always(),
        status_changes,
        observer: Arc::new(Silent),
        deletions: Default::default(),
    };
    daemon.observe_once().await;
    let namespace = daemon
        .reconcile(&Key::new(Kind::CloudMapNamespace, "payments"))
        .await;
    assert_eq!(namespace.outcome, Outcome::Changed);

    // RAM creates the share, but the reply never arrives (the connection resets after the
    // request was processed, every attempt).
    let share = Key::new(Kind::NamespaceShare, "payments-to-client");
    let lost =
        serde_json::json!({"faults": {"reset_after": 1.0, "operations": ["CreateResourceShare"]}});
    emulator().set_profile(&[&server], lost).await;
    let first = daemon.reconcile(&share).await;
    emulator()
        .set_profile(&[&server], serde_json::Value::Null)
        .await;
    assert!(
        matches!(first.outcome, Outcome::Failed(_)),
        "{:?}",
        first.outcome
    );
    assert_eq!(live_shares(&server).await.len(), 1, "RAM made the share");

    // The document is edited before any pass has seen the share: the retry plans a create again.
    writer.replace(0, documents("b"));
    let retry = daemon.reconcile(&share).await;
    assert_eq!(
        live_shares(&server).await.len(),
        1,
        "the retry's create is the same request, not a second share: {:?}",
        retry.outcome
    );

    // The next pass sees the share by its key tag and sets the edited tag on it.
    daemon.observe_once().await;
    let next = daemon.reconcile(&share).await;
    assert_eq!(next.outcome, Outcome::Changed, "{:?}", next.plan);
    let shares = live_shares(&server).await;
    assert_eq!(shares.len(), 1);
    let team = shares[0]
        .tags()
        .iter()
        .find(|t| t.key() == Some("team"))
        .and_then(|t| t.value());
    assert_eq!(team, Some("b"));
}

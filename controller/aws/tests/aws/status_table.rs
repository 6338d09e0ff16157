//! The status store in a DynamoDB table against the emulator.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use ecs_topology_aws::status_table::{StatusStore, StatusTable};
use ecs_topology_core::model::{Key, Kind};
use ecs_topology_core::status::DocumentStatus;
use ecs_topology_core::status_store::{DirectoryStore, StatusRecord};
use ecs_topology_testkit::{create_table, emulator};

use super::sources::put_lease_item;
use super::{EAST, budgets, clients};

fn record(name: &str, revision: &str) -> StatusRecord {
    let mut status = DocumentStatus::default();
    status.observed_revision = revision.into();
    status
        .aws
        .insert("namespaceId".into(), format!("ns-{name}"));
    StatusRecord {
        key: Key::new(Kind::CloudMapNamespace, name),
        account: "111111111111".into(),
        region: EAST.into(),
        status,
    }
}

#[tokio::test]
async fn a_status_is_written_only_when_it_changed() {
    let account = emulator().new_account();
    let clients = clients(&account).await;
    create_table(&clients.dynamodb, "state").await;
    let table = StatusTable::new(clients.clone(), budgets(), "state");
    let puts = || async { emulator().calls().await.count(&account, "PutItem") };

    let (a, b) = (record("a", "r1"), record("b", "r1"));
    assert!(table.save(&a).await.unwrap());
    assert!(table.save(&b).await.unwrap());
    assert!(!table.save(&a).await.unwrap(), "unchanged");
    assert_eq!(puts().await, 2);
    let a2 = record("a", "r2");
    assert!(table.save(&a2).await.unwrap());
    assert_eq!(puts().await, 3);

    let item = clients
        .dynamodb
        .get_item()
        .table_name("state")
        .key("pk", AttributeValue::S("status#CloudMapNamespace/a".into()))
        .send()
        .await
        .unwrap();
    assert!(
        item.item().unwrap()["record"]
            .as_s()
            .unwrap()
            .contains("r2")
    );

    // A restarted controller loads what is stored and writes nothing unchanged.
    let restarted = StatusTable::new(clients.clone(), budgets(), "state");
    let loaded = restarted.load().await.unwrap();
    assert_eq!(
        loaded,
        BTreeMap::from([(a2.key.clone(), a2.clone()), (b.key.clone(), b.clone())])
    );
    assert!(!restarted.save(&a2).await.unwrap());
    assert_eq!(puts().await, 3, "nothing written after a load");

    // Without a load, the stored digest still stops a write of the same record.
    let unloaded = StatusTable::new(clients.clone(), budgets(), "state");
    assert!(!unloaded.save(&b).await.unwrap());
    assert!(!unloaded.save(&b).await.unwrap());
    assert_eq!(puts().await, 4, "one conditional write, refused");

    restarted.remove(&a2.key).await.unwrap();
    let left = table.load().await.unwrap();
    assert_eq!(left.keys().collect::<Vec<_>>(), [&b.key]);
}

#[tokio::test]
async fn the_status_table_ignores_other_items_of_the_table() {
    let account = emulator().new_account();
    let clients = clients(&account).await;
    create_table(&clients.dynamodb, "shared").await;
    put_lease_item(&clients, "shared", "lease#ecs-topology-leader").await;
    let store = StatusStore::Dynamodb(StatusTable::new(clients, budgets(), "shared"));
    assert!(store.load().await.unwrap().is_empty());
    let a = record("a", "r1");
    assert!(store.save(&a).await.unwrap());
    assert_eq!(store.load().await.unwrap()[&a.key], a);
    assert_eq!(store.describe(), "dynamodb");
}

#[tokio::test]
async fn the_directory_status_store_behaves_the_same() {
    let dir = std::env::temp_dir().join(format!(
        "ecs-topology-status-store-{}-{}",
        std::process::id(),
        emulator().new_account()
    ));
    let store = StatusStore::Directory(DirectoryStore::new(&dir));
    let a = record("a", "r1");
    assert!(store.save(&a).await.unwrap());
    assert!(!store.save(&a).await.unwrap());
    assert_eq!(store.load().await.unwrap()[&a.key], a);
    store.remove(&a.key).await.unwrap();
    assert!(store.load().await.unwrap().is_empty());
    std::fs::remove_dir_all(dir).ok();
}

//! Document sources against the emulator: S3 prefixes and DynamoDB tables.

use aws_sdk_dynamodb::types::AttributeValue;
use ecs_topology_aws::Clients;
use ecs_topology_aws::sources::{DynamoDbSource, S3Source};
use ecs_topology_core::load::{self, SourceFile};
use ecs_topology_testkit::{create_table, emulator};
use futures::StreamExt as _;
use serde_json::json;

use super::{budgets, clients};

pub(super) fn namespace(name: &str, description: &str) -> String {
    format!(
        "apiVersion: ecs-topology.dev/v1alpha1\nkind: CloudMapNamespace\nmetadata: {{name: {name}}}\n\
         spec: {{account: '111111111111', region: us-east-1, name: {name}.local, description: {description}}}\n"
    )
}

fn names(files: &[SourceFile]) -> Vec<&str> {
    files.iter().map(|f| f.name.as_str()).collect()
}

async fn bucket(clients: &Clients, name: &str) {
    clients
        .s3
        .create_bucket()
        .bucket(name)
        .send()
        .await
        .unwrap();
}

async fn put(clients: &Clients, bucket: &str, key: &str, text: &str) {
    clients
        .s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(text.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();
}

async fn delete(clients: &Clients, bucket: &str, key: &str) {
    clients
        .s3
        .delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_s3_source_gets_only_objects_whose_etag_changed() {
    let account = emulator().new_account();
    let clients = clients(&account).await;
    bucket(&clients, "desired").await;
    put(&clients, "desired", "prod/a.yaml", &namespace("a", "A")).await;
    put(&clients, "desired", "prod/b.yml", &namespace("b", "B")).await;
    put(
        &clients,
        "desired",
        "prod/team/c.yaml",
        &namespace("c", "C"),
    )
    .await;
    put(&clients, "desired", "prod/README.md", "not a document").await;
    put(
        &clients,
        "desired",
        "prod/.drafts/d.yaml",
        &namespace("d", "D"),
    )
    .await;
    put(&clients, "desired", "staging/e.yaml", &namespace("e", "E")).await;
    let mut source = S3Source::new(clients.clone(), budgets(), "desired", "prod");

    let before = emulator().calls().await;
    let files = source.poll().await.unwrap();
    let first = emulator().calls().await.since(&before);
    assert_eq!(
        names(&files),
        [
            "s3://desired/prod/a.yaml",
            "s3://desired/prod/b.yml",
            "s3://desired/prod/team/c.yaml"
        ]
    );
    assert_eq!(load::load(&files).documents.len(), 3);
    assert_eq!(first.count(&account, "ListObjectsV2"), 1);
    assert_eq!(first.count(&account, "GetObject"), 3);

    let unchanged = source.poll().await.unwrap();
    let second = emulator().calls().await.since(&before).since(&first);
    assert_eq!(unchanged, files);
    assert_eq!(second.count(&account, "ListObjectsV2"), 1);
    assert_eq!(second.count(&account, "GetObject"), 0, "nothing changed");

    put(&clients, "desired", "prod/b.yml", &namespace("b", "B2")).await;
    let mark = emulator().calls().await;
    let changed = source.poll().await.unwrap();
    let third = emulator().calls().await.since(&mark);
    assert_eq!(third.count(&account, "GetObject"), 1, "one object changed");
    assert!(changed[1].text.contains("description: B2"));
    assert_eq!(changed[0], files[0]);

    delete(&clients, "desired", "prod/team/c.yaml").await;
    let mark = emulator().calls().await;
    let removed = source.poll().await.unwrap();
    let fourth = emulator().calls().await.since(&mark);
    assert_eq!(
        names(&removed),
        ["s3://desired/prod/a.yaml", "s3://desired/prod/b.yml"]
    );
    assert_eq!(fourth.count(&account, "GetObject"), 0);
}

#[tokio::test]
async fn an_s3_listing_reads_every_page() {
    let account = emulator().new_account();
    let clients = clients(&account).await;
    bucket(&clients, "many").await;
    put(&clients, "many", "a.yaml", &namespace("a", "A")).await;
    put(&clients, "many", "z.yaml", &namespace("z", "Z")).await;
    // 1,000 other objects between them: `z.yaml` is on the second page.
    futures::stream::iter(0..1000)
        .for_each_concurrent(8, |i| {
            let clients = &clients;
            async move { put(clients, "many", &format!("notes/{i:04}.txt"), "-").await }
        })
        .await;
    let mut source = S3Source::new(clients.clone(), budgets(), "many", "");

    let before = emulator().calls().await;
    let files = source.poll().await.unwrap();
    let made = emulator().calls().await.since(&before);
    assert_eq!(names(&files), ["s3://many/a.yaml", "s3://many/z.yaml"]);
    assert_eq!(made.count(&account, "ListObjectsV2"), 2);
    assert_eq!(made.count(&account, "GetObject"), 2);
}

#[tokio::test]
async fn an_s3_failure_part_way_is_an_error_and_the_next_poll_has_everything() {
    let account = emulator().new_account();
    let clients = clients(&account).await;
    bucket(&clients, "flaky").await;
    put(&clients, "flaky", "a.yaml", &namespace("a", "A")).await;
    put(&clients, "flaky", "b.yaml", &namespace("b", "B")).await;
    let mut source = S3Source::new(clients.clone(), budgets(), "flaky", "");
    assert_eq!(source.poll().await.unwrap().len(), 2);

    // The listing fails: an error, not an empty or partial set.
    emulator()
        .set_profile(&[&account], json!({"faults": {"http500": 1.0}}))
        .await;
    let failed = source.poll().await.unwrap_err();
    emulator().set_profile(&[&account], json!(null)).await;
    assert_eq!(failed.class(), "transient", "{failed:?}");

    // Three objects changed; the listing and one object can be read, the others are throttled.
    for key in ["a.yaml", "b.yaml", "c.yaml"] {
        put(&clients, "flaky", key, &namespace(&key[..1], "changed")).await;
    }
    emulator()
        .set_profile(
            &[&account],
            json!({"throttle": {"families": {"s3:reads": {"burst": 2, "refill": 0.001}}}}),
        )
        .await;
    let throttled = source.poll().await.unwrap_err();
    emulator().set_profile(&[&account], json!(null)).await;
    assert_eq!(throttled.class(), "throttling", "{throttled:?}");

    let mark = emulator().calls().await;
    let files = source.poll().await.unwrap();
    let made = emulator().calls().await.since(&mark);
    assert_eq!(
        names(&files),
        [
            "s3://flaky/a.yaml",
            "s3://flaky/b.yaml",
            "s3://flaky/c.yaml"
        ]
    );
    assert!(files.iter().all(|f| f.text.contains("changed")));
    assert_eq!(
        made.count(&account, "GetObject"),
        2,
        "the object read by the failed poll is not read again"
    );
}

#[tokio::test]
async fn an_emptied_bucket_gives_an_empty_listing() {
    let account = emulator().new_account();
    let clients = clients(&account).await;
    bucket(&clients, "emptied").await;
    put(&clients, "emptied", "a.yaml", &namespace("a", "A")).await;
    put(&clients, "emptied", "b.yaml", &namespace("b", "B")).await;
    let mut source = S3Source::new(clients.clone(), budgets(), "emptied", "");
    assert_eq!(source.poll().await.unwrap().len(), 2);

    delete(&clients, "emptied", "a.yaml").await;
    delete(&clients, "emptied", "b.yaml").await;
    assert_eq!(source.poll().await.unwrap(), []);
}

pub(super) async fn put_item(
    clients: &Clients,
    table: &str,
    pk: &str,
    document: &str,
    version: u32,
) {
    clients
        .dynamodb
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(pk.into()))
        .item("document", AttributeValue::S(document.into()))
        .item("version", AttributeValue::N(version.to_string()))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_dynamodb_source_follows_added_changed_and_removed_items() {
    let account = emulator().new_account();
    let clients = clients(&account).await;
    create_table(&clients.dynamodb, "documents").await;
    put_item(
        &clients,
        "documents",
        "CloudMapNamespace/a",
        &namespace("a", "A"),
        1,
    )
    .await;
    put_item(
        &clients,
        "documents",
        "CloudMapNamespace/b",
        &namespace("b", "B"),
        1,
    )
    .await;
    // Not a document: no `document` attribute.
    clients
        .dynamodb
        .put_item()
        .table_name("documents")
        .item("pk", AttributeValue::S("lease#leader".into()))
        .item("holder", AttributeValue::S("someone".into()))
        .send()
        .await
        .unwrap();
    let mut source = DynamoDbSource::new(clients.clone(), budgets(), "documents");

    let before = emulator().calls().await;
    let files = source.poll().await.unwrap();
    assert_eq!(
        emulator()
            .calls()
            .await
            .since(&before)
            .count(&account, "Scan"),
        1
    );
    assert_eq!(
        names(&files),
        [
            "dynamodb://documents/CloudMapNamespace/a",
            "dynamodb://documents/CloudMapNamespace/b"
        ]
    );
    assert_eq!(load::load(&files).documents.len(), 2);

    // A new version (a new text under the same version is taken too: see source_input.rs).
    put_item(
        &clients,
        "documents",
        "CloudMapNamespace/a",
        &namespace("a", "A2"),
        2,
    )
    .await;
    let changed = source.poll().await.unwrap();
    assert!(changed[0].text.contains("description: A2"));
    assert_eq!(changed[1], files[1]);

    // Added (as JSON), removed.
    let json = r#"{"apiVersion": "ecs-topology.dev/v1alpha1", "kind": "CloudMapNamespace",
        "metadata": {"name": "c"},
        "spec": {"account": "111111111111", "region": "us-east-1", "name": "c.local"}}"#;
    put_item(&clients, "documents", "CloudMapNamespace/c", json, 1).await;
    clients
        .dynamodb
        .delete_item()
        .table_name("documents")
        .key("pk", AttributeValue::S("CloudMapNamespace/b".into()))
        .send()
        .await
        .unwrap();
    let files = source.poll().await.unwrap();
    assert_eq!(
        names(&files),
        [
            "dynamodb://documents/CloudMapNamespace/a",
            "dynamodb://documents/CloudMapNamespace/c"
        ]
    );
    let set = load::load(&files);
    assert_eq!(set.documents.len(), 2, "{:?}", set.findings);

    // A scan that fails is an error; the next one has everything.
    emulator()
        .set_profile(&[&account], json!({"faults": {"http500": 1.0}}))
        .await;
    let failed = source.poll().await.unwrap_err();
    emulator().set_profile(&[&account], json!(null)).await;
    assert_eq!(failed.class(), "transient", "{failed:?}");
    assert_eq!(source.poll().await.unwrap(), files);
}

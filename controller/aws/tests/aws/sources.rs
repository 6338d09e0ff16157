//! Document sources against the emulator: S3 prefixes and DynamoDB tables.

use aws_sdk_dynamodb::types::AttributeValue;
use ecs_topology_aws::Clients;
use ecs_topology_aws::sources::{DynamoDbSource, S3Source, SourceError};
use ecs_topology_core::load::{self, SourceFile};
use ecs_topology_testkit::{Calls, create_table, emulator};
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

/// A fresh account and its clients.
pub(super) async fn fresh_account() -> (String, Clients) {
    let account = emulator().new_account();
    let clients = clients(&account).await;
    (account, clients)
}

/// Creates `bucket` holding `objects` (key, body).
pub(super) async fn bucket_with(clients: &Clients, bucket: &str, objects: &[(&str, &[u8])]) {
    clients
        .s3
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    for (key, body) in objects {
        put(clients, bucket, key, body).await;
    }
}

/// Creates `bucket` holding the namespace documents `objects` (key, name): each described by
/// its name in upper case.
async fn bucket_of_namespaces(clients: &Clients, bucket: &str, objects: &[(&str, &str)]) {
    let texts: Vec<(&str, String)> = objects
        .iter()
        .map(|(key, name)| (*key, namespace(name, &name.to_uppercase())))
        .collect();
    let bodies: Vec<(&str, &[u8])> = texts.iter().map(|(k, t)| (*k, t.as_bytes())).collect();
    bucket_with(clients, bucket, &bodies).await;
}

async fn put(clients: &Clients, bucket: &str, key: &str, body: &[u8]) {
    clients
        .s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.to_vec().into())
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

/// The files of a poll that must succeed, and the calls it made.
async fn polled(
    poll: impl Future<Output = Result<Vec<SourceFile>, SourceError>>,
) -> (Vec<SourceFile>, Calls) {
    let (files, calls) = emulator().calls_during(poll).await;
    (files.unwrap(), calls)
}

/// Asserts that `poll`, run while every call of `account` fails with HTTP 500, is a transient
/// error, not an empty or partial set.
async fn assert_fails_transiently(
    account: &str,
    poll: impl Future<Output = Result<Vec<SourceFile>, SourceError>>,
) {
    let http500 = json!({"faults": {"http500": 1.0}});
    let failed = emulator()
        .with_profile(account, http500, poll)
        .await
        .unwrap_err();
    assert_eq!(failed.class(), "transient", "{failed:?}");
}

#[tokio::test]
async fn the_s3_source_gets_only_objects_whose_etag_changed() {
    let (account, clients) = fresh_account().await;
    let other = namespace("d", "D");
    bucket_of_namespaces(
        &clients,
        "desired",
        &[
            ("prod/a.yaml", "a"),
            ("prod/b.yml", "b"),
            ("prod/team/c.yaml", "c"),
            ("staging/e.yaml", "e"),
        ],
    )
    .await;
    put(&clients, "desired", "prod/README.md", b"not a document").await;
    put(&clients, "desired", "prod/.drafts/d.yaml", other.as_bytes()).await;
    let mut source = S3Source::new(clients.clone(), budgets(), "desired", "prod");

    let (files, first) = polled(source.poll()).await;
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

    let (unchanged, second) = emulator().calls_during(source.poll()).await;
    assert_eq!(unchanged.unwrap(), files);
    assert_eq!(second.count(&account, "ListObjectsV2"), 1);
    assert_eq!(second.count(&account, "GetObject"), 0, "nothing changed");

    let b2 = namespace("b", "B2");
    put(&clients, "desired", "prod/b.yml", b2.as_bytes()).await;
    let (changed, third) = polled(source.poll()).await;
    assert_eq!(third.count(&account, "GetObject"), 1, "one object changed");
    assert!(changed[1].text.contains("description: B2"));
    assert_eq!(changed[0], files[0]);

    delete(&clients, "desired", "prod/team/c.yaml").await;
    let (removed, fourth) = emulator().calls_during(source.poll()).await;
    assert_eq!(
        names(&removed.unwrap()),
        ["s3://desired/prod/a.yaml", "s3://desired/prod/b.yml"]
    );
    assert_eq!(fourth.count(&account, "GetObject"), 0);
}

#[tokio::test]
async fn an_s3_listing_reads_every_page() {
    let (account, clients) = fresh_account().await;
    bucket_of_namespaces(&clients, "many", &[("a.yaml", "a"), ("z.yaml", "z")]).await;
    // 1,000 other objects between them: `z.yaml` is on the second page.
    futures::stream::iter(0..1000)
        .for_each_concurrent(8, |i| {
            let clients = &clients;
            async move { put(clients, "many", &format!("notes/{i:04}.txt"), b"-").await }
        })
        .await;
    let mut source = S3Source::new(clients.clone(), budgets(), "many", "");

    let (files, made) = emulator().calls_during(source.poll()).await;
    assert_eq!(
        names(&files.unwrap()),
        ["s3://many/a.yaml", "s3://many/z.yaml"]
    );
    assert_eq!(made.count(&account, "ListObjectsV2"), 2);
    assert_eq!(made.count(&account, "GetObject"), 2);
}

#[tokio::test]
async fn an_s3_failure_part_way_is_an_error_and_the_next_poll_has_everything() {
    let (account, clients) = fresh_account().await;
    bucket_of_namespaces(&clients, "flaky", &[("a.yaml", "a"), ("b.yaml", "b")]).await;
    let mut source = S3Source::new(clients.clone(), budgets(), "flaky", "");
    assert_eq!(source.poll().await.unwrap().len(), 2);

    // The listing fails.
    assert_fails_transiently(&account, source.poll()).await;

    // Three objects changed; the listing and one object can be read, the others are throttled.
    for key in ["a.yaml", "b.yaml", "c.yaml"] {
        let text = namespace(&key[..1], "changed");
        put(&clients, "flaky", key, text.as_bytes()).await;
    }
    let reads = json!({"throttle": {"families": {"s3:reads": {"burst": 2, "refill": 0.001}}}});
    let throttled = emulator()
        .with_profile(&account, reads, source.poll())
        .await
        .unwrap_err();
    assert_eq!(throttled.class(), "throttling", "{throttled:?}");

    let (files, made) = polled(source.poll()).await;
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
    let (_, clients) = fresh_account().await;
    bucket_of_namespaces(&clients, "emptied", &[("a.yaml", "a"), ("b.yaml", "b")]).await;
    let mut source = S3Source::new(clients.clone(), budgets(), "emptied", "");
    assert_eq!(source.poll().await.unwrap().len(), 2);

    delete(&clients, "emptied", "a.yaml").await;
    delete(&clients, "emptied", "b.yaml").await;
    assert_eq!(source.poll().await.unwrap(), []);
}

/// Creates the table `documents` holding `items` (pk, document), each at version 1.
pub(super) async fn table_with(clients: &Clients, items: &[(&str, &str)]) {
    create_table(&clients.dynamodb, "documents").await;
    for (pk, document) in items {
        put_item(clients, pk, document, 1).await;
    }
}

/// Puts an item that is not a document but a lease: `pk` and a `holder`, into `table`.
pub(super) async fn put_lease_item(clients: &Clients, table: &str, pk: &str) {
    clients
        .dynamodb
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(pk.into()))
        .item("holder", AttributeValue::S("someone".into()))
        .send()
        .await
        .unwrap();
}

/// Puts the item `pk` holding `document` at `version` into the table `documents`.
pub(super) async fn put_item(clients: &Clients, pk: &str, document: &str, version: u32) {
    clients
        .dynamodb
        .put_item()
        .table_name("documents")
        .item("pk", AttributeValue::S(pk.into()))
        .item("document", AttributeValue::S(document.into()))
        .item("version", AttributeValue::N(version.to_string()))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_dynamodb_source_follows_added_changed_and_removed_items() {
    let (account, clients) = fresh_account().await;
    let (a, b) = (namespace("a", "A"), namespace("b", "B"));
    table_with(
        &clients,
        &[("CloudMapNamespace/a", &a), ("CloudMapNamespace/b", &b)],
    )
    .await;
    // Not a document: no `document` attribute.
    put_lease_item(&clients, "documents", "lease#leader").await;
    let mut source = DynamoDbSource::new(clients.clone(), budgets(), "documents");

    let (files, made) = polled(source.poll()).await;
    assert_eq!(made.count(&account, "Scan"), 1);
    assert_eq!(
        names(&files),
        [
            "dynamodb://documents/CloudMapNamespace/a",
            "dynamodb://documents/CloudMapNamespace/b"
        ]
    );
    assert_eq!(load::load(&files).documents.len(), 2);

    // A new version (a new text under the same version is taken too: see source_input.rs).
    put_item(&clients, "CloudMapNamespace/a", &namespace("a", "A2"), 2).await;
    let changed = source.poll().await.unwrap();
    assert!(changed[0].text.contains("description: A2"));
    assert_eq!(changed[1], files[1]);

    // Added (as JSON), removed.
    let json = r#"{"apiVersion": "ecs-topology.dev/v1alpha1", "kind": "CloudMapNamespace",
        "metadata": {"name": "c"},
        "spec": {"account": "111111111111", "region": "us-east-1", "name": "c.local"}}"#;
    put_item(&clients, "CloudMapNamespace/c", json, 1).await;
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
    assert_fails_transiently(&account, source.poll()).await;
    assert_eq!(source.poll().await.unwrap(), files);
}

//! What a source does with input it must not trust: a bucket another account owns, objects that
//! are not UTF-8 or too large, items whose text changed without a version bump.

use ecs_topology_aws::Clients;
use ecs_topology_aws::sources::{DynamoDbSource, S3Source};
use ecs_topology_core::finding::Finding;
use ecs_topology_core::load;
use ecs_topology_testkit::{create_table, emulator};

use super::sources::{namespace, put_item};
use super::{budgets, clients};

async fn bucket_with(clients: &Clients, bucket: &str, objects: &[(&str, &[u8])]) {
    clients
        .s3
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    for (key, body) in objects {
        clients
            .s3
            .put_object()
            .bucket(bucket)
            .key(*key)
            .body(body.to_vec().into())
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_s3_source_refuses_a_bucket_its_own_account_does_not_own() {
    let owner = emulator().new_account();
    let controller = emulator().new_account();
    let theirs = clients(&owner).await;
    let bucket = format!("theirs-{owner}");
    let text = namespace("a", "A");
    bucket_with(&theirs, &bucket, &[("a.yaml", text.as_bytes())]).await;

    // The controller's own account is the expected owner by default.
    let mut source = S3Source::new(clients(&controller).await, budgets(), &bucket, "");
    let before = emulator().calls().await;
    let refused = source.poll().await.unwrap_err();
    assert_eq!(refused.class(), "access_denied", "{refused:?}");
    let made = emulator().calls().await.since(&before);
    assert_eq!(made.count(&controller, "ListObjectsV2"), 1);
    assert_eq!(made.count(&controller, "GetObject"), 0);
}

#[tokio::test]
async fn the_s3_source_reads_another_accounts_bucket_only_when_told_that_account_owns_it() {
    let owner = emulator().new_account();
    let controller = emulator().new_account();
    let theirs = clients(&owner).await;
    let bucket = format!("shared-{owner}");
    let text = namespace("a", "A");
    bucket_with(&theirs, &bucket, &[("a.yaml", text.as_bytes())]).await;

    let mut source = S3Source::new(clients(&controller).await, budgets(), &bucket, "")
        .expected_bucket_owner(&owner);
    let files = source.poll().await.unwrap();
    assert_eq!(
        files,
        [load::SourceFile::new(format!("s3://{bucket}/a.yaml"), text)]
    );

    // Expecting a third account, the same bucket is refused.
    let mut source = S3Source::new(clients(&controller).await, budgets(), &bucket, "")
        .expected_bucket_owner(emulator().new_account());
    assert_eq!(source.poll().await.unwrap_err().class(), "access_denied");
}

#[tokio::test]
async fn an_s3_object_that_is_not_utf8_is_reported_with_the_others_and_the_set_is_incomplete() {
    let account = emulator().new_account();
    let clients = clients(&account).await;
    let bucket = format!("latin1-{account}");
    let good = namespace("a", "A");
    // "Café" saved as Latin-1: the é is the one byte 0xE9.
    let mut latin1 = namespace("b", "CafX").into_bytes();
    let at = latin1.iter().position(|b| *b == b'X').unwrap();
    latin1[at] = 0xe9;
    bucket_with(
        &clients,
        &bucket,
        &[("a.yaml", good.as_bytes()), ("b.yaml", &latin1)],
    )
    .await;

    let mut source = S3Source::new(clients.clone(), budgets(), &bucket, "");
    let files = source.poll().await.unwrap();
    let set = load::load(&files);
    let name = format!("s3://{bucket}/b.yaml");
    assert_eq!(
        set.findings,
        [Finding::error(
            &name,
            None,
            "",
            "is not UTF-8 text: invalid byte 0xE9 at line 4, column 83 (save it as UTF-8)"
        )]
    );
    assert_eq!(set.unreadable_files, [name]);
    assert_eq!(set.documents.len(), 1);

    // Unchanged, the object is not fetched again.
    let before = emulator().calls().await;
    assert_eq!(source.poll().await.unwrap(), files);
    assert_eq!(
        emulator()
            .calls()
            .await
            .since(&before)
            .count(&account, "GetObject"),
        0
    );
}

#[tokio::test]
async fn an_s3_object_over_the_size_limit_is_reported_without_being_fetched() {
    let account = emulator().new_account();
    let clients = clients(&account).await;
    let bucket = format!("large-{account}");
    let good = namespace("a", "A");
    // A valid document padded with comments past the default limit of 1 MiB.
    let mut large = namespace("b", "B");
    while large.len() <= 1 << 20 {
        large.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    bucket_with(
        &clients,
        &bucket,
        &[("a.yaml", good.as_bytes()), ("b.yaml", large.as_bytes())],
    )
    .await;

    let mut source = S3Source::new(clients.clone(), budgets(), &bucket, "");
    let before = emulator().calls().await;
    let files = source.poll().await.unwrap();
    assert_eq!(
        emulator()
            .calls()
            .await
            .since(&before)
            .count(&account, "GetObject"),
        1,
        "only the object within the limit is fetched"
    );
    let set = load::load(&files);
    let name = format!("s3://{bucket}/b.yaml");
    assert_eq!(
        set.findings,
        [Finding::error(
            &name,
            None,
            "",
            format!(
                "is {} bytes, more than the 1048576 a document file may have (source.maxFileBytes)",
                large.len()
            )
        )]
    );
    assert_eq!(set.unreadable_files, [name]);
    assert_eq!(set.documents.len(), 1);
}

#[tokio::test]
async fn the_dynamodb_source_takes_a_changed_text_even_when_its_version_was_not_raised() {
    let account = emulator().new_account();
    let clients = clients(&account).await;
    create_table(&clients.dynamodb, "documents").await;
    put_item(&clients, "documents", "a", &namespace("a", "A"), 1).await;
    let mut source = DynamoDbSource::new(clients.clone(), budgets(), "documents");
    let first = source.poll().await.unwrap();
    assert!(first[0].text.contains("description: A}"), "{first:?}");

    // The writer forgot to raise `version`: the new text is taken all the same.
    put_item(&clients, "documents", "a", &namespace("a", "A2"), 1).await;
    let changed = source.poll().await.unwrap();
    assert!(changed[0].text.contains("description: A2}"), "{changed:?}");
    // And nothing else changes while neither does.
    assert_eq!(source.poll().await.unwrap(), changed);
}

#[tokio::test]
async fn a_dynamodb_document_over_the_size_limit_is_reported_and_the_others_load() {
    let account = emulator().new_account();
    let clients = clients(&account).await;
    create_table(&clients.dynamodb, "documents").await;
    let small = namespace("a", "A");
    let large = namespace("b", &"B".repeat(200));
    put_item(&clients, "documents", "a", &small, 1).await;
    put_item(&clients, "documents", "b", &large, 1).await;
    let mut source =
        DynamoDbSource::new(clients.clone(), budgets(), "documents").max_file_bytes(256);
    let set = load::load(&source.poll().await.unwrap());
    assert_eq!(
        set.findings,
        [Finding::error(
            "dynamodb://documents/b",
            None,
            "",
            format!(
                "is {} bytes, more than the 256 a document file may have (source.maxFileBytes)",
                large.len()
            )
        )]
    );
    assert_eq!(set.unreadable_files, ["dynamodb://documents/b"]);
    assert_eq!(set.documents.len(), 1);
}

//! What a source does with input it must not trust: a bucket another account owns, objects that
//! are not UTF-8 or too large, items whose text changed without a version bump.

use ecs_topology_aws::sources::{DynamoDbSource, S3Source};
use ecs_topology_core::finding::Finding;
use ecs_topology_core::load::{self, DocumentSet, SourceFile};
use ecs_topology_testkit::emulator;

use super::sources::{bucket_with, fresh_account, namespace, put_item, table_with};
use super::{budgets, clients};

/// Asserts that of the files `set` was loaded from, `name` alone could not be used, for the
/// reason `message`, and that the one other document loaded.
#[track_caller]
fn assert_only_unreadable(set: &DocumentSet, name: &str, message: &str) {
    assert_eq!(set.findings, [Finding::error(name, None, "", message)]);
    assert_eq!(set.unreadable_files, [name]);
    assert_eq!(set.documents.len(), 1);
}

/// The message for a file of `size` bytes over the limit `limit`.
fn too_large(size: usize, limit: usize) -> String {
    format!("is {size} bytes, more than the {limit} a document file may have (source.maxFileBytes)")
}

/// A bucket named `{prefix}-{owner}` in a fresh account `owner`, holding `a.yaml`; a fresh
/// account for the controller. Returns (owner, controller, bucket, the text of `a.yaml`).
async fn bucket_of_another_account(prefix: &str) -> (String, String, String, String) {
    let (owner, theirs) = fresh_account().await;
    let controller = emulator().new_account();
    let bucket = format!("{prefix}-{owner}");
    let text = namespace("a", "A");
    bucket_with(&theirs, &bucket, &[("a.yaml", text.as_bytes())]).await;
    (owner, controller, bucket, text)
}

#[tokio::test]
async fn the_s3_source_refuses_a_bucket_its_own_account_does_not_own() {
    let (_, controller, bucket, _) = bucket_of_another_account("theirs").await;

    // The controller's own account is the expected owner by default.
    let mut source = S3Source::new(clients(&controller).await, budgets(), &bucket, "");
    let (refused, made) = emulator().calls_during(source.poll()).await;
    let refused = refused.unwrap_err();
    assert_eq!(refused.class(), "access_denied", "{refused:?}");
    assert_eq!(made.count(&controller, "ListObjectsV2"), 1);
    assert_eq!(made.count(&controller, "GetObject"), 0);
}

#[tokio::test]
async fn the_s3_source_reads_another_accounts_bucket_only_when_told_that_account_owns_it() {
    let (owner, controller, bucket, text) = bucket_of_another_account("shared").await;

    let mut source = S3Source::new(clients(&controller).await, budgets(), &bucket, "")
        .expected_bucket_owner(&owner);
    let files = source.poll().await.unwrap();
    assert_eq!(
        files,
        [SourceFile::new(format!("s3://{bucket}/a.yaml"), text)]
    );

    // Expecting a third account, the same bucket is refused.
    let mut source = S3Source::new(clients(&controller).await, budgets(), &bucket, "")
        .expected_bucket_owner(emulator().new_account());
    assert_eq!(source.poll().await.unwrap_err().class(), "access_denied");
}

#[tokio::test]
async fn an_s3_object_that_is_not_utf8_is_reported_with_the_others_and_the_set_is_incomplete() {
    let (account, clients) = fresh_account().await;
    let bucket = format!("latin1-{account}");
    let good = namespace("a", "A");
    // "Café" saved as Latin-1: the é is the one byte 0xE9.
    let mut latin1 = namespace("b", "CafX").into_bytes();
    let at = latin1.iter().position(|b| *b == b'X').unwrap();
    latin1[at] = 0xe9;
    let objects: [(&str, &[u8]); 2] = [("a.yaml", good.as_bytes()), ("b.yaml", &latin1)];
    bucket_with(&clients, &bucket, &objects).await;

    let mut source = S3Source::new(clients.clone(), budgets(), &bucket, "");
    let files = source.poll().await.unwrap();
    assert_only_unreadable(
        &load::load(&files),
        &format!("s3://{bucket}/b.yaml"),
        "is not UTF-8 text: invalid byte 0xE9 at line 4, column 83 (save it as UTF-8)",
    );

    // Unchanged, the object is not fetched again.
    let (again, made) = emulator().calls_during(source.poll()).await;
    assert_eq!(again.unwrap(), files);
    assert_eq!(made.count(&account, "GetObject"), 0);
}

#[tokio::test]
async fn an_s3_object_over_the_size_limit_is_reported_without_being_fetched() {
    let (account, clients) = fresh_account().await;
    let bucket = format!("large-{account}");
    let good = namespace("a", "A");
    // A valid document padded with comments past the default limit of 1 MiB.
    let mut large = namespace("b", "B");
    while large.len() <= 1 << 20 {
        large.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    let objects: [(&str, &[u8]); 2] = [("a.yaml", good.as_bytes()), ("b.yaml", large.as_bytes())];
    bucket_with(&clients, &bucket, &objects).await;

    let mut source = S3Source::new(clients.clone(), budgets(), &bucket, "");
    let (files, made) = emulator().calls_during(source.poll()).await;
    assert_eq!(
        made.count(&account, "GetObject"),
        1,
        "only the object within the limit is fetched"
    );
    assert_only_unreadable(
        &load::load(&files.unwrap()),
        &format!("s3://{bucket}/b.yaml"),
        &too_large(large.len(), 1 << 20),
    );
}

#[tokio::test]
async fn the_dynamodb_source_takes_a_changed_text_even_when_its_version_was_not_raised() {
    let (_, clients) = fresh_account().await;
    table_with(&clients, &[("a", &namespace("a", "A"))]).await;
    let mut source = DynamoDbSource::new(clients.clone(), budgets(), "documents");
    let first = source.poll().await.unwrap();
    assert!(first[0].text.contains("description: A}"), "{first:?}");

    // The writer forgot to raise `version`: the new text is taken all the same.
    put_item(&clients, "a", &namespace("a", "A2"), 1).await;
    let changed = source.poll().await.unwrap();
    assert!(changed[0].text.contains("description: A2}"), "{changed:?}");
    // And nothing else changes while neither does.
    assert_eq!(source.poll().await.unwrap(), changed);
}

#[tokio::test]
async fn a_dynamodb_document_over_the_size_limit_is_reported_and_the_others_load() {
    let (_, clients) = fresh_account().await;
    let large = namespace("b", &"B".repeat(200));
    table_with(&clients, &[("a", &namespace("a", "A")), ("b", &large)]).await;
    let mut source =
        DynamoDbSource::new(clients.clone(), budgets(), "documents").max_file_bytes(256);
    assert_only_unreadable(
        &load::load(&source.poll().await.unwrap()),
        "dynamodb://documents/b",
        &too_large(large.len(), 256),
    );
}

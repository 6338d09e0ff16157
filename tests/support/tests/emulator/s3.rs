//! S3's bucket owner condition: a request that names an expected bucket owner other than the
//! bucket's owner is refused with 403 AccessDenied, whatever the operation and whoever asks.

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::list_objects_v2::{ListObjectsV2Error, ListObjectsV2Output};
use aws_sdk_s3::operation::put_object::PutObjectError;
use aws_sdk_s3::primitives::ByteStream;
use ecs_topology_testkit::emulator;

use crate::failure;

const REGION: &str = "us-east-1";

async fn client_of(account: &str) -> aws_sdk_s3::Client {
    let config = emulator().sdk_config(account, REGION).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

const ACCESS_DENIED: (&str, &str, u16) = ("AccessDenied", "Access Denied", 403);

fn refused((code, message, status): (String, String, u16)) -> bool {
    (code.as_str(), message.as_str(), status) == ACCESS_DENIED
}

/// The key every test object is written at.
const KEY: &str = "a.yaml";

// The calls the condition governs, each naming `owner` as the expected bucket owner (`None`: no
// condition).

async fn list(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    owner: Option<&str>,
) -> Result<ListObjectsV2Output, SdkError<ListObjectsV2Error>> {
    client
        .list_objects_v2()
        .bucket(bucket)
        .set_expected_bucket_owner(owner.map(str::to_owned))
        .send()
        .await
}

/// The body of the object at [`KEY`].
async fn read(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    owner: Option<&str>,
) -> Result<Vec<u8>, SdkError<GetObjectError>> {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(KEY)
        .set_expected_bucket_owner(owner.map(str::to_owned))
        .send()
        .await?;
    Ok(object.body.collect().await.unwrap().into_bytes().to_vec())
}

/// Writes `body` at [`KEY`].
async fn write(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    body: &'static [u8],
    owner: Option<&str>,
) -> Result<(), SdkError<PutObjectError>> {
    client
        .put_object()
        .bucket(bucket)
        .key(KEY)
        .body(ByteStream::from_static(body))
        .set_expected_bucket_owner(owner.map(str::to_owned))
        .send()
        .await
        .map(drop)
}

#[tokio::test]
async fn a_request_expecting_another_bucket_owner_is_refused_with_access_denied() {
    let emulator = emulator();
    let owner = emulator.new_account();
    let other = emulator.new_account();
    let s3 = client_of(&owner).await;
    let s3_of_other = client_of(&other).await;
    let bucket = format!("owned-by-{owner}");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    write(&s3, &bucket, b"kind: x\n", Some(&owner))
        .await
        .unwrap();

    // The owner named: served, for the owner and for another account alike.
    for client in [&s3, &s3_of_other] {
        let listed = list(client, &bucket, Some(&owner)).await.unwrap();
        assert_eq!(listed.key_count(), Some(1));
        let body = read(client, &bucket, Some(&owner)).await.unwrap();
        assert_eq!(&body[..], b"kind: x\n");
    }

    // Another owner named: refused, for listing, reading and writing, even by the owner.
    let err = list(&s3, &bucket, Some(&other)).await.unwrap_err();
    assert!(refused(failure(&err)), "{err:?}");
    let err = read(&s3, &bucket, Some(&other)).await.unwrap_err();
    assert!(refused(failure(&err)), "{err:?}");
    let err = write(&s3, &bucket, b"replaced\n", Some(&other))
        .await
        .unwrap_err();
    assert!(refused(failure(&err)), "{err:?}");
    let body = read(&s3, &bucket, None).await.unwrap();
    assert_eq!(&body[..], b"kind: x\n", "a refused write changes nothing");

    // No condition: served as before.
    let listed = list(&s3, &bucket, None).await.unwrap();
    assert_eq!(listed.key_count(), Some(1));
}

#[tokio::test]
async fn a_missing_bucket_is_missing_whatever_owner_is_expected() {
    let emulator = emulator();
    let account = emulator.new_account();
    let s3 = client_of(&account).await;
    let err = list(&s3, &format!("never-created-{account}"), Some(&account))
        .await
        .unwrap_err();
    let (code, _, status) = failure(&err);
    assert_eq!((code.as_str(), status), ("NoSuchBucket", 404));
}

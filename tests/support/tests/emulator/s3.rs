//! S3's bucket owner condition: a request that names an expected bucket owner other than the
//! bucket's owner is refused with 403 AccessDenied, whatever the operation and whoever asks.

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

#[tokio::test]
async fn a_request_expecting_another_bucket_owner_is_refused_with_access_denied() {
    let emulator = emulator();
    let owner = emulator.new_account();
    let other = emulator.new_account();
    let s3 = client_of(&owner).await;
    let s3_of_other = client_of(&other).await;
    let bucket = format!("owned-by-{owner}");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key("a.yaml")
        .body(ByteStream::from_static(b"kind: x\n"))
        .expected_bucket_owner(&owner)
        .send()
        .await
        .unwrap();

    // The owner named: served, for the owner and for another account alike.
    for client in [&s3, &s3_of_other] {
        let listed = client
            .list_objects_v2()
            .bucket(&bucket)
            .expected_bucket_owner(&owner)
            .send()
            .await
            .unwrap();
        assert_eq!(listed.key_count(), Some(1));
        let object = client
            .get_object()
            .bucket(&bucket)
            .key("a.yaml")
            .expected_bucket_owner(&owner)
            .send()
            .await
            .unwrap();
        let body = object.body.collect().await.unwrap().into_bytes();
        assert_eq!(&body[..], b"kind: x\n");
    }

    // Another owner named: refused, for listing, reading and writing, even by the owner.
    let err = s3
        .list_objects_v2()
        .bucket(&bucket)
        .expected_bucket_owner(&other)
        .send()
        .await
        .unwrap_err();
    assert!(refused(failure(&err)), "{err:?}");
    let err = s3
        .get_object()
        .bucket(&bucket)
        .key("a.yaml")
        .expected_bucket_owner(&other)
        .send()
        .await
        .unwrap_err();
    assert!(refused(failure(&err)), "{err:?}");
    let err = s3
        .put_object()
        .bucket(&bucket)
        .key("a.yaml")
        .body(ByteStream::from_static(b"replaced\n"))
        .expected_bucket_owner(&other)
        .send()
        .await
        .unwrap_err();
    assert!(refused(failure(&err)), "{err:?}");
    let kept = s3
        .get_object()
        .bucket(&bucket)
        .key("a.yaml")
        .send()
        .await
        .unwrap();
    let body = kept.body.collect().await.unwrap().into_bytes();
    assert_eq!(&body[..], b"kind: x\n", "a refused write changes nothing");

    // No condition: served as before.
    let listed = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(1));
}

#[tokio::test]
async fn a_missing_bucket_is_missing_whatever_owner_is_expected() {
    let emulator = emulator();
    let account = emulator.new_account();
    let err = client_of(&account)
        .await
        .list_objects_v2()
        .bucket(format!("never-created-{account}"))
        .expected_bucket_owner(&account)
        .send()
        .await
        .unwrap_err();
    let (code, _, status) = failure(&err);
    assert_eq!((code.as_str(), status), ("NoSuchBucket", 404));
}

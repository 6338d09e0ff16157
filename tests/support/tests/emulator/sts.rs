//! Accounts and credentials: AssumeRole against the emulator lands in the role's account.

use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
use ecs_topology_testkit::emulator;

/// Who the emulator says the credentials of `account` in `region` are.
async fn caller_identity(account: &str, region: &str) -> GetCallerIdentityOutput {
    let config = emulator().sdk_config(account, region).await;
    aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn assume_role_credentials_land_in_the_role_account() {
    let emulator = emulator();
    let account = emulator.new_account();
    let before = emulator.calls().await;
    let identity = caller_identity(&account, "ap-northeast-1").await;
    assert_eq!(identity.account(), Some(account.as_str()));
    let arn = identity.arn().unwrap_or_default();
    assert!(
        arn.starts_with(&format!(
            "arn:aws:sts::{account}:assumed-role/ecs-topology-test/"
        )),
        "{arn}"
    );

    let made = emulator.calls().await.since(&before);
    // The AssumeRole itself is made from the emulator's default account, not the new one.
    assert_eq!(
        made.operations(&account).into_iter().collect::<Vec<_>>(),
        [("GetCallerIdentity".to_owned(), 1)]
    );
    assert!(made.count("123456789012", "AssumeRole") >= 1);
}

#[tokio::test]
async fn every_new_account_is_distinct_and_twelve_digits() {
    let emulator = emulator();
    let accounts: Vec<String> = (0..50).map(|_| emulator.new_account()).collect();
    let unique: std::collections::BTreeSet<_> = accounts.iter().collect();
    assert_eq!(unique.len(), accounts.len());
    assert!(
        accounts
            .iter()
            .all(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
    );
    assert!(!accounts.iter().any(|a| a == "123456789012"));
}

#[tokio::test]
async fn the_credentials_of_one_account_work_in_every_region() {
    let emulator = emulator();
    let account = emulator.new_account();
    let before = emulator.calls().await;
    for region in ["us-east-1", "eu-west-1", "ap-northeast-1"] {
        let identity = caller_identity(&account, region).await;
        assert_eq!(identity.account(), Some(account.as_str()));
    }
    let made = emulator.calls().await.since(&before);
    let regions: Vec<_> = made
        .rows
        .iter()
        .filter(|r| r.account == account)
        .map(|r| (r.region.as_str(), r.operation.as_str(), r.calls))
        .collect();
    assert_eq!(
        regions,
        [
            ("ap-northeast-1", "GetCallerIdentity", 1),
            ("eu-west-1", "GetCallerIdentity", 1),
            ("us-east-1", "GetCallerIdentity", 1)
        ]
    );
}

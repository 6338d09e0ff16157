//! Accounts: one AssumeRole per target account, credentials in the right account, refresh.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use ecs_topology_aws::{AccountError, AccountsOptions};
use ecs_topology_core::config::AccountConfig;
use ecs_topology_testkit::emulator;
use futures::future::join_all;

use super::{EAST, WEST, World};

async fn caller_account(
    accounts: &ecs_topology_aws::Accounts,
    account: &str,
    region: &str,
) -> String {
    let clients = accounts.clients(account, region).await.unwrap();
    let identity = clients.sts.get_caller_identity().send().await.unwrap();
    identity.account().unwrap().to_owned()
}

#[tokio::test]
async fn many_calls_in_two_regions_assume_each_role_once() {
    let (world, targets) = World::new(&["server", "client"]);
    let accounts = world.accounts().await;
    let before = emulator().calls().await;

    // Cold start: every call at once, so the first uses of each account race.
    let accounts = &accounts;
    let calls = targets.iter().flat_map(|target| {
        [EAST, WEST].into_iter().flat_map(move |region| {
            (0..10).map(move |_| async move {
                let clients = accounts.clients(target, region).await.unwrap();
                clients.ec2.describe_vpcs().send().await.unwrap();
            })
        })
    });
    join_all(calls).await;

    let made = emulator().calls().await.since(&before);
    assert_eq!(made.count(&world.own, "AssumeRole"), 2, "{made:?}");
    for target in &targets {
        assert_eq!(made.count(target, "DescribeVpcs"), 20);
        assert_eq!(made.count(target, "AssumeRole"), 0);
    }
}

#[tokio::test]
async fn credentials_land_in_the_target_account() {
    let (mut world, targets) = World::new(&["server", "client"]);
    world
        .config
        .accounts
        .get_mut("client")
        .unwrap()
        .session_name = Some("reconciler".into());
    let accounts = world.accounts().await;

    for (alias, target) in ["server", "client"].iter().zip(&targets) {
        let clients = accounts.clients(alias, WEST).await.unwrap();
        assert_eq!(&clients.account_id, target);
        let identity = clients.sts.get_caller_identity().send().await.unwrap();
        assert_eq!(identity.account(), Some(target.as_str()));
        let session = if *alias == "client" {
            "reconciler"
        } else {
            "ecs-topology-test"
        };
        assert_eq!(
            identity.arn(),
            Some(format!("arn:aws:sts::{target}:assumed-role/ecs-topology/{session}").as_str())
        );
    }
    let expiries: Vec<String> = accounts
        .credential_expiries()
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(expiries, ["client", "server"]);
}

#[tokio::test]
async fn an_account_without_a_role_uses_the_base_credentials() {
    let (mut world, _) = World::new(&[]);
    world.config.accounts.insert(
        "home".into(),
        AccountConfig {
            id: world.own.clone(),
            role_arn: None,
            external_id: None,
            session_name: None,
        },
    );
    let accounts = world.accounts().await;
    let before = emulator().calls().await;

    assert_eq!(caller_account(&accounts, "home", EAST).await, world.own);
    assert_eq!(caller_account(&accounts, &world.own, WEST).await, world.own);

    let made = emulator().calls().await.since(&before);
    assert_eq!(made.count(&world.own, "AssumeRole"), 0);
    assert_eq!(made.count(&world.own, "GetCallerIdentity"), 2);
    assert!(accounts.credential_expiries().is_empty());
}

#[tokio::test]
async fn the_own_account_needs_no_config_and_is_asked_once() {
    let (world, _) = World::new(&[]);
    let accounts = world.accounts().await;
    let before = emulator().calls().await;

    for region in [EAST, WEST, EAST] {
        assert_eq!(
            caller_account(&accounts, &world.own, region).await,
            world.own
        );
    }

    let made = emulator().calls().await.since(&before);
    // One GetCallerIdentity to tell the own account, three made through the clients.
    assert_eq!(made.count(&world.own, "GetCallerIdentity"), 4);
    assert_eq!(made.count(&world.own, "AssumeRole"), 0);
}

#[tokio::test]
async fn an_unknown_account_is_refused_without_calling_aws() {
    let (world, _) = World::new(&["server"]);
    let accounts = world.accounts().await;
    assert_eq!(accounts.own_account().await.unwrap(), world.own);
    let stranger = emulator().new_account();
    let before = emulator().calls().await;

    let refused = accounts.clients(&stranger, EAST).await.unwrap_err();
    assert!(
        matches!(&refused, AccountError::NoRole { account } if *account == stranger),
        "{refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        format!(
            "account {stranger} is neither in the controller config nor the controller's own account: no role to reach it"
        )
    );
    assert!(matches!(
        accounts.sdk_config("no-such-alias", EAST).await,
        Err(AccountError::NoRole { .. })
    ));

    let made = emulator().calls().await.since(&before);
    assert_eq!(made.total(&world.own), 0);
    assert_eq!(made.total(&stranger), 0);
}

#[tokio::test]
async fn credentials_are_refreshed_before_they_expire() {
    let (world, targets) = World::new(&["server"]);
    let now = Arc::new(Mutex::new(SystemTime::now()));
    let clock = now.clone();
    let options = AccountsOptions {
        clock: Arc::new(move || *clock.lock().unwrap()),
        ..AccountsOptions::default()
    };
    let accounts = world.accounts_with(options).await;
    let target = &targets[0];
    let assumed = || async { emulator().calls().await.count(&world.own, "AssumeRole") };
    let start = assumed().await;

    assert_eq!(caller_account(&accounts, target, EAST).await, *target);
    assert_eq!(assumed().await - start, 1);
    let [(alias, expiry)] = accounts.credential_expiries().try_into().unwrap();
    assert_eq!(alias, "server");

    // Six minutes before expiry: still cached, in every region.
    *now.lock().unwrap() = expiry - Duration::from_secs(360);
    assert_eq!(caller_account(&accounts, target, WEST).await, *target);
    assert_eq!(assumed().await - start, 1);

    // Four minutes before expiry: renewed once, however many calls want them at once.
    *now.lock().unwrap() = expiry - Duration::from_secs(240);
    let calls = (0..8).map(|_| caller_account(&accounts, target, EAST));
    for account in join_all(calls).await {
        assert_eq!(account, *target);
    }
    assert_eq!(assumed().await - start, 2);
}

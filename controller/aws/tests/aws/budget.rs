//! Rate budgets and retries: a throttled family slows down, retries happen only where they can
//! help.

use std::collections::BTreeMap;

use std::sync::Arc;

use ecs_topology_aws::{ApiBudgets, ApiFamily, Clients, ErrorClass, classify};
use ecs_topology_core::config::RateBudget;
use ecs_topology_testkit::emulator;
use serde_json::json;

use super::{EAST, Recorder, World};

/// The budgets of `world`'s config, reporting to a recorder, and the clients of `target` in
/// [`EAST`].
async fn budgeted(world: &World, target: &str) -> (Arc<Recorder>, ApiBudgets, Clients) {
    let accounts = world.accounts().await;
    let recorder = Recorder::new();
    let budgets = ApiBudgets::new(&world.config, recorder.clone()).unwrap();
    let clients = accounts.clients(target, EAST).await.unwrap();
    (recorder, budgets, clients)
}

#[tokio::test]
async fn a_throttled_family_slows_down_and_the_calls_still_succeed() {
    let (mut world, targets) = World::new(&["server"]);
    // Our budget allows a burst of 20 at 8/s; AWS (the emulator) a burst of 3 at 10/s.
    world.config.rate_budgets = BTreeMap::from([(
        "ecs:read".to_owned(),
        RateBudget {
            burst: 20,
            refill_per_second: 8.0,
        },
    )]);
    let target = &targets[0];
    let (recorder, budgets, clients) = budgeted(&world, target).await;
    let twelve_calls = async {
        for _ in 0..12 {
            budgets
                .call(target, EAST, ApiFamily::EcsRead, || {
                    clients.ecs.list_clusters().send()
                })
                .await
                .unwrap();
        }
    };
    let aws = json!({"throttle": {"families": {"ecs:ListClusters": {"burst": 3, "refill": 10}}}});
    let ((), made) = emulator()
        .with_profile(target, aws, emulator().calls_during(twelve_calls))
        .await;

    assert!(made.throttled(target) > 0, "{made:?}");
    assert_eq!(
        made.count(target, "ListClusters"),
        12 + made.throttled(target),
        "every throttled attempt was retried"
    );
    let rate = budgets.rate(target, EAST, ApiFamily::EcsRead);
    assert!(rate < 8.0, "the family's rate stayed at {rate}");
    let recorded = recorder.calls();
    assert_eq!(recorded.len(), 12);
    assert!(recorded.iter().all(|call| call.outcome.is_ok()
        && call.service == "ecs"
        && call.operation == "ListClusters"
        && call.account == "server"));
    let throttled: u64 = recorded.iter().map(|call| u64::from(call.throttled)).sum();
    assert_eq!(throttled, made.throttled(target));
    // Another family of the same account, and the same family elsewhere, keep their rates.
    assert_eq!(budgets.rate(target, EAST, ApiFamily::EcsMutate), 5.0);
    assert_eq!(budgets.rate(target, "eu-west-1", ApiFamily::EcsRead), 8.0);
}

#[tokio::test]
async fn validation_errors_are_not_retried() {
    let (world, targets) = World::new(&["server"]);
    let target = &targets[0];
    let (recorder, budgets, clients) = budgeted(&world, target).await;

    let (result, made) = emulator()
        .calls_during(budgets.call(target, EAST, ApiFamily::Ec2Mutate, || {
            clients.ec2.create_vpc().cidr_block("not-a-cidr").send()
        }))
        .await;

    assert_eq!(classify(&result.unwrap_err()), ErrorClass::Validation);
    assert_eq!(made.count(target, "CreateVpc"), 1);
    let [call] = recorder.calls().try_into().unwrap();
    assert_eq!(
        (call.outcome, call.attempts, call.operation.as_str()),
        (Err(ErrorClass::Validation), 1, "CreateVpc")
    );
}

#[tokio::test]
async fn transient_errors_are_retried_a_few_times() {
    let (world, targets) = World::new(&["server"]);
    let target = &targets[0];
    let (recorder, budgets, clients) = budgeted(&world, target).await;
    // Assume the role before the faults start.
    clients.sts.get_caller_identity().send().await.unwrap();

    let describe = budgets.call(target, EAST, ApiFamily::Ec2Describe("DescribeVpcs"), || {
        clients.ec2.describe_vpcs().send()
    });
    let (result, made) = emulator()
        .with_profile(
            target,
            json!({"faults": {"http500": 1.0}}),
            emulator().calls_during(describe),
        )
        .await;

    assert_eq!(classify(&result.unwrap_err()), ErrorClass::Transient);
    assert_eq!(
        made.count(target, "DescribeVpcs"),
        u64::from(ecs_topology_aws::accounts::MAX_ATTEMPTS)
    );
    let [call] = recorder.calls().try_into().unwrap();
    assert_eq!(call.attempts, ecs_topology_aws::accounts::MAX_ATTEMPTS);
    assert_eq!(call.throttled, 0);
    // Server errors are not a reason to slow down.
    assert_eq!(
        budgets.rate(target, EAST, ApiFamily::Ec2Describe("DescribeVpcs")),
        20.0
    );
}

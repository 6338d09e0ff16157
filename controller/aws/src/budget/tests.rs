use std::sync::Mutex;

use aws_sdk_ecs::operation::list_clusters::ListClustersError;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use ecs_topology_core::config::{AccountConfig, RateBudget};

use super::*;

/// (account, operation, outcome, attempts) of each call.
type Observed = (String, String, Result<(), ErrorClass>, u32);

#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<Observed>>);

impl CallObserver for Recorder {
    fn observe(&self, call: &CallRecord<'_>) {
        self.0.lock().unwrap().push((
            call.account.to_owned(),
            call.operation.to_owned(),
            call.outcome,
            call.attempts,
        ));
    }
}

fn config(overrides: &[(&str, u32, f64)]) -> ControllerConfig {
    let mut config = ControllerConfig::default();
    config.accounts.insert(
        "server".into(),
        AccountConfig {
            id: "111111111111".into(),
            role_arn: None,
            external_id: None,
            session_name: None,
        },
    );
    for (name, burst, refill_per_second) in overrides {
        config.rate_budgets.insert(
            (*name).to_owned(),
            RateBudget {
                burst: *burst,
                refill_per_second: *refill_per_second,
            },
        );
    }
    config
}

fn throttled() -> SdkError<ListClustersError, HttpResponse> {
    SdkError::service_error(
        ListClustersError::generic(ErrorMetadata::builder().code("ThrottlingException").build()),
        HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::empty()),
    )
}

#[test]
fn families_are_seeded_from_the_published_rates() {
    let budgets = ApiBudgets::new(&config(&[]), Arc::new(NoObserver)).unwrap();
    let rate = |family| budgets.rate("111111111111", "us-east-1", family);
    assert_eq!(rate(ApiFamily::Ec2Describe("DescribeVpcEndpoints")), 20.0);
    assert_eq!(rate(ApiFamily::Ec2VpcEndpointMutate), 0.3);
    assert_eq!(rate(ApiFamily::EcsMutate), 5.0);
    assert_eq!(rate(ApiFamily::EcsTags), 20.0);
    assert_eq!(rate(ApiFamily::CloudMap), UNPUBLISHED.1);
}

#[test]
fn the_config_overrides_a_family_by_name() {
    let overrides = [
        ("ecs:read", 10, 2.0),
        ("ec2:describe", 10, 3.0),
        ("ec2:DescribeVpcEndpoints", 10, 4.0),
    ];
    let budgets = ApiBudgets::new(&config(&overrides), Arc::new(NoObserver)).unwrap();
    let rate = |family| budgets.rate("111111111111", "us-east-1", family);
    assert_eq!(rate(ApiFamily::EcsRead), 2.0);
    assert_eq!(rate(ApiFamily::Ec2Describe("DescribeVpcs")), 3.0);
    assert_eq!(rate(ApiFamily::Ec2Describe("DescribeVpcEndpoints")), 4.0);
    assert_eq!(rate(ApiFamily::EcsMutate), 5.0);
}

#[test]
fn an_override_of_an_unknown_family_is_refused() {
    let err = ApiBudgets::new(&config(&[("ecs:reads", 1, 1.0)]), Arc::new(NoObserver)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("rateBudgets.ecs:reads: not an API family (known: ec2:<DescribeApi>"),
        "{err}"
    );
}

#[test]
fn every_family_name_is_accepted_as_an_override() {
    let describe = ApiFamily::Ec2Describe("DescribeRouteTables");
    for family in std::iter::once(describe).chain(ApiFamily::FIXED) {
        assert!(ApiFamily::is_name(&family.name()), "{family:?}");
    }
    assert!(!ApiFamily::is_name("ec2:Describe"));
    assert!(!ApiFamily::is_name("ec2:<DescribeApi>"));
}

#[tokio::test(start_paused = true)]
async fn a_throttled_call_without_the_interceptor_still_slows_its_family_down() {
    let recorder = Arc::new(Recorder::default());
    let budgets = ApiBudgets::new(&config(&[]), recorder.clone()).unwrap();
    let result = budgets
        .call("111111111111", "us-east-1", ApiFamily::EcsRead, || async {
            Err::<(), _>(throttled())
        })
        .await;
    assert!(result.is_err());
    assert_eq!(
        budgets.rate("111111111111", "us-east-1", ApiFamily::EcsRead),
        10.0
    );
    // Another account's bucket is untouched.
    assert_eq!(
        budgets.rate("222222222222", "us-east-1", ApiFamily::EcsRead),
        20.0
    );
    let recorded = recorder.0.lock().unwrap().clone();
    assert_eq!(
        recorded,
        [(
            "server".to_owned(),
            "unknown".to_owned(),
            Err(ErrorClass::Throttling),
            0
        )]
    );
}

#[tokio::test(start_paused = true)]
async fn calls_wait_for_their_family_token() {
    let budgets = ApiBudgets::new(
        &config(&[("ec2:vpc-endpoint-mutate", 1, 0.5)]),
        Arc::new(NoObserver),
    )
    .unwrap();
    let started = Instant::now();
    for _ in 0..3 {
        budgets
            .call(
                "111111111111",
                "us-east-1",
                ApiFamily::Ec2VpcEndpointMutate,
                || async { Ok::<_, SdkError<ListClustersError, HttpResponse>>(()) },
            )
            .await
            .unwrap();
    }
    // One token at once, then one every two seconds.
    assert_eq!(started.elapsed(), Duration::from_secs(4));
}

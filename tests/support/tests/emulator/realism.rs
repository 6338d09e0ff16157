//! The emulator's realism layer, seen through the Rust SDK: call counts, throttling, latency and
//! injected faults, per account.

use std::time::{Duration, Instant};

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_types::SdkConfig;
use ecs_topology_testkit::emulator;
use serde_json::json;

const REGION: &str = "us-east-1";

/// A profile that gives the named families a bucket of one call that (practically) never refills.
fn one_call_per_family(families: &[&str]) -> serde_json::Value {
    let families: serde_json::Map<_, _> = families
        .iter()
        .map(|f| (f.to_string(), json!({"burst": 1, "refill": 0.0001})))
        .collect();
    json!({"throttle": {"families": families}})
}

fn status<E>(err: &SdkError<E, aws_smithy_runtime_api::http::Response>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

async fn config(account: &str) -> SdkConfig {
    emulator().sdk_config(account, REGION).await
}

/// A fresh account and the SDK config of its session.
async fn new_account() -> (String, SdkConfig) {
    let account = emulator().new_account();
    let config = config(&account).await;
    (account, config)
}

fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

#[tokio::test]
async fn a_throttled_call_gets_the_throttling_error_of_its_protocol_and_is_counted() {
    let emulator = emulator();
    let (account, config) = new_account().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let ecs = aws_sdk_ecs::Client::new(&config);
    let ram = aws_sdk_ram::Client::new(&config);
    let sts = aws_sdk_sts::Client::new(&config);
    let cloudmap = aws_sdk_servicediscovery::Client::new(&config);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let s3 = s3_client(&config);
    s3.create_bucket().bucket("throttled").send().await.unwrap();
    s3.put_object()
        .bucket("throttled")
        .key("k")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    emulator
        .set_profile(
            &[&account],
            one_call_per_family(&[
                "ec2:DescribeVpcs",
                "ecs:ListClusters",
                "ram:GetResourceShares",
                "sts:GetCallerIdentity",
                "servicediscovery:ListNamespaces",
                "dynamodb:ListTables",
                "s3:reads",
            ]),
        )
        .await;
    let before = emulator.calls().await;

    // (code, HTTP status) of the first and of the second call of each protocol.
    macro_rules! twice {
        ($call:expr) => {{
            $call.await.expect("the first call has a token");
            let err = $call.await.expect_err("the second call is throttled");
            (err.code().map(str::to_owned), status(&err))
        }};
    }
    let seen = [
        ("ec2", twice!(ec2.describe_vpcs().send())),
        ("ecs", twice!(ecs.list_clusters().send())),
        (
            "ram",
            twice!(
                ram.get_resource_shares()
                    .resource_owner(aws_sdk_ram::types::ResourceOwner::SelfValue)
                    .send()
            ),
        ),
        ("sts", twice!(sts.get_caller_identity().send())),
        (
            "servicediscovery",
            twice!(cloudmap.list_namespaces().send()),
        ),
        ("dynamodb", twice!(dynamodb.list_tables().send())),
        (
            "s3",
            twice!(s3.get_object().bucket("throttled").key("k").send()),
        ),
    ];
    let expected = [
        ("ec2", (Some("RequestLimitExceeded".to_owned()), Some(503))),
        ("ecs", (Some("ThrottlingException".to_owned()), Some(400))),
        ("ram", (Some("ThrottlingException".to_owned()), Some(429))),
        ("sts", (Some("Throttling".to_owned()), Some(400))),
        (
            "servicediscovery",
            (Some("ThrottlingException".to_owned()), Some(400)),
        ),
        (
            "dynamodb",
            (Some("ThrottlingException".to_owned()), Some(400)),
        ),
        ("s3", (Some("SlowDown".to_owned()), Some(503))),
    ];
    assert_eq!(seen, expected);

    let made = emulator.calls().await.since(&before);
    assert_eq!(made.total(&account), 14);
    assert_eq!(made.throttled(&account), 7);
    for operation in [
        "DescribeVpcs",
        "ListClusters",
        "GetResourceShares",
        "GetCallerIdentity",
        "ListNamespaces",
        "ListTables",
        "GetObject",
    ] {
        let row = made
            .rows
            .iter()
            .find(|r| r.account == account && r.operation == operation)
            .unwrap_or_else(|| panic!("no row for {operation}: {made:?}"));
        assert_eq!(
            (row.calls, row.throttled, row.faulted),
            (2, 1, 0),
            "{operation}"
        );
    }
}

#[tokio::test]
async fn the_sdk_retries_a_throttled_call_as_throttling() {
    let emulator = emulator();
    let account = emulator.new_account();
    emulator
        .set_profile(&[&account], one_call_per_family(&["ecs:ListClusters"]))
        .await;
    let config = config(&account).await;
    let retrying = aws_sdk_ecs::config::Builder::from(&config)
        .retry_config(
            aws_smithy_types::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(10))
                .with_max_backoff(Duration::from_millis(50)),
        )
        .build();
    let ecs = aws_sdk_ecs::Client::from_conf(retrying);
    let before = emulator.calls().await;
    ecs.list_clusters().send().await.unwrap();
    let err = ecs.list_clusters().send().await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"));
    let made = emulator.calls().await.since(&before);
    // One call with the token, then one SDK call made three attempts, all throttled.
    assert_eq!(made.count(&account, "ListClusters"), 4);
    assert_eq!(made.throttled(&account), 3);
}

#[tokio::test]
async fn a_profile_on_one_account_does_not_affect_another() {
    let emulator = emulator();
    let throttled = emulator.new_account();
    let free = emulator.new_account();
    emulator
        .set_profile(
            &[&throttled],
            json!({"throttle": {"families": {"ec2:DescribeVpcs": {"burst": 1, "refill": 0.0001}}},
                   "latency_ms": {"fixed": 0, "jitter": 0},
                   "faults": {"http500": 0.0}}),
        )
        .await;
    let throttled_ec2 = aws_sdk_ec2::Client::new(&config(&throttled).await);
    let free_ec2 = aws_sdk_ec2::Client::new(&config(&free).await);
    let before = emulator.calls().await;

    throttled_ec2.describe_vpcs().send().await.unwrap();
    for _ in 0..5 {
        free_ec2.describe_vpcs().send().await.unwrap();
    }
    let err = throttled_ec2.describe_vpcs().send().await.unwrap_err();
    assert_eq!(err.code(), Some("RequestLimitExceeded"));

    let made = emulator.calls().await.since(&before);
    assert_eq!((made.total(&free), made.throttled(&free)), (5, 0));
    assert_eq!((made.total(&throttled), made.throttled(&throttled)), (2, 1));
}

/// Calls `call` until it is throttled (at most `limit` times); how many calls went through
/// first, and how many the bucket may have refilled meanwhile at `refill` per second.
async fn calls_until_throttled<F, Fut>(limit: usize, refill: f64, mut call: F) -> (usize, usize)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Option<String>>,
{
    let started = Instant::now();
    let mut passed = 0;
    while passed < limit {
        if call(passed).await.as_deref() == Some("throttled") {
            break;
        }
        passed += 1;
    }
    let refilled = (started.elapsed().as_secs_f64() * refill).floor() as usize;
    (passed, refilled)
}

#[tokio::test]
async fn default_rates_follow_aws_published_buckets_per_api_family() {
    let emulator = emulator();
    let account = emulator.new_account();
    emulator
        .set_profile(&[&account], json!({"throttle": true}))
        .await;
    let config = config(&account).await;
    let ec2 = aws_sdk_ec2::Client::new(&config);

    // DeleteVpcEndpoints has a bucket of 4 refilled at 0.3/s.
    let (passed, refilled) = calls_until_throttled(20, 0.3, |_| async {
        let result = ec2
            .delete_vpc_endpoints()
            .vpc_endpoint_ids("vpce-0123456789abcdef0")
            .send()
            .await;
        match result {
            Err(e) if e.code() == Some("RequestLimitExceeded") => Some("throttled".to_owned()),
            Err(e) => Some(format!("{e:?}")),
            Ok(_) => None,
        }
    })
    .await;
    assert!(
        (4..=4 + refilled).contains(&passed),
        "{passed} calls passed"
    );
    // Another API has its own bucket.
    ec2.describe_vpc_endpoints().send().await.unwrap();

    // ECS DescribeServices and ListServices share one bucket (100/20, scaled here to 5/1).
    emulator
        .set_profile(&[&account], json!({"throttle": {"scale": 0.05}}))
        .await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    ecs.create_cluster().cluster_name("c").send().await.unwrap();
    let (passed, refilled) = calls_until_throttled(40, 1.0, |i| {
        let ecs = ecs.clone();
        async move {
            let code = if i % 2 == 0 {
                ecs.list_services()
                    .cluster("c")
                    .send()
                    .await
                    .err()
                    .and_then(|e| e.code().map(str::to_owned))
            } else {
                ecs.describe_services()
                    .cluster("c")
                    .services("none")
                    .send()
                    .await
                    .err()
                    .and_then(|e| e.code().map(str::to_owned))
            };
            (code.as_deref() == Some("ThrottlingException")).then(|| "throttled".to_owned())
        }
    })
    .await;
    assert!(
        (5..=5 + refilled).contains(&passed),
        "{passed} calls passed"
    );
    // Service changes have a bucket of their own.
    let err = ecs
        .delete_service()
        .cluster("c")
        .service("none")
        .send()
        .await
        .unwrap_err();
    assert_ne!(err.code(), Some("ThrottlingException"));
}

/// Gives `account` a realism profile of nothing but `faults`.
async fn inject(account: &str, faults: serde_json::Value) {
    emulator()
        .set_profile(&[account], json!({ "faults": faults }))
        .await;
}

#[tokio::test]
async fn injected_faults_reach_the_sdk_and_are_counted() {
    let emulator = emulator();
    let (account, config) = new_account().await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let before = emulator.calls().await;

    inject(&account, json!({"http500": 1.0})).await;
    let err = ec2.describe_vpcs().send().await.unwrap_err();
    assert_eq!(
        (err.code(), status(&err)),
        (Some("InternalError"), Some(500))
    );

    inject(&account, json!({"http503": 1.0})).await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let err = ecs.list_clusters().send().await.unwrap_err();
    assert_eq!(
        (err.code(), status(&err)),
        (Some("ServiceUnavailable"), Some(503))
    );

    inject(&account, json!({"reset": 1.0})).await;
    let err = ec2.describe_vpcs().send().await.unwrap_err();
    assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");

    // A reset after processing: the call took effect, but its reply is lost.
    inject(&account, json!({"reset_after": 1.0})).await;
    let err = ec2
        .create_vpc()
        .cidr_block("10.42.0.0/16")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");

    inject(&account, json!({"slow": 1.0, "slow_ms": 300})).await;
    let started = Instant::now();
    ec2.describe_vpcs().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));

    emulator
        .set_profile(&[&account], serde_json::Value::Null)
        .await;
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    assert!(
        vpcs.vpcs()
            .iter()
            .any(|v| v.cidr_block() == Some("10.42.0.0/16"))
    );

    let made = emulator.calls().await.since(&before);
    assert_eq!(made.faulted(&account), 5);
    assert_eq!(made.throttled(&account), 0);
    assert_eq!(made.count(&account, "DescribeVpcs"), 4);
    assert_eq!(made.count(&account, "CreateVpc"), 1);
    assert_eq!(made.count(&account, "ListClusters"), 1);
}

#[tokio::test]
async fn a_hung_call_gets_no_reply_and_only_the_sdk_timeout_ends_it() {
    let emulator = emulator();
    let (account, config) = new_account().await;
    inject(
        &account,
        json!({"hang": 1.0, "hang_ms": 30000, "operations": ["ecs:ListClusters"]}),
    )
    .await;
    let impatient = aws_sdk_ecs::config::Builder::from(&config)
        .timeout_config(
            aws_smithy_types::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_millis(800))
                .build(),
        )
        .build();
    let ecs = aws_sdk_ecs::Client::from_conf(impatient);
    let before = emulator.calls().await;

    let started = Instant::now();
    let err = ecs.list_clusters().send().await.unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
    assert!(
        (Duration::from_millis(800)..Duration::from_secs(10)).contains(&waited),
        "{waited:?}"
    );
    // Operations the fault does not name are answered.
    ecs.create_cluster().cluster_name("h").send().await.unwrap();
    ecs.list_services().cluster("h").send().await.unwrap();

    let made = emulator.calls().await.since(&before);
    assert_eq!(made.count(&account, "ListClusters"), 1);
    assert_eq!(made.faulted(&account), 1);
    emulator
        .set_profile(&[&account], serde_json::Value::Null)
        .await;
}

#[tokio::test]
async fn a_seeded_profile_injects_the_same_faults_again() {
    let emulator = emulator();
    let account = emulator.new_account();
    let ecs = aws_sdk_ecs::Client::new(&config(&account).await);
    let profile = json!({"faults": {"http500": 0.3, "http503": 0.2}, "seed": 7});
    let mut runs = Vec::new();
    for _ in 0..2 {
        emulator.set_profile(&[&account], profile.clone()).await;
        let mut outcomes = Vec::new();
        for _ in 0..30 {
            let result = ecs.list_clusters().send().await;
            outcomes.push(result.err().and_then(|e| e.code().map(str::to_owned)));
        }
        runs.push(outcomes);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].iter().any(Option::is_none));
    assert!(
        runs[0]
            .iter()
            .any(|c| c.as_deref() == Some("InternalError"))
    );
    assert!(
        runs[0]
            .iter()
            .any(|c| c.as_deref() == Some("ServiceUnavailable"))
    );
}

#[tokio::test]
async fn latency_applies_to_every_call_of_the_account() {
    let emulator = emulator();
    let account = emulator.new_account();
    emulator
        .set_profile(
            &[&account],
            json!({"latency_ms": {"fixed": 150, "jitter": 50}}),
        )
        .await;
    let sts = aws_sdk_sts::Client::new(&config(&account).await);
    for _ in 0..3 {
        let started = Instant::now();
        sts.get_caller_identity().send().await.unwrap();
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    }
}

#[tokio::test]
async fn calls_are_counted_per_account_region_and_operation() {
    let emulator = emulator();
    let first = emulator.new_account();
    let second = emulator.new_account();
    let east = emulator.sdk_config(&first, "us-east-1").await;
    let west = emulator.sdk_config(&first, "eu-west-1").await;
    let other = emulator.sdk_config(&second, "us-east-1").await;
    let before = emulator.calls().await;

    for (config, times) in [(&east, 2), (&west, 1), (&other, 3)] {
        let ec2 = aws_sdk_ec2::Client::new(config);
        for _ in 0..times {
            ec2.describe_vpcs().send().await.unwrap();
        }
    }
    aws_sdk_ecs::Client::new(&west)
        .create_cluster()
        .cluster_name("counted")
        .send()
        .await
        .unwrap();

    let made = emulator.calls().await.since(&before);
    let mut rows: Vec<_> = made
        .rows
        .iter()
        .filter(|r| r.account == first || r.account == second)
        .map(|r| {
            (
                r.account.as_str(),
                r.region.as_str(),
                r.service.as_str(),
                r.operation.as_str(),
                r.calls,
            )
        })
        .collect();
    rows.sort();
    let mut expected = vec![
        (first.as_str(), "eu-west-1", "ec2", "DescribeVpcs", 1),
        (first.as_str(), "eu-west-1", "ecs", "CreateCluster", 1),
        (first.as_str(), "us-east-1", "ec2", "DescribeVpcs", 2),
        (second.as_str(), "us-east-1", "ec2", "DescribeVpcs", 3),
    ];
    expected.sort();
    assert_eq!(rows, expected);
    assert_eq!(made.total(&first), 4);
    assert_eq!(made.mutating(&first), 1);
    assert_eq!(made.count(&first, "DescribeVpcs"), 3);
    assert_eq!(
        made.operations(&first).into_iter().collect::<Vec<_>>(),
        [
            ("CreateCluster".to_owned(), 1),
            ("DescribeVpcs".to_owned(), 3)
        ]
    );
}

#[tokio::test]
async fn admin_calls_are_neither_counted_nor_throttled() {
    let emulator = emulator();
    let account = emulator.new_account();
    let before = emulator.calls().await;
    for _ in 0..5 {
        emulator
            .set_profile(&[&account], json!({"throttle": {"scale": 0.01}}))
            .await;
        emulator
            .set_settings(&[&account], json!({"ec2.vpc_endpoint_pending": 0}))
            .await;
        emulator.calls().await;
    }
    let made = emulator.calls().await.since(&before);
    assert_eq!(made.total(&account), 0);
    assert!(
        made.rows.iter().all(|r| r.service != "unknown"
            && !r.operation.contains("_emulator")
            && !r.operation.contains("moto-api")),
        "{made:?}"
    );
    emulator.set_profile(&[&account], json!(null)).await;
}

#[test]
fn the_realism_layer_passes_its_python_unit_tests() {
    // The emulator's own environment (created by the first emulator start).
    let _ = emulator();
    let here = ecs_topology_testkit::workspace_root().join("tests/emulator");
    let output = std::process::Command::new(here.join(".venv/bin/python"))
        .args(["-m", "unittest", "discover", "-s", "tests", "-t", "."])
        .current_dir(&here)
        .env("PYTHONPATH", &here)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

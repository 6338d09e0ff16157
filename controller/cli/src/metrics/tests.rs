use ecs_topology_aws::{ApiFamily, CallObserver, CallRecord};
use ecs_topology_core::engine::ReconcileResult;
use ecs_topology_core::plan::FieldChange;
use ecs_topology_core::queue::QueueObserver;
use ecs_topology_core::status::DocumentStatus;
use ecs_topology_core::status::ErrorClass;

use super::*;

/// A plan of `name` changing the given field paths.
fn drift(name: &str, verb: Verb, paths: &[&str]) -> DocumentPlan {
    let changes = paths
        .iter()
        .map(|path| FieldChange {
            path: (*path).to_owned(),
            from: None,
            to: Some(serde_json::json!("x")),
        })
        .collect();
    DocumentPlan::new(Key::new(Kind::CloudMapNamespace, name), verb).with_changes(changes)
}

fn in_sync(name: &str) -> DocumentPlan {
    DocumentPlan::new(Key::new(Kind::CloudMapNamespace, name), Verb::InSync)
}

fn call(account: &str, outcome: Result<(), ErrorClass>, throttled: u32) -> CallRecord<'_> {
    CallRecord {
        service: "ec2",
        operation: "DescribeVpcEndpoints",
        account,
        region: "eu-west-1",
        family: &ApiFamily::Ec2Mutate,
        outcome,
        attempts: 1 + throttled,
        throttled,
        waited: Duration::ZERO,
    }
}

/// Exercises every method with documents whose names must never show in the text.
fn busy_metrics() -> Metrics {
    let metrics = Metrics::new().unwrap();
    metrics.set_account_aliases(&BTreeMap::from([(
        "server".to_owned(),
        "111111111111".to_owned(),
    )]));
    let counts = BTreeMap::from([(
        Kind::CloudMapNamespace,
        DocumentCounts {
            valid: 2,
            invalid: 1,
        },
    )]);
    metrics.record_documents(&counts);
    metrics.record_plan(
        Kind::CloudMapNamespace,
        "111111111111",
        &drift("payments-secret-namespace", Verb::Update, &["tags.env"]),
    );
    metrics.record_reconcile(Kind::CloudMapNamespace, ReconcileResult::Changed);
    metrics.observe_reconcile_duration(Kind::CloudMapNamespace, Duration::from_millis(1));
    metrics.added();
    metrics.retried();
    metrics.picked_up(Duration::from_millis(3));
    metrics.finished(Duration::from_millis(40));
    metrics.record_queue(&QueueStats {
        depth: 3,
        longest_running: Duration::from_secs(2),
        ..QueueStats::default()
    });
    metrics.observe(&call("server", Err(ErrorClass::Throttling), 2));
    metrics.source_loaded(SourceKind::of_uri("s3://bucket/prefix/"));
    metrics.set_leader(true);
    metrics.prune_blocked();
    metrics.set_credentials_expiry(vec![(
        "server".to_owned(),
        SystemTime::now() + Duration::from_secs(900),
    )]);
    metrics.set_oldest_unsynced(Duration::from_secs(5));
    metrics.expect_events();
    for service in ecs_topology_core::events::sources() {
        metrics.event_read(service, false);
        metrics.event_read(service, true);
    }
    metrics.event_ignored();
    metrics.event_lag(Duration::from_millis(1500));
    metrics.event_queue_failed();
    metrics.set_event_queue_age(Duration::from_secs(2));
    metrics.targeted_observation(Kind::CloudMapNamespace);
    metrics
}

#[test]
fn every_family_is_in_the_text_after_use() {
    let text = busy_metrics().encode().unwrap();
    for family in labels::FAMILIES.map(|f| f.name) {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} missing from:\n{text}"
        );
    }
    assert!(text.contains(&format!(
        "ecs_topology_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    )));
    assert_eq!(Metrics::CONTENT_TYPE, "text/plain; version=0.0.4");
}

#[test]
fn every_series_carries_the_labels_and_values_its_family_declares() {
    let metrics = busy_metrics();
    for kind in Kind::ALL {
        for result in ReconcileResult::all() {
            metrics.record_reconcile(kind, result);
        }
    }
    metrics.observe(&call("222222222222", Ok(()), 0));
    let gathered = metrics.registry.gather();
    assert_eq!(gathered.len(), labels::FAMILIES.len());
    for family in &gathered {
        let declared = labels::FAMILIES
            .iter()
            .find(|f| f.name == family.name())
            .unwrap_or_else(|| panic!("{} is not declared in labels.rs", family.name()));
        for series in family.get_metric() {
            let names: BTreeSet<&str> = series.get_label().iter().map(|l| l.name()).collect();
            assert_eq!(
                names,
                declared.labels.iter().copied().collect(),
                "{}",
                family.name()
            );
            for label in series.get_label() {
                let values = labels::values(label.name()).unwrap();
                assert!(
                    values.admits(label.value()),
                    "{}{{{}=\"{}\"}} is outside {values:?}",
                    family.name(),
                    label.name(),
                    label.value()
                );
            }
        }
    }
}

#[test]
fn labels_carry_aliases_and_classes_never_object_names() {
    let text = busy_metrics().encode().unwrap();
    assert!(!text.contains("payments-secret-namespace"), "{text}");
    assert!(!text.contains("111111111111"), "{text}");
    assert!(text.contains(
        "ecs_topology_aws_calls_total{account=\"server\",operation=\"DescribeVpcEndpoints\",\
         outcome=\"throttling\",service=\"ec2\"} 1"
    ));
    assert!(
        text.contains("ecs_topology_aws_throttles_total{account=\"server\",service=\"ec2\"} 2")
    );
    assert!(text.contains(
        "ecs_topology_drift_detections_total{field_class=\"tags\",kind=\"CloudMapNamespace\"} 1"
    ));
    assert!(text.contains("ecs_topology_source_last_success_timestamp_seconds{source=\"s3\"}"));
}

#[test]
fn drift_is_counted_once_per_new_field_class_and_the_gauge_follows_the_last_plans() {
    let metrics = Metrics::new().unwrap();
    let detections = |class: &str| {
        metrics
            .drift_detections
            .with_label_values(&["CloudMapNamespace", class])
            .get()
    };
    let drifted = || {
        metrics
            .documents_drifted
            .with_label_values(&["CloudMapNamespace", "server"])
            .get()
    };
    let plan = drift("a", Verb::Update, &["tags.env", "tags.team", "description"]);
    metrics.record_plan(Kind::CloudMapNamespace, "server", &plan);
    metrics.record_plan(Kind::CloudMapNamespace, "server", &plan);
    let suspended = drift("b", Verb::Suspended, &["description"]);
    metrics.record_plan(Kind::CloudMapNamespace, "server", &suspended);
    assert_eq!((detections("tags"), detections("description")), (1, 2));
    assert_eq!(drifted(), 2);

    metrics.record_plan(Kind::CloudMapNamespace, "server", &in_sync("a"));
    assert_eq!(drifted(), 1);
    metrics.record_plan(Kind::CloudMapNamespace, "server", &plan);
    assert_eq!((detections("tags"), drifted()), (2, 2));

    metrics.retain_documents(|key| key.name != "b");
    assert_eq!(drifted(), 1);
    metrics.retain_documents(|_| false);
    assert_eq!(drifted(), 0);
}

#[test]
fn a_plan_that_creates_is_not_drift() {
    let metrics = Metrics::new().unwrap();
    let create = drift("a", Verb::Create, &["description"]);
    metrics.record_plan(Kind::CloudMapNamespace, "server", &create);
    let text = metrics.encode().unwrap();
    assert!(
        !text.contains("ecs_topology_drift_detections_total{"),
        "{text}"
    );
    assert_eq!(
        metrics
            .documents_drifted
            .with_label_values(&["CloudMapNamespace", "server"])
            .get(),
        0
    );
}

#[test]
fn a_result_is_labelled_by_its_class_and_an_unknown_field_path_as_other() {
    let metrics = Metrics::new().unwrap();
    metrics.record_reconcile(
        Kind::VpcEndpointSet,
        ReconcileResult::Failed(ErrorClass::Throttling),
    );
    metrics.record_reconcile(Kind::VpcEndpointSet, ReconcileResult::Changed);
    let count = |result: &str| {
        metrics
            .reconciles
            .with_label_values(&["VpcEndpointSet", result])
            .get()
    };
    assert_eq!((count("throttling"), count("changed")), (1, 1));
    assert_eq!(field_class("endpoints.ecr.api.policy"), "endpoints");
    assert_eq!(field_class("principals[1]"), "principals");
    assert_eq!(field_class("primaryContainer.image"), "primaryContainer");
    assert_eq!(field_class("arn:aws:ec2:x"), "other");
    assert_eq!(field_class(""), "other");
}

#[test]
fn reconciles_start_at_zero_for_every_kind_and_result() {
    let text = Metrics::new().unwrap().encode().unwrap();
    assert!(text.contains(
        "ecs_topology_reconcile_total{kind=\"ExpressService\",result=\"access_denied\"} 0"
    ));
    assert!(
        text.contains("ecs_topology_reconcile_total{kind=\"NamespaceShare\",result=\"in_sync\"} 0")
    );
}

#[test]
fn scrape_hooks_refresh_gauges_before_encoding() {
    let metrics = Metrics::new().unwrap();
    metrics.on_scrape(|m| {
        m.record_queue(&QueueStats {
            depth: 7,
            ..QueueStats::default()
        })
    });
    let text = metrics.encode().unwrap();
    assert!(text.contains("ecs_topology_workqueue_depth 7"), "{text}");
}

#[test]
fn expired_credentials_read_negative_and_old_accounts_are_dropped() {
    let metrics = Metrics::new().unwrap();
    let now = SystemTime::now();
    metrics.set_credentials_expiry(vec![("old".to_owned(), now)]);
    metrics.set_credentials_expiry(vec![("server".to_owned(), now - Duration::from_secs(60))]);
    let text = metrics.encode().unwrap();
    assert!(!text.contains("account=\"old\""), "{text}");
    let left = metrics
        .credentials_expiry
        .with_label_values(&["server"])
        .get();
    assert!((-61.0..=-59.0).contains(&left), "{left}");
}

#[test]
fn documents_are_counted_per_kind_and_a_kind_gone_reads_zero() {
    let metrics = Metrics::new().unwrap();
    let mut counts = BTreeMap::from([(
        Kind::NamespaceShare,
        DocumentCounts {
            valid: 3,
            invalid: 1,
        },
    )]);
    metrics.record_documents(&counts);
    let get = |validity: &str| {
        metrics
            .documents
            .with_label_values(&["NamespaceShare", validity])
            .get()
    };
    assert_eq!((get("valid"), get("invalid")), (3, 1));
    counts.clear();
    metrics.record_documents(&counts);
    assert_eq!((get("valid"), get("invalid")), (0, 0));
}

#[test]
fn the_oldest_unsynced_document_is_the_longest_not_synced() {
    let record = |name: &str, synced: ConditionStatus, since: u64| {
        let mut status = DocumentStatus::default();
        status.set(ConditionType::Synced, synced, "X", "", since);
        StatusRecord {
            key: Key::new(Kind::CloudMapNamespace, name),
            account: "111111111111".into(),
            region: "eu-west-1".into(),
            status,
        }
    };
    let records = [
        record("a", ConditionStatus::True, 10),
        record("b", ConditionStatus::False, 400),
        record("c", ConditionStatus::Unknown, 700),
    ];
    let now = UNIX_EPOCH + Duration::from_secs(1_000);
    assert_eq!(oldest_unsynced(&records, now), Duration::from_secs(600));
    assert_eq!(oldest_unsynced(&records[..1], now), Duration::ZERO);
}

#[test]
fn documents_owning_several_objects_are_counted_until_their_plan_says_otherwise() {
    let metrics = Metrics::new().unwrap();
    let gauge = |m: &Metrics| {
        m.encode()
            .unwrap()
            .lines()
            .find(|l| {
                l.starts_with("ecs_topology_documents_owning_several{kind=\"NamespaceShare\"}")
            })
            .map(str::to_owned)
    };
    assert_eq!(
        gauge(&metrics).as_deref(),
        Some("ecs_topology_documents_owning_several{kind=\"NamespaceShare\"} 0")
    );
    // As the share plan makes it for a key tagged on two shares.
    let key = Key::new(Kind::NamespaceShare, "payments-to-client");
    let mut blocked = DocumentPlan::new(key.clone(), Verb::Blocked).because("owns 2 objects");
    blocked.owns_several = true;
    metrics.record_plan(Kind::NamespaceShare, "server", &blocked);
    assert!(gauge(&metrics).unwrap().ends_with(" 1"));
    metrics.record_plan(
        Kind::NamespaceShare,
        "server",
        &DocumentPlan::new(key, Verb::InSync),
    );
    assert!(gauge(&metrics).unwrap().ends_with(" 0"));
}

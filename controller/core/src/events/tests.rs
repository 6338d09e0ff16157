use super::*;

/// An EventBridge event of a CloudTrail-recorded call, shaped as the EventBridge and CloudTrail
/// references show it.
fn event(source: &str, name: &str, arn: &str) -> String {
    serde_json::json!({
        "version": "0",
        "id": "6f2b1c2e-0000-4000-8000-000000000001",
        "detail-type": "AWS API Call via CloudTrail",
        "source": format!("aws.{}", source.trim_end_matches(".amazonaws.com")),
        "account": "111111111111",
        "time": "2026-12-02T01:02:03Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": "AROAEXAMPLE:session",
                "arn": arn,
                "accountId": "111111111111"
            },
            "eventTime": "2026-12-02T01:02:03Z",
            "eventSource": source,
            "eventName": name,
            "awsRegion": "eu-west-1",
            "requestParameters": {"id": "ns-abc", "updaterRequestId": "x"},
            "responseElements": {"operationId": "op-1"},
            "requestID": "0000",
            "eventID": "1111",
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": "111111111111",
            "eventCategory": "Management"
        }
    })
    .to_string()
}

const BY_HAND: &str = "arn:aws:sts::111111111111:assumed-role/Admin/jane@example.com";
const OURS: &str = "arn:aws:sts::111111111111:assumed-role/ecs-topology-target/ecs-topology";

fn ours() -> BTreeSet<String> {
    BTreeSet::from(["ecs-topology".to_owned()])
}

#[test]
fn a_change_by_hand_touches_its_kind_in_its_account_and_region() {
    let touch = read_event(
        &event(
            "servicediscovery.amazonaws.com",
            "UpdateHttpNamespace",
            BY_HAND,
        ),
        &ours(),
    )
    .unwrap();
    assert_eq!(touch.scope, Scope::new("111111111111", "eu-west-1"));
    assert_eq!(touch.kinds, BTreeSet::from([Kind::CloudMapNamespace]));
    assert_eq!(touch.source, "servicediscovery");
    assert!(!touch.own);
    assert_eq!(touch.event_time, epoch_seconds("2026-12-02T01:02:03Z"));
}

#[test]
fn every_event_a_kind_lists_maps_to_that_kind_and_the_controllers_own_are_recognised() {
    for kind in Kind::ALL {
        for (source, name) in events_of(kind) {
            let touch = read_event(&event(source, name, OURS), &ours()).unwrap();
            assert!(touch.kinds.contains(&kind), "{source} {name}");
            assert!(touch.own, "{source} {name}");
            assert!(sources().contains(touch.source));
        }
    }
}

#[test]
fn reads_other_services_and_other_events_are_ignored() {
    assert_eq!(
        read_event(
            &event("ec2.amazonaws.com", "DescribeVpcEndpoints", BY_HAND),
            &ours()
        ),
        Err(Ignored::Unmapped {
            source: "ec2.amazonaws.com".into(),
            name: "DescribeVpcEndpoints".into()
        })
    );
    assert!(matches!(
        read_event(&event("s3.amazonaws.com", "PutObject", BY_HAND), &ours()),
        Err(Ignored::Unmapped { .. })
    ));
    let other = r#"{"detail-type": "EC2 Instance State-change Notification", "detail": {}}"#;
    assert_eq!(read_event(other, &ours()), Err(Ignored::NotApiCall));
    assert_eq!(read_event("not json", &ours()), Err(Ignored::NotApiCall));
}

#[test]
fn cloudtrail_times_read_as_epoch_seconds() {
    assert_eq!(epoch_seconds("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(epoch_seconds("2000-03-01T00:00:00Z"), Some(951_868_800));
    assert_eq!(
        epoch_seconds("2026-12-02T01:02:03.456Z"),
        Some(1_796_173_323)
    );
    assert_eq!(epoch_seconds("2026-13-02T01:02:03Z"), None);
    assert_eq!(epoch_seconds("yesterday"), None);
}

fn share_touch() -> Touch {
    read_event(
        &event("ram.amazonaws.com", "AssociateResourceShare", BY_HAND),
        &ours(),
    )
    .unwrap()
}

fn share_pair() -> BTreeSet<(Scope, Kind)> {
    BTreeSet::from([(
        Scope::new("111111111111", "eu-west-1"),
        Kind::NamespaceShare,
    )])
}

#[test]
fn a_lone_change_is_due_at_once() {
    let start = tokio::time::Instant::now();
    let mut debounce = Debounce::new(Duration::from_secs(2));
    assert_eq!(debounce.due_in(start), None);
    assert_eq!(debounce.take_due(start), None);
    debounce.add(&share_touch(), start);
    assert_eq!(debounce.due_in(start), Some(Duration::ZERO));
    assert_eq!(debounce.take_due(start), Some(share_pair()));
    assert_eq!(debounce.due_in(start), None);
    // Another lone change, after a quiet window, is due at once too.
    let later = start + Duration::from_secs(5);
    debounce.add(&share_touch(), later);
    assert_eq!(debounce.take_due(later), Some(share_pair()));
}

#[test]
fn the_rest_of_a_burst_is_observed_once_per_scope_and_kind_when_the_window_closes() {
    let start = tokio::time::Instant::now();
    let mut debounce = Debounce::new(Duration::from_secs(2));
    debounce.add(&share_touch(), start);
    assert_eq!(debounce.take_due(start), Some(share_pair()));
    // The burst goes on within the window: held back until it closes, then handed out once.
    for ms in [300, 900, 1_500] {
        debounce.add(&share_touch(), start + Duration::from_millis(ms));
    }
    let at = start + Duration::from_millis(1_500);
    assert_eq!(debounce.take_due(at), None);
    assert_eq!(debounce.due_in(at), Some(Duration::from_millis(500)));
    let closed = start + Duration::from_secs(2);
    assert_eq!(debounce.take_due(closed), Some(share_pair()));
    assert_eq!(debounce.due_in(closed), None);
    // A change within the next window waits for it as well.
    debounce.add(&share_touch(), closed + Duration::from_millis(100));
    assert_eq!(
        debounce.due_in(closed + Duration::from_millis(100)),
        Some(Duration::from_millis(1_900))
    );
}

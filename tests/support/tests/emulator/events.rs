//! CloudTrail events through EventBridge and SQS as the emulator delivers them: a change made in
//! a target account reaches, through a rule on that account's default bus, a central bus in
//! another account (admitted by its policy) and from there a queue, as the CloudTrail record of
//! the call; EC2's endpoint changes carry the endpoint id where EC2's record has it; reads publish
//! nothing; the delivery delay and the drop fraction apply.

use std::time::{Duration, Instant};

use aws_sdk_ec2 as ec2;
use aws_sdk_ec2::types::VpcEndpointType;
use aws_sdk_servicediscovery::types::HttpNamespaceChange;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use ecs_topology_testkit::emulator;
use ecs_topology_testkit::events::EventQueue;
use serde_json::{Value, json};

use crate::cloudmap::{cloud_map, create_namespace};

const REGION: &str = "ap-northeast-1";

/// The pattern of a rule that matches the CloudTrail records of the calls `names` of the
/// service `service` (as in `aws.<service>` and `<service>.amazonaws.com`).
fn calls_of(service: &str, names: &[&str]) -> Value {
    json!({
        "detail-type": ["AWS API Call via CloudTrail"],
        "source": [format!("aws.{service}")],
        "detail": {
            "eventSource": [format!("{service}.amazonaws.com")],
            "eventName": names
        }
    })
}

/// What the controller's rules match: Cloud Map's namespace changes.
fn namespace_changes() -> Value {
    calls_of(
        "servicediscovery",
        &[
            "CreateHttpNamespace",
            "UpdateHttpNamespace",
            "DeleteNamespace",
        ],
    )
}

/// EC2's VPC endpoint changes.
fn endpoint_changes() -> Value {
    calls_of(
        "ec2",
        &[
            "CreateVpcEndpoint",
            "ModifyVpcEndpoint",
            "DeleteVpcEndpoints",
        ],
    )
}

/// Every CloudTrail event of Cloud Map, reads included if there were any.
fn everything_of_cloud_map() -> Value {
    json!({"detail-type": ["AWS API Call via CloudTrail"], "source": ["aws.servicediscovery"]})
}

/// A target account whose default bus forwards to a central bus of another account, whose rule
/// feeds a queue there.
struct Wiring {
    target: String,
    queue: EventQueue,
}

/// Wires a fresh target account to a fresh central account, the target's rule forwarding what
/// `pattern` matches; `admit` says whether the central bus's policy admits the target account.
async fn wire(pattern: &Value, admit: bool) -> Wiring {
    let emulator = emulator();
    let (target, central) = (emulator.new_account(), emulator.new_account());
    let senders: &[&str] = if admit { &[&target] } else { &[] };
    let queue = EventQueue::create(emulator, &central, REGION, senders).await;
    queue
        .forward_from(emulator, &target, REGION, "to-central", pattern)
        .await;
    Wiring { target, queue }
}

impl Wiring {
    /// Asserts that no event reaches the queue within 300 ms.
    async fn assert_receives_nothing(&self) {
        let events = self.received(Duration::from_millis(300)).await;
        assert!(events.is_empty(), "{events:#?}");
    }

    /// The events in the queue after `wait` (deleted as they are read).
    async fn received(&self, wait: Duration) -> Vec<Value> {
        tokio::time::sleep(wait).await;
        let mut events = Vec::new();
        loop {
            let messages = self
                .queue
                .client
                .receive_message()
                .queue_url(&self.queue.url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap()
                .messages
                .unwrap_or_default();
            if messages.is_empty() {
                return events;
            }
            for message in messages {
                let body = message.body().unwrap_or_default();
                events.push(serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}")));
                self.queue
                    .client
                    .delete_message()
                    .queue_url(&self.queue.url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// The first events to arrive, polling for up to `limit`, and how long they took.
    async fn first(&self, limit: Duration) -> (Vec<Value>, Duration) {
        let started = Instant::now();
        loop {
            let events = self.received(Duration::ZERO).await;
            if !events.is_empty() || started.elapsed() > limit {
                return (events, started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Creates a namespace in the target account (its event is read and dropped) and returns
    /// its id.
    async fn namespace(&self, name: &str) -> String {
        let (_, id) = create_namespace(&cloud_map(&self.target).await, name).await;
        self.received(Duration::ZERO).await;
        id
    }

    /// Sets emulator settings of the target account.
    async fn set(&self, settings: Value) {
        emulator().set_settings(&[&self.target], settings).await;
    }

    async fn describe(&self, id: &str, description: &str) {
        cloud_map(&self.target)
            .await
            .update_http_namespace()
            .id(id)
            .namespace(
                HttpNamespaceChange::builder()
                    .description(description)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
}

fn names(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["detail"]["eventName"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn a_namespace_description_changed_by_hand_reaches_the_central_queue_as_its_cloudtrail_record()
 {
    let wiring = wire(&namespace_changes(), true).await;
    let target = wiring.target.as_str();
    let id = wiring.namespace("events-by-hand").await;

    wiring.describe(&id, "changed by hand").await;

    let events = wiring.received(Duration::ZERO).await;
    assert_eq!(names(&events), ["UpdateHttpNamespace"], "{events:#?}");
    let event = &events[0];
    assert_eq!(event["detail-type"], "AWS API Call via CloudTrail");
    assert_eq!(event["source"], "aws.servicediscovery");
    assert_eq!(event["account"], target);
    assert_eq!(event["region"], REGION);
    let detail = &event["detail"];
    assert_eq!(detail["eventSource"], "servicediscovery.amazonaws.com");
    assert_eq!(detail["awsRegion"], REGION);
    assert_eq!(detail["recipientAccountId"], target);
    assert_eq!(detail["requestParameters"]["id"], id.as_str());
    assert_eq!(
        detail["requestParameters"]["namespace"]["description"],
        "changed by hand"
    );
    assert!(detail["responseElements"]["operationId"].is_string());
    assert_eq!(detail["userIdentity"]["type"], "AssumedRole");
    assert_eq!(
        detail["userIdentity"]["arn"],
        format!("arn:aws:sts::{target}:assumed-role/ecs-topology-test/ecs-topology-test")
    );
    assert_eq!(
        detail["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"],
        format!("arn:aws:iam::{target}:role/ecs-topology-test")
    );
    assert_eq!(detail["readOnly"], false);
    assert_eq!(detail["eventType"], "AwsApiCall");
    assert_eq!(detail["managementEvent"], true);
    assert_eq!(detail["eventCategory"], "Management");
    assert_eq!(detail["eventTime"], event["time"]);
}

#[tokio::test]
async fn describe_and_list_calls_publish_nothing() {
    let wiring = wire(&everything_of_cloud_map(), true).await;
    let id = wiring.namespace("events-reads").await;
    let client = cloud_map(&wiring.target).await;

    client.get_namespace().id(&id).send().await.unwrap();
    client.list_namespaces().send().await.unwrap();
    client.list_services().send().await.unwrap();

    wiring.assert_receives_nothing().await;
}

#[tokio::test]
async fn a_central_bus_whose_policy_does_not_admit_the_account_receives_nothing() {
    let wiring = wire(&namespace_changes(), false).await;
    let id = wiring.namespace("events-not-admitted").await;

    wiring.describe(&id, "unseen").await;

    wiring.assert_receives_nothing().await;
}

#[tokio::test]
async fn a_drop_fraction_of_one_drops_every_event() {
    let wiring = wire(&namespace_changes(), true).await;
    let id = wiring.namespace("events-dropped").await;

    wiring.set(json!({"events.drop_fraction": 1.0})).await;
    for n in 0..5 {
        wiring.describe(&id, &format!("dropped {n}")).await;
    }
    let dropped = wiring.received(Duration::from_millis(300)).await;

    wiring.set(json!({"events.drop_fraction": 0.0})).await;
    wiring.describe(&id, "delivered").await;
    let delivered = wiring.received(Duration::ZERO).await;

    assert!(dropped.is_empty(), "{dropped:#?}");
    assert_eq!(names(&delivered), ["UpdateHttpNamespace"]);
    assert_eq!(
        delivered[0]["detail"]["requestParameters"]["namespace"]["description"],
        "delivered"
    );
}

/// SQS stamps each message with the time it accepted it, in epoch milliseconds, as AWS does
/// (`SentTimestamp`, asked for with `MessageSystemAttributeNames`): what the controller's
/// queue-age metric reads.
#[tokio::test]
async fn a_delivered_event_carries_the_time_sqs_accepted_it() {
    let wiring = wire(&namespace_changes(), true).await;
    let id = wiring.namespace("events-stamped").await;
    let epoch_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    };
    let before = epoch_ms();
    wiring.describe(&id, "stamped").await;
    let after = epoch_ms();

    let messages = wiring
        .queue
        .client
        .receive_message()
        .queue_url(&wiring.queue.url)
        .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let attributes = messages[0].attributes().unwrap();
    assert_eq!(
        attributes.len(),
        1,
        "only what was asked for: {attributes:?}"
    );
    let sent: u128 = attributes[&MessageSystemAttributeName::SentTimestamp]
        .parse()
        .unwrap();
    assert!(
        before <= sent && sent <= after,
        "{before} <= {sent} <= {after}"
    );
}

#[tokio::test]
async fn the_delivery_delay_holds_each_event_back() {
    let wiring = wire(&namespace_changes(), true).await;
    let id = wiring.namespace("events-delayed").await;
    wiring.set(json!({"events.delivery_delay": 1.5})).await;

    let changed = Instant::now();
    wiring.describe(&id, "later").await;
    let at_once = wiring.received(Duration::ZERO).await;
    let (events, _) = wiring.first(Duration::from_secs(10)).await;
    let took = changed.elapsed();

    assert!(at_once.is_empty(), "{at_once:#?}");
    assert_eq!(names(&events), ["UpdateHttpNamespace"]);
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

#[tokio::test]
async fn vpc_endpoint_changes_arrive_as_ec2_records_them_with_the_endpoint_id() {
    let wiring = wire(&endpoint_changes(), true).await;
    let ec2 = ec2::Client::new(&emulator().sdk_config(&wiring.target, REGION).await);
    let vpc = crate::ec2::vpc(&ec2, "10.42.0.0/16", false).await;
    let route_table = crate::ec2::route_table(&ec2, &vpc).await;

    let endpoint = ec2
        .create_vpc_endpoint()
        .vpc_id(&vpc)
        .vpc_endpoint_type(VpcEndpointType::Gateway)
        .service_name(format!("com.amazonaws.{REGION}.s3"))
        .route_table_ids(&route_table)
        .send()
        .await
        .unwrap()
        .vpc_endpoint
        .and_then(|e| e.vpc_endpoint_id)
        .unwrap();
    ec2.delete_vpc_endpoints()
        .vpc_endpoint_ids(&endpoint)
        .send()
        .await
        .unwrap();

    let events = wiring.received(Duration::ZERO).await;
    assert_eq!(
        names(&events),
        ["CreateVpcEndpoint", "DeleteVpcEndpoints"],
        "{events:#?}"
    );
    let (created, deleted) = (&events[0]["detail"], &events[1]["detail"]);
    assert_eq!(events[0]["source"], "aws.ec2");
    assert_eq!(created["eventSource"], "ec2.amazonaws.com");
    assert_eq!(
        created["requestParameters"]["CreateVpcEndpointRequest"]["VpcId"],
        vpc.as_str()
    );
    assert_eq!(
        created["responseElements"]["vpcEndpoint"]["vpcEndpointId"],
        endpoint.as_str()
    );
    assert_eq!(
        deleted["requestParameters"]["DeleteVpcEndpointsRequest"]["VpcEndpointId"]["content"],
        endpoint.as_str()
    );
}

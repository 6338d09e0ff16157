//! The change-event path as `deploy/` wires it, in the emulator: a queue and a central event bus
//! in the controller's own account (the bus admitting the target accounts, its rule feeding the
//! queue every CloudTrail API-call event), and rules on the target accounts' default buses
//! forwarding what the controller observes again for.

use std::collections::HashMap;

use aws_sdk_eventbridge as eb;
use aws_sdk_eventbridge::types::Target;
use aws_sdk_sqs as sqs;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};

use crate::Emulator;

/// The name of the queue, of the central bus and of the rules.
const NAME: &str = "ecs-topology-events";

/// The events queue and the central bus that feeds it.
#[derive(Debug, Clone)]
pub struct EventQueue {
    pub client: sqs::Client,
    pub url: String,
    /// The central bus: what the target accounts' rules forward to.
    pub bus_arn: String,
}

impl EventQueue {
    /// Creates, in `own` and `region`, the queue and the central bus admitting `senders` (account
    /// ids), whose rule forwards every `AWS API Call via CloudTrail` event to the queue. With no
    /// senders the bus has no policy: it admits no other account.
    ///
    /// # Panics
    /// When a call fails.
    pub async fn create(
        emulator: &Emulator,
        own: &str,
        region: &str,
        senders: &[&str],
    ) -> EventQueue {
        let config = emulator.sdk_config(own, region).await;
        let client = sqs::Client::new(&config);
        let url = sent("CreateQueue", client.create_queue().queue_name(NAME).send())
            .await
            .queue_url
            .unwrap_or_default();
        let queue_arn = attributes(&client, &url, &[QueueAttributeName::QueueArn])
            .await
            .remove(&QueueAttributeName::QueueArn)
            .unwrap_or_default();
        let central = eb::Client::new(&config);
        let bus_arn = sent(
            "CreateEventBus",
            central.create_event_bus().name(NAME).send(),
        )
        .await
        .event_bus_arn
        .unwrap_or_default();
        if !senders.is_empty() {
            let principals: Vec<String> = senders
                .iter()
                .map(|a| format!("arn:aws:iam::{a}:root"))
                .collect();
            let policy = json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "targets", "Effect": "Allow", "Principal": {"AWS": principals},
                    "Action": "events:PutEvents", "Resource": bus_arn
                }]
            });
            central
                .put_permission()
                .event_bus_name(NAME)
                .policy(policy.to_string())
                .send()
                .await
                .unwrap_or_else(|e| panic!("PutPermission: {e:?}"));
        }
        let api_calls = json!({"detail-type": ["AWS API Call via CloudTrail"]});
        put_rule(&central, Some(NAME), NAME, &api_calls, &queue_arn).await;
        EventQueue {
            client,
            url,
            bus_arn,
        }
    }

    /// Puts a rule named `name` on the default bus of `account` in `region`, forwarding the
    /// events `pattern` matches to the central bus.
    ///
    /// # Panics
    /// When a call fails.
    pub async fn forward_from(
        &self,
        emulator: &Emulator,
        account: &str,
        region: &str,
        name: &str,
        pattern: &Value,
    ) {
        let events = eb::Client::new(&emulator.sdk_config(account, region).await);
        put_rule(&events, None, name, pattern, &self.bus_arn).await;
    }

    /// Messages in the queue, visible or in flight.
    ///
    /// # Panics
    /// When the call fails.
    pub async fn queued(&self) -> u64 {
        let counts = [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        ];
        attributes(&self.client, &self.url, &counts)
            .await
            .values()
            .filter_map(|v| v.parse::<u64>().ok())
            .sum()
    }
}

/// The reply of a call that must succeed.
///
/// # Panics
/// When the call fails; the panic names `what` and the error.
async fn sent<T, E: std::fmt::Debug>(what: &str, call: impl Future<Output = Result<T, E>>) -> T {
    call.await.unwrap_or_else(|e| panic!("{what}: {e:?}"))
}

/// The attributes `names` of the queue `url`.
///
/// # Panics
/// When the call fails.
async fn attributes(
    client: &sqs::Client,
    url: &str,
    names: &[QueueAttributeName],
) -> HashMap<QueueAttributeName, String> {
    let call = client
        .get_queue_attributes()
        .queue_url(url)
        .set_attribute_names(Some(names.to_vec()));
    sent("GetQueueAttributes", call.send())
        .await
        .attributes
        .unwrap_or_default()
}

async fn put_rule(client: &eb::Client, bus: Option<&str>, name: &str, pattern: &Value, to: &str) {
    client
        .put_rule()
        .name(name)
        .set_event_bus_name(bus.map(str::to_owned))
        .event_pattern(pattern.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutRule {name}: {e:?}"));
    let target = Target::builder()
        .id("next")
        .arn(to)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    client
        .put_targets()
        .rule(name)
        .set_event_bus_name(bus.map(str::to_owned))
        .targets(target)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutTargets {name}: {e:?}"));
}

//! The queue of change events: the SQS queue the central event bus delivers CloudTrail's
//! records of mutating calls to (see `deploy/`), long-polled by the controller.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::config::timeout::TimeoutConfig;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use ecs_topology_core::config::EventsConfig;

use crate::call::{Aws, AwsError};
use crate::{AccountError, Accounts, ApiBudgets, ApiFamily, Clients};

/// SQS hands out at most ten messages a call.
const MAX_MESSAGES: i32 = 10;
/// SQS's longest long poll.
const MAX_WAIT: Duration = Duration::from_secs(20);

/// One message: the event's JSON, what deletes it, and when it entered the queue.
#[derive(Debug, Clone)]
pub struct Received {
    pub body: String,
    pub receipt_handle: String,
    /// When SQS accepted the message (its `SentTimestamp`), when SQS says.
    pub sent_at: Option<SystemTime>,
}

/// The events queue, in the controller's own account.
#[derive(Debug)]
pub struct EventQueue {
    clients: Clients,
    budgets: ApiBudgets,
    url: String,
    /// The attempt timeout of the config: a long poll's attempt may take its wait on top.
    attempt: Duration,
}

impl EventQueue {
    /// The queue `config` names, reached from the controller's own account, in the region of its
    /// URL (`https://sqs.REGION.amazonaws.com/...`), else `region`. `attempt` is the config's
    /// attempt timeout: a long poll's attempt (and its operation) may take the poll's wait
    /// longer, so that the wait is SQS's full 20 s whatever the attempt timeout.
    ///
    /// # Errors
    /// When the controller's own account cannot be told.
    pub async fn open(
        config: &EventsConfig,
        accounts: &Accounts,
        budgets: &ApiBudgets,
        region: &str,
        attempt: Duration,
    ) -> Result<EventQueue, AccountError> {
        let account = accounts.own_account().await?;
        let region = region_of(&config.queue_url).unwrap_or(region);
        let clients = accounts.clients(&account, region).await?;
        Ok(EventQueue {
            clients,
            budgets: budgets.clone(),
            url: config.queue_url.clone(),
            attempt,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn aws(&self) -> Aws<'_> {
        Aws::new(&self.clients, &self.budgets)
    }

    /// Up to ten messages, waiting at most `wait` (capped at SQS's 20 s) for the first.
    ///
    /// # Errors
    /// The failed call.
    pub async fn receive(&self, wait: Duration) -> Result<Vec<Received>, AwsError> {
        let wait = wait.min(MAX_WAIT);
        let seconds = i32::try_from(wait.as_secs()).unwrap_or(0);
        let sqs = &self.clients.sqs;
        let reply = self
            .aws()
            .call("ReceiveMessage", ApiFamily::Sqs, || {
                sqs.receive_message()
                    .queue_url(&self.url)
                    .max_number_of_messages(MAX_MESSAGES)
                    .wait_time_seconds(seconds)
                    .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
                    .customize()
                    .config_override(
                        aws_sdk_sqs::config::Builder::default()
                            .timeout_config(self.long_poll_timeouts(wait)),
                    )
                    .send()
            })
            .await?;
        Ok(reply.messages().iter().filter_map(received).collect())
    }

    /// The client's timeouts with `wait` added to the attempt and operation timeouts.
    fn long_poll_timeouts(&self, wait: Duration) -> TimeoutConfig {
        let base = self.clients.sqs.config().timeout_config();
        let operation = base.and_then(TimeoutConfig::operation_timeout);
        let mut timeouts = TimeoutConfig::builder()
            .operation_attempt_timeout(self.attempt + wait)
            .operation_timeout(operation.unwrap_or(self.attempt) + wait)
            .build();
        if let Some(base) = base {
            timeouts.take_defaults_from(base);
        }
        timeouts
    }

    /// Deletes the messages of `handles`, ten a call.
    ///
    /// # Errors
    /// The first failed call; a message SQS could not delete comes back after its visibility
    /// timeout and costs one more observation.
    pub async fn delete(&self, handles: &[String]) -> Result<(), AwsError> {
        let sqs = &self.clients.sqs;
        for chunk in handles.chunks(10) {
            let entries: Vec<DeleteMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, handle)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(handle)
                        .build()
                        .ok()
                })
                .collect();
            self.aws()
                .call("DeleteMessageBatch", ApiFamily::Sqs, || {
                    sqs.delete_message_batch()
                        .queue_url(&self.url)
                        .set_entries(Some(entries.clone()))
                        .send()
                })
                .await?;
        }
        Ok(())
    }
}

/// A received message, with the time SQS accepted it.
fn received(m: &Message) -> Option<Received> {
    let sent_at = m
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
        .and_then(|ms| ms.parse::<u64>().ok())
        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
    Some(Received {
        body: m.body()?.to_owned(),
        receipt_handle: m.receipt_handle()?.to_owned(),
        sent_at,
    })
}

/// The region of an SQS queue URL: `https://sqs.eu-west-1.amazonaws.com/1/q` → `eu-west-1`.
fn region_of(url: &str) -> Option<&str> {
    let host = url.split("://").nth(1)?.split('/').next()?;
    let mut parts = host.split('.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("sqs"), Some(region), Some("amazonaws")) => Some(region),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};

    use super::{received, region_of};

    #[test]
    fn a_received_message_carries_the_time_sqs_accepted_it() {
        let message = Message::builder()
            .body("{}")
            .receipt_handle("r-1")
            .attributes(MessageSystemAttributeName::SentTimestamp, "1764640800250")
            .build();
        let got = received(&message).unwrap();
        assert_eq!(got.receipt_handle, "r-1");
        assert_eq!(
            got.sent_at,
            Some(UNIX_EPOCH + Duration::from_millis(1_764_640_800_250))
        );
        let without = Message::builder().body("{}").receipt_handle("r-2").build();
        assert_eq!(received(&without).unwrap().sent_at, None);
    }

    #[test]
    fn the_region_of_a_queue_url() {
        assert_eq!(
            region_of("https://sqs.eu-west-1.amazonaws.com/111111111111/changes"),
            Some("eu-west-1")
        );
        assert_eq!(
            region_of("http://127.0.0.1:4566/111111111111/changes"),
            None
        );
    }
}

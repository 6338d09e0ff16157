//! The queue of change events: the SQS queue the central event bus delivers CloudTrail's
//! records of mutating calls to (see `deploy/`), long-polled by the controller.

use std::time::Duration;

use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use ecs_topology_core::config::EventsConfig;

use crate::call::{Aws, AwsError};
use crate::{AccountError, Accounts, ApiBudgets, ApiFamily, Clients};

/// SQS hands out at most ten messages a call.
const MAX_MESSAGES: i32 = 10;
/// SQS's longest long poll.
const MAX_WAIT: Duration = Duration::from_secs(20);

/// One message: the event's JSON and what deletes it.
#[derive(Debug, Clone)]
pub struct Received {
    pub body: String,
    pub receipt_handle: String,
}

/// The events queue, in the controller's own account.
#[derive(Debug)]
pub struct EventQueue {
    clients: Clients,
    budgets: ApiBudgets,
    url: String,
    /// The longest long poll: SQS's 20 s, within the attempt timeout of the config.
    longest_wait: Duration,
}

impl EventQueue {
    /// The queue `config` names, reached from the controller's own account, in the region of its
    /// URL (`https://sqs.REGION.amazonaws.com/...`), else `region`. `attempt` is the config's
    /// attempt timeout: a long poll ends a second before it.
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
            longest_wait: MAX_WAIT.min(attempt.saturating_sub(Duration::from_secs(1))),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn aws(&self) -> Aws<'_> {
        Aws::new(&self.clients, &self.budgets)
    }

    /// Up to ten messages, waiting at most `wait` (capped at the longest long poll) for the
    /// first.
    ///
    /// # Errors
    /// The failed call.
    pub async fn receive(&self, wait: Duration) -> Result<Vec<Received>, AwsError> {
        let seconds = i32::try_from(wait.min(self.longest_wait).as_secs()).unwrap_or(0);
        let sqs = &self.clients.sqs;
        let reply = self
            .aws()
            .call("ReceiveMessage", ApiFamily::Sqs, || {
                sqs.receive_message()
                    .queue_url(&self.url)
                    .max_number_of_messages(MAX_MESSAGES)
                    .wait_time_seconds(seconds)
                    .send()
            })
            .await?;
        Ok(reply
            .messages()
            .iter()
            .filter_map(|m| {
                Some(Received {
                    body: m.body()?.to_owned(),
                    receipt_handle: m.receipt_handle()?.to_owned(),
                })
            })
            .collect())
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
    use super::region_of;

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

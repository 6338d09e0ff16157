//! The events consumer of `run`: long-polls the events queue, reads each message into the
//! (account, region, kinds) it touches, coalesces a burst, observes just those again and
//! enqueues their documents; the poll stays as the safety net for what is lost on the way.
//!
//! # Guarantees
//! - A message is deleted only once what it touches has been observed again (or when it touches
//!   nothing managed, or the change was the controller's own); a process that dies before
//!   leaves it to come back after the queue's visibility timeout.
//! - A failing queue never stops the controller: the call is retried after a pause, and the
//!   poll keeps converging.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ecs_topology_aws::AwsCloud;
use ecs_topology_aws::events::{EventQueue, Received};
use ecs_topology_core::engine::Daemon;
use ecs_topology_core::events::{Debounce, read_event};
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// How long a failed call to the queue waits before the next.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// The role session names the controller uses in its target accounts: its events are its own.
pub fn own_sessions(config: &ecs_topology_core::config::ControllerConfig) -> BTreeSet<String> {
    config
        .accounts
        .values()
        .map(|a| {
            a.session_name
                .clone()
                .unwrap_or_else(|| config.name.clone())
        })
        .collect()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Consumes the queue until `stop`; `beat` after each receive.
pub async fn consume(
    queue: EventQueue,
    daemon: Arc<Daemon<AwsCloud>>,
    metrics: Arc<Metrics>,
    debounce: Duration,
    stop: CancellationToken,
    beat: impl Fn(),
) {
    let own = own_sessions(&daemon.config);
    let mut pending = Debounce::new(debounce);
    // Messages whose observation is pending, with the times of their changes.
    let mut waiting: Vec<(String, Option<u64>)> = Vec::new();
    tracing::info!(queue = queue.url(), "consuming change events");
    loop {
        beat();
        let now = tokio::time::Instant::now();
        if let Some(targets) = pending.take_due(now) {
            daemon.observe_targets(&targets).await;
            for (_, kind) in &targets {
                metrics.targeted_observation(*kind);
            }
            let observed = now_secs();
            for (_, at) in &waiting {
                if let Some(at) = at {
                    metrics.event_lag(Duration::from_secs(observed.saturating_sub(*at)));
                }
            }
            let handles: Vec<String> = waiting.drain(..).map(|(h, _)| h).collect();
            delete(&queue, &metrics, &handles).await;
            tracing::debug!(
                targets = targets.len(),
                messages = handles.len(),
                "observed what change events touched"
            );
        }
        let wait = pending
            .due_in(tokio::time::Instant::now())
            .unwrap_or(Duration::from_secs(20));
        let received = tokio::select! {
            received = queue.receive(wait) => received,
            () = stop.cancelled() => return,
        };
        let messages = match received {
            Ok(messages) => messages,
            Err(e) => {
                metrics.event_queue_failed();
                tracing::warn!(error = %e, "cannot read the events queue; the poll keeps converging");
                tokio::select! {
                    () = tokio::time::sleep(RETRY_AFTER) => continue,
                    () = stop.cancelled() => return,
                }
            }
        };
        metrics.set_event_queue_age(oldest(&messages, SystemTime::now()));
        let mut done = Vec::new();
        for message in messages {
            match read_event(&message.body, &own) {
                Ok(touch) if touch.own => {
                    metrics.event_read(touch.source, true);
                    done.push(message.receipt_handle);
                }
                Ok(touch) => {
                    metrics.event_read(touch.source, false);
                    pending.add(&touch, tokio::time::Instant::now());
                    waiting.push((message.receipt_handle, touch.event_time));
                }
                Err(why) => {
                    metrics.event_ignored();
                    tracing::debug!(?why, "an event that touches nothing managed");
                    done.push(message.receipt_handle);
                }
            }
        }
        delete(&queue, &metrics, &done).await;
    }
}

/// How long the oldest of `messages` had been in the queue at `now` (zero for none, or when SQS
/// did not say).
fn oldest(messages: &[Received], now: SystemTime) -> Duration {
    messages
        .iter()
        .filter_map(|m| now.duration_since(m.sent_at?).ok())
        .max()
        .unwrap_or_default()
}

async fn delete(queue: &EventQueue, metrics: &Metrics, handles: &[String]) {
    if handles.is_empty() {
        return;
    }
    if let Err(e) = queue.delete(handles).await {
        metrics.event_queue_failed();
        tracing::warn!(error = %e, "cannot delete events; they come back and are observed again");
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use ecs_topology_aws::events::Received;

    use super::oldest;

    fn sent(at: Option<SystemTime>) -> Received {
        Received {
            body: "{}".into(),
            receipt_handle: "r".into(),
            sent_at: at,
        }
    }

    #[test]
    fn the_queue_age_is_that_of_the_oldest_message_received_and_zero_for_none() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let messages = [
            sent(Some(now - Duration::from_secs(3))),
            sent(None),
            sent(Some(now - Duration::from_secs(40))),
        ];
        assert_eq!(oldest(&messages, now), Duration::from_secs(40));
        assert_eq!(oldest(&[], now), Duration::ZERO);
        assert_eq!(oldest(&[sent(None)], now), Duration::ZERO);
    }
}

//! The metrics fed by the work queue and by every AWS call.

use std::time::Duration;

use ecs_topology_aws::{CallObserver, CallRecord};
use ecs_topology_core::queue::QueueObserver;

use super::Metrics;
use super::labels::CALL_OK;

impl QueueObserver for Metrics {
    fn added(&self) {
        self.queue_adds.inc();
    }

    fn retried(&self) {
        self.queue_retries.inc();
    }

    fn picked_up(&self, queued_for: Duration) {
        self.queue_duration.observe(queued_for.as_secs_f64());
    }

    fn finished(&self, worked_for: Duration) {
        self.work_duration.observe(worked_for.as_secs_f64());
    }
}

impl CallObserver for Metrics {
    fn observe(&self, call: &CallRecord<'_>) {
        let outcome = match call.outcome {
            Ok(()) => CALL_OK,
            Err(class) => class.as_str(),
        };
        let account = self.account_label(call.account);
        self.aws_calls
            .with_label_values(&[call.service, call.operation, account.as_str(), outcome])
            .inc();
        if call.throttled > 0 {
            self.aws_throttles
                .with_label_values(&[call.service, account.as_str()])
                .inc_by(u64::from(call.throttled));
        }
    }
}

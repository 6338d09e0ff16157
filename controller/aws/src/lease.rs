//! The leader lease: several replicas of the controller run at once, only the holder of the
//! lease changes AWS; the others observe and serve metrics.
//!
//! The lease is one item of a DynamoDB table (partition key `pk`, string):
//! `pk = "lease#<name>"`, `holder` (the holder's process id), `expires_at` (epoch milliseconds)
//! and `version` (a number raised by every write).
//!
//! # Timing, for a lease of duration `D` (see [`LeaseTiming`])
//! - Every replica writes the item with one conditional `UpdateItem`, which succeeds when the
//!   item does not exist, has expired (`expires_at < now`) or is its own (`holder = me`), and sets
//!   `expires_at = now + D`. That write both acquires and renews.
//! - The holder renews every `D/3`; a renewal that fails is retried every `D/6`.
//! - The holder leads only until `D - D/3` after it *sent* its last successful renewal: a holder
//!   that cannot renew (AWS unreachable, throttled, the call hanging) stops leading a third of
//!   the lease before the item expires, whatever the network does.
//! - A replica that finds the lease held tries again every `D/3`, or as soon as the item
//!   expires, whichever comes first: when the holder dies, another replica takes over within one
//!   lease time of the holder's last renewal.
//! - On shutdown the holder stops leading, then releases the item (`expires_at = 0`, only if it
//!   is still the holder), so another replica takes over at its next attempt.
//!
//! # Clocks
//! `expires_at` is written from the writer's wall clock and compared by the others against
//! theirs; a replica's own leading time is measured on its monotonic clock. The safety margin of
//! `D/3` therefore covers clock skew between replicas plus the time a write takes: leadership is
//! exclusive as long as the replicas' clocks differ by less than a third of the lease duration
//! (10 s for the default 30 s lease; ECS tasks keep time with the Amazon Time Sync Service).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_smithy_types::error::display::DisplayErrorContext;
use ecs_topology_core::config::LeaseConfig;
use ecs_topology_core::engine::{Leader, Leadership};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::{AccountError, Accounts, ApiBudgets, ApiFamily, Clients, classify};

/// The `pk` prefix of lease items.
pub const LEASE_PREFIX: &str = "lease#";

/// The timing rules derived from a lease duration `D`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTiming {
    /// `D`: how long a write keeps the lease without renewal.
    pub duration: Duration,
    /// `D/3`: how often the holder renews and a follower tries to acquire.
    pub renew_every: Duration,
    /// `D/6`: how soon a renewal that failed is tried again.
    pub retry_every: Duration,
    /// `D/3`: how long before the lease expires the holder stops leading when it could not
    /// renew; it covers clock skew between replicas and the time a write takes.
    pub safety_margin: Duration,
    /// `D/3`: the longest one write may take before it counts as failed.
    pub call_timeout: Duration,
}

impl LeaseTiming {
    pub fn of(duration: Duration) -> LeaseTiming {
        LeaseTiming {
            duration,
            renew_every: duration / 3,
            retry_every: duration / 6,
            safety_margin: duration / 3,
            call_timeout: duration / 3,
        }
    }

    /// How long after sending a successful write its writer may lead: `D - D/3`.
    pub fn leading_for(&self) -> Duration {
        self.duration.saturating_sub(self.safety_margin)
    }
}

/// What the rest of the controller sees of the lease; cheap to clone.
#[derive(Debug, Clone)]
pub struct LeaseHandle {
    leadership: Leadership,
    known: watch::Receiver<bool>,
    holder: Arc<str>,
}

impl LeaseHandle {
    /// Whether this replica leads now: only then may it change AWS.
    pub fn is_leading(&self) -> bool {
        self.leadership.is_leading()
    }

    /// The "leading" flag, to watch for changes.
    pub fn leading(&self) -> watch::Receiver<bool> {
        self.leadership.flag()
    }

    /// Leading as terms: a change begun in one term stops when it ends.
    pub fn leadership(&self) -> Leadership {
        self.leadership.clone()
    }

    /// Whether the first attempt to acquire the lease has answered (for `/readyz`); always true
    /// for a single instance.
    pub fn is_known(&self) -> bool {
        *self.known.borrow()
    }

    /// This replica's holder id.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Waits until this replica leads; `false` when the lease loop ended first.
    pub async fn wait_until_leading(&mut self) -> bool {
        self.leadership
            .flag()
            .wait_for(|leading| *leading)
            .await
            .is_ok()
    }
}

/// A contender for the lease; [`Lease::run`] it in a task of the controller's `JoinSet`.
#[derive(Debug)]
pub struct Lease {
    clients: Clients,
    budgets: ApiBudgets,
    table: String,
    /// `lease#<name>`.
    pk: String,
    holder: Arc<str>,
    timing: LeaseTiming,
    /// Dropped with the lease: a lease loop that ends, however it ends (even aborted), leads no
    /// more.
    leading: Leader,
    known: watch::Sender<bool>,
}

/// What one write of the lease item found.
enum Attempt {
    /// The lease is ours until `expires_at`.
    Written,
    /// Another replica holds it until `expires_at` (epoch ms), when known.
    Held {
        holder: Option<String>,
        expires_at: Option<u64>,
    },
    Failed(String),
}

impl Lease {
    /// A handle for a single instance, which always leads.
    pub fn single() -> LeaseHandle {
        let (_, known) = watch::channel(true);
        LeaseHandle {
            leadership: Leadership::always(),
            known,
            holder: Arc::from("single"),
        }
    }

    /// A contender for the lease `config` names, in `clients`' account and region, with a new
    /// holder id (see [`holder_id`]).
    pub fn new(clients: Clients, budgets: ApiBudgets, config: &LeaseConfig) -> Lease {
        let leading = Leader::new(false);
        let (known, _) = watch::channel(false);
        Lease {
            clients,
            budgets,
            table: config.dynamodb_table.clone(),
            pk: format!("{LEASE_PREFIX}{}", config.name),
            holder: Arc::from(holder_id()),
            timing: LeaseTiming::of(config.duration.0),
            leading,
            known,
        }
    }

    /// The contender for the lease of the controller config, in the controller's own account.
    ///
    /// # Errors
    /// When the controller's own account cannot be told.
    pub async fn open(
        config: &LeaseConfig,
        accounts: &Accounts,
        budgets: &ApiBudgets,
        region: &str,
    ) -> Result<Lease, AccountError> {
        let account = accounts.own_account().await?;
        let clients = accounts.clients(&account, region).await?;
        Ok(Lease::new(clients, budgets.clone(), config))
    }

    /// The same contender under another holder id.
    pub fn with_holder(mut self, holder: impl Into<String>) -> Lease {
        self.holder = Arc::from(holder.into());
        self
    }

    pub fn timing(&self) -> LeaseTiming {
        self.timing
    }

    pub fn handle(&self) -> LeaseHandle {
        LeaseHandle {
            leadership: self.leading.subscribe(),
            known: self.known.subscribe(),
            holder: self.holder.clone(),
        }
    }

    /// Acquires and renews the lease until `shutdown`, then releases it. Cancel `shutdown` once
    /// this replica has stopped changing AWS: the next leader may start at once.
    pub async fn run(self, shutdown: CancellationToken) {
        let timing = self.timing;
        // While leading: the instant leadership ends unless renewed.
        let mut deadline: Option<Instant> = None;
        // Whether the item may name this replica as an unexpired holder.
        let mut may_hold = false;
        loop {
            let started = Instant::now();
            let write = tokio::time::timeout(timing.call_timeout, self.write());
            tokio::pin!(write);
            let attempt = loop {
                tokio::select! {
                    biased;
                    () = shutdown.cancelled() => {
                        self.set_leading(false, "shutting down");
                        // The write in flight may have landed.
                        self.release().await;
                        return;
                    }
                    () = sleep_until(deadline), if deadline.is_some() => {
                        deadline = None;
                        self.set_leading(false, "the lease could not be renewed in time");
                    }
                    attempt = &mut write => {
                        break attempt.unwrap_or_else(|_| Attempt::Failed("timed out".into()));
                    }
                }
            };
            let wake = match attempt {
                Attempt::Written => {
                    may_hold = true;
                    let until = started + timing.leading_for();
                    if Instant::now() < until {
                        deadline = Some(until);
                        // Readers find leading over at `until` by themselves, should this
                        // task not run then (a stalled runtime).
                        if self.leading.lead_until(until) {
                            tracing::info!(lease = %self.pk, holder = %self.holder, leading = true, reason = "acquired or renewed the lease", "leader lease");
                        }
                    }
                    started + timing.renew_every
                }
                Attempt::Held { holder, expires_at } => {
                    may_hold = false;
                    deadline = None;
                    let by = holder.as_deref().unwrap_or("another replica");
                    self.set_leading(false, &format!("the lease is held by {by}"));
                    // Just after the holder's expiry, at least 10 ms from now.
                    let until_expiry = expires_at
                        .map(|at| Duration::from_millis(at.saturating_sub(epoch_ms()).max(9) + 1));
                    Instant::now()
                        + until_expiry.map_or(timing.renew_every, |d| d.min(timing.renew_every))
                }
                Attempt::Failed(reason) => {
                    tracing::warn!(lease = %self.pk, %reason, "cannot write the lease");
                    Instant::now()
                        + if deadline.is_some() {
                            timing.retry_every
                        } else {
                            timing.renew_every
                        }
                }
            };
            // Known only once "leading" says what this attempt found.
            self.known
                .send_if_modified(|known| !std::mem::replace(known, true));
            loop {
                tokio::select! {
                    biased;
                    () = shutdown.cancelled() => {
                        self.set_leading(false, "shutting down");
                        if may_hold {
                            self.release().await;
                        }
                        return;
                    }
                    () = sleep_until(deadline), if deadline.is_some() => {
                        deadline = None;
                        self.set_leading(false, "the lease could not be renewed in time");
                    }
                    () = tokio::time::sleep_until(wake) => break,
                }
            }
        }
    }

    fn set_leading(&self, leading: bool, reason: &str) {
        // Leaving ends the term: a change in flight stops before its next call.
        if self.leading.set(leading) {
            tracing::info!(lease = %self.pk, holder = %self.holder, leading, reason, "leader lease");
        }
    }

    /// An update of the lease's item, with what both of its writes name: the holder, expiry
    /// and version attributes, this replica (`:me`), `:zero` and `:one`.
    fn update(&self) -> UpdateItemFluentBuilder {
        self.clients
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&self.pk))
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_names("#expires_at", "expires_at")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":me", s(&self.holder))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
    }

    /// One conditional write that acquires or renews the lease for `D` from now.
    async fn write(&self) -> Attempt {
        let now = epoch_ms();
        let expires_at = now + millis(self.timing.duration);
        let result = self
            .budgets
            .call(
                &self.clients.account_id,
                &self.clients.region,
                ApiFamily::DynamoDb,
                || {
                    self.update()
                        .update_expression(
                            "SET #holder = :me, #expires_at = :expires_at, \
                             #version = if_not_exists(#version, :zero) + :one",
                        )
                        .condition_expression(
                            "attribute_not_exists(#pk) OR #expires_at < :now OR #holder = :me",
                        )
                        .expression_attribute_names("#pk", "pk")
                        .expression_attribute_values(":expires_at", n(expires_at))
                        .expression_attribute_values(":now", n(now))
                        .return_values_on_condition_check_failure(
                            ReturnValuesOnConditionCheckFailure::AllOld,
                        )
                        .send()
                },
            )
            .await;
        match result {
            Ok(_) => Attempt::Written,
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                let item = match e.err() {
                    UpdateItemError::ConditionalCheckFailedException(c) => c.item(),
                    _ => None,
                };
                let attribute = |name: &str| item.and_then(|item| item.get(name));
                Attempt::Held {
                    holder: attribute("holder").and_then(|v| v.as_s().ok()).cloned(),
                    expires_at: attribute("expires_at")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse().ok()),
                }
            }
            Err(e) => Attempt::Failed(format!(
                "{}: {}",
                classify(&e).as_str(),
                DisplayErrorContext(&e)
            )),
        }
    }

    /// Ends the lease now if this replica still holds it, so that another takes over at once.
    async fn release(&self) {
        let release = self.budgets.call(
            &self.clients.account_id,
            &self.clients.region,
            ApiFamily::DynamoDb,
            || {
                self.update()
                    .update_expression("SET #expires_at = :zero, #version = #version + :one")
                    .condition_expression("#holder = :me")
                    .send()
            },
        );
        match tokio::time::timeout(self.timing.call_timeout, release).await {
            Ok(Ok(_)) => {
                tracing::info!(lease = %self.pk, holder = %self.holder, "released the lease")
            }
            Ok(Err(SdkError::ServiceError(e)))
                if e.err().is_conditional_check_failed_exception() => {}
            Ok(Err(e)) => tracing::warn!(
                lease = %self.pk,
                error = %DisplayErrorContext(&e),
                "cannot release the lease; it expires by itself"
            ),
            Err(_) => {
                tracing::warn!(lease = %self.pk, "releasing the lease timed out; it expires by itself")
            }
        }
    }
}

/// A holder id unique to this process: the host (the ECS task's hostname), the process id and
/// 32 random bits, e.g. `ip-10-0-1-23.ec2.internal/1/9f3a61c2`.
pub fn holder_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into());
    let mut random = RandomState::new().build_hasher();
    random.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    format!(
        "{host}/{}/{:08x}",
        std::process::id(),
        random.finish() & 0xffff_ffff
    )
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn epoch_ms() -> u64 {
    millis(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_that_cannot_renew_stops_leading_a_third_of_the_lease_early() {
        let timing = LeaseTiming::of(Duration::from_secs(30));
        assert_eq!(timing.renew_every, Duration::from_secs(10));
        assert_eq!(timing.leading_for(), Duration::from_secs(20));
        assert!(timing.retry_every < timing.renew_every);
    }

    #[test]
    fn holder_ids_differ_between_contenders() {
        assert_ne!(holder_id(), holder_id());
    }

    #[tokio::test]
    async fn a_single_instance_always_leads() {
        let mut handle = Lease::single();
        assert!(handle.is_leading() && handle.is_known());
        assert!(handle.wait_until_leading().await);
    }
}

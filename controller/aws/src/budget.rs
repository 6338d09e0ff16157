//! Client-side rate budgets per (account, region, API family), and the wrapper every AWS call
//! goes through:
//!
//! ```ignore
//! let page = budgets
//!     .call(&account, &region, ApiFamily::Ec2Describe("DescribeVpcEndpoints"), || {
//!         clients.ec2.describe_vpc_endpoints().send()
//!     })
//!     .await?;
//! ```
//!
//! A call takes a token of its family's bucket (seeded from AWS's published rates, see
//! [`ApiFamily::published`]), then runs; every attempt the SDK makes is reported back, a
//! throttled one cuts the bucket's rate at once (the buckets recover by themselves, see
//! [`ecs_topology_core::ratelimit`]), and the call's outcome goes to a [`CallObserver`].
//!
//! # Retries and the budget
//!
//! The SDK retries throttling and transient errors itself (standard mode, at most
//! [`MAX_ATTEMPTS`](crate::accounts::MAX_ATTEMPTS) attempts; never validation and other client
//! errors). Those retries do not take a token: the SDK's retry loop has no asynchronous hook a
//! caller could wait in (interceptors and retry classifiers are synchronous, and the retry
//! strategy cannot be replaced from outside the SDK). Taking one token per call is enough
//! because every throttled attempt, retried or not, cuts the bucket and drops its unused tokens
//! right away (through an interceptor on every client of
//! [`Clients`](crate::accounts::Clients)), so the next calls already queue at the lower
//! rate; a call adds at most two attempts, each after the SDK's jittered exponential backoff;
//! and standard mode's retry quota stops retrying altogether after a run of failures.

mod attempts;
mod family;

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ecs_topology_core::config::ControllerConfig;
use ecs_topology_core::ratelimit::{AdaptivePolicy, BucketSeed, RateBudgets, RateLimitError};
use tokio::time::Instant;

use crate::errors::{ErrorClass, classify};
pub(crate) use attempts::BudgetInterceptor;
pub use family::{ApiFamily, UNPUBLISHED};

/// One bucket: an API family in one account and region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BudgetKey {
    /// The 12-digit account id.
    pub account: String,
    pub region: String,
    pub family: ApiFamily,
}

/// What one call through [`ApiBudgets::call`] did, for metrics.
#[derive(Debug, Clone)]
pub struct CallRecord<'a> {
    /// The service of the family: `ec2`, `ecs`, `servicediscovery`, `ram`, `sts`, `s3`,
    /// `dynamodb` or `tagging`.
    pub service: &'static str,
    /// The SDK operation, e.g. `DescribeVpcEndpoints`; `unknown` if the SDK never started it.
    pub operation: &'a str,
    /// The account's alias in the controller config (its id when it has none).
    pub account: &'a str,
    pub region: &'a str,
    pub family: &'a ApiFamily,
    /// `Err` with the class of the final error.
    pub outcome: Result<(), ErrorClass>,
    /// Attempts the SDK made (retries included); 0 if it failed before sending anything.
    pub attempts: u32,
    /// Of those, answered with a throttling error.
    pub throttled: u32,
    /// Time spent waiting for the budget's token.
    pub waited: Duration,
}

/// Receives the outcome of every call; the metrics layer implements it.
pub trait CallObserver: Send + Sync + fmt::Debug {
    fn observe(&self, call: &CallRecord<'_>);
}

/// A [`CallObserver`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl CallObserver for NoObserver {
    fn observe(&self, _call: &CallRecord<'_>) {}
}

/// Why the rate budgets of a controller config cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    #[error("rateBudgets.{name}: not an API family (known: {known})")]
    UnknownFamily { name: String, known: String },
    #[error("rateBudgets.{name}: invalid budget")]
    Invalid {
        name: String,
        #[source]
        source: RateLimitError,
    },
}

/// The rate budgets of every account, region and API family; cheap to clone.
#[derive(Debug, Clone)]
pub struct ApiBudgets {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    rates: RateBudgets<BudgetKey>,
    /// Account ids to aliases, for bounded metric labels.
    aliases: HashMap<String, String>,
    observer: Arc<dyn CallObserver>,
}

impl ApiBudgets {
    /// Budgets seeded from AWS's published rates, overridden by `config.rate_budgets`, with the
    /// default adaptive policy.
    ///
    /// # Errors
    ///
    /// [`BudgetError::UnknownFamily`] for an override that names no family (see
    /// [`ApiFamily::name`]); [`BudgetError::Invalid`] for a zero burst or rate.
    pub fn new(
        config: &ControllerConfig,
        observer: Arc<dyn CallObserver>,
    ) -> Result<Self, BudgetError> {
        Self::with_policy(config, AdaptivePolicy::default(), observer)
    }

    /// As [`ApiBudgets::new`], with another adaptive policy.
    ///
    /// # Errors
    ///
    /// As [`ApiBudgets::new`].
    pub fn with_policy(
        config: &ControllerConfig,
        policy: AdaptivePolicy,
        observer: Arc<dyn CallObserver>,
    ) -> Result<Self, BudgetError> {
        let invalid = |name: &str| {
            let name = name.to_owned();
            move |source| BudgetError::Invalid { name, source }
        };
        let mut overrides = HashMap::new();
        for (name, budget) in &config.rate_budgets {
            if !ApiFamily::is_name(name) {
                return Err(BudgetError::UnknownFamily {
                    name: name.clone(),
                    known: ApiFamily::NAMES.join(", "),
                });
            }
            let seed =
                BucketSeed::new(budget.burst, budget.refill_per_second).map_err(invalid(name))?;
            overrides.insert(name.clone(), seed);
        }
        let unpublished =
            BucketSeed::new(UNPUBLISHED.0, UNPUBLISHED.1).map_err(invalid("(unpublished)"))?;
        let rates = RateBudgets::new(policy, move |key: &BudgetKey| {
            key.family.seed(&overrides, unpublished)
        });
        let aliases = config
            .accounts
            .iter()
            .map(|(alias, account)| (account.id.clone(), alias.clone()))
            .collect();
        let inner = Inner {
            rates,
            aliases,
            observer,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The effective rate of a bucket now, in calls per second.
    pub fn rate(&self, account: &str, region: &str, family: ApiFamily) -> f64 {
        self.inner.rates.rate(&BudgetKey {
            account: account.to_owned(),
            region: region.to_owned(),
            family,
        })
    }

    /// Runs one AWS call within the budget of `family` in `account` and `region`: waits for a
    /// token, calls `send` (a client from [`Clients`](crate::accounts::Clients), e.g.
    /// `|| clients.ecs.list_services().cluster(c).send()`), slows the bucket down on every
    /// throttled attempt and reports the outcome to the observer.
    ///
    /// # Errors
    ///
    /// The call's own error, unchanged; [`classify`] tells its class.
    pub async fn call<T, E, F, Fut>(
        &self,
        account: &str,
        region: &str,
        family: ApiFamily,
        send: F,
    ) -> Result<T, SdkError<E, HttpResponse>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let key = BudgetKey {
            account: account.to_owned(),
            region: region.to_owned(),
            family,
        };
        let started = Instant::now();
        self.inner.rates.acquire(&key).await;
        let waited = started.elapsed();

        let scope = attempts::Scope::new::<E>(key, self.inner.rates.clone());
        let result = scope.clone().run(send()).await;

        let outcome = result.as_ref().map(|_| ()).map_err(classify);
        let seen = scope.seen();
        if seen.attempts == 0 && outcome == Err(ErrorClass::Throttling) {
            // A client without the budget's interceptor: learn from the final error at least.
            self.inner.rates.on_throttled(scope.key());
        }
        let key = scope.key();
        let alias = self.inner.aliases.get(&key.account).unwrap_or(&key.account);
        self.inner.observer.observe(&CallRecord {
            service: key.family.service(),
            operation: seen.operation.as_deref().unwrap_or("unknown"),
            account: alias,
            region: &key.region,
            family: &key.family,
            outcome,
            attempts: seen.attempts,
            throttled: seen.throttled,
            waited,
        });
        result
    }
}

#[cfg(test)]
mod tests;

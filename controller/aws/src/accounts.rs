//! The accounts the controller works in, and the SDK configs and clients that reach them.
//!
//! The controller starts from its own credentials (the default chain: the ECS task role in
//! production). An account of the controller config with a `roleArn` is reached by
//! `sts:AssumeRole` from those; an account without one, and the controller's own account, use
//! them as they are.
//!
//! # Guarantees
//!
//! - One assumed-role session per account, shared by every region and client of the account, and
//!   renewed [`AccountsOptions::refresh_before`] its expiry: never one AssumeRole per call or per
//!   reconcile. Concurrent first uses make one AssumeRole.
//! - AssumeRole happens on the first AWS call that needs the credentials, not before.
//! - SDK configs and clients are built once per (account, region) and reused, and every client
//!   sends through one HTTPS client (one TLS configuration, one connection pool per setting).
//! - Endpoints come from the base config (`AWS_ENDPOINT_URL` and friends), never from here.
//! - Every call of every client (STS included) ends within the config's `timeouts.operation`,
//!   each attempt within `timeouts.attempt` (a timed-out attempt is retried like a 5xx); a call
//!   that times out fails with `SdkError::TimeoutError`, classified as transient.

mod assumed;
mod clients;
mod http;

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::SdkConfig;
use aws_types::region::Region;
use ecs_topology_core::config::{ControllerConfig, TimeoutsConfig};

use assumed::{AssumedRole, Role, RoleCredentials};
pub use clients::Clients;

/// The wall clock that credential expiry is measured against.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// How many attempts the SDK makes of one call (the first and two retries), for throttling and
/// transient errors only.
pub const MAX_ATTEMPTS: u32 = 3;

/// Why an account cannot be reached.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The account is not in the controller config and is not the controller's own.
    #[error(
        "account {account} is neither in the controller config nor the controller's own account: no role to reach it"
    )]
    NoRole { account: String },
    /// `sts:GetCallerIdentity` with the controller's own credentials failed.
    #[error("cannot tell the controller's own account")]
    Identity {
        #[source]
        source: Box<
            aws_sdk_sts::error::SdkError<
                aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError,
            >,
        >,
    },
    /// `sts:AssumeRole` failed.
    #[error("cannot assume {role_arn} to reach account {account}")]
    AssumeRole {
        account: String,
        role_arn: String,
        #[source]
        source:
            Box<aws_sdk_sts::error::SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError>>,
    },
    /// `sts:AssumeRole` answered without credentials.
    #[error("sts:AssumeRole of {role_arn} returned no credentials")]
    NoCredentials { role_arn: String },
}

/// Settings of [`Accounts`] beyond the controller config.
#[derive(Clone)]
pub struct AccountsOptions {
    /// How long before their expiry assumed-role credentials are renewed. Default 5 minutes.
    pub refresh_before: Duration,
    /// The retries of every client: standard mode, [`MAX_ATTEMPTS`] attempts. The standard
    /// classifier retries throttling, 5xx, timeouts and I/O errors, never other 4xx errors.
    pub retry: RetryConfig,
    /// The wall clock; the system clock by default.
    pub clock: Clock,
}

impl Default for AccountsOptions {
    fn default() -> Self {
        Self {
            refresh_before: Duration::from_secs(300),
            retry: RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS),
            clock: Arc::new(SystemTime::now),
        }
    }
}

impl std::fmt::Debug for AccountsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountsOptions")
            .field("refresh_before", &self.refresh_before)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// The accounts of the controller config; cheap to clone, all clones share the caches.
#[derive(Debug, Clone)]
pub struct Accounts {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The controller's own credentials, region and endpoint.
    base: SdkConfig,
    options: AccountsOptions,
    /// The time limits of every call, from the controller config.
    timeouts: TimeoutConfig,
    /// The configured accounts by id, with their role (`None`: the base credentials).
    configured: HashMap<String, Option<Role>>,
    /// Configured aliases to ids.
    aliases: BTreeMap<String, String>,
    /// The account of the base credentials, asked once.
    own_account: tokio::sync::OnceCell<String>,
    /// One session per assumed account, created on first use; never removed.
    sessions: Mutex<HashMap<String, (Arc<AssumedRole>, SharedCredentialsProvider)>>,
    /// Per (account id, region); never removed.
    configs: Mutex<HashMap<(String, String), SdkConfig>>,
    /// Per (account id, region); never removed.
    clients: Mutex<HashMap<(String, String), Clients>>,
}

impl Accounts {
    /// Accounts reached from the standard AWS environment's credentials (the default chain).
    pub async fn from_environment(config: &ControllerConfig) -> Self {
        let base = aws_config::defaults(BehaviorVersion::latest()).load().await;
        Self::new(base, config)
    }

    /// Accounts reached from `base`, with the default [`AccountsOptions`].
    pub fn new(base: SdkConfig, config: &ControllerConfig) -> Self {
        Self::with_options(base, config, AccountsOptions::default())
    }

    /// Accounts reached from `base`.
    pub fn with_options(
        base: SdkConfig,
        config: &ControllerConfig,
        options: AccountsOptions,
    ) -> Self {
        let configured = config
            .accounts
            .iter()
            .map(|(alias, account)| {
                let role = account.role_arn.as_ref().map(|role_arn| Role {
                    account: account.id.clone(),
                    alias: alias.clone(),
                    role_arn: role_arn.clone(),
                    external_id: account.external_id.clone(),
                    session_name: account
                        .session_name
                        .clone()
                        .unwrap_or_else(|| config.name.clone()),
                });
                (account.id.clone(), role)
            })
            .collect();
        let aliases = config
            .accounts
            .iter()
            .map(|(alias, account)| (alias.clone(), account.id.clone()))
            .collect();
        let base = http::with_shared_client(base);
        let inner = Inner {
            timeouts: sdk_timeouts(&base, &config.timeouts),
            base,
            options,
            configured,
            aliases,
            own_account: tokio::sync::OnceCell::new(),
            sessions: Mutex::default(),
            configs: Mutex::default(),
            clients: Mutex::default(),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The account of the controller's own credentials (`sts:GetCallerIdentity`, asked once).
    ///
    /// # Errors
    ///
    /// [`AccountError::Identity`] when the call fails; the next call asks again.
    pub async fn own_account(&self) -> Result<String, AccountError> {
        self.own_account_from(None).await
    }

    /// As [`Accounts::own_account`], asking in `region` when the base config has none.
    async fn own_account_from(&self, region: Option<&str>) -> Result<String, AccountError> {
        let own = self.inner.own_account.get_or_try_init(|| async {
            let identity = aws_sdk_sts::Client::new(&self.base_in(self.sts_region(region)))
                .get_caller_identity()
                .send()
                .await
                .map_err(|source| AccountError::Identity {
                    source: Box::new(source),
                })?;
            Ok::<_, AccountError>(identity.account().unwrap_or_default().to_owned())
        });
        own.await.cloned()
    }

    /// The SDK config of `account` (a 12-digit id or a configured alias) in `region`.
    ///
    /// # Errors
    ///
    /// [`AccountError::NoRole`] for an account that is neither configured nor the controller's
    /// own, without calling AWS once the own account is known; [`AccountError::Identity`] when
    /// the own account cannot be told.
    pub async fn sdk_config(&self, account: &str, region: &str) -> Result<SdkConfig, AccountError> {
        let account = self.resolve(account);
        let key = (account.clone(), region.to_owned());
        if let Some(config) = lock(&self.inner.configs).get(&key) {
            return Ok(config.clone());
        }
        let config = match self.session(&account, region).await? {
            None => self.base_in(Some(region)),
            Some(credentials) => self
                .base_in(Some(region))
                .to_builder()
                .credentials_provider(credentials)
                // The session caches and renews the credentials itself.
                .identity_cache(IdentityCache::no_cache())
                .build(),
        };
        Ok(cached(&self.inner.configs, key, config))
    }

    /// The clients of `account` in `region`, built once and reused.
    ///
    /// # Errors
    ///
    /// As [`Accounts::sdk_config`].
    pub async fn clients(&self, account: &str, region: &str) -> Result<Clients, AccountError> {
        let account = self.resolve(account);
        let key = (account.clone(), region.to_owned());
        if let Some(clients) = lock(&self.inner.clients).get(&key) {
            return Ok(clients.clone());
        }
        let config = self.sdk_config(&account, region).await?;
        let clients = Clients::new(&config, &account, region);
        Ok(cached(&self.inner.clients, key, clients))
    }

    /// The alias of each assumed account with the expiry of its current credentials, for a
    /// "seconds until the credentials expire" metric. Accounts reached with the base credentials,
    /// and accounts not used yet, are not listed.
    pub fn credential_expiries(&self) -> Vec<(String, SystemTime)> {
        let mut expiries: Vec<_> = lock(&self.inner.sessions)
            .values()
            .filter_map(|(session, _)| Some((session.alias().to_owned(), session.expiry()?)))
            .collect();
        expiries.sort();
        expiries
    }

    /// The id of an account written as an id or a configured alias; unknown aliases stay as
    /// they are (and are refused later).
    fn resolve(&self, account: &str) -> String {
        self.inner
            .aliases
            .get(account)
            .cloned()
            .unwrap_or_else(|| account.to_owned())
    }

    /// The assumed-role credentials of `account`; `None` for the base credentials.
    async fn session(
        &self,
        account: &str,
        region: &str,
    ) -> Result<Option<SharedCredentialsProvider>, AccountError> {
        match self.inner.configured.get(account) {
            Some(None) => Ok(None),
            Some(Some(role)) => {
                let mut sessions = lock(&self.inner.sessions);
                let (_, credentials) = sessions.entry(account.to_owned()).or_insert_with(|| {
                    let sts =
                        aws_sdk_sts::Client::new(&self.base_in(self.sts_region(Some(region))));
                    let options = &self.inner.options;
                    let session = Arc::new(AssumedRole::new(
                        role.clone(),
                        sts,
                        options.refresh_before,
                        options.clock.clone(),
                    ));
                    let credentials =
                        SharedCredentialsProvider::new(RoleCredentials(session.clone()));
                    (session, credentials)
                });
                Ok(Some(credentials.clone()))
            }
            None if self.own_account_from(Some(region)).await? == account => Ok(None),
            None => Err(AccountError::NoRole {
                account: account.to_owned(),
            }),
        }
    }

    /// The region of STS calls made with the base credentials: the base region, else `region`.
    fn sts_region<'a>(&'a self, region: Option<&'a str>) -> Option<&'a str> {
        self.inner.base.region().map(Region::as_ref).or(region)
    }

    /// The base config with the controller's retries and time limits, in `region` (else the
    /// base region).
    fn base_in(&self, region: Option<&str>) -> SdkConfig {
        let mut builder = self
            .inner
            .base
            .to_builder()
            .retry_config(self.inner.options.retry.clone())
            .timeout_config(self.inner.timeouts.clone());
        if let Some(region) = region {
            builder = builder.region(Region::new(region.to_owned()));
        }
        builder.build()
    }
}

/// The SDK's operation and attempt timeouts from the controller config; the base config's other
/// limits (the connect timeout) stay.
fn sdk_timeouts(base: &SdkConfig, timeouts: &TimeoutsConfig) -> TimeoutConfig {
    let mut sdk = TimeoutConfig::builder()
        .operation_timeout(timeouts.operation.0)
        .operation_attempt_timeout(timeouts.attempt.0)
        .build();
    if let Some(base) = base.timeout_config() {
        sdk.take_defaults_from(base);
    }
    sdk
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Keeps the first value stored under `key` (another caller may have raced this one).
fn cached<K: Eq + Hash, V: Clone>(map: &Mutex<HashMap<K, V>>, key: K, value: V) -> V {
    lock(map).entry(key).or_insert(value).clone()
}

#[cfg(test)]
mod tests;

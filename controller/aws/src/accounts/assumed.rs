//! The credentials of one account reached by `sts:AssumeRole`, cached until shortly before they
//! expire and shared by every region and client of the account.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials, error::CredentialsError};
use ecs_topology_core::config::ExternalId;

use super::{AccountError, Clock};

/// How to assume the role of one account.
#[derive(Debug, Clone)]
pub(super) struct Role {
    pub(super) account: String,
    pub(super) alias: String,
    pub(super) role_arn: String,
    /// Shown as `<redacted>` by `Debug`: it is a shared secret.
    pub(super) external_id: Option<ExternalId>,
    pub(super) session_name: String,
}

/// Credentials and when to renew them.
#[derive(Debug, Clone)]
struct Cached {
    credentials: Credentials,
    /// The later of `refresh_before` the expiry and half of the lifetime left when they were
    /// issued, so that short-lived credentials are not renewed on every call; `None` when they
    /// do not expire.
    refresh_at: Option<SystemTime>,
}

/// One account's assumed-role session.
///
/// Invariants: `current` holds the last credentials AssumeRole returned (`None` before the
/// first); at most one AssumeRole of the account is in flight, made while `refreshing` is held.
pub(super) struct AssumedRole {
    role: Role,
    /// A client with the controller's own (base) credentials.
    sts: aws_sdk_sts::Client,
    refresh_before: Duration,
    clock: Clock,
    current: Mutex<Option<Cached>>,
    refreshing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for AssumedRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumedRole")
            .field("role", &self.role)
            .field("expiry", &self.expiry())
            .finish_non_exhaustive()
    }
}

impl AssumedRole {
    pub(super) fn new(
        role: Role,
        sts: aws_sdk_sts::Client,
        refresh_before: Duration,
        clock: Clock,
    ) -> Self {
        Self {
            role,
            sts,
            refresh_before,
            clock,
            current: Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    pub(super) fn alias(&self) -> &str {
        &self.role.alias
    }

    /// When the cached credentials expire; `None` before the first AssumeRole.
    pub(super) fn expiry(&self) -> Option<SystemTime> {
        self.cached().and_then(|c| c.credentials.expiry())
    }

    fn cached(&self) -> Option<Cached> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The cached credentials while they need no renewal.
    fn fresh(&self) -> Option<Credentials> {
        let cached = self.cached()?;
        match cached.refresh_at {
            Some(at) if (self.clock)() >= at => None,
            _ => Some(cached.credentials),
        }
    }

    /// The cached credentials while they have not expired.
    fn unexpired(&self) -> Option<Credentials> {
        let cached = self.cached()?;
        match cached.credentials.expiry() {
            Some(expiry) if (self.clock)() >= expiry => None,
            _ => Some(cached.credentials),
        }
    }

    fn keep(&self, credentials: Credentials) {
        let refresh_at = credentials.expiry().map(|expiry| {
            let now = (self.clock)();
            let left = expiry.duration_since(now).unwrap_or_default();
            let before_expiry = expiry.checked_sub(self.refresh_before).unwrap_or(now);
            before_expiry.max(now + left / 2)
        });
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(Cached {
            credentials,
            refresh_at,
        });
    }

    /// The account's credentials: the cached ones until `refresh_before` their expiry (or half
    /// their lifetime, if that is later), then new ones from one AssumeRole, however many callers
    /// ask at once.
    ///
    /// # Errors
    ///
    /// [`AccountError::AssumeRole`] when the role cannot be assumed and the cached credentials
    /// (if any) have expired; while they are still valid they are returned instead.
    pub(super) async fn credentials(&self) -> Result<Credentials, AccountError> {
        if let Some(credentials) = self.fresh() {
            return Ok(credentials);
        }
        let _refreshing = self.refreshing.lock().await;
        if let Some(credentials) = self.fresh() {
            return Ok(credentials);
        }
        match self.assume().await {
            Ok(credentials) => {
                self.keep(credentials.clone());
                Ok(credentials)
            }
            Err(error) => match self.unexpired() {
                Some(still_valid) => {
                    tracing::warn!(
                        account = %self.role.alias,
                        error = %error,
                        "cannot renew the account's credentials; using them until they expire"
                    );
                    Ok(still_valid)
                }
                None => Err(error),
            },
        }
    }

    async fn assume(&self) -> Result<Credentials, AccountError> {
        let role = &self.role;
        let output = self
            .sts
            .assume_role()
            .role_arn(&role.role_arn)
            .role_session_name(&role.session_name)
            .set_external_id(role.external_id.as_ref().map(|id| id.expose().to_owned()))
            .send()
            .await
            .map_err(|source| AccountError::AssumeRole {
                account: role.account.clone(),
                role_arn: role.role_arn.clone(),
                source: Box::new(source),
            })?;
        let issued = output
            .credentials()
            .ok_or_else(|| AccountError::NoCredentials {
                role_arn: role.role_arn.clone(),
            })?;
        let expiry = SystemTime::try_from(*issued.expiration()).ok();
        tracing::debug!(account = %role.alias, role = %role.role_arn, "assumed role");
        Ok(Credentials::new(
            issued.access_key_id(),
            issued.secret_access_key(),
            Some(issued.session_token().to_owned()),
            expiry,
            "ecs-topology-assume-role",
        ))
    }
}

/// The SDK's view of an [`AssumedRole`]: every client of the account shares one.
#[derive(Debug, Clone)]
pub(super) struct RoleCredentials(pub(super) Arc<AssumedRole>);

impl ProvideCredentials for RoleCredentials {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            self.0
                .credentials()
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

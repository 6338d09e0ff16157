//! The controller config: accounts and how to reach them, intervals, concurrency, rate budgets,
//! stores, lease, metrics address and prune safety. A separate file from the documents.
//!
//! Every field has a default, so a local run against one account needs no config at all.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::HumanDuration;

mod external_id;
mod source;

pub use external_id::ExternalId;
pub use source::SourceConfig;

/// The file name looked for next to (and above) a document directory when no config is given.
pub const CONFIG_FILE_NAME: &str = "ecs-topology.config.yaml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ControllerConfig {
    /// The controller's name: the value of the `ecs-topology.dev/owner` tag on everything it
    /// creates. The same across restarts and replicas; two controllers with different names
    /// never touch each other's objects.
    pub name: String,
    /// Accounts by alias. An account with no `roleArn` is reached with the controller's own
    /// credentials (the default chain: the ECS task role in production).
    pub accounts: BTreeMap<String, AccountConfig>,
    /// Regions documents may use; empty allows any well-formed region.
    pub regions: Vec<String>,
    /// How often live AWS state is observed (one batched pass per account, region and kind).
    pub poll_interval: HumanDuration,
    /// How often every document is reconciled even when nothing changed.
    pub resync_interval: HumanDuration,
    /// How many documents are reconciled at once.
    pub concurrency: usize,
    /// Client-side rate budgets per API family, overriding the built-in AWS rates.
    pub rate_budgets: BTreeMap<String, RateBudget>,
    /// Where document status is kept.
    pub status: StatusStoreConfig,
    /// How documents are read: the largest file, the owner of an S3 source's bucket.
    pub source: SourceConfig,
    /// Leader lease, for running more than one replica; absent means a single instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease: Option<LeaseConfig>,
    /// Address of `/metrics`, `/healthz`, `/readyz` and `/status`.
    pub metrics_address: String,
    /// Prune safety.
    pub prune: PruneConfig,
    /// Time limits on AWS calls, passes and source reads, and how long the controller may make
    /// no progress before `/healthz` fails.
    pub timeouts: TimeoutsConfig,
    /// Change events (CloudTrail through EventBridge to an SQS queue): what a change touches is
    /// observed again within seconds, and the poll becomes the safety net (`pollInterval`
    /// defaults to 10 minutes with events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<EventsConfig>,
}

/// Where change events arrive, and how they are coalesced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventsConfig {
    /// The SQS queue the central event bus delivers to, in the controller's own account.
    pub queue_url: String,
    /// The shortest time between two observations for events: a change after a quiet spell is
    /// observed at once; the events that arrive within this time of an observation are
    /// coalesced and observed together once it has passed.
    #[serde(default = "default_debounce")]
    pub debounce: HumanDuration,
}

fn default_debounce() -> HumanDuration {
    HumanDuration::secs(2)
}

impl EventsConfig {
    /// The poll interval when events are configured and `pollInterval` is not given.
    pub const POLL_INTERVAL: HumanDuration = HumanDuration::secs(600);

    fn check(&self) -> Result<(), (String, String)> {
        let url = &self.queue_url;
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() < 12 {
            return Err((
                "events.queueUrl".into(),
                format!(
                    "`{url}` is not an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)"
                ),
            ));
        }
        if self.debounce.0 > std::time::Duration::from_secs(60) {
            return Err((
                "events.debounce".into(),
                "must be at most 1m: a change waits this long before it is observed".into(),
            ));
        }
        Ok(())
    }
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            name: "ecs-topology".into(),
            accounts: BTreeMap::new(),
            regions: Vec::new(),
            poll_interval: HumanDuration::secs(60),
            resync_interval: HumanDuration::secs(600),
            concurrency: 8,
            rate_budgets: BTreeMap::new(),
            status: StatusStoreConfig::default(),
            source: SourceConfig::default(),
            lease: None,
            metrics_address: "127.0.0.1:9464".into(),
            prune: PruneConfig::default(),
            timeouts: TimeoutsConfig::default(),
            events: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountConfig {
    /// The 12-digit account id.
    pub id: String,
    /// The role to assume in the account; absent uses the controller's own credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The ExternalId the role's trust policy asks for; never shown in `Debug` output or logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<ExternalId>,
    /// The role session name, shown in CloudTrail; defaults to the controller's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
}

/// A token bucket: `burst` calls at once, `refillPerSecond` sustained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateBudget {
    pub burst: u32,
    pub refill_per_second: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum StatusStoreConfig {
    /// A local directory, one JSON file per document.
    Directory(String),
    /// A DynamoDB table (partition key `pk`, string) in the controller's own account.
    DynamodbTable(String),
}

impl Default for StatusStoreConfig {
    fn default() -> Self {
        StatusStoreConfig::Directory(".state/status".into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LeaseConfig {
    /// The DynamoDB table holding the lease item (partition key `pk`, string).
    pub dynamodb_table: String,
    /// The lease item's name; replicas of one controller share it.
    #[serde(default = "default_lease_name")]
    pub name: String,
    /// How long a lease lasts without renewal; renewed every third of it.
    #[serde(default = "default_lease_duration")]
    pub duration: HumanDuration,
}

fn default_lease_name() -> String {
    "ecs-topology-leader".into()
}

fn default_lease_duration() -> HumanDuration {
    HumanDuration::secs(30)
}

impl LeaseConfig {
    /// The shortest lease: the holder renews every third of the lease, gives one write a third
    /// of it and stops leading a third of it before expiry (the lease crate's `LeaseTiming`);
    /// each of those needs at least a second.
    pub const MIN_DURATION: HumanDuration = HumanDuration::secs(3);
    /// The longest lease: a replica takes over only once a lost holder's lease has run out.
    pub const MAX_DURATION: HumanDuration = HumanDuration::secs(3600);

    fn check(&self) -> Result<(), (String, String)> {
        let field = || "lease.duration".to_owned();
        if self.duration < Self::MIN_DURATION {
            return Err((
                field(),
                format!(
                    "must be at least {}: the holder renews every third of it, gives a write a \
                     third of it and stops leading a third of it before expiry, and each of \
                     those needs at least 1s",
                    Self::MIN_DURATION
                ),
            ));
        }
        if self.duration > Self::MAX_DURATION {
            return Err((
                field(),
                format!(
                    "must be at most {}: another replica takes over only once a lost holder's \
                     lease has run out",
                    Self::MAX_DURATION
                ),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct PruneConfig {
    /// The largest share (0 to 1) of the documents the controller owns objects for whose
    /// documents may disappear in one pass and still be pruned; more than that deletes nothing
    /// and raises an alarm.
    pub max_fraction: f64,
    /// Up to this many removed documents are always allowed, whatever the fraction.
    pub always_allow: usize,
    /// At most this many removed documents' objects are deleted in any hour, so that a mass
    /// removal spread over passes is held back too; the rest wait, and say why.
    pub max_deletions_per_hour: usize,
    /// How often every configured account and region is searched, by the owner tag, for objects
    /// of removed documents that no document or status record points to (a document moved to
    /// another account or region, a cluster no document names any more, a lost status store);
    /// the first pass always searches.
    pub sweep_interval: HumanDuration,
}

impl Default for PruneConfig {
    fn default() -> Self {
        PruneConfig {
            max_fraction: 0.25,
            always_allow: 2,
            max_deletions_per_hour: 10,
            sweep_interval: HumanDuration::secs(600),
        }
    }
}

/// Time limits, so that a call AWS never answers cannot hold the controller for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct TimeoutsConfig {
    /// One AWS call, its retries included; a call that takes longer fails as transient.
    pub operation: HumanDuration,
    /// One attempt of an AWS call; an attempt that takes longer is retried within `operation`.
    pub attempt: HumanDuration,
    /// One observation pass; a longer pass is abandoned and the next poll observes again.
    pub observation: HumanDuration,
    /// One read of the source; a longer read is abandoned and the last complete load stays.
    pub source_poll: HumanDuration,
    /// `/healthz` fails when no observation pass has completed for this long beyond the poll
    /// interval, or reconciles are in flight and none has started or finished for this long.
    /// Longer than the longest wait of a change (an endpoint change waits up to 20 minutes).
    pub progress: HumanDuration,
}

impl Default for TimeoutsConfig {
    fn default() -> Self {
        TimeoutsConfig {
            operation: HumanDuration::secs(30),
            attempt: HumanDuration::secs(10),
            observation: HumanDuration::secs(300),
            source_poll: HumanDuration::secs(120),
            progress: HumanDuration::secs(1800),
        }
    }
}

impl TimeoutsConfig {
    /// The longest time limit accepted, so that no deadline overflows.
    pub const MAX: HumanDuration = HumanDuration::secs(24 * 3600);

    fn check(&self) -> Result<(), (String, String)> {
        let all = [
            ("operation", self.operation),
            ("attempt", self.attempt),
            ("observation", self.observation),
            ("sourcePoll", self.source_poll),
            ("progress", self.progress),
        ];
        for (field, limit) in all {
            if limit.0.is_zero() || limit > Self::MAX {
                return Err((
                    format!("timeouts.{field}"),
                    "must be positive and at most 24h".into(),
                ));
            }
        }
        if self.attempt > self.operation {
            return Err((
                "timeouts.attempt".into(),
                "must not be longer than timeouts.operation".into(),
            ));
        }
        if self.progress < self.observation || self.progress < self.operation {
            return Err((
                "timeouts.progress".into(),
                "must be at least timeouts.observation and timeouts.operation".into(),
            ));
        }
        Ok(())
    }
}

/// Why a config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("config {path}: {field}: {reason}")]
    Invalid {
        path: String,
        field: String,
        reason: String,
    },
}

impl ControllerConfig {
    /// Reads and checks a config file (YAML or JSON).
    pub fn load(path: &Path) -> Result<ControllerConfig, ConfigError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: display.clone(),
            source,
        })?;
        Self::parse(&display, &text)
    }

    /// Parses and checks config text; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<ControllerConfig, ConfigError> {
        let invalid = |field: String, reason: String| ConfigError::Invalid {
            path: origin.to_owned(),
            field,
            reason,
        };
        let value: serde_json::Value = if text.trim().is_empty() {
            serde_json::Value::Object(Default::default())
        } else {
            serde_saphyr::from_str(text).map_err(|e| invalid("(file)".into(), e.to_string()))?
        };
        let explicit_poll = value.get("pollInterval").is_some();
        let mut config: ControllerConfig =
            serde_path_to_error::deserialize(value).map_err(|e| {
                let field = e.path().to_string();
                invalid(field, e.into_inner().to_string())
            })?;
        // With events, the poll is the safety net: rarer unless given.
        if config.events.is_some() && !explicit_poll {
            config.poll_interval = EventsConfig::POLL_INTERVAL;
        }
        config
            .check()
            .map_err(|(field, reason)| invalid(field, reason))?;
        Ok(config)
    }

    fn check(&self) -> Result<(), (String, String)> {
        if self.name.is_empty() || self.name.len() > 128 {
            return Err(("name".into(), "must be 1 to 128 characters".into()));
        }
        for (alias, account) in &self.accounts {
            if !crate::validate::rules::is_account_id(&account.id) {
                return Err((
                    format!("accounts.{alias}.id"),
                    format!("`{}` is not a 12-digit account id", account.id),
                ));
            }
            if crate::validate::rules::is_account_id(alias) {
                return Err((
                    format!("accounts.{alias}"),
                    "an alias cannot itself be an account id".into(),
                ));
            }
            if let Some(role) = &account.role_arn
                && !crate::validate::rules::is_role_arn(role)
            {
                return Err((
                    format!("accounts.{alias}.roleArn"),
                    format!("`{role}` is not an IAM role ARN"),
                ));
            }
        }
        if self.concurrency == 0 {
            return Err(("concurrency".into(), "must be at least 1".into()));
        }
        if !(0.0..=1.0).contains(&self.prune.max_fraction) {
            return Err(("prune.maxFraction".into(), "must be between 0 and 1".into()));
        }
        if self.poll_interval.0.is_zero() || self.resync_interval.0.is_zero() {
            return Err(("pollInterval".into(), "intervals must be positive".into()));
        }
        self.timeouts.check()?;
        if let Some(events) = &self.events {
            events.check()?;
        }
        if let Some(lease) = &self.lease {
            lease.check()?;
        }
        self.check_source()?;
        for (family, budget) in &self.rate_budgets {
            if budget.burst == 0 || budget.refill_per_second <= 0.0 {
                return Err((
                    format!("rateBudgets.{family}"),
                    "burst and refillPerSecond must be positive".into(),
                ));
            }
        }
        Ok(())
    }

    /// The 12-digit id of an account written as an alias or an id; `None` for an unknown alias.
    pub fn resolve_account(&self, account: &str) -> Option<String> {
        if crate::validate::rules::is_account_id(account) {
            Some(account.to_owned())
        } else {
            self.accounts.get(account).map(|a| a.id.clone())
        }
    }

    /// The alias of an account id, for bounded metric labels and messages; the id itself when
    /// no alias names it.
    pub fn alias_of(&self, id: &str) -> String {
        self.accounts
            .iter()
            .find(|(_, a)| a.id == id)
            .map(|(alias, _)| alias.clone())
            .unwrap_or_else(|| id.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_config_is_a_working_local_config() {
        let config = ControllerConfig::parse("c.yaml", "").unwrap();
        assert_eq!(config, ControllerConfig::default());
    }

    #[test]
    fn accounts_resolve_by_alias_or_id() {
        let config = ControllerConfig::parse(
            "c.yaml",
            "accounts:\n  server: {id: '111111111111', roleArn: 'arn:aws:iam::111111111111:role/x'}\n",
        )
        .unwrap();
        assert_eq!(
            config.resolve_account("server").as_deref(),
            Some("111111111111")
        );
        assert_eq!(
            config.resolve_account("222222222222").as_deref(),
            Some("222222222222")
        );
        assert_eq!(config.resolve_account("client"), None);
        assert_eq!(config.alias_of("111111111111"), "server");
    }

    #[test]
    fn the_external_id_is_read_but_never_shown_in_debug_output() {
        let config = ControllerConfig::parse(
            "c.yaml",
            "accounts:\n  server: {id: '111111111111', roleArn: 'arn:aws:iam::111111111111:role/x', \
             externalId: 'Xq7-shared-secret'}\n",
        )
        .unwrap();
        let server = &config.accounts["server"];
        assert_eq!(
            server.external_id.as_ref().map(ExternalId::expose),
            Some("Xq7-shared-secret")
        );
        for shown in [
            format!("{config:?}"),
            format!("{config:#?}"),
            format!("{server:?}"),
        ] {
            assert!(!shown.contains("Xq7-shared-secret"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
    }

    #[test]
    fn an_external_id_that_is_not_a_string_is_refused_without_showing_it() {
        let err = ControllerConfig::parse(
            "c.yaml",
            "accounts:\n  server: {id: '111111111111', externalId: 98765432109}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("accounts.server.externalId"), "{err}");
        assert!(!err.contains("98765432109"), "{err}");
    }

    #[test]
    fn a_bad_account_id_names_its_field() {
        let err =
            ControllerConfig::parse("c.yaml", "accounts:\n  server: {id: '42'}\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "config c.yaml: accounts.server.id: `42` is not a 12-digit account id"
        );
    }

    #[test]
    fn timeouts_have_defaults_and_can_be_set_one_by_one() {
        let config =
            ControllerConfig::parse("c.yaml", "timeouts: {operation: 2s, attempt: 1s}\n").unwrap();
        assert_eq!(
            config.timeouts,
            TimeoutsConfig {
                operation: HumanDuration::secs(2),
                attempt: HumanDuration::secs(1),
                ..TimeoutsConfig::default()
            }
        );
    }

    #[test]
    fn timeouts_that_cannot_work_are_refused_with_their_field() {
        for (text, message) in [
            (
                "timeouts: {attempt: 0s}",
                "config c.yaml: timeouts.attempt: must be positive and at most 24h",
            ),
            (
                "timeouts: {progress: 25h}",
                "config c.yaml: timeouts.progress: must be positive and at most 24h",
            ),
            (
                "timeouts: {operation: 5s, attempt: 10s}",
                "config c.yaml: timeouts.attempt: must not be longer than timeouts.operation",
            ),
            (
                "timeouts: {observation: 10m, progress: 5m}",
                "config c.yaml: timeouts.progress: must be at least timeouts.observation and timeouts.operation",
            ),
        ] {
            let err = ControllerConfig::parse("c.yaml", text).unwrap_err();
            assert_eq!(err.to_string(), message, "{text}");
        }
    }

    #[test]
    fn with_events_the_poll_is_rarer_unless_given_and_the_queue_url_is_checked() {
        let queue =
            "events: {queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111111111111/changes'}\n";
        let config = ControllerConfig::parse("c.yaml", queue).unwrap();
        assert_eq!(config.poll_interval, EventsConfig::POLL_INTERVAL);
        assert_eq!(config.events.unwrap().debounce, HumanDuration::secs(2));
        let given =
            ControllerConfig::parse("c.yaml", &format!("{queue}pollInterval: 90s\n")).unwrap();
        assert_eq!(given.poll_interval, HumanDuration::secs(90));
        let without = ControllerConfig::parse("c.yaml", "name: x\n").unwrap();
        assert_eq!(without.poll_interval, HumanDuration::secs(60));
        let err = ControllerConfig::parse("c.yaml", "events: {queueUrl: changes}\n").unwrap_err();
        assert!(err.to_string().contains("events.queueUrl"), "{err}");
    }

    fn lease(duration: &str) -> Result<ControllerConfig, ConfigError> {
        ControllerConfig::parse(
            "c.yaml",
            &format!("lease: {{dynamodbTable: leases, duration: {duration}}}\n"),
        )
    }

    #[test]
    fn a_lease_too_short_for_its_renewal_write_timeout_and_safety_margin_is_rejected() {
        for duration in ["0s", "1s", "2999ms"] {
            let err = lease(duration).unwrap_err();
            assert_eq!(
                err.to_string(),
                "config c.yaml: lease.duration: must be at least 3s: the holder renews every \
                 third of it, gives a write a third of it and stops leading a third of it before \
                 expiry, and each of those needs at least 1s",
                "{duration}"
            );
        }
        for duration in ["3s", "30s", "1h"] {
            assert!(lease(duration).is_ok(), "{duration}");
        }
    }

    #[test]
    fn a_lease_longer_than_an_hour_is_rejected() {
        for duration in ["61m", "18446744073709551615"] {
            let err = lease(duration).unwrap_err();
            assert_eq!(
                err.to_string(),
                "config c.yaml: lease.duration: must be at most 1h: another replica takes over \
                 only once a lost holder's lease has run out",
                "{duration}"
            );
        }
    }

    #[test]
    fn a_duration_that_overflows_is_rejected_with_its_field() {
        let err =
            ControllerConfig::parse("c.yaml", "pollInterval: 9999999999999999h\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "config c.yaml: pollInterval: `9999999999999999h` is too long a duration"
        );
    }

    #[test]
    fn an_unknown_field_names_its_path() {
        let err = ControllerConfig::parse("c.yaml", "pollIntervall: 30s\n").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `pollIntervall`"),
            "{err}"
        );
    }
}

//! How documents are read from the source: how large a file may be, and whose bucket an S3
//! source may read.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `source` section of the controller config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SourceConfig {
    /// The largest document file (a file, an S3 object, a DynamoDB item's text), in bytes. A
    /// larger one is not read: it is reported, and nothing is pruned while it is there.
    pub max_file_bytes: u64,
    /// The account that must own an `s3://` source's bucket (an id or an alias of `accounts`),
    /// sent as `ExpectedBucketOwner` with every request: a bucket of any other account is
    /// refused by S3. Absent means the controller's own account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_bucket_owner: Option<String>,
}

impl SourceConfig {
    /// The default [`SourceConfig::max_file_bytes`]: 1 MiB.
    pub const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 20;
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            max_file_bytes: Self::DEFAULT_MAX_FILE_BYTES,
            expected_bucket_owner: None,
        }
    }
}

impl super::ControllerConfig {
    /// Checks the `source` section: a positive size limit, a bucket owner that is an account id
    /// or an alias.
    pub(super) fn check_source(&self) -> Result<(), (String, String)> {
        if self.source.max_file_bytes == 0 {
            return Err(("source.maxFileBytes".into(), "must be at least 1".into()));
        }
        if let Some(owner) = &self.source.expected_bucket_owner
            && self.resolve_account(owner).is_none()
        {
            return Err((
                "source.expectedBucketOwner".into(),
                format!("`{owner}` is neither a 12-digit account id nor an alias of `accounts`"),
            ));
        }
        Ok(())
    }

    /// The account id an S3 source's bucket must belong to, when the config names one.
    pub fn expected_bucket_owner(&self) -> Option<String> {
        self.source
            .expected_bucket_owner
            .as_deref()
            .and_then(|owner| self.resolve_account(owner))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::ControllerConfig;

    use super::SourceConfig;

    #[test]
    fn files_up_to_one_mebibyte_from_a_bucket_of_the_own_account_by_default() {
        let config = ControllerConfig::parse("c.yaml", "").unwrap();
        assert_eq!(config.source, SourceConfig::default());
        assert_eq!(config.source.max_file_bytes, 1_048_576);
        assert_eq!(config.expected_bucket_owner(), None);
    }

    #[test]
    fn the_bucket_owner_may_be_an_alias_or_an_id() {
        let config = ControllerConfig::parse(
            "c.yaml",
            "accounts: {gitops: {id: '444444444444'}}\nsource: {expectedBucketOwner: gitops, maxFileBytes: 65536}\n",
        )
        .unwrap();
        assert_eq!(
            config.expected_bucket_owner().as_deref(),
            Some("444444444444")
        );
        assert_eq!(config.source.max_file_bytes, 65536);
        let config =
            ControllerConfig::parse("c.yaml", "source: {expectedBucketOwner: '555555555555'}\n")
                .unwrap();
        assert_eq!(
            config.expected_bucket_owner().as_deref(),
            Some("555555555555")
        );
    }

    #[test]
    fn a_zero_size_limit_or_an_unknown_bucket_owner_is_refused_with_its_field() {
        for (text, message) in [
            (
                "source: {maxFileBytes: 0}",
                "config c.yaml: source.maxFileBytes: must be at least 1",
            ),
            (
                "source: {expectedBucketOwner: gitops}",
                "config c.yaml: source.expectedBucketOwner: `gitops` is neither a 12-digit \
                 account id nor an alias of `accounts`",
            ),
        ] {
            let err = ControllerConfig::parse("c.yaml", text).unwrap_err();
            assert_eq!(err.to_string(), message, "{text}");
        }
    }
}

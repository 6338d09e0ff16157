//! Where the daemon reads its desired state from: a local directory, an S3 prefix a GitOps
//! pipeline syncs manifests to, or a DynamoDB table with one item per document.
//!
//! # Guarantees
//! - A poll returns the complete document set of the source, or an error: never a listing that
//!   failed part-way (a missing page or object must not read as a deletion). An emptied source is
//!   a complete, empty listing; the daemon's prune safety decides what to do with it.
//! - File names say where a document came from: the path, `s3://bucket/key` or
//!   `dynamodb://table/<pk>`.
//! - Polls read only what changed: S3 objects are fetched again only when their ETag changed,
//!   DynamoDB documents are taken again when their `version` or the digest of their text changed.
//! - Bad content is a finding, not a failed poll: a document file larger than
//!   `source.maxFileBytes` (never fetched or read) or not UTF-8 comes back as
//!   [`SourceFile::unreadable`], which loading reports and which keeps anything from being pruned.
//! - An S3 source reads only a bucket of the expected owner (`source.expectedBucketOwner`, else
//!   the controller's own account): every request carries `ExpectedBucketOwner`, and S3 refuses
//!   a bucket of any other account with `AccessDenied`, so a bucket name taken over by someone
//!   else is never read as the desired state.

mod dynamodb;
mod s3;

use std::fmt;
use std::path::PathBuf;

use ecs_topology_core::config::{ControllerConfig, SourceConfig};
use ecs_topology_core::load::{self, ReadError, SourceFile};

pub use dynamodb::DynamoDbSource;
pub use s3::S3Source;

use crate::{AccountError, Accounts, ApiBudgets, AwsError};

/// Where documents are read from, as written on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceUri {
    /// A local directory (or a single file).
    Directory(PathBuf),
    /// `s3://bucket/prefix/`: every document object under the prefix. An empty prefix is the
    /// whole bucket; a prefix is read as a folder (`s3://b/manifests` lists `manifests/...`).
    S3 { bucket: String, prefix: String },
    /// `dynamodb://table`: one item per document.
    DynamoDb { table: String },
}

/// A source URI that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("source `{uri}`: {reason}")]
pub struct SourceUriError {
    pub uri: String,
    pub reason: String,
}

impl SourceUri {
    /// Parses a directory path, `s3://bucket/prefix/` or `dynamodb://table`.
    ///
    /// # Errors
    /// An empty URI, another scheme, an S3 URI without a bucket, a DynamoDB URI whose table name
    /// is not 3 to 255 of `a-z A-Z 0-9 _ - .`.
    pub fn parse(uri: &str) -> Result<SourceUri, SourceUriError> {
        let error = |reason: &str| SourceUriError {
            uri: uri.to_owned(),
            reason: reason.to_owned(),
        };
        if uri.trim().is_empty() {
            return Err(error("is empty"));
        }
        let Some((scheme, rest)) = uri.split_once("://") else {
            return Ok(SourceUri::Directory(PathBuf::from(uri)));
        };
        match scheme {
            "s3" => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() || bucket.chars().any(|c| c.is_whitespace()) {
                    return Err(error("expected s3://bucket/prefix/"));
                }
                let mut prefix = prefix.trim_start_matches('/').to_owned();
                if !prefix.is_empty() && !prefix.ends_with('/') {
                    prefix.push('/');
                }
                Ok(SourceUri::S3 {
                    bucket: bucket.to_owned(),
                    prefix,
                })
            }
            "dynamodb" => {
                let table = rest.trim_end_matches('/');
                let valid = (3..=255).contains(&table.len())
                    && table
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
                if !valid {
                    return Err(error(
                        "expected dynamodb://table with a table name of 3 to 255 letters, digits, `_`, `-` or `.`",
                    ));
                }
                Ok(SourceUri::DynamoDb {
                    table: table.to_owned(),
                })
            }
            _ => Err(error(
                "unsupported scheme; expected a directory path, s3://bucket/prefix/ or dynamodb://table",
            )),
        }
    }
}

impl fmt::Display for SourceUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceUri::Directory(path) => write!(f, "{}", path.display()),
            SourceUri::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
            SourceUri::DynamoDb { table } => write!(f, "dynamodb://{table}"),
        }
    }
}

/// Why a poll returned no document set. The previous complete set stays in force.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read the directory source")]
    Directory(#[source] ReadError),
    /// The blocking reader of a directory source panicked or was cancelled.
    #[error("the reader of directory {0} stopped")]
    Stopped(String),
    #[error("cannot read {location}")]
    Aws {
        /// The bucket, prefix, object or table.
        location: String,
        #[source]
        source: AwsError,
    },
    /// The source answered with something that is not a document set.
    #[error("{location}: {reason}")]
    Invalid { location: String, reason: String },
    #[error("cannot reach the controller's own account")]
    Account(#[source] AccountError),
}

impl SourceError {
    /// The error of an AWS call that read `location` (a bucket, prefix, object or table), for
    /// `map_err`.
    pub(crate) fn aws_at(location: impl Into<String>) -> impl FnOnce(AwsError) -> SourceError {
        let location = location.into();
        move |source| SourceError::Aws { location, source }
    }

    /// A bounded metric label: `io`, `invalid`, `credentials` or the AWS error class.
    pub fn class(&self) -> &'static str {
        match self {
            SourceError::Directory(_) | SourceError::Stopped(_) => "io",
            SourceError::Aws { source, .. } => source.class.as_str(),
            SourceError::Invalid { .. } => "invalid",
            SourceError::Account(_) => "credentials",
        }
    }
}

/// A document source; [`Source::poll`] it once per poll interval.
#[derive(Debug)]
pub enum Source {
    Directory(DirectorySource),
    S3(S3Source),
    DynamoDb(DynamoDbSource),
}

impl Source {
    /// The source of `uri`, read as `config.source` says. S3 buckets and DynamoDB tables are
    /// read with the controller's own credentials, in `region`; an S3 bucket must belong to
    /// `source.expectedBucketOwner`, else to the controller's own account.
    ///
    /// # Errors
    /// [`SourceError::Account`] when the controller's own account cannot be told.
    pub async fn open(
        uri: &SourceUri,
        config: &ControllerConfig,
        accounts: &Accounts,
        budgets: &ApiBudgets,
        region: &str,
    ) -> Result<Source, SourceError> {
        let max_file_bytes = config.source.max_file_bytes;
        let own = || async {
            let account = accounts.own_account().await.map_err(SourceError::Account)?;
            accounts
                .clients(&account, region)
                .await
                .map_err(SourceError::Account)
        };
        Ok(match uri {
            SourceUri::Directory(path) => {
                Source::Directory(DirectorySource::new(path.clone()).max_file_bytes(max_file_bytes))
            }
            SourceUri::S3 { bucket, prefix } => {
                let mut source = S3Source::new(
                    own().await?,
                    budgets.clone(),
                    bucket.clone(),
                    prefix.clone(),
                )
                .max_file_bytes(max_file_bytes);
                if let Some(owner) = config.expected_bucket_owner() {
                    source = source.expected_bucket_owner(owner);
                }
                Source::S3(source)
            }
            SourceUri::DynamoDb { table } => Source::DynamoDb(
                DynamoDbSource::new(own().await?, budgets.clone(), table.clone())
                    .max_file_bytes(max_file_bytes),
            ),
        })
    }

    /// The complete document set now.
    ///
    /// # Errors
    /// When any part of the set could not be read; nothing partial is returned.
    pub async fn poll(&mut self) -> Result<Vec<SourceFile>, SourceError> {
        match self {
            Source::Directory(source) => source.poll().await,
            Source::S3(source) => source.poll().await,
            Source::DynamoDb(source) => source.poll().await,
        }
    }

    /// The kind of source, a bounded metric label: `directory`, `s3` or `dynamodb`.
    pub fn describe(&self) -> String {
        match self {
            Source::Directory(_) => "directory",
            Source::S3(_) => "s3",
            Source::DynamoDb(_) => "dynamodb",
        }
        .to_owned()
    }

    /// Where the source reads, for logs and `/status` (not a metric label).
    pub fn location(&self) -> String {
        match self {
            Source::Directory(source) => source.root.display().to_string(),
            Source::S3(source) => source.location(),
            Source::DynamoDb(source) => source.location(),
        }
    }
}

/// A local directory, read whole each poll (see [`load::read_dir_files`]).
#[derive(Debug, Clone)]
pub struct DirectorySource {
    root: PathBuf,
    max_file_bytes: u64,
}

impl DirectorySource {
    /// The documents under `root`, files of at most 1 MiB (see
    /// [`DirectorySource::max_file_bytes`]).
    pub fn new(root: impl Into<PathBuf>) -> DirectorySource {
        DirectorySource {
            root: root.into(),
            max_file_bytes: SourceConfig::DEFAULT_MAX_FILE_BYTES,
        }
    }

    /// Files larger than `limit` are not read, and reported.
    #[must_use]
    pub fn max_file_bytes(mut self, limit: u64) -> DirectorySource {
        self.max_file_bytes = limit;
        self
    }

    /// Every document file under the directory, read on the blocking pool.
    ///
    /// # Errors
    /// [`SourceError::Directory`] when the directory or one of its files cannot be read.
    pub async fn poll(&mut self) -> Result<Vec<SourceFile>, SourceError> {
        let (root, limit) = (self.root.clone(), self.max_file_bytes);
        tokio::task::spawn_blocking(move || load::read_dir_files(&root, limit))
            .await
            .map_err(|_| SourceError::Stopped(self.root.display().to_string()))?
            .map_err(SourceError::Directory)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(bucket: &str, prefix: &str) -> SourceUri {
        SourceUri::S3 {
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }

    #[test]
    fn source_uris_name_a_directory_a_bucket_prefix_or_a_table() {
        let parse = |uri| SourceUri::parse(uri).unwrap();
        assert_eq!(
            parse("examples/"),
            SourceUri::Directory(PathBuf::from("examples/"))
        );
        assert_eq!(parse("s3://desired/prod/"), s3("desired", "prod/"));
        assert_eq!(parse("s3://desired/prod"), s3("desired", "prod/"));
        assert_eq!(parse("s3://desired"), s3("desired", ""));
        assert_eq!(parse("s3://desired/"), s3("desired", ""));
        assert_eq!(
            parse("dynamodb://ecs-topology-documents"),
            SourceUri::DynamoDb {
                table: "ecs-topology-documents".into()
            }
        );
        for uri in ["examples/", "s3://desired/prod/", "dynamodb://documents"] {
            assert_eq!(parse(uri).to_string(), uri);
        }
    }

    #[test]
    fn a_bad_source_uri_says_what_was_expected() {
        for uri in [
            "",
            "s3://",
            "s3:///prefix/",
            "dynamodb://",
            "dynamodb://a/b",
            "https://x/y",
        ] {
            assert!(SourceUri::parse(uri).is_err(), "{uri}");
        }
        let err = SourceUri::parse("git://example.com/repo").unwrap_err();
        assert_eq!(
            err.to_string(),
            "source `git://example.com/repo`: unsupported scheme; expected a directory path, \
             s3://bucket/prefix/ or dynamodb://table"
        );
    }

    #[tokio::test]
    async fn a_directory_source_reads_the_directory_each_poll() {
        let dir = std::env::temp_dir().join(format!("ecs-topology-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.yaml"), "kind: x\n").unwrap();
        let mut source = DirectorySource::new(&dir);
        assert_eq!(source.poll().await.unwrap().len(), 1);
        std::fs::write(dir.join("b.json"), "{}").unwrap();
        assert_eq!(source.poll().await.unwrap().len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(source.poll().await.unwrap_err().class(), "io");
    }
}

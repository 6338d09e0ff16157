//! Documents under an S3 prefix: listed each poll, fetched only when their ETag changed.

use std::collections::BTreeMap;
use std::fmt;

use ecs_topology_core::config::{CONFIG_FILE_NAME, SourceConfig};
use ecs_topology_core::load::{SourceFile, Unreadable, is_document_file};
use futures::StreamExt as _;
use futures::stream::FuturesUnordered;

use super::SourceError;
use crate::call::Aws;
use crate::{ApiBudgets, ApiFamily, AwsError, Clients, ErrorClass};

/// How many objects are fetched at once.
const GET_CONCURRENCY: usize = 8;

/// The most keys S3 returns in one `ListObjectsV2` page.
const PAGE_SIZE: i32 = 1000;

/// `s3://bucket/prefix/`: every `.yaml`, `.yml` and `.json` object under the prefix, except
/// objects under a folder or with a name starting with `.`, and the controller config file.
///
/// Each poll lists the prefix (`ListObjectsV2`, every page) and makes one `GetObject` per object
/// whose ETag is not the one already read; unchanged objects cost nothing beyond the listing.
/// An object larger than the size limit is not fetched at all, and one that is not UTF-8 is kept
/// as such: both are [`SourceFile::unreadable`].
///
/// Every request names the expected bucket owner (`ExpectedBucketOwner`): by default the account
/// of `clients`, the controller's own. S3 refuses a bucket of another account with
/// `AccessDenied`, which fails the poll.
pub struct S3Source {
    clients: Clients,
    budgets: ApiBudgets,
    bucket: String,
    /// Empty or ending with `/`.
    prefix: String,
    /// The account the bucket must belong to.
    expected_owner: String,
    /// The largest object read, in bytes.
    max_file_bytes: u64,
    /// Object key to the ETag and file last read. After a complete poll, exactly the listed
    /// documents; a poll that failed part-way may leave objects it did fetch (each with the ETag
    /// its file belongs to), never remove any.
    cache: BTreeMap<String, Cached>,
}

#[derive(Debug, Clone)]
struct Cached {
    etag: String,
    file: SourceFile,
}

impl fmt::Debug for S3Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Source")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("account", &self.clients.account_id)
            .field("region", &self.clients.region)
            .field("expected_owner", &self.expected_owner)
            .field("max_file_bytes", &self.max_file_bytes)
            .field("cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

impl S3Source {
    /// The documents under `prefix` (read as a folder: `/` is appended when missing) of
    /// `bucket`, reached with `clients`, in a bucket of `clients`' account, objects of at most
    /// 1 MiB (see [`S3Source::expected_bucket_owner`] and [`S3Source::max_file_bytes`]).
    pub fn new(
        clients: Clients,
        budgets: ApiBudgets,
        bucket: impl Into<String>,
        prefix: impl Into<String>,
    ) -> S3Source {
        let mut prefix = prefix.into();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        S3Source {
            expected_owner: clients.account_id.clone(),
            clients,
            budgets,
            bucket: bucket.into(),
            prefix,
            max_file_bytes: SourceConfig::DEFAULT_MAX_FILE_BYTES,
            cache: BTreeMap::new(),
        }
    }

    /// The account the bucket must belong to (a 12-digit id).
    #[must_use]
    pub fn expected_bucket_owner(mut self, account: impl Into<String>) -> S3Source {
        self.expected_owner = account.into();
        self
    }

    /// Objects larger than `limit` are not fetched, and reported.
    #[must_use]
    pub fn max_file_bytes(mut self, limit: u64) -> S3Source {
        self.max_file_bytes = limit;
        self
    }

    /// `s3://bucket/prefix/`.
    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    /// Every document under the prefix, in key order, named `s3://bucket/key`.
    ///
    /// # Errors
    /// [`SourceError::Aws`] when a listing page or an object cannot be read (`AccessDenied` when
    /// the bucket is not the expected owner's); [`SourceError::Invalid`] for a listing S3 says is
    /// truncated but gives no way on.
    pub async fn poll(&mut self) -> Result<Vec<SourceFile>, SourceError> {
        let listed = self.list().await?;
        let mut stale = Vec::new();
        for (key, object) in &listed {
            if self.cache.get(key).is_some_and(|c| c.etag == object.etag) {
                continue;
            }
            if object.size > self.max_file_bytes {
                // Not fetched: its size alone rejects it.
                let why = Unreadable::too_large(object.size, self.max_file_bytes);
                let cached = Cached {
                    etag: object.etag.clone(),
                    file: SourceFile::unreadable(self.name_of(key), why),
                };
                self.cache.insert(key.clone(), cached);
            } else {
                stale.push(key.clone());
            }
        }
        self.fetch(stale).await?;
        self.cache.retain(|key, _| listed.contains_key(key));
        Ok(self.cache.values().map(|c| c.file.clone()).collect())
    }

    /// `s3://bucket/key`.
    fn name_of(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// The document keys under the prefix with their ETags and sizes, from every page of the
    /// listing.
    async fn list(&self) -> Result<BTreeMap<String, Listed>, SourceError> {
        let aws = Aws::new(&self.clients, &self.budgets);
        let mut listed = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            let page = aws
                .call("ListObjectsV2", ApiFamily::S3, || {
                    self.clients
                        .s3
                        .list_objects_v2()
                        .bucket(&self.bucket)
                        .expected_bucket_owner(&self.expected_owner)
                        .prefix(&self.prefix)
                        .max_keys(PAGE_SIZE)
                        .set_continuation_token(token.clone())
                        .send()
                })
                .await
                .map_err(SourceError::aws_at(self.location()))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                if is_document_key(&self.prefix, key) {
                    let etag = object.e_tag().unwrap_or_default().to_owned();
                    let size = object.size().and_then(|s| u64::try_from(s).ok());
                    let size = size.unwrap_or_default();
                    listed.insert(key.to_owned(), Listed { etag, size });
                }
            }
            match (page.is_truncated(), page.next_continuation_token()) {
                (Some(true), Some(next)) => token = Some(next.to_owned()),
                (Some(true), None) => {
                    return Err(SourceError::Invalid {
                        location: self.location(),
                        reason: "the listing is truncated but has no continuation token".into(),
                    });
                }
                _ => return Ok(listed),
            }
        }
    }

    /// Fetches `keys` into the cache, a few at a time. After the first failure no further
    /// object is started; those already started are still awaited and kept when they succeed,
    /// so the next poll fetches only what is left.
    async fn fetch(&mut self, keys: Vec<String>) -> Result<(), SourceError> {
        let aws = Aws::new(&self.clients, &self.budgets);
        let bucket = Bucket {
            name: &self.bucket,
            owner: &self.expected_owner,
            max_file_bytes: self.max_file_bytes,
        };
        let cache = &mut self.cache;
        let mut pending = keys.into_iter();
        let mut running = FuturesUnordered::new();
        let mut failure = None;
        loop {
            while failure.is_none() && running.len() < GET_CONCURRENCY {
                let Some(key) = pending.next() else { break };
                running.push(get_object(aws, bucket, key));
            }
            match running.next().await {
                Some(Ok((key, cached))) => {
                    cache.insert(key, cached);
                }
                Some(Err(e)) => {
                    failure.get_or_insert(e);
                }
                None => break,
            }
        }
        failure.map_or(Ok(()), Err)
    }
}

/// An object's ETag and size, as listed.
#[derive(Debug, Clone)]
struct Listed {
    etag: String,
    size: u64,
}

/// What reading an object needs to know of its bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket<'a> {
    name: &'a str,
    owner: &'a str,
    max_file_bytes: u64,
}

/// One object's file, with the ETag of that file (it may be newer than the listing's). An
/// object that grew past the limit since the listing is not read.
async fn get_object(
    aws: Aws<'_>,
    bucket: Bucket<'_>,
    key: String,
) -> Result<(String, Cached), SourceError> {
    let name = format!("s3://{}/{key}", bucket.name);
    let object = aws
        .call("GetObject", ApiFamily::S3, || {
            aws.clients
                .s3
                .get_object()
                .bucket(bucket.name)
                .expected_bucket_owner(bucket.owner)
                .key(&key)
                .send()
        })
        .await
        .map_err(SourceError::aws_at(&name))?;
    let etag = object.e_tag().unwrap_or_default().to_owned();
    let size = object.content_length().and_then(|s| u64::try_from(s).ok());
    if let Some(size) = size.filter(|s| *s > bucket.max_file_bytes) {
        let why = Unreadable::too_large(size, bucket.max_file_bytes);
        let file = SourceFile::unreadable(name, why);
        return Ok((key, Cached { etag, file }));
    }
    let body = object
        .body
        .collect()
        .await
        .map_err(|e| AwsError::local("GetObject", ErrorClass::Transient, e.to_string()))
        .map_err(SourceError::aws_at(&name))?
        .into_bytes();
    let file = SourceFile::from_bytes(name, body.to_vec(), bucket.max_file_bytes);
    Ok((key, Cached { etag, file }))
}

/// Whether `key` (under `prefix`) is a document: a `.yaml`, `.yml` or `.json` object, not
/// under a folder or with a name starting with `.`, not the controller config file.
fn is_document_key(prefix: &str, key: &str) -> bool {
    let Some(relative) = key.strip_prefix(prefix) else {
        return false;
    };
    let mut segments = relative.split('/');
    let name = segments.next_back().unwrap_or_default();
    !name.is_empty()
        && is_document_file(name)
        && name != CONFIG_FILE_NAME
        && !name.starts_with('.')
        && segments.all(|s| !s.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::is_document_key;

    #[test]
    fn only_visible_document_objects_under_the_prefix_are_documents() {
        assert!(is_document_key("m/", "m/ns.yaml"));
        assert!(is_document_key("m/", "m/team/share.JSON"));
        assert!(is_document_key("", "ns.yml"));
        assert!(!is_document_key("m/", "m/README.md"));
        assert!(!is_document_key("m/", "m/dir/"));
        assert!(!is_document_key("m/", "m/.hidden.yaml"));
        assert!(!is_document_key("m/", "m/.git/config.yaml"));
        assert!(!is_document_key("m/", "m/ecs-topology.config.yaml"));
        assert!(!is_document_key("m/", "other/ns.yaml"));
    }
}

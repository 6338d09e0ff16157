//! Documents under an S3 prefix: listed each poll, fetched only when their ETag changed.

use std::collections::BTreeMap;
use std::fmt;

use ecs_topology_core::config::CONFIG_FILE_NAME;
use ecs_topology_core::load::{SourceFile, is_document_file};
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
pub struct S3Source {
    clients: Clients,
    budgets: ApiBudgets,
    bucket: String,
    /// Empty or ending with `/`.
    prefix: String,
    /// Object key to the ETag and text last read. After a complete poll, exactly the listed
    /// documents; a poll that failed part-way may leave objects it did fetch (each with the ETag
    /// its text belongs to), never remove any.
    cache: BTreeMap<String, Cached>,
}

#[derive(Debug, Clone)]
struct Cached {
    etag: String,
    text: String,
}

impl fmt::Debug for S3Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Source")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("account", &self.clients.account_id)
            .field("region", &self.clients.region)
            .field("cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

impl S3Source {
    /// The documents under `prefix` (read as a folder: `/` is appended when missing) of
    /// `bucket`, reached with `clients`.
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
            clients,
            budgets,
            bucket: bucket.into(),
            prefix,
            cache: BTreeMap::new(),
        }
    }

    /// `s3://bucket/prefix/`.
    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    /// Every document under the prefix, in key order, named `s3://bucket/key`.
    ///
    /// # Errors
    /// [`SourceError::Aws`] when a listing page or an object cannot be read;
    /// [`SourceError::Invalid`] for an object that is not UTF-8 text or a listing S3 says is
    /// truncated but gives no way on.
    pub async fn poll(&mut self) -> Result<Vec<SourceFile>, SourceError> {
        let listed = self.list().await?;
        let stale: Vec<String> = listed
            .iter()
            .filter(|(key, etag)| self.cache.get(*key).is_none_or(|c| &c.etag != *etag))
            .map(|(key, _)| key.clone())
            .collect();
        self.fetch(stale).await?;
        self.cache.retain(|key, _| listed.contains_key(key));
        let files = self
            .cache
            .iter()
            .map(|(key, cached)| {
                SourceFile::new(format!("s3://{}/{key}", self.bucket), cached.text.clone())
            })
            .collect();
        Ok(files)
    }

    /// The document keys under the prefix with their ETags, from every page of the listing.
    async fn list(&self) -> Result<BTreeMap<String, String>, SourceError> {
        let aws = Aws {
            clients: &self.clients,
            budgets: &self.budgets,
        };
        let mut listed = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            let page = aws
                .call("ListObjectsV2", ApiFamily::S3, || {
                    self.clients
                        .s3
                        .list_objects_v2()
                        .bucket(&self.bucket)
                        .prefix(&self.prefix)
                        .max_keys(PAGE_SIZE)
                        .set_continuation_token(token.clone())
                        .send()
                })
                .await
                .map_err(|source| SourceError::Aws {
                    location: self.location(),
                    source,
                })?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                if is_document_key(&self.prefix, key) {
                    let etag = object.e_tag().unwrap_or_default().to_owned();
                    listed.insert(key.to_owned(), etag);
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
        let aws = Aws {
            clients: &self.clients,
            budgets: &self.budgets,
        };
        let bucket = self.bucket.as_str();
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

/// One object's text, with the ETag of that text (it may be newer than the listing's).
async fn get_object(
    aws: Aws<'_>,
    bucket: &str,
    key: String,
) -> Result<(String, Cached), SourceError> {
    let location = || format!("s3://{bucket}/{key}");
    let object = aws
        .call("GetObject", ApiFamily::S3, || {
            aws.clients.s3.get_object().bucket(bucket).key(&key).send()
        })
        .await
        .map_err(|source| SourceError::Aws {
            location: location(),
            source,
        })?;
    let etag = object.e_tag().unwrap_or_default().to_owned();
    let body = object
        .body
        .collect()
        .await
        .map_err(|e| SourceError::Aws {
            location: location(),
            source: AwsError::local("GetObject", ErrorClass::Transient, e.to_string()),
        })?
        .into_bytes();
    let text = String::from_utf8(body.to_vec()).map_err(|_| SourceError::Invalid {
        location: location(),
        reason: "is not UTF-8 text".into(),
    })?;
    Ok((key, Cached { etag, text }))
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

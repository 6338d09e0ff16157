"""S3's bucket owner condition, which stock moto accepts and ignores.

S3 (the API reference's ``ExpectedBucketOwner`` parameter of the bucket and object operations,
and the user guide's "Verifying bucket ownership with bucket owner condition"): a request that
carries the header ``x-amz-expected-bucket-owner`` is served only when that account id owns the
bucket; otherwise it fails with HTTP 403, error code ``AccessDenied``, message ``Access Denied``,
and changes nothing. Whose credentials sign the request does not matter: the bucket's owner
itself is refused when the header names another account.

What this adds to stock moto:

- Every request addressed to an existing bucket, or to an object in it, whatever its method and
  subresource, is checked against the header when the header is present, before moto handles it.
  The bucket's owner is the account that created it (moto's ``bucket_accounts``).
- ``CreateBucket`` (``PUT`` on a bucket with no subresource) and ``ListBuckets`` (no bucket) are
  not checked: neither operation takes an expected owner.
- A request for a bucket that does not exist is left to moto (``NoSuchBucket``, 404), whatever
  owner it expects.

Not covered: ``x-amz-source-expected-bucket-owner`` (the source bucket of ``CopyObject`` and
``UploadPartCopy``) is not checked, and the header's value is compared as given, not validated
as an account id.
"""

from moto.s3.exceptions import S3AccessDeniedError
from moto.s3.models import s3_backends
from moto.s3.responses import S3Response

HEADER = "x-amz-expected-bucket-owner"


def _owner_of(bucket_name):
    """The account that owns ``bucket_name``, or None when no such bucket exists."""
    owner = s3_backends.bucket_accounts.get(bucket_name)
    return owner[1] if owner else None


def _check(response, request, *, creating_bucket=False):
    """Raise AccessDenied when the request expects a bucket owner other than the bucket's."""
    expected = request.headers.get(HEADER)
    if expected is None or creating_bucket or not response.bucket_name:
        return
    owner = _owner_of(response.bucket_name)
    if owner is not None and owner != expected:
        raise S3AccessDeniedError()


def _wrap_bucket_response(original):
    def _bucket_response(self, request, full_url):
        querystring = self._get_querystring(request, full_url)
        _check(self, request, creating_bucket=request.method == "PUT" and not querystring)
        return original(self, request, full_url)

    return _bucket_response


def _wrap_key_response(original):
    def _key_response(self, request, full_url):
        _check(self, request)
        return original(self, request, full_url)

    return _key_response


def install() -> None:
    S3Response._bucket_response = _wrap_bucket_response(S3Response._bucket_response)
    S3Response._key_response = _wrap_key_response(S3Response._key_response)

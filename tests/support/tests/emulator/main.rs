#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cloudmap;
mod connection;
mod ec2;
mod ecs;
mod events;
mod lifecycle;
mod peering;
mod ram;
mod realism;
mod s3;
mod service_connect;
mod sts;
mod tagging;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// The error code, message and HTTP status of a failed call, of any service.
pub(crate) fn failure<E: ProvideErrorMetadata + std::fmt::Debug>(
    err: &SdkError<E, HttpResponse>,
) -> (String, String, u16) {
    match err {
        SdkError::ServiceError(e) => (
            e.err().code().unwrap_or_default().to_owned(),
            e.err().message().unwrap_or_default().to_owned(),
            e.raw().status().as_u16(),
        ),
        other => panic!("expected a service error, got {other:?}"),
    }
}

/// How a call that must fail (`why` says why) failed: its error code, message and HTTP status.
pub(crate) fn refused<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    reply: Result<T, SdkError<E, HttpResponse>>,
    why: &str,
) -> (String, String, u16) {
    failure(&reply.expect_err(why))
}

/// Asserts that a call that must fail (`why` says why) failed with the error code `code`;
/// answers the error's message.
#[track_caller]
pub(crate) fn assert_fails_with<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    reply: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
    why: &str,
) -> String {
    let (code_, message, _) = refused(reply, why);
    assert_eq!(code_, code, "{why}");
    message
}

/// The error code and HTTP status of a failed call (see [`failure`]).
pub(crate) fn code_and_status<E: ProvideErrorMetadata + std::fmt::Debug>(
    err: &SdkError<E, HttpResponse>,
) -> (String, u16) {
    let (code, _, status) = failure(err);
    (code, status)
}

/// Asserts that a call that must fail (`why` says why) failed with the error code `code` and
/// the HTTP status `status`; answers the error's message.
#[track_caller]
pub(crate) fn assert_fails_with_status<
    T: std::fmt::Debug,
    E: ProvideErrorMetadata + std::fmt::Debug,
>(
    reply: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
    status: u16,
    why: &str,
) -> String {
    let (code_, message, status_) = refused(reply, why);
    assert_eq!((code_.as_str(), status_), (code, status), "{why}");
    message
}

/// The first item of the reply of a call that must succeed, `items` reading them from the
/// reply: what a describe of one resource by its id or ARN answers.
///
/// # Panics
/// When the call fails or answers no item; the panic names `what`.
pub(crate) async fn first_of<O, E: std::fmt::Debug, T: Clone>(
    what: &str,
    call: impl Future<Output = Result<O, E>>,
    items: impl FnOnce(&O) -> &[T],
) -> T {
    let reply = call.await.unwrap_or_else(|e| panic!("{what}: {e:?}"));
    items(&reply)
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("{what}: nothing"))
}

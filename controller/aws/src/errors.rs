//! What kind of failure an AWS call met, as a small closed set usable as a metric label and as the
//! retry and backoff decision.
//!
//! Classification reads the error code the service sent (through `ProvideErrorMetadata`, so it
//! works for every service) and the HTTP status of the raw response; failures that never reached
//! the service (timeouts, connection errors, credentials) are told apart by the SDK error variant
//! and its source chain.

use std::error::Error as StdError;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

pub use ecs_topology_core::error::ErrorClass;

/// Throttling codes; the SDK's standard retry classifier treats the same codes as throttling.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

const TRANSIENT: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServerException",
    "InternalServiceError",
    "InternalServiceException",
    "ServerException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "Unavailable",
];

const CREDENTIALS: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "AuthFailure",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "InvalidToken",
    "RequestExpired",
];

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "NotAuthorized",
    "Forbidden",
];

const CONFLICT: &[&str] = &[
    "IdempotentParameterMismatch",
    "IdempotentParameterMismatchException",
    "DuplicateRequest",
    "ConflictException",
    "ConditionalCheckFailedException",
    "TransactionConflictException",
    "PreconditionFailed",
    "IncorrectState",
    "DependencyViolation",
];

/// How AWS's error codes and HTTP statuses map to an [`ErrorClass`].
pub trait FromAws: Sized {
    /// The class of an error code and HTTP status as a service returned them. The code decides
    /// when it is known; otherwise the status does; neither gives [`ErrorClass::Other`].
    fn from_code_and_status(code: Option<&str>, status: Option<u16>) -> Self;
}

impl FromAws for ErrorClass {
    fn from_code_and_status(code: Option<&str>, status: Option<u16>) -> ErrorClass {
        code.and_then(from_code)
            .or_else(|| status.and_then(from_status))
            .unwrap_or(ErrorClass::Other)
    }
}

fn from_code(code: &str) -> Option<ErrorClass> {
    let class = if CREDENTIALS.contains(&code) {
        ErrorClass::Credentials
    } else if THROTTLING.contains(&code) {
        ErrorClass::Throttling
    } else if code.contains("NotFound") || code.starts_with("NoSuch") {
        // EC2 spells these `InvalidVpcEndpointId.NotFound`.
        ErrorClass::NotFound
    } else if code == "UnknownResourceException" {
        ErrorClass::NotFound
    } else if CONFLICT.contains(&code)
        || code.contains("AlreadyExists")
        || code.contains("InUse")
        || code.starts_with("Duplicate")
    {
        ErrorClass::Conflict
    } else if ACCESS_DENIED.contains(&code) {
        ErrorClass::AccessDenied
    } else if TRANSIENT.contains(&code) {
        ErrorClass::Transient
    } else if code.starts_with("Invalid")
        || code.starts_with("Validation")
        || code.starts_with("Malformed")
        || code.starts_with("Missing")
        || code.starts_with("Unsupported")
        || code.contains("LimitExceeded")
        || code.contains("QuotaExceeded")
        || matches!(code, "ClientException" | "SerializationException")
    {
        ErrorClass::Validation
    } else {
        return None;
    };
    Some(class)
}

fn from_status(status: u16) -> Option<ErrorClass> {
    Some(match status {
        429 => ErrorClass::Throttling,
        401 => ErrorClass::Credentials,
        403 => ErrorClass::AccessDenied,
        404 => ErrorClass::NotFound,
        409 | 412 => ErrorClass::Conflict,
        400..=499 => ErrorClass::Validation,
        500..=599 => ErrorClass::Transient,
        _ => return None,
    })
}

/// The class of a failed SDK call, of any service.
pub fn classify<E>(error: &SdkError<E, HttpResponse>) -> ErrorClass
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    if has_credentials_error(error) {
        return ErrorClass::Credentials;
    }
    match error {
        SdkError::ServiceError(service) => ErrorClass::from_code_and_status(
            service.err().code(),
            Some(service.raw().status().as_u16()),
        ),
        SdkError::ResponseError(response) => {
            ErrorClass::from_code_and_status(None, Some(response.raw().status().as_u16()))
        }
        SdkError::TimeoutError(_) => ErrorClass::Transient,
        SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
            ErrorClass::Transient
        }
        SdkError::ConstructionFailure(_) => ErrorClass::Validation,
        _ => ErrorClass::Other,
    }
}

/// Whether `error` or one of its sources is a failure to get credentials (including a role that
/// could not be assumed, or an account with no way in).
pub fn has_credentials_error(error: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<CredentialsError>() || error.is::<crate::accounts::AccountError>() {
            return true;
        }
        current = error.source();
    }
    false
}

#[cfg(test)]
mod tests;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;

use super::*;
use crate::FromAws;

fn service_error(code: Option<&str>, status: u16) -> SdkError<PutItemError, Response> {
    let mut meta = ErrorMetadata::builder();
    if let Some(code) = code {
        meta = meta.code(code);
    }
    let status = StatusCode::try_from(status).unwrap();
    SdkError::service_error(
        PutItemError::generic(meta.build()),
        Response::new(status, SdkBody::empty()),
    )
}

fn class(code: &str, status: u16) -> ErrorClass {
    classify(&service_error(Some(code), status))
}

/// The class of an answer with the HTTP status `status` and no error code.
fn class_of_status(status: u16) -> ErrorClass {
    classify(&service_error(None, status))
}

/// Asserts that every one of `codes`, answered with HTTP 400, is of the class `want`.
#[track_caller]
fn assert_bad_requests_are(want: ErrorClass, codes: &[&str]) {
    for code in codes {
        assert_eq!(class(code, 400), want, "{code}");
    }
}

#[test]
fn throttling_codes_of_every_protocol_are_throttling() {
    assert_eq!(class("Throttling", 400), ErrorClass::Throttling);
    assert_eq!(class("ThrottlingException", 400), ErrorClass::Throttling);
    assert_eq!(class("RequestLimitExceeded", 503), ErrorClass::Throttling);
    assert_eq!(class("SlowDown", 503), ErrorClass::Throttling);
    assert_eq!(
        class("TooManyRequestsException", 429),
        ErrorClass::Throttling
    );
    assert_eq!(class_of_status(429), ErrorClass::Throttling);
}

#[test]
fn server_errors_and_timeouts_are_transient() {
    assert_eq!(class("InternalError", 500), ErrorClass::Transient);
    assert_eq!(class("ServiceUnavailable", 503), ErrorClass::Transient);
    assert_eq!(class("ServerException", 500), ErrorClass::Transient);
    assert_eq!(class_of_status(502), ErrorClass::Transient);
    let timeout: SdkError<PutItemError, Response> = SdkError::timeout_error("slow");
    assert_eq!(classify(&timeout), ErrorClass::Transient);
    let reset: SdkError<PutItemError, Response> = SdkError::dispatch_failure(
        aws_smithy_runtime_api::client::result::ConnectorError::io("connection reset".into()),
    );
    assert_eq!(classify(&reset), ErrorClass::Transient);
}

#[test]
fn bad_requests_are_validation_errors() {
    assert_bad_requests_are(
        ErrorClass::Validation,
        &[
            "ValidationException",
            "InvalidParameterValue",
            "InvalidParameterException",
            "InvalidParameterCombination",
            "MissingParameter",
            "ClientException",
            "NamespaceLimitExceeded",
            "VpcEndpointLimitExceeded",
        ],
    );
    assert_eq!(class("Whatever", 400), ErrorClass::Validation);
    let unbuilt: SdkError<PutItemError, Response> = SdkError::construction_failure("missing field");
    assert_eq!(classify(&unbuilt), ErrorClass::Validation);
}

#[test]
fn missing_objects_are_not_found() {
    assert_bad_requests_are(
        ErrorClass::NotFound,
        &[
            "InvalidVpcEndpointId.NotFound",
            "InvalidVpcID.NotFound",
            "NamespaceNotFound",
            "ResourceNotFoundException",
            "ClusterNotFoundException",
            "NoSuchKey",
            "UnknownResourceException",
        ],
    );
    assert_eq!(class_of_status(404), ErrorClass::NotFound);
}

#[test]
fn existing_objects_in_use_and_reused_tokens_are_conflicts() {
    assert_bad_requests_are(
        ErrorClass::Conflict,
        &[
            "NamespaceAlreadyExists",
            "ResourceAlreadyExistsException",
            "ResourceInUse",
            "ResourceInUseException",
            "IdempotentParameterMismatch",
            "IdempotentParameterMismatchException",
            "DuplicateRequest",
            "ConditionalCheckFailedException",
            "PreconditionFailed",
        ],
    );
    assert_eq!(class_of_status(409), ErrorClass::Conflict);
}

#[test]
fn refusals_are_access_denied_and_bad_keys_are_credentials() {
    assert_eq!(class("AccessDenied", 403), ErrorClass::AccessDenied);
    assert_eq!(
        class("AccessDeniedException", 400),
        ErrorClass::AccessDenied
    );
    assert_eq!(
        class("UnauthorizedOperation", 403),
        ErrorClass::AccessDenied
    );
    assert_eq!(class("ExpiredToken", 403), ErrorClass::Credentials);
    assert_eq!(class("InvalidClientTokenId", 403), ErrorClass::Credentials);
    assert_eq!(class("AuthFailure", 401), ErrorClass::Credentials);
    let no_credentials: SdkError<PutItemError, Response> = SdkError::dispatch_failure(
        aws_smithy_runtime_api::client::result::ConnectorError::other(
            Box::new(CredentialsError::not_loaded("no role")),
            None,
        ),
    );
    assert_eq!(classify(&no_credentials), ErrorClass::Credentials);
}

#[test]
fn unknown_codes_without_a_status_are_other() {
    assert_eq!(
        ErrorClass::from_code_and_status(Some("Mystery"), None),
        ErrorClass::Other
    );
    assert_eq!(
        ErrorClass::from_code_and_status(None, None),
        ErrorClass::Other
    );
}

#[test]
fn only_throttling_and_transient_are_retryable() {
    let retryable: Vec<_> = ErrorClass::ALL
        .into_iter()
        .filter(|c| c.is_retryable())
        .collect();
    assert_eq!(retryable, [ErrorClass::Throttling, ErrorClass::Transient]);
}

#[test]
fn labels_are_distinct_snake_case() {
    let labels: std::collections::BTreeSet<_> =
        ErrorClass::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(labels.len(), ErrorClass::ALL.len());
    assert!(
        labels
            .iter()
            .all(|l| l.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    );
}

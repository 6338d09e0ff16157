//! What kind of failure a reconcile met: one closed set, shared by the AWS side (which maps SDK
//! errors into it), the engine (which decides retries with it), status and metrics (which show it
//! as a bounded label).

use serde::{Deserialize, Serialize};

/// The class of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The service's rate limit was hit (`Throttling*`, `RequestLimitExceeded`, `SlowDown`, 429).
    Throttling,
    /// Worth retrying as is: 5xx, timeouts, connection resets and other I/O failures.
    Transient,
    /// The request is wrong and will fail again: `ValidationException`, `InvalidParameter*`,
    /// quota errors and any other 4xx not classified more precisely.
    Validation,
    /// The object does not exist (`*NotFound*`, `NoSuch*`, 404).
    NotFound,
    /// The credentials are valid but not allowed to do this (`AccessDenied*`,
    /// `UnauthorizedOperation`, 403).
    AccessDenied,
    /// The object's state conflicts with the request: already exists, in use, idempotency token
    /// reused with other parameters, a failed condition (409, 412).
    Conflict,
    /// No usable credentials: none could be loaded, the role could not be assumed, or the service
    /// rejected them as expired or unknown.
    Credentials,
    /// A check made before a change found that it would fail or not work (for example a VPC
    /// without DNS support for private DNS endpoints); nothing was changed.
    Preflight,
    /// Changes were carried out but the object still differs from the document.
    NotConverged,
    /// Anything else, e.g. a request the SDK could not build. An unknown class read back from a
    /// status store is this one too.
    #[serde(other)]
    Other,
}

impl ErrorClass {
    /// Every class, for tests and for pre-registering metric label values.
    pub const ALL: [ErrorClass; 10] = [
        ErrorClass::Throttling,
        ErrorClass::Transient,
        ErrorClass::Validation,
        ErrorClass::NotFound,
        ErrorClass::AccessDenied,
        ErrorClass::Conflict,
        ErrorClass::Credentials,
        ErrorClass::Preflight,
        ErrorClass::NotConverged,
        ErrorClass::Other,
    ];

    /// The metric label value and the word in status: `throttling`, `transient`, `validation`,
    /// `not_found`, `access_denied`, `conflict`, `credentials`, `preflight`, `not_converged` or
    /// `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Throttling => "throttling",
            ErrorClass::Transient => "transient",
            ErrorClass::Validation => "validation",
            ErrorClass::NotFound => "not_found",
            ErrorClass::AccessDenied => "access_denied",
            ErrorClass::Conflict => "conflict",
            ErrorClass::Credentials => "credentials",
            ErrorClass::Preflight => "preflight",
            ErrorClass::NotConverged => "not_converged",
            ErrorClass::Other => "other",
        }
    }

    /// Whether the same call may succeed when sent again at once (the AWS side's own retries):
    /// throttling and transient failures only.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorClass::Throttling | ErrorClass::Transient)
    }

    /// Whether a reconcile that failed this way is retried with backoff: besides what
    /// [`Self::is_retryable`] admits, a conflict (an object in a state that passes) and an
    /// unclassified failure. The others wait for a change of the document or the next resync.
    pub fn backs_off(self) -> bool {
        matches!(
            self,
            ErrorClass::Throttling
                | ErrorClass::Transient
                | ErrorClass::Conflict
                | ErrorClass::Other
        )
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure, with its bounded class (a metric label) and the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub class: ErrorClass,
    pub message: String,
}

impl ErrorInfo {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> ErrorInfo {
        ErrorInfo {
            class,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_reads_back_as_itself_from_its_label() {
        for class in ErrorClass::ALL {
            let text = serde_json::to_string(&class).unwrap_or_default();
            assert_eq!(text, format!("\"{}\"", class.as_str()));
            assert_eq!(serde_json::from_str::<ErrorClass>(&text).ok(), Some(class));
        }
    }

    #[test]
    fn an_unknown_class_in_a_stored_status_reads_as_other() {
        assert_eq!(
            serde_json::from_str::<ErrorClass>("\"gremlins\"").ok(),
            Some(ErrorClass::Other)
        );
    }

    #[test]
    fn only_passing_failures_back_off_and_retry() {
        let backs_off: Vec<&str> = ErrorClass::ALL
            .into_iter()
            .filter(|c| c.backs_off())
            .map(ErrorClass::as_str)
            .collect();
        assert_eq!(backs_off, ["throttling", "transient", "conflict", "other"]);
        assert!(
            ErrorClass::ALL
                .into_iter()
                .filter(|c| c.is_retryable())
                .all(ErrorClass::backs_off)
        );
    }
}

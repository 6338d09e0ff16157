//! Making one AWS call the controller's way: within the rate budget of its family, with the
//! failure turned into a bounded class and a readable message.

use std::error::Error as StdError;
use std::future::Future;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ecs_topology_core::status::ErrorInfo;

use crate::{ApiBudgets, ApiFamily, Clients, ErrorClass, classify};

/// A failed AWS call: the operation, its class, AWS's error code and message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct AwsError {
    pub operation: &'static str,
    pub class: ErrorClass,
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    pub fn is_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// A failure found by the controller itself (not returned by AWS).
    pub fn local(
        operation: &'static str,
        class: ErrorClass,
        message: impl Into<String>,
    ) -> AwsError {
        AwsError {
            operation,
            class,
            code: None,
            message: message.into(),
        }
    }
}

impl From<AwsError> for ErrorInfo {
    fn from(e: AwsError) -> ErrorInfo {
        ErrorInfo::new(e.class, e.to_string())
    }
}

/// The clients of one account and region with the budgets their calls draw on.
#[derive(Debug, Clone, Copy)]
pub struct Aws<'a> {
    pub clients: &'a Clients,
    pub budgets: &'a ApiBudgets,
}

impl Aws<'_> {
    /// Makes one call within the budget of `family`.
    ///
    /// # Errors
    /// The call's failure as an [`AwsError`].
    pub async fn call<T, E, F, Fut>(
        &self,
        operation: &'static str,
        family: ApiFamily,
        send: F,
    ) -> Result<T, AwsError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let c = self.clients;
        self.budgets
            .call(&c.account_id, &c.region, family, send)
            .await
            .map_err(|e| {
                let class = classify(&e);
                let (code, message) = match &e {
                    SdkError::ServiceError(s) => (
                        s.err().code().map(str::to_owned),
                        s.err()
                            .message()
                            .map(str::to_owned)
                            .unwrap_or_else(|| DisplayErrorContext(&e).to_string()),
                    ),
                    _ => (None, DisplayErrorContext(&e).to_string()),
                };
                let message = match &code {
                    Some(code) if !message.starts_with(code.as_str()) => {
                        format!("{code}: {message}")
                    }
                    _ => message,
                };
                AwsError {
                    operation,
                    class,
                    code,
                    message,
                }
            })
    }
}

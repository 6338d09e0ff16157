//! Making one AWS call the controller's way: within the rate budget of its family, with the
//! failure turned into a bounded class and a readable message.

use std::error::Error as StdError;
use std::future::Future;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ecs_topology_core::engine::Term;
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
    /// For a change: the leadership term it runs in; no call is sent once it ended.
    pub term: Option<&'a Term>,
}

impl<'a> Aws<'a> {
    /// Calls outside a change (observation, sources, status).
    pub fn new(clients: &'a Clients, budgets: &'a ApiBudgets) -> Aws<'a> {
        Aws {
            clients,
            budgets,
            term: None,
        }
    }

    /// Calls of a change made in leadership `term`.
    pub fn in_term(self, term: &'a Term) -> Aws<'a> {
        Aws {
            term: Some(term),
            ..self
        }
    }

    /// Makes one call within the budget of `family`; in a change, only while its leadership term
    /// lasts.
    ///
    /// # Errors
    /// The call's failure as an [`AwsError`]; a call of a change whose term ended is not sent.
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
        if let Some(Err(e)) = self.term.map(|t| t.check(operation)) {
            return Err(AwsError::local(operation, e.class, e.message));
        }
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

    /// Every page of a paginated call, each within the budget of `family`: `send(token)` sends
    /// the request of one page (`None` for the first), `take(reply)` keeps the page's objects
    /// and returns its next token; no token, or an empty one, ends the listing.
    ///
    /// # Errors
    /// The first page that failed, as [`Aws::call`] reports it.
    pub async fn pages<R, E, F, Fut>(
        &self,
        operation: &'static str,
        family: ApiFamily,
        send: F,
        mut take: impl FnMut(R) -> Option<String>,
    ) -> Result<(), AwsError>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: Future<Output = Result<R, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let mut token: Option<String> = None;
        loop {
            let reply = self.call(operation, family, || send(token.take())).await?;
            token = take(reply).filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(());
            }
        }
    }
}

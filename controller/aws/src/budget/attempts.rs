//! Every attempt the SDK makes within an [`ApiBudgets::call`](super::ApiBudgets::call), seen by
//! an interceptor on the controller's clients: the operation's name, the number of attempts, and
//! throttled attempts, which cut the bucket at once, also when a retry then succeeds.
//!
//! The call runs inside a task-local [`Scope`]; the SDK runs its interceptors inside the call's
//! own future, so the interceptor finds the scope of the call it belongs to. Outside a scope the
//! interceptor does nothing.

use std::error::Error as StdError;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, Error as ErasedError, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::{Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ecs_topology_core::ratelimit::RateBudgets;

use super::BudgetKey;
use crate::errors::{ErrorClass, FromAws, has_credentials_error};

tokio::task_local! {
    static SCOPE: Arc<Scope>;
}

/// What the attempts of one call showed.
#[derive(Debug, Default, Clone)]
pub(super) struct Seen {
    pub(super) operation: Option<String>,
    pub(super) attempts: u32,
    pub(super) throttled: u32,
}

/// One call in flight.
pub(super) struct Scope {
    key: BudgetKey,
    rates: RateBudgets<BudgetKey>,
    /// The error code of an operation error of the call's operation type.
    code_of: fn(&ErasedError) -> Option<String>,
    seen: Mutex<Seen>,
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("key", &self.key)
            .field("seen", &self.seen())
            .finish_non_exhaustive()
    }
}

fn code_of<E>(error: &ErasedError) -> Option<String>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    error.downcast_ref::<E>()?.code().map(str::to_owned)
}

impl Scope {
    /// A scope for a call whose operation errors are `E`.
    pub(super) fn new<E>(key: BudgetKey, rates: RateBudgets<BudgetKey>) -> Arc<Self>
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        Arc::new(Self {
            key,
            rates,
            code_of: code_of::<E>,
            seen: Mutex::new(Seen::default()),
        })
    }

    pub(super) fn key(&self) -> &BudgetKey {
        &self.key
    }

    pub(super) fn seen(&self) -> Seen {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs `call` with this scope visible to the interceptor.
    pub(super) async fn run<F: Future>(self: Arc<Self>, call: F) -> F::Output {
        SCOPE.scope(self, call).await
    }

    fn update(&self, f: impl FnOnce(&mut Seen)) {
        f(&mut self.seen.lock().unwrap_or_else(PoisonError::into_inner));
    }

    fn after_attempt(&self, context: &FinalizerInterceptorContextRef<'_>) {
        let status = context.response().map(|r| r.status().as_u16());
        let class = match context.output_or_error() {
            Some(Ok(_)) => None,
            Some(Err(error)) => Some(self.class_of(error, status)),
            None => Some(ErrorClass::Other),
        };
        let throttled = class == Some(ErrorClass::Throttling);
        self.update(|seen| {
            seen.attempts += 1;
            seen.throttled += u32::from(throttled);
        });
        if throttled {
            self.rates.on_throttled(&self.key);
        }
    }

    fn class_of(&self, error: &OrchestratorError<ErasedError>, status: Option<u16>) -> ErrorClass {
        if let Some(operation) = error.as_operation_error() {
            return ErrorClass::from_code_and_status((self.code_of)(operation).as_deref(), status);
        }
        if error.is_timeout_error() {
            return ErrorClass::Transient;
        }
        if let Some(connector) = error.as_connector_error() {
            return if connector.is_io() || connector.is_timeout() {
                ErrorClass::Transient
            } else {
                ErrorClass::Other
            };
        }
        if has_credentials_error(error) {
            return ErrorClass::Credentials;
        }
        ErrorClass::from_code_and_status(None, status)
    }
}

/// Reports each attempt of a client's calls to the scope of the budgeted call it runs in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BudgetInterceptor;

impl Intercept for BudgetInterceptor {
    fn name(&self) -> &'static str {
        "ecs-topology-budget"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            let operation = metadata.name().to_owned();
            let _outside_a_call = SCOPE.try_with(|scope| {
                scope.update(|seen| seen.operation = Some(operation));
            });
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let _outside_a_call = SCOPE.try_with(|scope| scope.after_attempt(context));
        Ok(())
    }
}

#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The AWS layer against the project's emulator: accounts and credentials, rate budgets and
//! retries, error classes.

mod accounts;
mod budget;
mod create_retry;
mod errors;
mod express;
mod lease;
mod source_input;
mod sources;
mod status_table;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ecs_topology_aws::{
    Accounts, AccountsOptions, ApiBudgets, CallObserver, CallRecord, Clients, ErrorClass,
    NoObserver,
};
use ecs_topology_core::config::{AccountConfig, ControllerConfig};
use ecs_topology_testkit::emulator;

const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";

/// The clients of `account` in [`EAST`], pointed at the emulator.
async fn clients(account: &str) -> Clients {
    let config = emulator().sdk_config(account, EAST).await;
    Clients::new(&config, account, EAST)
}

/// The rate budgets of a default controller config, reporting to no one.
fn budgets() -> ApiBudgets {
    ApiBudgets::new(&ControllerConfig::default(), Arc::new(NoObserver)).unwrap()
}

/// The controller's own account and a controller config naming `targets` (alias, id), each
/// reached through a role `arn:aws:iam::<id>:role/ecs-topology`.
struct World {
    /// The controller's own account: the base credentials land here.
    own: String,
    config: ControllerConfig,
}

impl World {
    fn new(targets: &[&str]) -> (World, Vec<String>) {
        let emulator = emulator();
        let own = emulator.new_account();
        let mut config = ControllerConfig {
            name: "ecs-topology-test".into(),
            ..ControllerConfig::default()
        };
        let ids: Vec<String> = targets.iter().map(|_| emulator.new_account()).collect();
        for (alias, id) in targets.iter().zip(&ids) {
            config.accounts.insert(
                (*alias).to_owned(),
                AccountConfig {
                    id: id.clone(),
                    role_arn: Some(format!("arn:aws:iam::{id}:role/ecs-topology")),
                    external_id: Some("shared-secret".into()),
                    session_name: None,
                },
            );
        }
        (World { own, config }, ids)
    }

    async fn accounts(&self) -> Accounts {
        self.accounts_with(AccountsOptions::default()).await
    }

    async fn accounts_with(&self, options: AccountsOptions) -> Accounts {
        let base = emulator().sdk_config(&self.own, EAST).await;
        Accounts::with_options(base, &self.config, options)
    }
}

/// Every call an [`ApiBudgets`](ecs_topology_aws::ApiBudgets) reported.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<Recorded>>);

#[derive(Debug, Clone, PartialEq)]
struct Recorded {
    service: &'static str,
    operation: String,
    account: String,
    outcome: Result<(), ErrorClass>,
    attempts: u32,
    throttled: u32,
    waited: Duration,
}

impl CallObserver for Recorder {
    fn observe(&self, call: &CallRecord<'_>) {
        self.0.lock().unwrap().push(Recorded {
            service: call.service,
            operation: call.operation.to_owned(),
            account: call.account.to_owned(),
            outcome: call.outcome,
            attempts: call.attempts,
            throttled: call.throttled,
            waited: call.waited,
        });
    }
}

impl Recorder {
    fn new() -> Arc<Recorder> {
        Arc::default()
    }

    fn calls(&self) -> Vec<Recorded> {
        self.0.lock().unwrap().clone()
    }
}

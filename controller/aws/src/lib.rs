//! The AWS side of ecs-topology: accounts and credentials, rate budgets, error classification,
//! and (as they are written) the sources, observers, actuators and lease. The only crate that
//! uses the AWS SDK.

pub mod accounts;
pub mod binding;
pub mod budget;
pub mod call;
pub mod cloud;
pub mod cloudmap;
mod dynamodb;
mod ec2;
mod ecs;
pub mod endpoints;
pub mod errors;
pub mod events;
pub mod express;
pub mod lease;
pub mod peering;
pub mod ram;
pub mod sources;
pub mod status_table;
pub mod tagging;

pub use accounts::{AccountError, Accounts, AccountsOptions, Clients};
pub use budget::{ApiBudgets, ApiFamily, BudgetKey, CallObserver, CallRecord, NoObserver};
pub use call::{Aws, AwsError};
pub use cloud::AwsCloud;
pub use errors::{ErrorClass, FromAws, classify};

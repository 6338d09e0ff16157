//! The core of ecs-topology: the documents an operator writes, their loading and validation, the
//! controller config, the pure plan, the work queue and the reconcile runtime.
//!
//! Nothing here knows the AWS SDK or HTTP: planning and queueing are tested with plain data and
//! paused tokio time. The AWS side implements the ports this crate defines.

pub mod compact;
pub mod config;
pub mod digest;
pub mod duration;
pub mod engine;
pub mod error;
pub mod events;
pub mod finding;
pub mod kinds;
pub mod load;
pub mod model;
pub mod observed;
pub mod plan;
pub mod policy;
pub mod prune;
pub mod queue;
pub mod ratelimit;
pub mod schema;
pub mod status;
pub mod status_store;
pub mod status_writer;
pub mod store;
pub mod validate;

//! The daemon as a process: `ecs-topology run` against the project's AWS emulator, fed from S3 or
//! DynamoDB, observed through its HTTP endpoints and the emulator's call counts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod events;
mod express_failure;
mod harness;
mod hostile;
mod hung_calls;
/// The metrics code's own list of the families the daemon exports.
#[path = "../../src/metrics/labels.rs"]
#[allow(dead_code)]
mod labels;
mod lease;
mod lifecycle;
mod sources;
mod ui;

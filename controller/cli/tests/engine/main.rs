//! The engine end to end: the `ecs-topology` binary against the project's AWS emulator, on Cloud
//! Map namespaces and their RAM shares across accounts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod binding;
mod convergence;
mod crash;
mod drift;
mod endpoints;
mod express;
mod leaks;
mod ownership;
mod peering;
mod prune;
mod scale;
mod timeouts;
mod world;

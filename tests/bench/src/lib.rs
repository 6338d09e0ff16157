//! Benchmarks of the ecs-topology controller against the project's AWS emulator.
//!
//! [`topology`] generates N documents of the four kinds over A accounts and R regions with the
//! network they need; [`run::run`] runs the real daemon against them and measures the API calls
//! of one observation pass, the initial convergence under AWS's throttling rates, the time from
//! a drift to its correction and the daemon's peak memory, and, when asked, [`compare`]s it
//! with change events ([`events`] wires them) and a rare poll; [`planning`] times the pure plan
//! in process; [`limits`] computes the physical minimums each figure is judged against.

pub mod compare;
mod daemon;
pub mod drift;
pub mod events;
pub mod limits;
pub mod meter;
pub mod planning;
pub mod run;
pub mod table;
pub mod topology;

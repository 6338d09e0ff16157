//! Benchmarks of the ecs-topology controller against the project's AWS emulator.
//!
//! [`topology`] generates N documents of the four kinds over A accounts and R regions with the
//! network they need; [`run::run`] runs the real daemon against them and measures the API calls
//! of the settled observation passes ([`steady`]), the initial convergence under AWS's
//! throttling rates, the time from a drift to its correction and the daemon's memory over the
//! run ([`memory`]), and, when asked, [`compare`]s it with change events ([`events`] wires them)
//! and a rare poll; [`planning`] times the pure plan in process, and [`scale`] takes desired set,
//! observation and plan to 100,000 documents; [`limits`] computes the physical minimums each
//! figure is judged against.

pub mod compare;
mod daemon;
pub mod drift;
pub mod events;
pub mod heap;
pub mod limits;
pub mod memory;
pub mod meter;
pub mod planning;
pub mod run;
pub mod scale;
pub mod steady;
pub mod table;
pub mod topology;

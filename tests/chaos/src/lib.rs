//! Chaos campaigns against the ecs-topology controller, judged by an independent census of the
//! project's AWS emulator.
//!
//! [`world`] builds a fresh topology of every kind over three accounts and two regions, with
//! unowned look-alikes beside it; [`census`] reads the emulator with plain SDK calls and counts
//! duplicates, leaks, documents not converged and look-alikes changed; [`controller`] starts and
//! kills the real binary; [`campaigns`] are the campaigns: `kill`, `failover`, `faults` and
//! `sources`, each returning a report.

pub mod campaigns;
pub mod census;
pub mod controller;
pub mod proxy;
pub mod world;

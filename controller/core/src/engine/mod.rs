//! The engine: observe in batches, plan each document purely, act through the work queue.
//!
//! The engine is generic over [`Resource`]: it never names a kind. Each kind lives in its module
//! under [`crate::kinds`], registered there once; the AWS side implements each kind's port of
//! [`Cloud`]. A pass observes every (account, region) once per kind, every document is planned
//! from that observation into typed edits, and the work queue converges them with bounded
//! concurrency, each key reconciled by one worker at a time through [`Daemon::reconcile`] — in
//! the daemon and in `apply --once` alike.
//!
//! # Guarantees
//! - Nothing is created, changed or deleted in an (account, region) whose observation failed.
//! - Nothing is pruned unless the prune gate allows it (see [`crate::prune`]).
//! - A reconcile re-plans from the current state; it is never told why it ran.
//! - A change runs within one leadership [`Term`]: when the term ends the change stops, and no
//!   call is made after it ended.

mod daemon;
mod desired;
mod inspect;
mod leadership;
mod objects;
mod observe;
mod once;
mod planning;
mod reconcile;
mod resource;
mod targeted;

pub use crate::kinds::{Cloud, Observation};
pub use daemon::{Daemon, DaemonObserver, PassView, ReconcileResult, Silent, StatusChange};
pub use desired::{Desired, DesiredSet, create_token, digest};
pub use inspect::{TopologyNode, TopologyPage, topology};
pub use leadership::{Leader, Leadership, Term};
pub use objects::{Objects, Scope};
pub use observe::{Search, look_per_scope, observe};
pub use once::{ApplyReport, KeyOutcome};
pub use planning::{Planned, orphans, owned, plan_all, plan_key};
pub use reconcile::{Outcome, Reconciled};
pub use resource::{
    Applied, Change, Context, Edge, Input, Patch, Plan, Registered, Resource, Rules, Topology,
};

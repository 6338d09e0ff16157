//! Prune safety: whether removed documents may be deleted in this pass.
//!
//! # Guarantees
//! Nothing is pruned when the source listed nothing, when any part of it failed to load, when
//! more than the configured share of what the controller **owns** lost its documents at once
//! (measured against owned objects, never against the documents present, which a swapped prefix
//! of new names inflates), or beyond the hourly deletion budget ([`DeletionBudget`]).

use crate::config::PruneConfig;
use crate::plan::PruneGate;

/// What the desired side looks like in this pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceHealth {
    /// Documents present in the source (loaded or rejected).
    pub present: usize,
    /// Whether every file of every source was read and split into documents.
    pub complete: bool,
}

/// What the controller owns, as one pass observed it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Owned {
    /// Documents (keys) the controller owns objects for, with or without a document now.
    pub keys: usize,
    /// Of those, the keys whose documents are gone and whose objects would be deleted (not
    /// retained).
    pub removed: usize,
}

/// Decides the prune gate of a pass.
pub fn prune_gate(config: &PruneConfig, source: SourceHealth, owned: Owned) -> PruneGate {
    let removed = owned.removed;
    if removed == 0 {
        return PruneGate::Allowed;
    }
    if !source.complete {
        return PruneGate::HeldBack("part of the source failed to load".into());
    }
    if source.present == 0 {
        return PruneGate::HeldBack(format!(
            "the source lists no documents, which would delete all {removed} managed objects"
        ));
    }
    let total = owned.keys.max(removed);
    let allowed = ((config.max_fraction * total as f64).floor() as usize).max(config.always_allow);
    if removed > allowed {
        return PruneGate::HeldBack(format!(
            "the documents of {removed} of the {total} objects the controller owns disappeared at \
             once, more than the limit of {allowed} (prune.maxFraction {}, prune.alwaysAllow {})",
            config.max_fraction, config.always_allow
        ));
    }
    PruneGate::Allowed
}

/// The deletions of removed documents' objects in the last hour, against
/// `prune.maxDeletionsPerHour`.
///
/// # Guarantees
/// At most `limit` deletions are granted in any window of one hour.
#[derive(Debug, Default)]
pub struct DeletionBudget {
    granted: std::sync::Mutex<std::collections::VecDeque<tokio::time::Instant>>,
}

/// How long a deletion counts against the budget.
const BUDGET_WINDOW: std::time::Duration = std::time::Duration::from_secs(3600);

impl DeletionBudget {
    /// Takes one deletion from the budget if one is left; otherwise says when the next is.
    pub fn take(&self, limit: usize, now: tokio::time::Instant) -> Result<(), std::time::Duration> {
        let mut granted = self.granted.lock().unwrap_or_else(|e| e.into_inner());
        while granted
            .front()
            .is_some_and(|t| now.duration_since(*t) >= BUDGET_WINDOW)
        {
            granted.pop_front();
        }
        if granted.len() < limit {
            granted.push_back(now);
            return Ok(());
        }
        let oldest = granted.front().copied().unwrap_or(now);
        Err(BUDGET_WINDOW.saturating_sub(now.duration_since(oldest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(keys: usize, removed: usize) -> Owned {
        Owned { keys, removed }
    }

    fn healthy(present: usize) -> SourceHealth {
        SourceHealth {
            present,
            complete: true,
        }
    }

    #[test]
    fn an_empty_source_prunes_nothing() {
        let gate = prune_gate(&PruneConfig::default(), healthy(0), owned(1, 1));
        assert!(matches!(gate, PruneGate::HeldBack(_)));
    }

    #[test]
    fn a_source_that_failed_to_load_prunes_nothing() {
        let gate = prune_gate(
            &PruneConfig::default(),
            SourceHealth {
                present: 10,
                complete: false,
            },
            owned(11, 1),
        );
        assert!(matches!(gate, PruneGate::HeldBack(_)));
    }

    #[test]
    fn a_few_removals_are_always_allowed_and_a_mass_removal_is_held_back() {
        let config = PruneConfig {
            max_fraction: 0.25,
            always_allow: 2,
            ..PruneConfig::default()
        };
        assert_eq!(
            prune_gate(&config, healthy(3), owned(5, 2)),
            PruneGate::Allowed
        );
        assert_eq!(
            prune_gate(&config, healthy(30), owned(40, 10)),
            PruneGate::Allowed
        );
        assert!(matches!(
            prune_gate(&config, healthy(30), owned(40, 11)),
            PruneGate::HeldBack(_)
        ));
    }

    #[test]
    fn new_documents_do_not_make_a_mass_removal_of_owned_objects_allowed() {
        // A bucket pointed at another team's prefix: 120 new names, none of the 22 documents
        // whose objects the controller owns.
        let gate = prune_gate(&PruneConfig::default(), healthy(120), owned(22, 22));
        let PruneGate::HeldBack(why) = gate else {
            panic!("all 22 owned objects would be deleted");
        };
        assert!(why.contains("22 of the 22 objects"), "{why}");
    }

    #[test]
    fn the_hourly_budget_grants_at_most_its_limit_in_any_hour() {
        let budget = DeletionBudget::default();
        let start = tokio::time::Instant::now();
        let minute = std::time::Duration::from_secs(60);
        assert!(budget.take(2, start).is_ok());
        assert!(budget.take(2, start + minute).is_ok());
        let wait = budget.take(2, start + 2 * minute).unwrap_err();
        assert_eq!(wait, BUDGET_WINDOW - 2 * minute);
        assert!(budget.take(2, start + BUDGET_WINDOW).is_ok());
        assert!(budget.take(2, start + BUDGET_WINDOW).is_err());
    }
}

//! Prune safety: whether removed documents may be deleted in this pass.
//!
//! # Guarantees
//! Nothing is pruned when the source listed nothing, when any part of it failed to load, or when
//! more than the configured share of the documents disappeared at once.

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

/// Decides the prune gate for `removed` owned objects whose documents are gone.
pub fn prune_gate(config: &PruneConfig, source: SourceHealth, removed: usize) -> PruneGate {
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
    let total = source.present + removed;
    let allowed = ((config.max_fraction * total as f64).floor() as usize).max(config.always_allow);
    if removed > allowed {
        return PruneGate::HeldBack(format!(
            "{removed} of {total} documents disappeared at once, more than the limit of {allowed} \
             (prune.maxFraction {}, prune.alwaysAllow {})",
            config.max_fraction, config.always_allow
        ));
    }
    PruneGate::Allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy(present: usize) -> SourceHealth {
        SourceHealth {
            present,
            complete: true,
        }
    }

    #[test]
    fn an_empty_source_prunes_nothing() {
        let gate = prune_gate(&PruneConfig::default(), healthy(0), 1);
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
            1,
        );
        assert!(matches!(gate, PruneGate::HeldBack(_)));
    }

    #[test]
    fn a_few_removals_are_always_allowed_and_a_mass_removal_is_held_back() {
        let config = PruneConfig {
            max_fraction: 0.25,
            always_allow: 2,
        };
        assert_eq!(prune_gate(&config, healthy(3), 2), PruneGate::Allowed);
        assert_eq!(prune_gate(&config, healthy(30), 10), PruneGate::Allowed);
        assert!(matches!(
            prune_gate(&config, healthy(30), 11),
            PruneGate::HeldBack(_)
        ));
    }
}

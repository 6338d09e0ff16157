//! Plans as an operator reads them in a terminal or a pull request.

use std::collections::BTreeMap;
use std::fmt::Write;

use ecs_topology_core::plan::{DocumentPlan, FieldChange, Verb};
use serde_json::Value;

fn value(v: &Option<Value>) -> String {
    match v {
        None => "(absent)".into(),
        Some(v) => v.to_string(),
    }
}

fn change_line(c: &FieldChange) -> String {
    match (&c.from, &c.to) {
        (None, Some(_)) => format!("    + {}: {}", c.path, value(&c.to)),
        (Some(_), None) => format!("    - {}: {}", c.path, value(&c.from)),
        _ => format!("    ~ {}: {} -> {}", c.path, value(&c.from), value(&c.to)),
    }
}

/// The plan as text: one line per document that is not in sync, with its field changes, then a
/// summary line.
pub fn plan_text(plans: &[DocumentPlan]) -> String {
    let mut out = String::new();
    for plan in plans.iter().filter(|p| p.verb != Verb::InSync) {
        let _ = write!(out, "{} {}", Verb::as_str(plan.verb), plan.key);
        if let Some(reason) = &plan.reason {
            let _ = write!(out, ": {reason}");
        }
        out.push('\n');
        for change in &plan.changes {
            out.push_str(&change_line(change));
            out.push('\n');
        }
    }
    let counts = summary(plans);
    let _ = writeln!(
        out,
        "Plan: {} to create, {} to update, {} to adopt, {} to delete, {} blocked, {} waiting, {} suspended, {} retained, {} in sync.",
        counts["create"],
        counts["update"],
        counts["adopt"],
        counts["delete"],
        counts["blocked"],
        counts["waiting"],
        counts["suspended"],
        counts["retain"],
        counts["in sync"],
    );
    out
}

/// How many documents have each verb.
pub fn summary(plans: &[DocumentPlan]) -> BTreeMap<&'static str, usize> {
    let mut counts: BTreeMap<&'static str, usize> = [
        "create",
        "update",
        "adopt",
        "delete",
        "blocked",
        "waiting",
        "suspended",
        "retain",
        "in sync",
    ]
    .into_iter()
    .map(|k| (k, 0))
    .collect();
    for plan in plans {
        *counts.entry(Verb::as_str(plan.verb)).or_default() += 1;
    }
    counts
}

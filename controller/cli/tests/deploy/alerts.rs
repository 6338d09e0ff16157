//! The alert rules and their promtool tests name only series the controller can emit: every
//! label of a controller family is one its series carry, and every value one the metrics code
//! can produce, read from that code's own lists (`src/metrics/labels.rs`: the kinds, the
//! reconcile results, the error classes, ...). A rule waiting for a value the controller never
//! emits can never fire, and a promtool test fed such a series proves nothing.

use std::collections::BTreeSet;

use ecs_topology_core::engine::ReconcileResult;
use ecs_topology_core::error::ErrorClass;
use serde_json::Value;

use crate::labels::{self, Family, Values};
use crate::yaml;

/// Labels Prometheus adds to every series it scrapes.
const TARGET_LABELS: [&str; 2] = ["job", "instance"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equal,
    NotEqual,
    Matches,
    NotMatches,
}

/// One label matcher; a regular expression must be a plain alternation (`a|b|c`), whose words
/// are `values`.
#[derive(Debug)]
struct Matcher {
    label: String,
    op: Op,
    values: Vec<String>,
}

/// A selector of one of the controller's families.
#[derive(Debug)]
pub struct Selector {
    family: Family,
    matchers: Vec<Matcher>,
    /// A histogram's `_bucket` series, which also carries `le`.
    bucket: bool,
}

impl Selector {
    pub fn family(&self) -> Family {
        self.family
    }
}

/// What an expression (or a promtool series) uses: its selectors of controller families and the
/// labels it groups or matches by (`by`, `without`, `on`, `ignoring`, `group_left/right`).
#[derive(Debug, Default)]
pub struct Uses {
    pub selectors: Vec<Selector>,
    pub grouping: Vec<String>,
}

impl Uses {
    /// Every label the selected series carry: their families', a bucket's `le`, the scrape's.
    pub fn carried(&self) -> BTreeSet<&str> {
        self.selectors
            .iter()
            .flat_map(|s| {
                s.family
                    .labels
                    .iter()
                    .copied()
                    .chain(s.bucket.then_some("le"))
            })
            .chain(TARGET_LABELS)
            .collect()
    }
}

/// Reads the selectors and grouping labels of PromQL `expr`. Panics on a name that starts like
/// the controller's but is no family of it, and on a regular expression that is not a plain
/// alternation of words (so every value it selects can be checked).
pub fn uses(expr: &str) -> Uses {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Uses::default();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '"' | '\'' | '`') {
            i = quoted(&chars, i, expr).1;
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | ':'))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = skip_spaces(&chars, i);
            let opens = |open: char| chars.get(next) == Some(&open);
            if [
                "by",
                "without",
                "on",
                "ignoring",
                "group_left",
                "group_right",
            ]
            .contains(&word.as_str())
                && opens('(')
            {
                let close = next
                    + chars[next..]
                        .iter()
                        .position(|&c| c == ')')
                        .unwrap_or_else(|| panic!("`{expr}`: unclosed `{word} (`"));
                let list: String = chars[next + 1..close].iter().collect();
                out.grouping.extend(
                    list.split(',')
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned),
                );
                i = close + 1;
            } else {
                let matchers = if opens('{') {
                    let (matchers, end) = matchers(&chars, next, expr);
                    i = end;
                    matchers
                } else {
                    Vec::new()
                };
                if word.starts_with("ecs_topology_") {
                    let (family, bucket) = series_family(&word).unwrap_or_else(|| {
                        panic!("`{expr}`: {word} is not a series the controller exports")
                    });
                    out.selectors.push(Selector {
                        family,
                        matchers,
                        bucket,
                    });
                }
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The family of an exported series name, and whether it is a histogram's `_bucket` series.
fn series_family(name: &str) -> Option<(Family, bool)> {
    if let Some(family) = labels::FAMILIES.into_iter().find(|f| f.name == name) {
        return Some((family, false));
    }
    labels::HISTOGRAMS.into_iter().find_map(|f| {
        let suffix = name.strip_prefix(f.name)?;
        match suffix {
            "_bucket" => Some((f, true)),
            "_sum" | "_count" => Some((f, false)),
            _ => None,
        }
    })
}

fn skip_spaces(chars: &[char], mut i: usize) -> usize {
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

/// The text of the string literal opening at `start`, and the position after it.
fn quoted(chars: &[char], start: usize, expr: &str) -> (String, usize) {
    let quote = chars[start];
    let mut text = String::new();
    let mut i = start + 1;
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' if quote != '`' => {
                text.push(*chars.get(i + 1).unwrap_or(&'\\'));
                i += 2;
            }
            c if c == quote => return (text, i + 1),
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    panic!("`{expr}`: unclosed string")
}

/// The matchers of the braces opening at `open`, and the position after the closing brace.
fn matchers(chars: &[char], open: usize, expr: &str) -> (Vec<Matcher>, usize) {
    let mut out = Vec::new();
    let mut i = open + 1;
    loop {
        i = skip_spaces(chars, i);
        match chars.get(i) {
            Some('}') => return (out, i + 1),
            Some(',') => {
                i += 1;
                continue;
            }
            None => panic!("`{expr}`: unclosed `{{`"),
            Some(_) => {}
        }
        let start = i;
        while chars[i].is_ascii_alphanumeric() || chars[i] == '_' {
            i += 1;
        }
        let label: String = chars[start..i].iter().collect();
        i = skip_spaces(chars, i);
        let op = match (chars[i], chars.get(i + 1)) {
            ('=', Some('~')) => Op::Matches,
            ('!', Some('~')) => Op::NotMatches,
            ('!', Some('=')) => Op::NotEqual,
            ('=', _) => Op::Equal,
            other => panic!("`{expr}`: no matcher operator after {label}: {other:?}"),
        };
        i = skip_spaces(chars, i + if op == Op::Equal { 1 } else { 2 });
        let (value, end) = quoted(chars, i, expr);
        i = end;
        let values = match op {
            Op::Equal | Op::NotEqual => vec![value],
            Op::Matches | Op::NotMatches => {
                assert!(
                    value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_|:.-".contains(c)),
                    "`{expr}`: {label} matches `{value}`, not a plain alternation of values"
                );
                value.split('|').map(str::to_owned).collect()
            }
        };
        out.push(Matcher { label, op, values });
    }
}

/// The values of a family's label.
fn values_of(label: &str) -> Values {
    labels::values(label).unwrap_or_else(|| panic!("labels.rs says nothing of `{label}`"))
}

/// The values a matcher selects out of a closed set.
fn selected(matcher: &Matcher, all: &[&'static str]) -> BTreeSet<&'static str> {
    let named = |v: &&str| matcher.values.iter().any(|m| m == v);
    all.iter()
        .copied()
        .filter(|v| match matcher.op {
            Op::Equal | Op::Matches => named(v),
            Op::NotEqual | Op::NotMatches => !named(v),
        })
        .collect()
}

/// Checks that `selector` names only labels of its family (or the scrape's), that every value
/// it names is one the controller emits, and that each matcher selects at least one of them.
pub fn check(selector: &Selector, at: &str) {
    let family = selector.family;
    for matcher in &selector.matchers {
        let label = matcher.label.as_str();
        if TARGET_LABELS.contains(&label) || (selector.bucket && label == "le") {
            continue;
        }
        assert!(
            family.labels.contains(&label),
            "{at}: {} has no label `{label}` (its labels: {:?})",
            family.name,
            family.labels
        );
        let values = values_of(label);
        for value in &matcher.values {
            assert!(
                values.admits(value),
                "{at}: {}{{{label}=\"{value}\"}} can never exist: the controller emits {values:?}",
                family.name
            );
        }
        if let Values::OneOf(all) = &values {
            assert!(
                !selected(matcher, all).is_empty(),
                "{at}: {}: {matcher:?} selects none of {all:?}",
                family.name
            );
        }
    }
}

fn rules() -> Vec<Value> {
    yaml("deploy/alerts.yaml")["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().clone())
        .collect()
}

fn rule_named(name: &str) -> Value {
    rules()
        .into_iter()
        .find(|r| r["alert"] == name)
        .unwrap_or_else(|| panic!("no alert {name}"))
}

#[test]
fn every_alert_rule_selects_only_labels_and_values_the_controller_emits() {
    let mut checked = 0;
    for rule in rules() {
        let alert = rule["alert"].as_str().unwrap();
        let expr = rule["expr"].as_str().unwrap();
        let at = format!("alert {alert}: `{expr}`");
        let used = uses(expr);
        for selector in &used.selectors {
            check(selector, &at);
            checked += selector.matchers.len();
        }
        if used.selectors.is_empty() {
            continue;
        }
        let carried = used.carried();
        for label in &used.grouping {
            assert!(
                carried.contains(label.as_str()),
                "{at}: groups by `{label}`, which none of its series carries"
            );
        }
    }
    assert!(checked >= 4, "only {checked} matchers checked");
}

#[test]
fn every_promtool_test_feeds_series_the_controller_can_emit_and_expects_its_labels() {
    let tests = yaml("deploy/alerts.test.yaml");
    let mut series_checked = 0;
    for test in tests["tests"].as_array().unwrap() {
        let name = test["name"].as_str().unwrap_or("(unnamed)");
        for input in test["input_series"].as_array().unwrap() {
            let series = input["series"].as_str().unwrap();
            let at = format!("test `{name}`: series `{series}`");
            for selector in uses(series).selectors {
                assert!(
                    selector.matchers.iter().all(|m| m.op == Op::Equal),
                    "{at}: a series names its labels with `=`"
                );
                let named: BTreeSet<&str> =
                    selector.matchers.iter().map(|m| m.label.as_str()).collect();
                for label in selector.family.labels {
                    assert!(named.contains(label), "{at}: lacks the label `{label}`");
                }
                check(&selector, &at);
                series_checked += 1;
            }
        }
        for case in test["alert_rule_test"].as_array().unwrap() {
            let alert = case["alertname"].as_str().unwrap();
            let rule = rule_named(alert);
            let families: Vec<Family> = uses(rule["expr"].as_str().unwrap())
                .selectors
                .iter()
                .map(|s| s.family)
                .collect();
            for expected in case["exp_alerts"].as_array().unwrap() {
                let Some(exp_labels) = expected["exp_labels"].as_object() else {
                    continue;
                };
                for (label, value) in exp_labels {
                    if rule["labels"].get(label).is_some()
                        || TARGET_LABELS.contains(&label.as_str())
                    {
                        continue;
                    }
                    let at = format!("test `{name}`: {alert} expects {label}={value}");
                    assert!(
                        families.iter().any(|f| f.labels.contains(&label.as_str())),
                        "{at}: none of the rule's series carries `{label}`"
                    );
                    let values = values_of(label);
                    assert!(
                        values.admits(value.as_str().unwrap_or_default()),
                        "{at}: the controller emits {values:?}"
                    );
                }
            }
        }
    }
    assert!(series_checked > 20, "only {series_checked} series checked");
}

#[test]
fn the_reconcile_errors_alert_counts_every_failure_class_and_nothing_else() {
    let rule = rule_named("EcsTopologyReconcileErrors");
    let expr = rule["expr"].as_str().unwrap();
    let used = uses(expr);
    let reconciles: Vec<&Selector> = used
        .selectors
        .iter()
        .filter(|s| s.family == labels::RECONCILES)
        .collect();
    assert_eq!(reconciles.len(), 1, "`{expr}`");
    let Some(Values::OneOf(results)) = labels::values("result") else {
        panic!("reconcile results are a closed set");
    };
    let mut counted: BTreeSet<&str> = results.iter().copied().collect();
    for matcher in reconciles[0]
        .matchers
        .iter()
        .filter(|m| m.label == "result")
    {
        counted = counted
            .intersection(&selected(matcher, &results))
            .copied()
            .collect();
    }
    let failures: BTreeSet<&str> = ErrorClass::ALL.map(ErrorClass::as_str).into();
    assert_eq!(counted, failures, "`{expr}`");
    let successes: BTreeSet<&str> = ReconcileResult::OK.map(ReconcileResult::as_str).into();
    assert!(counted.is_disjoint(&successes));
}

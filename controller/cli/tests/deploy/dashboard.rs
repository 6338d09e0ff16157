//! The Grafana dashboard (`deploy/grafana-dashboard.json`) queries only series the controller
//! exports, with labels and values it emits, and shows every family it exports.

use std::collections::BTreeSet;

use serde_json::Value;

use super::alerts::{check, uses};
use super::{labels, root};

fn dashboard() -> Value {
    let text = std::fs::read_to_string(root().join("deploy/grafana-dashboard.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Every (panel title, query) of the dashboard.
fn queries(dashboard: &Value) -> Vec<(String, String)> {
    dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|panel| {
            let title = panel["title"].as_str().unwrap().to_owned();
            panel["targets"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |t| (title.clone(), t["expr"].as_str().unwrap().to_owned()))
        })
        .collect()
}

#[test]
fn every_dashboard_query_reads_series_labels_and_values_the_controller_emits() {
    let mut shown = BTreeSet::new();
    for (title, expr) in queries(&dashboard()) {
        let at = format!("panel `{title}`: `{expr}`");
        let used = uses(&expr);
        assert!(
            !used.selectors.is_empty(),
            "{at}: reads no series of the controller"
        );
        for selector in &used.selectors {
            check(selector, &at);
            shown.insert(selector_family(selector));
        }
        let carried = used.carried();
        for label in &used.grouping {
            assert!(
                carried.contains(label.as_str()),
                "{at}: groups by `{label}`, which none of its series carries"
            );
        }
    }
    // Every family but the version shows somewhere.
    let exported: BTreeSet<&str> = labels::FAMILIES
        .iter()
        .map(|f| f.name)
        .filter(|name| *name != labels::BUILD_INFO.name)
        .collect();
    let missing: Vec<_> = exported.difference(&shown).collect();
    assert!(missing.is_empty(), "families no panel shows: {missing:?}");
}

fn selector_family(selector: &super::alerts::Selector) -> &'static str {
    selector.family().name
}

#[test]
fn the_panels_have_unique_ids_fit_the_grid_and_read_the_chosen_prometheus() {
    let dashboard = dashboard();
    let panels = dashboard["panels"].as_array().unwrap();
    let ids: BTreeSet<u64> = panels.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    for panel in panels {
        let grid = &panel["gridPos"];
        let (x, w) = (grid["x"].as_u64().unwrap(), grid["w"].as_u64().unwrap());
        assert!(x + w <= 24, "{}: beyond the 24-column grid", panel["title"]);
        assert_eq!(panel["datasource"]["uid"], "${datasource}");
    }
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    assert!(
        variables
            .iter()
            .any(|v| v["name"] == "datasource" && v["query"] == "prometheus")
    );
}

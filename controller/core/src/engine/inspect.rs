//! What a running controller shows of its documents beyond their status: where each sits in the
//! topology and what it connects to, and the plan a document would get now.

use serde::Serialize;

use super::daemon::read;
use super::planning::plan_key;
use super::resource::{Context, Resource, Topology};
use super::{Daemon, DesiredSet, Observation};
use crate::kinds::{Cloud, for_kind};
use crate::model::Key;
use crate::plan::DocumentPlan;

/// One document as the topology page draws it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopologyNode {
    /// `Kind/name`.
    pub key: String,
    pub kind: &'static str,
    pub name: String,
    /// The account id and region the document lives in.
    pub account: String,
    pub region: String,
    #[serde(flatten)]
    pub topology: Topology,
}

/// The topology page's data: the accounts by id with their aliases, and every document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TopologyPage {
    /// Account id → alias, for every account of the controller config.
    pub accounts: std::collections::BTreeMap<String, String>,
    pub nodes: Vec<TopologyNode>,
}

/// Every document of `desired` with its place and connections, in key order.
pub fn topology(desired: &DesiredSet, observed: &Observation) -> TopologyPage {
    let cx = Context { desired, observed };
    let accounts = desired
        .aliases
        .iter()
        .filter(|(alias, id)| alias != id)
        .map(|(alias, id)| (id.clone(), alias.clone()))
        .collect();
    let nodes = desired
        .documents
        .iter()
        .map(|(key, d)| {
            let scope = d.scope();
            TopologyNode {
                key: key.to_string(),
                kind: key.kind.as_str(),
                name: key.name.clone(),
                account: scope.account,
                region: scope.region,
                topology: for_kind!(key.kind, R => topology_as::<R>(&cx, key, d)),
            }
        })
        .collect();
    TopologyPage { accounts, nodes }
}

fn topology_as<R: Resource>(cx: &Context<'_>, key: &Key, d: &super::Desired) -> Topology {
    R::spec(&d.document)
        .map(|spec| R::topology(cx, key, spec))
        .unwrap_or_default()
}

impl<C: Cloud> Daemon<C> {
    /// Every document's place and connections, from the current desired set and observation.
    pub fn topology(&self) -> TopologyPage {
        let Some(desired) = self.desired.snapshot().set else {
            return TopologyPage::default();
        };
        let view = read(&self.view);
        topology(&desired, &view.observation)
    }

    /// The plan `key` gets from the current desired set and observation (field by field, with
    /// the observed and desired values); `None` before the first pass or for an unknown key.
    pub fn pending_plan(&self, key: &Key) -> Option<DocumentPlan> {
        let desired = self.desired.snapshot().set?;
        let last_applied = read(&self.statuses)
            .get(key)
            .and_then(|r| r.status.last_applied().map(str::to_owned));
        let view = read(&self.view);
        let gate = view.gate.clone()?;
        let planned = plan_key(
            &desired,
            &view.observation,
            key,
            view.orphans.get(key),
            &gate,
            last_applied.as_deref(),
        );
        planned.scope.map(|_| planned.plan)
    }
}

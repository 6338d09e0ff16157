//! Validation of a loaded document set against the rules of each kind and of the set as a whole.
//!
//! # Guarantees
//! - Every problem of the set is reported at once, each with file, document, field path and
//!   reason; warnings never fail validation, errors do.
//! - A document with an error is moved from [`DocumentSet::documents`] to
//!   [`DocumentSet::rejected`]: it is neither converged nor pruned.

mod common;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet};

use crate::config::ControllerConfig;
use crate::engine::{Registered, Rules};
use crate::finding::Finding;
use crate::kinds::for_kind;
use crate::load::{DocumentSet, LoadedDocument};
use crate::model::Key;

pub use crate::kinds::endpoints::{GATEWAY_SERVICES, INTERFACE_SERVICES};
pub(crate) use common::{check_ids, check_place};

/// The findings about one document, collected while checking it.
#[derive(Debug)]
pub struct Report<'a> {
    file: &'a str,
    index: usize,
    findings: Vec<Finding>,
}

impl Report<'_> {
    pub(crate) fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.findings
            .push(Finding::error(self.file, Some(self.index), path, message));
    }

    pub(crate) fn warning(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.findings
            .push(Finding::warning(self.file, Some(self.index), path, message));
    }
}

/// An AWS object a document claims: no two documents may claim the same one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// What makes it one object (kind, account, region and its name there).
    pub id: String,
    /// The object, for the error.
    pub what: String,
    /// The field that names it, where the error is reported.
    pub path: &'static str,
}

/// What the checks of one document may look up in the rest of the set.
#[derive(Debug)]
pub struct SetView<'a> {
    pub config: &'a ControllerConfig,
    pub by_key: BTreeMap<Key, &'a LoadedDocument>,
}

/// Validates a loaded set: adds findings, and moves documents with errors to `rejected`.
pub fn validate(mut set: DocumentSet, config: &ControllerConfig) -> DocumentSet {
    let mut findings = std::mem::take(&mut set.findings);
    let mut failed: BTreeSet<usize> = BTreeSet::new();

    // The same Kind/name twice: the later ones are errors, and the key is held back entirely,
    // since which of them is meant cannot be known.
    let mut first: BTreeMap<Key, usize> = BTreeMap::new();
    let mut duplicated: BTreeSet<Key> = BTreeSet::new();
    for (i, loaded) in set.documents.iter().enumerate() {
        let key = loaded.document.key();
        if let Some(&j) = first.get(&key) {
            let earlier = &set.documents[j];
            findings.push(Finding::error(
                &loaded.file,
                Some(loaded.index),
                "metadata.name",
                format!(
                    "duplicate {key}: already defined in {} (document {})",
                    earlier.file, earlier.index
                ),
            ));
            duplicated.insert(key);
            failed.insert(i);
        } else {
            first.insert(key, i);
        }
    }
    if !set.rejected.is_empty() {
        // A key present in a rejected document and in a loaded one is a duplicate too.
        for (i, loaded) in set.documents.iter().enumerate() {
            let key = loaded.document.key();
            if set.rejected.contains(&key) {
                findings.push(Finding::error(
                    &loaded.file,
                    Some(loaded.index),
                    "metadata.name",
                    format!("duplicate {key}: also defined by a document that did not load"),
                ));
                failed.insert(i);
            }
        }
    }

    let view = SetView {
        config,
        by_key: first
            .iter()
            .map(|(k, &i)| (k.clone(), &set.documents[i]))
            .collect(),
    };
    let mut identities: BTreeMap<String, &LoadedDocument> = BTreeMap::new();
    for (i, loaded) in set.documents.iter().enumerate() {
        let mut report = Report {
            file: &loaded.file,
            index: loaded.index,
            findings: Vec::new(),
        };
        common::check_common(&loaded.document, &view, &mut report);
        let document = &loaded.document;
        let account = config
            .resolve_account(document.account())
            .unwrap_or_else(|| document.account().to_owned());
        let claims = for_kind!(document.kind(), R => match R::spec(document) {
            Some(spec) => {
                R::check(spec, &view, &mut report);
                R::identities(spec, &account, document.region(), config)
            }
            None => Vec::new(),
        });
        for Identity { id, what, path } in claims {
            if let Some(other) = identities.get(&id) {
                report.error(
                    path,
                    format!(
                        "{what} is also managed by {} ({} document {})",
                        other.document.key(),
                        other.file,
                        other.index
                    ),
                );
            } else {
                identities.insert(id, loaded);
            }
        }
        if report.findings.iter().any(Finding::is_error) {
            failed.insert(i);
        }
        findings.extend(report.findings);
    }

    let documents = std::mem::take(&mut set.documents);
    for (i, loaded) in documents.into_iter().enumerate() {
        if failed.contains(&i) || duplicated.contains(&loaded.document.key()) {
            set.rejected.insert(loaded.document.key());
        } else {
            set.documents.push(loaded);
        }
    }
    findings.sort_by(|a, b| (&a.file, a.document).cmp(&(&b.file, b.document)));
    set.findings = findings;
    set
}

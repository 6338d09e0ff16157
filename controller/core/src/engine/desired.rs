//! The desired side of a pass: valid documents with their accounts resolved to ids.

use std::collections::{BTreeMap, BTreeSet};

use super::Scope;
use crate::config::ControllerConfig;
use crate::load::DocumentSet;
use crate::model::{Document, Key, Policies};
use crate::prune::SourceHealth;

pub use crate::digest::digest;

/// A document to converge, with its account id resolved.
#[derive(Debug, Clone)]
pub struct Desired {
    pub document: Document,
    pub account: String,
    pub policies: Policies,
    /// A digest of the document's content: the revision in status and idempotency tokens.
    pub revision: String,
}

impl Desired {
    /// Where the document's object lives.
    pub fn scope(&self) -> Scope {
        Scope::new(self.account.clone(), self.document.region())
    }

    /// Whether the document's object lives in `scope` (without building its scope).
    pub fn is_in(&self, scope: &Scope) -> bool {
        self.account == scope.account && self.document.region() == scope.region
    }
}

/// What the sources want in this pass.
#[derive(Debug, Clone, Default)]
pub struct DesiredSet {
    pub documents: BTreeMap<Key, Desired>,
    /// The documents of each scope.
    pub by_scope: BTreeMap<Scope, Vec<Key>>,
    /// Documents present but invalid: never converged, never pruned.
    pub rejected: BTreeSet<Key>,
    pub health: SourceHealth,
    /// Account aliases of the controller config, to resolve share principals.
    pub aliases: BTreeMap<String, String>,
    /// The controller's name: the value of the owner tag.
    pub controller: String,
}

impl Default for SourceHealth {
    fn default() -> Self {
        SourceHealth {
            present: 0,
            complete: true,
        }
    }
}

impl DesiredSet {
    /// The desired set of a validated document set, which it takes apart (its documents move,
    /// none is copied: at 100,000 documents a copy is most of the loader's peak).
    pub fn from_validated(set: DocumentSet, config: &ControllerConfig) -> DesiredSet {
        let complete = set.unreadable_files.is_empty();
        // Collected, not inserted one by one: a map built from all its entries at once has full
        // nodes, where inserts in key order leave each node about half full (at 100,000
        // documents, megabytes of empty entries). Of two documents of one key the last wins,
        // as with inserts.
        let documents: BTreeMap<Key, Desired> = set
            .documents
            .into_iter()
            .filter_map(|loaded| {
                let doc = loaded.document;
                let account = config.resolve_account(doc.account())?;
                let (policies, _) = doc.metadata().policies();
                let revision = digest(&serde_json::to_string(&doc).unwrap_or_default());
                Some((
                    doc.key(),
                    Desired {
                        document: doc,
                        account,
                        policies,
                        revision,
                    },
                ))
            })
            .collect();
        let present = documents.len() + set.rejected.len();
        DesiredSet::new(
            documents,
            set.rejected,
            SourceHealth { present, complete },
            config
                .accounts
                .iter()
                .map(|(alias, a)| (alias.clone(), a.id.clone()))
                .collect(),
            config.name.clone(),
        )
    }

    /// A set of `documents` (its scope index built here).
    pub fn new(
        documents: BTreeMap<Key, Desired>,
        rejected: BTreeSet<Key>,
        health: SourceHealth,
        aliases: BTreeMap<String, String>,
        controller: String,
    ) -> DesiredSet {
        let mut by_scope: BTreeMap<Scope, Vec<Key>> = BTreeMap::new();
        for (key, d) in &documents {
            by_scope.entry(d.scope()).or_default().push(key.clone());
        }
        DesiredSet {
            documents,
            by_scope,
            rejected,
            health,
            aliases,
            controller,
        }
    }

    /// Every (account, region) the documents live in.
    pub fn scopes(&self) -> impl Iterator<Item = &Scope> {
        self.by_scope.keys()
    }

    /// The documents of `scope`.
    pub fn in_scope(&self, scope: &Scope) -> impl Iterator<Item = (&Key, &Desired)> {
        self.by_scope
            .get(scope)
            .into_iter()
            .flatten()
            .filter_map(|k| self.documents.get_key_value(k))
    }

    /// The account id of a principal written as an id or an alias (`None` for Organization and
    /// OU ARNs, and for an unknown alias).
    pub fn principal_account(&self, principal: &str) -> Option<String> {
        if principal.starts_with("arn:") {
            return None;
        }
        if crate::validate::rules::is_account_id(principal) {
            return Some(principal.to_owned());
        }
        self.aliases.get(principal).cloned()
    }
}

/// The idempotency token of a create: the same controller and document always make the same
/// token, whatever edits the document had since, so a create whose reply was lost and that is
/// retried after an edit is recognised instead of making a second object. Where AWS still
/// remembers a token after its object is gone, the AWS side moves on to the next token of a
/// fixed sequence (`TOKEN-1`, `TOKEN-2`, ...) only once it sees the token's object is gone.
pub fn create_token(controller: &str, key: &Key) -> String {
    format!("ecs-topology-{}", digest(&format!("{controller}|{key}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    #[test]
    fn an_edit_of_the_document_keeps_its_create_token() {
        let key = Key::new(Kind::NamespaceShare, "payments-to-client");
        let token = create_token("ctl", &key);
        assert_eq!(token, create_token("ctl", &key));
        assert_ne!(token, create_token("other", &key));
        assert_ne!(
            token,
            create_token("ctl", &Key::new(Kind::NamespaceShare, "payments-to-other"))
        );
    }
}

//! The desired side of a pass: valid documents with their accounts resolved to ids.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::ControllerConfig;
use crate::load::DocumentSet;
use crate::model::{Document, Key, Kind, Policies};
use crate::observed::permission_arn;
use crate::prune::SourceHealth;

/// A document to converge, with its account id resolved.
#[derive(Debug, Clone)]
pub struct Desired {
    pub document: Document,
    pub account: String,
    pub policies: Policies,
    /// A digest of the document's content: the revision in status and idempotency tokens.
    pub revision: String,
    /// For an Express service: the digest of the spec last sent to ECS (from the status store).
    pub last_applied: Option<String>,
}

/// What the sources want in this pass.
#[derive(Debug, Clone, Default)]
pub struct DesiredSet {
    pub documents: BTreeMap<Key, Desired>,
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
    /// The desired set of a validated document set.
    pub fn from_validated(set: &DocumentSet, config: &ControllerConfig) -> DesiredSet {
        let mut documents = BTreeMap::new();
        for loaded in &set.documents {
            let doc = &loaded.document;
            let Some(account) = config.resolve_account(doc.account()) else {
                continue;
            };
            let (policies, _) = doc.metadata().policies();
            let revision = digest(&serde_json::to_string(doc).unwrap_or_default());
            documents.insert(
                doc.key(),
                Desired {
                    document: doc.clone(),
                    account,
                    policies,
                    revision,
                    last_applied: None,
                },
            );
        }
        let present = documents.len() + set.rejected.len();
        DesiredSet {
            documents,
            rejected: set.rejected.clone(),
            health: SourceHealth {
                present,
                complete: set.unreadable_files.is_empty(),
            },
            aliases: config
                .accounts
                .iter()
                .map(|(alias, a)| (alias.clone(), a.id.clone()))
                .collect(),
            controller: config.name.clone(),
        }
    }

    /// Every (account, region) the documents live in, with the kinds found there.
    pub fn scopes(&self) -> BTreeSet<(String, String)> {
        self.documents
            .values()
            .map(|d| (d.account.clone(), d.document.region().to_owned()))
            .collect()
    }

    /// The RAM permission ARNs the share documents ask for, per (account, region).
    pub fn share_permissions(&self) -> BTreeMap<(String, String), BTreeSet<String>> {
        let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for d in self.documents.values() {
            if let Document::NamespaceShare(m) = &d.document {
                out.entry((d.account.clone(), m.spec.region.clone()))
                    .or_default()
                    .insert(permission_arn(m.spec.permission_or_default()));
            }
        }
        out
    }

    pub fn keys_of(&self, kind: Kind) -> impl Iterator<Item = &Key> {
        self.documents.keys().filter(move |k| k.kind == kind)
    }
}

/// A short stable digest (FNV-1a, 64 bits, hex) for revisions and idempotency tokens.
pub fn digest(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The idempotency token of a create: the same controller, document and revision always make
/// the same token, so a retry after a crash never creates a second object.
pub fn create_token(controller: &str, key: &Key, revision: &str) -> String {
    format!(
        "ecs-topology-{}",
        digest(&format!("{controller}|{key}|{revision}"))
    )
}

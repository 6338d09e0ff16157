//! The desired store: one writer (the source loop), many readers (workers, `/status`, `/readyz`).
//!
//! # Guarantees
//! - Readers see whole snapshots only: a new load replaces the previous one atomically.
//! - The store is ready only once every source has completed one full load; readers can wait for
//!   that. Nothing is planned before.
//! - The writer reports which documents changed, and which depend on them, so that a change to
//!   one document enqueues that document and its dependents, not everything.
//! - A listing equal to the last one of its source, file for file, is not loaded again: the
//!   published set stays, parsed once (a poll of an unchanged source costs a comparison of
//!   SHA-256 digests). The store keeps a source's files only while another source may need them
//!   loaded with its own: a single source keeps just the digest of its last listing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::watch;

use crate::config::ControllerConfig;
use crate::engine::{DesiredSet, Registered, Resource};
use crate::kinds::for_kind;
use crate::load::{self, DocumentSet, SourceFile};
use crate::model::Key;
use crate::validate::validate;

/// What readers see: the validated set, or `None` before every source has loaded once.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub set: Option<Arc<DesiredSet>>,
    /// The findings of the last load (with file, document and field path).
    pub findings: Arc<Vec<crate::finding::Finding>>,
    /// How many loads have been published.
    pub generation: u64,
}

/// The single writer. Not `Clone`: one source loop owns it.
#[derive(Debug)]
pub struct DesiredWriter {
    /// The last full listing of each source, by source index; `None` until its first full load.
    sources: Vec<Option<Listing>>,
    config: ControllerConfig,
    sender: watch::Sender<Snapshot>,
}

/// A source's last full listing: its digest, and its files while they may be loaded again
/// (with another source's, when there are several).
#[derive(Debug, Clone)]
struct Listing {
    digest: [u8; 32],
    files: Vec<SourceFile>,
}

/// SHA-256 of a listing, file for file: each name, whether and why it is unreadable, and its
/// text, each prefixed with its length so that no two listings run together the same way.
fn listing_digest(files: &[SourceFile]) -> [u8; 32] {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    let mut part = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    part(&(files.len() as u64).to_le_bytes());
    for file in files {
        part(file.name.as_bytes());
        part(format!("{:?}", file.unreadable).as_bytes());
        part(file.text.as_bytes());
    }
    hash.finalize().into()
}

/// A reader; cheap to clone.
#[derive(Debug, Clone)]
pub struct DesiredReader {
    receiver: watch::Receiver<Snapshot>,
}

/// A store for `sources` sources.
pub fn desired_store(sources: usize, config: ControllerConfig) -> (DesiredWriter, DesiredReader) {
    let (sender, receiver) = watch::channel(Snapshot::default());
    (
        DesiredWriter {
            sources: vec![None; sources],
            config,
            sender,
        },
        DesiredReader { receiver },
    )
}

impl DesiredWriter {
    /// Replaces source `index`'s listing with a complete new one and publishes the combined set
    /// once every source has loaded. Returns the keys to reconcile: documents added, changed or
    /// removed, and the documents that depend on them. A listing that failed part-way must not be
    /// given here (keep the previous one).
    pub fn replace(&mut self, index: usize, files: Vec<SourceFile>) -> BTreeSet<Key> {
        let digest = listing_digest(&files);
        if let Some(slot) = self.sources.get_mut(index) {
            if slot.as_ref().map(|l| l.digest) == Some(digest) && self.sender.borrow().set.is_some()
            {
                return BTreeSet::new();
            }
            *slot = Some(Listing { digest, files });
        }
        if self.sources.iter().any(Option::is_none) {
            return BTreeSet::new();
        }
        let mut validated: DocumentSet = match self.sources.as_mut_slice() {
            // The only source: loaded from its files, which are not needed again (the next
            // listing is compared by digest).
            [Some(only)] => validate(load::load(&std::mem::take(&mut only.files)), &self.config),
            _ => {
                let all: Vec<SourceFile> = self
                    .sources
                    .iter()
                    .flatten()
                    .flat_map(|l| l.files.iter().cloned())
                    .collect();
                validate(load::load(&all), &self.config)
            }
        };
        let findings = std::mem::take(&mut validated.findings);
        let set = DesiredSet::from_validated(validated, &self.config);
        let before = self.sender.borrow().set.clone();
        let changed = changed_keys(before.as_deref(), &set);
        let generation = self.sender.borrow().generation + 1;
        self.sender.send_replace(Snapshot {
            set: Some(Arc::new(set)),
            findings: Arc::new(findings),
            generation,
        });
        changed
    }
}

impl DesiredReader {
    pub fn snapshot(&self) -> Snapshot {
        self.receiver.borrow().clone()
    }

    pub fn is_ready(&self) -> bool {
        self.receiver.borrow().set.is_some()
    }

    /// Waits until every source has loaded once; returns the set. `None` if the writer is gone
    /// before that.
    pub async fn wait_ready(&mut self) -> Option<Arc<DesiredSet>> {
        let snapshot = self.receiver.wait_for(|s| s.set.is_some()).await.ok()?;
        snapshot.set.clone()
    }

    /// Waits for the next published load.
    pub async fn changed(&mut self) -> bool {
        self.receiver.changed().await.is_ok()
    }
}

/// Keys whose document was added, changed (by revision) or removed, plus the shares of a changed
/// namespace (a share is planned against its namespace).
fn changed_keys(before: Option<&DesiredSet>, after: &DesiredSet) -> BTreeSet<Key> {
    let empty = BTreeMap::new();
    let old = before.map_or(&empty, |s| &s.documents);
    let mut changed: BTreeSet<Key> = BTreeSet::new();
    for (key, doc) in &after.documents {
        if old.get(key).map(|d| &d.revision) != Some(&doc.revision) {
            changed.insert(key.clone());
        }
    }
    changed.extend(
        old.keys()
            .filter(|k| !after.documents.contains_key(*k))
            .cloned(),
    );
    let dependents: Vec<Key> = after
        .documents
        .iter()
        .filter(|(_, d)| {
            let document = &d.document;
            let references = for_kind!(document.kind(), R => R::spec(document).map(R::references));
            references.is_some_and(|keys| keys.iter().any(|k| changed.contains(k)))
        })
        .map(|(key, _)| key.clone())
        .collect();
    changed.extend(dependents);
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn file(name: &str, text: &str) -> SourceFile {
        SourceFile::new(name, text)
    }

    fn ns(name: &str, description: &str) -> String {
        format!(
            "apiVersion: ecs-topology.dev/v1alpha1\nkind: CloudMapNamespace\nmetadata: {{name: {name}}}\nspec: {{account: '111111111111', region: eu-west-1, name: {name}.x, description: {description}}}\n"
        )
    }

    fn share(name: &str, namespace: &str) -> String {
        format!(
            "apiVersion: ecs-topology.dev/v1alpha1\nkind: NamespaceShare\nmetadata: {{name: {name}}}\nspec: {{account: '111111111111', region: eu-west-1, namespaceRef: {namespace}, principals: ['222222222222']}}\n"
        )
    }

    fn binding(name: &str, namespace: &str) -> String {
        format!(
            "apiVersion: ecs-topology.dev/v1alpha1\nkind: ServiceConnectBinding\nmetadata: {{name: {name}}}\nspec: {{account: '111111111111', region: eu-west-1, cluster: c, service: {name}, namespaceRef: {namespace}, services: []}}\n"
        )
    }

    fn key(kind: Kind, name: &str) -> Key {
        Key::new(kind, name)
    }

    #[tokio::test]
    async fn the_store_is_ready_only_after_every_source_loaded_once() {
        let (mut writer, mut reader) = desired_store(2, ControllerConfig::default());
        assert!(
            writer
                .replace(0, vec![file("a.yaml", &ns("a", "A"))])
                .is_empty()
        );
        assert!(!reader.is_ready(), "the second source has not loaded");
        let changed = writer.replace(1, vec![]);
        assert_eq!(changed, BTreeSet::from([key(Kind::CloudMapNamespace, "a")]));
        let set = reader.wait_ready().await.unwrap();
        assert_eq!(set.documents.len(), 1);
    }

    #[tokio::test]
    async fn a_change_to_one_document_enqueues_it_and_its_dependents_only() {
        let (mut writer, reader) = desired_store(1, ControllerConfig::default());
        let files = |d: &str| {
            vec![
                file("a.yaml", &ns("a", d)),
                file("b.yaml", &ns("b", "B")),
                file("s.yaml", &share("s", "a")),
                file("t.yaml", &share("t", "b")),
                file("u.yaml", &binding("u", "a")),
                file("v.yaml", &binding("v", "b")),
            ]
        };
        writer.replace(0, files("A"));
        let changed = writer.replace(0, files("A2"));
        assert_eq!(
            changed,
            BTreeSet::from([
                key(Kind::CloudMapNamespace, "a"),
                key(Kind::NamespaceShare, "s"),
                key(Kind::ServiceConnectBinding, "u")
            ])
        );
        assert_eq!(reader.snapshot().generation, 2);
        assert!(writer.replace(0, files("A2")).is_empty(), "nothing changed");
    }

    #[tokio::test]
    async fn an_unchanged_listing_keeps_the_published_set_without_loading_it_again() {
        let (mut writer, reader) = desired_store(1, ControllerConfig::default());
        let files = vec![file("a.yaml", &ns("a", "A"))];
        writer.replace(0, files.clone());
        let first = reader.snapshot();
        assert!(writer.replace(0, files).is_empty());
        let again = reader.snapshot();
        assert_eq!(again.generation, first.generation, "nothing was published");
        assert!(Arc::ptr_eq(
            again.set.as_ref().unwrap(),
            first.set.as_ref().unwrap()
        ));
    }

    #[tokio::test]
    async fn a_change_to_one_of_several_sources_loads_it_with_the_others_documents() {
        let (mut writer, reader) = desired_store(2, ControllerConfig::default());
        writer.replace(0, vec![file("a.yaml", &ns("a", "A"))]);
        writer.replace(1, vec![file("b.yaml", &ns("b", "B"))]);
        let changed = writer.replace(1, vec![file("b.yaml", &ns("b", "B2"))]);
        assert_eq!(changed, BTreeSet::from([key(Kind::CloudMapNamespace, "b")]));
        let set = reader.snapshot().set.unwrap();
        assert_eq!(
            set.documents.keys().cloned().collect::<Vec<_>>(),
            vec![
                key(Kind::CloudMapNamespace, "a"),
                key(Kind::CloudMapNamespace, "b")
            ],
            "the unchanged source's document stays"
        );
        // And again after the first source changes: the second's files were kept as well.
        writer.replace(0, vec![file("a.yaml", &ns("a", "A2"))]);
        assert_eq!(reader.snapshot().set.unwrap().documents.len(), 2);
    }

    #[test]
    fn listings_differing_in_a_name_a_boundary_or_readability_have_different_digests() {
        let base = vec![file("ab.yaml", "c"), file("d.yaml", "e")];
        let digest = listing_digest(&base);
        assert_eq!(digest, listing_digest(&base.clone()));
        let others = [
            vec![file("a.yaml", "bc"), file("d.yaml", "e")],
            vec![file("ab.yaml", "cd.yaml"), file("", "e")],
            vec![file("ab.yaml", "c")],
            vec![
                file("ab.yaml", "c"),
                SourceFile::unreadable("d.yaml", load::Unreadable::too_large(9, 1)),
            ],
        ];
        for other in others {
            assert_ne!(listing_digest(&other), digest, "{other:?}");
        }
        // An empty file and one too large to read (whose text is empty too).
        assert_ne!(
            listing_digest(&[file("d.yaml", "")]),
            listing_digest(&[SourceFile::unreadable(
                "d.yaml",
                load::Unreadable::too_large(9, 1)
            )])
        );
    }

    #[tokio::test]
    async fn a_removed_document_is_reported_as_changed() {
        let (mut writer, reader) = desired_store(1, ControllerConfig::default());
        writer.replace(
            0,
            vec![file("a.yaml", &ns("a", "A")), file("b.yaml", &ns("b", "B"))],
        );
        let changed = writer.replace(0, vec![file("a.yaml", &ns("a", "A"))]);
        assert_eq!(changed, BTreeSet::from([key(Kind::CloudMapNamespace, "b")]));
        assert_eq!(reader.snapshot().set.unwrap().documents.len(), 1);
    }
}

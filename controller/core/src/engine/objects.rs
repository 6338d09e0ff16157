//! Where observed objects are kept between passes: per (account, region), with the controller's
//! own objects indexed by their key tag.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::Key;
use crate::observed::{Seen, Tagged, owned_key_tag};

/// An account id and a region: where objects live and the unit of observation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

impl Scope {
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Scope {
        Scope {
            account: account.into(),
            region: region.into(),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "account {} region {}", self.account, self.region)
    }
}

/// The observed objects of one kind, by scope.
///
/// # Guarantees
/// - Each scope's index holds, for every key its key tags name, the positions of exactly the
///   objects of that scope this controller (`controller`) owns under that key, in observed
///   order: it is rebuilt whenever the scope's objects are replaced or patched.
#[derive(Debug, Clone)]
pub struct Objects<T> {
    /// The owner tag value that makes an object this controller's (what the index indexes).
    controller: String,
    scopes: BTreeMap<Scope, InScope<T>>,
}

#[derive(Debug, Clone)]
struct InScope<T> {
    all: Vec<T>,
    /// Document key (read from the key tag) to positions in `all` of this controller's objects
    /// with that key tag; a key tag that names no key of a kind is left out (no plan asks for
    /// it).
    keyed: Keyed,
}

/// Keys to positions, in three flat vectors rather than a hash map of vectors: `keys` sorted and
/// distinct, the positions of `keys[i]` at `positions[starts[i]..starts[i + 1]]` (the last up to
/// the end), in observed order. At 160,000 objects the map's table, a vector per key and their
/// allocations were about 15 MB; these hold a key, a start and a position each.
#[derive(Debug, Clone, Default)]
struct Keyed {
    keys: Vec<Key>,
    starts: Vec<usize>,
    positions: Vec<usize>,
}

impl Keyed {
    /// The positions of `key` (none when no object has it).
    fn get(&self, key: &Key) -> &[usize] {
        match self.keys.binary_search(key) {
            Ok(i) => &self.positions[self.range(i)],
            Err(_) => &[],
        }
    }

    fn range(&self, i: usize) -> std::ops::Range<usize> {
        let end = self.starts.get(i + 1).map_or(self.positions.len(), |&s| s);
        self.starts[i]..end
    }

    /// Every key with its positions, in key order.
    fn iter(&self) -> impl Iterator<Item = (&Key, &[usize])> {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, key)| (key, &self.positions[self.range(i)]))
    }
}

impl<T> Default for Objects<T> {
    fn default() -> Self {
        Objects {
            controller: String::new(),
            scopes: BTreeMap::new(),
        }
    }
}

impl<T: Tagged> Objects<T> {
    /// An empty store for the controller named `controller`.
    pub fn new(controller: &str) -> Self {
        Objects {
            controller: controller.to_owned(),
            scopes: BTreeMap::new(),
        }
    }

    /// Replaces everything known of `scope` with one full observation of it.
    pub fn replace(&mut self, scope: Scope, mut all: Vec<T>) {
        // Kept until the scope is observed again: without the room a growing vector left.
        all.shrink_to_fit();
        let keyed = index(&self.controller, &all);
        self.scopes.insert(scope, InScope { all, keyed });
    }

    /// Removes the objects of `scope` that `gone` picks, then adds `now` (what a change left
    /// behind).
    pub fn patch(&mut self, scope: &Scope, gone: impl Fn(&T) -> bool, now: Vec<T>) {
        let mut all = self.scopes.remove(scope).map(|s| s.all).unwrap_or_default();
        all.retain(|o| !gone(o));
        all.extend(now);
        self.replace(scope.clone(), all);
    }

    /// Every object of `scope`.
    pub fn get(&self, scope: &Scope) -> &[T] {
        self.scopes.get(scope).map_or(&[], |s| s.all.as_slice())
    }

    /// Whether `scope` was observed.
    pub fn has(&self, scope: &Scope) -> bool {
        self.scopes.contains_key(scope)
    }

    /// What a plan of `key` sees of `scope`: every object there, with the document's own found
    /// through the index.
    pub fn seen(&self, scope: &Scope, key: &Key) -> Seen<'_, T> {
        match self.scopes.get(scope) {
            None => Seen::from(&[] as &[T]),
            Some(s) => Seen::indexed(&s.all, s.keyed.get(key)),
        }
    }

    /// This controller's objects, by scope and by the key their key tag names.
    pub fn owned(&self) -> impl Iterator<Item = (&Scope, &Key, impl Iterator<Item = &T>)> {
        self.scopes.iter().flat_map(|(scope, s)| {
            s.keyed
                .iter()
                .map(move |(key, at)| (scope, key, at.iter().map(|&i| &s.all[i])))
        })
    }

    /// Every scope with its objects.
    pub fn iter(&self) -> impl Iterator<Item = (&Scope, &[T])> {
        self.scopes
            .iter()
            .map(|(scope, s)| (scope, s.all.as_slice()))
    }

    /// A copy of `scope` alone (for a change that works on its own copy).
    pub fn only(&self, scope: &Scope) -> Objects<T>
    where
        T: Clone,
    {
        let mut out = Objects::new(&self.controller);
        if let Some(s) = self.scopes.get(scope) {
            out.scopes.insert(scope.clone(), s.clone());
        }
        out
    }
}

fn index<T: Tagged>(controller: &str, all: &[T]) -> Keyed {
    let mut found: Vec<(Key, usize)> = all
        .iter()
        .enumerate()
        .filter_map(|(i, object)| {
            let key = owned_key_tag(object.tags(), controller).and_then(Key::parse)?;
            Some((key, i))
        })
        .collect();
    // By key, then position: each key's positions in observed order.
    found.sort_unstable();
    let mut keyed = Keyed {
        keys: Vec::new(),
        starts: Vec::new(),
        positions: Vec::with_capacity(found.len()),
    };
    for (key, i) in found {
        if keyed.keys.last() != Some(&key) {
            keyed.keys.push(key);
            keyed.starts.push(keyed.positions.len());
        }
        keyed.positions.push(i);
    }
    keyed.keys.shrink_to_fit();
    keyed.starts.shrink_to_fit();
    keyed
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::model::{KEY_TAG, Kind, OWNER_TAG};
    use crate::observed::ObservedNamespace;

    fn ns(id: &str, owner: &str, key: &str) -> ObservedNamespace {
        ObservedNamespace {
            id: id.into(),
            arn: format!("arn:{id}"),
            name: id.into(),
            description: None,
            tags: crate::compact::Tags::from([
                (OWNER_TAG.to_owned(), owner.to_owned()),
                (KEY_TAG.to_owned(), key.to_owned()),
            ]),
        }
    }

    fn scope() -> Scope {
        Scope::new("111111111111", "eu-west-1")
    }

    /// A store of `namespaces`, all in [`scope`], for the controller `ctl`.
    fn store(namespaces: Vec<ObservedNamespace>) -> Objects<ObservedNamespace> {
        let mut objects = Objects::new("ctl");
        objects.replace(scope(), namespaces);
        objects
    }

    #[test]
    fn a_plan_finds_only_its_own_objects_through_the_index_and_every_object_in_all() {
        let objects = store(vec![
            ns("a", "ctl", "CloudMapNamespace/a"),
            ns("b", "other", "CloudMapNamespace/a"),
            ns("c", "ctl", "CloudMapNamespace/c"),
        ]);
        let seen = objects.seen(&scope(), &Key::new(Kind::CloudMapNamespace, "a"));
        let ids: Vec<&str> = seen.candidates().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["a"]);
        assert_eq!(seen.all().len(), 3);
    }

    #[test]
    fn owned_lists_this_controllers_objects_by_the_key_their_tag_names() {
        let objects = store(vec![
            ns("a", "ctl", "CloudMapNamespace/a"),
            ns("b", "other", "CloudMapNamespace/b"),
            ns("c", "ctl", "not a key"),
            ns("a2", "ctl", "CloudMapNamespace/a"),
            ns("d", "ctl", "NamespaceShare/d"),
        ]);
        let mut owned: Vec<(String, Vec<&str>)> = objects
            .owned()
            .map(|(at, key, objects)| {
                assert_eq!(at, &scope());
                (key.to_string(), objects.map(|n| n.id.as_str()).collect())
            })
            .collect();
        owned.sort();
        assert_eq!(
            owned,
            [
                ("CloudMapNamespace/a".to_owned(), vec!["a", "a2"]),
                ("NamespaceShare/d".to_owned(), vec!["d"]),
            ]
        );
    }

    #[test]
    fn a_patch_keeps_the_index_true() {
        let scope = scope();
        let mut objects = store(vec![ns("a", "ctl", "CloudMapNamespace/a")]);
        objects.patch(
            &scope,
            |n| n.id == "a",
            vec![
                ns("c", "ctl", "CloudMapNamespace/c"),
                ns("a2", "ctl", "CloudMapNamespace/a"),
            ],
        );
        let seen = objects.seen(&scope, &Key::new(Kind::CloudMapNamespace, "a"));
        let ids: Vec<&str> = seen.candidates().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["a2"]);
    }
}

//! Small sorted collections for observed objects: a few tags, a few subnet or principal ids.
//!
//! A `BTreeMap<String, String>` allocates a node of 544 bytes for even one pair, and a
//! `BTreeSet<String>` one of 280 bytes; an observed VPC endpoint has three of them and holds
//! perhaps ten strings. At 160,000 observed objects those nodes were most of the observation's
//! heap. These keep their entries in one sorted vector, with the read API of the standard maps
//! and sets that the plans use, and serialize the same way.
//!
//! Their strings are [`Text`]: the 24 bytes of a `String`, but up to 24 bytes of text kept
//! inline. Tag keys (`ecs-topology.dev/owner`), the owner's name, subnet, security group, VPC and
//! endpoint ids all fit, so that most tags and ids cost no allocation of their own (at 160,000
//! observed objects, a 32-byte heap block each with the allocator's header was a fifth of the
//! observation).

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A string that keeps up to 24 bytes inline (see the module's note).
pub type Text = compact_str::CompactString;

/// A map with few entries, sorted by key, in one vector.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VecMap<K, V>(Vec<(K, V)>);

/// An object's tags.
pub type Tags = VecMap<Text, Text>;

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap(Vec::new())
    }
}

impl<K: Ord, V> VecMap<K, V> {
    pub const fn new() -> Self {
        VecMap(Vec::new())
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.0.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`; the value it replaced.
    pub fn insert(&mut self, key: impl Into<K>, value: impl Into<V>) -> Option<V> {
        let (key, value) = (key.into(), value.into());
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Keeps the entries `keep` says to keep.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.0.retain_mut(|(k, v)| keep(k, v));
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }
}

impl<K: Ord, V, A: Into<K>, B: Into<V>> FromIterator<(A, B)> for VecMap<K, V> {
    /// The last value of a repeated key wins, as in a `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (A, B)>>(entries: I) -> Self {
        let mut all: Vec<(K, V)> = entries
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        // Stable: of equal keys the last stays last, and is the one kept.
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(K, V)> = Vec::with_capacity(all.len());
        for (k, v) in all {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => out.push((k, v)),
            }
        }
        out.shrink_to_fit();
        VecMap(out)
    }
}

impl<K: Ord, V, A: Into<K>, B: Into<V>> From<BTreeMap<A, B>> for VecMap<K, V> {
    fn from(map: BTreeMap<A, B>) -> Self {
        let mut entries: Vec<(K, V)> = map.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        entries.shrink_to_fit();
        VecMap(entries)
    }
}

impl<K: Ord, V, A: Into<K>, B: Into<V>, const N: usize> From<[(A, B); N]> for VecMap<K, V> {
    fn from(entries: [(A, B); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<K: Ord, V, A: Into<K>, B: Into<V>> Extend<(A, B)> for VecMap<K, V> {
    fn extend<I: IntoIterator<Item = (A, B)>>(&mut self, entries: I) {
        for (k, v) in entries {
            self.insert(k, v);
        }
    }
}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<K: PartialEq<A>, V: PartialEq<B>, A, B> PartialEq<BTreeMap<A, B>> for VecMap<K, V> {
    fn eq(&self, other: &BTreeMap<A, B>) -> bool {
        self.0.len() == other.len()
            && self
                .0
                .iter()
                .zip(other)
                .all(|((k, v), (ok, ov))| k == ok && v == ov)
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<K: Serialize, V: Serialize> Serialize for VecMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de, K: Ord + Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for VecMap<K, V> {
    /// A map, read as a `BTreeMap` is (the last value of a repeated key wins).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K: Ord + Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for Entries<K, V> {
            type Value = VecMap<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                // The hint is the input's word: trusted only as far as a tag set goes (AWS: 50).
                let mut entries: Vec<(K, V)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(entries.into_iter().collect())
            }
        }
        deserializer.deserialize_map(Entries(std::marker::PhantomData))
    }
}

/// A set with few members, sorted, in one vector.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VecSet<T>(Vec<T>);

/// Ids of AWS objects (subnets, security groups, principals, ...).
pub type Ids = VecSet<Text>;

impl<T> Default for VecSet<T> {
    fn default() -> Self {
        VecSet(Vec::new())
    }
}

impl<T: Ord> VecSet<T> {
    pub fn new() -> Self {
        VecSet(Vec::new())
    }

    pub fn contains<Q: Ord + ?Sized>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.0.binary_search_by(|v| v.borrow().cmp(value)).is_ok()
    }

    /// Adds `value`; whether it was new.
    pub fn insert(&mut self, value: impl Into<T>) -> bool {
        let value = value.into();
        match self.0.binary_search(&value) {
            Ok(_) => false,
            Err(i) => {
                self.0.insert(i, value);
                true
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        match self.0.binary_search_by(|v| v.borrow().cmp(value)) {
            Ok(i) => {
                self.0.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Keeps the members `keep` says to keep.
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.0.retain(keep);
    }

    /// The members in order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    pub fn first(&self) -> Option<&T> {
        self.0.first()
    }

    /// Members of `self` that `other` lacks, in order.
    pub fn difference<'a>(&'a self, other: &'a VecSet<T>) -> impl Iterator<Item = &'a T> {
        self.0.iter().filter(move |v| !other.contains(*v))
    }
}

impl<T: Ord, A: Into<T>> FromIterator<A> for VecSet<T> {
    fn from_iter<I: IntoIterator<Item = A>>(values: I) -> Self {
        let mut all: Vec<T> = values.into_iter().map(Into::into).collect();
        all.sort();
        all.dedup();
        all.shrink_to_fit();
        VecSet(all)
    }
}

impl<T: Ord, A: Into<T>> From<BTreeSet<A>> for VecSet<T> {
    fn from(set: BTreeSet<A>) -> Self {
        let mut all: Vec<T> = set.into_iter().map(Into::into).collect();
        all.shrink_to_fit();
        VecSet(all)
    }
}

impl<T: Ord, A: Into<T>, const N: usize> From<[A; N]> for VecSet<T> {
    fn from(values: [A; N]) -> Self {
        values.into_iter().collect()
    }
}

impl<T: Ord, A: Into<T>> Extend<A> for VecSet<T> {
    fn extend<I: IntoIterator<Item = A>>(&mut self, values: I) {
        for v in values {
            self.insert(v);
        }
    }
}

impl<'a, T> IntoIterator for &'a VecSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T> IntoIterator for VecSet<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<T: PartialEq<A>, A> PartialEq<BTreeSet<A>> for VecSet<T> {
    fn eq(&self, other: &BTreeSet<A>) -> bool {
        self.0.len() == other.len() && self.0.iter().zip(other).all(|(a, b)| a == b)
    }
}

impl<T: fmt::Debug> fmt::Debug for VecSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.iter()).finish()
    }
}

impl<T: Serialize> Serialize for VecSet<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vec_map_reads_and_writes_as_a_btree_map_does() {
        let pairs = [("b", "2"), ("a", "1"), ("c", "3"), ("a", "again")];
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut tags: Tags = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(tags, map);
        assert_eq!(
            tags.get("a").map(|v| v.as_str()),
            map.get("a").map(String::as_str)
        );
        assert_eq!(tags.get("z"), None);
        assert_eq!(
            tags.keys().collect::<Vec<_>>(),
            map.keys().collect::<Vec<_>>()
        );
        assert_eq!(
            serde_json::to_string(&tags).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        assert_eq!(tags.insert("b", "two"), Some("2".into()));
        assert_eq!(tags.insert("0", "zero"), None);
        assert_eq!(tags.remove("c"), Some("3".into()));
        let mut expected = map;
        expected.insert("b".into(), "two".into());
        expected.insert("0".into(), "zero".into());
        expected.remove("c");
        assert_eq!(tags, expected);
    }

    #[test]
    fn a_vec_map_is_read_from_a_map_as_a_btree_map_is() {
        let text = r#"{"team": "payments", "env": "prod", "a": ""}"#;
        let tags: Tags = serde_json::from_str(text).unwrap();
        let map: BTreeMap<String, String> = serde_json::from_str(text).unwrap();
        assert_eq!(tags, map);
        assert_eq!(
            serde_json::to_string(&tags).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        let tags: Tags = serde_json::from_str("{}").unwrap();
        assert!(tags.is_empty());
        assert!(serde_json::from_str::<Tags>(r#"["team", "payments"]"#).is_err());
        assert!(serde_json::from_str::<Tags>(r#"{"team": 1}"#).is_err());
    }

    #[test]
    fn a_vec_set_reads_and_writes_as_a_btree_set_does() {
        let values = ["subnet-b", "subnet-a", "subnet-b", "subnet-c"];
        let set: BTreeSet<String> = values.iter().map(|v| (*v).to_owned()).collect();
        let mut ids: Ids = values.iter().map(|v| (*v).to_owned()).collect();
        assert_eq!(ids, set);
        assert!(ids.contains("subnet-a") && !ids.contains("subnet-z"));
        assert_eq!(
            serde_json::to_string(&ids).unwrap(),
            serde_json::to_string(&set).unwrap()
        );
        assert!(!ids.insert("subnet-a"));
        assert!(ids.insert("subnet-0"));
        assert!(ids.remove("subnet-c"));
        let other: Ids = ["subnet-a".to_owned()].into();
        assert_eq!(
            ids.difference(&other).collect::<Vec<_>>(),
            ["subnet-0", "subnet-b"]
        );
    }
}

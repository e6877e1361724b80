//! A small ordered map kept as a sorted vector: the part of `BTreeMap`'s interface the broker uses for
//! its connections, their channels and a channel's consumers, with the same order (by key) wherever it
//! iterates.
//!
//! Why: every method looks its connection and channel up, and a delivery or an ack several times more,
//! with the consumer; those maps hold a handful of entries, where a search over one short vector costs a
//! fraction of a B-tree's descent. Connection ids only grow, so a new connection is appended; a channel
//! number or a consumer tag may come in any order and is inserted in place (a connection has at most
//! `channel_max` channels).
//!
//! # Invariants
//! - `entries` is sorted by key, each key once.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Index;

#[derive(Clone, PartialEq)]
pub struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap { entries: Vec::new() }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Where `key` is, or where it would go.
    #[inline]
    fn position<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        // A few entries (the usual map here) are quicker to scan than to bisect.
        if self.entries.len() <= 8 {
            for (i, (k, _)) in self.entries.iter().enumerate() {
                match k.borrow().cmp(key) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => return Ok(i),
                    std::cmp::Ordering::Greater => return Err(i),
                }
            }
            return Err(self.entries.len());
        }
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    #[inline]
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.position(key).ok().map(|i| &self.entries[i].1)
    }

    #[inline]
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.position(key).ok().map(|i| &mut self.entries[i].1)
    }

    #[inline]
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.position(key).is_ok()
    }

    /// The entry with the smallest key.
    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.entries.first().map(|(k, v)| (k, v))
    }

    /// Adds or replaces the value of `key`; returns the replaced one.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        if self.entries.last().is_none_or(|(last, _)| *last < key) {
            self.entries.push((key, value));
            return None;
        }
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    pub fn remove_entry<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
    {
        let i = self.position(key).ok()?;
        Some(self.entries.remove(i))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = (&K, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }
}

impl<K: Ord, V> Index<&K> for VecMap<K, V> {
    type Output = V;

    /// Panics if `key` is absent, as `BTreeMap`'s index does.
    fn index(&self, key: &K) -> &V {
        self.get(key).expect("key not in the map")
    }
}

impl<'a, K: Ord, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<K: Ord, V> Extend<(K, V)> for VecMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, items: I) {
        for (k, v) in items {
            self.insert(k, v);
        }
    }
}

/// Printed as a map, as `BTreeMap` prints.
impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.entries.iter().map(|(k, v)| (k, v))).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::VecMap;
    use std::collections::BTreeMap;

    /// The same operations on a `BTreeMap` and a `VecMap` give the same answers and the same order.
    #[test]
    fn behaves_like_a_btree_map() {
        let mut vm = VecMap::new();
        let mut bt = BTreeMap::new();
        let mut x: u32 = 12345;
        for step in 0..2000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let key = (x >> 16) % 64;
            match step % 4 {
                0 | 1 => assert_eq!(vm.insert(key, step), bt.insert(key, step)),
                2 => assert_eq!(vm.remove(&key), bt.remove(&key)),
                _ => {
                    assert_eq!(vm.get(&key), bt.get(&key));
                    assert_eq!(vm.contains_key(&key), bt.contains_key(&key));
                    if let (Some(a), Some(b)) = (vm.get_mut(&key), bt.get_mut(&key)) {
                        *a += 1;
                        *b += 1;
                    }
                }
            }
            assert_eq!(vm.len(), bt.len());
            assert!(vm.iter().eq(bt.iter()), "order after step {step}");
        }
        assert_eq!(format!("{vm:?}"), format!("{bt:?}"));
        assert!(vm.keys().eq(bt.keys()) && vm.values().eq(bt.values()));
        assert!((&vm).into_iter().eq(&bt));
    }
}

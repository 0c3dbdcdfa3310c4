//! One kind's objects in the API store: listed in key order, found by hash.
//!
//! The store used to be one `BTreeMap<ObjKey, T>` per kind. Listing in key
//! order is what every controller and every output relies on, but each
//! lookup in the tree compares key strings level after level, and the names
//! of one Deployment's pods share long prefixes: at 150,000 pods those
//! `memcmp`s were about a third of a run. A [`Table`] keeps the objects in a
//! slab, finds them through a hash of the key, and keeps the ordered map only
//! for listing. The hasher is fixed (the same on every machine), and nothing
//! ever iterates the hash map, so its order cannot leak into results.

use super::meta::ObjKey;
use foldhash::fast::FixedState;
use std::collections::{BTreeMap, HashMap};

/// A hash map that is only ever looked up, never iterated (so its order
/// cannot show), with a hasher that is the same on every machine.
pub type LookupMap<K, V> = HashMap<K, V, FixedState>;

/// A hash set for lookups only, like [`LookupMap`]: never iterate it where
/// the order could reach an output (sort what is read out).
pub type LookupSet<K> = std::collections::HashSet<K, FixedState>;

/// An empty [`LookupSet`].
pub fn lookup_set<K>() -> LookupSet<K> {
    std::collections::HashSet::with_hasher(FixedState::with_seed(0x6b75_6265_7369_6d00))
}

/// An empty [`LookupMap`].
pub fn lookup_map<K, V>() -> LookupMap<K, V> {
    HashMap::with_hasher(FixedState::with_seed(0x6b75_6265_7369_6d00))
}

/// Objects of one kind by key.
#[derive(Debug, Clone)]
pub struct Table<T> {
    /// The objects; `None` marks a free slot (listed in `free`).
    objects: Vec<Option<T>>,
    free: Vec<u32>,
    /// Key → slot, for lookups.
    by_key: LookupMap<ObjKey, u32>,
    /// Key → slot in key order, for listing.
    order: BTreeMap<ObjKey, u32>,
    /// Bumped whenever a key comes or goes (not when an object is replaced).
    membership: u64,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            objects: Vec::new(),
            free: Vec::new(),
            by_key: lookup_map(),
            order: BTreeMap::new(),
            membership: 0,
        }
    }
}

impl<T> Table<T> {
    pub fn get(&self, key: &ObjKey) -> Option<&T> {
        let slot = *self.by_key.get(key)?;
        self.objects[slot as usize].as_ref()
    }

    pub fn get_mut(&mut self, key: &ObjKey) -> Option<&mut T> {
        let slot = *self.by_key.get(key)?;
        self.objects[slot as usize].as_mut()
    }

    /// Where the object with this key sits. The slot stays the object's
    /// until it is removed, so a reader that holds it (with the object's uid
    /// to tell a later occupant apart) can skip hashing the key again.
    pub fn slot_of(&self, key: &ObjKey) -> Option<u32> {
        self.by_key.get(key).copied()
    }

    /// The object in `slot`, if any (see [`Table::slot_of`]).
    pub fn at(&self, slot: u32) -> Option<&T> {
        self.objects.get(slot as usize)?.as_ref()
    }

    pub fn contains_key(&self, key: &ObjKey) -> bool {
        self.by_key.contains_key(key)
    }

    /// Store `obj` under `key`, replacing what was there; returns it in place.
    pub fn insert(&mut self, key: ObjKey, obj: T) -> &mut T {
        let slot = self.insert_slot(key, obj);
        self.objects[slot as usize]
            .as_mut()
            .expect("an object is in the slot it was just stored in")
    }

    /// [`Table::insert`], returning the slot the object now occupies.
    pub fn insert_slot(&mut self, key: ObjKey, obj: T) -> u32 {
        let slot = match self.by_key.get(&key) {
            Some(&slot) => slot,
            None => {
                let slot = match self.free.pop() {
                    Some(slot) => slot,
                    None => {
                        self.objects.push(None);
                        (self.objects.len() - 1) as u32
                    }
                };
                self.order.insert(key.clone(), slot);
                self.by_key.insert(key, slot);
                self.membership += 1;
                slot
            }
        };
        self.objects[slot as usize] = Some(obj);
        slot
    }

    pub fn remove(&mut self, key: &ObjKey) -> Option<T> {
        let slot = self.by_key.remove(key)?;
        self.order.remove(key);
        self.membership += 1;
        self.free.push(slot);
        self.objects[slot as usize].take()
    }

    /// The objects in key order (namespace, then name).
    pub fn values(&self) -> impl Iterator<Item = &T> + '_ {
        self.order
            .values()
            .filter_map(|&slot| self.objects[slot as usize].as_ref())
    }

    /// The objects in slot order, which is no order at all: only for reads
    /// whose result cannot depend on it (sums, counts). Cheaper than
    /// [`Table::values`], which walks the ordered index.
    pub fn values_unordered(&self) -> impl Iterator<Item = &T> + '_ {
        self.objects.iter().flatten()
    }

    /// (key, object) pairs in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&ObjKey, &T)> + '_ {
        self.range(..)
    }

    /// (key, object) pairs with keys in `range`, in key order.
    pub fn range<R: std::ops::RangeBounds<ObjKey>>(
        &self,
        range: R,
    ) -> impl Iterator<Item = (&ObjKey, &T)> + '_ {
        self.order
            .range(range)
            .filter_map(|(k, &slot)| Some((k, self.objects[slot as usize].as_ref()?)))
    }

    /// The keys in key order.
    pub fn keys(&self) -> impl Iterator<Item = &ObjKey> + '_ {
        self.order.keys()
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Moves whenever a key is added or removed, never otherwise: equal
    /// values mean the same keys are stored (objects may have changed).
    pub fn membership(&self) -> u64 {
        self.membership
    }

    /// Remove every object.
    pub fn clear(&mut self) {
        self.membership += 1;
        self.objects.clear();
        self.free.clear();
        self.by_key.clear();
        self.order.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any sequence of inserts and removes leaves a table that answers and
        /// lists exactly as a `BTreeMap` does.
        #[test]
        fn behaves_as_an_ordered_map(ops in proptest::collection::vec((any::<bool>(), 0u8..24, any::<u16>()), 0..200)) {
            let mut table = Table::default();
            let mut model = BTreeMap::new();
            for (insert, k, v) in ops {
                let key = ObjKey::new(format!("ns{}", k % 3), format!("pod-{k}"));
                let (before, keys_before) = (table.membership(), model.len());
                let present = model.contains_key(&key);
                if insert {
                    prop_assert_eq!(*table.insert(key.clone(), v), v);
                    model.insert(key, v);
                } else {
                    prop_assert_eq!(table.remove(&key), model.remove(&key));
                }
                // membership moves exactly when a key came or went
                let moved = present != insert;
                prop_assert_eq!(table.membership() != before, moved);
                prop_assert!(moved || model.len() == keys_before);
                prop_assert_eq!(table.len(), model.len());
            }
            for k in 0u8..24 {
                let key = ObjKey::new(format!("ns{}", k % 3), format!("pod-{k}"));
                prop_assert_eq!(table.get(&key), model.get(&key));
                prop_assert_eq!(table.contains_key(&key), model.contains_key(&key));
            }
            let listed: Vec<u16> = table.values().copied().collect();
            let expected: Vec<u16> = model.values().copied().collect();
            prop_assert_eq!(listed, expected);
            let from = ObjKey::new("ns1", "");
            let ranged: Vec<_> = table.range(from.clone()..).collect();
            let expected: Vec<_> = model.range(from..).collect();
            prop_assert_eq!(ranged, expected);
            prop_assert!(table.keys().eq(model.keys()));
        }
    }
}

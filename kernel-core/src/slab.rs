//! A table of kernel objects with reusable slots and generation-tagged ids.
//!
//! An id is `generation << INDEX_BITS | index`. Removing an object bumps
//! its slot's generation, so the old id stops matching; a slot whose
//! generation would wrap is retired for good rather than reused, so no id
//! ever names two objects. Slot 0 is never used: id 0 means "nobody".
//!
//! The table is allocated once, at its full capacity: inserting never
//! reallocates (objects never move, and the kernel heap does not grow with
//! the number of objects ever created).

use alloc::vec::Vec;

/// Bits of an id that index the table.
pub const INDEX_BITS: u32 = 16;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;
/// Generations a slot goes through before it is retired.
const GENERATIONS: u32 = 1 << (32 - INDEX_BITS);

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// Objects of type `T` by generation-tagged id.
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    /// Indexes of empty slots that may be reused, most recently freed last.
    free: Vec<u32>,
    capacity: usize,
    len: usize,
}

impl<T> Slab<T> {
    /// A table for at most `capacity` objects (at most `2^16 - 1`).
    pub fn with_capacity(capacity: usize) -> Slab<T> {
        let capacity = capacity.min(INDEX_MASK as usize);
        let mut slots = Vec::with_capacity(capacity + 1);
        // Slot 0: never handed out.
        slots.push(Slot {
            generation: 0,
            value: None,
        });
        Slab {
            slots,
            free: Vec::with_capacity(capacity),
            capacity,
            len: 0,
        }
    }

    fn id(index: u32, generation: u32) -> u32 {
        (generation << INDEX_BITS) | index
    }

    /// Stores the object `make` builds from its id; `None` when the table
    /// is full.
    pub fn insert_with(&mut self, make: impl FnOnce(u32) -> T) -> Option<u32> {
        let index = match self.free.pop() {
            Some(index) => index,
            None if self.slots.len() <= self.capacity => {
                self.slots.push(Slot {
                    generation: 0,
                    value: None,
                });
                (self.slots.len() - 1) as u32
            }
            None => return None,
        };
        let slot = &mut self.slots[index as usize];
        let id = Self::id(index, slot.generation);
        slot.value = Some(make(id));
        self.len += 1;
        Some(id)
    }

    pub fn insert(&mut self, value: T) -> Option<u32> {
        self.insert_with(|_| value)
    }

    fn slot(&self, id: u32) -> Option<&Slot<T>> {
        let slot = self.slots.get((id & INDEX_MASK) as usize)?;
        (slot.generation == id >> INDEX_BITS).then_some(slot)
    }

    pub fn get(&self, id: u32) -> Option<&T> {
        self.slot(id)?.value.as_ref()
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut T> {
        let slot = self.slots.get_mut((id & INDEX_MASK) as usize)?;
        if slot.generation != id >> INDEX_BITS {
            return None;
        }
        slot.value.as_mut()
    }

    /// Two different objects at once, both mutable (the IPC fast path's
    /// sender and receiver, found with one call); `None` when either id
    /// names nothing or both name the same slot.
    #[inline(always)]
    pub fn get2_mut(&mut self, a: u32, b: u32) -> Option<(&mut T, &mut T)> {
        let indexes = [(a & INDEX_MASK) as usize, (b & INDEX_MASK) as usize];
        let [sa, sb] = self.slots.get_disjoint_mut(indexes).ok()?;
        if sa.generation != a >> INDEX_BITS || sb.generation != b >> INDEX_BITS {
            return None;
        }
        Some((sa.value.as_mut()?, sb.value.as_mut()?))
    }

    pub fn contains(&self, id: u32) -> bool {
        self.get(id).is_some()
    }

    /// Takes the object out; its id names nothing from now on.
    pub fn remove(&mut self, id: u32) -> Option<T> {
        let index = id & INDEX_MASK;
        let slot = self.slots.get_mut(index as usize)?;
        if slot.generation != id >> INDEX_BITS {
            return None;
        }
        let value = slot.value.take()?;
        self.len -= 1;
        slot.generation += 1;
        if slot.generation < GENERATIONS {
            self.free.push(index);
        }
        Some(value)
    }

    /// Live objects.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Live objects with their ids, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((Self::id(i as u32, s.generation), s.value.as_ref()?)))
    }

    /// The ids of live objects that `keep` selects.
    pub fn ids_where(&self, mut keep: impl FnMut(&T) -> bool) -> Vec<u32> {
        self.iter().filter(|(_, v)| keep(v)).map(|(id, _)| id).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ids_start_small_and_zero_is_nobody() {
        let mut slab = Slab::with_capacity(4);
        assert_eq!(slab.insert('a'), Some(1));
        assert_eq!(slab.insert('b'), Some(2));
        assert_eq!(slab.get(0), None);
        assert_eq!(slab.get(1), Some(&'a'));
    }

    #[test]
    fn two_at_once_only_when_both_live_and_different() {
        let mut slab = Slab::with_capacity(4);
        let a = slab.insert('a').unwrap();
        let b = slab.insert('b').unwrap();
        let (x, y) = slab.get2_mut(a, b).unwrap();
        (*x, *y) = ('x', 'y');
        assert_eq!((slab.get(a), slab.get(b)), (Some(&'x'), Some(&'y')));
        assert!(slab.get2_mut(a, a).is_none(), "the same object twice");
        assert!(slab.get2_mut(a, 0).is_none(), "slot 0 holds nothing");
        assert!(slab.get2_mut(a, 99).is_none(), "out of range");
        slab.remove(b);
        let c = slab.insert('c').unwrap();
        assert!(slab.get2_mut(a, b).is_none(), "a stale id");
        assert!(slab.get2_mut(c, a).is_some());
    }

    #[test]
    fn a_reused_slot_gets_a_new_id() {
        let mut slab = Slab::with_capacity(1);
        let a = slab.insert("a").unwrap();
        assert_eq!(slab.insert("full"), None);
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert("b").unwrap();
        assert_ne!(a, b);
        assert_eq!(a & INDEX_MASK, b & INDEX_MASK, "same slot");
        assert_eq!(slab.get(a), None, "the stale id names nothing");
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.get(b), Some(&"b"));
    }

    #[test]
    fn an_exhausted_slot_is_retired() {
        let mut slab = Slab::with_capacity(1);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..GENERATIONS {
            let id = slab.insert(()).unwrap();
            assert!(seen.insert(id), "id {id:#x} handed out twice");
            slab.remove(id);
        }
        assert_eq!(slab.insert(()), None, "the only slot is retired");
    }

    #[test]
    fn inserting_never_reallocates() {
        let mut slab = Slab::with_capacity(100);
        let before = slab.slots.capacity();
        let ids: Vec<u32> = (0..100).map(|i| slab.insert(i).unwrap()).collect();
        for id in &ids {
            slab.remove(*id);
        }
        for i in 0..100 {
            slab.insert(i).unwrap();
        }
        assert_eq!(slab.slots.capacity(), before);
        assert_eq!(slab.len(), 100);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u8),
        Remove(usize),
        RemoveStale(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            any::<u8>().prop_map(Op::Insert),
            any::<usize>().prop_map(Op::Remove),
            any::<usize>().prop_map(Op::RemoveStale),
        ]
    }

    proptest! {
        // The slab behaves as a map from fresh ids to values: every id is
        // new, lookups agree with the model, and stale ids name nothing.
        #[test]
        fn behaves_like_a_map(ops in prop::collection::vec(op(), 0..400), cap in 1usize..20) {
            let mut slab = Slab::with_capacity(cap);
            let mut model: BTreeMap<u32, u8> = BTreeMap::new();
            let mut dead: Vec<u32> = Vec::new();
            let mut issued = std::collections::HashSet::new();
            for op in ops {
                match op {
                    Op::Insert(v) => match slab.insert(v) {
                        Some(id) => {
                            prop_assert!(id != 0);
                            prop_assert!(issued.insert(id), "id reused");
                            model.insert(id, v);
                        }
                        None => prop_assert_eq!(model.len(), cap),
                    },
                    Op::Remove(i) if !model.is_empty() => {
                        let id = *model.keys().nth(i % model.len()).unwrap();
                        prop_assert_eq!(slab.remove(id), model.remove(&id));
                        dead.push(id);
                    }
                    Op::RemoveStale(i) if !dead.is_empty() => {
                        let id = dead[i % dead.len()];
                        prop_assert_eq!(slab.remove(id), None);
                        prop_assert_eq!(slab.get(id), None);
                    }
                    _ => {}
                }
                prop_assert_eq!(slab.len(), model.len());
                for (id, v) in &model {
                    prop_assert_eq!(slab.get(*id), Some(v));
                }
                let listed: Vec<(u32, u8)> = slab.iter().map(|(id, v)| (id, *v)).collect();
                let mut want: Vec<(u32, u8)> = model.iter().map(|(k, v)| (*k, *v)).collect();
                let mut got = listed.clone();
                got.sort();
                want.sort();
                prop_assert_eq!(got, want);
            }
        }
    }
}

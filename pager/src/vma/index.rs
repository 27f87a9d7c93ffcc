//! The ordered index of [`super::VmaSet`]: a B+tree from a VMA's start to
//! the VMA, built for the fault path's lookup.
//!
//! Nodes live in two `Vec` arenas (leaves and inner nodes), linked by `u32`
//! index; leaves are also linked to their neighbours, so iteration and the
//! neighbour steps of a lookup never climb the tree. The values sit in the
//! leaves themselves, found by position: a lookup reads the inner nodes on
//! its path, one or two key lines of a leaf, then the value, with no
//! pointer to chase in between.
//!
//! Keys sit contiguously at the front of a node, cache-line aligned: a
//! leaf's 14 keys with its length and links fill two lines, an inner node's
//! 31 keys four lines and its 32 children two more. A node search scans its
//! keys and stops at the first larger one (a [`PAD`] slot at the latest).
//! At 65,530 entries the tree has three inner levels (under 60 KiB in all,
//! so they stay cached) above the leaves.
//!
//! Lookup, insert and remove are O(log n): inserts split full nodes, and a
//! removal that leaves a node (not the root) less than half full merges it
//! with a sibling or evens their entries out, so the tree stays balanced and
//! its height O(log n). Two insert rules keep the leaves dense: a full leaf
//! first hands an entry to a sibling with room, and a full node at either
//! end of the tree, appended to at that end (addresses mapped in rising or
//! falling order), splits off just the new entry instead of half its
//! entries.
//!
//! Separators are lower bounds: every key of child `i + 1` is at or above
//! `keys[i]`, every key of child `i` below it. A removal may leave a
//! separator below the first key of its right subtree; lookups therefore
//! step to the previous or next leaf when the leaf they land in holds no
//! answer.

use alloc::vec::Vec;
use core::ops::{Bound, RangeBounds};

/// Entries per leaf: 14 keys with `len`, `next` and `prev` fill two cache
/// lines.
const LEAF_CAP: usize = 14;
/// Keys per inner node: 31 keys with `len` fill four cache lines, the 32
/// children two more.
const INNER_CAP: usize = 31;
/// Below this many entries a leaf (not the root) borrows or merges.
const LEAF_MIN: usize = LEAF_CAP / 2;
/// Below this many keys an inner node (not the root) borrows or merges.
const INNER_MIN: usize = INNER_CAP / 2;
/// No node (the end of the leaf chain).
const NIL: u32 = u32::MAX;
/// An unused key slot: it ends every node scan (counts are clamped to
/// `len` for the one address equal to it).
const PAD: u64 = u64::MAX;

/// How many of `keys` are at or below `key`: a scan that stops at the
/// first larger key (a `PAD` slot at the latest, so it needs no `len`).
/// Measured faster than a branch-free count or a binary search, both for
/// repeated lookups (the exit branch predicts) and for scattered ones (the
/// node's lines are already in flight).
#[inline(always)]
fn count_le<const N: usize>(keys: &[u64; N], key: u64) -> usize {
    keys.iter().position(|&k| k > key).unwrap_or(N)
}

/// How many of `keys` are below `key`.
#[inline(always)]
fn count_lt<const N: usize>(keys: &[u64; N], key: u64) -> usize {
    keys.iter().position(|&k| k >= key).unwrap_or(N)
}

#[derive(Clone, Debug)]
#[repr(C, align(64))]
struct Leaf<V> {
    /// Sorted; `PAD` from `len` on.
    keys: [u64; LEAF_CAP],
    len: u32,
    next: u32,
    prev: u32,
    /// The values, in the leaf itself: found by position, not through
    /// another pointer.
    vals: [V; LEAF_CAP],
}

impl<V: Default> Leaf<V> {
    fn empty() -> Leaf<V> {
        Leaf {
            keys: [PAD; LEAF_CAP],
            len: 0,
            next: NIL,
            prev: NIL,
            vals: core::array::from_fn(|_| V::default()),
        }
    }

    fn len(&self) -> usize {
        self.len as usize
    }

    /// Moves every entry to the end of `out`, leaving the leaf empty.
    fn drain_into<const N: usize>(&mut self, out: &mut Buf<(u64, V), N>) {
        for i in 0..self.len() {
            out.push((self.keys[i], core::mem::take(&mut self.vals[i])));
        }
        self.keys = [PAD; LEAF_CAP];
        self.len = 0;
    }

    /// Appends `entries` (it has room for them).
    fn extend(&mut self, entries: impl Iterator<Item = (u64, V)>) {
        for (k, v) in entries {
            let i = self.len();
            self.keys[i] = k;
            self.vals[i] = v;
            self.len += 1;
        }
    }

    fn insert_at(&mut self, pos: usize, key: u64, val: V) {
        let len = self.len();
        debug_assert!(len < LEAF_CAP && pos <= len);
        self.keys.copy_within(pos..len, pos + 1);
        self.vals[pos..=len].rotate_right(1);
        self.keys[pos] = key;
        self.vals[pos] = val;
        self.len += 1;
    }

    fn remove_at(&mut self, pos: usize) -> (u64, V) {
        let len = self.len();
        let entry = (self.keys[pos], core::mem::take(&mut self.vals[pos]));
        self.keys.copy_within(pos + 1..len, pos);
        self.vals[pos..len].rotate_left(1);
        self.keys[len - 1] = PAD;
        self.len -= 1;
        entry
    }
}

#[derive(Clone, Debug)]
#[repr(C, align(64))]
struct Inner {
    /// Separators, sorted; `PAD` from `len` on.
    keys: [u64; INNER_CAP],
    len: u32,
    /// `len + 1` children.
    children: [u32; INNER_CAP + 1],
}

impl Inner {
    const EMPTY: Inner = Inner {
        keys: [PAD; INNER_CAP],
        len: 0,
        children: [NIL; INNER_CAP + 1],
    };

    fn len(&self) -> usize {
        self.len as usize
    }

    /// The child whose range holds `key`.
    #[inline(always)]
    fn child_index(&self, key: u64) -> usize {
        count_le(&self.keys, key).min(self.len())
    }

    /// Replaces the contents with `keys` and `children` (one more child).
    fn set(&mut self, keys: &[u64], children: &[u32]) {
        debug_assert!(keys.len() <= INNER_CAP && children.len() == keys.len() + 1);
        self.keys = [PAD; INNER_CAP];
        self.keys[..keys.len()].copy_from_slice(keys);
        self.children = [NIL; INNER_CAP + 1];
        self.children[..children.len()].copy_from_slice(children);
        self.len = keys.len() as u32;
    }

    /// Removes separator `i` and child `i + 1` (merged into child `i`).
    fn remove_at(&mut self, i: usize) {
        let len = self.len();
        self.keys.copy_within(i + 1..len, i);
        self.keys[len - 1] = PAD;
        self.children.copy_within(i + 2..=len, i + 1);
        self.children[len] = NIL;
        self.len -= 1;
    }
}

/// A fixed-capacity list on the stack: the entries of one or two nodes
/// while they are split, merged or evened out (no allocation there).
struct Buf<T, const N: usize> {
    items: [T; N],
    len: usize,
}

impl<T: Default, const N: usize> Buf<T, N> {
    fn new() -> Self {
        Buf {
            items: core::array::from_fn(|_| T::default()),
            len: 0,
        }
    }

    fn of(items: impl IntoIterator<Item = T>) -> Self {
        let mut buf = Buf::new();
        for item in items {
            buf.push(item);
        }
        buf
    }

    fn push(&mut self, item: T) {
        self.items[self.len] = item;
        self.len += 1;
    }

    fn insert(&mut self, at: usize, item: T) {
        self.items[at..=self.len].rotate_right(1);
        self.items[at] = item;
        self.len += 1;
    }

    /// Moves out the items in `range`.
    fn take(&mut self, range: core::ops::Range<usize>) -> impl Iterator<Item = T> + '_ {
        self.items[range].iter_mut().map(core::mem::take)
    }
}

impl<T, const N: usize> core::ops::Deref for Buf<T, N> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.items[..self.len]
    }
}

/// A position in the leaf chain: entry `idx` of leaf `leaf`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pos {
    leaf: u32,
    idx: u32,
}

/// What an insert below a node hands back up: a new right sibling and the
/// separator in front of it.
type Split = Option<(u64, u32)>;

/// The ordered map `u64 -> V` (see the module doc).
#[derive(Clone, Debug)]
pub(super) struct Index<V> {
    leaves: Vec<Leaf<V>>,
    inners: Vec<Inner>,
    free_leaves: Vec<u32>,
    free_inners: Vec<u32>,
    /// A leaf when `height` is 0, else an inner node.
    root: u32,
    height: u32,
    len: usize,
}

impl<V: Default> Index<V> {
    pub(super) fn new() -> Index<V> {
        Index {
            leaves: alloc::vec![Leaf::empty()],
            inners: Vec::new(),
            free_leaves: Vec::new(),
            free_inners: Vec::new(),
            root: 0,
            height: 0,
            len: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    fn leaf(&self, id: u32) -> &Leaf<V> {
        &self.leaves[id as usize]
    }

    fn leaf_mut(&mut self, id: u32) -> &mut Leaf<V> {
        &mut self.leaves[id as usize]
    }

    fn inner(&self, id: u32) -> &Inner {
        &self.inners[id as usize]
    }

    fn inner_mut(&mut self, id: u32) -> &mut Inner {
        &mut self.inners[id as usize]
    }

    fn new_leaf(&mut self) -> u32 {
        match self.free_leaves.pop() {
            Some(id) => id,
            None => {
                self.leaves.push(Leaf::empty());
                (self.leaves.len() - 1) as u32
            }
        }
    }

    fn new_inner(&mut self) -> u32 {
        match self.free_inners.pop() {
            Some(id) => id,
            None => {
                self.inners.push(Inner::EMPTY);
                (self.inners.len() - 1) as u32
            }
        }
    }

    /// Frees an emptied leaf.
    fn free_leaf(&mut self, id: u32) {
        let leaf = self.leaf_mut(id);
        debug_assert_eq!(leaf.len, 0);
        (leaf.next, leaf.prev) = (NIL, NIL);
        self.free_leaves.push(id);
    }

    fn free_inner(&mut self, id: u32) {
        *self.inner_mut(id) = Inner::EMPTY;
        self.free_inners.push(id);
    }

    /// The leaf whose range holds `key`.
    #[inline(always)]
    fn leaf_for(&self, key: u64) -> u32 {
        let mut node = self.root;
        for _ in 0..self.height {
            let inner = self.inner(node);
            node = inner.children[inner.child_index(key)];
        }
        node
    }

    fn entry(&self, pos: Pos) -> (u64, &V) {
        let leaf = self.leaf(pos.leaf);
        (leaf.keys[pos.idx as usize], &leaf.vals[pos.idx as usize])
    }

    fn entry_mut(&mut self, pos: Pos) -> (u64, &mut V) {
        let leaf = self.leaf_mut(pos.leaf);
        (leaf.keys[pos.idx as usize], &mut leaf.vals[pos.idx as usize])
    }

    /// The last entry of the leaf before `leaf`, if any.
    fn last_before(&self, leaf: u32) -> Option<Pos> {
        let prev = self.leaf(leaf).prev;
        (prev != NIL).then(|| Pos {
            leaf: prev,
            idx: self.leaf(prev).len - 1,
        })
    }

    /// The position of the last key at or below `key`.
    #[inline(always)]
    fn pos_at_or_below(&self, key: u64) -> Option<Pos> {
        self.last_counted(key, count_le)
    }

    /// The position of the last key below `key`.
    fn pos_below(&self, key: u64) -> Option<Pos> {
        self.last_counted(key, count_lt)
    }

    /// The position of the last of the keys `count` counts in `key`'s leaf
    /// (or the last key before that leaf when it counts none).
    #[inline(always)]
    fn last_counted(&self, key: u64, count: fn(&[u64; LEAF_CAP], u64) -> usize) -> Option<Pos> {
        let id = self.leaf_for(key);
        let leaf = self.leaf(id);
        match count(&leaf.keys, key).min(leaf.len()) {
            0 => self.last_before(id),
            n => Some(Pos {
                leaf: id,
                idx: n as u32 - 1,
            }),
        }
    }

    /// The position of the first key at or above `key`.
    fn pos_at_or_above(&self, key: u64) -> Option<Pos> {
        let id = self.leaf_for(key);
        let leaf = self.leaf(id);
        let n = count_lt(&leaf.keys, key).min(leaf.len());
        if n < leaf.len() {
            Some(Pos {
                leaf: id,
                idx: n as u32,
            })
        } else {
            (leaf.next != NIL).then_some(Pos {
                leaf: leaf.next,
                idx: 0,
            })
        }
    }

    /// The last entry whose key is at or below `key`.
    #[inline]
    pub(super) fn at_or_below(&self, key: u64) -> Option<(u64, &V)> {
        self.pos_at_or_below(key).map(|p| self.entry(p))
    }

    pub(super) fn at_or_below_mut(&mut self, key: u64) -> Option<(u64, &mut V)> {
        let pos = self.pos_at_or_below(key)?;
        Some(self.entry_mut(pos))
    }

    /// The last entry whose key is below `key`.
    pub(super) fn below(&self, key: u64) -> Option<(u64, &V)> {
        self.pos_below(key).map(|p| self.entry(p))
    }

    pub(super) fn below_mut(&mut self, key: u64) -> Option<(u64, &mut V)> {
        let pos = self.pos_below(key)?;
        Some(self.entry_mut(pos))
    }

    /// The first entry whose key is at or above `key`.
    pub(super) fn at_or_above(&self, key: u64) -> Option<(u64, &V)> {
        self.pos_at_or_above(key).map(|p| self.entry(p))
    }

    pub(super) fn get(&self, key: u64) -> Option<&V> {
        self.at_or_below(key).filter(|&(k, _)| k == key).map(|(_, v)| v)
    }

    pub(super) fn get_mut(&mut self, key: u64) -> Option<&mut V> {
        self.at_or_below_mut(key).filter(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The entries with keys in `range`, in order (both ways).
    pub(super) fn range(&self, range: impl RangeBounds<u64>) -> Iter<'_, V> {
        let front = match range.start_bound() {
            Bound::Included(&k) => self.pos_at_or_above(k),
            Bound::Excluded(&k) => k.checked_add(1).and_then(|k| self.pos_at_or_above(k)),
            Bound::Unbounded => self.pos_at_or_above(0),
        };
        let back = match range.end_bound() {
            Bound::Included(&k) => self.pos_at_or_below(k),
            Bound::Excluded(&k) => self.pos_below(k),
            Bound::Unbounded => self.pos_at_or_below(u64::MAX),
        };
        let span = match (front, back) {
            (Some(f), Some(b)) if self.entry(f).0 <= self.entry(b).0 => Some((f, b)),
            _ => None,
        };
        Iter { index: self, span }
    }

    /// All entries, in order.
    pub(super) fn iter(&self) -> Iter<'_, V> {
        self.range(..)
    }

    /// Maps `key` to `val`, returning the value it replaced.
    pub(super) fn insert(&mut self, key: u64, val: V) -> Option<V> {
        if let Some(old) = self.get_mut(key) {
            return Some(core::mem::replace(old, val));
        }
        let (root, height) = (self.root, self.height);
        if let Some((sep, right)) = self.insert_below(root, height, key, val, (true, true)) {
            let new_root = self.new_inner();
            self.inner_mut(new_root).set(&[sep], &[root, right]);
            self.root = new_root;
            self.height += 1;
        }
        self.len += 1;
        None
    }

    /// Inserts the new `key` into the subtree of `node`. `edges` says
    /// whether the node is on the tree's left and right edge.
    fn insert_below(&mut self, node: u32, height: u32, key: u64, val: V, edges: (bool, bool)) -> Split {
        if height == 0 {
            return self.insert_into_leaf(node, key, val);
        }
        let mut i = self.inner(node).child_index(key);
        if height == 1 && self.leaf(self.inner(node).children[i]).len() == LEAF_CAP && self.shift_to_sibling(node, i) {
            i = self.inner(node).child_index(key);
        }
        let inner = self.inner(node);
        let (child, child_edges) = (inner.children[i], (edges.0 && i == 0, edges.1 && i == inner.len()));
        let (sep, right) = self.insert_below(child, height - 1, key, val, child_edges)?;
        self.insert_into_inner(node, i, sep, right, edges)
    }

    /// Moves one entry of the full leaf `children[i]` of `parent` to a
    /// sibling with room for it and one more, so the insert need not split.
    fn shift_to_sibling(&mut self, parent: u32, i: usize) -> bool {
        let p = self.inner(parent);
        let (len, full) = (p.len(), p.children[i]);
        let has_room = |index: &Index<V>, id: u32| index.leaf(id).len() + 1 < LEAF_CAP;
        if i > 0 && has_room(self, p.children[i - 1]) {
            let left = p.children[i - 1];
            let (k, v) = self.leaf_mut(full).remove_at(0);
            let l = self.leaf_mut(left);
            l.insert_at(l.len(), k, v);
            let first = self.leaf(full).keys[0];
            self.inner_mut(parent).keys[i - 1] = first;
            return true;
        }
        if i < len && has_room(self, p.children[i + 1]) {
            let right = p.children[i + 1];
            let (k, v) = self.leaf_mut(full).remove_at(LEAF_CAP - 1);
            self.leaf_mut(right).insert_at(0, k, v);
            self.inner_mut(parent).keys[i] = k;
            return true;
        }
        false
    }

    fn insert_into_leaf(&mut self, id: u32, key: u64, val: V) -> Split {
        let leaf = self.leaf(id);
        let pos = count_lt(&leaf.keys, key).min(leaf.len());
        if leaf.len() < LEAF_CAP {
            self.leaf_mut(id).insert_at(pos, key, val);
            return None;
        }
        // Appending at an end of the tree: split off the new entry alone.
        let at = if pos == LEAF_CAP && leaf.next == NIL {
            LEAF_CAP
        } else if pos == 0 && leaf.prev == NIL {
            1
        } else {
            LEAF_CAP.div_ceil(2)
        };
        let mut all = Buf::<(u64, V), { LEAF_CAP + 1 }>::new();
        self.leaf_mut(id).drain_into(&mut all);
        all.insert(pos, (key, val));
        let sep = all[at].0;
        let right = self.new_leaf();
        let next = self.leaf(id).next;
        let total = all.len;
        let l = self.leaf_mut(id);
        l.extend(all.take(0..at));
        l.next = right;
        let r = self.leaf_mut(right);
        r.extend(all.take(at..total));
        r.prev = id;
        r.next = next;
        if next != NIL {
            self.leaf_mut(next).prev = right;
        }
        Some((sep, right))
    }

    /// Puts separator `sep` and child `right` after child `i` of `node`,
    /// splitting it when full.
    fn insert_into_inner(&mut self, node: u32, i: usize, sep: u64, right: u32, edges: (bool, bool)) -> Split {
        let inner = self.inner(node);
        let len = inner.len();
        let mut keys = Buf::<u64, { INNER_CAP + 1 }>::of(inner.keys[..len].iter().copied());
        let mut children = Buf::<u32, { INNER_CAP + 2 }>::of(inner.children[..=len].iter().copied());
        keys.insert(i, sep);
        children.insert(i + 1, right);
        if keys.len() <= INNER_CAP {
            self.inner_mut(node).set(&keys, &children);
            return None;
        }
        // The separator at `mid` moves up; appending at an end of the
        // tree keeps this node full.
        let mid = if edges.1 && i == len {
            INNER_CAP - 1
        } else if edges.0 && i == 0 {
            1
        } else {
            keys.len() / 2
        };
        let new = self.new_inner();
        self.inner_mut(node).set(&keys[..mid], &children[..=mid]);
        self.inner_mut(new).set(&keys[mid + 1..], &children[mid + 1..]);
        Some((keys[mid], new))
    }

    /// Removes `key`, returning its value.
    pub(super) fn remove(&mut self, key: u64) -> Option<V> {
        let val = self.remove_below(self.root, self.height, key)?;
        if self.height > 0 && self.inner(self.root).len() == 0 {
            let old = self.root;
            self.root = self.inner(old).children[0];
            self.free_inner(old);
            self.height -= 1;
        }
        self.len -= 1;
        Some(val)
    }

    fn remove_below(&mut self, node: u32, height: u32, key: u64) -> Option<V> {
        if height == 0 {
            let leaf = self.leaf(node);
            let n = count_le(&leaf.keys, key).min(leaf.len());
            if n == 0 || leaf.keys[n - 1] != key {
                return None;
            }
            return Some(self.leaf_mut(node).remove_at(n - 1).1);
        }
        let i = self.inner(node).child_index(key);
        let child = self.inner(node).children[i];
        let val = self.remove_below(child, height - 1, key)?;
        let underfull = if height == 1 {
            self.leaf(child).len() < LEAF_MIN
        } else {
            self.inner(child).len() < INNER_MIN
        };
        if underfull {
            self.rebalance(node, i, height - 1);
        }
        Some(val)
    }

    /// Merges the underfull child `i` of `parent` with a sibling, or evens
    /// their entries out when they do not fit in one node.
    fn rebalance(&mut self, parent: u32, i: usize, child_height: u32) {
        let p = self.inner(parent);
        let left_index = if i > 0 { i - 1 } else { 0 };
        let (left, right) = (p.children[left_index], p.children[left_index + 1]);
        let sep = p.keys[left_index];
        if child_height == 0 {
            let mut all = Buf::<(u64, V), { 2 * LEAF_CAP }>::new();
            self.leaf_mut(left).drain_into(&mut all);
            self.leaf_mut(right).drain_into(&mut all);
            let total = all.len;
            if total <= LEAF_CAP {
                self.leaf_mut(left).extend(all.take(0..total));
                let next = self.leaf(right).next;
                self.leaf_mut(left).next = next;
                if next != NIL {
                    self.leaf_mut(next).prev = left;
                }
                self.free_leaf(right);
                self.inner_mut(parent).remove_at(left_index);
            } else {
                let mid = total / 2;
                self.inner_mut(parent).keys[left_index] = all[mid].0;
                self.leaf_mut(left).extend(all.take(0..mid));
                self.leaf_mut(right).extend(all.take(mid..total));
            }
            return;
        }
        let (l, r) = (self.inner(left), self.inner(right));
        let mut keys = Buf::<u64, { 2 * INNER_CAP + 1 }>::of(l.keys[..l.len()].iter().copied());
        keys.push(sep);
        for &k in &r.keys[..r.len()] {
            keys.push(k);
        }
        let mut children = Buf::<u32, { 2 * INNER_CAP + 2 }>::of(l.children[..=l.len()].iter().copied());
        for &c in &r.children[..=r.len()] {
            children.push(c);
        }
        if keys.len() <= INNER_CAP {
            self.inner_mut(left).set(&keys, &children);
            self.free_inner(right);
            self.inner_mut(parent).remove_at(left_index);
        } else {
            let mid = keys.len() / 2;
            self.inner_mut(left).set(&keys[..mid], &children[..=mid]);
            self.inner_mut(right).set(&keys[mid + 1..], &children[mid + 1..]);
            self.inner_mut(parent).keys[left_index] = keys[mid];
        }
    }

    /// Checks the tree's shape (for tests): sorted keys within separator
    /// bounds, equal leaf depth, no empty node, the leaf chain and the count.
    pub(super) fn check(&self) -> Result<(), alloc::string::String> {
        let mut leaves = Vec::new();
        self.check_node(self.root, self.height, (None, None), true, &mut leaves)?;
        let mut count = 0;
        for (n, &id) in leaves.iter().enumerate() {
            let leaf = self.leaf(id);
            let prev = if n == 0 { NIL } else { leaves[n - 1] };
            let next = leaves.get(n + 1).copied().unwrap_or(NIL);
            if leaf.prev != prev || leaf.next != next {
                return Err(alloc::format!("leaf {id}: broken chain"));
            }
            count += leaf.len();
        }
        if count != self.len || self.iter().count() != self.len {
            return Err(alloc::format!("{count} entries, len {}", self.len));
        }
        Ok(())
    }

    /// Checks the subtree of `id`, whose keys must lie in `[low, high)`.
    fn check_node(
        &self,
        id: u32,
        height: u32,
        (low, high): (Option<u64>, Option<u64>),
        root: bool,
        leaves: &mut Vec<u32>,
    ) -> Result<(), alloc::string::String> {
        let in_bounds = |k: u64| low.is_none_or(|l| l <= k) && high.is_none_or(|h| k < h);
        if height == 0 {
            let leaf = self.leaf(id);
            let keys = &leaf.keys[..leaf.len()];
            if !keys.is_sorted_by(|a, b| a < b)
                || !keys.iter().all(|&k| in_bounds(k))
                || leaf.keys[leaf.len()..].iter().any(|&k| k != PAD)
                || (!root && leaf.len() == 0)
            {
                return Err(alloc::format!("bad leaf {id}: {keys:x?}"));
            }
            leaves.push(id);
            return Ok(());
        }
        let inner = self.inner(id);
        let keys = &inner.keys[..inner.len()];
        if !keys.is_sorted_by(|a, b| a < b)
            || !keys.iter().all(|&k| in_bounds(k))
            || inner.keys[inner.len()..].iter().any(|&k| k != PAD)
            || inner.len() == 0
        {
            return Err(alloc::format!("bad inner node {id}: {keys:x?}"));
        }
        for (c, &child) in inner.children[..=inner.len()].iter().enumerate() {
            let lo = if c == 0 { low } else { Some(keys[c - 1]) };
            let hi = keys.get(c).copied().or(high);
            self.check_node(child, height - 1, (lo, hi), false, leaves)?;
        }
        Ok(())
    }
}

/// An iterator over a range of an [`Index`], from both ends.
#[derive(Clone, Debug)]
pub(super) struct Iter<'a, V> {
    index: &'a Index<V>,
    /// The first and last entries not yet yielded; `None` once they cross.
    span: Option<(Pos, Pos)>,
}

impl<'a, V: Default> Iterator for Iter<'a, V> {
    type Item = (u64, &'a V);

    fn next(&mut self) -> Option<(u64, &'a V)> {
        let (front, back) = self.span?;
        let item = self.index.entry(front);
        self.span = (front != back).then(|| {
            let leaf = self.index.leaf(front.leaf);
            let next = if front.idx + 1 < leaf.len {
                Pos {
                    leaf: front.leaf,
                    idx: front.idx + 1,
                }
            } else {
                Pos {
                    leaf: leaf.next,
                    idx: 0,
                }
            };
            (next, back)
        });
        Some(item)
    }
}

impl<V: Default> DoubleEndedIterator for Iter<'_, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let (front, back) = self.span?;
        let item = self.index.entry(back);
        self.span = (front != back).then(|| {
            let prev = if back.idx > 0 {
                Pos {
                    leaf: back.leaf,
                    idx: back.idx - 1,
                }
            } else {
                let prev = self.index.leaf(back.leaf).prev;
                Pos {
                    leaf: prev,
                    idx: self.index.leaf(prev).len - 1,
                }
            };
            (front, prev)
        });
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    //! The index against `BTreeMap` as the model: random inserts, removals
    //! and every kind of lookup, from a few entries to thousands (so nodes
    //! split, shift, merge and even out across several levels), checking
    //! the tree's shape as it goes.

    use alloc::{collections::BTreeMap, vec::Vec};

    use proptest::prelude::*;

    use super::*;

    /// Keys are `k * KEY_STEP` for `k < KEYS`: close enough that random
    /// operations hit existing keys, with room between them for lookups.
    const KEY_STEP: u64 = 0x1000;
    const KEYS: u64 = 6_000;
    /// Entries for the sequential tests: several levels deep.
    const MANY: u64 = 20_000;

    type Model = BTreeMap<u64, u64>;

    /// Every lookup of `index` at `at` agrees with the model.
    fn same_lookups(index: &Index<u64>, model: &Model, at: u64) -> Result<(), TestCaseError> {
        let entry = |e: Option<(&u64, &u64)>| e.map(|(&k, &v)| (k, v));
        let got = |e: Option<(u64, &u64)>| e.map(|(k, &v)| (k, v));
        prop_assert_eq!(got(index.at_or_below(at)), entry(model.range(..=at).next_back()));
        prop_assert_eq!(got(index.below(at)), entry(model.range(..at).next_back()));
        prop_assert_eq!(got(index.at_or_above(at)), entry(model.range(at..).next()));
        prop_assert_eq!(index.get(at), model.get(&at));
        Ok(())
    }

    /// The whole index, and a range both ways, agree with the model.
    fn same_contents(index: &Index<u64>, model: &Model, from: u64, to: u64) -> Result<(), TestCaseError> {
        if let Err(e) = index.check() {
            return Err(TestCaseError::fail(e));
        }
        prop_assert_eq!(index.len(), model.len());
        let all: Vec<(u64, u64)> = index.iter().map(|(k, &v)| (k, v)).collect();
        prop_assert_eq!(all, model.iter().map(|(&k, &v)| (k, v)).collect::<Vec<_>>());
        let (lo, hi) = (from.min(to), from.max(to));
        let back: Vec<u64> = index.range(lo..hi).rev().map(|(k, _)| k).collect();
        prop_assert_eq!(back, model.range(lo..hi).rev().map(|(&k, _)| k).collect::<Vec<_>>());
        // Both ends at once, meeting in the middle.
        let mut both = index.range(lo..=hi);
        let mut expect = model.range(lo..=hi);
        loop {
            let (a, b) = (both.next().map(|e| e.0), expect.next().map(|e| *e.0));
            prop_assert_eq!(a, b);
            let (c, d) = (both.next_back().map(|e| e.0), expect.next_back().map(|e| *e.0));
            prop_assert_eq!(c, d);
            if a.is_none() && c.is_none() {
                break;
            }
        }
        Ok(())
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u64),
        Remove(u64),
        /// A run of inserts upwards or downwards from a key (mmap's
        /// rising or falling addresses).
        Run {
            from: u64,
            len: u64,
            up: bool,
        },
        /// Removes the keys in a range (munmap of many VMAs).
        RemoveRange {
            from: u64,
            len: u64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..KEYS).prop_map(Op::Insert),
            3 => (0..KEYS).prop_map(Op::Remove),
            1 => (0..KEYS, 1..400u64, any::<bool>()).prop_map(|(from, len, up)| Op::Run { from, len, up }),
            1 => (0..KEYS, 1..800u64).prop_map(|(from, len)| Op::RemoveRange { from, len }),
        ]
    }

    fn apply(index: &mut Index<u64>, model: &mut Model, op: &Op, stamp: u64) -> Result<(), TestCaseError> {
        match *op {
            Op::Insert(k) => {
                prop_assert_eq!(index.insert(k * KEY_STEP, stamp), model.insert(k * KEY_STEP, stamp));
            }
            Op::Remove(k) => prop_assert_eq!(index.remove(k * KEY_STEP), model.remove(&(k * KEY_STEP))),
            Op::Run { from, len, up } => {
                for i in 0..len {
                    let k = if up { from + i } else { from.saturating_sub(i) };
                    prop_assert_eq!(index.insert(k * KEY_STEP, stamp), model.insert(k * KEY_STEP, stamp));
                }
            }
            Op::RemoveRange { from, len } => {
                let keys: Vec<u64> = index
                    .range(from * KEY_STEP..(from + len) * KEY_STEP)
                    .map(|(k, _)| k)
                    .collect();
                for k in keys {
                    prop_assert_eq!(index.remove(k), model.remove(&k));
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn matches_btreemap(ops in proptest::collection::vec(op(), 1..120), probes in proptest::collection::vec(0..KEYS * KEY_STEP + KEY_STEP, 8)) {
            let mut index = Index::new();
            let mut model = Model::new();
            for (stamp, op) in ops.iter().enumerate() {
                apply(&mut index, &mut model, op, stamp as u64)?;
                for &at in &probes {
                    same_lookups(&index, &model, at)?;
                    same_lookups(&index, &model, at & !(KEY_STEP - 1))?;
                }
                same_contents(&index, &model, probes[0], probes[1])?;
            }
        }
    }

    /// Fills the index in `order`, then empties it in `removal` order,
    /// checking everything along the way.
    fn fill_and_empty(order: &[u64], removal: &[u64]) {
        let mut index = Index::new();
        let mut model = Model::new();
        let check = |index: &Index<u64>, model: &Model, n: usize| {
            if n.is_multiple_of(997) {
                same_contents(index, model, 0, u64::MAX).unwrap();
                for at in [0, KEY_STEP * 7 + 1, MANY / 2 * KEY_STEP, u64::MAX] {
                    same_lookups(index, model, at).unwrap();
                }
            }
        };
        for (n, &k) in order.iter().enumerate() {
            assert_eq!(index.insert(k * KEY_STEP, k), model.insert(k * KEY_STEP, k));
            check(&index, &model, n);
        }
        same_contents(&index, &model, 0, u64::MAX).unwrap();
        for (n, &k) in removal.iter().enumerate() {
            assert_eq!(index.remove(k * KEY_STEP), model.remove(&(k * KEY_STEP)));
            check(&index, &model, n);
        }
        assert_eq!(index.len(), 0);
        same_contents(&index, &model, 0, u64::MAX).unwrap();
        assert_eq!(index.height, 0, "an empty index is one leaf");
    }

    /// A fixed pseudo-random permutation of `0..n`.
    fn shuffled(n: u64, seed: u64) -> Vec<u64> {
        let mut keys: Vec<u64> = (0..n).collect();
        let mut state = seed;
        for i in (1..keys.len()).rev() {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            keys.swap(i, (state >> 33) as usize % (i + 1));
        }
        keys
    }

    #[test]
    fn sequential_and_random_fills() {
        let up: Vec<u64> = (0..MANY).collect();
        let down: Vec<u64> = (0..MANY).rev().collect();
        let random = shuffled(MANY, 1);
        fill_and_empty(&up, &up);
        fill_and_empty(&up, &down);
        fill_and_empty(&down, &random);
        fill_and_empty(&random, &shuffled(MANY, 2));
    }

    #[test]
    fn sequential_fills_stay_dense() {
        let mut index = Index::new();
        for k in 0..MANY {
            index.insert(k * KEY_STEP, k);
        }
        let leaves = index.leaves.len() - index.free_leaves.len();
        assert!(leaves as u64 <= MANY.div_ceil(LEAF_CAP as u64) + 1, "{leaves} leaves");
        let mut index = Index::new();
        for k in (0..MANY).rev() {
            index.insert(k * KEY_STEP, k);
        }
        let leaves = index.leaves.len() - index.free_leaves.len();
        assert!(leaves as u64 <= MANY.div_ceil(LEAF_CAP as u64) + 1, "{leaves} leaves");
    }
}

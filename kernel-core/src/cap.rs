//! A process's capability table: a fixed array of slots, each empty or
//! holding a capability (an endpoint id and rights). Fixed size, so a
//! process's table costs the same whatever it does.

use libipc::{
    abi::{CAP_SLOTS, Rights, SysError},
    types::CapSlot,
};

/// One capability: which endpoint, with which rights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability {
    /// The endpoint's id in the kernel's endpoint table.
    pub endpoint: u32,
    pub rights: Rights,
}

/// The capabilities of one process.
#[derive(Clone, Debug)]
pub struct CapTable {
    slots: [Option<Capability>; CAP_SLOTS as usize],
}

impl Default for CapTable {
    fn default() -> Self {
        CapTable {
            slots: [None; CAP_SLOTS as usize],
        }
    }
}

impl CapTable {
    /// The capability in `slot`, if it has `needs`.
    pub fn lookup(&self, slot: CapSlot, needs: Rights) -> Result<Capability, SysError> {
        let cap = self
            .slots
            .get(slot.0 as usize)
            .copied()
            .flatten()
            .ok_or(SysError::NoCapability)?;
        if cap.rights.contains(needs) {
            Ok(cap)
        } else {
            Err(SysError::MissingRight)
        }
    }

    /// Puts `cap` into the first empty slot.
    pub fn insert(&mut self, cap: Capability) -> Result<CapSlot, SysError> {
        let i = self
            .slots
            .iter()
            .position(Option::is_none)
            .ok_or(SysError::NoCapability)?;
        self.slots[i] = Some(cap);
        Ok(CapSlot(i as u32))
    }

    /// Puts `cap` into `slot`, which must be empty.
    pub fn insert_at(&mut self, slot: CapSlot, cap: Capability) -> Result<(), SysError> {
        let entry = self.slots.get_mut(slot.0 as usize).ok_or(SysError::NoCapability)?;
        if entry.is_some() {
            return Err(SysError::AlreadyExists);
        }
        *entry = Some(cap);
        Ok(())
    }

    /// Empties `slot`, returning what it held.
    pub fn remove(&mut self, slot: CapSlot) -> Result<Capability, SysError> {
        self.slots
            .get_mut(slot.0 as usize)
            .and_then(Option::take)
            .ok_or(SysError::NoCapability)
    }

    /// Every capability held, emptying the table (the process is gone).
    pub fn drain(&mut self) -> impl Iterator<Item = Capability> + '_ {
        self.slots.iter_mut().filter_map(Option::take)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(endpoint: u32, rights: Rights) -> Capability {
        Capability { endpoint, rights }
    }

    #[test]
    fn rights_are_checked() {
        let mut t = CapTable::default();
        let s = t.insert(cap(7, Rights::SEND)).unwrap();
        assert_eq!(s, CapSlot(0));
        assert_eq!(t.lookup(s, Rights::SEND), Ok(cap(7, Rights::SEND)));
        assert_eq!(t.lookup(s, Rights::RECV), Err(SysError::MissingRight));
        assert_eq!(
            t.lookup(s, Rights::SEND.union(Rights::GRANT)),
            Err(SysError::MissingRight)
        );
        assert_eq!(t.lookup(CapSlot(1), Rights::NONE), Err(SysError::NoCapability));
        assert_eq!(t.lookup(CapSlot(u32::MAX), Rights::NONE), Err(SysError::NoCapability));
    }

    #[test]
    fn slots_fill_remove_and_refuse() {
        let mut t = CapTable::default();
        for i in 0..CAP_SLOTS {
            assert_eq!(t.insert(cap(i, Rights::ALL)), Ok(CapSlot(i)));
        }
        assert_eq!(t.insert(cap(99, Rights::ALL)), Err(SysError::NoCapability));
        assert_eq!(t.remove(CapSlot(5)), Ok(cap(5, Rights::ALL)));
        assert_eq!(t.remove(CapSlot(5)), Err(SysError::NoCapability));
        assert_eq!(t.remove(CapSlot(CAP_SLOTS)), Err(SysError::NoCapability));
        assert_eq!(
            t.insert_at(CapSlot(6), cap(1, Rights::SEND)),
            Err(SysError::AlreadyExists)
        );
        assert_eq!(t.insert_at(CapSlot(5), cap(1, Rights::SEND)), Ok(()));
        assert_eq!(
            t.insert_at(CapSlot(CAP_SLOTS), cap(1, Rights::SEND)),
            Err(SysError::NoCapability)
        );
        assert_eq!(t.drain().count(), CAP_SLOTS as usize);
        assert_eq!(t.drain().count(), 0);
    }
}

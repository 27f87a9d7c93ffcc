//! seq_file's position, kept between reads: a few cursors remembering
//! where each recent reader's previous read of a file ended.
//!
//! A program reading maps sequentially asks for offset 0, then for the
//! offset where the first read ended, and so on. Without a cursor each read
//! would walk the file from its start to its offset: O(n) per read, O(n^2)
//! for the file. With one, a read at the offset where the previous read by
//! the same reader of the same file ended resumes from the remembered
//! [`Resume`] state: one lookup, then only the bytes returned. A read at
//! any other offset walks from the start, with the same bounded memory, and
//! gives the same bytes.
//!
//! Cursors are keyed by the reader's kernel-stamped identity (process and
//! thread), the target and the file, and consulted only after the access
//! check, so a cursor never lets anyone read more than a fresh read would
//! show them. A read at offset 0 starts afresh, like a new `open`: that is
//! when a reader sees changes made to the space before it (a resumed read
//! sees VMAs by address as they are when it runs, as in Linux).

use libipc::{
    procfs::ProcFile,
    types::{Pid, Sender},
};

use crate::{format::rollup::Totals, stream::Position};

/// How many cursors are kept: enough for a few concurrent readers; the
/// least recently used one is replaced.
pub const CURSORS: usize = 8;

/// Whose read of what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CursorKey {
    pub reader: Sender,
    pub target: Pid,
    pub file: ProcFile,
}

/// What a continuing read resumes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// maps and smaps: the next record and the bytes of it already sent.
    Records(Position),
    /// smaps_rollup: the numbers the text is printed from (the reader keeps
    /// one consistent snapshot, as Linux's `single_open` buffer does).
    Rollup(Totals),
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: CursorKey,
    /// The file offset where the previous read ended.
    offset: u64,
    resume: Resume,
    /// When it was last used, for replacement.
    used: u64,
}

/// The cursors: a fixed-size table, no allocation.
#[derive(Debug, Default)]
pub struct Cursors {
    entries: [Option<Entry>; CURSORS],
    clock: u64,
}

impl Cursors {
    pub const fn new() -> Cursors {
        Cursors {
            entries: [None; CURSORS],
            clock: 0,
        }
    }

    /// The state to resume from for a read by `key` at `offset`, if the
    /// previous read by `key` ended exactly there (never for offset 0).
    pub fn find(&mut self, key: CursorKey, offset: u64) -> Option<Resume> {
        if offset == 0 {
            return None;
        }
        self.clock += 1;
        let clock = self.clock;
        let entry = self
            .entries
            .iter_mut()
            .flatten()
            .find(|e| e.key == key && e.offset == offset)?;
        entry.used = clock;
        Some(entry.resume)
    }

    /// Remembers that the read by `key` ended at `offset` in state
    /// `resume`, replacing `key`'s cursor, else a free one, else the least
    /// recently used.
    pub fn remember(&mut self, key: CursorKey, offset: u64, resume: Resume) {
        self.clock += 1;
        let entry = Entry {
            key,
            offset,
            resume,
            used: self.clock,
        };
        let slot = match self.entries.iter().position(|e| e.is_some_and(|e| e.key == key)) {
            Some(i) => i,
            None => self
                .entries
                .iter()
                .position(Option::is_none)
                .unwrap_or_else(|| self.least_recently_used()),
        };
        self.entries[slot] = Some(entry);
    }

    /// Drops `key`'s cursor (its last read failed).
    pub fn forget(&mut self, key: CursorKey) {
        for slot in &mut self.entries {
            if slot.is_some_and(|e| e.key == key) {
                *slot = None;
            }
        }
    }

    fn least_recently_used(&self) -> usize {
        (0..CURSORS)
            .min_by_key(|&i| self.entries[i].map_or(0, |e| e.used))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use libipc::types::Tid;

    use super::*;

    fn key(reader: u32, file: ProcFile) -> CursorKey {
        CursorKey {
            reader: Sender {
                pid: Pid(reader),
                tid: Tid(reader * 10),
            },
            target: Pid(1),
            file,
        }
    }

    fn at(addr: u64) -> Resume {
        Resume::Records(Position { addr, skip: 3 })
    }

    #[test]
    fn a_read_resumes_only_where_the_same_readers_last_read_ended() {
        let mut cursors = Cursors::new();
        cursors.remember(key(1, ProcFile::Maps), 100, at(0x1000));
        assert_eq!(cursors.find(key(1, ProcFile::Maps), 100), Some(at(0x1000)));
        assert_eq!(cursors.find(key(1, ProcFile::Maps), 99), None);
        assert_eq!(cursors.find(key(2, ProcFile::Maps), 100), None);
        assert_eq!(cursors.find(key(1, ProcFile::Smaps), 100), None);
        // The next read of the same reader replaces it.
        cursors.remember(key(1, ProcFile::Maps), 200, at(0x2000));
        assert_eq!(cursors.find(key(1, ProcFile::Maps), 100), None);
        assert_eq!(cursors.find(key(1, ProcFile::Maps), 200), Some(at(0x2000)));
        cursors.forget(key(1, ProcFile::Maps));
        assert_eq!(cursors.find(key(1, ProcFile::Maps), 200), None);
    }

    #[test]
    fn offset_zero_is_always_a_fresh_start() {
        let mut cursors = Cursors::new();
        cursors.remember(key(1, ProcFile::Maps), 0, at(0x1000));
        assert_eq!(cursors.find(key(1, ProcFile::Maps), 0), None);
    }

    #[test]
    fn the_least_recently_used_cursor_goes_first() {
        let mut cursors = Cursors::new();
        for reader in 0..CURSORS as u32 {
            cursors.remember(key(reader, ProcFile::Maps), 10, at(u64::from(reader)));
        }
        // Reader 0 reads on; reader 1 is now the oldest.
        assert!(cursors.find(key(0, ProcFile::Maps), 10).is_some());
        cursors.remember(key(99, ProcFile::Maps), 10, at(99));
        assert_eq!(cursors.find(key(1, ProcFile::Maps), 10), None);
        for reader in (0..CURSORS as u32).filter(|&r| r != 1).chain([99]) {
            assert!(cursors.find(key(reader, ProcFile::Maps), 10).is_some(), "{reader}");
        }
    }
}

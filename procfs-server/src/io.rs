//! Where a request's bytes go and where they come from: the caller's own
//! buffer (inline messages, host tests), or memory it lent for the call (a
//! kernel lease) through one bounded staging chunk, so a transfer of any
//! length never needs a buffer of that length.

use alloc::{boxed::Box, vec};

use libipc::procfs::Error;

/// Bytes staged between lease copies: one kernel copy per chunk, not per
/// line, and a fixed amount of memory whatever the transfer's length. Two
/// pages: a mem read's window is lent to the pager whole, so a 64 KiB read
/// is 8 pager calls (it fits [`crate::MAX_REQUEST_HEAP`] with a VMA batch
/// and a record).
pub const LEASE_CHUNK: usize = 8192;

/// Memory a caller lent for one call.
pub trait Lease {
    /// Writes `data` at `offset` in the lease; an error if it does not fit
    /// or the lease is read-only.
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Error>;
    /// Fills `buf` from `offset` in the lease; an error if the lease is
    /// shorter.
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error>;
}

/// A lease backed by memory of this process: how host tests (and any host
/// client) lend a buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryLease {
    pub bytes: alloc::vec::Vec<u8>,
    pub writable: bool,
}

impl MemoryLease {
    /// A writable lease of `len` zero bytes.
    pub fn zeroed(len: usize) -> MemoryLease {
        MemoryLease {
            bytes: alloc::vec![0; len],
            writable: true,
        }
    }
}

impl Lease for MemoryLease {
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Error> {
        let at = usize::try_from(offset).map_err(|_| Error::InvalidArgument)?;
        match self.bytes.get_mut(at..at.saturating_add(data.len())) {
            Some(slot) if self.writable => {
                slot.copy_from_slice(data);
                Ok(())
            }
            _ => Err(Error::InvalidArgument),
        }
    }

    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        let at = usize::try_from(offset).map_err(|_| Error::InvalidArgument)?;
        let src = self
            .bytes
            .get(at..at.saturating_add(buf.len()))
            .ok_or(Error::InvalidArgument)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// The destination of a read: at most `limit` bytes, in order.
pub struct Output<'a> {
    dest: Dest<'a>,
    limit: usize,
    /// Bytes produced so far (staged ones included).
    done: usize,
}

enum Dest<'a> {
    Buffer(&'a mut [u8]),
    Lease {
        lease: &'a mut dyn Lease,
        chunk: &'a mut [u8],
        /// Bytes in `chunk` not yet copied into the lease.
        staged: usize,
    },
}

impl<'a> Output<'a> {
    /// Straight into `buf`, up to its length.
    pub fn buffer(buf: &'a mut [u8]) -> Output<'a> {
        Output {
            limit: buf.len(),
            dest: Dest::Buffer(buf),
            done: 0,
        }
    }

    /// Into `lease` from its start, up to `len` bytes, a chunk at a time,
    /// staged in `chunk` (the server's, reused: up to [`LEASE_CHUNK`] of it
    /// is used; one too small for a byte fails a read that has bytes to
    /// copy, as a lease that is too small does).
    pub fn lease(lease: &'a mut dyn Lease, len: usize, chunk: &'a mut [u8]) -> Output<'a> {
        let staging = LEASE_CHUNK.min(len).min(chunk.len());
        Output {
            dest: Dest::Lease {
                lease,
                chunk: &mut chunk[..staging],
                staged: 0,
            },
            limit: len,
            done: 0,
        }
    }

    /// How many more bytes fit.
    pub fn room(&self) -> usize {
        self.limit - self.done
    }

    /// Bytes produced so far.
    pub fn written(&self) -> usize {
        self.done
    }

    /// Room for up to `max` more bytes at the current position, to fill and
    /// then [`Output::commit`]: part of the caller's buffer, or the staging
    /// chunk (copied into the lease first when full). Empty only when
    /// `max` or the room is 0.
    pub fn window(&mut self, max: usize) -> Result<&mut [u8], Error> {
        let want = max.min(self.room());
        let done = self.done;
        match &mut self.dest {
            Dest::Buffer(buf) => Ok(&mut buf[done..done + want]),
            Dest::Lease { lease, chunk, staged } => {
                if chunk.is_empty() && want > 0 {
                    // No staging room: nothing could ever be copied.
                    return Err(Error::InvalidArgument);
                }
                if *staged == chunk.len() {
                    flush(&mut **lease, chunk, staged, done)?;
                }
                let n = want.min(chunk.len() - *staged);
                Ok(&mut chunk[*staged..*staged + n])
            }
        }
    }

    /// Counts the first `n` bytes of the last [`Output::window`] as written.
    pub fn commit(&mut self, n: usize) {
        self.done += n;
        if let Dest::Lease { staged, .. } = &mut self.dest {
            *staged += n;
        }
    }

    /// Appends as much of `bytes` as fits; returns how much did.
    pub fn put(&mut self, mut bytes: &[u8]) -> Result<usize, Error> {
        let mut copied = 0;
        while !bytes.is_empty() {
            let window = self.window(bytes.len())?;
            let n = window.len();
            if n == 0 {
                break;
            }
            window.copy_from_slice(&bytes[..n]);
            self.commit(n);
            copied += n;
            bytes = &bytes[n..];
        }
        Ok(copied)
    }

    /// Copies what is staged into the lease; returns the bytes produced.
    pub fn finish(mut self) -> Result<usize, Error> {
        let done = self.done;
        if let Dest::Lease { lease, chunk, staged } = &mut self.dest {
            flush(&mut **lease, chunk, staged, done)?;
        }
        Ok(done)
    }
}

/// Copies the staged bytes (which end at `done`) into the lease.
fn flush(lease: &mut dyn Lease, chunk: &[u8], staged: &mut usize, done: usize) -> Result<(), Error> {
    if *staged > 0 {
        lease.write((done - *staged) as u64, &chunk[..*staged])?;
        *staged = 0;
    }
    Ok(())
}

/// The source of a write: `len` bytes, in order.
pub struct Input<'a> {
    src: Src<'a>,
    len: usize,
    done: usize,
}

enum Src<'a> {
    Buffer(&'a [u8]),
    Lease { lease: &'a mut dyn Lease, chunk: Box<[u8]> },
}

impl<'a> Input<'a> {
    /// The bytes of `data`.
    pub fn buffer(data: &'a [u8]) -> Input<'a> {
        Input {
            len: data.len(),
            src: Src::Buffer(data),
            done: 0,
        }
    }

    /// The first `len` bytes of `lease`, a chunk at a time.
    pub fn lease(lease: &'a mut dyn Lease, len: usize) -> Input<'a> {
        Input {
            src: Src::Lease {
                lease,
                chunk: vec![0u8; LEASE_CHUNK.min(len)].into_boxed_slice(),
            },
            len,
            done: 0,
        }
    }

    /// Bytes not consumed yet.
    pub fn remaining(&self) -> usize {
        self.len - self.done
    }

    /// Bytes consumed so far.
    pub fn consumed(&self) -> usize {
        self.done
    }

    /// Up to `max` of the next bytes (read from the lease into the chunk),
    /// to use and then [`Input::consume`]. Empty only when `max` or the
    /// remainder is 0.
    pub fn window(&mut self, max: usize) -> Result<&[u8], Error> {
        let want = max.min(self.remaining());
        let done = self.done;
        match &mut self.src {
            Src::Buffer(data) => Ok(&data[done..done + want]),
            Src::Lease { lease, chunk } => {
                let n = want.min(chunk.len());
                lease.read(done as u64, &mut chunk[..n])?;
                Ok(&chunk[..n])
            }
        }
    }

    /// Counts the first `n` bytes of the last [`Input::window`] as used.
    pub fn consume(&mut self, n: usize) {
        self.done += n;
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;

    /// A lease of `Vec` memory that counts its copies.
    struct Counting {
        bytes: Vec<u8>,
        copies: usize,
    }

    impl Lease for Counting {
        fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Error> {
            self.copies += 1;
            let at = offset as usize;
            let slot = self.bytes.get_mut(at..at + data.len()).ok_or(Error::InvalidArgument)?;
            slot.copy_from_slice(data);
            Ok(())
        }

        fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
            self.copies += 1;
            let at = offset as usize;
            buf.copy_from_slice(self.bytes.get(at..at + buf.len()).ok_or(Error::InvalidArgument)?);
            Ok(())
        }
    }

    #[test]
    fn output_to_a_lease_is_copied_a_chunk_at_a_time() {
        let mut lease = Counting {
            bytes: vec![0; 3 * LEASE_CHUNK],
            copies: 0,
        };
        let data: Vec<u8> = (0..3 * LEASE_CHUNK).map(|i| i as u8).collect();
        let mut chunk = [0u8; LEASE_CHUNK + 1];
        let mut out = Output::lease(&mut lease, 2 * LEASE_CHUNK + 10, &mut chunk);
        for line in data.chunks(77) {
            out.put(line).unwrap();
        }
        assert_eq!(out.room(), 0);
        assert_eq!(out.finish(), Ok(2 * LEASE_CHUNK + 10));
        assert_eq!(lease.copies, 3);
        assert_eq!(&lease.bytes[..2 * LEASE_CHUNK + 10], &data[..2 * LEASE_CHUNK + 10]);
        assert!(lease.bytes[2 * LEASE_CHUNK + 10..].iter().all(|&b| b == 0));
    }

    #[test]
    fn output_to_a_buffer_stops_at_its_end() {
        let mut buf = [0u8; 10];
        let mut out = Output::buffer(&mut buf);
        assert_eq!(out.put(b"hello"), Ok(5));
        assert_eq!(out.put(b"world, and more"), Ok(5));
        assert_eq!(out.put(b"!"), Ok(0));
        assert!(out.window(4).unwrap().is_empty());
        assert_eq!(out.written(), 10);
        assert_eq!(out.finish(), Ok(10));
        assert_eq!(&buf, b"helloworld");
    }

    #[test]
    fn a_lease_too_small_fails_when_copied() {
        let mut lease = Counting {
            bytes: vec![0; 4],
            copies: 0,
        };
        let mut chunk = [0u8; LEASE_CHUNK];
        let mut out = Output::lease(&mut lease, 100, &mut chunk);
        assert_eq!(out.put(b"more than four"), Ok(14));
        assert_eq!(out.finish(), Err(Error::InvalidArgument));
        let mut empty = Output::lease(&mut lease, 0, &mut chunk);
        assert_eq!(empty.put(b"x"), Ok(0));
        assert_eq!(empty.finish(), Ok(0));
        // No staging room at all fails the read rather than returning less.
        let mut none = Output::lease(&mut lease, 4, &mut []);
        assert_eq!(none.put(b"x"), Err(Error::InvalidArgument));
    }

    #[test]
    fn input_from_a_lease_reads_what_is_asked() {
        let mut lease = Counting {
            bytes: (0..=255).collect(),
            copies: 0,
        };
        let mut input = Input::lease(&mut lease, 200);
        assert_eq!(input.window(3).unwrap(), [0, 1, 2]);
        input.consume(2);
        assert_eq!(input.window(1000).unwrap().len(), 198);
        input.consume(198);
        assert_eq!(input.remaining(), 0);
        assert!(input.window(5).unwrap().is_empty());
        let mut short = Input::lease(&mut lease, 300);
        short.consume(200);
        assert_eq!(short.window(100).map(<[u8]>::len), Err(Error::InvalidArgument));
        let mut buffered = Input::buffer(b"abc");
        assert_eq!(buffered.window(2).unwrap(), b"ab");
        buffered.consume(2);
        assert_eq!((buffered.consumed(), buffered.window(9).unwrap()), (2, &b"c"[..]));
    }
}

//! The pager protocol's memory requests, served against one address space:
//! the same code for the server on the kernel and the host mode. What the
//! request changed in the page tables comes back as [`Effects`] for the
//! shell to carry out (kernel unmaps and re-maps, frames to free).

use libipc::{
    pager::{Errno, MapKind, Reply, Request},
    types::{PageCount, VirtAddr},
};

pub use crate::effects::Effects;
use crate::{
    frames::FramePool,
    space::{AddressSpace, MmapArgs},
};

/// Serves `request` for `space`. Requests that are not about memory
/// (`Source`) are `NotSupported` here: the shell answers them.
pub fn serve(space: &mut AddressSpace, pool: &FramePool, request: &Request) -> Result<(Reply, Effects), Errno> {
    let mut effects = Effects::default();
    let reply = match *request {
        Request::Mmap { addr, len, prot, flags } => {
            // The protocol's mmap is anonymous; file mappings are laid out
            // by exec (and by the host mode's own request).
            if !flags.contains(MapKind::ANONYMOUS) {
                return Err(Errno::Invalid);
            }
            let (a, dropped) = space.mmap(MmapArgs {
                addr: addr.0,
                len,
                prot,
                flags,
                file: None,
            })?;
            effects.dropped = dropped;
            Reply::Addr(a)
        }
        Request::Munmap { addr, len } => {
            effects.dropped = space.munmap(addr.0, len)?;
            Reply::Done
        }
        Request::Mprotect { addr, len, prot } => {
            effects.reprotected = space.mprotect(addr.0, len, prot)?;
            Reply::Done
        }
        Request::Brk { addr } => {
            let (now, dropped) = space.brk(addr.0);
            effects.dropped = dropped;
            Reply::Addr(VirtAddr(now))
        }
        Request::Resident { addr, len } => Reply::Pages(PageCount(space.resident(addr.0, len))),
        Request::PoolStats => Reply::Pool {
            free: pool.free_count(),
            total: pool.total(),
        },
        Request::Null => Reply::Done,
        Request::ClockPage => match space.vmas().iter().find(|v| v.name == crate::vma::VmaName::Vvar) {
            Some(v) => Reply::Addr(VirtAddr(v.start)),
            None => return Err(Errno::NoEntry),
        },
        // The server's, not the policy library's: who is alive and which
        // services run are the launcher's facts.
        Request::Source(_) | Request::Linux(_) | Request::Service { .. } => return Err(Errno::NotSupported),
    };
    Ok((reply, effects))
}

#[cfg(test)]
mod tests {
    use libipc::{
        procfs::SourceRequest,
        types::{PhysAddr, Pid, Prot},
    };

    use super::*;
    use crate::{resident::Frame, rlimit::Rlimits, settings::Settings};

    fn space() -> AddressSpace {
        AddressSpace::new(&Settings::default(), Rlimits::default(), 0x7f00_0000_0000)
    }

    fn anon() -> MapKind {
        MapKind::PRIVATE.union(MapKind::ANONYMOUS)
    }

    #[test]
    fn munmap_reports_the_resident_pages_to_drop() {
        let (mut s, pool) = (space(), FramePool::new(PhysAddr(0x10_0000), 4));
        let mmap = Request::Mmap {
            addr: VirtAddr(0),
            len: 0x2000,
            prot: Prot::RW,
            flags: anon(),
        };
        let (Reply::Addr(a), effects) = serve(&mut s, &pool, &mmap).unwrap() else {
            panic!("not an address")
        };
        assert_eq!(effects, Effects::default());
        s.commit(a, Frame::Dirty(PhysAddr(0x10_0000))).unwrap();
        let (reply, effects) = serve(&mut s, &pool, &Request::Munmap { addr: a, len: 0x2000 }).unwrap();
        assert_eq!(reply, Reply::Done);
        assert_eq!(effects.dropped, [(a, Frame::Dirty(PhysAddr(0x10_0000)))]);
    }

    #[test]
    fn mprotect_reports_the_resident_pages_to_remap() {
        let (mut s, pool) = (space(), FramePool::new(PhysAddr(0x10_0000), 4));
        let mmap = Request::Mmap {
            addr: VirtAddr(0),
            len: 0x1000,
            prot: Prot::RW,
            flags: anon(),
        };
        let (Reply::Addr(a), _) = serve(&mut s, &pool, &mmap).unwrap() else {
            panic!("not an address")
        };
        s.commit(a, Frame::Dirty(PhysAddr(0x10_1000))).unwrap();
        let (_, effects) = serve(
            &mut s,
            &pool,
            &Request::Mprotect {
                addr: a,
                len: 0x1000,
                prot: Prot::READ,
            },
        )
        .unwrap();
        assert_eq!(
            effects.reprotected,
            [(a, Frame::Dirty(PhysAddr(0x10_1000)), Prot::READ)]
        );
    }

    #[test]
    fn requests_that_are_not_about_memory_are_refused_here() {
        let (mut s, pool) = (space(), FramePool::new(PhysAddr(0), 1));
        let file = Request::Mmap {
            addr: VirtAddr(0),
            len: 0x1000,
            prot: Prot::RW,
            flags: MapKind::PRIVATE,
        };
        assert_eq!(serve(&mut s, &pool, &file), Err(Errno::Invalid));
        let source = Request::Source(Box::new(SourceRequest::Layout { pid: Pid(1) }));
        assert_eq!(serve(&mut s, &pool, &source), Err(Errno::NotSupported));
        assert_eq!(
            serve(&mut s, &pool, &Request::Null),
            Ok((Reply::Done, Effects::default()))
        );
        let stats = serve(&mut s, &pool, &Request::PoolStats).unwrap().0;
        assert_eq!(
            stats,
            Reply::Pool {
                free: PageCount(1),
                total: PageCount(1)
            }
        );
    }
}

//! The host mode's protocol and per-process session (feature `host`).
//!
//! The host pager (`pager-host`) is the pager as an ordinary process: it
//! listens on a Unix socket and treats each connection as one process whose
//! identity it assigns itself (never taken from a message, as on the kernel).
//! Messages are [`HostRequest`] in, [`HostReply`] out, postcard-encoded in
//! `libipc::host` frames. A [`HostRequest::Pager`] carries the very
//! `libipc::pager::Request` programs send on the kernel; the other variants
//! stand in for what the kernel does there (reporting a fault) or for calls
//! the kernel protocol does not carry yet (file mmap, sbrk, rlimits, maps).
//!
//! A new process starts with the layout of [`demo_image`], so traces see a
//! realistic address space: program segments, heap, stack, `[vdso]`, `[vvar]`.

use alloc::{string::String, vec, vec::Vec};

use libipc::{
    kernel::KillReason,
    pager::{Errno, MapKind, Reply, Request, Response},
    types::{Access, PAGE_SIZE, PhysAddr, Pid, Prot, VirtAddr},
};
use serde::{Deserialize, Serialize};

use crate::{
    frames::FramePool,
    layout::{self, ProgramImage, Segment},
    maps,
    policy::Policy,
    resident::Frame,
    resolve::{self, FaultBackend, Resolved},
    rlimit::{Limit, Resource, Rlimits},
    rng::Rng,
    settings::Settings,
    space::{AddressSpace, FaultDecision, Fill, MmapArgs, PageToMap},
    vma::FileId,
};

/// Bytes of maps text per reply: well inside `libipc::MAX_MESSAGE`.
pub const MAPS_CHUNK: usize = 384;

#[allow(
    clippy::large_enum_variant,
    reason = "inline messages: values live briefly on the stack before encoding"
)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostRequest {
    /// A request as programs send it on the kernel.
    Pager(Request),
    /// What the kernel reports on a page fault.
    Fault {
        addr: VirtAddr,
        access: Access,
    },
    /// A private or shared mapping of a file object.
    MmapFile {
        addr: VirtAddr,
        len: u64,
        prot: Prot,
        flags: MapKind,
        file: FileId,
        offset: u64,
    },
    /// sbrk(delta): the old break.
    Sbrk {
        delta: i64,
    },
    Getrlimit(Resource),
    Setrlimit(Resource, Limit),
    /// `/proc/<pid>/maps` from byte `offset`.
    Maps {
        offset: u64,
    },
}

#[allow(
    clippy::large_enum_variant,
    reason = "inline messages: values live briefly on the stack before encoding"
)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostReply {
    Pager(Response),
    Fault(HostFault),
    Limit(Limit),
    Maps { text: String, more: bool },
}

/// The fault decision as carried out: frames chosen and recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostFault {
    Map(Vec<MappedPage>),
    Kill(KillReason),
}

/// One page the host pager mapped for a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappedPage {
    pub virt: VirtAddr,
    pub prot: Prot,
    pub fill: PageFill,
    pub frame: Frame,
}

/// [`Fill`] without the file object (the VMA names it), so that sixteen
/// pages always fit one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageFill {
    Zero,
    /// The shared zero frame, read-only.
    ZeroPage,
    /// A zeroed frame replacing the zero frame (the first write).
    ZeroPageCopy,
    /// `len` bytes copied from the file at `offset`, then zeros.
    File {
        offset: u64,
        len: u16,
    },
    /// The page kept its frame.
    Resident,
    /// A zeroed 2 MiB frame for the 2 MiB page at the address.
    ZeroHuge,
}

impl From<Fill> for PageFill {
    fn from(fill: Fill) -> PageFill {
        match fill {
            Fill::Zero => PageFill::Zero,
            Fill::ZeroPage => PageFill::ZeroPage,
            Fill::ZeroPageCopy => PageFill::ZeroPageCopy,
            // `len` is at most a page.
            Fill::File { offset, len, .. } => PageFill::File {
                offset,
                len: len.min(PAGE_SIZE) as u16,
            },
            Fill::Resident(_) => PageFill::Resident,
            Fill::ZeroHuge => PageFill::ZeroHuge,
        }
    }
}

/// The file object of the demo program's image.
pub const DEMO_FILE: FileId = FileId(1);

/// The program every host-mode process starts as: a position-independent
/// executable with two pages of text, a page of data and three of bss.
pub fn demo_image() -> ProgramImage {
    let page = PAGE_SIZE;
    ProgramImage {
        pie: true,
        entry: 0x1000,
        segments: vec![
            Segment {
                vaddr: 0,
                mem_size: page,
                file_size: page,
                file_offset: 0,
                prot: Prot::READ,
            },
            Segment {
                vaddr: page,
                mem_size: 2 * page,
                file_size: 2 * page,
                file_offset: page,
                prot: Prot::RX,
            },
            Segment {
                vaddr: 3 * page,
                mem_size: 4 * page,
                file_size: page,
                file_offset: 3 * page,
                prot: Prot::RW,
            },
        ],
        file: DEMO_FILE,
        path: "/bin/host-demo".into(),
    }
}

/// One process of the host pager.
#[derive(Debug)]
pub struct Session {
    pub pid: Pid,
    pub space: AddressSpace,
}

impl Session {
    /// A new process laid out as [`demo_image`].
    pub fn start(pid: Pid, settings: &Settings, rng: &mut Rng) -> Result<Session, Errno> {
        let loaded = layout::load(&demo_image(), settings, Rlimits::default(), rng)?;
        Ok(Session {
            pid,
            space: loaded.space,
        })
    }

    /// Serves one request; frames come from and go back to `pool`.
    pub fn handle(&mut self, request: &HostRequest, policy: &mut dyn Policy, pool: &mut FramePool) -> HostReply {
        match *request {
            HostRequest::Pager(ref r) => HostReply::Pager(self.pager(r, pool)),
            HostRequest::Fault { addr, access } => HostReply::Fault(self.fault(addr, access, policy, pool)),
            HostRequest::MmapFile {
                addr,
                len,
                prot,
                flags,
                file,
                offset,
            } => {
                let args = MmapArgs {
                    addr: addr.0,
                    len,
                    prot,
                    flags,
                    file: Some(crate::space::FileSlice::unsized_(file, offset)),
                };
                HostReply::Pager(self.space.mmap(args).map(|(a, dropped)| {
                    pool.release(dropped);
                    Reply::Addr(a)
                }))
            }
            HostRequest::Sbrk { delta } => HostReply::Pager(self.space.sbrk(delta).map(|(old, dropped)| {
                pool.release(dropped);
                Reply::Addr(VirtAddr(old))
            })),
            HostRequest::Getrlimit(r) => HostReply::Limit(self.space.getrlimit(r)),
            HostRequest::Setrlimit(r, limit) => {
                // A host-mode process has no privilege.
                HostReply::Pager(self.space.setrlimit(r, limit, false).map(|()| Reply::Done))
            }
            HostRequest::Maps { offset } => {
                let text = maps::render(&self.space);
                let start = usize::try_from(offset).unwrap_or(usize::MAX).min(text.len());
                let mut end = (start + MAPS_CHUNK).min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                HostReply::Maps {
                    text: text[start..end].into(),
                    more: end < text.len(),
                }
            }
        }
    }

    fn pager(&mut self, request: &Request, pool: &mut FramePool) -> Response {
        // Resident frames stay on mprotect; on the kernel the server re-maps
        // them with the new flags (or unmaps them for PROT_NONE).
        let (reply, effects) = crate::request::serve(&mut self.space, pool, request)?;
        pool.release(effects.dropped);
        Ok(reply)
    }

    /// Decides a fault, then carries it out as the server does on the
    /// kernel ([`resolve::carry_out`]): a frame for each page (the
    /// resident one when it has one), recorded with `commit`.
    fn fault(&mut self, addr: VirtAddr, access: Access, policy: &mut dyn Policy, pool: &mut FramePool) -> HostFault {
        let pages = match self.space.fault(policy, addr.0, access) {
            FaultDecision::Map(pages) => pages,
            FaultDecision::Kill(reason) => return HostFault::Kill(reason),
        };
        let mut backend = HostBackend {
            pool,
            mapped: Vec::with_capacity(pages.len()),
        };
        match resolve::carry_out(&mut self.space, addr, &pages, &mut backend) {
            Resolved::Mapped(_) => HostFault::Map(backend.mapped),
            Resolved::OutOfMemory => HostFault::Kill(KillReason::OutOfMemory),
        }
    }

    /// Returns every frame of the process (it has gone).
    pub fn end(self, pool: &mut FramePool) {
        for frame in self.space.frames() {
            let _ = pool.free(frame);
        }
    }
}

/// The host's side of [`resolve::carry_out`]: frames from the shared
/// pool, the mapped pages listed for the reply.
struct HostBackend<'a> {
    pool: &'a mut FramePool,
    mapped: Vec<MappedPage>,
}

impl FaultBackend for HostBackend<'_> {
    fn pool(&mut self) -> &mut FramePool {
        self.pool
    }

    /// The host has no zero frame: its pages say [`Frame::Zero`] instead.
    fn zero_frame(&self) -> PhysAddr {
        PhysAddr(0)
    }

    /// The host keeps no page contents.
    fn fill(&mut self, _: PhysAddr, _: Fill) {}

    fn map(&mut self, page: &PageToMap, frame: PhysAddr) {
        self.mapped.push(MappedPage {
            virt: page.virt,
            prot: page.prot,
            fill: page.fill.into(),
            frame: page.frame(frame),
        });
    }

    fn unmap(&mut self, page: VirtAddr) {
        self.mapped.retain(|m| m.virt != page);
    }
}

#[cfg(test)]
mod tests {
    use libipc::types::{PageCount, PhysAddr};

    use super::*;
    use crate::policy::{AlignedWindow, OnePage};

    fn session() -> (Session, FramePool) {
        let mut settings = Settings::default();
        settings.set("kernel.randomize_va_space", "0").unwrap();
        let s = Session::start(Pid(1), &settings, &mut Rng::from_words([0; 4])).unwrap();
        (s, FramePool::single(PhysAddr(0x1_0000_0000), 64).unwrap())
    }

    #[test]
    fn faults_take_frames_and_munmap_gives_them_back() {
        let (mut s, mut pool) = session();
        let mmap = HostRequest::Pager(Request::Mmap {
            addr: VirtAddr(0),
            len: 8 * PAGE_SIZE,
            prot: Prot::RW,
            flags: MapKind::PRIVATE.union(MapKind::ANONYMOUS),
        });
        let HostReply::Pager(Ok(Reply::Addr(a))) = s.handle(&mmap, &mut OnePage, &mut pool) else {
            panic!()
        };
        let fault = HostRequest::Fault {
            addr: a,
            access: Access::Write,
        };
        let HostReply::Fault(HostFault::Map(pages)) = s.handle(&fault, &mut AlignedWindow, &mut pool) else {
            panic!()
        };
        assert_eq!(pages.len(), 8);
        assert_eq!(pool.free_count(), PageCount(56));
        let unmap = HostRequest::Pager(Request::Munmap {
            addr: a,
            len: 8 * PAGE_SIZE,
        });
        assert_eq!(
            s.handle(&unmap, &mut OnePage, &mut pool),
            HostReply::Pager(Ok(Reply::Done))
        );
        assert_eq!(pool.free_count(), PageCount(64));
    }

    /// As on the kernel: a short pool maps what it can, an empty one kills
    /// and keeps nothing.
    #[test]
    fn running_out_of_frames_maps_what_it_can_then_kills() {
        let (mut s, _) = session();
        let mut pool = FramePool::single(PhysAddr(0x1_0000_0000), 3).unwrap();
        let mmap = HostRequest::Pager(Request::Mmap {
            addr: VirtAddr(0),
            len: 8 * PAGE_SIZE,
            prot: Prot::RW,
            flags: MapKind::PRIVATE.union(MapKind::ANONYMOUS),
        });
        let HostReply::Pager(Ok(Reply::Addr(a))) = s.handle(&mmap, &mut OnePage, &mut pool) else {
            panic!()
        };
        let fault = HostRequest::Fault {
            addr: a,
            access: Access::Write,
        };
        let reply = s.handle(&fault, &mut AlignedWindow, &mut pool);
        assert!(
            matches!(&reply, HostReply::Fault(HostFault::Map(p)) if p.len() == 3),
            "{reply:?}"
        );
        assert_eq!(pool.free_count(), PageCount(0));
        let fault = HostRequest::Fault {
            addr: VirtAddr(a.0 + 5 * PAGE_SIZE),
            access: Access::Write,
        };
        let reply = s.handle(&fault, &mut AlignedWindow, &mut pool);
        assert_eq!(reply, HostReply::Fault(HostFault::Kill(KillReason::OutOfMemory)));
        assert_eq!(s.space.resident(a.0, 8 * PAGE_SIZE), 3);
    }

    #[test]
    fn maps_come_in_chunks_that_add_up() {
        let (mut s, mut pool) = session();
        let mut text = String::new();
        loop {
            let req = HostRequest::Maps {
                offset: text.len() as u64,
            };
            let HostReply::Maps { text: chunk, more } = s.handle(&req, &mut OnePage, &mut pool) else {
                panic!()
            };
            assert!(chunk.len() <= MAPS_CHUNK);
            text.push_str(&chunk);
            if !more {
                break;
            }
        }
        assert_eq!(text, maps::render(&s.space));
        assert!(text.contains("/bin/host-demo") && text.contains("[stack]") && text.contains("[vdso]"));
    }

    #[test]
    fn every_reply_fits_a_message() {
        let (mut s, mut pool) = session();
        let mut buf = [0u8; libipc::MAX_MESSAGE];
        // The largest fault reply: 16 file-backed pages.
        let mmap = HostRequest::MmapFile {
            addr: VirtAddr(0),
            len: 32 * PAGE_SIZE,
            prot: Prot::RX,
            flags: MapKind::PRIVATE,
            file: FileId(u64::MAX),
            offset: 0xffff_ffff_0000_0000,
        };
        let HostReply::Pager(Ok(Reply::Addr(a))) = s.handle(&mmap, &mut OnePage, &mut pool) else {
            panic!()
        };
        // A fault-around window lies wholly inside the mapping.
        let window = 16 * PAGE_SIZE;
        let inside = a.0.div_ceil(window) * window;
        let fault = HostRequest::Fault {
            addr: VirtAddr(inside),
            access: Access::Read,
        };
        let reply = s.handle(&fault, &mut AlignedWindow, &mut pool);
        assert!(matches!(&reply, HostReply::Fault(HostFault::Map(p)) if p.len() == 16));
        libipc::codec::encode(&reply, &mut buf).unwrap();
        let maps = s.handle(&HostRequest::Maps { offset: 0 }, &mut OnePage, &mut pool);
        libipc::codec::encode(&maps, &mut buf).unwrap();
    }
}

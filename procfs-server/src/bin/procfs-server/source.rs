//! The pager behind the `AddressSpaceSource` trait. Each question is one
//! call to the pager: a `Request::Source` through [`ask`] for the answers
//! that fit a message and [`ask_with_lease`] for pages and memory, which
//! move through a buffer lent to the pager for the call; a fixed-layout
//! `VmaQuestion` for the VMA batches, which come back through a lent buffer
//! too.

use alloc::{boxed::Box, vec, vec::Vec};

use libipc::{
    MAX_MESSAGE,
    abi::{LeaseDesc, caps},
    codec,
    pager::{Reply, Request, Response},
    procfs::{
        MAX_MEM_LEASE, PAGE_LEASE_BYTES, SourceError, SourceReply, SourceRequest, SourceResponse, SpaceLayout,
        VMA_LEASE_BYTES, VmaAnswer, VmaInfo, VmaQuestion, decode_page_batch, decode_vma_batch,
    },
    types::{Pid, VirtAddr},
};
use procfs_server::source::{AddressSpaceSource, BatchInfo, PageBatch};

/// The pager's answer inside its reply.
fn unwrap(response: Response) -> SourceResponse {
    match response {
        Ok(Reply::Source(answer)) => *answer,
        _ => Err(SourceError::Unavailable),
    }
}

/// The server's settings, from the pager (the boot line is its): how
/// maps and smaps list the vsyscall page.
pub fn config() -> procfs_server::server::Config {
    use procfs_server::format::VsyscallMode;
    let vsyscall = match ask(SourceRequest::Settings) {
        Ok(SourceReply::Settings { vsyscall }) => match vsyscall {
            libipc::vsyscall::Mode::Emulate => VsyscallMode::Emulate,
            libipc::vsyscall::Mode::XOnly => VsyscallMode::XOnly,
            libipc::vsyscall::Mode::None => VsyscallMode::None,
        },
        _ => VsyscallMode::None,
    };
    procfs_server::server::Config { vsyscall }
}

/// Asks the pager one question.
pub fn ask(request: SourceRequest) -> SourceResponse {
    unwrap(runtime::pager::request(Request::Source(Box::new(request))))
}

/// Asks the pager one question, lending it `lease` to write into.
fn ask_with_lease(request: SourceRequest, lease: &mut [u8], flags: u64) -> SourceResponse {
    lend(request, lease.as_mut_ptr() as u64, lease.len(), flags)
}

/// Asks the pager one question, lending it `lease` to read from.
fn ask_with_lease_read_only(request: SourceRequest, lease: &[u8]) -> SourceResponse {
    lend(request, lease.as_ptr() as u64, lease.len(), 0)
}

/// One call lending `[addr, addr + len)` with `flags`; the callers hold
/// the borrow of the buffer for the call.
fn lend(request: SourceRequest, addr: u64, len: usize, flags: u64) -> SourceResponse {
    let mut msg = [0u8; MAX_MESSAGE];
    let n = codec::encode(&Request::Source(Box::new(request)), &mut msg).map_err(|_| SourceError::Unavailable)?;
    let desc = LeaseDesc {
        addr,
        len: len as u64,
        flags,
    };
    let mut reply = [0u8; MAX_MESSAGE];
    let len = libipc::sys::call_with_lease(caps::PAGER, &msg[..n], &mut reply, &desc)
        .map_err(|_| SourceError::Unavailable)?;
    unwrap(codec::decode::<Response>(&reply[..len]).map_err(|_| SourceError::Unavailable)?)
}

/// The pager as a source; holds the buffers VMA and page batches arrive
/// in (lent to the pager for each call, kept from call to call).
pub struct PagerSource {
    lease: Vec<u8>,
    pages: Vec<u8>,
}

impl PagerSource {
    pub fn new() -> PagerSource {
        PagerSource {
            lease: vec![0u8; VMA_LEASE_BYTES],
            pages: vec![0u8; PAGE_LEASE_BYTES],
        }
    }
}

impl AddressSpaceSource for PagerSource {
    fn layout(&mut self, pid: Pid) -> Result<SpaceLayout, SourceError> {
        match ask(SourceRequest::Layout { pid })? {
            SourceReply::Layout { layout, .. } => Ok(layout),
            _ => Err(SourceError::Unavailable),
        }
    }

    fn vmas(&mut self, pid: Pid, from: VirtAddr, max: u32, out: &mut Vec<VmaInfo>) -> Result<BatchInfo, SourceError> {
        let question = VmaQuestion { pid, from, max }.encode();
        let desc = LeaseDesc {
            addr: self.lease.as_mut_ptr() as u64,
            len: self.lease.len() as u64,
            flags: LeaseDesc::WRITE,
        };
        let mut reply = [0u8; VmaAnswer::LEN];
        let len = libipc::sys::call_with_lease(caps::PAGER, &question, &mut reply, &desc)
            .map_err(|_| SourceError::Unavailable)?;
        let answer = VmaAnswer::decode(&reply[..len]).map_err(|_| SourceError::Unavailable)??;
        decode_vma_batch(&self.lease, answer.count, answer.bytes, out).map_err(|_| SourceError::Unavailable)?;
        Ok(BatchInfo {
            layout: answer.layout,
            last: answer.last,
        })
    }

    fn pages(&mut self, pid: Pid, start_vpn: u64, end_vpn: u64, out: &mut PageBatch) -> Result<u64, SourceError> {
        let request = SourceRequest::Pages {
            pid,
            start_vpn,
            end_vpn,
        };
        match ask_with_lease(request, &mut self.pages, LeaseDesc::WRITE)? {
            SourceReply::Pages { count, until_vpn } => {
                // The batch bounds `count`: a push cannot fail once decoded.
                decode_page_batch(&self.pages, count, |page| {
                    let _ = out.push(page);
                })
                .map_err(|_| SourceError::Unavailable)?;
                Ok(until_vpn)
            }
            _ => Err(SourceError::Unavailable),
        }
    }

    fn read_mem(&mut self, pid: Pid, addr: VirtAddr, buf: &mut [u8]) -> Result<usize, SourceError> {
        // The window is lent to the pager, which copies each page from its
        // frame straight into it: one call per window, however large.
        let mut done = 0;
        while done < buf.len() {
            let window = &mut buf[done..];
            let len = window.len().min(MAX_MEM_LEASE);
            let request = SourceRequest::ReadMem {
                pid,
                addr: VirtAddr(addr.0 + done as u64),
                len: len as u32,
            };
            let SourceReply::Moved(n) = ask_with_lease(request, &mut window[..len], LeaseDesc::WRITE)? else {
                return Err(SourceError::Unavailable);
            };
            // More than lent is not believed.
            let n = (n as usize).min(len);
            done += n;
            if n < len {
                break;
            }
        }
        Ok(done)
    }

    fn write_mem(&mut self, pid: Pid, addr: VirtAddr, data: &[u8]) -> Result<usize, SourceError> {
        let mut done = 0;
        for chunk in data.chunks(MAX_MEM_LEASE) {
            let request = SourceRequest::WriteMem {
                pid,
                addr: VirtAddr(addr.0 + done as u64),
                len: chunk.len() as u32,
            };
            let SourceReply::Moved(n) = ask_with_lease_read_only(request, chunk)? else {
                return Err(SourceError::Unavailable);
            };
            let n = (n as usize).min(chunk.len());
            done += n;
            if n < chunk.len() {
                break;
            }
        }
        Ok(done)
    }
}

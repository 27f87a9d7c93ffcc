//! The pager behind the `AddressSpaceSource` trait: each question is one
//! `Request::Source` call to the pager.

use alloc::vec::Vec;

use libipc::{
    pager::{Reply, Request},
    procfs::{MAX_INLINE_DATA, MAX_PAGES_PER_REPLY, PageInfo, SourceError, SourceReply, SourceRequest, SourceResponse},
    types::{Pid, VirtAddr},
};
use procfs_server::source::{AddressSpace, AddressSpaceSource};

/// Asks the pager one question.
pub fn ask(request: SourceRequest) -> SourceResponse {
    match runtime::pager::request(Request::Source(alloc::boxed::Box::new(request))) {
        Ok(Reply::Source(answer)) => *answer,
        _ => Err(SourceError::Unavailable),
    }
}

pub struct PagerSource;

impl AddressSpaceSource for PagerSource {
    fn address_space(&mut self, pid: Pid) -> Result<AddressSpace, SourceError> {
        let SourceReply::Layout { layout, vma_count } = ask(SourceRequest::Layout { pid })? else {
            return Err(SourceError::Unavailable);
        };
        let mut vmas = Vec::with_capacity(vma_count as usize);
        for index in 0..vma_count {
            match ask(SourceRequest::Vma { pid, index })? {
                SourceReply::Vma(v) => vmas.push(v),
                _ => return Err(SourceError::Unavailable),
            }
        }
        AddressSpace::new(layout, vmas)
    }

    fn pages(&mut self, pid: Pid, start_vpn: u64, end_vpn: u64) -> Result<Vec<PageInfo>, SourceError> {
        let mut pages = Vec::new();
        let mut from = start_vpn;
        while from < end_vpn {
            let SourceReply::Pages(batch) = ask(SourceRequest::Pages {
                pid,
                start_vpn: from,
                end_vpn,
            })?
            else {
                return Err(SourceError::Unavailable);
            };
            let full = batch.len() == MAX_PAGES_PER_REPLY;
            let next = batch.iter().map(|p| p.vpn + 1).max();
            pages.extend(batch);
            match next {
                Some(n) if full && n > from => from = n,
                _ => break,
            }
        }
        Ok(pages)
    }

    fn read_mem(&mut self, pid: Pid, addr: VirtAddr, buf: &mut [u8]) -> Result<usize, SourceError> {
        let mut done = 0;
        while done < buf.len() {
            let len = (buf.len() - done).min(MAX_INLINE_DATA) as u32;
            let SourceReply::Data(data) = ask(SourceRequest::ReadMem {
                pid,
                addr: VirtAddr(addr.0 + done as u64),
                len,
            })?
            else {
                return Err(SourceError::Unavailable);
            };
            if data.is_empty() {
                break;
            }
            buf[done..done + data.len()].copy_from_slice(&data);
            done += data.len();
        }
        Ok(done)
    }

    fn write_mem(&mut self, pid: Pid, addr: VirtAddr, data: &[u8]) -> Result<usize, SourceError> {
        let mut done = 0;
        for chunk in data.chunks(MAX_INLINE_DATA) {
            let data = heapless::Vec::from_slice(chunk).map_err(|_| SourceError::Unavailable)?;
            match ask(SourceRequest::WriteMem {
                pid,
                addr: VirtAddr(addr.0 + done as u64),
                data,
            })? {
                SourceReply::Written(n) => {
                    done += n as usize;
                    if (n as usize) < chunk.len() {
                        break;
                    }
                }
                _ => return Err(SourceError::Unavailable),
            }
        }
        Ok(done)
    }
}

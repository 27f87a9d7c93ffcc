//! The typed client of the pager (see `libipc::pager`).

use libipc::{
    abi::caps,
    pager::{Errno, MapKind, Reply, Request, Response, ServiceName, response_from_short},
    sys::{self, KernelTransport},
    transport::{Client, ClientError},
    types::{CapSlot, PageCount, Prot, VirtAddr},
};

/// Sends one request to the pager: in registers when it fits (the fast
/// path), else as a postcard byte message. A transport failure is EFAULT
/// and an undecodable answer EIO, so callers handle one error type.
///
/// Inlined, so a caller's constant request encodes at compile time and the
/// register call costs no call frame; the byte message is a call of its
/// own ([`request_bytes`]), whose frame and buffers only it pays for.
#[inline(always)]
pub fn request(req: Request) -> Response {
    if let Some(msg) = req.to_short() {
        return match sys::call_short(caps::PAGER, &msg) {
            Ok(reply) => response_from_short(&reply).unwrap_or(Err(Errno::Io)),
            Err(_) => Err(Errno::Fault),
        };
    }
    request_bytes(req)
}

/// [`request`] as a postcard byte message.
#[inline(never)]
fn request_bytes(req: Request) -> Response {
    let mut client: Client<KernelTransport, Request, Response> = Client::new(KernelTransport(caps::PAGER));
    match client.call(&req) {
        Ok(r) => r,
        Err(ClientError::Transport(_)) => Err(Errno::Fault),
        Err(_) => Err(Errno::Io),
    }
}

/// Anonymous private mmap.
pub fn mmap_anon(len: u64, prot: Prot) -> Result<VirtAddr, Errno> {
    match request(Request::Mmap {
        addr: VirtAddr(0),
        len,
        prot,
        flags: MapKind::PRIVATE.union(MapKind::ANONYMOUS),
    })? {
        Reply::Addr(a) => Ok(a),
        _ => Err(Errno::Io),
    }
}

pub fn munmap(addr: VirtAddr, len: u64) -> Result<(), Errno> {
    request(Request::Munmap { addr, len }).map(|_| ())
}

pub fn mprotect(addr: VirtAddr, len: u64, prot: Prot) -> Result<(), Errno> {
    request(Request::Mprotect { addr, len, prot }).map(|_| ())
}

/// Resident pages in a range, as the pager counts them.
pub fn resident(addr: VirtAddr, len: u64) -> Result<PageCount, Errno> {
    match request(Request::Resident { addr, len })? {
        Reply::Pages(p) => Ok(p),
        _ => Err(Errno::Io),
    }
}

/// The pager's frame pool: (free, total).
pub fn pool_stats() -> Result<(PageCount, PageCount), Errno> {
    match request(Request::PoolStats)? {
        Reply::Pool { free, total } => Ok((free, total)),
        _ => Err(Errno::Io),
    }
}

/// brk(addr): the new break, or the old one on failure; `brk(0)` queries.
pub fn brk(addr: VirtAddr) -> Result<VirtAddr, Errno> {
    match request(Request::Brk { addr })? {
        Reply::Addr(a) => Ok(a),
        _ => Err(Errno::Io),
    }
}

/// The slot of this process's capability to the service `name`: ENOENT if
/// the boot line does not start it, EINVAL for a name over 16 bytes.
pub fn service(name: &str) -> Result<CapSlot, Errno> {
    let name = ServiceName::new(name).ok_or(Errno::Invalid)?;
    match request(Request::Service { name })? {
        Reply::Slot(slot) => Ok(slot),
        _ => Err(Errno::Io),
    }
}

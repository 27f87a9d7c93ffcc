//! The typed client of the procfs server (`libipc::procfs`).

use alloc::vec::Vec;

use libipc::{
    abi::{LeaseDesc, SysError, caps},
    procfs::{Error, LeasedRead, MAX_INLINE_DATA, PidSelector, ProcFile, Reply, Request, Response},
    sys::KernelTransport,
    transport::{Client, ClientError},
};

/// What a refused call means to a procfs client. The endpoint exists before
/// any program runs (the launcher made it), so there is nothing to wait
/// for: no capability means the boot line did not start procfs.
fn transport_error(e: SysError) -> Error {
    match e {
        SysError::ServerGone | SysError::NotAnswered | SysError::NoCapability => Error::ServerGone,
        // The kernel refused the lease itself (unmapped, read-only).
        SysError::BadAddress | SysError::InvalidArgument => Error::InvalidArgument,
        _ => Error::Unavailable,
    }
}

/// One request, one response.
pub fn call(request: &Request) -> Response {
    let mut client: Client<KernelTransport, Request, Response> = Client::new(KernelTransport(caps::PROCFS));
    match client.call(request) {
        Ok(r) => r,
        Err(ClientError::Transport(e)) => Err(transport_error(e)),
        Err(_) => Err(Error::Malformed),
    }
}

/// Reads up to `buf.len()` bytes of `file` at `offset`.
pub fn read(pid: PidSelector, file: ProcFile, offset: u64, buf: &mut [u8]) -> Result<usize, Error> {
    let mut done = 0;
    while done < buf.len() {
        let len = (buf.len() - done).min(MAX_INLINE_DATA) as u64;
        match call(&Request::Read {
            pid,
            file,
            offset: offset + done as u64,
            len,
        })? {
            Reply::Data(data) if !data.is_empty() => {
                buf[done..done + data.len()].copy_from_slice(&data);
                done += data.len();
                if (data.len() as u64) < len {
                    break;
                }
            }
            _ => break,
        }
    }
    Ok(done)
}

/// Bulk read: lends `buf` to the server for one call, which writes up to
/// `buf.len()` bytes of `file` at `offset` straight into it.
pub fn read_leased(pid: PidSelector, file: ProcFile, offset: u64, buf: &mut [u8]) -> Result<usize, Error> {
    // Fixed fields, not postcard: the request of every /proc read of a
    // Linux program.
    let request = LeasedRead {
        pid,
        file,
        offset,
        len: buf.len() as u64,
    };
    let lease = LeaseDesc {
        addr: buf.as_mut_ptr() as u64,
        len: buf.len() as u64,
        flags: LeaseDesc::WRITE,
    };
    let mut reply = [0u8; LeasedRead::ANSWER_LEN];
    let len =
        libipc::sys::call_with_lease(caps::PROCFS, &request.encode(), &mut reply, &lease).map_err(transport_error)?;
    match LeasedRead::decode_answer(&reply[..len]) {
        Ok(Ok(moved)) => Ok(moved as usize),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::Malformed),
    }
}

/// Bulk write (`mem`): lends `data` to the server for one call, which
/// writes it to `file` at `offset`; how many bytes it wrote.
pub fn write_leased(pid: PidSelector, file: ProcFile, offset: u64, data: &[u8]) -> Result<usize, Error> {
    let request = Request::WriteLeased {
        pid,
        file,
        offset,
        len: data.len() as u64,
    };
    let lease = LeaseDesc {
        addr: data.as_ptr() as u64,
        len: data.len() as u64,
        flags: 0,
    };
    call_leased(&request, &lease)
}

/// One call with a lease; the bytes the server moved.
fn call_leased(request: &Request, lease: &LeaseDesc) -> Result<usize, Error> {
    let mut msg = [0u8; libipc::MAX_MESSAGE];
    let n = libipc::codec::encode(request, &mut msg).map_err(|_| Error::TooLarge)?;
    let mut reply = [0u8; libipc::MAX_MESSAGE];
    let len = libipc::sys::call_with_lease(caps::PROCFS, &msg[..n], &mut reply, lease).map_err(transport_error)?;
    match libipc::codec::decode::<Response>(&reply[..len]) {
        Ok(Ok(Reply::Leased(moved))) => Ok(moved as usize),
        Ok(Ok(_)) => Err(Error::Malformed),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::Malformed),
    }
}

/// Bytes one leased read moves.
const LEASE_CHUNK: usize = 64 * 1024;

/// Reads a whole text file (maps, smaps, smaps_rollup) through leases.
pub fn read_to_end(pid: PidSelector, file: ProcFile) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut chunk = alloc::vec![0u8; LEASE_CHUNK];
    loop {
        let n = read_leased(pid, file, out.len() as u64, &mut chunk)?;
        out.extend_from_slice(&chunk[..n]);
        if n < chunk.len() {
            return Ok(out);
        }
    }
}

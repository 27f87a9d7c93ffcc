//! The typed client of the procfs server (`libipc::procfs`).

use alloc::vec::Vec;

use libipc::{
    abi::{PROCFS_ENDPOINT, SysError},
    procfs::{Error, MAX_INLINE_DATA, PidSelector, ProcFile, Reply, Request, Response},
    sys::KernelTransport,
    transport::{Client, ClientError},
};

/// How many times to yield while the procfs service is still starting.
const STARTUP_RETRIES: u32 = 10_000;

/// One request, one response (waiting for the service to start).
pub fn call(request: &Request) -> Response {
    let mut client: Client<KernelTransport, Request, Response> = Client::new(KernelTransport(PROCFS_ENDPOINT));
    for _ in 0..STARTUP_RETRIES {
        match client.call(request) {
            Ok(r) => return r,
            // The service has not registered its endpoint yet.
            Err(ClientError::Transport(SysError::NoSuchObject)) => libipc::sys::yield_now(),
            Err(ClientError::Transport(_)) => return Err(Error::Unavailable),
            Err(_) => return Err(Error::Malformed),
        }
    }
    Err(Error::Unavailable)
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

/// Reads a whole text file (maps, smaps, smaps_rollup).
pub fn read_to_end(pid: PidSelector, file: ProcFile) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut chunk = [0u8; MAX_INLINE_DATA];
    loop {
        let n = read(pid, file, out.len() as u64, &mut chunk)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

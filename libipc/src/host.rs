//! The host transport: messages framed over Unix sockets, so servers run as
//! ordinary processes in tests. A frame is a little-endian `u32` length and
//! that many bytes; frames longer than [`MAX_MESSAGE`] are refused.
//!
//! The server side stamps each connection with a [`Sender`] it assigns
//! itself, the host analogue of the kernel's stamp: a client cannot choose it.

use std::{
    io::{self, Read, Write},
    os::unix::net::UnixStream,
    path::Path,
};

use crate::{MAX_MESSAGE, transport::Transport};

/// Writes one frame.
pub fn write_frame(stream: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    if bytes.len() > MAX_MESSAGE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "message larger than MAX_MESSAGE",
        ));
    }
    stream.write_all(&(bytes.len() as u32).to_le_bytes())?;
    stream.write_all(bytes)?;
    stream.flush()
}

/// Reads one frame into `buf`; `Ok(None)` at a clean end of stream.
pub fn read_frame(stream: &mut impl Read, buf: &mut [u8]) -> io::Result<Option<usize>> {
    let mut len = [0u8; 4];
    match stream.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_MESSAGE || len > buf.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes is too large"),
        ));
    }
    stream.read_exact(&mut buf[..len])?;
    Ok(Some(len))
}

/// A client connection to a server's Unix socket.
pub struct UnixTransport {
    stream: UnixStream,
}

impl UnixTransport {
    pub fn connect(path: impl AsRef<Path>) -> io::Result<Self> {
        Ok(UnixTransport {
            stream: UnixStream::connect(path)?,
        })
    }
}

impl Transport for UnixTransport {
    type Error = io::Error;

    fn call(&mut self, request: &[u8], reply: &mut [u8]) -> io::Result<usize> {
        write_frame(&mut self.stream, request)?;
        read_frame(&mut self.stream, reply)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "server closed the connection"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_oversized_is_refused() {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        write_frame(&mut a, b"hello").unwrap();
        let mut buf = [0u8; MAX_MESSAGE];
        assert_eq!(read_frame(&mut b, &mut buf).unwrap(), Some(5));
        assert_eq!(&buf[..5], b"hello");
        assert!(write_frame(&mut a, &[0u8; MAX_MESSAGE + 1]).is_err());
        a.write_all(&(MAX_MESSAGE as u32 + 1).to_le_bytes()).unwrap();
        assert!(read_frame(&mut b, &mut buf).is_err());
        drop(a);
        assert_eq!(read_frame(&mut b, &mut buf).unwrap(), None);
    }
}

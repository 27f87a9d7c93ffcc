//! Encoding of messages: postcard into bounded buffers.
//!
//! Every message fits in [`MAX_MESSAGE`] bytes; the kernel refuses larger
//! ones. Decoding is total: any byte string either decodes to a value that
//! used all of it, or to a [`DecodeError`].

use serde::{Serialize, de::DeserializeOwned};

/// The largest message the kernel carries, in bytes.
pub const MAX_MESSAGE: usize = 512;

/// A buffer that holds any message.
pub type MessageBuf = [u8; MAX_MESSAGE];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The value does not fit in the buffer.
    TooLarge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Longer than [`MAX_MESSAGE`].
    Oversized,
    /// Ends before the value does.
    Truncated,
    /// Bytes left over after the value.
    TrailingBytes,
    /// Not a valid encoding of the expected type.
    Malformed,
}

/// Encodes `value` at the start of `buf`, returning the used prefix length.
pub fn encode<T: Serialize>(value: &T, buf: &mut [u8]) -> Result<usize, EncodeError> {
    let limit = buf.len().min(MAX_MESSAGE);
    postcard::to_slice(value, &mut buf[..limit])
        .map(|used| used.len())
        .map_err(|_| EncodeError::TooLarge)
}

/// Decodes exactly one `T` from `bytes`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(DecodeError::Oversized);
    }
    match decode_prefix::<T>(bytes)? {
        (value, []) => Ok(value),
        _ => Err(DecodeError::TrailingBytes),
    }
}

/// Decodes one `T` from the front of `bytes` and returns it with the bytes
/// after it: for values stored back to back, as in a lease (whose length
/// [`MAX_MESSAGE`] does not limit).
pub fn decode_prefix<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, &[u8]), DecodeError> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok(taken) => Ok(taken),
        Err(postcard::Error::DeserializeUnexpectedEnd) => Err(DecodeError::Truncated),
        Err(_) => Err(DecodeError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{
        pager::{Errno, MapKind, Reply, Request, Response},
        types::{Prot, VirtAddr},
    };

    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + core::fmt::Debug>(v: T) {
        let mut buf = [0u8; MAX_MESSAGE];
        let n = encode(&v, &mut buf).unwrap();
        assert_eq!(decode::<T>(&buf[..n]).unwrap(), v);
        if n > 0 {
            assert_eq!(decode::<T>(&buf[..n - 1]), Err(DecodeError::Truncated));
        }
        let mut longer = buf[..n].to_vec();
        longer.push(0);
        assert_eq!(decode::<T>(&longer), Err(DecodeError::TrailingBytes));
    }

    #[test]
    fn messages_round_trip() {
        round_trip(Request::Mmap {
            addr: VirtAddr(0),
            len: 1 << 30,
            prot: Prot::RW,
            flags: MapKind::PRIVATE.union(MapKind::ANONYMOUS),
        });
        round_trip::<Response>(Ok(Reply::Addr(VirtAddr(0x7f00_0000_0000))));
        round_trip::<Response>(Err(Errno::NoMemory));
    }

    #[test]
    fn too_small_buffer_is_an_error() {
        let mut buf = [0u8; 2];
        assert_eq!(
            encode(
                &Request::Mmap {
                    addr: VirtAddr(u64::MAX),
                    len: 1,
                    prot: Prot::RW,
                    flags: MapKind(0)
                },
                &mut buf
            ),
            Err(EncodeError::TooLarge)
        );
    }

    #[test]
    fn oversized_input_is_refused() {
        let big = [0u8; MAX_MESSAGE + 1];
        assert_eq!(decode::<Request>(&big), Err(DecodeError::Oversized));
    }

    #[test]
    fn values_back_to_back_decode_one_at_a_time() {
        let mut buf = [0u8; 8];
        let a = encode(&Prot::RW, &mut buf).unwrap();
        let b = encode(&VirtAddr(0x1234), &mut buf[a..]).unwrap();
        let (first, rest) = decode_prefix::<Prot>(&buf[..a + b]).unwrap();
        assert_eq!((first, rest.len()), (Prot::RW, b));
        assert_eq!(decode_prefix::<VirtAddr>(rest), Ok((VirtAddr(0x1234), &[][..])));
        assert_eq!(decode_prefix::<VirtAddr>(&[]), Err(DecodeError::Truncated));
        assert_eq!(decode_prefix::<Request>(&[100]), Err(DecodeError::Malformed));
    }

    #[test]
    fn empty_and_bad_variants() {
        assert_eq!(decode::<Request>(&[]), Err(DecodeError::Truncated));
        assert_eq!(decode::<Request>(&[100]), Err(DecodeError::Malformed));
    }

    proptest! {
        // The decoder is total over arbitrary bytes: it returns, never panics.
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
            let _ = decode::<Request>(&bytes);
            let _ = decode::<Response>(&bytes);
        }

        // Any decoded value re-encodes to the very same bytes (canonical form).
        #[test]
        fn decoded_requests_re_encode_identically(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(req) = decode::<Request>(&bytes) {
                let mut buf = [0u8; MAX_MESSAGE];
                let n = encode(&req, &mut buf).unwrap();
                prop_assert_eq!(decode::<Request>(&buf[..n]).unwrap(), req);
            }
        }
    }
}

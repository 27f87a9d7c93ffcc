//! Transports: how encoded messages travel. A typed [`Client`] works over any
//! [`Transport`], so the same client code talks to a server on the kernel
//! (`sys::KernelTransport`) or to one running as a host process
//! (`host::UnixTransport`).

use core::marker::PhantomData;

use serde::{Serialize, de::DeserializeOwned};

use crate::codec::{self, DecodeError, EncodeError, MAX_MESSAGE};

/// Carries one request and its reply.
pub trait Transport {
    type Error: core::fmt::Debug;
    /// Sends `request` and writes the reply into `reply`, returning its length.
    fn call(&mut self, request: &[u8], reply: &mut [u8]) -> Result<usize, Self::Error>;
}

/// Why a typed call failed.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientError<E> {
    Encode(EncodeError),
    Transport(E),
    Decode(DecodeError),
}

/// A typed client: `Req` in, `Resp` out.
pub struct Client<T, Req, Resp> {
    transport: T,
    _types: PhantomData<fn(Req) -> Resp>,
}

impl<T: Transport, Req: Serialize, Resp: DeserializeOwned> Client<T, Req, Resp> {
    pub fn new(transport: T) -> Self {
        Client {
            transport,
            _types: PhantomData,
        }
    }

    pub fn call(&mut self, request: &Req) -> Result<Resp, ClientError<T::Error>> {
        let mut out = [0u8; MAX_MESSAGE];
        let n = codec::encode(request, &mut out).map_err(ClientError::Encode)?;
        let mut reply = [0u8; MAX_MESSAGE];
        let m = self
            .transport
            .call(&out[..n], &mut reply)
            .map_err(ClientError::Transport)?;
        codec::decode(&reply[..m]).map_err(ClientError::Decode)
    }

    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pager::{Reply, Request, Response};

    /// A transport that answers every request by running `f` in-process.
    struct Loopback<F>(F);

    impl<F: FnMut(&[u8], &mut [u8]) -> usize> Transport for Loopback<F> {
        type Error = ();
        fn call(&mut self, request: &[u8], reply: &mut [u8]) -> Result<usize, ()> {
            Ok((self.0)(request, reply))
        }
    }

    #[test]
    fn typed_call_round_trips() {
        let transport = Loopback(|req: &[u8], reply: &mut [u8]| {
            let r: Request = codec::decode(req).unwrap();
            assert_eq!(r, Request::Null);
            codec::encode(&Response::Ok(Reply::Done), reply).unwrap()
        });
        let mut client: Client<_, Request, Response> = Client::new(transport);
        assert_eq!(client.call(&Request::Null), Ok(Ok(Reply::Done)));
    }

    #[test]
    fn garbage_reply_is_a_decode_error() {
        let transport = Loopback(|_: &[u8], reply: &mut [u8]| {
            reply[0] = 0xff;
            1
        });
        let mut client: Client<_, Request, Response> = Client::new(transport);
        assert!(matches!(client.call(&Request::Null), Err(ClientError::Decode(_))));
    }
}

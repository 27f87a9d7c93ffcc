//! The procfs server on the kernel: answers `/proc/<pid>/...` requests on
//! [`libipc::abi::PROCFS_ENDPOINT`] through the host-tested core
//! (`procfs_server::server::Server`), with the pager behind an IPC client.
//! The caller's identity is the kernel's sender stamp; each process's token
//! comes from the pager, which launched it.
#![no_std]
#![no_main]

extern crate alloc;

mod source;

use libipc::{
    MAX_MESSAGE,
    abi::{MessageKind, PROCFS_ENDPOINT},
    codec,
    procfs::{Error, Identity, PidSelector, Request, Response, SourceReply, SourceRequest},
    short::{ShortMessage, UNSUPPORTED_LABEL},
    sys,
    types::{Pid, Tid},
};
use procfs_server::{
    server::{Config, Lease, Server},
    sid::Sid,
    token::{IntegrityLevel, Privileges, Token},
};

use crate::source::{PagerSource, ask};

/// Its heap: the process table, the VMA batch buffer, and per request at
/// most `procfs_server::MAX_REQUEST_HEAP` bytes whatever the target's size.
const HEAP_BYTES: usize = 4 << 20;

runtime::entry!(main, heap = HEAP_BYTES);

fn token(identity: Identity) -> Token {
    let level = match identity.integrity {
        i if i >= IntegrityLevel::System as u16 => IntegrityLevel::System,
        i if i >= IntegrityLevel::High as u16 => IntegrityLevel::High,
        i if i >= IntegrityLevel::Medium as u16 => IntegrityLevel::Medium,
        i if i >= IntegrityLevel::Low as u16 => IntegrityLevel::Low,
        _ => IntegrityLevel::Untrusted,
    };
    let mut privileges = Privileges::NONE;
    if identity.privileges & Identity::TCB != 0 {
        privileges = privileges.union(Privileges::TCB);
    }
    if identity.privileges & Identity::DEBUG != 0 {
        privileges = privileges.union(Privileges::DEBUG);
    }
    Token::new(Sid::user(identity.user_rid), level).with_privileges(privileges)
}

/// Makes sure the table knows `pid` (asking the pager once; pids are
/// never reused).
fn learn(server: &mut Server<PagerSource>, pid: Pid) {
    if server.processes().get(pid).is_some() {
        return;
    }
    if let Ok(SourceReply::Identity(identity)) = ask(SourceRequest::Identity { pid }) {
        server.processes_mut().insert(pid, token(identity));
    }
}

/// The lease the caller sent with its call, through the kernel.
struct KernelLease(Tid);

impl Lease for KernelLease {
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Error> {
        match sys::lease_write(self.0, offset, data) {
            Ok(n) if n == data.len() => Ok(()),
            _ => Err(Error::InvalidArgument),
        }
    }

    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        match sys::lease_read(self.0, offset, buf) {
            Ok(n) if n == buf.len() => Ok(()),
            _ => Err(Error::InvalidArgument),
        }
    }
}

fn main(arg: u64) -> i64 {
    if let Err(e) = sys::endpoint_create(PROCFS_ENDPOINT) {
        runtime::println!("procfs: cannot register its endpoint: {e:?}");
        return 1;
    }
    runtime::println!("procfs: serving /proc as process {arg}");
    let mut server = Server::new(PagerSource::new(), Config::default());
    let mut buf = [0u8; MAX_MESSAGE];
    let mut reply = [0u8; MAX_MESSAGE];
    let mut pending: Option<(Tid, usize)> = None;
    loop {
        let received = match pending.take() {
            Some((to, len)) => sys::reply_recv(to, &reply[..len], PROCFS_ENDPOINT, &mut buf),
            None => sys::recv(PROCFS_ENDPOINT, &mut buf),
        };
        let Ok(msg) = received else { continue };
        if msg.kind != MessageKind::Call {
            // The procfs protocol has byte messages only; a short call gets
            // the "not understood" answer instead of waiting forever.
            if msg.kind == MessageKind::ShortCall {
                let _ = sys::reply_short(msg.sender.tid, &ShortMessage::label(UNSUPPORTED_LABEL));
            }
            continue;
        }
        learn(&mut server, msg.sender.pid);
        let response: Response = match codec::decode::<Request>(&buf[..msg.len]) {
            Ok(request) => {
                if let Request::Read {
                    pid: PidSelector::Pid(target),
                    ..
                }
                | Request::Write {
                    pid: PidSelector::Pid(target),
                    ..
                }
                | Request::ReadLeased {
                    pid: PidSelector::Pid(target),
                    ..
                }
                | Request::WriteLeased {
                    pid: PidSelector::Pid(target),
                    ..
                } = request
                {
                    learn(&mut server, target);
                }
                server.handle_leased(msg.sender, &request, &mut KernelLease(msg.sender.tid))
            }
            Err(_) => Err(Error::Malformed),
        };
        pending = codec::encode(&response, &mut reply).ok().map(|n| (msg.sender.tid, n));
    }
}

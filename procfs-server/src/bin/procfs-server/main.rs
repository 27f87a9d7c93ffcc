//! The procfs server on the kernel: answers `/proc/<pid>/...` requests that
//! arrive on its endpoint (the receive capability the launcher gave it in
//! slot [`libipc::abi::caps::SERVICE`]; programs call it through
//! [`libipc::abi::caps::PROCFS`]) through the host-tested core
//! (`procfs_server::server::Server`), with the pager behind an IPC client.
//!
//! The caller's identity is the kernel's sender stamp; when the caller
//! impersonates a client of its own, the stamp says whom it acts for, and
//! that client's token is the one checked (`/proc/self` still names the
//! caller). Tokens come from the pager, which launched every process and is
//! the authority on who is alive: they are asked for on every request and
//! none is kept across requests, so a process that exited never lends its
//! token to a later one.
#![no_std]
#![no_main]

extern crate alloc;

mod source;

use libipc::{
    MAX_MESSAGE,
    abi::{MessageKind, caps},
    codec, pager,
    procfs::{Error, Identity, LeasedRead, MAX_PARTIES, PidSelector, Request, Response},
    short::{ShortMessage, UNSUPPORTED_LABEL},
    sys::{self, Received},
    types::Pid,
};
use procfs_server::{
    server::{Lease, Server},
    sid::Sid,
    token::{IntegrityLevel, Privileges, Token},
};

use crate::source::PagerSource;

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

/// The table for one request: the caller, whom it acts for, and the
/// target, with the tokens the pager gives them now, asked in one call. A
/// pid the pager no longer runs stays out (its requests are refused).
fn learn_parties(server: &mut Server<PagerSource>, msg: &Received, target: PidSelector) {
    server.processes_mut().clear();
    let target = match target {
        PidSelector::Pid(pid) => Some(pid),
        PidSelector::Self_ => None,
    };
    // Each pid once: a client reading its own file is both the one
    // impersonated and the target.
    let mut pids: heapless::Vec<Pid, MAX_PARTIES> = heapless::Vec::new();
    for pid in [Some(msg.sender.pid), msg.acting_for, target].into_iter().flatten() {
        if !pids.contains(&pid) {
            // Three slots for at most three parties.
            let _ = pids.push(pid);
        }
    }
    // In registers, with no request built: asked on every request.
    let answer = sys::call_short(caps::PAGER, &pager::identities_question(&pids));
    let Some(Ok(identities)) = answer.ok().as_ref().and_then(pager::identities_of_answer) else {
        return;
    };
    for (&pid, identity) in pids.iter().zip(identities) {
        if let Some(identity) = identity {
            server.processes_mut().insert(pid, token(identity));
        }
    }
    if let Some(client) = msg.acting_for
        && let Some(known) = server.processes().get(client)
    {
        // The caller wears its client's token for this request.
        let token = known.token.clone();
        let _ = server
            .processes_mut()
            .impersonate(msg.sender.pid, msg.sender.tid, token);
    }
}

/// The lease of the call being served, through the kernel.
struct KernelLease;

impl Lease for KernelLease {
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Error> {
        match sys::lease_write(offset, data) {
            Ok(n) if n == data.len() => Ok(()),
            _ => Err(Error::InvalidArgument),
        }
    }

    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        match sys::lease_read(offset, buf) {
            Ok(n) if n == buf.len() => Ok(()),
            _ => Err(Error::InvalidArgument),
        }
    }
}

fn main(arg: u64) -> i64 {
    runtime::log!("procfs: serving /proc as process {arg}");
    // CPUID leaf 7, ECX bit 3: protection keys (PKU).
    let pku = core::arch::x86_64::__cpuid_count(7, 0).ecx & (1 << 3) != 0;
    procfs_server::format::smaps::set_protection_keys(pku);
    let mut server = Server::new(PagerSource::new(), source::config());
    let mut buf = [0u8; MAX_MESSAGE];
    let mut reply = [0u8; MAX_MESSAGE];
    let mut pending: Option<usize> = None;
    loop {
        let received = match pending.take() {
            Some(len) => sys::reply_recv(&reply[..len], caps::SERVICE, &mut buf),
            None => sys::recv(caps::SERVICE, &mut buf),
        };
        let msg = match received {
            Ok(msg) => msg,
            // The caller we answered is gone; serve the next one.
            Err(libipc::abi::SysError::NotWaiting) => continue,
            Err(e) => {
                runtime::log!("procfs: cannot receive: {e:?}");
                return 1;
            }
        };
        if msg.kind != MessageKind::Call {
            // The procfs protocol has byte messages only; a short call gets
            // the "not understood" answer instead of waiting forever.
            if msg.kind == MessageKind::ShortCall {
                let _ = sys::reply_short(&ShortMessage::label(UNSUPPORTED_LABEL));
            }
            continue;
        }
        let message = &buf[..msg.len];
        if LeasedRead::is_one(message) {
            // A Linux program's read (`runtime::procfs::read_leased`):
            // fixed fields both ways, no postcard.
            let answer = LeasedRead::decode(message)
                .map_err(|_| Error::Malformed)
                .and_then(|read| {
                    learn_parties(&mut server, &msg, read.pid);
                    server.read_leased(msg.sender, read, &mut KernelLease)
                });
            let answer = LeasedRead::encode_answer(answer);
            reply[..answer.len()].copy_from_slice(&answer);
            pending = Some(answer.len());
            continue;
        }
        let response: Response = match codec::decode::<Request>(message) {
            Ok(request) => {
                learn_parties(&mut server, &msg, request.target());
                server.handle_leased(msg.sender, &request, &mut KernelLease)
            }
            Err(_) => Err(Error::Malformed),
        };
        pending = codec::encode(&response, &mut reply).ok();
    }
}

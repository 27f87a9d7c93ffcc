//! A hand-written trace (format: `pager::trace`) replayed against a running
//! `pager-host` as one process, printing every decision and, at the end,
//! the process's `/proc/<pid>/maps`.

use std::{fs, process::ExitCode};

use libipc::{
    host::UnixTransport,
    kernel::KillReason,
    pager::{Errno, Reply, Request},
    transport::Client,
    types::VirtAddr,
};
use pager::{
    host::{HostFault, HostReply, HostRequest, PageFill},
    maps,
    rlimit::{INFINITY, Limit},
    trace::{self, Addr, TraceOp},
    vma::FileId,
};

type PagerClient = Client<UnixTransport, HostRequest, HostReply>;

fn errno_name(e: Errno) -> &'static str {
    match e {
        Errno::NotPermitted => "EPERM",
        Errno::NoEntry => "ENOENT",
        Errno::Io => "EIO",
        Errno::NoMemory => "ENOMEM",
        Errno::Access => "EACCES",
        Errno::Fault => "EFAULT",
        Errno::Exists => "EEXIST",
        Errno::Invalid => "EINVAL",
        Errno::NotSupported => "ENOSYS",
    }
}

fn kill_name(r: KillReason) -> &'static str {
    match r {
        KillReason::NoMapping => "no-mapping",
        KillReason::Protection => "protection",
        KillReason::GuardGap => "guard-gap",
        KillReason::Limit => "limit",
        KillReason::GeneralProtection => "general-protection",
        KillReason::Exception => "exception",
        KillReason::OutOfMemory => "out-of-memory",
        KillReason::PastEndOfFile => "past-end-of-file",
    }
}

fn limit_text(v: u64) -> String {
    if v == INFINITY {
        "unlimited".into()
    } else {
        format!("{v:#x}")
    }
}

fn call(client: &mut PagerClient, request: &HostRequest) -> Result<HostReply, String> {
    client.call(request).map_err(|e| format!("pager-host: {e:?}"))
}

fn fetch_maps(client: &mut PagerClient) -> Result<String, String> {
    let mut text = String::new();
    loop {
        match call(
            client,
            &HostRequest::Maps {
                offset: text.len() as u64,
            },
        )? {
            HostReply::Maps { text: chunk, more } => {
                text.push_str(&chunk);
                if !more || chunk.is_empty() {
                    return Ok(text);
                }
            }
            other => return Err(format!("unexpected reply to maps: {other:?}")),
        }
    }
}

/// Turns one operation into its request; `None` for `maps`.
fn request(op: &TraceOp, last: u64) -> Result<Option<HostRequest>, String> {
    let at = |a: Addr| {
        a.resolve(last)
            .map(VirtAddr)
            .ok_or_else(|| "address overflows".to_string())
    };
    Ok(Some(match *op {
        TraceOp::Mmap {
            addr,
            len,
            prot,
            flags,
            file: None,
        } => HostRequest::Pager(Request::Mmap {
            addr: at(addr)?,
            len,
            prot,
            flags,
        }),
        TraceOp::Mmap {
            addr,
            len,
            prot,
            flags,
            file: Some((file, offset)),
        } => HostRequest::MmapFile {
            addr: at(addr)?,
            len,
            prot,
            flags,
            file: FileId(file),
            offset,
        },
        TraceOp::Munmap { addr, len } => HostRequest::Pager(Request::Munmap { addr: at(addr)?, len }),
        TraceOp::Mprotect { addr, len, prot } => HostRequest::Pager(Request::Mprotect {
            addr: at(addr)?,
            len,
            prot,
        }),
        TraceOp::Brk { addr } => HostRequest::Pager(Request::Brk { addr: at(addr)? }),
        TraceOp::Sbrk { delta } => HostRequest::Sbrk { delta },
        TraceOp::Fault { addr, access } => HostRequest::Fault {
            addr: at(addr)?,
            access,
        },
        TraceOp::Setrlimit { resource, limit } => HostRequest::Setrlimit(resource, limit),
        TraceOp::Getrlimit { resource } => HostRequest::Getrlimit(resource),
        TraceOp::Resident { addr, len } => HostRequest::Pager(Request::Resident { addr: at(addr)?, len }),
        TraceOp::Maps => return Ok(None),
    }))
}

/// The decision as text; updates `last` when an address comes back.
fn describe(reply: &HostReply, op: &TraceOp, last: &mut u64) -> String {
    match reply {
        HostReply::Pager(Ok(Reply::Addr(a))) => {
            if matches!(op, TraceOp::Mmap { .. } | TraceOp::Brk { .. } | TraceOp::Sbrk { .. }) {
                *last = a.0;
            }
            format!("= {:#x}", a.0)
        }
        HostReply::Pager(Ok(Reply::Done)) => "= 0".into(),
        HostReply::Pager(Ok(Reply::Pages(n))) => format!("= {} pages", n.0),
        HostReply::Pager(Ok(Reply::Pool { free, total })) => format!("= pool {}/{} free", free.0, total.0),
        HostReply::Pager(Ok(other)) => format!("= {other:?}"),
        HostReply::Pager(Err(e)) => format!("= -1 {} ({})", errno_name(*e), e.code()),
        HostReply::Fault(HostFault::Kill(r)) => format!("kill {}", kill_name(*r)),
        HostReply::Fault(HostFault::Map(pages)) => {
            let mut out = format!("map {} page{}", pages.len(), if pages.len() == 1 { "" } else { "s" });
            for p in pages {
                let fill = match p.fill {
                    PageFill::Zero => "zero".to_string(),
                    PageFill::ZeroPage => "zero-page".to_string(),
                    PageFill::ZeroPageCopy => "zero-page copy".to_string(),
                    PageFill::File { offset, len } => format!("file {offset:#x}+{len:#x}"),
                    PageFill::Resident => "resident".to_string(),
                    PageFill::ZeroHuge => "zero 2M".to_string(),
                };
                let perms = maps::perms(p.prot, false);
                let frame = match p.frame.own() {
                    Some(f) => format!("frame {:#x}", f.0),
                    None => "the zero frame".to_string(),
                };
                out.push_str(&format!("\n    {:#014x} {} {fill} {frame}", p.virt.0, &perms[..3]));
            }
            out
        }
        HostReply::Limit(Limit { soft, hard }) => format!("= soft {} hard {}", limit_text(*soft), limit_text(*hard)),
        HostReply::Maps { .. } => "(maps)".into(),
    }
}

pub fn run(socket: &str, path: &str) -> Result<ExitCode, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let ops = match trace::parse(&text) {
        Ok(ops) => ops,
        Err((line, e)) => {
            eprintln!("{path}:{line}: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut client: PagerClient = Client::new(UnixTransport::connect(socket).map_err(|e| format!("{socket}: {e}"))?);
    let mut last = 0u64;
    for (line_no, op) in &ops {
        let source = lines
            .get(line_no - 1)
            .map_or("", |l| l.split('#').next().unwrap_or("").trim());
        match request(op, last) {
            Ok(Some(req)) => {
                let reply = call(&mut client, &req)?;
                println!("{line_no:>4}: {source} -> {}", describe(&reply, op, &mut last));
            }
            Ok(None) => print!("{line_no:>4}: maps\n{}", fetch_maps(&mut client)?),
            Err(e) => println!("{line_no:>4}: {source} -> not sent: {e}"),
        }
    }
    print!("final maps:\n{}", fetch_maps(&mut client)?);
    Ok(ExitCode::SUCCESS)
}

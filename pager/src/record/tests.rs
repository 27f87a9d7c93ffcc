use alloc::{format, string::ToString};

use libipc::{
    pager::{MapKind, Request},
    types::VirtAddr,
};

use super::*;
use crate::{rlimit::Rlimits, space::AddressSpace};

const HEADER: &str =
    "pager-trace 1\npolicy default\nseed 0x1 0x2 0x3 0x4\nframes 64\nset vm.mmap_min_addr 65536\nbegin\n";

fn header_and(body: &str) -> String {
    format!("{HEADER}{body}")
}

#[test]
fn the_header_round_trips_with_every_setting() {
    let mut settings = Settings::default();
    settings.set("kernel.randomize_va_space", "1").unwrap();
    let header = Header::new("fault-around", [1, 2, 3, 0xff], 4096, &settings);
    assert_eq!(header.settings.len(), Settings::KEYS.len());
    let rec = parse(&header.to_string()).unwrap();
    assert_eq!(rec.header, header);
    assert_eq!(rec.header.settings().unwrap(), settings);
    assert!(rec.records.is_empty());
    assert!(is_recorded(&header.to_string()));
    assert!(!is_recorded("mmap 0 0x1000 rw- private,anonymous"));
}

#[test]
fn header_errors_name_the_problem_and_line() {
    assert_eq!(
        parse("mmap 0 0x1000 rw- private,anonymous").unwrap_err(),
        (1, RecordError::NotATrace)
    );
    assert_eq!(parse("").unwrap_err(), (1, RecordError::NotATrace));
    assert_eq!(
        parse("pager-trace 2\n").unwrap_err(),
        (1, RecordError::UnknownVersion("2".into()))
    );
    let no_begin = "pager-trace 1\npolicy default\nseed 1 2 3 4\nframes 1\n";
    assert_eq!(parse(no_begin).unwrap_err(), (4, RecordError::MissingHeader("begin")));
    let no_policy = "pager-trace 1\nseed 1 2 3 4\nframes 1\nbegin\n";
    assert_eq!(parse(no_policy).unwrap_err(), (4, RecordError::MissingHeader("policy")));
    let no_seed = "pager-trace 1\npolicy default\nframes 1\nbegin\n";
    assert_eq!(parse(no_seed).unwrap_err(), (4, RecordError::MissingHeader("seed")));
    let no_frames = "pager-trace 1\npolicy default\nseed 1 2 3 4\nbegin\n";
    assert_eq!(parse(no_frames).unwrap_err(), (4, RecordError::MissingHeader("frames")));
    let bad = "pager-trace 1\npolicy default\nfrobnicate 3\n";
    assert_eq!(
        parse(bad).unwrap_err(),
        (3, RecordError::BadHeader("frobnicate 3".into()))
    );
    let bad_seed = "pager-trace 1\nseed 1 2 x 4\n";
    assert!(matches!(
        parse(bad_seed).unwrap_err(),
        (2, RecordError::Line(ParseError::BadNumber(_)))
    ));
    let bad_setting = Header {
        policy: "default".into(),
        seed: [0; 4],
        frames: 1,
        settings: alloc::vec![("vm.mmap_min_addr".into(), "lots".into())],
    };
    assert!(bad_setting.settings().is_err());
    for e in [
        RecordError::NotATrace,
        RecordError::UnknownVersion("9".into()),
        RecordError::MissingHeader("seed"),
        RecordError::BadHeader("x".into()),
        RecordError::BadField("y".into()),
    ] {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn every_event_round_trips() {
    let body = "\
7 10 start /bin/a.out
7 10 layout 0x7f0000000000 0x600000 0x601000 0x1000 0x7ffffffde000
7 10 vma 0x400000 0x402000 r-x p file:3:0x0:0x1800 /bin/a\\x20b
7 10 vma 0x7ffffffde000 0x7ffffffff000 rw- pg anon [stack]
7 10 vma 0x7ffff7ffd000 0x7ffff7ffe000 r-- s anon [vvar]
7 10 kept 0x7ffff7ffd000
7 20 fault 0x400010 exec 0x400010 => map 2 0x400000:r-x:f0x0+0x1000 0x401000:r-x:f0x1000+0x800
7 21 fault 0x10 read 0x400020 => kill no-mapping
7 22 fault 0x600000 write 0x400020 => map 1 0x600000:rw-:zp:0x200000
7 23 fault 0x7ffff7ffd000 read 0x400020 => map 1 0x7ffff7ffd000:r--:r
7 30 mmap 0x0 0x10000 rw- private,anonymous => 0x7effffff0000
7 31 munmap 0x7effffff0000 0x1000 => 0x0
7 32 mprotect 0x7effffff1000 0x1000 r-- => -22
7 33 brk 0x0 => 0x600000
7 40 linux mmap 0x0 0x2000 0x1 0x2 0x3 0x0 file 3 0x1800 => 0x7effffff0000
7 41 linux setrlimit 0x3 0x7fffffffe000 0x0 0x0 0x0 0x0 read 00008000000000000000010000000000 => 0x0
7 42 linux 999 0x0 0x0 0x0 0x0 0x0 0x0 => -38
7 50 touch 0x7ffffffdd000 w
7 60 exit
";
    let rec = parse(&header_and(body)).unwrap();
    assert_eq!(rec.records.len(), body.lines().count());
    let mut again = String::new();
    for (_, r) in &rec.records {
        again.push_str(&r.to_string());
    }
    assert_eq!(again, body);
    // Line numbers count the header.
    assert_eq!(rec.records[0].0, 7);
    match &rec.records[2].1.event {
        Event::Vma(v) => assert_eq!(v.name, VmaName::Path("/bin/a b".into())),
        other => panic!("{other:?}"),
    }
    match &rec.records[8].1.event {
        Event::Fault {
            outcome: FaultOutcome::Map { pages, .. },
            ..
        } => {
            assert_eq!(pages[0].fill, FillKind::ZeroPage);
            assert_eq!(pages[0].size, 0x20_0000);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_lines_are_refused_with_their_number() {
    for (line, want) in [
        ("7 1 fault 0x10 read 0x1", "no decision"),
        ("7 1 fault 0x10 sideways 0x1 => kill no-mapping", "bad access"),
        ("7 1 fault 0x10 read 0x1 => kill bored", "bad reason"),
        ("7 1 fault 0x10 read 0x1 => map 1 0x10:rw-:q", "bad fill"),
        ("7 1 fault 0x10 read 0x1 => map 1 0x10", "bad page"),
        ("7 1 fault 0x10 read 0x1 => frob", "bad decision"),
        ("7 1 vma 0x0 0x1000 rw- x anon -", "bad flags"),
        ("7 1 vma 0x0 0x1000 rw- pq anon -", "bad flags"),
        ("7 1 vma 0x0 0x1000 rw- p file:1:2 -", "bad backing"),
        ("7 1 vma 0x0 0x1000 rw- p anon", "too few fields"),
        ("7 1 vma 0x0 0x1000 rw- p anon /a\\x2", "bad escape"),
        ("7 1 linux mmap 0x0 0x0", "too few registers"),
        ("7 1 linux mmap 0 0 0 0 0 0 file 3 => 0", "file without size"),
        ("7 1 linux mmap 0 0 0 0 0 0 read abc => 0", "odd hex"),
        ("7 1 linux mmap 0 0 0 0 0 0 read zz => 0", "bad hex"),
        ("7 1 linux mmap 0 0 0 0 0 0 frob => 0", "unknown extra"),
        ("7 1 linux mmap 0 0 0 0 0 0", "no result"),
        ("7 1 mmap 0x0 0x1000 rw- private,anonymous", "no result"),
        ("7 1 mmap 0x0 0x1000 rw- private,anonymous => -x", "bad result"),
        ("7 1 teleport 0x0", "unknown op"),
        ("x 1 exit", "bad pid"),
        ("7 y exit", "bad time"),
        ("7 exit", "no time"),
        ("7 1 layout 0x0", "short layout"),
    ] {
        let err = parse(&header_and(line)).map(|_| ()).unwrap_err();
        assert_eq!(err.0, 7, "{want}: {line}");
    }
}

#[test]
fn writers_write_what_the_parser_reads() {
    let mut space = AddressSpace::new(&Settings::default(), Rlimits::default(), 0x7f00_0000_0000);
    let (a, _) = space
        .mmap(crate::space::MmapArgs {
            addr: 0,
            len: 2 * PAGE_SIZE,
            prot: Prot::RW,
            flags: MapKind::PRIVATE.union(MapKind::ANONYMOUS),
            file: None,
        })
        .unwrap();
    space
        .commit(a, crate::resident::Frame::Dirty(libipc::types::PhysAddr(0x1000)))
        .unwrap();
    let mut text = String::from(HEADER);
    write_simple(&mut text, 5, 1, &Event::Start { name: "demo".into() }).unwrap();
    write_space(&mut text, 5, 1, &space).unwrap();
    let pages = [PageToMap {
        virt: VirtAddr(a.0 + PAGE_SIZE),
        prot: Prot::RW,
        fill: Fill::Zero,
        clean: false,
    }];
    write_fault(
        &mut text,
        5,
        2,
        (a.0 + PAGE_SIZE, Access::Write, 0x1234),
        Ok((&pages, 1)),
    )
    .unwrap();
    write_fault(&mut text, 5, 3, (0, Access::Read, 0x1234), Err(KillReason::NoMapping)).unwrap();
    let op = request_op(&Request::Munmap {
        addr: a,
        len: PAGE_SIZE,
    })
    .unwrap();
    write_request(&mut text, 5, 4, &op, 0).unwrap();
    assert!(request_op(&Request::PoolStats).is_none());
    let call = LinuxCall {
        number: nr::MADVISE,
        args: [a.0, PAGE_SIZE, 4, 0, 0, 0],
        file: None,
        read: Vec::new(),
    };
    write_linux(&mut text, 5, 5, &call, 0).unwrap();
    let rec = parse(&text).unwrap();
    let kinds: Vec<&str> = rec
        .records
        .iter()
        .map(|(_, r)| match r.event {
            Event::Start { .. } => "start",
            Event::Layout(_) => "layout",
            Event::Vma(_) => "vma",
            Event::Kept { .. } => "kept",
            Event::Fault { .. } => "fault",
            Event::Request { .. } => "request",
            Event::Linux { .. } => "linux",
            Event::Touch { .. } => "touch",
            Event::Exit => "exit",
        })
        .collect();
    assert_eq!(
        kinds,
        ["start", "layout", "vma", "kept", "fault", "fault", "request", "linux"]
    );
    assert!(text.contains(&format!(
        "fault {:#x} write 0x1234 => map 1 {:#x}:rw-:z",
        a.0 + PAGE_SIZE,
        a.0 + PAGE_SIZE
    )));
    assert!(text.contains("linux madvise"));
}

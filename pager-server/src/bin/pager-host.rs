//! The pager as a host process: serves the host protocol (`pager::host`)
//! on a Unix socket, one connection per process, so the policy can be
//! driven and watched without the kernel (see `pager-replay`).
//!
//! Usage: `pager-host --socket PATH [--policy NAME] [--seed N] [--frames N]
//! [--set KEY=VALUE]...`. `--seed` makes every run lay memory out the same;
//! without it the seed comes from the host's entropy. `--set` takes the
//! sysctl-style settings (`kernel.randomize_va_space=0`, ...).

use std::{
    fs,
    io::Read,
    os::unix::net::{UnixListener, UnixStream},
    process::ExitCode,
    sync::{Arc, Mutex},
    thread,
};

use libipc::{
    MAX_MESSAGE, codec,
    host::{read_frame, write_frame},
    pager::Errno,
    types::{PhysAddr, Pid},
};
use pager::{
    frames::FramePool,
    host::{HostReply, HostRequest, Session},
    policy::Policy,
    rng::Rng,
    settings::Settings,
};

/// Where the simulated frame pool starts: frames get realistic addresses.
const POOL_BASE: PhysAddr = PhysAddr(0x1_0000_0000);
/// Default pool: 64 MiB of 4 KiB frames.
const DEFAULT_FRAMES: u64 = 16_384;

struct Options {
    socket: String,
    policy: String,
    seed: Option<u64>,
    frames: u64,
    settings: Vec<(String, String)>,
}

fn usage() -> String {
    let names = pager_policies::names();
    format!("usage: pager-host --socket PATH [--policy {names}] [--seed N] [--frames N] [--set KEY=VALUE]...")
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        socket: String::new(),
        policy: "default".into(),
        seed: None,
        frames: DEFAULT_FRAMES,
        settings: Vec::new(),
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value\n{}", usage()));
        match arg.as_str() {
            "--socket" => o.socket = value()?,
            "--policy" => o.policy = value()?,
            "--seed" => o.seed = Some(pager::trace::parse_u64(&value()?).map_err(|e| e.to_string())?),
            "--frames" => o.frames = pager::trace::parse_u64(&value()?).map_err(|e| e.to_string())?,
            "--set" => {
                let kv = value()?;
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| format!("--set wants KEY=VALUE, not {kv:?}"))?;
                o.settings.push((k.into(), v.into()));
            }
            "--help" | "-h" => return Err(usage()),
            other => return Err(format!("unknown argument {other:?}\n{}", usage())),
        }
    }
    if o.socket.is_empty() {
        return Err(usage());
    }
    Ok(o)
}

/// Four words of host entropy (the kernel's RDRAND/RDSEED stand-in).
fn host_entropy() -> [u64; 4] {
    let mut bytes = [0u8; 32];
    if fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_err()
    {
        // No entropy device: the clock is a weak but distinct seed.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        bytes[..16].copy_from_slice(&now.as_nanos().to_le_bytes());
    }
    let mut words = [0u64; 4];
    for (w, chunk) in words.iter_mut().zip(bytes.as_chunks::<8>().0) {
        *w = u64::from_le_bytes(*chunk);
    }
    words
}

/// Serves one connection (one process) until it closes.
fn serve(mut stream: UnixStream, mut session: Session, mut policy: Box<dyn Policy>, pool: Arc<Mutex<FramePool>>) {
    let pid = session.pid;
    let mut buf = [0u8; MAX_MESSAGE];
    let mut out = [0u8; MAX_MESSAGE];
    loop {
        let n = match read_frame(&mut stream, &mut buf) {
            Ok(Some(n)) => n,
            Ok(None) => break,
            Err(e) => {
                eprintln!("pager-host: pid {}: {e}; closing", pid.0);
                break;
            }
        };
        let reply = match codec::decode::<HostRequest>(&buf[..n]) {
            Ok(request) => {
                let mut pool = pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                session.handle(&request, &mut *policy, &mut pool)
            }
            // A malformed message is answered, not fatal, as on the kernel.
            Err(_) => HostReply::Pager(Err(Errno::Invalid)),
        };
        let written = codec::encode(&reply, &mut out).map_err(|e| format!("{e:?}"));
        if let Err(e) = written.and_then(|m| write_frame(&mut stream, &out[..m]).map_err(|e| e.to_string())) {
            eprintln!("pager-host: pid {}: reply failed: {e}; closing", pid.0);
            break;
        }
    }
    let mut pool = pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    session.end(&mut pool);
    eprintln!("pager-host: pid {} exited; {} frames free", pid.0, pool.free_count().0);
}

fn run(o: Options) -> Result<(), String> {
    // Checked once here; every connection then builds its own instance.
    let registration = pager_policies::find(&o.policy).map_err(|e| e.to_string())?;
    let policy = (registration.new)();
    let mut settings = Settings::default();
    for (k, v) in &o.settings {
        settings.set(k, v).map_err(|e| e.to_string())?;
    }
    policy.adjust_settings(&mut settings);
    let entropy = o.seed.map_or_else(host_entropy, |s| [s, 0, 0, 0]);
    let mut rng = Rng::from_words(policy.seed(entropy));
    let pool = Arc::new(Mutex::new(
        FramePool::single(POOL_BASE, o.frames).map_err(|e| format!("{e:?}"))?,
    ));

    let _ = fs::remove_file(&o.socket);
    let listener = UnixListener::bind(&o.socket).map_err(|e| format!("{}: {e}", o.socket))?;
    println!("pager-host: listening on {} (policy {})", o.socket, policy.name());
    let mut next_pid = 1u32;
    for stream in listener.incoming() {
        let stream = stream.map_err(|e| e.to_string())?;
        // The identity is the server's to give, never the client's.
        let pid = Pid(next_pid);
        next_pid = next_pid.wrapping_add(1);
        let mut process_rng = Rng::from_words([rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64()]);
        let session = match Session::start(pid, &settings, &mut process_rng) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("pager-host: cannot lay out pid {}: {e:?}", pid.0);
                continue;
            }
        };
        let policy = (registration.new)();
        let pool = Arc::clone(&pool);
        eprintln!("pager-host: pid {} started", pid.0);
        thread::spawn(move || serve(stream, session, policy, pool));
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_args(std::env::args().skip(1)).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pager-host: {e}");
            ExitCode::FAILURE
        }
    }
}

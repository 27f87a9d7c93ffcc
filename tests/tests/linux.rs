//! Unmodified static Linux programs (`tests/linux/*.c`), run on the host
//! and in QEMU through the runner's `--exec`: the two must print the same
//! bytes and end with the same status. Each case has two tests: `host`
//! runs the program on Linux and checks it passes its own checks (so the
//! reference itself is sound), and `qemu` compares the two runs.
//!
//! Every case runs in both places.

use tests::{
    broken_elf::Breakage,
    linux::{Run, Variant, assert_same, binary, broken_binary, run_in_qemu, run_on_host},
};

/// One run of one program.
struct Case {
    program: &'static str,
    variant: Variant,
    /// argv after argv[0], which is the program's name.
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// The status Linux reports.
    status: u8,
    /// Lines its output must have on Linux.
    lines: &'static [&'static str],
}

impl Case {
    fn argv(&self) -> Vec<&'static str> {
        std::iter::once(self.program).chain(self.args.iter().copied()).collect()
    }

    fn on_host(&self) -> Run {
        let run = run_on_host(&binary(self.program, self.variant), &self.argv(), self.env);
        println!("---- Linux: status {} ----\n{}", run.status, run.text());
        run
    }

    /// Linux runs it as the case says, and it passes its own checks.
    fn check_host(&self) {
        let run = self.on_host();
        let text = run.text();
        assert!(!text.contains("FAIL"), "a check failed on Linux itself");
        assert!(!text.contains("SURVIVED"), "the program survived what should kill it");
        for line in self.lines {
            assert!(text.lines().any(|l| l == *line), "no line {line:?} on Linux");
        }
        assert_eq!(run.status, self.status, "Linux's status");
    }

    fn compare(&self) {
        let linux = self.on_host();
        let ours = run_in_qemu(&binary(self.program, self.variant), &self.argv(), self.env);
        assert_same(&linux, &ours);
    }
}

/// `name: program variant [args] env => status, [lines]` makes a module
/// `name` with the tests `host` and `qemu`; attributes before the name
/// (an `#[ignore = "why"]`) go to the `qemu` test.
macro_rules! cases {
    ($($(#[$attr:meta])* $name:ident: $program:literal $variant:ident [$($arg:literal),*] $env:expr => $status:literal, [$($line:literal),*];)*) => {$(
        mod $name {
            const CASE: super::Case = super::Case {
                program: $program,
                variant: super::Variant::$variant,
                args: &[$($arg),*],
                env: { use super::*; $env },
                status: $status,
                lines: &[$($line),*],
            };

            #[test]
            fn host() {
                CASE.check_host();
            }

            #[test]
            $(#[$attr])*
            fn qemu() {
                CASE.compare();
            }
        }
    )*};
}

const NO_ENV: &[(&str, &str)] = &[];
/// In the order both sides pass it: sorted by name.
const ENV: &[(&str, &str)] = &[
    ("EMPTY", ""),
    ("GREETING", "hello world"),
    ("PATH", "/bin:/usr/bin"),
    ("QUOTES", "'\" $x"),
];

cases! {
    stdio_args_musl: "stdio_args" MuslStatic ["one", "two words", "", "--exit=0"] ENV => 0,
        ["argc 5", "argv[2] \"two words\" (9 bytes)", "envp[0] \"EMPTY=\"", "getenv GREETING: hello world",
         "to stderr: 7", "stdio_args: PASS"];
    stdio_args_musl_pie: "stdio_args" MuslStaticPie ["a", "b"] ENV => 0, ["argc 3", "stdio_args: PASS"];
    stdio_args_glibc: "stdio_args" GlibcStatic ["a", "b"] ENV => 0, ["argc 3", "stdio_args: PASS"];
    stdio_args_exit_status: "stdio_args" MuslStatic ["--exit=42"] NO_ENV => 42,
        ["getenv GREETING: (unset)", "stdio_args: PASS"];

    auxv_musl: "auxv" MuslStatic [] ENV => 0, ["AT_PAGESZ 4096", "AT_PHENT 56", "auxv: PASS"];
    auxv_musl_pie: "auxv" MuslStaticPie [] ENV => 0, ["AT_BASE 0 (no interpreter)", "auxv: PASS"];
    auxv_glibc: "auxv" GlibcStatic [] ENV => 0, ["AT_PLATFORM \"x86_64\"", "auxv: PASS"];

    vdso_time_musl: "vdso_time" MuslStatic [] NO_ENV => 0, ["kernel entries during the loop: 0", "vdso_time: PASS"];
    vdso_time_musl_pie: "vdso_time" MuslStaticPie [] NO_ENV => 0, ["kernel entries during the loop: 0", "vdso_time: PASS"];
    vdso_time_glibc: "vdso_time" GlibcStatic [] NO_ENV => 0, ["kernel entries during the loop: 0", "vdso_time: PASS"];
    vdso_write_musl: "vdso_time" MuslStatic ["write"] NO_ENV => 133, ["about to call the vandalized vDSO"];
    vdso_write_glibc: "vdso_time" GlibcStatic ["write"] NO_ENV => 133, ["about to call the vandalized vDSO"];
    vdso_unmap_musl: "vdso_time" MuslStatic ["unmap"] NO_ENV => 139, ["about to call the vandalized vDSO"];
    vdso_unmap_glibc: "vdso_time" GlibcStatic ["unmap"] NO_ENV => 139, ["about to call the vandalized vDSO"];

    // The host runs Linux's default, vsyscall=xonly, as we do.
    vsyscall_call_musl: "vsyscall" MuslStatic ["call"] NO_ENV => 0, ["vsyscall: PASS"];
    vsyscall_call_glibc: "vsyscall" GlibcStatic ["call"] NO_ENV => 0, ["vsyscall: PASS"];
    vsyscall_read_xonly: "vsyscall" MuslStatic ["read"] NO_ENV => 139, ["about to read the vsyscall page"];
    vsyscall_misaligned: "vsyscall" MuslStatic ["misaligned"] NO_ENV => 139,
        ["about to call into the middle of the vsyscall page"];

    malloc_pressure_musl: "malloc_pressure" MuslStatic [] NO_ENV => 0, ["malloc_pressure: PASS"];
    malloc_pressure_musl_pie: "malloc_pressure" MuslStaticPie [] NO_ENV => 0, ["malloc_pressure: PASS"];
    malloc_pressure_glibc: "malloc_pressure" GlibcStatic [] NO_ENV => 0, ["malloc_pressure: PASS"];

    vm_calls_musl: "vm_calls" MuslStatic [] NO_ENV => 0, ["vm_calls: PASS"];
    advice_musl: "advice" MuslStatic [] NO_ENV => 0, ["resident after WILLNEED: 0", "advice: PASS"];
    vm_calls_musl_pie: "vm_calls" MuslStaticPie [] NO_ENV => 0, ["vm_calls: PASS"];
    vm_calls_glibc: "vm_calls" GlibcStatic [] NO_ENV => 0, ["vm_calls: PASS"];

    stack_grow_musl: "stack" MuslStatic ["grow"] NO_ENV => 0, ["grew 3 MiB under RLIMIT_STACK=4MiB: ok"];
    stack_grow_glibc: "stack" GlibcStatic ["grow"] NO_ENV => 0, ["grew 3 MiB under RLIMIT_STACK=4MiB: ok"];
    stack_limit_musl: "stack" MuslStatic ["limit"] NO_ENV => 139, ["grew 1024 KiB"];
    stack_limit_musl_pie: "stack" MuslStaticPie ["limit"] NO_ENV => 139, ["grew 1024 KiB"];
    stack_limit_glibc: "stack" GlibcStatic ["limit"] NO_ENV => 139, ["grew 1024 KiB"];
    stack_gap_musl: "stack" MuslStatic ["gap"] NO_ENV => 139, ["grew 1024 KiB"];
    stack_gap_musl_pie: "stack" MuslStaticPie ["gap"] NO_ENV => 139, ["grew 1024 KiB"];

    proc_maps_musl: "proc_maps" MuslStatic [] NO_ENV => 0, ["proc_maps: PASS"];
    proc_maps_musl_pie: "proc_maps" MuslStaticPie [] NO_ENV => 0, ["proc_maps: PASS"];
    proc_maps_glibc: "proc_maps" GlibcStatic [] NO_ENV => 0, ["proc_maps: PASS"];

    proc_pages_musl: "proc_pages" MuslStatic [] NO_ENV => 0, ["proc_pages: PASS", "  Rss:                   0 kB"];
    proc_pages_glibc: "proc_pages" GlibcStatic [] NO_ENV => 0, ["proc_pages: PASS", "  Rss:                   0 kB"];

    files_musl: "files" MuslStatic [] NO_ENV => 0, ["files: PASS"];
    files_musl_pie: "files" MuslStaticPie [] NO_ENV => 0, ["files: PASS"];
    files_glibc: "files" GlibcStatic [] NO_ENV => 0, ["files: PASS"];

    death_null: "deaths" MuslStatic ["null"] NO_ENV => 139, ["about to die"];
    death_write_readonly: "deaths" MuslStatic ["write-readonly"] NO_ENV => 139, ["about to die"];
    death_read_none: "deaths" MuslStatic ["read-none"] NO_ENV => 139, ["about to die"];
    death_after_munmap: "deaths" MuslStatic ["after-munmap"] NO_ENV => 139, ["about to die"];
    death_exec_data: "deaths" MuslStatic ["exec-data"] NO_ENV => 139, ["about to die"];
    death_exec_data_pie: "deaths" MuslStaticPie ["exec-data"] NO_ENV => 139, ["about to die"];
    death_ud2: "deaths" MuslStatic ["ud2"] NO_ENV => 132, ["about to die"];
    death_int3: "deaths" MuslStatic ["int3"] NO_ENV => 133, ["about to die"];
    death_abort: "deaths" MuslStatic ["abort"] NO_ENV => 134, ["about to die"];
    death_abort_glibc: "deaths" GlibcStatic ["abort"] NO_ENV => 134, ["about to die"];
    death_bus: "deaths" MuslStatic ["bus"] NO_ENV => 135, ["about to die"];
    death_div0: "deaths" MuslStatic ["div0"] NO_ENV => 136, ["about to die"];
    death_none_exit_7: "deaths" MuslStatic ["exit-7"] NO_ENV => 7, ["about to die"];
}

/// The broken ELF files: Linux refuses them (126), kills them (139) or,
/// for a wrong class byte, runs them.
mod broken_elf {
    use super::*;

    fn runs(breakage: Breakage) -> (Run, std::path::PathBuf) {
        let bin = broken_binary(breakage);
        let run = run_on_host(&bin, &[breakage.name()], &[]);
        println!("---- Linux: {breakage:?}: status {} ----\n{}", run.status, run.text());
        (run, bin)
    }

    #[test]
    fn host() {
        for breakage in Breakage::ALL {
            let (run, _) = runs(breakage);
            assert_eq!(run.status, breakage.linux_status(), "{breakage:?} on Linux");
            let ran = run.text().contains("stdio_args: PASS");
            assert_eq!(
                ran,
                breakage.linux_status() == 0,
                "{breakage:?} on Linux: {}",
                run.text()
            );
        }
    }

    #[test]
    fn qemu() {
        for breakage in Breakage::ALL {
            let (linux, bin) = runs(breakage);
            let ours = run_in_qemu(&bin, &[breakage.name()], &[]);
            if breakage.our_status() == breakage.linux_status() {
                assert_same(&linux, &ours);
            } else {
                // Refused on purpose (see `our_status`): nothing runs.
                assert_eq!(ours.status, breakage.our_status(), "{breakage:?} here");
                assert!(ours.output.is_empty(), "{breakage:?} ran here");
            }
        }
    }
}

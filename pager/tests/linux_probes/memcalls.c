/*
 * Linux's answers to the memory-call cases of cases.txt, printed as facts
 * that do not depend on ASLR: addresses relative to an arena this probe
 * reserves (`@+Np`), to the break at the start of the case (`brk0+Np`), or
 * `outside`; errno names; the arena's /proc/self/maps lines.
 *
 * pager/tests/linux_differential.rs runs the same script against the
 * library and compares the two transcripts line by line.
 *
 * Usage: memcalls CASES-FILE        (every case runs in a forked child,
 *                                     unprivileged unless marked `priv`)
 *        memcalls --constants       (the symbol table, for the library's
 *                                     constants to be checked against)
 *
 * Script: `case NAME [priv]` starts a case; then one operation a line:
 *   sys NAME ARG...  [=> VAR]  raw system call, result printed
 *   read ADDR / write ADDR VALUE     a byte; SEGV if the access faults
 *   maps                             the arena's VMAs with some VmFlags
 *   mincore ADDR LEN                 the residency vector (or the errno)
 *   setrlimit RES SOFT HARD / getrlimit RES / prlimit RES SOFT HARD
 *   bss_readonly                     mprotect this probe's 16 MiB bss
 *                                    read-only
 *   gap0                             the mmap gap below the stack with
 *                                    randomization off (a re-exec under
 *                                    personality(ADDR_NO_RANDOMIZE))
 * An argument is terms joined by + - |: numbers (suffix p = pages, k, m,
 * g), `@` (the arena; `@16p` is `@+16p`), `$VAR`, `brk0`, `vmdata`,
 * `vmlck`, `vmsize` (from /proc/self/status, bytes), `inf`, or a constant
 * of the table below.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL
/* The arena, at the bottom of a larger free region so that top-down
 * placement (no hint) lands above it, outside. */
#define ARENA (64UL << 20)
#define REGION (1UL << 30)
#define BSS_BYTES (16UL << 20)

static char big_bss[BSS_BYTES] __attribute__((aligned(4096)));
static uintptr_t arena, brk0;
static sigjmp_buf on_fault;
static char out[1 << 16];

static void say(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, sizeof out, fmt, ap);
	va_end(ap);
	if (write(1, out, (size_t)n) < 0)
		_exit(3);
}

struct sym {
	const char *name;
	unsigned long value;
};

static const struct sym SYMS[] = {
	{"PROT_NONE", 0}, {"PROT_READ", 1}, {"PROT_WRITE", 2}, {"PROT_EXEC", 4},
	{"PROT_SEM", 8}, {"PROT_GROWSDOWN", 0x01000000}, {"PROT_GROWSUP", 0x02000000},
	{"MAP_SHARED", MAP_SHARED}, {"MAP_PRIVATE", MAP_PRIVATE},
	{"MAP_SHARED_VALIDATE", 0x03}, {"MAP_DROPPABLE", 0x08},
	{"MAP_FIXED", MAP_FIXED}, {"MAP_ANONYMOUS", MAP_ANONYMOUS},
	{"MAP_32BIT", MAP_32BIT}, {"MAP_GROWSDOWN", MAP_GROWSDOWN},
	{"MAP_DENYWRITE", MAP_DENYWRITE}, {"MAP_EXECUTABLE", MAP_EXECUTABLE},
	{"MAP_LOCKED", MAP_LOCKED}, {"MAP_NORESERVE", MAP_NORESERVE},
	{"MAP_POPULATE", MAP_POPULATE}, {"MAP_NONBLOCK", MAP_NONBLOCK},
	{"MAP_STACK", MAP_STACK}, {"MAP_HUGETLB", MAP_HUGETLB},
	{"MAP_SYNC", 0x80000}, {"MAP_FIXED_NOREPLACE", 0x100000},
	{"MAP_UNINITIALIZED", 0x4000000}, {"MAP_HUGE_2MB", 21UL << 26},
	{"MAP_HUGE_1GB", 30UL << 26}, {"MAP_HUGE_BAD", 13UL << 26},
	{"MREMAP_MAYMOVE", 1}, {"MREMAP_FIXED", 2}, {"MREMAP_DONTUNMAP", 4},
	{"MADV_NORMAL", 0}, {"MADV_RANDOM", 1}, {"MADV_SEQUENTIAL", 2},
	{"MADV_WILLNEED", 3}, {"MADV_DONTNEED", 4}, {"MADV_FREE", 8},
	{"MADV_REMOVE", 9}, {"MADV_DONTFORK", 10}, {"MADV_DOFORK", 11},
	{"MADV_MERGEABLE", 12}, {"MADV_UNMERGEABLE", 13}, {"MADV_HUGEPAGE", 14},
	{"MADV_NOHUGEPAGE", 15}, {"MADV_DONTDUMP", 16}, {"MADV_DODUMP", 17},
	{"MADV_WIPEONFORK", 18}, {"MADV_KEEPONFORK", 19}, {"MADV_COLD", 20},
	{"MADV_PAGEOUT", 21}, {"MADV_POPULATE_READ", 22},
	{"MADV_POPULATE_WRITE", 23}, {"MADV_DONTNEED_LOCKED", 24},
	{"MADV_COLLAPSE", 25}, {"MADV_HWPOISON", 100},
	{"MADV_SOFT_OFFLINE", 101}, {"MADV_GUARD_INSTALL", 102},
	{"MADV_GUARD_REMOVE", 103},
	{"MS_ASYNC", MS_ASYNC}, {"MS_INVALIDATE", MS_INVALIDATE}, {"MS_SYNC", MS_SYNC},
	{"MCL_CURRENT", 1}, {"MCL_FUTURE", 2}, {"MCL_ONFAULT", 4},
	{"MLOCK_ONFAULT", 1},
	{"RLIMIT_CPU", RLIMIT_CPU}, {"RLIMIT_FSIZE", RLIMIT_FSIZE},
	{"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_STACK", RLIMIT_STACK},
	{"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_NPROC", RLIMIT_NPROC}, {"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_AS", RLIMIT_AS},
	{"RLIMIT_LOCKS", RLIMIT_LOCKS}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},
	{"SYS_mmap", SYS_mmap}, {"SYS_mprotect", SYS_mprotect},
	{"SYS_munmap", SYS_munmap}, {"SYS_brk", SYS_brk},
	{"SYS_mremap", SYS_mremap}, {"SYS_msync", SYS_msync},
	{"SYS_mincore", SYS_mincore}, {"SYS_madvise", SYS_madvise},
	{"SYS_getrlimit", SYS_getrlimit}, {"SYS_setrlimit", SYS_setrlimit},
	{"SYS_mlock", SYS_mlock}, {"SYS_munlock", SYS_munlock},
	{"SYS_mlockall", SYS_mlockall}, {"SYS_munlockall", SYS_munlockall},
	{"SYS_prlimit64", SYS_prlimit64}, {"SYS_mlock2", 325},
	{0, 0},
};

static const char *const ERRNOS[] = {
	[EPERM] = "EPERM", [ENOENT] = "ENOENT", [ESRCH] = "ESRCH",
	[EBADF] = "EBADF", [EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM",
	[EACCES] = "EACCES", [EFAULT] = "EFAULT", [EBUSY] = "EBUSY",
	[EEXIST] = "EEXIST", [ENODEV] = "ENODEV", [EINVAL] = "EINVAL",
	[ENOSPC] = "ENOSPC", [ENOSYS] = "ENOSYS", [EOVERFLOW] = "EOVERFLOW",
	[EOPNOTSUPP] = "EOPNOTSUPP",
};

static struct {
	char name[32];
	unsigned long value;
} vars[64];
static int nvars;

static unsigned long status_bytes(const char *key) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long kb = 0;
	size_t n = strlen(key);
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, key, n) && line[n] == ':')
			kb = strtoul(line + n + 1, 0, 10);
	if (f)
		fclose(f);
	return kb << 10;
}

static unsigned long term(const char **p) {
	const char *s = *p;
	if (*s == '@') {
		*p = s + 1;
		return arena;
	}
	if (isdigit((unsigned char)*s)) {
		char *end;
		unsigned long v = strtoul(s, &end, 0);
		switch (*end) {
		case 'p': v *= PAGE; end++; break;
		case 'k': v <<= 10; end++; break;
		case 'm': v <<= 20; end++; break;
		case 'g': v <<= 30; end++; break;
		}
		*p = end;
		return v;
	}
	char word[64];
	int n = 0;
	if (*s == '$')
		s++;
	while ((isalnum((unsigned char)*s) || *s == '_') && n < 63)
		word[n++] = *s++;
	word[n] = 0;
	*p = s;
	if (!strcmp(word, "brk0")) return brk0;
	if (!strcmp(word, "vmdata")) return status_bytes("VmData");
	if (!strcmp(word, "vmlck")) return status_bytes("VmLck");
	if (!strcmp(word, "vmsize")) return status_bytes("VmSize");
	if (!strcmp(word, "inf")) return RLIM_INFINITY;
	for (int i = 0; i < nvars; i++)
		if (!strcmp(vars[i].name, word))
			return vars[i].value;
	for (const struct sym *y = SYMS; y->name; y++)
		if (!strcmp(y->name, word))
			return y->value;
	say("bad term %s\n", word);
	_exit(2);
}

static unsigned long expr(const char *s) {
	unsigned long v = 0;
	char op = '+';
	if (*s == '-') {
		op = '-';
		s++;
	}
	for (;;) {
		int after_arena = *s == '@';
		unsigned long t = term(&s);
		v = op == '+' ? v + t : op == '-' ? v - t : v | t;
		if (after_arena && isdigit((unsigned char)*s)) {
			op = '+';
			continue;
		}
		if (!*s)
			return v;
		op = *s++;
	}
}

/* An address or value as a fact that does not depend on ASLR. */
static void fact(char *buf, size_t n, unsigned long v) {
	if (v >= arena && v < arena + ARENA)
		snprintf(buf, n, "@+%lup%s", (v - arena) / PAGE, (v - arena) % PAGE ? "+" : "");
	else if (v < 0x10000)
		snprintf(buf, n, "%lu", v);
	else if (v >= (1UL << 30) && v < (2UL << 30))
		snprintf(buf, n, "1g..2g");
	else if (brk0 && v + (1UL << 30) >= brk0 && v <= brk0 + (1UL << 30))
		snprintf(buf, n, "brk0%s%lup", v >= brk0 ? "+" : "-",
			 (v >= brk0 ? v - brk0 : brk0 - v) / PAGE);
	else
		snprintf(buf, n, "outside");
}

static void result(long r) {
	char buf[64];
	if (r < 0 && r > -4096) {
		int e = (int)-r;
		say("%s\n", e < (int)(sizeof ERRNOS / sizeof *ERRNOS) && ERRNOS[e] ? ERRNOS[e] : "E?");
		return;
	}
	fact(buf, sizeof buf, (unsigned long)r);
	say("%s\n", buf);
}

static void on_signal(int sig) {
	siglongjmp(on_fault, sig);
}

static long sys_by_name(const char *name) {
	char full[64];
	snprintf(full, sizeof full, "SYS_%s", name);
	for (const struct sym *y = SYMS; y->name; y++)
		if (!strcmp(y->name, full))
			return (long)y->value;
	say("bad syscall %s\n", name);
	_exit(2);
}

/* The arena's VMAs from /proc/self/smaps: range, perms, and the VmFlags
 * the library models. */
static void maps(void) {
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;
	while (f && fgets(line, sizeof line, f)) {
		unsigned long s, e;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3 && strchr(line, ' ') - line < 40 &&
		    isxdigit((unsigned char)line[0])) {
			in = s >= arena && e <= arena + ARENA;
			if (in)
				say("  @+%lup-@+%lup %s", (s - arena) / PAGE, (e - arena) / PAGE, perms);
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			static const char *const shown[] = {"gd", "lo", "lf", "sr", "rr", "dc", "dd", "wf", 0};
			for (const char *const *m = shown; *m; m++) {
				char pat[5] = {' ', (*m)[0], (*m)[1], ' ', 0};
				if (strstr(line + 8, pat))
					say(" %s", *m);
			}
			say("\n");
		}
	}
	if (f)
		fclose(f);
}

static void run_op(char **argv, int nargs) {
	volatile int argc = nargs;
	const char *op = argv[0];
	const char *var = argc >= 2 && !strcmp(argv[argc - 2], "=>") ? argv[argc - 1] : 0;
	if (var)
		argc -= 2;
	volatile long r = 0;
	int sig = sigsetjmp(on_fault, 1);
	if (sig) {
		say("%s\n", sig == SIGBUS ? "BUS" : "SEGV");
		return;
	}
	if (!strcmp(op, "sys")) {
		unsigned long a[6] = {0};
		for (int i = 2; i < argc && i < 8; i++)
			a[i - 2] = expr(argv[i]);
		r = syscall(sys_by_name(argv[1]), a[0], a[1], a[2], a[3], a[4], a[5]);
		if (r == -1)
			r = -errno;
		result(r);
	} else if (!strcmp(op, "read")) {
		volatile unsigned char *p = (unsigned char *)expr(argv[1]);
		say("%u\n", *p);
	} else if (!strcmp(op, "write")) {
		volatile unsigned char *p = (unsigned char *)expr(argv[1]);
		*p = (unsigned char)expr(argv[2]);
		say("ok\n");
	} else if (!strcmp(op, "maps")) {
		say("\n");
		maps();
	} else if (!strcmp(op, "mincore")) {
		static unsigned char vec[4096];
		unsigned long len = expr(argv[2]);
		r = syscall(SYS_mincore, expr(argv[1]), len, vec);
		if (r < 0) {
			result(-errno);
		} else {
			for (unsigned long i = 0; i < (len + PAGE - 1) / PAGE && i < sizeof vec; i++)
				say("%u", vec[i] & 1);
			say("\n");
		}
	} else if (!strcmp(op, "setrlimit") || !strcmp(op, "prlimit")) {
		struct rlimit new = {expr(argv[2]), expr(argv[3])}, old;
		if (!strcmp(op, "setrlimit")) {
			r = syscall(SYS_setrlimit, expr(argv[1]), &new);
			result(r < 0 ? -errno : r);
		} else {
			r = syscall(SYS_prlimit64, 0, expr(argv[1]), &new, &old);
			if (r < 0)
				result(-errno);
			else
				say("0 old %lu %lu\n", old.rlim_cur, old.rlim_max);
		}
	} else if (!strcmp(op, "getrlimit")) {
		struct rlimit old;
		r = syscall(SYS_getrlimit, expr(argv[1]), &old);
		if (r < 0)
			result(-errno);
		else
			say("%lu %lu\n", old.rlim_cur, old.rlim_max);
	} else if (!strcmp(op, "bss_readonly")) {
		r = mprotect(big_bss, BSS_BYTES, PROT_READ);
		result(r < 0 ? -errno : r);
	} else if (!strcmp(op, "gap0")) {
		int fd[2];
		char buf[64] = {0};
		if (pipe(fd))
			_exit(3);
		pid_t pid = fork();
		if (!pid) {
			dup2(fd[1], 1);
			personality(ADDR_NO_RANDOMIZE);
			execl("/proc/self/exe", "memcalls", "--gap-report", (char *)0);
			_exit(4);
		}
		close(fd[1]);
		ssize_t n = read(fd[0], buf, sizeof buf - 1);
		waitpid(pid, 0, 0);
		say("%s", n > 0 ? buf : "?\n");
	} else {
		say("bad op %s\n", op);
		_exit(2);
	}
	if (var && nvars < 64) {
		snprintf(vars[nvars].name, sizeof vars[nvars].name, "%s", var);
		vars[nvars++].value = (unsigned long)r;
	}
}

/* With randomization off: the bytes between the stack top (TASK_SIZE) and
 * the highest mapping below the stack (which ends at the mmap base). */
static int gap_report(void) {
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned long top = 0;
	const unsigned long task_size = 0x7ffffffff000UL;
	while (f && fgets(line, sizeof line, f)) {
		unsigned long s, e;
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && !strstr(line, "[stack]") && e <= task_size && e > top)
			top = e;
	}
	printf("%lu MiB\n", (task_size - top) >> 20);
	return 0;
}

/* Runs one case's lines (NUL-separated ops) in this (forked) process. */
static void run_case(char *ops, size_t len, int privileged) {
	if (privileged && geteuid() != 0) {
		say("skip: needs root\n");
		return;
	}
	if (!privileged && geteuid() == 0 && setresuid(65534, 65534, 65534)) {
		say("cannot drop privileges\n");
		_exit(3);
	}
	/* Dropping privileges made /proc/self root's: readable again. */
	syscall(SYS_prctl, 4 /* PR_SET_DUMPABLE */, 1, 0, 0, 0);
	static char altstack[1 << 16];
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
	sigaltstack(&ss, 0);
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_NODEFER | SA_ONSTACK};
	sigaction(SIGSEGV, &sa, 0);
	sigaction(SIGBUS, &sa, 0);
	void *region = mmap(0, REGION, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED)
		_exit(3);
	munmap(region, REGION);
	arena = (uintptr_t)region;
	/* malloc's heap exists before the first break is taken (reading
	 * /proc/self/status allocates). */
	(void)status_bytes("VmData");
	brk0 = (uintptr_t)syscall(SYS_brk, 0);
	for (char *op = ops; op < ops + len; op += strlen(op) + 1) {
		char copy[4096], *argv[16], *save = 0;
		int argc = 0;
		snprintf(copy, sizeof copy, "%s", op);
		for (char *t = strtok_r(copy, " \t", &save); t && argc < 16; t = strtok_r(0, " \t", &save))
			argv[argc++] = t;
		if (!argc)
			continue;
		say("%s -> ", op);
		run_op(argv, argc);
	}
}

int main(int argc, char **argv) {
	if (argc == 2 && !strcmp(argv[1], "--gap-report"))
		return gap_report();
	if (argc == 2 && !strcmp(argv[1], "--constants")) {
		for (const struct sym *y = SYMS; y->name; y++)
			printf("%s %lu\n", y->name, y->value);
		return 0;
	}
	if (argc != 2)
		return 2;
	FILE *f = fopen(argv[1], "r");
	if (!f)
		return 2;
	static char script[1 << 20];
	size_t n = fread(script, 1, sizeof script - 1, f);
	fclose(f);
	script[n] = 0;
	/* Cases: a `case` line, then its ops up to the next `case`. */
	static char ops[1 << 20];
	size_t used = 0;
	char name[128] = "";
	int privileged = 0, have = 0;
	for (char *line = script;; ) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		while (*line == ' ' || *line == '\t')
			line++;
		int is_case = !strncmp(line, "case ", 5);
		if ((is_case || !nl) && have) {
			say("case %s\n", name);
			pid_t pid = fork();
			if (!pid) {
				run_case(ops, used, privileged);
				_exit(0);
			}
			int status;
			waitpid(pid, &status, 0);
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				say("case died: %d\n", status);
			have = 0;
			used = 0;
		}
		if (is_case) {
			char flag[16] = "";
			sscanf(line + 5, "%127s %15s", name, flag);
			privileged = !strcmp(flag, "priv");
			have = 1;
		} else if (have && *line && *line != '#') {
			size_t l = strlen(line) + 1;
			memcpy(ops + used, line, l);
			used += l;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return 0;
}

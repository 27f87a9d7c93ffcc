/* The time calls through the vDSO: clock_gettime, gettimeofday, time,
 * clock_getres and getcpu as the C library calls them (musl and glibc
 * find the vDSO through AT_SYSINFO_EHDR themselves). Prints facts, no
 * times, so Linux's run and ours compare; `realtime` prints the wall
 * time's seconds for a test that compares them with the host's clock,
 * `where` the vDSO's address for the ASLR test;
 * `write` and `unmap` vandalize the vDSO and then call it (death: SIGTRAP
 * on the int3 bytes written, SIGSEGV on the unmapped page).
 *
 * The kernel-entry count is this project's: system call 511, which the
 * pager answers with the calling thread's count of system calls and
 * exceptions. On Linux it is ENOSYS (and its vDSO enters no kernel
 * either), so both sides print the same line. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "check.h"

#define NR_KERNEL_ENTRIES 511

#include <elf.h>

/* A symbol of the vDSO, found as a dynamic linker would: through its
 * program headers, PT_DYNAMIC, and DT_HASH's chain count over DT_SYMTAB
 * (musl's clock_getres does not use the vDSO, so the test calls it). */
static void *vdso_sym(const char *name)
{
    const char *base = (const char *)getauxval(AT_SYSINFO_EHDR);
    if (!base)
        return NULL;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    const Elf64_Dyn *dyn = NULL;
    uintptr_t bias = (uintptr_t)base;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0)
            bias = (uintptr_t)base - ph[i].p_vaddr;
        if (ph[i].p_type == PT_DYNAMIC)
            dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
    }
    const Elf64_Sym *syms = NULL;
    const char *strs = NULL;
    const Elf32_Word *hash = NULL;
    for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
        if (dyn->d_tag == DT_SYMTAB)
            syms = (const Elf64_Sym *)(bias + dyn->d_un.d_ptr);
        if (dyn->d_tag == DT_STRTAB)
            strs = (const char *)(bias + dyn->d_un.d_ptr);
        if (dyn->d_tag == DT_HASH)
            hash = (const Elf32_Word *)(bias + dyn->d_un.d_ptr);
    }
    if (!syms || !strs || !hash)
        return NULL;
    for (Elf32_Word i = 0; i < hash[1]; i++)
        if (syms[i].st_shndx != SHN_UNDEF && strcmp(strs + syms[i].st_name, name) == 0)
            return (void *)(bias + syms[i].st_value);
    return NULL;
}

static long entries(void)
{
    return syscall(NR_KERNEL_ENTRIES);
}

static int64_t ns_of(struct timespec t)
{
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int vandalize(const char *how)
{
    unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
    check(vdso != 0, "the vDSO is mapped");
    struct timespec t;
    check(clock_gettime(CLOCK_MONOTONIC, &t) == 0, "clock_gettime works before");
    if (strcmp(how, "write") == 0) {
        check(mprotect((void *)vdso, 8192, PROT_READ | PROT_WRITE | PROT_EXEC) == 0 ||
                  mprotect((void *)vdso, 8192, PROT_READ | PROT_WRITE) == 0,
              "mprotect makes the vDSO writable");
        /* int3 over the code: the next call traps. */
        memset((char *)vdso + 0x100, 0xcc, 8192 - 0x100);
        mprotect((void *)vdso, 8192, PROT_READ | PROT_EXEC);
    } else {
        check(munmap((void *)vdso, 8192) == 0, "munmap of the vDSO");
    }
    printf("about to call the vandalized vDSO\n");
    fflush(stdout);
    clock_gettime(CLOCK_MONOTONIC, &t);
    printf("SURVIVED\n");
    return 1;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "realtime") == 0) {
        struct timespec t;
        check(clock_gettime(CLOCK_REALTIME, &t) == 0, "clock_gettime(CLOCK_REALTIME)");
        printf("realtime %lld\n", (long long)t.tv_sec);
        return check_report("vdso_time");
    }
    if (argc > 1 && strcmp(argv[1], "where") == 0) {
        printf("vdso %#lx\n", getauxval(AT_SYSINFO_EHDR));
        return 0;
    }
    if (argc > 1)
        return vandalize(argv[1]);

    check(getauxval(AT_SYSINFO_EHDR) != 0, "AT_SYSINFO_EHDR is set");

    /* 100,000 monotonic reads: never backwards, and no kernel entry. */
    struct timespec t;
    int ok = clock_gettime(CLOCK_MONOTONIC, &t) == 0;
    int64_t last = ns_of(t);
    long before = entries();
    int monotonic = 1;
    for (int i = 0; i < 100000; i++) {
        ok &= clock_gettime(CLOCK_MONOTONIC, &t) == 0;
        monotonic &= ns_of(t) >= last;
        last = ns_of(t);
    }
    long after = entries();
    check(ok, "100,000 clock_gettime(CLOCK_MONOTONIC) succeed");
    check(monotonic, "and never go backwards");
    long during = before < 0 ? 0 : after - before - 1;
    printf("kernel entries during the loop: %ld\n", during);

    /* The wall clocks agree: time() is the coarse clock's seconds, so it
     * may trail the fine clocks by a tick, never lead them. */
    time_t t1 = time(NULL);
    struct timeval tv;
    check(gettimeofday(&tv, NULL) == 0, "gettimeofday");
    struct timespec ts;
    check(clock_gettime(CLOCK_REALTIME, &ts) == 0, "clock_gettime(CLOCK_REALTIME)");
    time_t t2 = time(NULL);
    check(t1 <= tv.tv_sec, "time() does not lead gettimeofday()");
    check((int64_t)tv.tv_sec * 1000000 + tv.tv_usec <= ns_of(ts) / 1000,
          "gettimeofday() does not lead clock_gettime(CLOCK_REALTIME)");
    check(ts.tv_sec <= t2 + 1 && t2 <= ts.tv_sec, "time() follows clock_gettime(CLOCK_REALTIME) within a tick");
    check(ts.tv_sec > 1577836800, "the wall time is after 2020");

    struct timespec coarse, fine;
    check(clock_gettime(CLOCK_REALTIME_COARSE, &coarse) == 0, "clock_gettime(CLOCK_REALTIME_COARSE)");
    check(clock_gettime(CLOCK_REALTIME, &fine) == 0 && ns_of(coarse) <= ns_of(fine) &&
              ns_of(fine) - ns_of(coarse) < 1000000000,
          "the coarse wall clock trails the fine one by less than a second");
    struct timespec mono, raw, boot, mcoarse;
    check(clock_gettime(CLOCK_MONOTONIC_COARSE, &mcoarse) == 0, "clock_gettime(CLOCK_MONOTONIC_COARSE)");
    check(clock_gettime(CLOCK_MONOTONIC, &mono) == 0, "clock_gettime(CLOCK_MONOTONIC)");
    check(clock_gettime(CLOCK_MONOTONIC_RAW, &raw) == 0, "clock_gettime(CLOCK_MONOTONIC_RAW)");
    check(clock_gettime(CLOCK_BOOTTIME, &boot) == 0, "clock_gettime(CLOCK_BOOTTIME)");
    check(ns_of(mcoarse) <= ns_of(mono) && ns_of(mono) <= ns_of(boot), "coarse <= monotonic <= boottime");

    int (*getres)(clockid_t, struct timespec *) = vdso_sym("__vdso_clock_getres");
    check(getres && vdso_sym("clock_getres") == (void *)getres, "the vDSO exports __vdso_clock_getres and its alias");
    struct timespec res = {0, 0};
    check(getres && getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec == 1,
          "__vdso_clock_getres(CLOCK_MONOTONIC) is 1 ns");
    check(getres && getres(CLOCK_MONOTONIC_COARSE, &res) == 0 && res.tv_sec == 0 && res.tv_nsec >= 1000000 &&
              res.tv_nsec <= 10000000,
          "__vdso_clock_getres(CLOCK_MONOTONIC_COARSE) is a tick of 1 to 10 ms");
    static const char *const names[] = {"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time",
                                        "__vdso_getcpu", "clock_gettime", "gettimeofday", "time", "getcpu"};
    int all = 1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        all &= vdso_sym(names[i]) != NULL;
    check(all, "the vDSO exports every entry point and alias");
    long (*vgetcpu)(unsigned *, unsigned *, void *) = vdso_sym("__vdso_getcpu");
    unsigned vcpu = 99, node = 99;
    check(vgetcpu && vgetcpu(&vcpu, &node, NULL) == 0 && node == 0, "__vdso_getcpu succeeds, node 0");
    time_t (*vtime)(time_t *) = vdso_sym("__vdso_time");
    time_t vt = 0;
    check(vtime && vtime(&vt) == vt && vt >= t1, "__vdso_time agrees with time()");

    /* getcpu: a CPU that exists; 0 when there is one. */
    int cpu = sched_getcpu();
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    check(cpu >= 0 && cpu < (cpus > 0 ? cpus : 1) && (cpus > 1 || cpu == 0),
          "getcpu names an online CPU (0 on one CPU)");
    return check_report("vdso_time");
}

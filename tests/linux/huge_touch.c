/* 2 MiB pages: the first touch of a 2 MiB-aligned 64 MiB anonymous
 * mapping, then a partial munmap, a partial mprotect and a whole munmap of
 * some of its 2 MiB pages. After each step it prints the mapping's
 * AnonHugePages and Rss summed over its VMAs in /proc/self/smaps, as Linux
 * (with transparent huge pages on) reports them: a partial unmap or
 * protection change splits the 2 MiB page it falls in, which then counts
 * as 4 KiB pages. On this project's kernel it also prints how many faults
 * the touch took (system call 511, the thread's kernel entries; ENOSYS on
 * Linux). Every page keeps its bytes through the splits. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define NR_KERNEL_ENTRIES 511
#define PAGE 4096UL
#define HUGE (2UL << 20)
#define SIZE (64UL << 20)

/* AnonHugePages and Rss (kB) summed over the VMAs overlapping [lo, hi). */
static void usage(uintptr_t lo, uintptr_t hi, long *huge, long *rss)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int inside = 0;
    *huge = *rss = 0;
    if (!f) {
        check(0, "open smaps");
        return;
    }
    while (fgets(line, sizeof line, f)) {
        unsigned long start, end;
        long kb;
        if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' '))
            inside = start < hi && end > lo;
        else if (inside && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
            *huge += kb;
        else if (inside && sscanf(line, "Rss: %ld kB", &kb) == 1)
            *rss += kb;
    }
    fclose(f);
}

static void report(const char *step, char *p)
{
    long huge, rss;
    usage((uintptr_t)p, (uintptr_t)p + SIZE, &huge, &rss);
    printf("%s: AnonHugePages %ld kB, Rss %ld kB\n", step, huge, rss);
}

int main(void)
{
    char *raw = mmap(0, SIZE + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(raw != MAP_FAILED, "mmap");
    if (raw == MAP_FAILED)
        return 1;
    /* Exactly the 2 MiB-aligned 64 MiB: trim the head and the tail. */
    char *p = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
    if (p > raw)
        check(munmap(raw, p - raw) == 0, "trim head");
    if (raw + SIZE + HUGE > p + SIZE)
        check(munmap(p + SIZE, raw + SIZE + HUGE - (p + SIZE)) == 0, "trim tail");
    /* For Linux with enabled=madvise; a hint to this pager too. */
    check(madvise(p, SIZE, MADV_HUGEPAGE) == 0, "madvise hugepage");

    long before = syscall(NR_KERNEL_ENTRIES);
    for (size_t i = 0; i < SIZE / PAGE; i++)
        p[i * PAGE] = (char)(i * 7 + 1);
    long after = syscall(NR_KERNEL_ENTRIES);
    if (before >= 0 && after >= 0)
        /* The second call is an entry too. */
        printf("first touch faults: %ld\n", after - before - 1);
    else
        printf("first touch faults: unknown (no system call 511)\n");
    report("after the first touch", p);

    check(munmap(p + 1 * HUGE + 5 * PAGE, PAGE) == 0, "munmap one page of a 2 MiB page");
    report("after a partial munmap", p);
    check(mprotect(p + 2 * HUGE + 3 * PAGE, PAGE, PROT_READ) == 0, "mprotect one page of a 2 MiB page");
    report("after a partial mprotect", p);
    check(munmap(p + 4 * HUGE, HUGE) == 0, "munmap a whole 2 MiB page");
    report("after a whole munmap", p);

    int intact = 1;
    for (size_t i = 0; i < SIZE / PAGE; i++) {
        uintptr_t at = i * PAGE;
        if (at == HUGE + 5 * PAGE || (at >= 4 * HUGE && at < 5 * HUGE))
            continue;
        intact &= p[at] == (char)(i * 7 + 1);
    }
    check(intact, "every page kept its byte");
    return check_failures != 0;
}

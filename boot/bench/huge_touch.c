/* First touch with 2 MiB pages: map 256 MiB + 2 MiB anonymous private
 * read/write, keep the 2 MiB-aligned 256 MiB inside it, advise
 * MADV_HUGEPAGE (for a Linux whose transparent huge pages are enabled only
 * where advised; a hint to this project's pager too), write one byte to
 * each 4 KiB page in ascending order, 3 rounds. Figure: rdtsc ticks per
 * 4 KiB page (guest instructions under -icount shift=0), the last round's.
 * Run on this project's kernel with policy=huge and on Linux with
 * transparent huge pages on, both with -m 2G (Linux turns them off below
 * 512 MiB of memory). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>
#include <x86intrin.h>

#define PAGE 4096UL
#define HUGE (2UL << 20)
#define SIZE (256UL << 20)

/* Prints the lines of `path` that start with `key`. */
static void grep(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, strlen(key)) == 0)
            printf("hugebench %s", line);
    if (f)
        fclose(f);
}

int main(void)
{
    if (getpid() == 1) {
        /* Linux's /init: /proc and /sys for the checks below. */
        mkdir("/proc", 0755);
        mount("proc", "/proc", "proc", 0, NULL);
        mkdir("/sys", 0755);
        mount("sysfs", "/sys", "sysfs", 0, NULL);
    }
    for (int round = 0; round < 3; round++) {
        char *raw = mmap(0, SIZE + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        char *p = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
        if (madvise(p, SIZE, MADV_HUGEPAGE) != 0)
            perror("madvise");
        uint64_t c0 = __rdtsc();
        for (size_t i = 0; i < SIZE / PAGE; i++)
            p[i * PAGE] = 1;
        uint64_t c1 = __rdtsc();
        printf("hugebench first_touch round=%d pages=%zu ticks_per_page=%.0f\n", round, SIZE / PAGE,
               (double)(c1 - c0) / (SIZE / PAGE));
        grep("/proc/self/smaps_rollup", "AnonHugePages:");
        munmap(raw, SIZE + HUGE);
    }
    grep("/sys/kernel/mm/transparent_hugepage/enabled", "");
    fflush(stdout);
    if (getpid() == 1)
        reboot(RB_POWER_OFF);
    return 0;
}

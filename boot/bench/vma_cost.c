/* The address-space costs of issue 14's honest benchmark, one static
 * binary run on both kernels (fault-bench runs it through our exec path
 * and as /init of Linux in the same QEMU):
 *
 *   - existing_fault: a write fault on a page of a mapping that already
 *     exists (the mapping is made once; 1024 samples, one page each);
 *   - for N = 10, 1000 and 30000 VMAs (one-page mappings of alternating
 *     protection, so none merge):
 *       maps_per_vma  a whole read of /proc/self/maps, 64 KiB per read(),
 *                     divided by its number of lines;
 *       maps_4k       one 4 KiB read() of a freshly opened maps;
 *       mmap_munmap   one anonymous mmap and its munmap, per pair;
 *       smaps_per_vma a whole read of /proc/self/smaps, 64 KiB per read(),
 *                     divided by the VMA count (maps' lines);
 *   - mem_64k: 64 KiB of /proc/self/mem (resident pages) by pread()s;
 *   - pagemap_8k: one 8 KiB pread() of /proc/self/pagemap: the entries of
 *     1,024 resident pages.
 *
 * Figures are rdtsc ticks: guest instructions under -icount shift=0.
 * Output lines: "vmacost NAME=VALUE ...", one per N. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/reboot.h>
#include <unistd.h>
#include <x86intrin.h>

#define PAGE 4096UL

static char buf[64 * 1024];

/* Ticks of a whole read of `path`; its line count in *lines. */
static uint64_t whole_read(const char *path, long *lines)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    long count = 0;
    uint64_t t0 = __rdtsc();
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            count += buf[i] == '\n';
    }
    uint64_t t1 = __rdtsc();
    close(fd);
    *lines = count;
    return t1 - t0;
}

/* Ticks of pread()s of `len` bytes of `path` at `offset`. */
static uint64_t one_pread(const char *path, size_t len, uint64_t offset)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    size_t done = 0;
    uint64_t t0 = __rdtsc();
    /* A short read is allowed (ours moves at most 32 KiB per call): the
     * figure is for all `len` bytes. */
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, (off_t)(offset + done));
        if (n <= 0) {
            perror(path);
            exit(1);
        }
        done += (size_t)n;
    }
    uint64_t t1 = __rdtsc();
    close(fd);
    return t1 - t0;
}

static uint64_t one_4k_read(void)
{
    int fd = open("/proc/self/maps", O_RDONLY);
    uint64_t t0 = __rdtsc();
    ssize_t n = read(fd, buf, 4096);
    uint64_t t1 = __rdtsc();
    close(fd);
    if (n <= 0) {
        perror("read /proc/self/maps");
        exit(1);
    }
    return t1 - t0;
}

static uint64_t mmap_munmap(void)
{
    const int pairs = 200;
    uint64_t t0 = __rdtsc();
    for (int i = 0; i < pairs; i++) {
        void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            perror("mmap");
            exit(1);
        }
        munmap(p, PAGE);
    }
    return (__rdtsc() - t0) / pairs;
}

int main(void)
{
    if (getpid() == 1) {
        /* /init of a bare Linux guest: /proc is not mounted yet. */
        mkdir("/proc", 0555);
        if (mount("proc", "/proc", "proc", 0, NULL) != 0) {
            perror("mount /proc");
            return 1;
        }
    }
    const int samples = 1024;
    char *region = mmap(NULL, samples * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    uint64_t total = 0;
    for (int i = 0; i < samples; i++) {
        volatile char *p = region + i * PAGE;
        uint64_t t0 = __rdtsc();
        *p = 1;
        total += __rdtsc() - t0;
    }
    printf("vmacost existing_fault=%llu\n", (unsigned long long)(total / samples));
    uint64_t mem = one_pread("/proc/self/mem", 64 * 1024, (uint64_t)(uintptr_t)region);
    uint64_t pagemap = one_pread("/proc/self/pagemap", samples * 8, (uint64_t)(uintptr_t)region / PAGE * 8);
    printf("vmacost mem_64k=%llu pagemap_8k=%llu\n", (unsigned long long)mem, (unsigned long long)pagemap);

    /* The VMAs, in one reserved range: every other page read-only. */
    const long counts[] = {10, 1000, 30000};
    const long most = 30000;
    char *base = mmap(NULL, most * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    munmap(base, most * PAGE);
    long made = 0;
    for (unsigned c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        for (; made < counts[c]; made++) {
            int prot = made % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
            if (mmap(base + made * PAGE, PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
                perror("mmap fixed");
                return 1;
            }
        }
        long lines;
        uint64_t whole = whole_read("/proc/self/maps", &lines);
        uint64_t first = one_4k_read();
        long smaps_lines;
        uint64_t smaps = whole_read("/proc/self/smaps", &smaps_lines);
        printf("vmacost vmas=%ld lines=%ld maps_per_vma=%llu maps_4k=%llu mmap_munmap=%llu smaps_per_vma=%llu\n", made,
               lines, (unsigned long long)(whole / (uint64_t)lines), (unsigned long long)first,
               (unsigned long long)mmap_munmap(), (unsigned long long)(smaps / (uint64_t)lines));
    }
    fflush(stdout);
    if (getpid() == 1)
        reboot(RB_POWER_OFF);
    return 0;
}

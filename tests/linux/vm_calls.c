/* brk, mmap, munmap, mprotect, mremap and madvise(MADV_DONTNEED) as Linux
 * defines them: results, errors and what is mapped afterwards. Whether a
 * page is mapped is asked without touching it: madvise(MADV_NORMAL)
 * fails with ENOMEM on an unmapped range. */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "check.h"

#define PAGE 4096ul
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static uintptr_t sys_brk(uintptr_t to)
{
    return (uintptr_t)syscall(SYS_brk, to);
}

static int mapped(uintptr_t addr)
{
    return madvise((void *)(addr & ~(PAGE - 1)), PAGE, MADV_NORMAL) == 0;
}

/* The error checks call the kernel directly where a libc would round or
 * check the arguments itself (musl's mprotect rounds the start down). */

/* Every byte of [p, p + len) equals `byte`. */
static int all(const void *p, size_t len, unsigned char byte)
{
    const volatile unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        if (b[i] != byte)
            return 0;
    return 1;
}

static char *map(void *hint, size_t len, int prot, int flags)
{
    return mmap(hint, len, prot, flags, -1, 0);
}

static void brk_calls(void)
{
    uintptr_t b0 = sys_brk(0);
    check(b0 % PAGE == 0, "brk: the initial break is page-aligned");
    check(sys_brk(b0 + 100) == b0 + 100, "brk: returns the requested, unaligned break");
    check(all((void *)b0, PAGE, 0), "brk: the new page reads as zeros, to its end");
    memset((void *)b0, 0x11, PAGE);
    check(sys_brk(b0 + 3 * PAGE) == b0 + 3 * PAGE, "brk: grows by pages");
    check(all((void *)(b0 + PAGE), 2 * PAGE, 0), "brk: grown pages are zero");
    memset((void *)(b0 + PAGE), 0x22, 2 * PAGE);
    check(sys_brk(b0 + 10) == b0 + 10, "brk: shrinks");
    check(mapped(b0) && !mapped(b0 + PAGE) && !mapped(b0 + 2 * PAGE), "brk: shrinking unmaps the pages above");
    check(all((void *)b0, PAGE, 0x11), "brk: the page kept keeps its bytes");
    check(sys_brk(b0 + 2 * PAGE) == b0 + 2 * PAGE && all((void *)(b0 + PAGE), PAGE, 0), "brk: regrown pages are zero again");
    check(sys_brk(PAGE) == b0 + 2 * PAGE, "brk: below the program is refused (the break stays)");
    check(sys_brk(b0) == b0, "brk: back to the start");
}

static void mmap_calls(void)
{
    char *p = map(NULL, 3 * PAGE, RW, ANON);
    check(p != MAP_FAILED && (uintptr_t)p % PAGE == 0, "mmap: anonymous, page-aligned");
    check(all(p, 3 * PAGE, 0), "mmap: anonymous memory is zero");
    memset(p, 0xaa, 3 * PAGE);
    check_errno((long)map(NULL, 0, RW, ANON), EINVAL, "mmap: length 0");
    check_errno((long)map(p + 1, PAGE, RW, ANON | MAP_FIXED), EINVAL, "mmap: MAP_FIXED unaligned");
    check_errno((long)map(NULL, PAGE, RW, MAP_ANONYMOUS), EINVAL, "mmap: neither private nor shared");
    check_errno((long)mmap(NULL, PAGE, RW, MAP_PRIVATE, -1, 0), EBADF, "mmap: a file mapping of fd -1");
    check_errno((long)map(NULL, (size_t)1 << 62, RW, ANON), ENOMEM, "mmap: more than the address space");
    char *q = map(p + PAGE, PAGE, RW, ANON | MAP_FIXED);
    check(q == p + PAGE && all(q, PAGE, 0), "mmap: MAP_FIXED replaces a page with zeros");
    check(all(p, PAGE, 0xaa) && all(p + 2 * PAGE, PAGE, 0xaa), "mmap: MAP_FIXED leaves its neighbours");
    check_errno((long)map(p, PAGE, RW, ANON | MAP_FIXED_NOREPLACE), EEXIST, "mmap: MAP_FIXED_NOREPLACE on a mapping");

    /* A hint at a free place is taken as it is. */
    char *hole = map(NULL, 64 * PAGE, PROT_NONE, ANON);
    munmap(hole, 64 * PAGE);
    char *h = map(hole + 16 * PAGE, PAGE, RW, ANON);
    check(h == hole + 16 * PAGE, "mmap: a free hint is honoured");
    munmap(h, PAGE);

    /* munmap */
    check(munmap(p + PAGE, PAGE) == 0, "munmap: the middle page");
    check(mapped((uintptr_t)p) && !mapped((uintptr_t)p + PAGE) && mapped((uintptr_t)p + 2 * PAGE),
          "munmap: splits the mapping in two");
    check(all(p, PAGE, 0xaa) && all(p + 2 * PAGE, PAGE, 0xaa), "munmap: both halves keep their bytes");
    check_errno(munmap(p + 1, PAGE), EINVAL, "munmap: unaligned");
    check_errno(munmap(p, 0), EINVAL, "munmap: length 0");
    check(munmap(p + PAGE, PAGE) == 0, "munmap: an unmapped range succeeds");
    munmap(p, 3 * PAGE);
    check(!mapped((uintptr_t)p) && !mapped((uintptr_t)p + 2 * PAGE), "munmap: across a hole unmaps both sides");
}

static void mprotect_calls(void)
{
    char *p = map(NULL, 3 * PAGE, RW, ANON);
    memset(p, 0x33, 3 * PAGE);
    check(mprotect(p + PAGE, PAGE, PROT_READ) == 0, "mprotect: the middle page read-only");
    check(all(p + PAGE, PAGE, 0x33), "mprotect: a read-only page keeps its bytes");
    p[0] = 1;
    p[2 * PAGE] = 2;
    check(p[0] == 1 && p[2 * PAGE] == 2, "mprotect: its neighbours stay writable");
    check(mprotect(p, 3 * PAGE, PROT_NONE) == 0 && mapped((uintptr_t)p + PAGE), "mprotect: PROT_NONE keeps it mapped");
    check(mprotect(p, 3 * PAGE, RW) == 0 && p[PAGE] == 0x33, "mprotect: back to read-write");
    check_errno(syscall(SYS_mprotect, p + 1, PAGE, PROT_READ), EINVAL, "mprotect: unaligned");
    check_errno(mprotect(p, PAGE, 0x1000), EINVAL, "mprotect: unknown protection bits");
    munmap(p + PAGE, PAGE);
    check_errno(mprotect(p, 3 * PAGE, PROT_READ), ENOMEM, "mprotect: across a hole");
    munmap(p, 3 * PAGE);
}

static void mremap_calls(void)
{
    /* Four pages reserved, the top two given back: room to grow in place. */
    char *p = map(NULL, 4 * PAGE, RW, ANON);
    munmap(p + 2 * PAGE, 2 * PAGE);
    memset(p, 0x44, 2 * PAGE);
    char *r = mremap(p, 2 * PAGE, 4 * PAGE, 0);
    check(r == p, "mremap: grows in place into free space");
    check(all(p, 2 * PAGE, 0x44) && all(p + 2 * PAGE, 2 * PAGE, 0), "mremap: old bytes kept, new pages zero");
    r = mremap(p, 4 * PAGE, PAGE, 0);
    check(r == p && mapped((uintptr_t)p) && !mapped((uintptr_t)p + PAGE), "mremap: shrinks in place");

    /* Blocked by a mapping right above. */
    char *above = map(p + PAGE, PAGE, PROT_READ, ANON | MAP_FIXED);
    check_errno((long)mremap(p, PAGE, 2 * PAGE, 0), ENOMEM, "mremap: cannot grow in place past a mapping");
    r = mremap(p, PAGE, 2 * PAGE, MREMAP_MAYMOVE);
    check(r != MAP_FAILED && r != p, "mremap: MREMAP_MAYMOVE moves it");
    check(all(r, PAGE, 0x44) && all(r + PAGE, PAGE, 0), "mremap: a moved mapping keeps its bytes");
    check(!mapped((uintptr_t)p) && mapped((uintptr_t)above), "mremap: the old place is unmapped, the neighbour stays");

    char *target = map(NULL, 2 * PAGE, PROT_NONE, ANON);
    char *f = mremap(r, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    check(f == target && all(f, PAGE, 0x44), "mremap: MREMAP_FIXED moves it over a given place");
    check_errno((long)mremap(f + 1, PAGE, PAGE, 0), EINVAL, "mremap: unaligned");
    check_errno((long)mremap(f, PAGE, PAGE, MREMAP_FIXED, f + PAGE), EINVAL, "mremap: MREMAP_FIXED without MAYMOVE");
    munmap(f, 2 * PAGE);
    munmap(above, PAGE);
    check_errno((long)mremap(f, PAGE, 2 * PAGE, MREMAP_MAYMOVE), EFAULT, "mremap: growing an unmapped address");
}

static void madvise_calls(void)
{
    char *p = map(NULL, 2 * PAGE, RW, ANON);
    memset(p, 0x55, 2 * PAGE);
    check(madvise(p, PAGE, MADV_DONTNEED) == 0, "madvise: MADV_DONTNEED");
    check(all(p, PAGE, 0), "madvise: a private page reads zero after MADV_DONTNEED");
    check(all(p + PAGE, PAGE, 0x55), "madvise: the page after it is untouched");
    check(mapped((uintptr_t)p), "madvise: the range stays mapped");
    check_errno(madvise(p + 1, PAGE, MADV_DONTNEED), EINVAL, "madvise: unaligned");
    check_errno(madvise(p, PAGE, 12345), EINVAL, "madvise: unknown advice");
    munmap(p, 2 * PAGE);
    check_errno(madvise(p, PAGE, MADV_DONTNEED), ENOMEM, "madvise: an unmapped range");
}

int main(void)
{
    /* A static stdio buffer: glibc would otherwise malloc it from the
     * break these checks move. */
    static char out[1 << 16];
    setvbuf(stdout, out, _IOFBF, sizeof out);
    brk_calls();
    mmap_calls();
    mprotect_calls();
    mremap_calls();
    madvise_calls();
    return check_report("vm_calls");
}

/* madvise hints on fresh anonymous memory, counted with mincore: Linux
 * faults nothing in for WILLNEED, SEQUENTIAL or RANDOM on anonymous
 * memory, and DONTNEED empties what was touched. The pager's default
 * policy must say the same; a policy that reads ahead on WILLNEED
 * (read-ahead) makes its first window resident, which the QEMU-only test
 * checks from the "resident" line. */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>

#include "check.h"

#define PAGE 4096ul
#define PAGES 64

static int resident(unsigned char *p)
{
    unsigned char vec[PAGES];
    if (mincore(p, PAGES * PAGE, vec) != 0)
        return -1;
    int n = 0;
    for (int i = 0; i < PAGES; i++)
        n += vec[i] & 1;
    return n;
}

int main(void)
{
    unsigned char *p = mmap(0, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(p != MAP_FAILED, "mmap");
    check(madvise(p, PAGES * PAGE, MADV_WILLNEED) == 0, "madvise: MADV_WILLNEED");
    printf("resident after WILLNEED: %d\n", resident(p));
    check(madvise(p, PAGES * PAGE, MADV_SEQUENTIAL) == 0, "madvise: MADV_SEQUENTIAL");
    check(madvise(p, PAGES * PAGE, MADV_RANDOM) == 0, "madvise: MADV_RANDOM");
    check(madvise(p, PAGES * PAGE, MADV_NORMAL) == 0, "madvise: MADV_NORMAL");
    p[0] = 1;
    p[5 * PAGE] = 1;
    check(madvise(p, PAGES * PAGE, MADV_DONTNEED) == 0, "madvise: MADV_DONTNEED");
    check(resident(p) == 0, "nothing resident after MADV_DONTNEED");
    check(p[0] == 0 && p[5 * PAGE] == 0, "a private page reads zero after MADV_DONTNEED");
    if (check_failures)
        return 1;
    printf("advice: PASS\n");
    return 0;
}

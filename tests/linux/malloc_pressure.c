/* malloc under resource limits. With RLIMIT_DATA small, growing the break
 * fails but malloc still succeeds through mmap, until the private
 * writable mappings reach the limit too; with RLIMIT_AS small, large
 * mallocs and mmaps fail with ENOMEM and small ones still succeed. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "check.h"

#define KIB 1024ul
#define MIB (1024ul * KIB)

static uintptr_t sys_brk(uintptr_t to)
{
    return (uintptr_t)syscall(SYS_brk, to);
}

/* Allocates and fills `size` bytes; 1 when it worked. */
static int malloc_works(size_t size)
{
    errno = 0;
    unsigned char *p = malloc(size);
    if (!p)
        return 0;
    memset(p, 0x5a, size);
    int ok = p[0] == 0x5a && p[size - 1] == 0x5a;
    free(p);
    return ok;
}

static void set_limit(int resource, rlim_t soft)
{
    struct rlimit r;
    getrlimit(resource, &r);
    r.rlim_cur = soft;
    check(setrlimit(resource, &r) == 0, resource == RLIMIT_DATA ? "setrlimit RLIMIT_DATA" : "setrlimit RLIMIT_AS");
}

int main(void)
{
    /* Let stdio allocate its buffer before the limits. */
    printf("malloc_pressure\n");
    fflush(stdout);

    /* RLIMIT_DATA: the break counts against it, and so does every private
     * writable mapping (Linux 4.7 and later). */
    set_limit(RLIMIT_DATA, 1 * MIB);
    uintptr_t brk0 = sys_brk(0);
    check(sys_brk(brk0 + 2 * MIB) == brk0, "brk 2 MiB past RLIMIT_DATA is refused (the break stays)");
    check(malloc_works(256 * KIB), "malloc(256 KiB) under RLIMIT_DATA=1MiB succeeds (mmap)");
    int small = 1;
    void *blocks[64];
    for (int i = 0; i < 64; i++) {
        blocks[i] = malloc(1000);
        small &= blocks[i] != NULL;
        if (blocks[i])
            memset(blocks[i], i, 1000);
    }
    check(small, "64 mallocs of 1000 bytes succeed");
    for (int i = 0; i < 64; i++)
        free(blocks[i]);
    errno = 0;
    void *big = malloc(4 * MIB);
    check(big == NULL && errno == ENOMEM, "malloc(4 MiB) fails with ENOMEM");
    free(big);
    check_errno(mmap(NULL, 4 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM,
                "private writable mmap(4 MiB) counts against RLIMIT_DATA");
    void *m = mmap(NULL, 4 * MIB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(m != MAP_FAILED, "read-only mmap(4 MiB) does not count against RLIMIT_DATA");
    if (m != MAP_FAILED)
        munmap(m, 4 * MIB);
    set_limit(RLIMIT_DATA, RLIM_INFINITY);
    check(sys_brk(brk0 + 2 * MIB) == brk0 + 2 * MIB, "brk 2 MiB succeeds once the limit is lifted");
    /* The break stays there: malloc may already use the new space. */
    uintptr_t brk1 = sys_brk(0);

    /* RLIMIT_AS: every mapping counts. */
    set_limit(RLIMIT_AS, 32 * MIB);
    errno = 0;
    big = malloc(64 * MIB);
    check(big == NULL && errno == ENOMEM, "malloc(64 MiB) under RLIMIT_AS=32MiB fails with ENOMEM");
    free(big);
    check_errno(mmap(NULL, 64 * MIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM,
                "mmap(64 MiB, PROT_NONE) under RLIMIT_AS fails");
    check(sys_brk(brk1 + 64 * MIB) == brk1, "brk 64 MiB under RLIMIT_AS is refused");
    check(malloc_works(1 * MIB), "malloc(1 MiB) under RLIMIT_AS=32MiB succeeds");
    m = mmap(NULL, 1 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(m != MAP_FAILED, "mmap(1 MiB) under RLIMIT_AS=32MiB succeeds");
    if (m != MAP_FAILED)
        munmap(m, 1 * MIB);
    return check_report("malloc_pressure");
}
